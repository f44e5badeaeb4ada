// Package diff says what a change of policies or RBAC does to workloads:
// every workload is checked against the set before and the set after (the
// same check as `psp check` and `psp audit`: pkg/check, through the engine
// and the offline pod path), and the workloads whose outcome differs are
// reported with both verdicts. It decides nothing itself: no PSP meaning
// lives here, only the comparison of two check results.
package diff

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/manifest"
)

// Kind is the kind of change a workload's outcome undergoes.
type Kind string

// The kinds of change, in the order reports count them.
const (
	// NewlyDenied: admitted before; denied, or refused by the apiserver's
	// validation (check.Verdict.Invalid), after. Its pods stop being created.
	NewlyDenied Kind = "NewlyDenied"
	// NewlyAdmitted: denied or invalid before, admitted after.
	NewlyAdmitted Kind = "NewlyAdmitted"
	// DifferentPolicy: admitted by both, by policies of different names.
	DifferentPolicy Kind = "DifferentPolicy"
	// DifferentDefaults: admitted by a policy of the same name, which sets
	// different fields or values.
	DifferentDefaults Kind = "DifferentDefaults"
)

// Kinds returns every Kind, in report order.
func Kinds() []Kind {
	return []Kind{NewlyDenied, NewlyAdmitted, DifferentPolicy, DifferentDefaults}
}

// Set is one set of policies and RBAC to decide with.
type Set struct {
	// Name says where the set comes from in messages: its paths, joined,
	// or "cluster" or "none".
	Name string
	// Sources are the same, one element per path, for the machine report.
	Sources    []string
	Policies   *engine.PolicySet
	Authorizer authorizer.Authorizer
}

// Options tune a diff.
type Options struct {
	// User creates bare Pods and PodTemplates (check.Options.User).
	User authorizer.UserInfo
	// Progress, when set, is called as workloads are checked, with done
	// counting each workload half once checked against one set and whole
	// once against both; it may be called from several goroutines.
	Progress func(done, total int)
}

// Difference is one workload whose outcome changes.
type Difference struct {
	Kind   Kind
	Before check.Verdict
	After  check.Verdict
	// Defaults are the fields whose admitting policy's default differs,
	// when the workload is admitted before and after; in the order of the
	// before policy's changes, then the after policy's.
	Defaults []FieldChange
}

// FieldChange is one field that the admitting policy sets differently.
type FieldChange struct {
	// Field is the path in the v1 pod (engine.Change.Field).
	Field string `json:"field"`
	// Before and After are the values set; nil when the policy does not
	// set the field (it keeps the value the pod has).
	Before any `json:"before"`
	After  any `json:"after"`
}

// Report is the outcome of a diff.
type Report struct {
	// Before and After are the sets compared (Set.Sources).
	Before, After []string
	// Workloads is how many workloads were compared.
	Workloads int
	// Differences are the workloads whose outcome changes, in the input's order.
	Differences []Difference
}

// Count is how many differences are of kind k.
func (r Report) Count(k Kind) int {
	n := 0
	for _, d := range r.Differences {
		if d.Kind == k {
			n++
		}
	}
	return n
}

// Run checks every workload against before and after and compares the
// results. Errors are check.Run's: a malformed request to the engine.
func Run(ctx context.Context, before, after Set, workloads []manifest.Workload, opts Options) (Report, error) {
	progress := func(offset int) func(done, total int) {
		if opts.Progress == nil {
			return nil
		}
		return func(done, total int) { opts.Progress((offset+done)/2, total) }
	}
	b, err := check.Run(ctx, before.Policies, before.Authorizer, workloads, check.Options{User: opts.User, Progress: progress(0)})
	if err != nil {
		return Report{}, fmt.Errorf("deciding with the set before (%s): %w", before.Name, err)
	}
	a, err := check.Run(ctx, after.Policies, after.Authorizer, workloads, check.Options{User: opts.User, Progress: progress(len(workloads))})
	if err != nil {
		return Report{}, fmt.Errorf("deciding with the set after (%s): %w", after.Name, err)
	}
	r := Compare(b, a)
	r.Before, r.After = before.Sources, after.Sources
	return r, nil
}

// Compare pairs before[i] with after[i], the same workload checked against
// two sets, and returns those whose outcome changes. A workload denied
// before and after is unchanged, whatever the two messages say.
func Compare(before, after []check.Verdict) Report {
	r := Report{Workloads: len(before)}
	for i := range min(len(before), len(after)) {
		d := Difference{Before: before[i], After: after[i]}
		switch b, a := before[i], after[i]; {
		case b.Admitted && !a.Admitted:
			d.Kind = NewlyDenied
		case !b.Admitted && a.Admitted:
			d.Kind = NewlyAdmitted
		case !b.Admitted:
			continue
		default:
			d.Defaults = fieldChanges(b.Changes, a.Changes)
			switch {
			case b.Policy != a.Policy:
				d.Kind = DifferentPolicy
			case len(d.Defaults) > 0:
				d.Kind = DifferentDefaults
			default:
				continue
			}
		}
		r.Differences = append(r.Differences, d)
	}
	return r
}

// fieldChanges are the fields that before and after set to different
// values, or that only one of them sets.
func fieldChanges(before, after []engine.Change) []FieldChange {
	afterValue := map[string]any{}
	for _, c := range after {
		afterValue[c.Field] = c.Value
	}
	var out []FieldChange
	seen := map[string]bool{}
	for _, c := range before {
		seen[c.Field] = true
		if v, ok := afterValue[c.Field]; !ok || !sameValue(c.Value, v) {
			out = append(out, FieldChange{Field: c.Field, Before: c.Value, After: v})
		}
	}
	for _, c := range after {
		if !seen[c.Field] {
			out = append(out, FieldChange{Field: c.Field, After: c.Value})
		}
	}
	return out
}

// sameValue compares two changes' values as they are reported: by their
// JSON form, so that a pointer and the value it points to, or two slices
// of equal elements, are the same.
func sameValue(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return string(ja) == string(jb)
}
