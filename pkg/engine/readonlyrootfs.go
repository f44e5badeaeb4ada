package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// readOnlyRootFilesystem is the readOnlyRootFilesystem control: when the
// policy requires it, an unset readOnlyRootFilesystem defaults to true and
// false is refused.
type readOnlyRootFilesystem struct{ required bool }

func (r readOnlyRootFilesystem) defaultContainer(m *mutation, ref containerRef) {
	if r.required && containerSC(ref.c).ReadOnlyRootFilesystem == nil {
		m.setContainerBool(ref, "readOnlyRootFilesystem", func(sc *corev1.SecurityContext) **bool { return &sc.ReadOnlyRootFilesystem }, true)
	}
}

func (r readOnlyRootFilesystem) checkContainer(_ *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	if !r.required {
		return errs
	}
	fldPath := ref.sc.Child("readOnlyRootFilesystem")
	switch v := containerSC(ref.c).ReadOnlyRootFilesystem; {
	case v == nil:
		errs = append(errs, field.Invalid(fldPath, v, "ReadOnlyRootFilesystem may not be nil and must be set to true"))
	case !*v:
		errs = append(errs, field.Invalid(fldPath, *v, "ReadOnlyRootFilesystem must be set to true"))
	}
	return errs
}
