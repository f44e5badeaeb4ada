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
// check, explain, lint and who-can, run here, and every report among the
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
		// DiffReport and PodSecurityMigration share the apiVersion; their
		// types are pkg/diff's and pkg/migrate's, tested there.
		if strings.Contains(string(data), v1alpha1.APIVersion) && !strings.Contains(string(data), "DiffReport") && !strings.Contains(string(data), "PodSecurityMigration") {
			reports++
			outputs = append(outputs, output{file, "", string(data)})
		}
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
				if item.Source.File == "" || item.Source.Document == 0 || item.Source.Line == 0 {
					t.Errorf("%s: %s %s/%s has source %+v", o.name, item.Kind, item.Namespace, item.Name, item.Source)
				}
				if strings.Contains(o.name, "-f -") && item.Source.File != "<stdin>" {
					t.Errorf("%s: standard input is %q", o.name, item.Source.File)
				}
			}
		case *v1alpha1.LintReport:
			kind = r.Kind
			if r.Summary.Findings != len(r.Items) || r.Summary.Errors+r.Summary.Warnings+r.Summary.Info != len(r.Items) {
				t.Errorf("%s: summary %+v of %d items", o.name, r.Summary, len(r.Items))
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
