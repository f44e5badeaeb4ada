package generate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/convert"
	"github.com/kube-psp/kube-psp/pkg/rbac"
)

// WriteYAML writes the policies and their grants as YAML documents ready
// for kubectl apply, policy by policy: a comment naming what the policy was
// made for (identities, workloads with their source) and where it allows
// more than they use, then the policy, its ClusterRole and RoleBindings.
func WriteYAML(w io.Writer, res *Result) error {
	var b strings.Builder
	for i, p := range res.Policies {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# PodSecurityPolicy %s, made for %s:\n", p.Policy.Name, strings.Join(p.Identities, ", "))
		for _, wl := range p.Workloads {
			fmt.Fprintf(&b, "#   %s (%s)\n", WorkloadName(wl), wl.Source)
		}
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "# Allows more than used: %s.\n", n)
		}
		for _, n := range p.Warnings {
			fmt.Fprintf(&b, "# Warning: %s.\n", n)
		}
		docs, err := p.documents()
		if err != nil {
			return err
		}
		b.Write(docs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the policies and their grants as one v1 List, which
// kubectl apply accepts; GeneratedForAnnotation on each policy names the
// workloads it was made for. The objects are WriteYAML's, as JSON.
func WriteJSON(w io.Writer, res *Result) error {
	items := []json.RawMessage{}
	for _, p := range res.Policies {
		docs, err := p.documents()
		if err != nil {
			return err
		}
		for _, doc := range strings.Split(string(docs), "---\n") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			item, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return err
			}
			items = append(items, item)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}

// documents are the policy, its ClusterRole and RoleBindings as YAML
// documents, written by package convert.
func (p Policy) documents() ([]byte, error) {
	doc, err := convert.Policies([]*policyv1.PodSecurityPolicy{p.Policy}, p.Policy.APIVersion)
	if err != nil {
		return nil, err
	}
	grants, err := convert.RBAC(p.grants())
	if err != nil {
		return nil, err
	}
	return append(doc, grants...), nil
}

func (p Policy) grants() rbac.Objects {
	objs := rbac.Objects{}
	objs.ClusterRoles = append(objs.ClusterRoles, *p.ClusterRole)
	for _, b := range p.RoleBindings {
		objs.RoleBindings = append(objs.RoleBindings, *b)
	}
	return objs
}

// WriteFindings writes the proof as text: one line per workload that is
// not admitted unchanged by its policy, with the reason, then a summary.
// With all set, also a line per workload that is.
func WriteFindings(w io.Writer, findings []Finding, all bool) error {
	var b strings.Builder
	bad, unowned := 0, 0
	for _, f := range findings {
		if f.Unowned && f.OK() {
			unowned++
			fmt.Fprintf(&b, "%s: %s: NO OWN POLICY: admitted unchanged by policy %q, but no policy names it in %s\n", f.Source, f.Name, f.Policy, GeneratedForAnnotation)
			continue
		}
		if f.OK() {
			if all {
				fmt.Fprintf(&b, "%s: %s: admitted unchanged by policy %q\n", f.Source, f.Name, f.Policy)
			}
			continue
		}
		bad++
		fmt.Fprintf(&b, "%s: %s: NOT PROVEN: %s\n", f.Source, f.Name, f.Problem)
	}
	noun := "workloads"
	if len(findings) == 1 {
		noun = "workload"
	}
	without := ""
	if unowned > 0 {
		without = fmt.Sprintf(", %d admitted unchanged without an own policy", unowned)
	}
	fmt.Fprintf(&b, "%d %s: %d admitted unchanged by their own policy%s, %d not\n", len(findings), noun, len(findings)-bad-unowned, without, bad)
	_, err := io.WriteString(w, b.String())
	return err
}

// VerifyReport is the proof as a versioned report (kind VerifyReport):
// one item per workload, in input order, then the counts.
func VerifyReport(findings []Finding) v1alpha1.VerifyReport {
	out := v1alpha1.VerifyReport{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindVerifyReport},
		Items: []v1alpha1.VerifyItem{}, Summary: v1alpha1.VerifySummary{Workloads: len(findings)}}
	for _, f := range findings {
		out.Items = append(out.Items, f.Object())
		switch {
		case f.Proven():
			out.Summary.Proven++
		case f.OK():
			out.Summary.Unowned++
		default:
			out.Summary.NotProven++
		}
	}
	return out
}

// Object is f as a VerifyReport item.
func (f Finding) Object() v1alpha1.VerifyItem {
	return v1alpha1.VerifyItem{Source: check.ReportSource(f.Workload.Source), Kind: f.Workload.Kind, Namespace: f.Workload.Namespace, Name: f.Workload.Name,
		Expected: f.Expected, Admitted: f.Admitted, Policy: f.Policy, Changes: check.ReportChanges(f.Changes), Problem: f.Problem, Unowned: f.Unowned}
}

// WriteFindingsYAML writes VerifyReport as YAML, keys sorted as kubectl -o
// yaml sorts them.
func WriteFindingsYAML(w io.Writer, findings []Finding) error {
	data, err := yaml.Marshal(VerifyReport(findings))
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// WriteFindingsJSON writes VerifyReport as JSON; "<stdin>" as it is.
func WriteFindingsJSON(w io.Writer, findings []Finding) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(VerifyReport(findings))
}
