package engine

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestPolicyPrivileges(t *testing.T) {
	spec := func(f func(*policyv1.PodSecurityPolicySpec)) *policyv1.PodSecurityPolicy {
		p := &policyv1.PodSecurityPolicy{Spec: policyv1.PodSecurityPolicySpec{RunAsUser: policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAsNonRoot}}}
		f(&p.Spec)
		return p
	}
	tests := []struct {
		name string
		p    *policyv1.PodSecurityPolicy
		want string
	}{
		{"restricted", spec(func(*policyv1.PodSecurityPolicySpec) {}), ""},
		{"eks.privileged", spec(func(s *policyv1.PodSecurityPolicySpec) {
			s.Privileged, s.HostNetwork, s.AllowedCapabilities, s.Volumes = true, true, []corev1.Capability{"*"}, []policyv1.FSType{policyv1.All}
			s.RunAsUser.Rule = policyv1.RunAsUserStrategyRunAsAny
		}), "privileged containers!; every capability!; host namespaces!; every host path!; running as root"},
		{"some capabilities and paths", spec(func(s *policyv1.PodSecurityPolicySpec) {
			s.DefaultAddCapabilities, s.AllowedCapabilities = []corev1.Capability{"NET_BIND_SERVICE"}, []corev1.Capability{"NET_ADMIN", "NET_BIND_SERVICE"}
			s.Volumes, s.AllowedHostPaths = []policyv1.FSType{policyv1.HostPath}, []policyv1.AllowedHostPath{{PathPrefix: "/var/log"}}
		}), `adding capabilities "NET_BIND_SERVICE", "NET_ADMIN"; host paths under "/var/log"`},
		{"socket, root by range", spec(func(s *policyv1.PodSecurityPolicySpec) {
			s.Volumes, s.AllowedHostPaths = []policyv1.FSType{policyv1.HostPath}, []policyv1.AllowedHostPath{{PathPrefix: "/var/run", ReadOnly: true}}
			s.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 0, Max: 10}}}
		}), "the container runtime's socket /var/run/docker.sock!; running as root"},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range PolicyPrivileges(tt.p) {
			text := p.Text
			if p.Dangerous {
				text += "!"
			}
			got = append(got, text)
		}
		if g := strings.Join(got, "; "); g != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, g, tt.want)
		}
	}
}
