package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestSeccomp(t *testing.T) {
	annotations := func(kv ...string) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Annotations = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	allowed, def := policyv1.SeccompAllowedProfilesAnnotationKey, policyv1.SeccompDefaultProfileAnnotationKey
	podAnn := func(kv ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Annotations = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	const podKey = "seccomp.security.alpha.kubernetes.io/pod"
	runControlCases(t, []controlCase{
		{name: "no annotations: unset is fine", policy: annotations()},
		{name: "no annotations: set is refused", policy: annotations(), pod: podAnn(podKey, "runtime/default"), wantErrors: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: seccomp may not be set",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: seccomp may not be set",
		}},
		{name: "default written as pod annotation and pod field", policy: annotations(allowed, "runtime/default", def, "runtime/default"),
			wantChanges: []string{"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]", "spec.securityContext.seccompProfile"},
			check: func(t *testing.T, p *corev1.Pod) {
				if sp := p.Spec.SecurityContext.SeccompProfile; sp == nil || sp.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("pod field = %+v, want RuntimeDefault", sp)
				}
			}},
		{name: "docker/default default is the RuntimeDefault field", policy: annotations(allowed, "docker/default", def, "docker/default"),
			wantChanges: []string{"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]", "spec.securityContext.seccompProfile"},
			check: func(t *testing.T, p *corev1.Pod) {
				if sp := p.Spec.SecurityContext.SeccompProfile; sp == nil || sp.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("pod field = %+v, want RuntimeDefault", sp)
				}
			}},
		{name: "localhost default is the Localhost field", policy: annotations(allowed, "localhost/p.json", def, "localhost/p.json"),
			wantChanges: []string{"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]", "spec.securityContext.seccompProfile"},
			check: func(t *testing.T, p *corev1.Pod) {
				if sp := p.Spec.SecurityContext.SeccompProfile; sp == nil || sp.Type != corev1.SeccompProfileTypeLocalhost || *sp.LocalhostProfile != "p.json" {
					t.Errorf("pod field = %+v, want Localhost p.json", sp)
				}
			}},
		{name: "docker/default allows runtime/default", policy: annotations(allowed, "docker/default"), pod: func(p *corev1.Pod) {
			podAnn(podKey, "runtime/default")(p)
			psc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		}},
		{name: "annotation without field: the container runs Unconfined", policy: annotations(allowed, "runtime/default"), pod: podAnn(podKey, "runtime/default"), wantErrors: []string{
			"spec.containers[0].securityContext.seccompProfile: Forbidden: " + SeccompUnsetMessage + ". Valid values are runtime/default",
		}},
		{name: "annotation without field under a policy allowing unconfined", policy: annotations(allowed, "runtime/default,unconfined"), pod: podAnn(podKey, "runtime/default")},
		{name: "not allowed", policy: annotations(allowed, "runtime/default"), pod: func(p *corev1.Pod) {
			podAnn(podKey, "unconfined")(p)
			psc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, wantErrors: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default",
		}},
		{name: "unset refused when a list exists", policy: annotations(allowed, "runtime/default"), wantErrors: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default",
		}},
		{name: "pod field translated and copied to the annotation", policy: annotations(allowed, "runtime/default"),
			pod: func(p *corev1.Pod) {
				psc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
			}, wantChanges: []string{"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"}},
		{name: "container field beats pod annotation", policy: annotations(allowed, "runtime/default"), pod: func(p *corev1.Pod) {
			podAnn(podKey, "runtime/default")(p)
			sc(&p.Spec.Containers[0]).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("x.json")}
		}, wantErrors: []string{
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: localhost/x.json is not an allowed seccomp profile. Valid values are runtime/default",
		}},
		{name: "wildcard", policy: annotations(allowed, "*"), pod: podAnn(podKey, "localhost/anything")},
	})
}

