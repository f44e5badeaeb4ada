package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// privileged is the privileged control: unless the policy allows it, no
// container may set privileged: true.
type privileged struct{ allowed bool }

func (p privileged) checkContainer(_ *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	if v := containerSC(ref.c).Privileged; !p.allowed && v != nil && *v {
		errs = append(errs, field.Invalid(ref.sc.Child("privileged"), *v, "Privileged containers are not allowed"))
	}
	return errs
}
