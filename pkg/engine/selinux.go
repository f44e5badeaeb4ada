package engine

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// seLinux is the seLinux control. MustRunAs defaults the pod's
// seLinuxOptions (and a container's, if it has no effective options) to the
// policy's, and requires the effective options of the pod and every
// container to match them (levels compare with categories in any order).
// RunAsAny does nothing.
type seLinux struct {
	mustRunAs bool
	opts      corev1.SELinuxOptions
}

func newSELinux(opts policyv1.SELinuxStrategyOptions) (seLinux, error) {
	switch opts.Rule {
	case policyv1.SELinuxStrategyMustRunAs:
		if opts.SELinuxOptions == nil {
			return seLinux{}, fmt.Errorf("MustRunAs requires SELinuxOptions")
		}
		return seLinux{mustRunAs: true, opts: *opts.SELinuxOptions}, nil
	case policyv1.SELinuxStrategyRunAsAny:
		return seLinux{}, nil
	}
	//lint:ignore ST1005 v1.24's text.
	return seLinux{}, fmt.Errorf("Unrecognized SELinuxContext strategy type %s", opts.Rule)
}

var podSELinuxPath = podSCPath.Child("seLinuxOptions")

func (s seLinux) defaultPod(m *mutation) {
	if !s.mustRunAs || podSC(m.pod).SELinuxOptions != nil {
		return
	}
	opts := s.opts
	m.ensurePodSC().SELinuxOptions = &opts
	m.record(podSELinuxPath, opts)
}

func (s seLinux) defaultContainer(m *mutation, ref containerRef) {
	if !s.mustRunAs || effectiveSELinuxOptions(m.pod, ref.c) != nil {
		return
	}
	opts := s.opts
	ensureContainerSC(ref.c).SELinuxOptions = &opts
	m.record(ref.sc.Child("seLinuxOptions"), opts)
}

func (s seLinux) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	return s.validate(podSELinuxPath, podSC(pod).SELinuxOptions, errs)
}

func (s seLinux) checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	return s.validate(ref.sc.Child("seLinuxOptions"), effectiveSELinuxOptions(pod, ref.c), errs)
}

func (s seLinux) validate(fldPath *field.Path, got *corev1.SELinuxOptions, errs field.ErrorList) field.ErrorList {
	if !s.mustRunAs {
		return errs
	}
	if got == nil {
		return append(errs, field.Required(fldPath, ""))
	}
	if !equalSELinuxLevels(s.opts.Level, got.Level) {
		errs = append(errs, field.Invalid(fldPath.Child("level"), got.Level, "must be "+s.opts.Level))
	}
	if got.Role != s.opts.Role {
		errs = append(errs, field.Invalid(fldPath.Child("role"), got.Role, "must be "+s.opts.Role))
	}
	if got.Type != s.opts.Type {
		errs = append(errs, field.Invalid(fldPath.Child("type"), got.Type, "must be "+s.opts.Type))
	}
	if got.User != s.opts.User {
		errs = append(errs, field.Invalid(fldPath.Child("user"), got.User, "must be "+s.opts.User))
	}
	return errs
}

// equalSELinuxLevels compares levels "sX:cA,cB" with the categories in any order.
func equalSELinuxLevels(expected, actual string) bool {
	if expected == actual {
		return true
	}
	expSens, expCats, ok1 := strings.Cut(expected, ":")
	actSens, actCats, ok2 := strings.Cut(actual, ":")
	if !ok1 || !ok2 || expSens != actSens {
		return false
	}
	e, a := strings.Split(expCats, ","), strings.Split(actCats, ",")
	slices.Sort(e)
	slices.Sort(a)
	return slices.Equal(e, a)
}
