package check

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/explain"
	"github.com/kube-psp/kube-psp/pkg/kubelet"
	"github.com/kube-psp/kube-psp/pkg/sarif"
	"sigs.k8s.io/yaml"
)

// WriteText writes a human report: one block per workload, then a summary.
func WriteText(w io.Writer, results []Result) error {
	var b strings.Builder
	b.Grow(256 * len(results)) // about one admitted workload's block: the report is not regrown and recopied
	denied, invalid := 0, 0
	for _, r := range results {
		switch {
		case r.Admitted:
		case r.Invalid:
			invalid++
		default:
			denied++
		}
		fmt.Fprintf(&b, "%s: %s (created by %s)\n", r.Workload.Source, r.Workload, r.Requester.Name)
		WriteVerdict(&b, r)
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

// WriteVerdict writes the verdict of WriteText for one workload, each line
// indented by two spaces: ADMITTED with the policy and the fields it sets
// (and the kubelet's refusals, after VerifyImages), INVALID with the
// apiserver's message, or DENIED with v1.24's message and each policy's
// reasons; then how a running pod breaks its policy (psp audit).
func WriteVerdict(b *strings.Builder, r Result) {
	switch {
	case r.Admitted:
		fmt.Fprintf(b, "  ADMITTED by policy %q", r.Policy)
		writeChanges(b, r.Changes, ", unchanged\n", ", which sets:\n", "    ")
		writeKubelet(b, r)
	case r.Invalid:
		fmt.Fprintf(b, "  INVALID: admitted by policy %q, then refused by the apiserver's validation: %s\n", r.Policy, r.Message)
	default:
		fmt.Fprintf(b, "  DENIED (%s phase): %s\n", r.DeniedIn, r.Message)
		writeReasons(b, r.Explanation)
	}
	for _, problem := range r.Running {
		fmt.Fprintf(b, "  RUNNING NOW against %s\n", problem)
	}
}

// writeReasons says, per policy, why it did not admit the pod.
func writeReasons(b *strings.Builder, e explain.Explanation) {
	for _, p := range e.Policies {
		for _, err := range p.AuthorizationErrors {
			fmt.Fprintf(b, "    policy %q: could not tell whether it may be used: %s\n", p.Name, err)
		}
		switch {
		case p.Outcome == engine.OutcomeInvalid && p.Usable:
			fmt.Fprintf(b, "    policy %q (usable):\n", p.Name)
			for _, err := range p.Errors {
				fmt.Fprintf(b, "      - %s\n", err)
			}
		case p.Outcome == engine.OutcomeInvalid:
			fmt.Fprintf(b, "    policy %q: not usable by the requester or the ServiceAccount; it would also refuse %s\n", p.Name, plural.Count(len(p.Errors), "field"))
		case p.Outcome == engine.OutcomeUnauthorized:
			fmt.Fprintf(b, "    policy %q would admit the pod, but neither the requester nor the ServiceAccount may use it\n", p.Name)
		case p.Outcome == engine.OutcomeWouldMutate:
			fmt.Fprintf(b, "    policy %q would change the pod, which the validate phase does not allow\n", p.Name)
		}
	}
}

// writeChanges writes unchanged when there are no changes, else the
// heading and one indented "field: value" line per change.
func writeChanges(b *strings.Builder, changes []engine.Change, unchanged, heading, indent string) {
	if len(changes) == 0 {
		b.WriteString(unchanged)
		return
	}
	b.WriteString(heading)
	for _, c := range changes {
		fmt.Fprintf(b, "%s%s: %s\n", indent, c.Field, formatValue(c.Value))
	}
}

func formatValue(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// jsonResult is the JSON form of a Result.
type jsonResult struct {
	File      string `json:"file"`
	Document  int    `json:"document"`
	Line      int    `json:"line"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Requester string `json:"requester"`
	Admitted  bool   `json:"admitted"`
	// Invalid is Result.Invalid: admitted by Policy, refused by the
	// apiserver's validation with Message.
	Invalid bool            `json:"invalid,omitempty"`
	Policy  string          `json:"policy,omitempty"`
	Changes []engine.Change `json:"changes,omitempty"`
	Message string          `json:"message,omitempty"`
	// Notes name the fields behind annotations Message names (explain.Explanation.Notes).
	Notes    []string         `json:"notes,omitempty"`
	Policies []explain.Policy `json:"policies"`
	// Running is Result.Running (psp audit).
	Running []string        `json:"running,omitempty"`
	Grant   *explain.Grant  `json:"grant,omitempty"`
	PodFix  *explain.PodFix `json:"podFix,omitempty"`
	// Kubelet is set by psp check --images.
	Kubelet []kubelet.Container `json:"kubelet,omitempty"`
}

// WriteYAML writes the results as YAML, with the same fields as WriteJSON.
func WriteYAML(w io.Writer, results []Result) error {
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
func WriteJSON(w io.Writer, results []Result) error {
	out := make([]jsonResult, 0, len(results))
	for _, r := range results {
		e := r.Explanation
		out = append(out, jsonResult{File: cmp.Or(r.Workload.Source.File, r.Workload.Source.Object), Document: r.Workload.Source.Document, Line: r.Workload.Source.Line,
			Kind: r.Workload.Kind, Namespace: r.Workload.Namespace, Name: r.Workload.Name, Requester: r.Requester.Name,
			Admitted: r.Admitted, Invalid: r.Invalid, Policy: r.Policy, Changes: r.Changes, Message: r.Message, Notes: e.Notes, Policies: e.Policies, Running: r.Running, Grant: e.Grant, PodFix: e.PodFix, Kubelet: r.Kubelet})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteExplain writes, per workload, every policy in order: whether the
// requester or the ServiceAccount may use it and through which binding,
// what it would change, why it refuses; then which policy wins and why, or,
// when none does, the smallest grant or pod change that would admit the pod.
func WriteExplain(w io.Writer, results []Result) error {
	var b strings.Builder
	for i, r := range results {
		if i > 0 {
			b.WriteString("\n")
		}
		e := r.Explanation
		fmt.Fprintf(&b, "%s: %s\n", r.Workload.Source, r.Workload)
		fmt.Fprintf(&b, "  requester: %s; ServiceAccount: %s/%s\n", r.Requester.Name, r.Workload.Namespace, serviceAccount(r))
		for _, p := range e.Policies {
			fmt.Fprintf(&b, "\n  policy %q\n", p.Name)
			switch {
			case p.Usable:
				fmt.Fprintf(&b, "    usable: yes (%s)\n", p.Via)
			case len(p.AuthorizationErrors) > 0:
				fmt.Fprintf(&b, "    usable: unknown, counted as no; asking failed: %s\n", strings.Join(p.AuthorizationErrors, "; "))
			default:
				b.WriteString("    usable: no; neither the requester nor the ServiceAccount is granted `use`\n")
			}
			switch p.Outcome {
			case engine.OutcomeAdmitted:
				b.WriteString("    admits the pod unchanged\n")
			case engine.OutcomeAdmittedWithChanges, engine.OutcomeUnauthorized:
				writeChanges(&b, p.Changes, "    would admit the pod unchanged\n", "    would admit the pod after setting:\n", "      ")
			case engine.OutcomeInvalid:
				b.WriteString("    refuses the pod:\n")
				for _, err := range p.Errors {
					fmt.Fprintf(&b, "      - %s\n", err)
				}
			}
		}
		b.WriteString("\n")
		if r.Admitted {
			fmt.Fprintf(&b, "  result: ADMITTED by %q: %s\n", r.Policy, e.Why)
			continue
		}
		if r.Invalid {
			fmt.Fprintf(&b, "  result: INVALID: admitted by %q, then refused by the apiserver's validation: %s\n", r.Policy, r.Message)
			b.WriteString(invalidFix(r.Policy, e.Policies))
			continue
		}
		fmt.Fprintf(&b, "  result: DENIED: %s\n", r.Message)
		// A pod change first: a grant widens what every pod of its subject may do.
		if f := e.PodFix; f != nil {
			fmt.Fprintf(&b, "  smallest fix: change the pod so that policy %q, which the requester may use, admits it:\n", f.Policy)
			for _, err := range f.Errors {
				fmt.Fprintf(&b, "    - %s\n", err)
			}
		}
		if g := e.Grant; g != nil {
			lead := "smallest fix"
			if e.PodFix != nil {
				lead = "or"
			}
			for i, line := range g.Lines() {
				if i == 0 {
					fmt.Fprintf(&b, "  %s: %s, which would admit the pod:\n", lead, line)
				} else {
					fmt.Fprintf(&b, "    note: %s\n", line)
				}
			}
			for _, c := range g.Commands {
				fmt.Fprintf(&b, "    %s\n", c)
			}
		}
		if e.PodFix == nil && e.Grant == nil {
			b.WriteString("  no policy the requester could be granted admits this pod; a policy must be added or widened\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// serviceAccount is the pod's ServiceAccount as checked.
func serviceAccount(r Result) string {
	return engine.PodServiceAccount(r.Pod)
}

// WriteSARIF writes one SARIF result per denied workload, at its document,
// and one per problem of a running pod (psp audit).
func WriteSARIF(w io.Writer, results []Result) error {
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
		out = append(out, r.sarifResult("pod-denied", "error", fmt.Sprintf("%s (created by %s) is denied: %s", r.Workload, r.Requester.Name, DenialSummary(r))))
	}
	rules := []sarif.Rule{{ID: "pod-denied", Summary: "no PodSecurityPolicy the creator may use admits the pod"}}
	if slices.ContainsFunc(results, func(r Result) bool { return r.Invalid }) {
		rules = append(rules, sarif.Rule{ID: "pod-invalid", Summary: "a policy admits the pod, but the apiserver's validation refuses the admitted pod (Linux-only fields on a Windows pod)"})
	}
	if slices.ContainsFunc(results, func(r Result) bool { return len(r.Running) > 0 }) {
		rules = append(rules, sarif.Rule{ID: "pod-running", Summary: "a running pod breaks the policy that admitted it (the seccomp profile its containers run with)"})
	}
	kubeletRules, kubeletResults := kubeletSARIF(results)
	return sarif.Write(w, append(rules, kubeletRules...), append(out, kubeletResults...))
}

// DenialSummary is a denied result in one line, for SARIF messages: v1.24's
// message, the notes on the fields it names, and the smallest pod change
// or grant that would admit the pod.
func DenialSummary(r Result) string {
	msg := r.Message
	if len(r.Explanation.Notes) > 0 {
		msg += " (" + strings.Join(r.Explanation.Notes, "; ") + ")"
	}
	if f := r.Explanation.PodFix; f != nil {
		msg += fmt.Sprintf(". Policy %q, which may be used, admits it if the pod is changed", f.Policy)
	}
	if g := r.Explanation.Grant; g != nil {
		msg += fmt.Sprintf(". Policy %q would admit it: %s.", g.Policy, strings.Join(g.Lines(), "; "))
	}
	return msg
}

// sarifResult is a SARIF result at the workload's document, or, for a
// running pod (psp audit: no document), at the pod.
func (r Result) sarifResult(rule, level, msg string) sarif.Result {
	src := r.Workload.Source
	if src.Object != "" {
		return sarif.Result{RuleID: rule, Level: level, Message: msg, Object: src.Object}
	}
	return sarif.Result{RuleID: rule, Level: level, Message: msg, File: src.File, Line: src.Line}
}

// invalidFix is the advice for a pod that the admitting policy's defaults
// made invalid (Linux-only fields on a Windows pod): the pod did not write
// them, so the fix is a policy that admits it without setting them.
func invalidFix(chosen string, policies []explain.Policy) string {
	var unchanged []string
	for _, p := range policies {
		// Admitted, or would admit it unchanged but is not usable.
		if p.Outcome == engine.OutcomeAdmitted || (p.Outcome == engine.OutcomeUnauthorized && len(p.Changes) == 0) {
			unchanged = append(unchanged, strconv.Quote(p.Name))
		}
	}
	if len(unchanged) == 0 {
		return fmt.Sprintf("  fix: policy %q sets the fields named, which this pod may not have; let its creator or ServiceAccount use a policy that admits the pod without setting them (no such policy exists yet)\n", chosen)
	}
	// A usable policy that admits a pod unchanged wins over one that
	// changes it, whatever their names' order.
	return fmt.Sprintf("  fix: policy %q sets the fields named, which this pod may not have; %s would admit the pod unchanged: let its creator or ServiceAccount use one of them\n",
		chosen, strings.Join(unchanged, ", "))
}
