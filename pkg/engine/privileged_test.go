package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestPrivileged(t *testing.T) {
	deny := func(p *policyv1.PodSecurityPolicy) { p.Spec.Privileged = false }
	runControlCases(t, []controlCase{
		{name: "privileged allowed", pod: func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).Privileged = ptr(true) }},
		{name: "privileged refused", policy: deny, pod: func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).Privileged = ptr(true) },
			wantErrors: []string{"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"}},
		{name: "privileged false is fine", policy: deny, pod: func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).Privileged = ptr(false) }},
		{name: "init and ephemeral containers checked", policy: deny, pod: func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}}
		}, wantErrors: []string{
			"spec.initContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed",
			"spec.ephemeralContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed",
		}},
	})
}
