package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestPrivilegeEscalation(t *testing.T) {
	path := "spec.containers[0].securityContext.allowPrivilegeEscalation"
	want := func(v bool) func(*testing.T, *corev1.Pod) {
		return func(t *testing.T, p *corev1.Pod) {
			if got := p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation; got == nil || *got != v {
				t.Errorf("allowPrivilegeEscalation = %v, want %v", got, v)
			}
		}
	}
	runControlCases(t, []controlCase{
		{name: "allowed, no default: untouched"},
		{name: "unset in policy means allowed", policy: func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = nil },
			pod: func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).AllowPrivilegeEscalation = ptr(true) }},
		{name: "default applied", policy: func(p *policyv1.PodSecurityPolicy) { p.Spec.DefaultAllowPrivilegeEscalation = ptr(false) },
			wantChanges: []string{path}, check: want(false)},
		{name: "not allowed defaults to false", policy: func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = ptr(false) },
			wantChanges: []string{path}, check: want(false)},
		{name: "not allowed refuses true", policy: func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = ptr(false) },
			pod:        func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).AllowPrivilegeEscalation = ptr(true) },
			wantErrors: []string{path + ": Invalid value: true: Allowing privilege escalation for containers is not allowed"}},
	})
	pe := privilegeEscalation{allow: false}
	pod := newPod()
	errs := pe.checkContainer(pod, containerAt(&pod.Spec.Containers[0], containersPath, containerPaths, 0), nil)
	if len(errs) != 1 || errs[0].Error() != path+": Invalid value: null: Allowing privilege escalation for containers is not allowed" {
		t.Errorf("nil: got %v", errs)
	}
}