// TestSeccompEffectiveProfile decides every combination of a seccomp
// annotation and field at pod and container level, each naming its own
// profile, under a policy with and without a default, and asserts the
// profile the kubelet runs each container with: after the admit phase
// (annotations copied to fields, the default set as the pod field), and when
// the pod as written is only validated (annotations ignored).
func TestSeccompEffectiveProfile(t *testing.T) {
	const (
		podAnn, podField, ctrAnn, ctrField = "localhost/pod-ann.json", "localhost/pod-field.json", "localhost/ctr-ann.json", "localhost/ctr-field.json"
		allowedText                        = "runtime/default," + podAnn + "," + podField + "," + ctrAnn + "," + ctrField
	)
	localhost := func(annotation string) *corev1.SeccompProfile {
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr(strings.TrimPrefix(annotation, "localhost/"))}
	}
	// kubeletProfile is the v1.37 kubelet's choice, in annotation form
	// ("" when it runs the container Unconfined by default).
	kubeletProfile := func(pod *corev1.Pod, c *corev1.Container) string {
		if c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil {
			return seccompAnnotationForField(c.SecurityContext.SeccompProfile)
		}
		if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.SeccompProfile != nil {
			return seccompAnnotationForField(pod.Spec.SecurityContext.SeccompProfile)
		}
		return ""
	}
	for _, withDefault := range []bool{false, true} {
		for combo := range 16 {
			has := func(bit int) bool { return combo&(1<<bit) != 0 }
			name := fmt.Sprintf("default=%v/podAnn=%v,podField=%v,ctrAnn=%v,ctrField=%v", withDefault, has(0), has(1), has(2), has(3))
			t.Run(name, func(t *testing.T) {
				policy := permissivePolicy("p")
				policy.Annotations = map[string]string{policyv1.SeccompAllowedProfilesAnnotationKey: allowedText}
				if withDefault {
					policy.Annotations[policyv1.SeccompDefaultProfileAnnotationKey] = "runtime/default"
				}
				set := mustSet(t, policy)
				pod := newPod(corev1.Container{Name: "app", Image: "x"}, corev1.Container{Name: "side", Image: "x"})
				pod.Annotations = map[string]string{}
				if has(0) {
					pod.Annotations[corev1.SeccompPodAnnotationKey] = podAnn
				}
				if has(1) {
					psc(pod).SeccompProfile = localhost(podField)
				}
				if has(2) {
					pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+"app"] = ctrAnn
				}
				if has(3) {
					sc(&pod.Spec.Containers[0]).SeccompProfile = localhost(ctrField)
				}

				// Admit: container field, container annotation, pod field, pod
				// annotation, the default.
				wantSide := firstNonEmpty(map[bool]string{true: podField}[has(1)], map[bool]string{true: podAnn}[has(0)], map[bool]string{true: "runtime/default"}[withDefault])
				wantApp := firstNonEmpty(map[bool]string{true: ctrField}[has(3)], map[bool]string{true: ctrAnn}[has(2)], wantSide)
				d := decide(t, set, allowAll(), Request{Pod: pod})
				if wantApp == "" || wantSide == "" {
					if d.Allowed || !strings.Contains(d.Message, " is not an allowed seccomp profile") {
						t.Fatalf("admit: want a refusal of the unset profile, got allowed=%v %s", d.Allowed, d.Message)
					}
				} else {
					if !d.Allowed {
						t.Fatalf("admit refused: %s", d.Message)
					}
					if got := kubeletProfile(d.Pod, &d.Pod.Spec.Containers[0]); got != wantApp {
						t.Errorf("admit: app runs %q, want %q", got, wantApp)
					}
					if got := kubeletProfile(d.Pod, &d.Pod.Spec.Containers[1]); got != wantSide {
						t.Errorf("admit: side runs %q, want %q", got, wantSide)
					}
					if again := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: d.Pod}); !again.Allowed {
						t.Errorf("the admitted pod fails validation: %s", again.Message)
					}
				}

				// Validate the pod as written: only fields count.
				d = decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: pod})
				app, side := kubeletProfile(pod, &pod.Spec.Containers[0]), kubeletProfile(pod, &pod.Spec.Containers[1])
				wouldMutate := withDefault && !has(0) && !has(1)
				switch {
				case wouldMutate:
					if d.Allowed {
						t.Errorf("validate: admitted a pod the policy would default")
					}
				case app == "" || side == "":
					if d.Allowed {
						t.Fatalf("validate: admitted a pod whose containers run Unconfined (app %q, side %q)", app, side)
					}
					for i, got := range []string{app, side} {
						unsetErr := fmt.Sprintf("spec.containers[%d].securityContext.seccompProfile: Forbidden: %s", i, SeccompUnsetMessage)
						v124Unset := fmt.Sprintf("pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/%s]: Forbidden:  is not", pod.Spec.Containers[i].Name)
						if got == "" && !strings.Contains(d.Message, unsetErr) && !strings.Contains(d.Message, v124Unset) {
							t.Errorf("validate: message does not name container %d's field:\n%s", i, d.Message)
						}
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

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// TestSeccompIssueExamples: under the Kubernetes documentation's restricted
// policy (allow and default runtime/default), a pod without seccomp settings
// and a pod with only the pod annotation both come out of the admit phase
// with the RuntimeDefault pod field, and the annotation-only pod as written
// is refused by the validate phase with a message naming the field.
func TestSeccompIssueExamples(t *testing.T) {
	set := mustSet(t, modernRestricted())
	plain := compliantPod()
	plain.Annotations = nil
	plain.Spec.SecurityContext.SeccompProfile = nil
	annotated := plain.DeepCopy()
	annotated.Annotations = map[string]string{corev1.SeccompPodAnnotationKey: "runtime/default"}
	for name, pod := range map[string]*corev1.Pod{"no seccomp settings": plain, "annotation only": annotated} {
		t.Run(name, func(t *testing.T) {
			d := decide(t, set, allowAll(), Request{Pod: pod})
			if !d.Allowed {
				t.Fatal(d.Message)
			}
			if sp := d.Pod.Spec.SecurityContext.SeccompProfile; sp == nil || sp.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod field = %+v, want RuntimeDefault", sp)
			}
			if d.Pod.Annotations[corev1.SeccompPodAnnotationKey] != "runtime/default" {
				t.Errorf("pod annotation = %q", d.Pod.Annotations[corev1.SeccompPodAnnotationKey])
			}
			if !slices.ContainsFunc(d.Changes, func(c Change) bool { return c.Field == "spec.securityContext.seccompProfile" }) {
				t.Errorf("changes do not list the field: %+v", d.Changes)
			}
		})
	}
	d := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: annotated})
	want := "PodSecurityPolicy: unable to validate pod: [spec.containers[0].securityContext.seccompProfile: Forbidden: " + SeccompUnsetMessage + ". Valid values are docker/default,runtime/default]"
	if d.Allowed || d.Message != want {
		t.Errorf("validate the annotation-only pod:\n got  %v %s\n want %s", d.Allowed, d.Message, want)
	}
}

