package engine

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// runtimeClass is the runtimeClass control: defaultRuntimeClassName is set on
// a pod without one; a set runtimeClassName must be allowed ("*" allows any).
// A policy without runtimeClass leaves the field alone.
type runtimeClass struct {
	opts *policyv1.RuntimeClassStrategyOptions
}

var runtimeClassNamePath = specPath.Child("runtimeClassName")

func (r runtimeClass) defaultPod(m *mutation) {
	if r.opts == nil || m.pod.Spec.RuntimeClassName != nil || r.opts.DefaultRuntimeClassName == nil {
		return
	}
	name := *r.opts.DefaultRuntimeClassName
	m.pod.Spec.RuntimeClassName = &name
	m.record(runtimeClassNamePath, name)
}

func (r runtimeClass) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	if r.opts == nil || pod.Spec.RuntimeClassName == nil {
		return errs
	}
	name := *pod.Spec.RuntimeClassName
	if slices.Contains(r.opts.AllowedRuntimeClassNames, policyv1.AllowAllRuntimeClassNames) || slices.Contains(r.opts.AllowedRuntimeClassNames, name) {
		return errs
	}
	return append(errs, field.Invalid(runtimeClassNamePath, name, ""))
}
