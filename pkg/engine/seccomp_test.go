package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestSeccomp(t *testing.T) {
	annotations := func(kv ...string) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Annotations = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	allowed, def := policyv1.SeccompAllowedProfilesAnnotationKey, policyv1.SeccompDefaultProfileAnnotationKey
	podAnn := func(kv ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Annotations = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	const podKey = "seccomp.security.alpha.kubernetes.io/pod"
	runControlCases(t, []controlCase{
		{name: "no annotations: unset is fine", policy: annotations()},
		{name: "no annotations: set is refused", policy: annotations(), pod: podAnn(podKey, "runtime/default"), wantErrors: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: seccomp may not be set",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: seccomp may not be set",
		}},
		{name: "default written as pod annotation", policy: annotations(allowed, "runtime/default", def, "runtime/default"),
			wantChanges: []string{"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"}},
		{name: "docker/default allows runtime/default", policy: annotations(allowed, "docker/default"), pod: podAnn(podKey, "runtime/default")},
		{name: "not allowed", policy: annotations(allowed, "runtime/default"), pod: podAnn(podKey, "unconfined"), wantErrors: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default",
		}},
		{name: "unset refused when a list exists", policy: annotations(allowed, "runtime/default"), wantErrors: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default",
		}},
		{name: "pod field translated and copied to the annotation", policy: annotations(allowed, "runtime/default"),
			pod: func(p *corev1.Pod) {
				psc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
			}, wantChanges: []string{"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"}},
		{name: "container field beats pod annotation", policy: annotations(allowed, "runtime/default"), pod: func(p *corev1.Pod) {
			podAnn(podKey, "runtime/default")(p)
			sc(&p.Spec.Containers[0]).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("x.json")}
		}, wantErrors: []string{
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: localhost/x.json is not an allowed seccomp profile. Valid values are runtime/default",
		}},
		{name: "wildcard", policy: annotations(allowed, "*"), pod: podAnn(podKey, "localhost/anything")},
	})
}
