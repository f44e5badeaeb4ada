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
	path := name
	if !strings.Contains(name, string(filepath.Separator)) {
		path = filepath.Join("testdata", name)
	}
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

// TestCommandsGolden runs every command and output format on the examples.
func TestCommandsGolden(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	seed := []string{"--policies", "examples/seed", "--rbac", "examples/seed"}
	eks := []string{"--policies", "examples/eks", "--rbac", "examples/eks"}
	pitfalls := []string{"--policies", "examples/pitfalls", "--rbac", "examples/pitfalls"}
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"check-examples.sarif", []string{"check", "-f", "examples/", "-o", "sarif"}, 1},
		{"check-examples.yaml", []string{"check", "-f", "examples/", "-o", "yaml"}, 1},
		{"explain-nginx-root.txt", []string{"explain", "examples/nginx-root.yaml"}, 0},
		{"explain-web.txt", []string{"explain", "examples/web-deployment.yaml"}, 0},
		{"explain-nginx-root.json", []string{"explain", "examples/nginx-root.yaml", "-o", "json"}, 0},
		{"can-i-seed-sa.txt", append([]string{"can-i", "use", "podsecuritypolicy/example", "--serviceaccount", "app-test:app"}, seed...), 0},
		{"can-i-seed-other-ns.txt", append([]string{"can-i", "use", "example", "--serviceaccount", "app-test:app", "-n", "prod"}, seed...), 0},
		{"can-i-seed-user.txt", append([]string{"can-i", "use", "example", "--as", "alice"}, seed...), 1},
		{"who-can-eks.txt", append([]string{"who-can", "use", "eks.privileged"}, eks...), 0},
		{"who-can-pitfalls.json", append([]string{"who-can", "use", "host-logs", "-o", "json"}, pitfalls...), 0},
		{"lint-eks.txt", append([]string{"lint"}, eks...), 1},
		{"lint-pitfalls.txt", append([]string{"lint"}, pitfalls...), 1},
		{"lint-pitfalls.json", append([]string{"lint", "-o", "json", "--fail-on", "none"}, pitfalls...), 0},
		{"lint-pitfalls.sarif", append([]string{"lint", "-o", "sarif", "--fail-on", "warning"}, pitfalls...), 1},
		{"convert-eks.yaml", []string{"convert", "-f", "examples/eks"}, 0},
		{"convert-seed-v1beta1.yaml", []string{"convert", "-f", "examples/seed", "--to", "policy/v1beta1"}, 0},
		// The cluster's answers to the three inputs of issue 12 (see examples/apiserver).
		{"check-hostnetwork-ports.txt", append([]string{"check", "-f", "examples/apiserver/hostnetwork-ports/daemonset.yaml"}, apiserver("hostnetwork-ports")...), 1},
		{"check-serviceaccount-alias.txt", append([]string{"check", "-f", "examples/apiserver/serviceaccount-alias/deployment.yaml"}, apiserver("serviceaccount-alias")...), 0},
		{"check-impersonation.txt", append([]string{"check", "-f", "examples/apiserver/impersonation/pod.yaml", "--as", controller}, apiserver("impersonation")...), 0},
		{"check-impersonation-default.txt", append([]string{"check", "-f", "examples/apiserver/impersonation/pod.yaml"}, apiserver("impersonation")...), 1},
		{"can-i-impersonation.txt", append([]string{"can-i", "use", "podsecuritypolicy/privileged", "--as", controller, "-n", "shop"}, apiserver("impersonation")...), 0},
		{"can-i-impersonation-groups.txt", append([]string{"can-i", "use", "podsecuritypolicy/privileged", "--as", controller, "--as-group", "ops", "-n", "shop"}, apiserver("impersonation")...), 1},
		{"explain-serviceaccount-alias.txt", append([]string{"explain", "examples/apiserver/serviceaccount-alias/deployment.yaml"}, apiserver("serviceaccount-alias")...), 0},
		{"init-restricted.yaml", []string{"init", "--preset", "restricted"}, 0},
		{"init-eks-v1beta1.yaml", []string{"init", "--preset", "eks", "--to", "policy/v1beta1"}, 0},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			golden(t, filepath.Join("cmd", "psp", "testdata", tc.golden), out)
		})
	}
}

// controller is the identity of the Deployment controller.
const controller = "system:serviceaccount:kube-system:replicaset-controller"

// apiserver gives the policy and RBAC flags of an examples/apiserver case.
func apiserver(name string) []string {
	f := "examples/apiserver/" + name + "/policy.yaml"
	return []string{"--policies", f, "--rbac", f}
}

func TestKubectlPluginName(t *testing.T) {
	out, _, code := run(t, "", "check", "--help")
	if code != 0 || !strings.Contains(out, "psp check -f examples/") {
		t.Errorf("help: %d %s", code, out)
	}
	var buf bytes.Buffer
	cmd := newRootCommand("kubectl psp", strings.NewReader(""), &buf, &buf)
	cmd.SetArgs([]string{"explain", "--help"})
	if err := cmd.Execute(); err != nil || !strings.Contains(buf.String(), "kubectl psp explain examples/nginx-root.yaml") {
		t.Errorf("as a kubectl plugin: %v %s", err, buf.String())
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
		{"bad output", "", []string{"check", "-f", "-", "-o", "xml"}, "--output must be text, json, yaml or sarif"},
		{"bad preset", "", []string{"check", "-f", "-", "--preset", "open"}, `unknown preset "open"`},
		{"preset with files", "", []string{"check", "-f", "-", "--preset", "baseline", "--policies", "x"}, "--preset cannot be combined"},
		{"convert unknown version", "", []string{"convert", "-f", "-", "--to", "policy/v1"}, `cannot write policies as "policy/v1"`},
		{"convert additions to v1beta1", "apiVersion: policy.kube-psp.io/v1\nkind: PodSecurityPolicy\nmetadata: {name: u}\nspec: {requireUserNamespace: true, runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n",
			[]string{"convert", "-f", "-", "--to", "policy/v1beta1"}, "spec.requireUserNamespace: Forbidden"},
		{"init unknown preset", "", []string{"init", "--preset", "open"}, `unknown preset "open"`},
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
