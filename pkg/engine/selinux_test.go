package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestSELinux(t *testing.T) {
	mustRunAs := func(p *policyv1.PodSecurityPolicy) {
		p.Spec.SELinux = policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyMustRunAs,
			SELinuxOptions: &corev1.SELinuxOptions{User: "u", Role: "r", Type: "t", Level: "s0:c1,c2"}}
	}
	runControlCases(t, []controlCase{
		{name: "RunAsAny", pod: func(p *corev1.Pod) { psc(p).SELinuxOptions = &corev1.SELinuxOptions{Type: "x"} }},
		{name: "MustRunAs defaults the pod", policy: mustRunAs, wantChanges: []string{"spec.securityContext.seLinuxOptions"}},
		{name: "categories in any order", policy: mustRunAs, pod: func(p *corev1.Pod) {
			psc(p).SELinuxOptions = &corev1.SELinuxOptions{User: "u", Role: "r", Type: "t", Level: "s0:c2,c1"}
		}},
		{name: "container mismatch", policy: mustRunAs, pod: func(p *corev1.Pod) {
			sc(&p.Spec.Containers[0]).SELinuxOptions = &corev1.SELinuxOptions{User: "x", Role: "r", Type: "t", Level: "s1:c1,c2"}
		}, wantChanges: []string{"spec.securityContext.seLinuxOptions"}, wantErrors: []string{
			`spec.containers[0].securityContext.seLinuxOptions.level: Invalid value: "s1:c1,c2": must be s0:c1,c2`,
			`spec.containers[0].securityContext.seLinuxOptions.user: Invalid value: "x": must be u`,
		}},
	})
	s, _ := newSELinux(policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{}})
	if errs := s.checkPod(newPod(), nil); len(errs) != 1 || errs[0].Error() != "spec.securityContext.seLinuxOptions: Required value" {
		t.Errorf("unset: %v", errs)
	}
	if _, err := newSELinux(policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyMustRunAs}); err == nil {
		t.Error("MustRunAs without options must not compile")
	}
}
