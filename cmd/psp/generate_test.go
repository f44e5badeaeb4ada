package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateGolden(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	for _, tc := range []struct {
		name, golden string
		args         []string
		code         int
	}{
		{"examples", "generate-examples.yaml", []string{"generate", "-f", "examples/", "-R"}, 0},
		{"json", "generate-examples.json", []string{"generate", "-f", "examples/", "-R", "-o", "json"}, 0},
		{"by namespace", "generate-examples-namespace.yaml", []string{"generate", "-f", "examples/", "-R", "--group-by", "namespace", "--name-prefix", "ns."}, 0},
		{"by workload", "generate-examples-workload.yaml", []string{"generate", "-f", "examples/", "-R", "--group-by", "workload"}, 1},
		{"policy/v1beta1", "generate-examples-v1beta1.yaml", []string{"generate", "-f", "examples/", "-R", "--api-version", "policy/v1beta1"}, 0},
		{"with eks.privileged, which sorts first", "generate-examples-eks.txt", []string{"generate", "-f", "examples/", "-R", "--policies", "examples/eks", "--rbac", "examples/eks"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			if strings.HasSuffix(tc.golden, ".txt") {
				out = errOut // the proof's findings
			}
			t.Chdir(filepath.Join("cmd", "psp"))
			golden(t, tc.golden, out)
		})
	}
}

// TestGenerateVerifyRoundTrip: what generate writes, given back as existing
// policies and RBAC, passes --verify; with a policy loosened so that another
// workload's sorts first, --verify names the workload.
func TestGenerateVerifyRoundTrip(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	out, errOut, code := run(t, "", "generate", "-f", "examples/", "-R")
	if code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "generated.yaml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	verified, errOut, code := run(t, "", "generate", "--verify", "-f", "examples/", "-R", "--policies", file, "--rbac", file)
	if code != 0 || !strings.Contains(verified, "12 workloads: 12 admitted unchanged by their own policy, 0 not") {
		t.Fatalf("verify: exit %d: %s%s", code, verified, errOut)
	}
	// Grant the CNI agent's privileged policy to everyone: it sorts before
	// some workloads' own policies and admits them unchanged.
	grant := `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: everyone-aws-node
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: psp:generated.kube-system.aws-node
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:authenticated
`
	if err := os.WriteFile(file, []byte(out+grant), 0o644); err != nil {
		t.Fatal(err)
	}
	verified, _, code = run(t, "", "generate", "--verify", "-f", "examples/", "-R", "--policies", file, "--rbac", file)
	if code != 1 || !strings.Contains(verified, `Pod shop/debug: NOT PROVEN: admitted unchanged by policy "generated.kube-system.aws-node", not by its own "generated.shop.default", which sorts before it`) {
		t.Errorf("verify with a wider grant: exit %d, want 1 naming shop/debug:\n%s", code, verified)
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "examples/"}, "psp generate takes files with -f: psp generate -f examples/"},
		{[]string{"generate", "-f", "examples/", "-o", "sarif"}, `--output must be yaml or json, not "sarif"`},
		{[]string{"generate", "-f", "examples/", "--group-by", "pod"}, `unknown grouping "pod" (want one of serviceaccount, namespace, workload)`},
		{[]string{"generate", "-f", "examples/", "--api-version", "extensions/v1beta1"}, `unknown API version "extensions/v1beta1"`},
		{[]string{"generate", "-f", "examples/", "--name-prefix", "Bad_"}, `policy name "Bad_`},
		{[]string{"generate", "-f", "examples/", "-A"}, "-f reads manifests: --all-namespaces, --kubeconfig and --context read a cluster instead"},
		{[]string{"generate", "--verify", "-f", "examples/"}, "--verify proves existing policies: give them with --policies"},
		{[]string{"generate", "-f", "examples/eks"}, "no workloads to check"},
		{[]string{"generate", "--kubeconfig", "/nonexistent/kubeconfig"}, "/nonexistent/kubeconfig"},
	} {
		_, errOut, code := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestGenerateFromStdin: -f - reads standard input, as check does.
func TestGenerateFromStdin(t *testing.T) {
	pod := `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team}
spec:
  automountServiceAccountToken: false
  containers:
  - name: web
    image: web:1
    ports: [{containerPort: 8080, hostPort: 8080}]
`
	out, errOut, code := run(t, pod, "generate", "-f", "-", "-o", "json")
	if code != 0 || !strings.Contains(out, `"name": "generated.team.default"`) || !strings.Contains(out, `"min": 8080`) ||
		!strings.Contains(errOut, "1 workload: 1 admitted unchanged by their own policy, 0 not") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}
