package engine

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// hostPaths is the allowedHostPaths control for hostPath volumes: with a
// list, a host path must be under one of the prefixes (at a path segment
// boundary); if every prefix it is under is readOnly, every mount of the
// volume must be read-only. An empty list allows every path.
type hostPaths struct{ allowed []policyv1.AllowedHostPath }

func (h hostPaths) checkVolume(pod *corev1.Pod, index int, v *corev1.Volume, errs field.ErrorList) field.ErrorList {
	allowed, mustBeReadOnly := h.allows(v.HostPath.Path)
	if !allowed {
		return append(errs, field.Invalid(volumesPath.Index(index).Child("hostPath", "pathPrefix"), v.HostPath.Path, "is not allowed to be used"))
	}
	if mustBeReadOnly {
		visitContainers(&pod.Spec, func(ref containerRef) {
			for j, m := range ref.c.VolumeMounts {
				if m.Name == v.Name && !m.ReadOnly {
					errs = append(errs, field.Invalid(ref.path.Child("volumeMounts").Index(j).Child("readOnly"), m.ReadOnly, "must be read-only"))
				}
			}
		})
	}
	return errs
}

// allows reports whether the path is allowed and whether only read-only.
func (h hostPaths) allows(path string) (allowed, mustBeReadOnly bool) {
	if len(h.allowed) == 0 {
		return true, false
	}
	for _, a := range h.allowed {
		if hasPathPrefix(path, a.PathPrefix) {
			if !a.ReadOnly {
				return true, false
			}
			allowed, mustBeReadOnly = true, true
		}
	}
	return allowed, mustBeReadOnly
}

// hasPathPrefix reports whether s equals pathPrefix or is below it, after
// trimming one trailing slash from each. "/foo" is a prefix of "/foo/bar" but
// not of "/foobar".
func hasPathPrefix(s, pathPrefix string) bool {
	s = strings.TrimSuffix(s, "/")
	pathPrefix = strings.TrimSuffix(pathPrefix, "/")
	if !strings.HasPrefix(s, pathPrefix) {
		return false
	}
	return len(s) == len(pathPrefix) || s[len(pathPrefix)] == '/'
}
