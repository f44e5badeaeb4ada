package engine

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// seccomp is the seccomp control, configured by the policy annotations
// seccomp.security.alpha.kubernetes.io/allowedProfileNames and
// /defaultProfileName. Profiles are compared in their annotation form
// ("runtime/default", "localhost/NAME", ...); a seccompProfile field is
// translated to that form. The default is written as the pod annotation.
// Without an allowed list, any profile set is refused ("seccomp may not be
// set"); docker/default and runtime/default allow each other.
type seccomp struct {
	defaultProfile string
	// allowed is nil when the policy has no allowedProfileNames annotation.
	allowed  map[string]bool
	allowAny bool
	// allowedText is the annotation as written, for messages.
	allowedText string
}

func newSeccomp(annotations map[string]string) seccomp {
	s := seccomp{defaultProfile: annotations[policyv1.SeccompDefaultProfileAnnotationKey]}
	if allowedText, ok := annotations[policyv1.SeccompAllowedProfilesAnnotationKey]; ok {
		s.allowedText = allowedText
		profiles := strings.Split(allowedText, ",")
		s.allowed = make(map[string]bool, len(profiles))
		for _, p := range profiles {
			if p == policyv1.SeccompAllowAny {
				s.allowAny = true
				continue
			}
			// Kubernetes converts docker/default to runtime/default, so each allows the other.
			if p == corev1.DeprecatedSeccompProfileDockerDefault || p == corev1.SeccompProfileRuntimeDefault {
				s.allowed[corev1.SeccompProfileRuntimeDefault] = true
				s.allowed[corev1.DeprecatedSeccompProfileDockerDefault] = true
			}
			s.allowed[p] = true
		}
	}
	return s
}

// v1.24 reported seccomp errors under "pod.metadata.annotations"; kept.
var seccompErrorAnnotationsPath = field.NewPath("pod", "metadata", "annotations")

func (s seccomp) defaultPod(m *mutation) {
	// The default applies only when the pod has neither a profile annotation
	// nor a profile field (even one without an annotation form).
	profile := s.defaultProfile
	if m.pod.Annotations[corev1.SeccompPodAnnotationKey] != "" || podSC(m.pod).SeccompProfile != nil {
		profile = podSeccompProfile(m.pod)
	}
	if profile != "" {
		m.setAnnotation(corev1.SeccompPodAnnotationKey, profile)
	}
}

func (s seccomp) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	errs = s.validate(seccompErrorAnnotationsPath.Key(corev1.SeccompPodAnnotationKey), podSeccompProfile(pod), errs)
	// v1.24 read the pod annotation before the field. The kubelet runs the
	// field, so a field that differs from the annotation is checked too:
	// an allowed annotation must not mask a forbidden field.
	if sp := podSC(pod).SeccompProfile; sp != nil {
		if fieldProfile := seccompAnnotationForField(sp); !sameSeccompProfile(fieldProfile, podSeccompProfile(pod)) {
			errs = s.validate(podSCPath.Child("seccompProfile"), fieldProfile, errs)
		}
	}
	return errs
}

func (s seccomp) checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	return s.validate(seccompErrorAnnotationsPath.Key(corev1.SeccompContainerAnnotationKeyPrefix+ref.c.Name), containerSeccompProfile(pod, ref.c), errs)
}

func (s seccomp) validate(fldPath *field.Path, profile string, errs field.ErrorList) field.ErrorList {
	if !s.allowAny && len(s.allowed) == 0 && profile != "" {
		return append(errs, field.Forbidden(fldPath, "seccomp may not be set"))
	}
	if !s.profileAllowed(profile) {
		errs = append(errs, field.Forbidden(fldPath, profile+" is not an allowed seccomp profile. Valid values are "+s.allowedText))
	}
	return errs
}

func (s seccomp) profileAllowed(profile string) bool {
	// A policy without allowed profiles allows the runtime's default (no profile).
	if len(s.allowed) == 0 && profile == "" {
		return true
	}
	return s.allowAny || s.allowed[profile]
}

// podSeccompProfile is the pod's profile: the pod annotation, else the pod
// field in annotation form.
func podSeccompProfile(pod *corev1.Pod) string {
	if p := pod.Annotations[corev1.SeccompPodAnnotationKey]; p != "" {
		return p
	}
	if sp := podSC(pod).SeccompProfile; sp != nil {
		return seccompAnnotationForField(sp)
	}
	return ""
}

// containerSeccompProfile is the profile v1.24 checked for a container: its
// field, else its annotation, else the pod field, else the pod annotation.
func containerSeccompProfile(pod *corev1.Pod, c *corev1.Container) string {
	if sp := containerSC(c).SeccompProfile; sp != nil {
		return seccompAnnotationForField(sp)
	}
	if p, ok := pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+c.Name]; ok {
		return p
	}
	if sp := podSC(pod).SeccompProfile; sp != nil {
		return seccompAnnotationForField(sp)
	}
	return pod.Annotations[corev1.SeccompPodAnnotationKey]
}

// seccompAnnotationForField is the annotation form of a seccompProfile field;
// "" for Localhost without a profile name or an unknown type.
func seccompAnnotationForField(sp *corev1.SeccompProfile) string {
	switch sp.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return corev1.SeccompProfileNameUnconfined
	case corev1.SeccompProfileTypeRuntimeDefault:
		return corev1.SeccompProfileRuntimeDefault
	case corev1.SeccompProfileTypeLocalhost:
		if sp.LocalhostProfile != nil {
			return corev1.SeccompLocalhostProfileNamePrefix + *sp.LocalhostProfile
		}
	}
	return ""
}

// sameSeccompProfile compares profiles in annotation form; docker/default is
// the old name of runtime/default.
func sameSeccompProfile(a, b string) bool {
	norm := func(p string) string {
		if p == corev1.DeprecatedSeccompProfileDockerDefault {
			return corev1.SeccompProfileRuntimeDefault
		}
		return p
	}
	return norm(a) == norm(b)
}
