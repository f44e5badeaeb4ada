package engine

import (
	"fmt"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// groupRule is v1.24's group strategy, shared by the fsGroup,
// supplementalGroups and runAsGroup controls: RunAsAny, MayRunAs or MustRunAs
// over ID ranges.
type groupRule struct {
	// mustRunAs: a value is required and defaulted to the first range's min.
	mustRunAs bool
	// ranges restrict the values; nil for RunAsAny.
	ranges []policyv1.IDRange
}

// newGroupRule builds a group strategy as v1.24's factory did; MustRunAs and
// MayRunAs need at least one range.
func newGroupRule(rule string, ranges []policyv1.IDRange) (groupRule, error) {
	switch rule {
	case "RunAsAny":
		return groupRule{}, nil
	case "MayRunAs":
		if len(ranges) == 0 {
			return groupRule{}, fmt.Errorf("ranges must be supplied for MayRunAs")
		}
		return groupRule{ranges: ranges}, nil
	case "MustRunAs":
		if len(ranges) == 0 {
			return groupRule{}, fmt.Errorf("ranges must be supplied for MustRunAs")
		}
		return groupRule{mustRunAs: true, ranges: ranges}, nil
	}
	return groupRule{}, fmt.Errorf("unrecognized strategy type %s", rule)
}

// generate is the default value: the first range's min for MustRunAs, else none.
func (g groupRule) generate() *int64 {
	if !g.mustRunAs {
		return nil
	}
	v := g.ranges[0].Min
	return &v
}

// validate checks the given groups; fldPath and the messages are v1.24's.
func (g groupRule) validate(fldPath *field.Path, groups []int64, errs field.ErrorList) field.ErrorList {
	if g.ranges == nil {
		return errs
	}
	if g.mustRunAs && len(groups) == 0 {
		errs = append(errs, field.Invalid(fldPath, groups, "unable to validate empty groups against required ranges"))
	}
	for _, group := range groups {
		if !inRanges(group, g.ranges) {
			errs = append(errs, field.Invalid(fldPath, groups, fmt.Sprintf("group %d must be in the ranges: %v", group, g.ranges)))
		}
	}
	return errs
}

func inRanges(id int64, ranges []policyv1.IDRange) bool {
	for _, r := range ranges {
		if id >= r.Min && id <= r.Max {
			return true
		}
	}
	return false
}
