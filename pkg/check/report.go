package check

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/explain"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/report"
	"github.com/kube-psp/kube-psp/pkg/sarif"
)

// CheckFormat refuses a format NewReportWriter cannot write.
func CheckFormat(format string) error {
	switch format {
	case "text", "json", "yaml", "sarif":
		return nil
	}
	return fmt.Errorf("--output must be text, json, yaml or sarif, not %q", format)
}

// ReportWriter writes verdicts as they come, each as soon as it is given,
// and what needs all of them (the summary; SARIF's rules) at Close: a
// report holds no verdict once written.
type ReportWriter struct {
	kind   string
	format string
	w      io.Writer
	list   *report.ListWriter // json, yaml
	sarif  *sarif.Writer
	count  v1alpha1.CheckSummary
	// verified: some verdict has the kubelet's (check --images), so the
	// SARIF rules name its kinds.
	verified bool
}

// NewReportWriter returns a writer of a report of kind
// v1alpha1.KindCheckReport, KindExplainReport or KindAuditReport in format
// text, json, yaml (the v1alpha1.CheckReport object) or sarif (one result
// per denied or invalid workload at its document, per container the
// kubelet would refuse, and, for audit, per problem of a running pod).
// The text of an ExplainReport is explain.Report's, every policy in full;
// that of the others one block per workload and a summary line.
func NewReportWriter(w io.Writer, format, kind string) (*ReportWriter, error) {
	if err := CheckFormat(format); err != nil {
		return nil, err
	}
	rw := &ReportWriter{kind: kind, format: format, w: w}
	switch format {
	case "json", "yaml":
		list, err := report.NewListWriter(w, format, v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: kind})
		if err != nil {
			return nil, err
		}
		rw.list = list
	case "sarif":
		dir, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		rw.sarif = sarif.NewWriter(w, dir)
	}
	return rw, nil
}

// Write writes one verdict.
func (rw *ReportWriter) Write(v Verdict) error {
	first := rw.count.Workloads == 0
	rw.tally(v)
	switch rw.format {
	case "json", "yaml":
		return rw.list.Item(v.Object())
	case "sarif":
		for _, res := range v.sarifResults() {
			if err := rw.sarif.Result(res); err != nil {
				return err
			}
		}
		return nil
	}
	var b strings.Builder
	if rw.kind == v1alpha1.KindExplainReport {
		if !first {
			b.WriteByte('\n')
		}
		if err := v.ExplanationReport().WriteText(&b); err != nil {
			return err
		}
	} else {
		writeText(&b, v)
	}
	_, err := io.WriteString(rw.w, b.String())
	return err
}

// Close writes the summary, or SARIF's rules.
func (rw *ReportWriter) Close() error {
	switch rw.format {
	case "json", "yaml":
		return rw.list.Close(report.Field{Key: "summary", Value: rw.count})
	case "sarif":
		return rw.sarif.Close(rw.sarifRules())
	}
	if rw.kind == v1alpha1.KindExplainReport {
		return nil
	}
	_, err := io.WriteString(rw.w, summaryLine(rw.count))
	return err
}

// Summary counts the verdicts written so far.
func (rw *ReportWriter) Summary() v1alpha1.CheckSummary {
	return rw.count
}

func (rw *ReportWriter) tally(v Verdict) {
	c := &rw.count
	c.Workloads++
	switch {
	case v.Admitted:
		c.Admitted++
	case v.Invalid:
		c.Invalid++
	default:
		c.Denied++
	}
	if v.KubeletRefuses() {
		c.KubeletRefused++
	}
	if v.ImageUnread() {
		c.ImageUnread++
	}
	if len(v.Running) > 0 {
		c.Running++
	}
	rw.verified = rw.verified || v.Kubelet != nil
}

// WriteReport writes verdicts as a report of kind in format (NewReportWriter).
func WriteReport(w io.Writer, format, kind string, verdicts []Verdict) error {
	rw, err := NewReportWriter(w, format, kind)
	if err != nil {
		return err
	}
	for _, v := range verdicts {
		if err := rw.Write(v); err != nil {
			return err
		}
	}
	return rw.Close()
}

