package engine

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// runAsUser is the runAsUser control, applied to each container's effective
// runAsUser and runAsNonRoot.
//   - MustRunAs: defaults the container's runAsUser to the first range's min;
//     requires the uid in the ranges.
//   - MustRunAsNonRoot: defaults the container's runAsNonRoot to true when
//     neither runAsNonRoot nor runAsUser is set (the kubelet then refuses an
//     image that runs as root); refuses runAsNonRoot false and uid 0.
//   - RunAsAny: nothing.
type runAsUser struct {
	rule   policyv1.RunAsUserStrategy
	ranges []policyv1.IDRange
}

func newRunAsUser(opts policyv1.RunAsUserStrategyOptions) (runAsUser, error) {
	switch opts.Rule {
	case policyv1.RunAsUserStrategyMustRunAs:
		if len(opts.Ranges) == 0 {
			return runAsUser{}, fmt.Errorf("MustRunAs requires at least one range")
		}
	case policyv1.RunAsUserStrategyMustRunAsNonRoot, policyv1.RunAsUserStrategyRunAsAny:
	default:
		//lint:ignore ST1005 v1.24's text.
		return runAsUser{}, fmt.Errorf("Unrecognized RunAsUser strategy type %s", opts.Rule)
	}
	return runAsUser{rule: opts.Rule, ranges: opts.Ranges}, nil
}

func (r runAsUser) defaultContainer(m *mutation, ref containerRef) {
	if r.rule == policyv1.RunAsUserStrategyMustRunAs && effectiveRunAsUser(m.pod, ref.c) == nil {
		m.setContainerInt64(ref, "runAsUser", func(sc *corev1.SecurityContext) **int64 { return &sc.RunAsUser }, &r.ranges[0].Min)
	}
	if r.rule == policyv1.RunAsUserStrategyMustRunAsNonRoot && effectiveRunAsNonRoot(m.pod, ref.c) == nil && effectiveRunAsUser(m.pod, ref.c) == nil {
		m.setContainerBool(ref, "runAsNonRoot", func(sc *corev1.SecurityContext) **bool { return &sc.RunAsNonRoot }, true)
	}
}

func (r runAsUser) checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	scPath := ref.sc
	uid := effectiveRunAsUser(pod, ref.c)
	switch r.rule {
	case policyv1.RunAsUserStrategyMustRunAs:
		if uid == nil {
			return append(errs, field.Required(scPath.Child("runAsUser"), ""))
		}
		if !inRanges(*uid, r.ranges) {
			errs = append(errs, field.Invalid(scPath.Child("runAsUser"), *uid, fmt.Sprintf("must be in the ranges: %v", r.ranges)))
		}
	case policyv1.RunAsUserStrategyMustRunAsNonRoot:
		nonRoot := effectiveRunAsNonRoot(pod, ref.c)
		switch {
		case nonRoot == nil && uid == nil:
			errs = append(errs, field.Required(scPath.Child("runAsNonRoot"), "must be true"))
		case nonRoot != nil && !*nonRoot:
			errs = append(errs, field.Invalid(scPath.Child("runAsNonRoot"), *nonRoot, "must be true"))
		case uid != nil && *uid == 0:
			errs = append(errs, field.Invalid(scPath.Child("runAsUser"), *uid, "running with the root UID is forbidden"))
		}
	}
	return errs
}
