package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestRunAsGroup(t *testing.T) {
	rule := func(r policyv1.RunAsGroupStrategy, ranges ...policyv1.IDRange) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: r, Ranges: ranges}
		}
	}
	gid := func(v int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).RunAsGroup = &v }
	}
	scPath := "spec.containers[0].securityContext"
	runControlCases(t, []controlCase{
		{name: "no strategy", pod: gid(0)},
		{name: "MustRunAs defaults", policy: rule(policyv1.RunAsGroupStrategyMustRunAs, policyv1.IDRange{Min: 5, Max: 10}), wantChanges: []string{scPath + ".runAsGroup"}},
		{name: "MustRunAs out of range, reported at the securityContext", policy: rule(policyv1.RunAsGroupStrategyMustRunAs, policyv1.IDRange{Min: 5, Max: 10}),
			pod: gid(0), wantErrors: []string{scPath + ": Invalid value: []int64{0}: group 0 must be in the ranges: [{5 10}]"}},
		{name: "MayRunAs unset is fine", policy: rule(policyv1.RunAsGroupStrategyMayRunAs, policyv1.IDRange{Min: 5, Max: 10})},
		{name: "MayRunAs out of range", policy: rule(policyv1.RunAsGroupStrategyMayRunAs, policyv1.IDRange{Min: 5, Max: 10}), pod: func(p *corev1.Pod) { psc(p).RunAsGroup = ptr(int64(1)) },
			wantErrors: []string{scPath + ": Invalid value: []int64{1}: group 1 must be in the ranges: [{5 10}]"}},
	})
	g := runAsGroup{groupRule{mustRunAs: true, ranges: []policyv1.IDRange{{Min: 5, Max: 10}}}}
	pod := newPod()
	if errs := g.checkContainer(pod, containerAt(&pod.Spec.Containers[0], containersPath, containerPaths, 0), nil); len(errs) != 1 ||
		errs[0].Error() != scPath+": Invalid value: []int64(nil): unable to validate empty groups against required ranges" {
		t.Errorf("unset: got %v", errs)
	}
}
