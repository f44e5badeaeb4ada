package engine

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// safeSysctls are the sysctls v1.24 considered safe (namespaced and
// isolated), allowed without listing them in allowedUnsafeSysctls.
var safeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
}

// sysctls is the sysctls control: a forbidden sysctl is refused; a safe one
// or one in allowedUnsafeSysctls is allowed; any other is refused as unsafe.
// Patterns ending in "*" match by prefix.
type sysctls struct {
	allowedUnsafe sysctlPatterns
	forbidden     sysctlPatterns
}

// v1.24 reported sysctl errors under "pod.spec.securityContext.sysctls"; kept.
var sysctlsErrorPath = field.NewPath("pod", "spec", "securityContext", "sysctls")

func (s sysctls) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	for i, sc := range podSC(pod).Sysctls {
		switch {
		case s.forbidden.match(sc.Name):
			errs = append(errs, field.Forbidden(sysctlsErrorPath.Index(i), fmt.Sprintf("sysctl %q is not allowed", sc.Name)))
		case slices.Contains(safeSysctls, sc.Name), s.allowedUnsafe.match(sc.Name):
		default:
			errs = append(errs, field.Forbidden(sysctlsErrorPath.Index(i), fmt.Sprintf("unsafe sysctl %q is not allowed", sc.Name)))
		}
	}
	return errs
}

// sysctlPatterns matches sysctl names against exact names and prefixes.
type sysctlPatterns struct {
	exact    map[string]bool
	prefixes []string
}

func newSysctlPatterns(patterns []string) sysctlPatterns {
	p := sysctlPatterns{exact: map[string]bool{}}
	for _, pattern := range patterns {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
			p.prefixes = append(p.prefixes, prefix)
		} else {
			p.exact[pattern] = true
		}
	}
	return p
}

func (p sysctlPatterns) match(name string) bool {
	if p.exact[name] {
		return true
	}
	for _, prefix := range p.prefixes {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
