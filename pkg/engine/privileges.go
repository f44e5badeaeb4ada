package engine

import (
	"slices"
	"strings"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

// Privilege is something a policy lets pods do beyond the restricted
// policy of the Kubernetes documentation: "privileged containers", "host
// namespaces", "every host path", `adding capabilities "NET_ADMIN"`,
// "running as root".
type Privilege struct {
	// Text names it, for messages.
	Text string
	// Dangerous marks what hands over the node (privileged containers,
	// every capability, host namespaces, the host's root or container
	// runtime socket); the others (some capabilities, some host paths,
	// running as root) widen what a container may do inside it.
	Dangerous bool
}

// runtimeSockets are host paths that hand over the node.
var runtimeSockets = []string{"/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock", "/var/run/crio/crio.sock"}

// PolicyPrivileges lists what p lets pods do beyond a restricted policy, in
// a fixed order: privileged containers; every capability, or the ones that
// may be added; host namespaces; host paths; running as root (runAsUser
// RunAsAny, or a MustRunAs range holding UID 0).
func PolicyPrivileges(p *policyv1.PodSecurityPolicy) []Privilege {
	var out []Privilege
	s := p.Spec
	if s.Privileged {
		out = append(out, Privilege{"privileged containers", true})
	}
	switch {
	case slices.Contains(s.AllowedCapabilities, policyv1.AllowAllCapabilities):
		out = append(out, Privilege{"every capability", true})
	case len(s.AllowedCapabilities)+len(s.DefaultAddCapabilities) > 0:
		var caps []string
		for _, c := range append(slices.Clone(s.DefaultAddCapabilities), s.AllowedCapabilities...) {
			if q := `"` + string(c) + `"`; !slices.Contains(caps, q) {
				caps = append(caps, q)
			}
		}
		out = append(out, Privilege{"adding capabilities " + strings.Join(caps, ", "), false})
	}
	if s.HostNetwork || s.HostPID || s.HostIPC {
		out = append(out, Privilege{"host namespaces", true})
	}
	if slices.Contains(s.Volumes, policyv1.All) || slices.Contains(s.Volumes, policyv1.HostPath) {
		out = append(out, hostPathPrivilege(s.AllowedHostPaths))
	}
	if runsAsRoot(s.RunAsUser) {
		out = append(out, Privilege{"running as root", false})
	}
	return out
}

func hostPathPrivilege(allowed []policyv1.AllowedHostPath) Privilege {
	if len(allowed) == 0 {
		return Privilege{"every host path", true}
	}
	if slices.ContainsFunc(allowed, func(h policyv1.AllowedHostPath) bool { return strings.TrimSuffix(h.PathPrefix, "/") == "" }) {
		return Privilege{`host path "/"`, true}
	}
	for _, sock := range runtimeSockets {
		if slices.ContainsFunc(allowed, func(h policyv1.AllowedHostPath) bool {
			prefix := strings.TrimSuffix(h.PathPrefix, "/")
			// Read-only does not help: connecting to a socket is not a write.
			return sock == prefix || strings.HasPrefix(sock, prefix+"/")
		}) {
			return Privilege{"the container runtime's socket " + sock, true}
		}
	}
	var prefixes []string
	for _, h := range allowed {
		prefixes = append(prefixes, `"`+h.PathPrefix+`"`)
	}
	return Privilege{"host paths under " + strings.Join(prefixes, ", "), false}
}

func runsAsRoot(s policyv1.RunAsUserStrategyOptions) bool {
	switch s.Rule {
	case policyv1.RunAsUserStrategyRunAsAny:
		return true
	case policyv1.RunAsUserStrategyMustRunAs:
		return slices.ContainsFunc(s.Ranges, func(r policyv1.IDRange) bool { return r.Min <= 0 })
	}
	return false
}
