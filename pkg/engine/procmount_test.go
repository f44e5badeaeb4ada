package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestProcMount(t *testing.T) {
	unmasked := func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).ProcMount = ptr(corev1.UnmaskedProcMount) }
	runControlCases(t, []controlCase{
		{name: "unmasked allowed", pod: unmasked},
		{name: "empty list allows only Default", policy: func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowedProcMountTypes = nil }, pod: unmasked,
			wantErrors: []string{`spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ProcMountType is not allowed`}},
		{name: "unset is Default", policy: func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowedProcMountTypes = nil }},
		{name: "only Unmasked listed refuses Default", policy: func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{corev1.UnmaskedProcMount}
		}, wantErrors: []string{`spec.containers[0].securityContext.procMount: Invalid value: "Default": ProcMountType is not allowed`}},
	})
}
