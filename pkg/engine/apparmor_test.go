package engine

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestAppArmor(t *testing.T) {
	annotations := func(kv ...string) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Annotations = map[string]string{policyv1.SeccompAllowedProfilesAnnotationKey: "*"}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	allowed, def := policyv1.AppArmorAllowedProfilesAnnotationKey, policyv1.AppArmorDefaultProfileAnnotationKey
	const key = "container.apparmor.security.beta.kubernetes.io/app"
	profile := func(v string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Annotations = map[string]string{key: v} }
	}
	runControlCases(t, []controlCase{
		{name: "unrestricted", pod: profile("unconfined")},
		{name: "default set as annotation and field", policy: annotations(allowed, "runtime/default", def, "runtime/default"),
			wantChanges: []string{"metadata.annotations[" + key + "]", "spec.containers[0].securityContext.appArmorProfile"},
			check: func(t *testing.T, p *corev1.Pod) {
				if f := p.Spec.Containers[0].SecurityContext.AppArmorProfile; f == nil || f.Type != corev1.AppArmorProfileTypeRuntimeDefault {
					t.Errorf("field = %+v, want RuntimeDefault", f)
				}
			}},
		{name: "localhost default", policy: annotations(allowed, "localhost/a", def, "localhost/a"),
			wantChanges: []string{"metadata.annotations[" + key + "]", "spec.containers[0].securityContext.appArmorProfile"},
			check: func(t *testing.T, p *corev1.Pod) {
				if f := p.Spec.Containers[0].SecurityContext.AppArmorProfile; f == nil || f.Type != corev1.AppArmorProfileTypeLocalhost || *f.LocalhostProfile != "a" {
					t.Errorf("field = %+v, want Localhost a", f)
				}
			}},
		{name: "empty annotation gets the default", policy: annotations(def, "runtime/default"), pod: profile(""),
			wantChanges: []string{"metadata.annotations[" + key + "]", "spec.containers[0].securityContext.appArmorProfile"}},
		{name: "must be set", policy: annotations(allowed, "runtime/default"), wantErrors: []string{
			"pod.metadata.annotations[" + key + "]: Forbidden: AppArmor profile must be set"}},
		{name: "not allowed", policy: annotations(allowed, "runtime/default,localhost/a"), pod: profile("unconfined"), wantErrors: []string{
			"pod.metadata.annotations[" + key + `]: Forbidden: unconfined is not an allowed profile. Allowed values: "runtime/default,localhost/a"`}},
		{name: "allowed", policy: annotations(allowed, "runtime/default,localhost/a"), pod: profile("localhost/a")},
	})
}

// TestAppArmorEffectiveProfile decides every combination of the container
// annotation, the container field and the pod field, each naming its own
// profile, under a policy with and without a default, and asserts the
// profile the v1.37 kubelet runs each container with (container field, then
// the annotation, then the pod field): after the admit phase, where a
// default is also set as the field, and when the pod as written is validated.
func TestAppArmorEffectiveProfile(t *testing.T) {
	const ctrAnn, ctrField, podField = "localhost/ctr-ann", "localhost/ctr-field", "localhost/pod-field"
	localhost := func(annotation string) *corev1.AppArmorProfile {
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: ptr(strings.TrimPrefix(annotation, "localhost/"))}
	}
	// kubeletProfile is pkg/security/apparmor GetProfile in annotation form,
	// reading the annotation only when withAnnotations.
	kubeletProfile := func(pod *corev1.Pod, c *corev1.Container, withAnnotations bool) string {
		if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
			return appArmorAnnotationForField(c.SecurityContext.AppArmorProfile)
		}
		if v := pod.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+c.Name]; withAnnotations && appArmorFieldForAnnotation(v) != nil {
			return v
		}
		if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.AppArmorProfile != nil {
			return appArmorAnnotationForField(pod.Spec.SecurityContext.AppArmorProfile)
		}
		return ""
	}
	for _, withDefault := range []bool{false, true} {
		for combo := range 8 {
			has := func(bit int) bool { return combo&(1<<bit) != 0 }
			t.Run(fmt.Sprintf("default=%v/ctrAnn=%v,ctrField=%v,podField=%v", withDefault, has(0), has(1), has(2)), func(t *testing.T) {
				policy := permissivePolicy("p")
				policy.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "runtime/default," + ctrAnn + "," + ctrField + "," + podField
				if withDefault {
					policy.Annotations[policyv1.AppArmorDefaultProfileAnnotationKey] = "runtime/default"
				}
				set := mustSet(t, policy)
				pod := newPod(corev1.Container{Name: "app", Image: "x"}, corev1.Container{Name: "side", Image: "x"})
				pod.Annotations = map[string]string{}
				if has(0) {
					pod.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+"app"] = ctrAnn
				}
				if has(1) {
					sc(&pod.Spec.Containers[0]).AppArmorProfile = localhost(ctrField)
				}
				if has(2) {
					psc(pod).AppArmorProfile = localhost(podField)
				}

				wantSide := firstNonEmpty(map[bool]string{true: podField}[has(2)], map[bool]string{true: "runtime/default"}[withDefault])
				wantApp := firstNonEmpty(map[bool]string{true: ctrField}[has(1)], map[bool]string{true: ctrAnn}[has(0)], wantSide)
				d := decide(t, set, allowAll(), Request{Pod: pod})
				if wantApp == "" || wantSide == "" {
					if d.Allowed || !strings.Contains(d.Message, "AppArmor profile must be set") {
						t.Fatalf("admit: want a refusal of the unset profile, got allowed=%v %s", d.Allowed, d.Message)
					}
				} else {
					if !d.Allowed {
						t.Fatalf("admit refused: %s", d.Message)
					}
					for i, want := range []string{wantApp, wantSide} {
						c := &d.Pod.Spec.Containers[i]
						if got := kubeletProfile(d.Pod, c, true); got != want {
							t.Errorf("admit: %s runs %q, want %q", c.Name, got, want)
						}
						// Only a profile the pod itself wrote as an annotation may
						// depend on the apiserver's annotation-to-field copy.
						if fields := kubeletProfile(d.Pod, c, false); fields != want && !(i == 0 && want == ctrAnn) {
							t.Errorf("admit: %s's fields give %q, want %q", c.Name, fields, want)
						}
					}
					if again := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: d.Pod}); !again.Allowed {
						t.Errorf("the admitted pod fails validation: %s", again.Message)
					}
				}

				d = decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: pod})
				app, side := kubeletProfile(pod, &pod.Spec.Containers[0], true), kubeletProfile(pod, &pod.Spec.Containers[1], true)
				switch {
				case withDefault && !has(2):
					if d.Allowed {
						t.Errorf("validate: admitted a pod the policy would default")
					}
				case app == "" || side == "":
					if d.Allowed || !strings.Contains(d.Message, "AppArmor profile must be set") {
						t.Errorf("validate: want a refusal of the unset profile (app %q, side %q), got %s", app, side, d.Message)
					}
				default:
					if !d.Allowed {
						t.Errorf("validate refused: %s", d.Message)
					}
				}
			})
		}
	}
}
