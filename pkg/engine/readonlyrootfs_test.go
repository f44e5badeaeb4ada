package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestReadOnlyRootFilesystem(t *testing.T) {
	require := func(p *policyv1.PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true }
	runControlCases(t, []controlCase{
		{name: "not required"},
		{name: "defaulted to true", policy: require, wantChanges: []string{"spec.containers[0].securityContext.readOnlyRootFilesystem"},
			check: func(t *testing.T, p *corev1.Pod) {
				if v := p.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem; v == nil || !*v {
					t.Errorf("readOnlyRootFilesystem = %v", v)
				}
			}},
		{name: "false refused", policy: require, pod: func(p *corev1.Pod) { sc(&p.Spec.Containers[0]).ReadOnlyRootFilesystem = ptr(false) },
			wantErrors: []string{"spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must be set to true"}},
	})
	r := readOnlyRootFilesystem{required: true}
	pod := newPod()
	errs := r.checkContainer(pod, containerAt(&pod.Spec.Containers[0], containersPath, containerPaths, 0), nil)
	if len(errs) != 1 || errs[0].Error() != "spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: null: ReadOnlyRootFilesystem may not be nil and must be set to true" {
		t.Errorf("nil: got %v", errs)
	}
}
