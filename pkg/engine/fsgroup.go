package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// fsGroup is the fsGroup control: MustRunAs defaults
// spec.securityContext.fsGroup to the first range's min; MustRunAs and
// MayRunAs require it to be in the ranges (MustRunAs requires it set).
type fsGroup struct{ rule groupRule }

var fsGroupPath = podSCPath.Child("fsGroup")

func (f fsGroup) defaultPod(m *mutation) {
	if podSC(m.pod).FSGroup != nil {
		return
	}
	if v := f.rule.generate(); v != nil {
		m.ensurePodSC().FSGroup = v
		m.record(fsGroupPath, *v)
	}
}

func (f fsGroup) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	var groups []int64
	if v := podSC(pod).FSGroup; v != nil {
		groups = []int64{*v}
	}
	return f.rule.validate(fsGroupPath, groups, errs)
}
