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
// container.apparmor.security.beta.kubernetes.io/NAME. The default is set
// where a container has no (or an empty) annotation; with an allowed list,
// every container's profile must be in it.
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
	if m.pod.Annotations[key] != "" || a.defaultProfile == "" {
		return
	}
	m.setAnnotation(key, a.defaultProfile)
}

func (a appArmor) checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	if a.allowed == nil {
		return errs
	}
	key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + ref.c.Name
	fldPath := appArmorErrorAnnotationsPath.Key(key)
	profile := pod.Annotations[key]
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
