package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// containerRef is one container of a pod with the path v1.24 reported it at.
type containerRef struct {
	c    *corev1.Container
	path *field.Path
}

var (
	specPath                = field.NewPath("spec")
	initContainersPath      = specPath.Child("initContainers")
	containersPath          = specPath.Child("containers")
	ephemeralContainersPath = specPath.Child("ephemeralContainers")
)

// visitContainers calls visit for init, regular and ephemeral containers, in
// that order, as v1.24's VisitContainersWithPath did. Ephemeral containers
// are visited as *corev1.Container: their common part has the same fields.
func visitContainers(spec *corev1.PodSpec, visit func(containerRef)) {
	for i := range spec.InitContainers {
		visit(containerRef{&spec.InitContainers[i], initContainersPath.Index(i)})
	}
	for i := range spec.Containers {
		visit(containerRef{&spec.Containers[i], containersPath.Index(i)})
	}
	for i := range spec.EphemeralContainers {
		visit(containerRef{(*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon), ephemeralContainersPath.Index(i)})
	}
}
