package generate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
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
		doc, err := convert.Policies([]*policyv1.PodSecurityPolicy{p.Policy}, p.Policy.APIVersion)
		if err != nil {
			return err
		}
		b.Write(doc)
		grants, err := convert.RBAC(p.grants())
		if err != nil {
			return err
		}
		b.Write(grants)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the policies and their grants as one v1 List, which
// kubectl apply accepts; GeneratedForAnnotation on each policy names the
// workloads it was made for.
func WriteJSON(w io.Writer, res *Result) error {
	items := []any{}
	for _, p := range res.Policies {
		objs := []any{p.Policy, p.ClusterRole}
		for _, b := range p.RoleBindings {
			objs = append(objs, b)
		}
		for _, o := range objs {
			m, err := cleanObject(o)
			if err != nil {
				return err
			}
			items = append(items, m)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}

// cleanObject is obj as JSON without the empty creationTimestamp and status
// that Go's API types always write.
func cleanObject(obj any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if meta, ok := m["metadata"].(map[string]any); ok && meta["creationTimestamp"] == nil {
		delete(meta, "creationTimestamp")
	}
	delete(m, "status")
	return m, nil
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
	bad := 0
	for _, f := range findings {
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
	fmt.Fprintf(&b, "%d %s: %d admitted unchanged by their own policy, %d not\n", len(findings), noun, len(findings)-bad, bad)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFindingsJSON writes the proof as a JSON array of findings.
func WriteFindingsJSON(w io.Writer, findings []Finding) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if findings == nil {
		findings = []Finding{}
	}
	return enc.Encode(findings)
}
