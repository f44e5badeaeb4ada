package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// privilegeEscalation is the allowPrivilegeEscalation control. Defaults: an
// unset allowPrivilegeEscalation takes defaultAllowPrivilegeEscalation, else
// false when the policy does not allow escalation. Check: when the policy
// does not allow escalation, unset or true is refused.
type privilegeEscalation struct {
	defaultAllow *bool
	allow        bool
}

func (p privilegeEscalation) defaultContainer(m *mutation, ref containerRef) {
	set := func(sc *corev1.SecurityContext) **bool { return &sc.AllowPrivilegeEscalation }
	if p.defaultAllow != nil && containerSC(ref.c).AllowPrivilegeEscalation == nil {
		m.setContainerBool(ref, "allowPrivilegeEscalation", set, *p.defaultAllow)
	}
	if !p.allow && containerSC(ref.c).AllowPrivilegeEscalation == nil {
		m.setContainerBool(ref, "allowPrivilegeEscalation", set, false)
	}
}

func (p privilegeEscalation) checkContainer(_ *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	v := containerSC(ref.c).AllowPrivilegeEscalation
	if !p.allow && (v == nil || *v) {
		errs = append(errs, field.Invalid(ref.sc.Child("allowPrivilegeEscalation"), v,
			"Allowing privilege escalation for containers is not allowed"))
	}
	return errs
}
