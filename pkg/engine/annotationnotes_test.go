package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAnnotationFieldNote(t *testing.T) {
	const (
		podKey      = "pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"
		ctrKey      = "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]"
		initKey     = "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/init]"
		appArmorKey = "pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]"
	)
	unconfined := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	cases := []struct {
		name  string
		pod   func(*corev1.Pod)
		field string
		want  string
	}{
		{"pod field, pod annotation named", func(p *corev1.Pod) { psc(p).SeccompProfile = unconfined }, podKey,
			"the pod has no annotation seccomp.security.alpha.kubernetes.io/pod: the profile is its spec.securityContext.seccompProfile"},
		{"pod field, container annotation named", func(p *corev1.Pod) { psc(p).SeccompProfile = unconfined }, ctrKey,
			"the pod has no annotation container.seccomp.security.alpha.kubernetes.io/app: the profile is its spec.securityContext.seccompProfile"},
		{"container field", func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).SeccompProfile = unconfined }, ctrKey,
			"the pod has no annotation container.seccomp.security.alpha.kubernetes.io/app: the profile is its spec.containers[0].securityContext.seccompProfile"},
		{"init container field", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", SecurityContext: &corev1.SecurityContext{SeccompProfile: unconfined}}}
		}, initKey, "the pod has no annotation container.seccomp.security.alpha.kubernetes.io/init: the profile is its spec.initContainers[0].securityContext.seccompProfile"},
		{"pod annotation only", func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.SeccompPodAnnotationKey: "unconfined"} }, ctrKey,
			"the pod has no annotation container.seccomp.security.alpha.kubernetes.io/app: the profile is its annotation seccomp.security.alpha.kubernetes.io/pod, which has no effect since Kubernetes v1.27: set spec.securityContext.seccompProfile"},
		{"nothing set, pod", nil, podKey, "the pod sets no seccomp profile: set spec.securityContext.seccompProfile"},
		{"nothing set, container", nil, ctrKey,
			"the pod sets no seccomp profile for container app: set spec.securityContext.seccompProfile or spec.containers[0].securityContext.seccompProfile"},
		{"the pod has the annotation", func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.SeccompPodAnnotationKey: "unconfined"} }, podKey, ""},
		{"the pod has the container annotation", func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.SeccompContainerAnnotationKeyPrefix + "app": "unconfined"}
		}, ctrKey, ""},
		{"AppArmor unset", nil, appArmorKey,
			"the pod sets no AppArmor profile for container app: set spec.containers[0].securityContext.appArmorProfile or spec.securityContext.appArmorProfile"},
		{"AppArmor annotation", func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "app": "unconfined"}
		}, appArmorKey, ""},
		{"unknown container", nil, "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/gone]", ""},
		{"another field", nil, "spec.containers[0].securityContext.privileged", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := newPod()
			if tc.pod != nil {
				tc.pod(pod)
			}
			if got := AnnotationFieldNote(pod, tc.field); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
