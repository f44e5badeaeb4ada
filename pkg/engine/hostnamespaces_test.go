package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestHostNamespaces(t *testing.T) {
	none := func(p *policyv1.PodSecurityPolicy) {
		p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = false, false, false
	}
	all := func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true }
	runControlCases(t, []controlCase{
		{name: "allowed", pod: all},
		{name: "refused with v1.24 paths", policy: none, pod: all, wantErrors: []string{
			"spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used",
			"spec.securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used",
			"spec.securityContext.hostIPC: Invalid value: true: Host IPC is not allowed to be used",
		}},
		{name: "unused is fine", policy: none},
	})
}
