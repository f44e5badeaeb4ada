package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// run runs the psp command line in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCommand("psp", strings.NewReader(stdin), &out, &errOut)
	cmd.SetArgs(args)
	code := 0
	if err := cmd.Execute(); err != nil {
		code = 2
		if e, ok := err.(*exitError); ok {
			code = e.code
		} else {
			errOut.WriteString("error: " + err.Error() + "\n")
		}
	}
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/psp -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output; run go test ./cmd/psp -update and review the diff\n--- got:\n%s", path, got)
	}
}

func TestCheckExamples(t *testing.T) {
	// Paths relative to the repository root, as a user types them there.
	t.Chdir(filepath.Join("..", ".."))
	for _, tc := range []struct {
		name, golden string
		args         []string
		code         int
	}{
		{"restricted preset", "check-examples.txt", []string{"check", "-f", "examples/"}, 1},
		{"json", "check-examples.json", []string{"check", "-f", "examples/", "-o", "json"}, 1},
		{"eks default policy admits everything", "check-examples-eks.txt", []string{"check", "-f", "examples/", "--policies", "examples/eks", "--rbac", "examples/eks"}, 0},
		{"privileged preset", "check-examples-privileged.txt", []string{"check", "-f", "examples/", "--preset", "privileged"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			t.Chdir(filepath.Join("cmd", "psp"))
			golden(t, tc.golden, out)
		})
	}
}

func TestCheckErrors(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"missing file", "", []string{"check", "-f", "does-not-exist.yaml"}, "reading does-not-exist.yaml"},
		{"no -f", "", []string{"check"}, `required flag(s) "filename" not set`},
		{"bad output", "", []string{"check", "-f", "-", "-o", "yaml"}, "--output must be text, json or sarif"},
		{"bad preset", "", []string{"check", "-f", "-", "--preset", "open"}, `unknown preset "open"`},
		{"preset with files", "", []string{"check", "-f", "-", "--preset", "baseline", "--policies", "x"}, "--preset cannot be combined"},
		{"bad manifest names document and field", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {hostPID: yes-please}\n",
			[]string{"check", "-f", "-"}, "<stdin>: document 2 (line 5): Pod: cannot unmarshal string into Go struct field PodSpec.spec.hostPID of type bool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, tc.stdin, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

func TestCheckStdinAdmitted(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: team}\nspec:\n  securityContext: {runAsUser: 1000, fsGroup: 1, supplementalGroups: [1]}\n" +
		"  containers:\n  - name: a\n    image: x\n    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}\n"
	out, errOut, code := run(t, pod, "check", "-f", "-")
	if code != 0 || !strings.Contains(out, `ADMITTED by policy "restricted", unchanged`) {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
