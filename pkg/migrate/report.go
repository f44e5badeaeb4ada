package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/check"
)

// ReportAPIVersion and ReportKind head the JSON and YAML report, as
// kubectl's -o json objects are headed: a reader checks them before
// reading the fields, which change only with the version.
const (
	ReportAPIVersion = v1alpha1.APIVersion
	ReportKind       = v1alpha1.KindPodSecurityMigration
)

// WriteText writes the plan for people: per namespace, the labels, then
// the pods the migration concerns (denied today, below restricted, or
// dependent on their policy's defaults), then a summary.
func WriteText(w io.Writer, plan *Plan) error {
	var b strings.Builder
	levels := map[api.Level]int{}
	var dependent, privileged, denied int
	for _, n := range plan.Namespaces {
		levels[n.Enforce]++
		fmt.Fprintf(&b, "namespace %s: enforce %s", n.Name, n.Enforce)
		if n.Warn != "" {
			fmt.Fprintf(&b, ", warn and audit %s", n.Warn)
		}
		fmt.Fprintf(&b, " (Pod Security Standards %s)\n", plan.Version)
		if n.Current != nil {
			fmt.Fprintf(&b, "  current: %s\n", currentLabels(n.Current))
		}
		if from := n.Tightens(); from != "" {
			fmt.Fprintf(&b, "  tightens enforce from %s to %s\n", from, n.Enforce)
		}
		if changes := n.Changes(plan.Version); len(changes) > 0 {
			fmt.Fprintf(&b, "  %s\n", labelCommand(n.Name, changes))
		} else {
			b.WriteString("  labels already set: nothing to change\n")
		}
		c := n.Count()
		dependent += c.MutationDependent
		privileged += c.PrivilegedOnly
		denied += c.Denied
		for _, p := range n.Pods {
			r := p.Result
			switch {
			case !r.Admitted:
				how := "as written"
				if p.AsRunning() {
					how = "as it runs"
				}
				fmt.Fprintf(&b, "  %s: %s: %s %s; denied by PodSecurityPolicy today\n", r.Workload.Source, r.Workload, p.Level, how)
			case p.Level == api.LevelRestricted && p.Dependence == nil && !p.AsRunning():
				continue
			default:
				fmt.Fprintf(&b, "  %s: %s: %s (policy %q)\n", r.Workload.Source, r.Workload, p.Level, r.Policy)
			}
			if p.AsRunning() {
				b.WriteString("    judged as it runs, with what its policy set: whether it needs that cannot be told from the cluster; check its manifest with -f\n")
			}
			if len(p.Stricter) > 0 && (p.Level == api.LevelPrivileged || n.Warn == stricter(p.Level)) {
				fmt.Fprintf(&b, "    fails %s: %s\n", stricter(p.Level), joinViolations(p.Stricter))
			}
			if d := p.Dependence; d != nil {
				fmt.Fprintf(&b, "    passes %s only with policy %q's defaults, which Pod Security Admission does not set; write into the manifest:\n", n.Enforce, r.Policy)
				for _, f := range d.Fields {
					fmt.Fprintf(&b, "      %s: %s\n", p.ManifestField(f.Field), formatValue(f.Value))
				}
				fmt.Fprintf(&b, "    without them: %s\n", d.Denial)
			}
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s: %d restricted, %d baseline, %d privileged; mutation-dependent: %s; privileged only: %s; denied by PodSecurityPolicy today: %s\n",
		plural.Count(len(plan.Namespaces), "namespace"), levels[api.LevelRestricted], levels[api.LevelBaseline], levels[api.LevelPrivileged],
		plural.Count(dependent, "workload"), plural.Count(privileged, "workload"), plural.Count(denied, "workload"))
	_, err := io.WriteString(w, b.String())
	return err
}

func joinViolations(vs []Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, ", ")
}

