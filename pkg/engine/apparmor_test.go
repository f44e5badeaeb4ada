package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestAppArmor(t *testing.T) {
	annotations := func(kv ...string) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Annotations = map[string]string{policyv1.SeccompAllowedProfilesAnnotationKey: "*"}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	allowed, def := policyv1.AppArmorAllowedProfilesAnnotationKey, policyv1.AppArmorDefaultProfileAnnotationKey
	const key = "container.apparmor.security.beta.kubernetes.io/app"
	profile := func(v string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Annotations = map[string]string{key: v} }
	}
	runControlCases(t, []controlCase{
		{name: "unrestricted", pod: profile("unconfined")},
		{name: "default set", policy: annotations(allowed, "runtime/default", def, "runtime/default"), wantChanges: []string{"metadata.annotations[" + key + "]"}},
		{name: "empty annotation gets the default", policy: annotations(def, "runtime/default"), pod: profile(""), wantChanges: []string{"metadata.annotations[" + key + "]"}},
		{name: "must be set", policy: annotations(allowed, "runtime/default"), wantErrors: []string{
			"pod.metadata.annotations[" + key + "]: Forbidden: AppArmor profile must be set"}},
		{name: "not allowed", policy: annotations(allowed, "runtime/default,localhost/a"), pod: profile("unconfined"), wantErrors: []string{
			"pod.metadata.annotations[" + key + `]: Forbidden: unconfined is not an allowed profile. Allowed values: "runtime/default,localhost/a"`}},
		{name: "allowed", policy: annotations(allowed, "runtime/default,localhost/a"), pod: profile("localhost/a")},
	})
}
