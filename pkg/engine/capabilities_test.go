package engine

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestCapabilities(t *testing.T) {
	caps := func(add, drop []corev1.Capability) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			sc(&p.Spec.Containers[0]).Capabilities = &corev1.Capabilities{Add: add, Drop: drop}
		}
	}
	policy := func(defaultAdd, requiredDrop, allowed []corev1.Capability) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) {
			p.Spec.DefaultAddCapabilities, p.Spec.RequiredDropCapabilities, p.Spec.AllowedCapabilities = defaultAdd, requiredDrop, allowed
		}
	}
	capsPath := "spec.containers[0].securityContext.capabilities"
	wantCaps := func(add, drop []corev1.Capability) func(*testing.T, *corev1.Pod) {
		return func(t *testing.T, p *corev1.Pod) {
			got := p.Spec.Containers[0].SecurityContext.Capabilities
			if !slices.Equal(got.Add, add) || !slices.Equal(got.Drop, drop) {
				t.Errorf("capabilities: got add %v drop %v, want add %v drop %v", got.Add, got.Drop, add, drop)
			}
		}
	}
	runControlCases(t, []controlCase{
		{name: "nothing required, nothing set", policy: policy(nil, nil, nil)},
		{name: "required drop defaulted", policy: policy(nil, []corev1.Capability{"ALL"}, nil),
			wantChanges: []string{capsPath}, check: wantCaps(nil, []corev1.Capability{"ALL"})},
		{name: "default add and container add, sorted", policy: policy([]corev1.Capability{"NET_BIND_SERVICE"}, []corev1.Capability{"NET_RAW"}, []corev1.Capability{"CHOWN"}),
			pod: caps([]corev1.Capability{"CHOWN"}, nil), wantChanges: []string{capsPath},
			check: wantCaps([]corev1.Capability{"CHOWN", "NET_BIND_SERVICE"}, []corev1.Capability{"NET_RAW"})},
		{name: "default add not added when container drops it", policy: policy([]corev1.Capability{"NET_BIND_SERVICE"}, nil, nil),
			pod: caps(nil, []corev1.Capability{"NET_BIND_SERVICE"})},
		{name: "already dropped: unchanged", policy: policy(nil, []corev1.Capability{"ALL"}, nil), pod: caps(nil, []corev1.Capability{"ALL"})},
		{name: "add not allowed", policy: policy(nil, nil, []corev1.Capability{"CHOWN"}), pod: caps([]corev1.Capability{"SYS_ADMIN", "CHOWN"}, nil),
			wantErrors: []string{capsPath + `.add: Invalid value: "SYS_ADMIN": capability may not be added`}},
		{name: "wildcard allows all adds", policy: policy(nil, nil, []corev1.Capability{"*"}), pod: caps([]corev1.Capability{"SYS_ADMIN"}, nil)},
		{name: "required drop missing is reported after defaulting only if removed", policy: policy(nil, []corev1.Capability{"NET_RAW", "SYS_ADMIN"}, nil),
			pod: caps(nil, []corev1.Capability{"NET_RAW"}), wantChanges: []string{capsPath},
			check: wantCaps(nil, []corev1.Capability{"NET_RAW", "SYS_ADMIN"})},
		{name: "case matters, as in v1.24", policy: policy(nil, []corev1.Capability{"ALL"}, nil), pod: caps(nil, []corev1.Capability{"all"}),
			wantChanges: []string{capsPath}, check: wantCaps(nil, []corev1.Capability{"ALL", "all"})},
	})
}

func TestCapabilitiesCheckMessages(t *testing.T) {
	// The defaults always satisfy the checks, so the check messages are
	// tested on the check alone, as the validate phase of a pod that some
	// other policy defaulted would meet them.
	c := newCapabilities(&policyv1.PodSecurityPolicySpec{RequiredDropCapabilities: []corev1.Capability{"ALL", "NET_RAW"}})
	pod := newPod()
	ref := containerAt(&pod.Spec.Containers[0], containersPath, containerPaths, 0)
	errs := c.checkContainer(pod, ref, nil)
	if len(errs) != 1 || errs[0].Error() != "spec.containers[0].securityContext.capabilities: Invalid value: null: required capabilities are not set on the securityContext" {
		t.Errorf("nil capabilities: got %v", errs)
	}
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"NET_RAW"}}}
	errs = c.checkContainer(pod, ref, nil)
	want := `spec.containers[0].securityContext.capabilities.drop: Invalid value: []core.Capability{"NET_RAW"}: ALL is required to be dropped but was not found`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("missing drop: got %v\nwant %s", errs, want)
	}
	pod.Spec.Containers[0].SecurityContext.Capabilities.Drop = nil
	errs = c.checkContainer(pod, ref, nil)
	if len(errs) != 2 || errs[0].Error() != `spec.containers[0].securityContext.capabilities.drop: Invalid value: []core.Capability(nil): ALL is required to be dropped but was not found` {
		t.Errorf("nil drop: got %v", errs)
	}
}
