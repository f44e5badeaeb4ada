package engine

import (
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// capabilities is the capabilities control. Defaults: defaultAddCapabilities
// are added unless the container drops them, requiredDropCapabilities are
// dropped; the result is sorted, as v1.24 built it from sets. Checks: added
// capabilities must be default-added or allowed ("*" allows all and skips the
// drop check); every required drop must be dropped.
type capabilities struct {
	defaultAdd   []corev1.Capability
	requiredDrop []corev1.Capability
	allowed      map[corev1.Capability]bool
	allowAll     bool
}

func newCapabilities(spec *policyv1.PodSecurityPolicySpec) capabilities {
	c := capabilities{
		defaultAdd:   spec.DefaultAddCapabilities,
		requiredDrop: spec.RequiredDropCapabilities,
		allowed:      make(map[corev1.Capability]bool, len(spec.AllowedCapabilities)),
	}
	for _, a := range spec.AllowedCapabilities {
		c.allowed[a] = true
	}
	c.allowAll = c.allowed[policyv1.AllowAllCapabilities]
	return c
}

func (c capabilities) defaultContainer(m *mutation, ref containerRef) {
	var current *corev1.Capabilities
	if ref.c.SecurityContext != nil {
		current = ref.c.SecurityContext.Capabilities
	}
	generated := c.generate(current)
	if reflect.DeepEqual(current, generated) {
		return
	}
	ensureContainerSC(ref.c).Capabilities = generated
	m.record(ref.sc.Child("capabilities"), *generated)
}

// generate returns the container's capabilities after the defaults: current
// itself when nothing changes.
func (c capabilities) generate(current *corev1.Capabilities) *corev1.Capabilities {
	var containerAdd, containerDrop []corev1.Capability
	if current != nil {
		containerAdd, containerDrop = current.Add, current.Drop
	}
	add := capabilitySet(containerAdd)
	drop := capabilitySet(containerDrop)
	addedLen, droppedLen := len(add), len(drop)
	for _, d := range c.defaultAdd {
		if !slices.Contains(containerDrop, d) {
			add[d] = true
		}
	}
	for _, d := range c.requiredDrop {
		drop[d] = true
	}
	if len(add) == addedLen && len(drop) == droppedLen {
		return current
	}
	return &corev1.Capabilities{Add: sortedCapabilities(add), Drop: sortedCapabilities(drop)}
}

func (c capabilities) checkContainer(_ *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	fldPath := ref.sc.Child("capabilities")
	caps := containerSC(ref.c).Capabilities
	if caps == nil {
		if len(c.defaultAdd) == 0 && len(c.requiredDrop) == 0 {
			return errs
		}
		return append(errs, field.Invalid(fldPath, caps, "required capabilities are not set on the securityContext"))
	}
	if c.allowAll {
		return errs
	}
	for _, a := range caps.Add {
		if !slices.Contains(c.defaultAdd, a) && !c.allowed[a] {
			errs = append(errs, field.Invalid(fldPath.Child("add"), string(a), "capability may not be added"))
		}
	}
	for _, d := range c.requiredDrop {
		if !slices.Contains(caps.Drop, d) {
			errs = append(errs, field.Invalid(fldPath.Child("drop"), field.InternalStringSlice("core.Capability", caps.Drop),
				string(d)+" is required to be dropped but was not found"))
		}
	}
	return errs
}

func capabilitySet(caps []corev1.Capability) map[corev1.Capability]bool {
	set := make(map[corev1.Capability]bool, len(caps))
	for _, c := range caps {
		set[c] = true
	}
	return set
}

// sortedCapabilities lists a set sorted, nil when empty (as v1.24).
func sortedCapabilities(set map[corev1.Capability]bool) []corev1.Capability {
	if len(set) == 0 {
		return nil
	}
	list := make([]corev1.Capability, 0, len(set))
	for c := range set {
		list = append(list, c)
	}
	slices.Sort(list)
	return list
}
