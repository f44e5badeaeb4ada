package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
)

// TestReportsDecodeIntoTheirTypes: every -o json and -o yaml output of
// check, explain, lint, who-can, diff, generate --verify and migrate pss,
// run here, and every report among the
// golden files (check --images, bad documents), decodes into the
// documented v1alpha1 types with unknown fields refused, with the kind of
// its command; standard input is "<stdin>", unescaped.
func TestReportsDecodeIntoTheirTypes(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	pitfalls := []string{"--policies", "examples/pitfalls", "--rbac", "examples/pitfalls"}
	nginx, err := os.ReadFile("examples/nginx-root.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type output struct{ name, kind, data string }
	var outputs []output
	for _, format := range []string{"json", "yaml"} {
		for _, tc := range []struct {
			kind, stdin string
			args        []string
		}{
			{v1alpha1.KindCheckReport, "", []string{"check", "-f", "examples/"}},
			{v1alpha1.KindCheckReport, string(nginx), []string{"check", "-f", "-"}},
			{v1alpha1.KindCheckReport, "", []string{"check", "-f", "examples/apiserver", "--allow-empty"}},
			{v1alpha1.KindExplainReport, "", []string{"explain", "-f", "examples/", "-R"}},
			{v1alpha1.KindLintReport, "", append([]string{"lint", "--fail-on", "none"}, pitfalls...)},
			{v1alpha1.KindLintReport, "", []string{"lint", "--fail-on", "none"}},
			{v1alpha1.KindWhoCanReport, "", append([]string{"who-can", "use", "host-logs", "-n", "logging"}, pitfalls...)},
			{v1alpha1.KindDiffReport, "", []string{"diff", "-f", "examples/", "--before", "examples/eks", "--before", "examples/seed", "--after", "examples/seed"}},
			{v1alpha1.KindDiffReport, string(nginx), []string{"diff", "-f", "-", "--before", "examples/eks", "--after", "none"}},
			{v1alpha1.KindVerifyReport, "", []string{"generate", "--verify", "-f", "examples/", "--policies", "examples/eks", "--rbac", "examples/eks"}},
			{v1alpha1.KindPodSecurityMigration, string(nginx), []string{"migrate", "pss", "-f", "-", "--policies", "examples/eks", "--rbac", "examples/eks"}},
			{v1alpha1.KindVerifyReport, string(nginx), []string{"generate", "--verify", "-f", "-", "--policies", "examples/eks", "--rbac", "examples/eks"}},
		} {
			args := append(tc.args, "-o", format)
			out, errOut, code := run(t, tc.stdin, args...)
			if code > 1 {
				t.Fatalf("psp %s: exit %d: %s", strings.Join(args, " "), code, errOut)
			}
			outputs = append(outputs, output{strings.Join(args, " "), tc.kind, out})
		}
	}
	golden, err := filepath.Glob("cmd/psp/testdata/*.[jy][sa]*")
	if err != nil {
		t.Fatal(err)
	}
	reports := 0
	for _, file := range golden {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), v1alpha1.APIVersion) {
			reports++
			outputs = append(outputs, output{file, "", string(data)})
		}
	}
	// The examples of docs/output.md, which TestDocExamples keeps true.
	doc, err := os.ReadFile("docs/output.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := 0
	for _, block := range strings.Split(string(doc), "```console\n")[1:] {
		command, out, _ := strings.Cut(strings.SplitN(block, "```", 2)[0], "\n")
		if strings.Contains(out, v1alpha1.APIVersion) {
			examples++
			outputs = append(outputs, output{"docs/output.md: " + command, "", out})
		}
	}
	if examples < 7 {
		t.Errorf("%d reports among docs/output.md's examples, want one of each kind but AuditReport", examples)
	}
	if reports < 8 {
		t.Errorf("%d golden reports found; the golden files were not read", reports)
	}
	for _, o := range outputs {
		data := []byte(o.data)
		if !strings.HasPrefix(o.data, "{") {
			if data, err = yaml.YAMLToJSON(data); err != nil {
				t.Errorf("%s: %v", o.name, err)
				continue
			}
		} else if strings.Contains(o.data, `\u003c`) || strings.Contains(o.data, `\u0026`) {
			t.Errorf("%s: escapes <, > or &", o.name)
		}
		report, err := v1alpha1.Decode(data)
		if err != nil {
			t.Errorf("%s: %v", o.name, err)
			continue
		}
		kind := ""
		switch r := report.(type) {
		case *v1alpha1.CheckReport:
			kind = r.Kind
			if r.Summary.Workloads != len(r.Items) || r.Summary.Admitted+r.Summary.Denied+r.Summary.Invalid != len(r.Items) {
				t.Errorf("%s: summary %+v of %d items", o.name, r.Summary, len(r.Items))
			}
			for _, item := range r.Items {
				checkSource(t, o.name, item.Kind+" "+item.Namespace+"/"+item.Name, item.Source)
			}
		case *v1alpha1.LintReport:
			kind = r.Kind
			if r.Summary.Findings != len(r.Items) || r.Summary.Errors+r.Summary.Warnings+r.Summary.Info != len(r.Items) {
				t.Errorf("%s: summary %+v of %d items", o.name, r.Summary, len(r.Items))
			}
		case *v1alpha1.DiffReport:
			kind = r.Kind
			if len(r.BeforeSet) == 0 || len(r.AfterSet) == 0 || r.Summary.Changed != len(r.Items) || r.Summary.Changed+r.Summary.Unchanged != r.Summary.Workloads {
				t.Errorf("%s: sets %q, %q, summary %+v of %d items", o.name, r.BeforeSet, r.AfterSet, r.Summary, len(r.Items))
			}
			for _, item := range r.Items {
				checkSource(t, o.name, item.Kind+" "+item.Namespace+"/"+item.Name, item.Source)
			}
		case *v1alpha1.VerifyReport:
			kind = r.Kind
			if s := r.Summary; s.Workloads != len(r.Items) || s.Proven+s.Unowned+s.NotProven != len(r.Items) {
				t.Errorf("%s: summary %+v of %d items", o.name, s, len(r.Items))
			}
			for _, item := range r.Items {
				checkSource(t, o.name, item.Kind+" "+item.Namespace+"/"+item.Name, item.Source)
			}
		case *v1alpha1.PodSecurityMigration:
			kind = r.Kind
			if len(r.Namespaces) == 0 {
				t.Errorf("%s: no namespaces", o.name)
			}
			for _, n := range r.Namespaces {
				if n.Count.Workloads != len(n.Workloads) {
					t.Errorf("%s: namespace %s counts %+v of %d workloads", o.name, n.Name, n.Count, len(n.Workloads))
				}
				for _, w := range n.Workloads {
					checkSource(t, o.name, w.Kind+" "+w.Namespace+"/"+w.Name, w.Source)
				}
			}
		case *v1alpha1.WhoCanReport:
			kind = r.Kind
			if r.Policy == "" || len(r.Items) == 0 {
				t.Errorf("%s: %+v", o.name, r)
			}
		}
		if o.kind != "" && kind != o.kind {
			t.Errorf("%s: kind %q, want %q", o.name, kind, o.kind)
		}
	}
}

// checkSource: a workload read from a file names file, document and line;
// standard input is "<stdin>".
func checkSource(t *testing.T, output, workload string, src v1alpha1.Source) {
	t.Helper()
	if src.File == "" || src.Document == 0 || src.Line == 0 {
		t.Errorf("%s: %s has source %+v", output, workload, src)
	}
	if strings.Contains(output, "-f -") && src.File != "<stdin>" {
		t.Errorf("%s: standard input is %q", output, src.File)
	}
}
