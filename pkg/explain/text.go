package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// Report is one workload's explanation with what `psp explain` heads and
// ends it with: where the workload was read, who creates its pod, and what
// the cluster would do with it.
type Report struct {
	// Title names the workload and where it was read:
	// "examples/nginx-root.yaml:1 (document 1): Pod default/nginx".
	Title string
	// Requester is the name of the user that creates the pod.
	Requester string
	// ServiceAccount is the pod's ServiceAccount as checked, "NAMESPACE/NAME".
	ServiceAccount string
	// Admitted: both phases admit the pod, the admit phase with Policy.
	Admitted bool
	// Invalid: the admit phase admitted the pod with Policy, then the
	// apiserver's validation refused the admitted pod with Message.
	Invalid bool
	Policy  string
	// Message is the denial, or with Invalid the apiserver's error.
	Message     string
	Explanation Explanation
}

// WriteText writes r for a person: every policy in order, whether the
// requester or the ServiceAccount may use it and through which binding,
// what it would change, why it refuses; then which policy wins and why,
// or, when none does, the smallest grant or pod change that would admit
// the pod.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	e := r.Explanation
	fmt.Fprintf(&b, "%s\n", r.Title)
	fmt.Fprintf(&b, "  requester: %s; ServiceAccount: %s\n", r.Requester, r.ServiceAccount)
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
		// What the policy does with the pod, whoever may use it.
		switch p.Outcome {
		case engine.OutcomeAdmitted:
			b.WriteString("    admits the pod unchanged\n")
		case engine.OutcomeAdmittedWithChanges, engine.OutcomeUnauthorized:
			if len(p.Changes) == 0 {
				b.WriteString("    would admit the pod unchanged\n")
				break
			}
			b.WriteString("    would admit the pod after setting:\n")
			for _, line := range ChangeLines(p.Changes) {
				fmt.Fprintf(&b, "      %s\n", line)
			}
		case engine.OutcomeInvalid:
			b.WriteString("    refuses the pod:\n")
			for _, err := range p.Errors {
				fmt.Fprintf(&b, "      - %s\n", err)
			}
		}
	}
	b.WriteString("\n")
	switch {
	case r.Admitted:
		fmt.Fprintf(&b, "  result: ADMITTED by %q: %s\n", r.Policy, e.Why)
	case r.Invalid:
		fmt.Fprintf(&b, "  result: INVALID: admitted by %q, then refused by the apiserver's validation: %s\n", r.Policy, r.Message)
		b.WriteString(invalidFix(r.Policy, e.Policies))
	default:
		fmt.Fprintf(&b, "  result: DENIED: %s\n", r.Message)
		writeFixes(&b, e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFixes writes a denial's smallest fixes: a pod change first, since a
// grant widens what every pod of its subject may do.
func writeFixes(b *strings.Builder, e Explanation) {
	if f := e.PodFix; f != nil {
		fmt.Fprintf(b, "  smallest fix: change the pod so that policy %q, which the requester may use, admits it:\n", f.Policy)
		for _, err := range f.Errors {
			fmt.Fprintf(b, "    - %s\n", err)
		}
	}
	if g := e.Grant; g != nil {
		lead := "smallest fix"
		if e.PodFix != nil {
			lead = "or"
		}
		for i, line := range g.Lines() {
			if i == 0 {
				fmt.Fprintf(b, "  %s: %s, which would admit the pod:\n", lead, line)
			} else {
				fmt.Fprintf(b, "    note: %s\n", line)
			}
		}
		for _, c := range g.Commands {
			fmt.Fprintf(b, "    %s\n", c)
		}
	}
	if e.PodFix == nil && e.Grant == nil {
		b.WriteString("  no policy the requester could be granted admits this pod; a policy must be added or widened\n")
	}
}

// invalidFix is the advice for a pod that the admitting policy's defaults
// made invalid (Linux-only fields on a Windows pod): the pod did not write
// them, so the fix is a policy that admits it without setting them.
func invalidFix(chosen string, policies []Policy) string {
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

// ChangeLines says each change as "FIELD: VALUE", the value as JSON:
// `spec.containers[0].securityContext.runAsNonRoot: true`.
func ChangeLines(changes []engine.Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		value, err := json.Marshal(c.Value)
		if err != nil {
			value = []byte(fmt.Sprint(c.Value))
		}
		out[i] = c.Field + ": " + string(value)
	}
	return out
}