func TestRunningSeccompErrors(t *testing.T) {
	set := mustSet(t, modernRestricted(), permissivePolicy("any"))
	unset := "spec.containers[0].securityContext.seccompProfile: Forbidden: " + SeccompUnsetMessage + ". Valid values are docker/default,runtime/default"
	cases := []struct {
		name   string
		policy string
		pod    func(*corev1.Pod)
		want   []string
	}{
		{"annotation only runs Unconfined", "restricted", func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.SeccompPodAnnotationKey: "runtime/default"}
		}, []string{unset}},
		{"pod field", "restricted", func(p *corev1.Pod) {
			psc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		}, nil},
		{"pod field not allowed, shared by two containers", "restricted", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side"})
			psc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, []string{"spec.securityContext.seccompProfile: Forbidden: unconfined is not an allowed seccomp profile. Valid values are docker/default,runtime/default"}},
		{"container field beats the pod's", "restricted", func(p *corev1.Pod) {
			psc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
			sc(&p.Spec.Containers[0]).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, []string{"spec.containers[0].securityContext.seccompProfile: Forbidden: unconfined is not an allowed seccomp profile. Valid values are docker/default,runtime/default"}},
		{"a policy allowing any profile", "any", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := newPod()
			if tc.pod != nil {
				tc.pod(pod)
			}
			errs, found := set.RunningSeccompErrors(tc.policy, pod)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if !found || !slices.Equal(got, tc.want) {
				t.Errorf("found %v, errors:\n got  %q\n want %q", found, got, tc.want)
			}
		})
	}
	if _, found := set.RunningSeccompErrors("gone", newPod()); found {
		t.Error("found a policy that is not in the set")
	}
}

