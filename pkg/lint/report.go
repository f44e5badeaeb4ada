package lint

import (
	"fmt"
	"io"
	"strings"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/report"
	"github.com/kube-psp/kube-psp/pkg/sarif"
)

// WriteText writes one block per finding, most severe first as found.
func WriteText(w io.Writer, findings []Finding) error {
	var b strings.Builder
	counts := map[Severity]int{}
	for _, f := range findings {
		counts[f.Severity]++
		loc := f.Source.String()
		if f.Source.File == "" {
			loc = "(built in)"
		}
		fmt.Fprintf(&b, "%s [%s] %s: %s: %s\n  fix: %s\n", strings.ToUpper(f.Severity.String()), f.Rule, loc, f.Object, f.Message, f.Fix)
	}
	fmt.Fprintf(&b, "%s: %s, %s, %d info\n", plural.Count(len(findings), "finding"), plural.Count(counts[Error], "error"), plural.Count(counts[Warning], "warning"), counts[Info])
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteReport writes the findings as a v1alpha1.LintReport in format json
// or yaml.
func WriteReport(w io.Writer, format string, findings []Finding) error {
	l, err := report.NewListWriter(w, format, v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindLintReport})
	if err != nil {
		return err
	}
	var sum v1alpha1.LintSummary
	for _, f := range findings {
		sum.Findings++
		switch f.Severity {
		case Error:
			sum.Errors++
		case Warning:
			sum.Warnings++
		case Info:
			sum.Info++
		}
		src := v1alpha1.Source{File: f.Source.File, Document: f.Source.Document, Line: f.Source.Line, Item: f.Source.Item}
		if err := l.Item(v1alpha1.Finding{Rule: f.Rule, Severity: f.Severity.String(), Object: f.Object, Source: src, Message: f.Message, Fix: f.Fix}); err != nil {
			return err
		}
	}
	return l.Close(report.Field{Key: "summary", Value: sum})
}

// WriteSARIF writes the findings as SARIF 2.1.0.
func WriteSARIF(w io.Writer, findings []Finding) error {
	rules := make([]sarif.Rule, len(Rules))
	for i, r := range Rules {
		rules[i] = sarif.Rule{ID: r.ID, Summary: r.Summary}
	}
	results := make([]sarif.Result, len(findings))
	for i, f := range findings {
		level := map[Severity]string{Error: "error", Warning: "warning", Info: "note"}[f.Severity]
		results[i] = sarif.Result{RuleID: f.Rule, Level: level, Message: f.Object + ": " + f.Message + ". Fix: " + f.Fix, File: f.Source.File, Line: f.Source.Line}
		if f.Source.Document == 0 || presets.IsBuiltIn(f.Source) {
			// Not read from a user's file: a built-in or a live object.
			results[i].Object = f.Object
		}
	}
	return sarif.Write(w, rules, results)
}
