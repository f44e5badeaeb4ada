package engine

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// csiDrivers is the allowedCSIDrivers control: with a list, an inline CSI
// volume's driver must be in it.
type csiDrivers struct{ drivers []string }

func (c csiDrivers) checkVolume(_ *corev1.Pod, index int, v *corev1.Volume, errs field.ErrorList) field.ErrorList {
	if len(c.drivers) > 0 && !slices.Contains(c.drivers, v.CSI.Driver) {
		errs = append(errs, field.Invalid(volumesPath.Index(index).Child("csi", "driver"), v.CSI.Driver, "Inline CSI driver is not allowed to be used"))
	}
	return errs
}
