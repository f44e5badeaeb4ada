package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// containerRef is one container of a pod with the path v1.24 reported it at.
type containerRef struct {
	c    *corev1.Container
	path *field.Path
	// sc is path's securityContext.
	sc *field.Path
}

var (
	specPath                = field.NewPath("spec")
	initContainersPath      = specPath.Child("initContainers")
	containersPath          = specPath.Child("containers")
	ephemeralContainersPath = specPath.Child("ephemeralContainers")

	// The paths of the first containers of each list, built once: every
	// policy tried visits every container, and building the same paths
	// again for each was a measurable part of a decision. Paths are
	// immutable, so sharing them is safe.
	initContainerPaths      = indexPaths(initContainersPath)
	containerPaths          = indexPaths(containersPath)
	ephemeralContainerPaths = indexPaths(ephemeralContainersPath)
)

// indexedPath is a container's path and its securityContext's.
type indexedPath struct{ path, sc *field.Path }

func indexPaths(list *field.Path) []indexedPath {
	paths := make([]indexedPath, 32)
	for i := range paths {
		p := list.Index(i).Frozen()
		paths[i] = indexedPath{p, p.Child("securityContext").Frozen()}
	}
	return paths
}

// containerAt is the containerRef of container i of a list.
func containerAt(c *corev1.Container, list *field.Path, paths []indexedPath, i int) containerRef {
	if i < len(paths) {
		return containerRef{c, paths[i].path, paths[i].sc}
	}
	p := list.Index(i)
	return containerRef{c, p, p.Child("securityContext")}
}

// visitContainers calls visit for init, regular and ephemeral containers, in
// that order, as v1.24's VisitContainersWithPath did. Ephemeral containers
// are visited as *corev1.Container: their common part has the same fields.
func visitContainers(spec *corev1.PodSpec, visit func(containerRef)) {
	for i := range spec.InitContainers {
		visit(containerAt(&spec.InitContainers[i], initContainersPath, initContainerPaths, i))
	}
	for i := range spec.Containers {
		visit(containerAt(&spec.Containers[i], containersPath, containerPaths, i))
	}
	for i := range spec.EphemeralContainers {
		visit(containerAt((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon), ephemeralContainersPath, ephemeralContainerPaths, i))
	}
}
