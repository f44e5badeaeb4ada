package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// WriteText writes a human report: one block per workload, then a summary.
func WriteText(w io.Writer, results []Result) error {
	var b strings.Builder
	denied := 0
	for _, r := range results {
		fmt.Fprintf(&b, "%s: %s (created by %s)\n", r.Workload.Source, r.Workload, r.Requester.Name)
		if r.Admitted {
			fmt.Fprintf(&b, "  ADMITTED by policy %q", r.Policy)
			if len(r.Changes) == 0 {
				b.WriteString(", unchanged\n")
			} else {
				b.WriteString(", which sets:\n")
				for _, c := range r.Changes {
					fmt.Fprintf(&b, "    %s: %s\n", c.Field, formatValue(c.Value))
				}
			}
		} else {
			denied++
			fmt.Fprintf(&b, "  DENIED (%s phase): %s\n", r.DeniedIn, r.Message)
			writeReasons(&b, r.Attempts)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d workloads: %d admitted, %d denied\n", len(results), len(results)-denied, denied)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeReasons says, per policy, why it did not admit the pod.
func writeReasons(b *strings.Builder, attempts []engine.Attempt) {
	for _, a := range attempts {
		usable := a.Authorization != nil && a.Authorization.Allowed
		switch {
		case a.Outcome == engine.OutcomeInvalid && usable:
			fmt.Fprintf(b, "    policy %q (usable via %s):\n", a.Policy, a.Authorization.Subject)
			for _, e := range a.Errors {
				fmt.Fprintf(b, "      - %s\n", e.Error())
			}
		case a.Outcome == engine.OutcomeInvalid:
			fmt.Fprintf(b, "    policy %q: neither the requester nor the ServiceAccount may use it; it would also refuse: %d error(s)\n", a.Policy, len(a.Errors))
		case a.Outcome == engine.OutcomeUnauthorized:
			fmt.Fprintf(b, "    policy %q would admit the pod, but neither the requester nor the ServiceAccount may use it\n", a.Policy)
		case a.Outcome == engine.OutcomeWouldMutate:
			fmt.Fprintf(b, "    policy %q would change the pod, which the validate phase does not allow\n", a.Policy)
		}
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
	File      string          `json:"file"`
	Document  int             `json:"document"`
	Line      int             `json:"line"`
	Kind      string          `json:"kind"`
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Requester string          `json:"requester"`
	Admitted  bool            `json:"admitted"`
	Policy    string          `json:"policy,omitempty"`
	Changes   []engine.Change `json:"changes,omitempty"`
	Message   string          `json:"message,omitempty"`
	Policies  []jsonAttempt   `json:"policies"`
}

type jsonAttempt struct {
	Name    string   `json:"name"`
	Outcome string   `json:"outcome"`
	Usable  bool     `json:"usable"`
	Via     string   `json:"via,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// WriteJSON writes the results as a JSON array.
func WriteJSON(w io.Writer, results []Result) error {
	out := make([]jsonResult, 0, len(results))
	for _, r := range results {
		jr := jsonResult{File: r.Workload.Source.File, Document: r.Workload.Source.Document, Line: r.Workload.Source.Line,
			Kind: r.Workload.Kind, Namespace: r.Workload.Namespace, Name: r.Workload.Name, Requester: r.Requester.Name,
			Admitted: r.Admitted, Policy: r.Policy, Changes: r.Changes, Message: r.Message, Policies: []jsonAttempt{}}
		for _, a := range r.Attempts {
			ja := jsonAttempt{Name: a.Policy, Outcome: string(a.Outcome)}
			if a.Authorization != nil && a.Authorization.Allowed {
				ja.Usable, ja.Via = true, a.Authorization.Reason
			}
			for _, e := range a.Errors {
				ja.Errors = append(ja.Errors, e.Error())
			}
			jr.Policies = append(jr.Policies, ja)
		}
		out = append(out, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
