package check

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/explain"
	"github.com/kube-psp/kube-psp/pkg/kubelet"
	"github.com/kube-psp/kube-psp/pkg/sarif"
	"sigs.k8s.io/yaml"
)

// WriteText writes a human report: one block per workload, then a summary.
func WriteText(w io.Writer, results []Verdict) error {
	var b strings.Builder
	b.Grow(256 * len(results)) // about one admitted workload's block: the report is not regrown and recopied
	denied, invalid := 0, 0
	for _, r := range results {
		fmt.Fprintf(&b, "%s: %s (created by %s)\n", r.Workload.Source, r.Workload, r.Requester.Name)
		switch {
		case r.Admitted:
			fmt.Fprintf(&b, "  ADMITTED by policy %q", r.Policy)
			if len(r.Changes) == 0 {
				b.WriteString(", unchanged\n")
			} else {
				b.WriteString(", which sets:\n")
				for _, line := range explain.ChangeLines(r.Changes) {
					fmt.Fprintf(&b, "    %s\n", line)
				}
			}
			writeKubelet(&b, r)
		case r.Invalid:
			invalid++
			fmt.Fprintf(&b, "  INVALID: admitted by policy %q, then refused by the apiserver's validation: %s\n", r.Policy, r.Message)
		default:
			denied++
			fmt.Fprintf(&b, "  DENIED (%s phase): %s\n", r.DeniedIn, r.Message)
			writeReasons(&b, r.Explanation)
		}
		for _, problem := range r.Running {
			fmt.Fprintf(&b, "  RUNNING NOW against %s\n", problem)
		}
		b.WriteByte('\n')
	}
	refused := ""
	if invalid > 0 {
		refused = fmt.Sprintf(", %d refused by the apiserver's validation", invalid)
	}
	fmt.Fprintf(&b, "%s: %d admitted, %d denied%s%s\n", plural.Count(len(results), "workload"), len(results)-denied-invalid, denied, refused, kubeletSummary(results))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeReasons says, per policy, why it did not admit the pod.
func writeReasons(b *strings.Builder, e explain.Explanation) {
	for _, p := range e.Policies {
		for _, err := range p.AuthorizationErrors {
			fmt.Fprintf(b, "    policy %q: could not tell whether it may be used: %s\n", p.Name, err)
		}
		switch p.Refusal() {
		case explain.RefusesFields:
			fmt.Fprintf(b, "    policy %q (usable):\n", p.Name)
			for _, err := range p.Errors {
				fmt.Fprintf(b, "      - %s\n", err)
			}
		case explain.UnusableRefusesFields:
			fmt.Fprintf(b, "    policy %q: not usable by the requester or the ServiceAccount; it would also refuse %s\n", p.Name, plural.Count(len(p.Errors), "field"))
		case explain.Unusable:
			fmt.Fprintf(b, "    policy %q would admit the pod, but neither the requester nor the ServiceAccount may use it\n", p.Name)
		case explain.WouldChange:
			fmt.Fprintf(b, "    policy %q would change the pod, which the validate phase does not allow\n", p.Name)
		}
	}
}

// jsonResult is the JSON form of a Verdict.
type jsonResult struct {
	File      string `json:"file"`
	Document  int    `json:"document"`
	Line      int    `json:"line"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Requester string `json:"requester"`
	Admitted  bool   `json:"admitted"`
	// Invalid is Verdict.Invalid: admitted by Policy, refused by the
	// apiserver's validation with Message.
	Invalid bool            `json:"invalid,omitempty"`
	Policy  string          `json:"policy,omitempty"`
	Changes []engine.Change `json:"changes,omitempty"`
	Message string          `json:"message,omitempty"`
	// Notes name the fields behind annotations Message names (explain.Explanation.Notes).
	Notes    []string         `json:"notes,omitempty"`
	Policies []explain.Policy `json:"policies"`
	// Running is Verdict.Running (psp audit).
	Running []string        `json:"running,omitempty"`
	Grant   *explain.Grant  `json:"grant,omitempty"`
	PodFix  *explain.PodFix `json:"podFix,omitempty"`
	// Kubelet is set by psp check --images.
	Kubelet []kubelet.Container `json:"kubelet,omitempty"`
}

// WriteYAML writes the results as YAML, with the same fields as WriteJSON.
func WriteYAML(w io.Writer, results []Verdict) error {
	var js strings.Builder
	if err := WriteJSON(&js, results); err != nil {
		return err
	}
	out, err := yaml.JSONToYAML([]byte(js.String()))
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// WriteJSON writes the results as a JSON array.
func WriteJSON(w io.Writer, results []Verdict) error {
	out := make([]jsonResult, 0, len(results))
	for _, r := range results {
		e := r.Explanation
		out = append(out, jsonResult{File: r.Workload.Source.File, Document: r.Workload.Source.Document, Line: r.Workload.Source.Line,
			Kind: r.Workload.Kind, Namespace: r.Workload.Namespace, Name: r.Workload.Name, Requester: r.Requester.Name,
			Admitted: r.Admitted, Invalid: r.Invalid, Policy: r.Policy, Changes: r.Changes, Message: r.Message, Notes: e.Notes, Policies: e.Policies, Running: r.Running, Grant: e.Grant, PodFix: e.PodFix, Kubelet: r.Kubelet})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// ExplanationReport is v as psp explain reports it.
func (v Verdict) ExplanationReport() explain.Report {
	return explain.Report{Title: fmt.Sprintf("%s: %s", v.Workload.Source, v.Workload), Requester: v.Requester.Name,
		ServiceAccount: v.Workload.Namespace + "/" + engine.PodServiceAccount(v.Pod),
		Admitted:       v.Admitted, Invalid: v.Invalid, Policy: v.Policy, Message: v.Message, Explanation: v.Explanation}
}

// WriteExplain writes every verdict's explanation as psp explain prints it
// (explain.Report.WriteText), a blank line between two.
func WriteExplain(w io.Writer, results []Verdict) error {
	for i, r := range results {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := r.ExplanationReport().WriteText(w); err != nil {
			return err
		}
	}
	return nil
}

// WriteSARIF writes one SARIF result per denied workload, at its document,
// and one per problem of a running pod (psp audit).
func WriteSARIF(w io.Writer, results []Verdict) error {
	var out []sarif.Result
	for _, r := range results {
		for _, problem := range r.Running {
			out = append(out, r.sarifResult("pod-running", "error", fmt.Sprintf("%s runs against %s", r.Workload, problem)))
		}
		if r.Admitted {
			continue
		}
		if r.Invalid {
			out = append(out, r.sarifResult("pod-invalid", "error", fmt.Sprintf("%s (created by %s) is admitted by policy %q, then refused by the apiserver's validation: %s", r.Workload, r.Requester.Name, r.Policy, r.Message)))
			continue
		}
		msg := fmt.Sprintf("%s (created by %s) is denied: %s", r.Workload, r.Requester.Name, r.Message)
		if len(r.Explanation.Notes) > 0 {
			msg += " (" + strings.Join(r.Explanation.Notes, "; ") + ")"
		}
		if f := r.Explanation.PodFix; f != nil {
			msg += fmt.Sprintf(". Policy %q, which may be used, admits it if the pod is changed", f.Policy)
		}
		if g := r.Explanation.Grant; g != nil {
			msg += fmt.Sprintf(". Policy %q would admit it: %s.", g.Policy, strings.Join(g.Lines(), "; "))
		}
		out = append(out, r.sarifResult("pod-denied", "error", msg))
	}
	rules := []sarif.Rule{{ID: "pod-denied", Summary: "no PodSecurityPolicy the creator may use admits the pod"}}
	if slices.ContainsFunc(results, func(r Verdict) bool { return r.Invalid }) {
		rules = append(rules, sarif.Rule{ID: "pod-invalid", Summary: "a policy admits the pod, but the apiserver's validation refuses the admitted pod (Linux-only fields on a Windows pod)"})
	}
	if slices.ContainsFunc(results, func(r Verdict) bool { return len(r.Running) > 0 }) {
		rules = append(rules, sarif.Rule{ID: "pod-running", Summary: "a running pod breaks the policy that admitted it (the seccomp profile its containers run with)"})
	}
	kubeletRules, kubeletResults := kubeletSARIF(results)
	return sarif.Write(w, append(rules, kubeletRules...), append(out, kubeletResults...))
}

// sarifResult is a SARIF result at the workload's document, or, for a
// running pod (psp audit: no document), at the pod.
func (r Verdict) sarifResult(rule, level, msg string) sarif.Result {
	src := r.Workload.Source
	if src.Document == 0 {
		return sarif.Result{RuleID: rule, Level: level, Message: msg, Object: src.File}
	}
	return sarif.Result{RuleID: rule, Level: level, Message: msg, File: src.File, Line: src.Line}
}
