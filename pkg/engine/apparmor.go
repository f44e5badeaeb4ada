package engine

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// appArmor is the AppArmor control, configured by the policy annotations
// apparmor.security.beta.kubernetes.io/allowedProfileNames and
// /defaultProfileName, applied to each container's annotation
// container.apparmor.security.beta.kubernetes.io/NAME (k8s.io/kubernetes
// v1.24 pkg/security/podsecuritypolicy/apparmor/strategy.go). The default is
// set where a container has no (or an empty) annotation and no
// appArmorProfile field, as the annotation and, unlike v1.24, as the
// container's field. With an allowed list, the profile each container runs
// with must be in it, found in the v1.37 kubelet's order (k8s.io/kubernetes
// v1.37 pkg/security/apparmor/helpers.go GetProfile): the container's
// field, else its annotation, else the pod's field.
type appArmor struct {
	defaultProfile string
	// allowed is nil when the policy has no allowedProfileNames annotation.
	allowed     map[string]bool
	allowedText string
}

func newAppArmor(annotations map[string]string) appArmor {
	a := appArmor{defaultProfile: annotations[policyv1.AppArmorDefaultProfileAnnotationKey]}
	if allowedText, ok := annotations[policyv1.AppArmorAllowedProfilesAnnotationKey]; ok {
		a.allowedText = allowedText
		profiles := strings.Split(allowedText, ",")
		a.allowed = make(map[string]bool, len(profiles))
		for _, p := range profiles {
			a.allowed[p] = true
		}
	}
	return a
}

// v1.24 reported AppArmor errors under "pod.metadata.annotations"; kept.
var appArmorErrorAnnotationsPath = field.NewPath("pod", "metadata", "annotations")

func (a appArmor) defaultContainer(m *mutation, ref containerRef) {
	key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + ref.c.Name
	// A profile set by the appArmorProfile field (added after v1.24) is a
	// setting too: the default must not contradict it.
	if m.pod.Annotations[key] != "" || a.defaultProfile == "" || containerSC(ref.c).AppArmorProfile != nil || podSC(m.pod).AppArmorProfile != nil {
		return
	}
	m.setAnnotation(key, a.defaultProfile)
	// Unlike v1.24, the default is also written as the field the kubelet
	// reads first: the annotation is deprecated since v1.30, draws a warning
	// on every pod, and only an apiserver's annotation-to-field copy
	// (applyAppArmorVersionSkew) gives it effect.
	if p := appArmorFieldForAnnotation(a.defaultProfile); p != nil && !windowsPod(m.pod) {
		ensureContainerSC(ref.c).AppArmorProfile = p
		m.record(ref.sc.Child("appArmorProfile"), *p)
	}
}

func (a appArmor) checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	if a.allowed == nil {
		return errs
	}
	profile, fldPath := a.containerProfile(pod, ref)
	if profile == "" {
		if len(a.allowed) > 0 {
			errs = append(errs, field.Forbidden(fldPath, "AppArmor profile must be set"))
		}
		return errs
	}
	if !a.allowed[profile] {
		errs = append(errs, field.Forbidden(fldPath, fmt.Sprintf("%s is not an allowed profile. Allowed values: %q", profile, a.allowedText)))
	}
	return errs
}

// containerProfile is the profile a container runs with, in annotation form,
// and the path to report it at. The appArmorProfile fields (added after
// v1.24; the kubelet reads them, and newer ones ignore the annotation) win
// over the annotation: the container's field, else the annotation (all
// v1.24 knew), else the pod's field.
func (a appArmor) containerProfile(pod *corev1.Pod, ref containerRef) (string, *field.Path) {
	if p := containerSC(ref.c).AppArmorProfile; p != nil {
		return appArmorAnnotationForField(p), ref.sc.Child("appArmorProfile")
	}
	key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + ref.c.Name
	if profile := pod.Annotations[key]; profile != "" {
		return profile, appArmorErrorAnnotationsPath.Key(key)
	}
	if p := podSC(pod).AppArmorProfile; p != nil {
		return appArmorAnnotationForField(p), podSCPath.Child("appArmorProfile")
	}
	return "", appArmorErrorAnnotationsPath.Key(key)
}

// appArmorFieldForAnnotation is the appArmorProfile field for an annotation
// value, nil for a value without one (k8s.io/kubernetes v1.37
// pkg/api/pod/util.go ApparmorFieldForAnnotation).
func appArmorFieldForAnnotation(profile string) *corev1.AppArmorProfile {
	switch {
	case profile == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case profile == corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case strings.HasPrefix(profile, corev1.DeprecatedAppArmorBetaProfileNamePrefix):
		if name := strings.TrimPrefix(profile, corev1.DeprecatedAppArmorBetaProfileNamePrefix); name != "" {
			return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
		}
	}
	return nil
}

// appArmorAnnotationForField is the annotation form of an appArmorProfile
// field, so one allow-list governs both.
func appArmorAnnotationForField(p *corev1.AppArmorProfile) string {
	switch p.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return corev1.DeprecatedAppArmorBetaProfileRuntimeDefault
	case corev1.AppArmorProfileTypeUnconfined:
		return corev1.DeprecatedAppArmorBetaProfileNameUnconfined
	case corev1.AppArmorProfileTypeLocalhost:
		if p.LocalhostProfile != nil {
			return corev1.DeprecatedAppArmorBetaProfileNamePrefix + *p.LocalhostProfile
		}
	}
	// A Localhost type without a name or an unknown type: not allowed by any list.
	return "invalid:" + string(p.Type)
}

// appArmorNote is AnnotationFieldNote for a container's annotation, which
// errors name only when no field sets the profile.
func appArmorNote(pod *corev1.Pod, ref containerRef) string {
	key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + ref.c.Name
	if pod.Annotations[key] != "" || containerSC(ref.c).AppArmorProfile != nil || podSC(pod).AppArmorProfile != nil {
		return ""
	}
	return "the pod sets no AppArmor profile for container " + ref.c.Name + ": set " + ref.sc.Child("appArmorProfile").String() + " or " + podSCPath.Child("appArmorProfile").String()
}
