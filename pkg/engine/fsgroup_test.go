package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestFSGroup(t *testing.T) {
	rule := func(r policyv1.FSGroupStrategyType, ranges ...policyv1.IDRange) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Spec.FSGroup = policyv1.FSGroupStrategyOptions{Rule: r, Ranges: ranges}
		}
	}
	fs := func(v int64) func(*corev1.Pod) { return func(p *corev1.Pod) { psc(p).FSGroup = &v } }
	runControlCases(t, []controlCase{
		{name: "RunAsAny", pod: fs(0)},
		{name: "MustRunAs defaults first min", policy: rule(policyv1.FSGroupStrategyMustRunAs, policyv1.IDRange{Min: 2000, Max: 3000}),
			wantChanges: []string{"spec.securityContext.fsGroup"}, check: func(t *testing.T, p *corev1.Pod) {
				if v := p.Spec.SecurityContext.FSGroup; v == nil || *v != 2000 {
					t.Errorf("fsGroup = %v", v)
				}
			}},
		{name: "MustRunAs out of range", policy: rule(policyv1.FSGroupStrategyMustRunAs, policyv1.IDRange{Min: 2000, Max: 3000}), pod: fs(1),
			wantErrors: []string{"spec.securityContext.fsGroup: Invalid value: []int64{1}: group 1 must be in the ranges: [{2000 3000}]"}},
		{name: "MayRunAs unset: no default", policy: rule(policyv1.FSGroupStrategyMayRunAs, policyv1.IDRange{Min: 2000, Max: 3000})},
		{name: "MayRunAs out of range", policy: rule(policyv1.FSGroupStrategyMayRunAs, policyv1.IDRange{Min: 2000, Max: 3000}), pod: fs(1),
			wantErrors: []string{"spec.securityContext.fsGroup: Invalid value: []int64{1}: group 1 must be in the ranges: [{2000 3000}]"}},
	})
}
