package podcreate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// PrepareForCreate does to pod, in place, what the v1.37 pod registry does
// on CREATE after mutating admission and before validating admission
// (pkg/registry/core/pod/strategy.go, PrepareForCreate), as far as a
// PodSecurityPolicy control reads it: so it turns the pod admitted by the
// admit phase into the one the validate phase receives, and the apiserver
// stores.
//
// That is applyAppArmorVersionSkew: on a pod that is not a Windows pod, a
// container with a valid container.apparmor.security.beta.kubernetes.io/NAME
// annotation and no securityContext.appArmorProfile gets the field the
// annotation means, unless it equals the pod's profile. The rest of
// PrepareForCreate (status, QoS class, generation, scheduling gates,
// affinity and topology label keys, pod-level resources, fields of disabled
// feature gates, of which none is a field a control reads with v1.37's
// default gates) does not concern PodSecurityPolicy.
func PrepareForCreate(pod *corev1.Pod) {
	if pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows {
		return
	}
	var podProfile *corev1.AppArmorProfile
	if pod.Spec.SecurityContext != nil {
		podProfile = pod.Spec.SecurityContext.AppArmorProfile
	}
	sync := func(c *corev1.Container) {
		annotation, ok := pod.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+c.Name]
		if !ok || (c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil) {
			return
		}
		profile := appArmorFieldForAnnotation(annotation)
		if profile == nil || equality.Semantic.DeepEqual(profile, podProfile) {
			return
		}
		if c.SecurityContext == nil {
			c.SecurityContext = &corev1.SecurityContext{}
		}
		c.SecurityContext.AppArmorProfile = profile
	}
	for i := range pod.Spec.InitContainers {
		sync(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		sync(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.EphemeralContainers {
		sync((*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

// maxLocalhostProfileLength is PATH_MAX - 1, the longest profile name the
// apiserver accepts.
const maxLocalhostProfileLength = 4095

// appArmorFieldForAnnotation is the field an AppArmor annotation value
// means, nil when it means none or the field would be invalid, as upstream's
// ApparmorFieldForAnnotation (pkg/api/pod/util.go) followed by
// ValidateAppArmorProfileField.
func appArmorFieldForAnnotation(annotation string) *corev1.AppArmorProfile {
	switch annotation {
	case corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	}
	name, ok := strings.CutPrefix(annotation, corev1.DeprecatedAppArmorBetaProfileNamePrefix)
	if !ok || name == "" || strings.TrimSpace(name) != name || len(name) > maxLocalhostProfileLength {
		return nil
	}
	return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
}
