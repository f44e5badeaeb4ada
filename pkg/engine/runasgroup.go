package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// runAsGroup is the runAsGroup control, applied to each container's
// effective runAsGroup (the container's, else the pod's). MustRunAs defaults
// the container's runAsGroup to the first range's min. v1.24 reported its
// errors at the container's securityContext path, not at runAsGroup; kept.
type runAsGroup struct{ rule groupRule }

func (r runAsGroup) defaultContainer(m *mutation, ref containerRef) {
	if effectiveRunAsGroup(m.pod, ref.c) != nil {
		return
	}
	m.setContainerInt64(ref, "runAsGroup", func(sc *corev1.SecurityContext) **int64 { return &sc.RunAsGroup }, r.rule.generate())
}

func (r runAsGroup) checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	var groups []int64
	if v := effectiveRunAsGroup(pod, ref.c); v != nil {
		groups = []int64{*v}
	}
	return r.rule.validate(ref.sc, groups, errs)
}
