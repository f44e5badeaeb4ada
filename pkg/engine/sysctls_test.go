package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestSysctls(t *testing.T) {
	lists := func(allowed, forbidden []string) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedUnsafeSysctls, p.Spec.ForbiddenSysctls = allowed, forbidden
		}
	}
	sysctls := func(names ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			for _, n := range names {
				psc(p).Sysctls = append(psc(p).Sysctls, corev1.Sysctl{Name: n, Value: "1"})
			}
		}
	}
	runControlCases(t, []controlCase{
		{name: "safe allowed by default", policy: lists(nil, nil), pod: sysctls("kernel.shm_rmid_forced", "net.ipv4.ip_unprivileged_port_start")},
		{name: "unsafe refused", policy: lists(nil, nil), pod: sysctls("kernel.msgmax"), wantErrors: []string{
			`pod.spec.securityContext.sysctls[0]: Forbidden: unsafe sysctl "kernel.msgmax" is not allowed`}},
		{name: "unsafe allowed by prefix", policy: lists([]string{"kernel.msg*"}, nil), pod: sysctls("kernel.msgmax")},
		{name: "forbidden beats safe", policy: lists(nil, []string{"kernel.shm_rmid_forced"}), pod: sysctls("net.ipv4.tcp_syncookies", "kernel.shm_rmid_forced"),
			wantErrors: []string{`pod.spec.securityContext.sysctls[1]: Forbidden: sysctl "kernel.shm_rmid_forced" is not allowed`}},
		{name: "forbid all", policy: lists(nil, []string{"*"}), pod: sysctls("net.ipv4.tcp_syncookies"),
			wantErrors: []string{`pod.spec.securityContext.sysctls[0]: Forbidden: sysctl "net.ipv4.tcp_syncookies" is not allowed`}},
	})
}