func formatValue(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// labelCommand is the kubectl command that sets labels on namespace.
func labelCommand(namespace string, labels []Label) string {
	parts := []string{"kubectl label --overwrite namespace " + namespace}
	for _, l := range labels {
		parts = append(parts, l.Key+"="+l.Value)
	}
	return strings.Join(parts, " ")
}

// currentLabels writes a namespace's labels today, sorted.
func currentLabels(current map[string]string) string {
	if len(current) == 0 {
		return "no " + labelPrefix + " labels"
	}
	keys := slices.Sorted(maps.Keys(current))
	for i, k := range keys {
		keys[i] = k + "=" + current[k]
	}
	return strings.Join(keys, " ")
}

// WriteCommands writes one kubectl label command per namespace whose
// labels change (Namespace.Changes).
func WriteCommands(w io.Writer, plan *Plan) error {
	var b strings.Builder
	for _, n := range plan.Namespaces {
		changes := n.Changes(plan.Version)
		if len(changes) == 0 {
			continue
		}
		b.WriteString(labelCommand(n.Name, changes))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePatch writes the labels as a YAML stream of Namespace objects
// holding only them: an apply patch, for kubectl apply --server-side.
// Namespaces whose labels do not change are left out.
func WritePatch(w io.Writer, plan *Plan) error {
	var b strings.Builder
	for _, n := range plan.Namespaces {
		changes := n.Changes(plan.Version)
		if len(changes) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("---\n")
		}
		obj := map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": n.Name, "labels": labelMap(changes)}}
		data, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		b.Write(data)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func labelMap(labels []Label) map[string]string {
	m := make(map[string]string, len(labels))
	for _, l := range labels {
		m[l.Key] = l.Value
	}
	return m
}

// WriteJSON writes the plan as one JSON object headed by ReportAPIVersion and ReportKind.
func WriteJSON(w io.Writer, plan *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<stdin>" as it is
	return enc.Encode(report(plan))
}

// WriteYAML writes the plan as YAML, with the fields of WriteJSON.
func WriteYAML(w io.Writer, plan *Plan) error {
	data, err := yaml.Marshal(report(plan))
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// report is the JSON and YAML form of plan.
func report(plan *Plan) v1alpha1.PodSecurityMigration {
	out := v1alpha1.PodSecurityMigration{TypeMeta: v1alpha1.TypeMeta{APIVersion: ReportAPIVersion, Kind: ReportKind},
		PodSecurityStandardsVersion: plan.Version, Namespaces: []v1alpha1.NamespaceMigration{}}
	for _, n := range plan.Namespaces {
		jn := v1alpha1.NamespaceMigration{Name: n.Name, Enforce: string(n.Enforce), Warn: string(n.Warn), Audit: string(n.Warn), Labels: labelMap(n.Labels(plan.Version)),
			Count: v1alpha1.MigrationCount(n.Count()), Workloads: []v1alpha1.WorkloadMigration{},
			CurrentLabels: n.Current, TightensEnforceFrom: string(n.Tightens())}
		if n.Current != nil {
			jn.Changes = labelMap(n.Changes(plan.Version))
		}
		for _, p := range n.Pods {
			r := p.Result
			wl := r.Workload
			jp := v1alpha1.WorkloadMigration{Source: check.ReportSource(wl.Source), Kind: wl.Kind, Namespace: wl.Namespace, Name: wl.Name,
				Admitted: r.Admitted, Policy: r.Policy, Message: r.Message, Level: string(p.Level), StricterViolations: violations(p.Stricter), JudgedAsRunning: p.AsRunning()}
			if d := p.Dependence; d != nil {
				jd := &v1alpha1.MutationDependence{Violations: violations(d.Violations), Denial: d.Denial}
				for _, f := range d.Fields {
					jd.Fields = append(jd.Fields, v1alpha1.PolicyDefault{Field: f.Field, ManifestField: p.ManifestField(f.Field), Value: f.Value})
				}
				jp.MutationDependent = jd
			}
			jn.Workloads = append(jn.Workloads, jp)
		}
		out.Namespaces = append(out.Namespaces, jn)
	}
	return out
}

func violations(in []Violation) []v1alpha1.Violation {
	var out []v1alpha1.Violation
	for _, v := range in {
		out = append(out, v1alpha1.Violation(v))
	}
	return out
}