func TestSeccompSettingsWithoutEffect(t *testing.T) {
	allowed, def := policyv1.SeccompAllowedProfilesAnnotationKey, policyv1.SeccompDefaultProfileAnnotationKey
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        int
	}{
		{"documentation's restricted example", map[string]string{allowed: "docker/default,runtime/default", def: "runtime/default"}, 2},
		{"default only", map[string]string{def: "localhost/a.json"}, 1},
		{"any profile", map[string]string{allowed: "*"}, 0},
		{"unconfined allowed, no default", map[string]string{allowed: "runtime/default,unconfined"}, 0},
		{"unconfined default", map[string]string{allowed: "runtime/default,unconfined", def: "unconfined"}, 0},
		{"no seccomp annotations", nil, 0},
	} {
		if got := SeccompSettingsWithoutEffect(tc.annotations); len(got) != tc.want {
			t.Errorf("%s: %q, want %d notes", tc.name, got, tc.want)
		}
	}
}

// Updating a pod admitted on the seccomp annotation alone is not refused for
// its running containers, whose profile an update cannot change; a debug
// container added without a profile field is.
func TestSeccompOnUpdate(t *testing.T) {
	set := mustSet(t, modernRestricted())
	old := compliantPod()
	old.Spec.SecurityContext.SeccompProfile = nil
	old.Annotations["kubernetes.io/psp"] = "restricted"
	relabelled := old.DeepCopy()
	relabelled.Labels = map[string]string{"changed": "true"}
	if d := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Operation: OperationUpdate, Pod: relabelled, OldPod: old}); !d.Allowed {
		t.Errorf("relabelling refused: %s", d.Message)
	}
	debugged := old.DeepCopy()
	debugged.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox",
		SecurityContext: old.Spec.Containers[0].SecurityContext.DeepCopy()}}}
	debugged.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+"debug"] = "runtime/default"
	d := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Operation: OperationUpdate, Pod: debugged, OldPod: old})
	want := "PodSecurityPolicy: unable to validate pod: [spec.ephemeralContainers[0].securityContext.seccompProfile: Forbidden: " + SeccompUnsetMessage + ". Valid values are docker/default,runtime/default]"
	if d.Allowed || d.Message != want {
		t.Errorf("debug container without a profile:\n got  %v %s\n want %s", d.Allowed, d.Message, want)
	}
}

// A Windows pod (spec.os.name windows) gets the seccomp and AppArmor
// defaults as annotations only: the v1.37 apiserver refuses the fields on
// it ("cannot be set for a windows pod"), and it is not judged by the
// profile its containers run with, as its kubelet runs none.
func TestWindowsPodsGetNoProfileFields(t *testing.T) {
	policy := modernRestricted()
	policy.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "runtime/default"
	policy.Annotations[policyv1.AppArmorDefaultProfileAnnotationKey] = "runtime/default"
	set := mustSet(t, policy)
	plain := compliantPod()
	plain.Annotations = nil
	plain.Spec.SecurityContext.SeccompProfile = nil
	plain.Spec.OS = &corev1.PodOS{Name: corev1.Windows}
	annotated := plain.DeepCopy()
	annotated.Annotations = map[string]string{corev1.SeccompPodAnnotationKey: "runtime/default"}
	for name, pod := range map[string]*corev1.Pod{"no seccomp settings": plain, "annotation only": annotated} {
		t.Run(name, func(t *testing.T) {
			d := decide(t, set, allowAll(), Request{Pod: pod})
			if !d.Allowed {
				t.Fatal(d.Message)
			}
			if sp := d.Pod.Spec.SecurityContext.SeccompProfile; sp != nil {
				t.Errorf("pod seccompProfile = %+v, want none on a Windows pod", sp)
			}
			for _, c := range d.Pod.Spec.Containers {
				if c.SecurityContext != nil && (c.SecurityContext.SeccompProfile != nil || c.SecurityContext.AppArmorProfile != nil) {
					t.Errorf("container %s got profile fields: %+v", c.Name, c.SecurityContext)
				}
			}
			if d.Pod.Annotations[corev1.SeccompPodAnnotationKey] != "runtime/default" {
				t.Errorf("pod annotation = %q, want the default", d.Pod.Annotations[corev1.SeccompPodAnnotationKey])
			}
			if v := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: d.Pod}); !v.Allowed {
				t.Errorf("validate the admitted Windows pod: %s", v.Message)
			}
			if errs, _ := set.RunningSeccompErrors(policy.Name, d.Pod); len(errs) > 0 {
				t.Errorf("running errors on a Windows pod: %v", errs)
			}
		})
	}
}
