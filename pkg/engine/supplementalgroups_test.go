package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestSupplementalGroups(t *testing.T) {
	rule := func(r policyv1.SupplementalGroupsStrategyType, ranges ...policyv1.IDRange) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Spec.SupplementalGroups = policyv1.SupplementalGroupsStrategyOptions{Rule: r, Ranges: ranges}
		}
	}
	groups := func(g ...int64) func(*corev1.Pod) { return func(p *corev1.Pod) { psc(p).SupplementalGroups = g } }
	runControlCases(t, []controlCase{
		{name: "RunAsAny", pod: groups(0)},
		{name: "MustRunAs defaults", policy: rule(policyv1.SupplementalGroupsStrategyMustRunAs, policyv1.IDRange{Min: 1, Max: 65535}),
			wantChanges: []string{"spec.securityContext.supplementalGroups"}},
		{name: "MustRunAs each group checked", policy: rule(policyv1.SupplementalGroupsStrategyMustRunAs, policyv1.IDRange{Min: 1, Max: 65535}),
			pod: groups(0, 5, 70000), wantErrors: []string{
				"spec.securityContext.supplementalGroups: Invalid value: []int64{0, 5, 70000}: group 0 must be in the ranges: [{1 65535}]",
				"spec.securityContext.supplementalGroups: Invalid value: []int64{0, 5, 70000}: group 70000 must be in the ranges: [{1 65535}]",
			}},
		{name: "MayRunAs", policy: rule(policyv1.SupplementalGroupsStrategyMayRunAs, policyv1.IDRange{Min: 1, Max: 65535}), pod: groups(5)},
	})
}
