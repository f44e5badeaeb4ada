package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestRuntimeClass(t *testing.T) {
	rc := func(def *string, allowed ...string) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: allowed, DefaultRuntimeClassName: def}
		}
	}
	podRC := func(name string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Spec.RuntimeClassName = &name } }
	runControlCases(t, []controlCase{
		{name: "no strategy: anything", pod: podRC("gvisor")},
		{name: "default set", policy: rc(ptr("gvisor"), "gvisor"), wantChanges: []string{"spec.runtimeClassName"},
			check: func(t *testing.T, p *corev1.Pod) {
				if p.Spec.RuntimeClassName == nil || *p.Spec.RuntimeClassName != "gvisor" {
					t.Errorf("runtimeClassName = %v", p.Spec.RuntimeClassName)
				}
			}},
		{name: "unset allowed without default", policy: rc(nil, "gvisor")},
		{name: "not allowed", policy: rc(nil, "gvisor"), pod: podRC("kata"), wantErrors: []string{`spec.runtimeClassName: Invalid value: "kata"`}},
		{name: "empty list refuses any", policy: rc(nil), pod: podRC("kata"), wantErrors: []string{`spec.runtimeClassName: Invalid value: "kata"`}},
		{name: "wildcard", policy: rc(nil, "*"), pod: podRC("kata")},
	})
}
