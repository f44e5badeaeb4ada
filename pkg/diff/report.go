package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/sarif"
	"sigs.k8s.io/yaml"
)

// headings are the text report's name of each kind.
var headings = map[Kind]string{
	NewlyDenied:       "NEWLY DENIED",
	NewlyAdmitted:     "NEWLY ADMITTED",
	DifferentPolicy:   "DIFFERENT POLICY",
	DifferentDefaults: "DIFFERENT DEFAULTS",
}

// WriteText writes one block per changed workload: the kind of change, the
// verdict before and after as `psp check` words it (the policy and its
// defaults, or the denial with each policy's reasons), and for a workload
// admitted by both the defaults that differ; then the summary.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, d := range r.Differences {
		fmt.Fprintf(&b, "%s: %s (created by %s)\n", d.After.Workload.Source, d.After.Workload, d.After.Requester.Name)
		fmt.Fprintf(&b, "  %s\n", headings[d.Kind])
		if d.Before.Admitted && d.After.Admitted {
			// The defaults that differ say it all; the lists are in JSON.
			writeAdmitted(&b, "before", d.Before)
			writeAdmitted(&b, "after", d.After)
		} else {
			writeVerdict(&b, "before", d.Before)
			writeVerdict(&b, "after", d.After)
		}
		if len(d.Defaults) > 0 {
			b.WriteString("  defaults that differ (before -> after):\n")
			for _, c := range d.Defaults {
				fmt.Fprintf(&b, "    %s: %s -> %s\n", c.Field, formatValue(c.Before), formatValue(c.After))
			}
		}
		b.WriteByte('\n')
	}
	b.WriteString(Summary(r))
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the report's last line: how many workloads change, by kind.
func Summary(r Report) string {
	kinds := Kinds()
	counts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		counts = append(counts, fmt.Sprintf("%d %s", r.Count(k), strings.ToLower(headings[k])))
	}
	verb := "change"
	if len(r.Differences) == 1 {
		verb = "changes"
	}
	return fmt.Sprintf("%s of %d %s: %s; %d unchanged",
		plural.Count(len(r.Differences), "workload"), r.Workloads, verb, strings.Join(counts, ", "), r.Workloads-len(r.Differences))
}

// writeVerdict writes check's verdict for one side, its first line after
// the label and the rest indented under it.
func writeVerdict(b *strings.Builder, label string, r check.Verdict) {
	var v strings.Builder
	check.WriteVerdict(&v, r)
	lines := strings.SplitAfter(strings.TrimSuffix(v.String(), "\n"), "\n")
	fmt.Fprintf(b, "  %-7s %s", label+":", strings.TrimPrefix(lines[0], "  "))
	for _, l := range lines[1:] {
		b.WriteString("  " + l)
	}
	b.WriteByte('\n')
}

// writeAdmitted writes one line for a side that admits: the policy and how
// many fields it sets.
func writeAdmitted(b *strings.Builder, label string, r check.Verdict) {
	sets := "unchanged"
	if len(r.Changes) > 0 {
		sets = "which sets " + plural.Count(len(r.Changes), "field")
	}
	fmt.Fprintf(b, "  %-7s ADMITTED by policy %q, %s\n", label+":", r.Policy, sets)
}

