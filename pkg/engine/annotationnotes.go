package engine

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// AnnotationFieldNote explains an error that v1.24 reported at a seccomp or
// AppArmor annotation ("pod.metadata.annotations[KEY]") which pod, the pod
// as its author wrote it, does not have: since v1.27 the apiserver no
// longer copies seccompProfile fields into annotations, so such a message
// names something the author never wrote. The note names the field the
// profile came from, or the fields to set when there is none, e.g. "the pod
// has no annotation seccomp.security.alpha.kubernetes.io/pod: the profile
// is its spec.securityContext.seccompProfile". It is "" for any other
// error field and when pod has the annotation.
func AnnotationFieldNote(pod *corev1.Pod, errorField string) string {
	key, ok := strings.CutPrefix(errorField, "pod.metadata.annotations[")
	if !ok || !strings.HasSuffix(key, "]") {
		return ""
	}
	key = strings.TrimSuffix(key, "]")
	switch {
	case key == corev1.SeccompPodAnnotationKey:
		return seccompPodNote(pod)
	case strings.HasPrefix(key, corev1.SeccompContainerAnnotationKeyPrefix):
		if ref, ok := containerNamed(pod, strings.TrimPrefix(key, corev1.SeccompContainerAnnotationKeyPrefix)); ok {
			return seccompContainerNote(pod, ref)
		}
	case strings.HasPrefix(key, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix):
		if ref, ok := containerNamed(pod, strings.TrimPrefix(key, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)); ok {
			return appArmorNote(pod, ref)
		}
	}
	return ""
}

// containerNamed is the container of pod with the name, in any list.
func containerNamed(pod *corev1.Pod, name string) (containerRef, bool) {
	var found containerRef
	ok := false
	visitContainers(&pod.Spec, func(ref containerRef) {
		if !ok && ref.c.Name == name {
			found, ok = ref, true
		}
	})
	return found, ok
}
