package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/apis/policy/validation"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// PolicySet is an immutable, compiled set of policies, sorted by name.
// Build it once per load and share it between requests; to change policies,
// build a new set and swap it in.
type PolicySet struct {
	policies  []*policyv1.PodSecurityPolicy
	providers []*provider
	index     map[string]int
	unusable  []UnusablePolicy
}

// UnusablePolicy is a policy the v1.24 apiserver accepted but its admission
// plugin could not use (for example MustRunAs without ranges) and skipped.
type UnusablePolicy struct {
	Name   string
	Reason string
}

// DefaultAndValidatePolicy is the one place a policy is defaulted and
// validated. It applies the v1.24 apiserver's defaults to p in place
// (allowPrivilegeEscalation true when unset: policyv1.SetDefaults) and
// returns every problem v1.24's validation found before storing it, in
// v1.24's order (validation.ValidatePodSecurityPolicy, which reads
// p.APIVersion: a legacy policy/v1beta1 or extensions/v1beta1 policy may
// not use kube-psp's additions). p is fit for a PolicySet when the list is
// empty. The loader, the cluster source, the CRD's validating webhook
// (through loader.DecodePolicy) and convert call it.
func DefaultAndValidatePolicy(p *policyv1.PodSecurityPolicy) field.ErrorList {
	policyv1.SetDefaults(p)
	return validation.ValidatePodSecurityPolicy(p)
}

// NewPolicySet defaults, validates (DefaultAndValidatePolicy) and compiles
// policies; names must be unique. If any policy is invalid the whole set is
// refused, with every problem named: a set is never half applied. The
// input policies are not modified. Policies that passed
// DefaultAndValidatePolicy already (the loader's, the cluster source's) are
// compiled with NewPolicySetFromValid instead, so that each is validated
// once per load.
func NewPolicySet(policies []*policyv1.PodSecurityPolicy) (*PolicySet, error) {
	valid := make([]*policyv1.PodSecurityPolicy, 0, len(policies))
	var problems []error
	for _, in := range policies {
		if in == nil {
			continue
		}
		p := in.DeepCopy()
		if errs := DefaultAndValidatePolicy(p); len(errs) > 0 {
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			problems = append(problems, fmt.Errorf("PodSecurityPolicy %q is invalid: %s", p.Name, strings.Join(msgs, ", ")))
			continue
		}
		valid = append(valid, p)
	}
	set, err := NewPolicySetFromValid(valid)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return set, nil
}

// NewPolicySetFromValid compiles policies that DefaultAndValidatePolicy
// accepted, unchanged since, without validating them again; names must be
// unique, or the set is refused naming every repeated one. The set keeps
// the policies (sorted by name) and shares them with the caller, who must
// not modify them afterwards.
func NewPolicySetFromValid(policies []*policyv1.PodSecurityPolicy) (*PolicySet, error) {
	set := &PolicySet{index: make(map[string]int, len(policies))}
	var problems []error
	seen := make(map[string]bool, len(policies))
	for _, p := range policies {
		if p == nil {
			continue
		}
		if seen[p.Name] {
			problems = append(problems, fmt.Errorf("PodSecurityPolicy %q is defined more than once", p.Name))
			continue
		}
		seen[p.Name] = true
		set.policies = append(set.policies, p)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	slices.SortFunc(set.policies, func(a, b *policyv1.PodSecurityPolicy) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range set.policies {
		prov, err := newProvider(p)
		if err != nil {
			set.unusable = append(set.unusable, UnusablePolicy{Name: p.Name, Reason: err.Error()})
			continue
		}
		set.index[p.Name] = len(set.providers)
		set.providers = append(set.providers, prov)
	}
	return set, nil
}

// Policies returns the valid policies, with defaults applied, sorted by name.
// Callers must not modify them.
func (s *PolicySet) Policies() []*policyv1.PodSecurityPolicy { return s.policies }

// Unusable lists the policies that are valid but that admission skips.
func (s *PolicySet) Unusable() []UnusablePolicy { return s.unusable }

// Len is the number of usable policies.
func (s *PolicySet) Len() int { return len(s.providers) }
