package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestHostPorts(t *testing.T) {
	ports := func(ports ...int32) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			for _, hp := range ports {
				p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{ContainerPort: 80, HostPort: hp})
			}
		}
	}
	ranges := func(r ...policyv1.HostPortRange) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) { p.Spec.HostPorts = r }
	}
	runControlCases(t, []controlCase{
		{name: "no host port needs no range", policy: ranges(), pod: ports(0)},
		{name: "in range", policy: ranges(policyv1.HostPortRange{Min: 80, Max: 80}), pod: ports(80)},
		{name: "no ranges", policy: ranges(), pod: ports(80), wantErrors: []string{
			"spec.containers[0].hostPort: Invalid value: 80: Host port 80 is not allowed to be used. Allowed ports: []"}},
		{name: "out of ranges lists them", policy: ranges(policyv1.HostPortRange{Min: 80, Max: 80}, policyv1.HostPortRange{Min: 1025, Max: 65535}),
			pod: ports(443, 8080), wantErrors: []string{
				"spec.containers[0].hostPort: Invalid value: 443: Host port 443 is not allowed to be used. Allowed ports: [80,1025-65535]"}},
	})
}
