package engine

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// procMount is the allowedProcMountTypes control: a container's procMount
// (Default when unset) must be in the list, which defaults to [Default].
type procMount struct{ allowed []corev1.ProcMountType }

func newProcMount(allowed []corev1.ProcMountType) procMount {
	if len(allowed) == 0 {
		allowed = []corev1.ProcMountType{corev1.DefaultProcMount}
	}
	return procMount{allowed: allowed}
}

func (p procMount) checkContainer(_ *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	if pm := effectiveProcMount(ref.c); !slices.Contains(p.allowed, pm) {
		errs = append(errs, field.Invalid(ref.sc.Child("procMount"), pm, "ProcMountType is not allowed"))
	}
	return errs
}
