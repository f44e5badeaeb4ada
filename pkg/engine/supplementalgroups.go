package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// supplementalGroups is the supplementalGroups control: MustRunAs defaults
// spec.securityContext.supplementalGroups to the first range's min; MustRunAs
// and MayRunAs require every group to be in the ranges.
type supplementalGroups struct{ rule groupRule }

var supplementalGroupsPath = podSCPath.Child("supplementalGroups")

func (s supplementalGroups) defaultPod(m *mutation) {
	if podSC(m.pod).SupplementalGroups != nil {
		return
	}
	if v := s.rule.generate(); v != nil {
		m.ensurePodSC().SupplementalGroups = []int64{*v}
		m.record(supplementalGroupsPath, []int64{*v})
	}
}

func (s supplementalGroups) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	return s.rule.validate(supplementalGroupsPath, podSC(pod).SupplementalGroups, errs)
}
