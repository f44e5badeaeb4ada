package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestRunAsUser(t *testing.T) {
	mustRunAs := func(p *policyv1.PodSecurityPolicy) {
		p.Spec.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 1000, Max: 2000}, {Min: 3000, Max: 3000}}}
	}
	nonRoot := func(p *policyv1.PodSecurityPolicy) {
		p.Spec.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAsNonRoot}
	}
	uid := func(v int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).RunAsUser = &v }
	}
	scPath := "spec.containers[0].securityContext"
	runControlCases(t, []controlCase{
		{name: "RunAsAny", pod: uid(0)},
		{name: "MustRunAs defaults first min", policy: mustRunAs, wantChanges: []string{scPath + ".runAsUser"},
			check: func(t *testing.T, p *corev1.Pod) {
				if v := p.Spec.Containers[0].SecurityContext.RunAsUser; v == nil || *v != 1000 {
					t.Errorf("runAsUser = %v", v)
				}
			}},
		{name: "MustRunAs keeps pod-level uid", policy: mustRunAs, pod: func(p *corev1.Pod) { psc(p).RunAsUser = ptr(int64(3000)) }},
		{name: "MustRunAs out of range", policy: mustRunAs, pod: uid(5), wantErrors: []string{
			scPath + ".runAsUser: Invalid value: 5: must be in the ranges: [{1000 2000} {3000 3000}]"}},
		{name: "MustRunAs pod-level uid out of range reported per container", policy: mustRunAs, pod: func(p *corev1.Pod) { psc(p).RunAsUser = ptr(int64(0)) },
			wantErrors: []string{scPath + ".runAsUser: Invalid value: 0: must be in the ranges: [{1000 2000} {3000 3000}]"}},
		{name: "MustRunAsNonRoot defaults runAsNonRoot", policy: nonRoot, wantChanges: []string{scPath + ".runAsNonRoot"},
			check: func(t *testing.T, p *corev1.Pod) {
				if v := p.Spec.Containers[0].SecurityContext.RunAsNonRoot; v == nil || !*v {
					t.Errorf("runAsNonRoot = %v", v)
				}
			}},
		{name: "MustRunAsNonRoot with uid: no default", policy: nonRoot, pod: uid(1000)},
		{name: "MustRunAsNonRoot refuses uid 0", policy: nonRoot, pod: uid(0), wantErrors: []string{
			scPath + ".runAsUser: Invalid value: 0: running with the root UID is forbidden"}},
		{name: "MustRunAsNonRoot refuses runAsNonRoot false", policy: nonRoot, pod: func(p *corev1.Pod) { psc(p).RunAsNonRoot = ptr(false) },
			wantErrors: []string{scPath + ".runAsNonRoot: Invalid value: false: must be true"}},
	})

	r, _ := newRunAsUser(policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAsNonRoot})
	pod := newPod()
	if errs := r.checkContainer(pod, containerAt(&pod.Spec.Containers[0], containersPath, containerPaths, 0), nil); len(errs) != 1 ||
		errs[0].Error() != scPath+".runAsNonRoot: Required value: must be true" {
		t.Errorf("unset: got %v", errs)
	}
	r, _ = newRunAsUser(policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 1, Max: 1}}})
	if errs := r.checkContainer(pod, containerAt(&pod.Spec.Containers[0], containersPath, containerPaths, 0), nil); len(errs) != 1 ||
		errs[0].Error() != scPath+".runAsUser: Required value" {
		t.Errorf("unset MustRunAs: got %v", errs)
	}
	if _, err := newRunAsUser(policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs}); err == nil {
		t.Error("MustRunAs without ranges must not compile")
	}
}