// writeText writes a verdict's block of the text report.
func writeText(b *strings.Builder, r Verdict) {
	fmt.Fprintf(b, "%s: %s (created by %s)\n", r.Workload.Source, r.Workload, r.Requester.Name)
	WriteVerdict(b, r)
	b.WriteByte('\n')
}

// WriteVerdict writes the verdict of the text report for one workload, each
// line indented by two spaces: ADMITTED with the policy and the fields it
// sets (and the kubelet's refusals, after VerifyImages), INVALID with the
// apiserver's message, or DENIED with v1.24's message and each policy's
// reasons; then how a running pod breaks its policy (psp audit).
func WriteVerdict(b *strings.Builder, r Verdict) {
	switch {
	case r.Admitted:
		fmt.Fprintf(b, "  ADMITTED by policy %q", r.Policy)
		if len(r.Changes) == 0 {
			b.WriteString(", unchanged\n")
		} else {
			b.WriteString(", which sets:\n")
			for _, line := range explain.ChangeLines(r.Changes) {
				fmt.Fprintf(b, "    %s\n", line)
			}
		}
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

// summaryLine is the text report's last line.
func summaryLine(c v1alpha1.CheckSummary) string {
	refused := ""
	if c.Invalid > 0 {
		refused = fmt.Sprintf(", %d refused by the apiserver's validation", c.Invalid)
	}
	var s strings.Builder
	if c.KubeletRefused > 0 {
		fmt.Fprintf(&s, "; %d admitted but not runnable (the kubelet would refuse a container)", c.KubeletRefused)
	}
	if c.ImageUnread > 0 {
		fmt.Fprintf(&s, "; %d not verified (an image could not be read)", c.ImageUnread)
	}
	return fmt.Sprintf("%s: %d admitted, %d denied%s%s\n", plural.Count(c.Workloads, "workload"), c.Admitted, c.Denied, refused, s.String())
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

// Object is v as a v1alpha1 report item.
func (v Verdict) Object() v1alpha1.WorkloadVerdict {
	e := v.Explanation
	src := v.Workload.Source
	out := v1alpha1.WorkloadVerdict{
		Source: ReportSource(src),
		Kind:   v.Workload.Kind, Namespace: v.Workload.Namespace, Name: v.Workload.Name, Requester: v.Requester.Name,
		Admitted: v.Admitted, Invalid: v.Invalid, Policy: v.Policy, Changes: ReportChanges(v.Changes), Message: v.Message, Notes: e.Notes,
		Policies: []v1alpha1.PolicyVerdict{}, Running: v.Running,
	}
	if !v.Admitted && !v.Invalid {
		out.DeniedIn = string(v.DeniedIn)
	}
	for _, p := range e.Policies {
		out.Policies = append(out.Policies, v1alpha1.PolicyVerdict{Name: p.Name, Outcome: string(p.Outcome), Usable: p.Usable, Via: p.Via,
			Changes: ReportChanges(p.Changes), Errors: p.Errors, Chosen: p.Chosen, AuthorizationErrors: p.AuthorizationErrors})
	}
	out.Grant, out.PodFix = (*v1alpha1.Grant)(e.Grant), (*v1alpha1.PodFix)(e.PodFix)
	for _, c := range v.Kubelet {
		out.Kubelet = append(out.Kubelet, v1alpha1.ContainerVerdict(c))
	}
	return out
}

// ReportSource is where a workload was read, in the reports' one shape.
func ReportSource(src manifest.Location) v1alpha1.Source {
	return v1alpha1.Source{File: src.File, Document: src.Document, Line: src.Line, Item: src.Item, Object: src.Object}
}

// ReportChanges are the fields a policy sets, in the reports' shape.
func ReportChanges(in []engine.Change) []v1alpha1.Change {
	if in == nil {
		return nil
	}
	out := make([]v1alpha1.Change, len(in))
	for i, c := range in {
		out[i] = v1alpha1.Change{Field: c.Field, Value: c.Value}
	}
	return out
}

// ExplanationReport is v as psp explain reports it.
func (v Verdict) ExplanationReport() explain.Report {
	return explain.Report{Title: fmt.Sprintf("%s: %s", v.Workload.Source, v.Workload), Requester: v.Requester.Name,
		ServiceAccount: v.Workload.Namespace + "/" + engine.PodServiceAccount(v.Pod),
		Admitted:       v.Admitted, Invalid: v.Invalid, Policy: v.Policy, Message: v.Message, Explanation: v.Explanation}
}

// SARIF rules.
const (
	rulePodDenied  = "pod-denied"
	rulePodInvalid = "pod-invalid"
	rulePodRunning = "pod-running"
)

// sarifResults are v's SARIF results: the running pod's problems (audit),
// the denial or refusal, and the kubelet's verdicts.
func (v Verdict) sarifResults() []sarif.Result {
	var out []sarif.Result
	for _, problem := range v.Running {
		out = append(out, v.sarifResult(rulePodRunning, "error", fmt.Sprintf("%s runs against %s", v.Workload, problem)))
	}
	switch {
	case v.Admitted:
		out = append(out, v.kubeletSARIF()...)
	case v.Invalid:
		out = append(out, v.sarifResult(rulePodInvalid, "error", fmt.Sprintf("%s (created by %s) is admitted by policy %q, then refused by the apiserver's validation: %s", v.Workload, v.Requester.Name, v.Policy, v.Message)))
	default:
		out = append(out, v.sarifResult(rulePodDenied, "error", fmt.Sprintf("%s (created by %s) is denied: %s", v.Workload, v.Requester.Name, DenialSummary(v))))
	}
	return out
}

// DenialSummary is a denied verdict in one line, for SARIF messages:
// v1.24's message, the notes on the fields it names, and the smallest pod
// change or grant that would admit the pod.
func DenialSummary(v Verdict) string {
	msg := v.Message
	if len(v.Explanation.Notes) > 0 {
		msg += " (" + strings.Join(v.Explanation.Notes, "; ") + ")"
	}
	if f := v.Explanation.PodFix; f != nil {
		msg += fmt.Sprintf(". Policy %q, which may be used, admits it if the pod is changed", f.Policy)
	}
	if g := v.Explanation.Grant; g != nil {
		msg += fmt.Sprintf(". Policy %q would admit it: %s.", g.Policy, strings.Join(g.Lines(), "; "))
	}
	return msg
}

// sarifRules are the rules of the results written: pod-denied always, the
// others when a result of theirs may have been, so that a plain check's
// log names one rule.
func (rw *ReportWriter) sarifRules() []sarif.Rule {
	rules := []sarif.Rule{{ID: rulePodDenied, Summary: "no PodSecurityPolicy the creator may use admits the pod"}}
	if rw.count.Invalid > 0 {
		rules = append(rules, sarif.Rule{ID: rulePodInvalid, Summary: "a policy admits the pod, but the apiserver's validation refuses the admitted pod (Linux-only fields on a Windows pod)"})
	}
	if rw.count.Running > 0 {
		rules = append(rules, sarif.Rule{ID: rulePodRunning, Summary: "a running pod breaks the policy that admitted it (the seccomp profile its containers run with)"})
	}
	if rw.verified {
		rules = append(rules, kubeletRules()...)
	}
	return rules
}

// sarifResult is a SARIF result at the workload's document, or, for a
// running pod (psp audit: no document), at the pod.
func (v Verdict) sarifResult(rule, level, msg string) sarif.Result {
	src := v.Workload.Source
	if src.Object != "" {
		return sarif.Result{RuleID: rule, Level: level, Message: msg, Object: src.Object}
	}
	return sarif.Result{RuleID: rule, Level: level, Message: msg, File: src.File, Line: src.Line}
}
