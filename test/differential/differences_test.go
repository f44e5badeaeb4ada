package differential

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// The deliberate differences from v1.24's plugin (docs/engine.md, "Where
// kube-psp knowingly differs from v1.24"), modelled here so that the suite
// compares everything else exactly.
//
// Seccomp: v1.24's plugin defaulted and checked annotations, and the
// apiserver of its time copied each seccomp annotation and field into the
// other around admission (k8s.io/kubernetes v1.24
// pkg/registry/core/pod/strategy.go applySeccompVersionSkew, run by
// PrepareForCreate after mutating admission and before validating
// admission). kube-psp does the annotation-to-field copy itself in the admit
// phase and writes the default as the field too. So the reference's
// admitted pod is compared after that copy, and the reference validates the
// pod as its apiserver handed it over: after the copy in both directions.
//
// AppArmor: kube-psp writes a default as the container's appArmorProfile
// field as well as the annotation; the reference's admitted pod is compared
// with the field added where the reference added the annotation.
//
// Judging the seccomp profile a container runs with (its field, else the
// pod's): kube-psp refuses containers without one that v1.24 let through on
// an annotation's word; such outcomes are accepted when kube-psp's errors
// include engine.SeccompUnsetMessage (seccompUnsetDifference).

// v124SeccompSkew is pod as the v1.24 apiserver handed it to validating
// admission: each seccomp annotation without its field gets the field, and
// each field without its annotation gets the annotation.
func v124SeccompSkew(in *corev1.Pod) *corev1.Pod {
	if in == nil {
		return nil
	}
	pod := in.DeepCopy()
	sync := func(key string, field **corev1.SeccompProfile, ensure func() **corev1.SeccompProfile) {
		annotation, hasAnnotation := pod.Annotations[key]
		switch {
		case *field != nil && !hasAnnotation:
			if a := annotationForSeccompField(*field); a != "" {
				if pod.Annotations == nil {
					pod.Annotations = map[string]string{}
				}
				pod.Annotations[key] = a
			}
		case *field == nil && hasAnnotation:
			if f := seccompFieldForAnnotation(annotation); f != nil {
				*ensure() = f
			}
		}
	}
	var podField *corev1.SeccompProfile
	if pod.Spec.SecurityContext != nil {
		podField = pod.Spec.SecurityContext.SeccompProfile
	}
	sync(corev1.SeccompPodAnnotationKey, &podField, func() **corev1.SeccompProfile {
		if pod.Spec.SecurityContext == nil {
			pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		return &pod.Spec.SecurityContext.SeccompProfile
	})
	eachContainer(pod, func(c *corev1.Container) {
		var f *corev1.SeccompProfile
		if c.SecurityContext != nil {
			f = c.SecurityContext.SeccompProfile
		}
		sync(corev1.SeccompContainerAnnotationKeyPrefix+c.Name, &f, func() **corev1.SeccompProfile {
			if c.SecurityContext == nil {
				c.SecurityContext = &corev1.SecurityContext{}
			}
			return &c.SecurityContext.SeccompProfile
		})
	})
	return pod
}

// expectedAdmittedPod is the reference's admitted pod with kube-psp's
// documented additions: seccomp annotations copied to fields (one direction,
// as kube-psp's admit phase does), and the field of each AppArmor annotation
// the reference added.
func expectedAdmittedPod(theirs, request *corev1.Pod) *corev1.Pod {
	pod := theirs.DeepCopy()
	if a, ok := pod.Annotations[corev1.SeccompPodAnnotationKey]; ok && (pod.Spec.SecurityContext == nil || pod.Spec.SecurityContext.SeccompProfile == nil) {
		if f := seccompFieldForAnnotation(a); f != nil {
			if pod.Spec.SecurityContext == nil {
				pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
			}
			pod.Spec.SecurityContext.SeccompProfile = f
		}
	}
	eachContainer(pod, func(c *corev1.Container) {
		if a, ok := pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+c.Name]; ok && (c.SecurityContext == nil || c.SecurityContext.SeccompProfile == nil) {
			if f := seccompFieldForAnnotation(a); f != nil {
				if c.SecurityContext == nil {
					c.SecurityContext = &corev1.SecurityContext{}
				}
				c.SecurityContext.SeccompProfile = f
			}
		}
		key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + c.Name
		if added := pod.Annotations[key]; added != "" && request.Annotations[key] != added {
			if c.SecurityContext == nil {
				c.SecurityContext = &corev1.SecurityContext{}
			}
			c.SecurityContext.AppArmorProfile = appArmorFieldForAnnotation(added)
		}
	})
	return pod
}

// seccompUnsetDifference reports whether kube-psp's decision refused a
// container for running without a seccomp profile field, the one check
// v1.24 did not make.
func seccompUnsetDifference(d engine.Decision) bool {
	for _, a := range d.Attempts {
		for _, e := range a.Errors {
			if strings.Contains(e.Error(), engine.SeccompUnsetMessage) {
				return true
			}
		}
	}
	return false
}

func eachContainer(pod *corev1.Pod, visit func(*corev1.Container)) {
	for i := range pod.Spec.InitContainers {
		visit(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		visit(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.EphemeralContainers {
		visit((*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

func seccompFieldForAnnotation(a string) *corev1.SeccompProfile {
	switch {
	case a == "unconfined":
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	case a == "runtime/default" || a == "docker/default":
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case strings.HasPrefix(a, "localhost/") && len(a) > len("localhost/"):
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr(strings.TrimPrefix(a, "localhost/"))}
	}
	return nil
}

func annotationForSeccompField(f *corev1.SeccompProfile) string {
	switch f.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return "unconfined"
	case corev1.SeccompProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.SeccompProfileTypeLocalhost:
		if f.LocalhostProfile != nil {
			return "localhost/" + *f.LocalhostProfile
		}
	}
	return ""
}

func appArmorFieldForAnnotation(a string) *corev1.AppArmorProfile {
	switch {
	case a == "unconfined":
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case a == "runtime/default":
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case strings.HasPrefix(a, "localhost/") && len(a) > len("localhost/"):
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: ptr(strings.TrimPrefix(a, "localhost/"))}
	}
	return nil
}
