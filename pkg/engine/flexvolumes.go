package engine

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// flexVolumes is the allowedFlexVolumes control: with a list, a flexVolume's
// driver must be in it. v1.24 reported the error at "spec.volumes[i].driver"; kept.
type flexVolumes struct{ drivers []string }

func (f flexVolumes) checkVolume(_ *corev1.Pod, index int, v *corev1.Volume, errs field.ErrorList) field.ErrorList {
	if len(f.drivers) > 0 && !slices.Contains(f.drivers, v.FlexVolume.Driver) {
		errs = append(errs, field.Invalid(volumesPath.Index(index).Child("driver"), v.FlexVolume.Driver, "Flexvolume driver is not allowed to be used"))
	}
	return errs
}
