package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/presets"
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

// WriteJSON writes the findings as a JSON array.
func WriteJSON(w io.Writer, findings []Finding) error {
	if findings == nil {
		findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(findings)
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