// formatValue writes a default's value as JSON, "(not set)" for none.
func formatValue(v any) string {
	if v == nil {
		return "(not set)"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// ReportKind is the machine report's kind, in the versioned schema of the
// other commands' reports (report.kube-psp.io/v1alpha1; docs/output.md).
const ReportKind = v1alpha1.KindDiffReport

// verdict is one side's check result, with the keys of a check report's
// item; a denial's explanation only for a denial.
func verdict(r check.Verdict) v1alpha1.DiffVerdict {
	o := r.Object()
	v := v1alpha1.DiffVerdict{Admitted: o.Admitted, Invalid: o.Invalid, Policy: o.Policy, Changes: o.Changes, Message: o.Message}
	if !r.Admitted && !r.Invalid {
		v.DeniedIn, v.Notes, v.Policies, v.Grant, v.PodFix = o.DeniedIn, o.Notes, o.Policies, o.Grant, o.PodFix
	}
	return v
}

func machineReport(r Report) v1alpha1.DiffReport {
	out := v1alpha1.DiffReport{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: ReportKind},
		BeforeSet: nonNil(r.Before), AfterSet: nonNil(r.After), Items: []v1alpha1.DiffItem{},
		Summary: v1alpha1.DiffSummary{Workloads: r.Workloads, Changed: len(r.Differences), NewlyDenied: r.Count(NewlyDenied), NewlyAdmitted: r.Count(NewlyAdmitted),
			DifferentPolicy: r.Count(DifferentPolicy), DifferentDefaults: r.Count(DifferentDefaults), Unchanged: r.Workloads - len(r.Differences)}}
	for _, d := range r.Differences {
		wl := d.After.Workload
		var defaults []v1alpha1.DefaultChange
		for _, c := range d.Defaults {
			defaults = append(defaults, v1alpha1.DefaultChange(c))
		}
		out.Items = append(out.Items, v1alpha1.DiffItem{
			Source: check.ReportSource(wl.Source),
			Kind:   wl.Kind, Namespace: wl.Namespace, Name: wl.Name, Requester: d.After.Requester.Name,
			Change: string(d.Kind), Before: verdict(d.Before), After: verdict(d.After), Defaults: defaults})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteJSON writes the report as one versioned object (apiVersion
// report.kube-psp.io/v1alpha1, kind DiffReport): the sets compared, one
// item per changed workload with both verdicts, and the counts.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<stdin>" as it is
	return enc.Encode(machineReport(r))
}

// WriteYAML writes the report of WriteJSON as YAML, keys sorted as kubectl
// -o yaml sorts them.
func WriteYAML(w io.Writer, r Report) error {
	data, err := yaml.Marshal(machineReport(r))
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// rules are the SARIF rules, one per kind, with its level: a newly denied
// workload is an error, the others are for review.
var rules = []struct {
	kind  Kind
	id    string
	level string
	text  string
}{
	{NewlyDenied, "newly-denied", "error", "the change of policies or RBAC denies a workload that was admitted"},
	{NewlyAdmitted, "newly-admitted", "note", "the change of policies or RBAC admits a workload that was denied"},
	{DifferentPolicy, "different-policy", "warning", "the change of policies or RBAC admits a workload by another policy"},
	{DifferentDefaults, "different-defaults", "warning", "the change of policies or RBAC changes the defaults the admitting policy sets"},
}

// WriteSARIF writes one SARIF result per changed workload, at its document
// (or, for a cluster's workload, as a logical location).
func WriteSARIF(w io.Writer, r Report) error {
	var sr []sarif.Rule
	for _, rule := range rules {
		sr = append(sr, sarif.Rule{ID: rule.id, Summary: rule.text})
	}
	var out []sarif.Result
	for _, d := range r.Differences {
		for _, rule := range rules {
			if rule.kind != d.Kind {
				continue
			}
			res := sarif.Result{RuleID: rule.id, Level: rule.level, Message: sarifMessage(d)}
			if src := d.After.Workload.Source; src.Object != "" {
				res.Object = src.Object
			} else {
				res.File, res.Line = src.File, src.Line
			}
			out = append(out, res)
		}
	}
	return sarif.Write(w, sr, out)
}

func sarifMessage(d Difference) string {
	wl := fmt.Sprintf("%s (created by %s)", d.After.Workload, d.After.Requester.Name)
	switch d.Kind {
	case NewlyDenied:
		return fmt.Sprintf("%s was admitted by policy %q and would be %s", wl, d.Before.Policy, refusal(d.After))
	case NewlyAdmitted:
		return fmt.Sprintf("%s was %s and would be admitted by policy %q", wl, refusal(d.Before), d.After.Policy)
	}
	var fields []string
	for _, c := range d.Defaults {
		fields = append(fields, fmt.Sprintf("%s: %s -> %s", c.Field, formatValue(c.Before), formatValue(c.After)))
	}
	msg := fmt.Sprintf("%s was admitted by policy %q and would be admitted by policy %q", wl, d.Before.Policy, d.After.Policy)
	if len(fields) > 0 {
		msg += "; defaults that differ: " + strings.Join(fields, "; ")
	}
	return msg
}

// refusal says how a result that is not admitted is refused.
func refusal(r check.Verdict) string {
	if r.Invalid {
		return fmt.Sprintf("admitted by policy %q, then refused by the apiserver's validation: %s", r.Policy, r.Message)
	}
	return "denied: " + check.DenialSummary(r)
}
