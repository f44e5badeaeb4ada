package main

import (
	"fmt"
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
	if code != 1 || !strings.Contains(verified, `Pod shop/debug: NOT PROVEN: admitted unchanged by policy "generated.kube-system.aws-node", not by its own "generated.shop.default": "generated.kube-system.aws-node" sorts before "generated.shop.default" (removing that grant lets its own win)`) {
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
		{[]string{"generate", "--verify", "-f", "examples/", "--policies", "examples/eks", "-o", "sarif"}, `--output must be text, json or yaml with --verify, not "sarif"`},
		{[]string{"generate", "-f", "examples/", "--group-by", "pod"}, `unknown grouping "pod" (want one of serviceaccount, namespace, workload)`},
		{[]string{"generate", "-f", "examples/", "--api-version", "extensions/v1beta1"}, `unknown API version "extensions/v1beta1"`},
		{[]string{"generate", "-f", "examples/", "--name-prefix", "Bad_"}, `name prefix "Bad_" cannot start a policy name`},
		{[]string{"generate", "-f", "examples/", "-A"}, "-f reads manifests: --all-namespaces, --kubeconfig and --context read a cluster instead"},
		{[]string{"generate", "--verify", "-f", "examples/"}, "--verify proves existing policies: give them with --policies"},
		{[]string{"generate", "-f", "examples/eks"}, "no workloads to generate policies for"},
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

// writeManifest writes text into a file of a temporary directory.
func writeManifest(t *testing.T, name, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// deploymentIn is a Deployment of namespace ops that runs as its default
// ServiceAccount, with podSpec added to its pod's spec (YAML flow fields).
func deploymentIn(name, podSpec string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, namespace: ops}
spec:
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec: {containers: [{name: c, image: nginx}]%[2]s}
`, name, podSpec)
}

// twoDeploymentsOneAccount share ops/default; only agent uses hostNetwork.
var twoDeploymentsOneAccount = deploymentIn("web", "") + "---\n" + deploymentIn("agent", ", hostNetwork: true")

// TestGenerateSharedAccount: workloads sharing a ServiceAccount, grouped by
// workload, may use each other's policies: the proof says so, names which
// policy sorts before which, and gives the fix that works.
func TestGenerateSharedAccount(t *testing.T) {
	file := writeManifest(t, "two.yaml", twoDeploymentsOneAccount)
	_, errOut, code := run(t, "", "generate", "-f", file, "--group-by", "workload")
	want := `Deployment ops/web: NOT PROVEN: admitted unchanged by policy "generated.ops.deployment.agent" (made for Deployment ops/agent), not by its own "generated.ops.deployment.web": the workloads share ServiceAccount ops/default, the identity PodSecurityPolicy authorizes, so each may use the other's policy, and "generated.ops.deployment.agent" sorts before "generated.ops.deployment.web"; give each workload its own ServiceAccount, or use --group-by serviceaccount`
	if code != 1 || !strings.Contains(errOut, want) || strings.Contains(errOut, "--name-prefix") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and:\n%s", code, errOut, want)
	}
}

// TestGenerateWarnsWideGrants: a policy beyond the restricted preset bound
// to a namespace's default ServiceAccount, and a policy widened by merging
// workloads with different needs, are warned about on stderr and in the
// YAML.
func TestGenerateWarnsWideGrants(t *testing.T) {
	file := writeManifest(t, "two.yaml", twoDeploymentsOneAccount)
	out, errOut, code := run(t, "", "generate", "-f", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`ServiceAccount ops/default merges workloads with different needs into one policy: Deployment ops/web gets more than it uses (give each workload its own ServiceAccount)`,
		`policy "generated.ops.default" allows more than the restricted preset (for Deployment ops/agent) and is granted to the default ServiceAccount ops/default`,
	} {
		if !strings.Contains(errOut, "warning: "+want) || !strings.Contains(out, "# Warning: "+want) {
			t.Errorf("want warning %q on stderr and in the YAML:\n%s\n%s", want, errOut, out)
		}
	}
	// One workload that the restricted preset admits: no warning.
	plain := writeManifest(t, "plain.yaml", strings.Split(twoDeploymentsOneAccount, "---\n")[0])
	_, errOut, _ = run(t, "", "generate", "-f", plain)
	if strings.Contains(errOut, "warning:") {
		t.Errorf("unexpected warning: %s", errOut)
	}
}

// TestGenerateInvalidPod: a pod the apiserver refuses as written is an
// input error (exit 2), not a policy's fault.
func TestGenerateInvalidPod(t *testing.T) {
	file := writeManifest(t, "win.yaml", `apiVersion: v1
kind: Pod
metadata: {name: w, namespace: ops}
spec:
  os: {name: windows}
  securityContext: {runAsUser: 1000}
  containers: [{name: c, image: nginx}]
`)
	for _, args := range [][]string{{"generate", "-f", file}, {"generate", "--verify", "-f", file, "--policies", "../../examples/eks", "--rbac", "../../examples/eks"}} {
		_, errOut, code := run(t, "", args...)
		if code != 2 || !strings.Contains(errOut, `Pod ops/w: the apiserver refuses this pod as written: Pod "w" is invalid: spec.securityContext.runAsUser: Forbidden: cannot be set for a windows pod; no policy can admit it`) || strings.Contains(errOut, "whose defaults") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestGenerateNames: a nameless pod is named by its generateName's stem;
// an identity too long for an object name is shortened with a hash, not
// blamed on --name-prefix.
func TestGenerateNames(t *testing.T) {
	ns := strings.Repeat("n", 63)
	sa := strings.Repeat("s", 200)
	text := `apiVersion: v1
kind: Pod
metadata: {generateName: job-, namespace: ops}
spec:
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: long, namespace: ` + ns + `}
spec:
  serviceAccountName: ` + sa + `
  containers: [{name: c, image: nginx}]
`
	file := writeManifest(t, "nameless.yaml", strings.Split(text, "---\n")[0])
	out, errOut, code := run(t, "", "generate", "-f", file, "--group-by", "workload", "--name-prefix", "x.")
	if code != 0 || !strings.Contains(out, "name: x.ops.pod.job\n") {
		t.Errorf("workload: exit %d: %s\n%s", code, errOut, out)
	}
	longFile := writeManifest(t, "long.yaml", strings.Split(text, "---\n")[1])
	out, errOut, code = run(t, "", "generate", "-f", longFile)
	long := ("generated." + ns + "." + sa)[:242] + "-"
	if code != 0 || !strings.Contains(out, "name: "+long) {
		t.Errorf("long: exit %d, want a name starting %q: %s\n%s", code, long, errOut, out)
	}
}

// TestGenerateVerifyUnowned: --verify does not count a workload that no
// policy was generated for as proven.
func TestGenerateVerifyUnowned(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	out, errOut, code := run(t, "", "generate", "--verify", "-f", "examples/debug-pod.yaml", "--policies", "examples/eks", "--rbac", "examples/eks")
	if code != 0 || !strings.Contains(out, `Pod default/debug: NO OWN POLICY: admitted unchanged by policy "eks.privileged"`) ||
		!strings.Contains(out, "1 workload: 0 admitted unchanged by their own policy, 1 admitted unchanged without an own policy, 0 not") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
	out, errOut, code = run(t, "", "generate", "--verify", "-f", "examples/debug-pod.yaml", "--policies", "examples/eks", "--rbac", "examples/eks", "-o", "yaml")
	if code != 0 || !strings.Contains(out, "kind: VerifyReport\n") || !strings.Contains(out, "- admitted: true\n") || !strings.Contains(out, "unowned: true\n") || !strings.Contains(out, "  unowned: 1\n") {
		t.Errorf("-o yaml: exit %d: %s%s", code, out, errOut)
	}
}
