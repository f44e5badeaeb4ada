package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// psp migrate pss on the examples, with the built-in presets and with the
// seed article's flow: EKS's eks.privileged for everyone, and its
// "example" policy for ServiceAccount app-test/app.
func TestMigratePSSGolden(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	seed := []string{"--policies", "examples/eks,examples/seed", "--rbac", "examples/eks,examples/seed"}
	for _, tc := range []struct {
		golden string
		args   []string
		code   int // 1 when some workload is denied by PodSecurityPolicy today
	}{
		{"migrate-examples.txt", []string{"migrate", "pss", "-f", "examples/"}, 1},
		{"migrate-examples.json", []string{"migrate", "pss", "-f", "examples/", "-o", "json"}, 1},
		{"migrate-examples-eks.txt", []string{"migrate", "pss", "-f", "examples/", "--preset", "eks"}, 0},
		{"migrate-examples-eks.yaml", []string{"migrate", "pss", "-f", "examples/", "--preset", "eks", "-o", "yaml"}, 0},
		{"migrate-examples-commands.txt", []string{"migrate", "pss", "-f", "examples/", "--preset", "baseline", "-o", "commands"}, 1},
		{"migrate-examples-patch.yaml", []string{"migrate", "pss", "-f", "examples/", "--preset", "baseline", "-o", "patch", "--version", "v1.30"}, 1},
		{"migrate-seed.txt", append([]string{"migrate", "pss", "-f", "examples/web-deployment.yaml", "-f", "examples/debug-pod.yaml"}, seed...), 0},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			if denied := strings.Contains(errOut, "denied by PodSecurityPolicy today"); denied != (tc.code == 1) {
				t.Errorf("stderr %q: warning of denied workloads %v, want %v", errOut, denied, tc.code == 1)
			}
			golden(t, filepath.Join("cmd", "psp", "testdata", tc.golden), out)
		})
	}
}

func TestMigratePSSErrors(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "pss", "-f", "examples/", "--version", "1.30"}, `--version: Pod Security Standards version "1.30": must be "latest" or "v1.x"`},
		{[]string{"migrate", "pss", "-f", "examples/", "--version", "v1.99"}, `--version: Pod Security Standards version "v1.99": newer than v1.37`},
		{[]string{"migrate", "pss", "-f", "examples/", "-o", "sarif"}, "--output must be text, json, yaml, commands or patch"},
		{[]string{"migrate", "pss", "-f", "examples/", "--apply"}, "--apply is for a live cluster, not for manifests (-f)"},
		{[]string{"migrate", "pss", "-f", "examples/", "-A"}, "--all-namespaces is for a live cluster"},
		{[]string{"migrate", "pss", "-f", "examples/", "--sar-qps", "5"}, "--sar-qps is for a live cluster"},
		{[]string{"migrate", "pss", "--policies", "examples/eks"}, "--policies needs manifests (-f)"},
		{[]string{"migrate", "pss", "-n", "a", "-A", "--kubeconfig", "/nonexistent"}, "give --namespace or --all-namespaces, not both"},
		{[]string{"migrate", "pss", "--kubeconfig", "/nonexistent/kubeconfig"}, "connecting to the cluster"},
	} {
		_, errOut, code := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// -n and -A read alike on every command that reads a cluster, and -n's
// manifest default is not shown as pflag's (default "default"), which
// contradicts -A's being the default on a cluster.
func TestNamespaceFlagsHelp(t *testing.T) {
	var allHelp string
	for _, args := range [][]string{{"audit"}, {"diff"}, {"generate"}, {"migrate", "pss"}} {
		out, _, code := run(t, "", append(args, "--help")...)
		if code != 0 {
			t.Fatalf("%v --help: exit %d", args, code)
		}
		var n, all string
		for _, line := range strings.Split(out, "\n") {
			switch f := strings.TrimSpace(line); {
			case strings.HasPrefix(f, "-n, --namespace"):
				n = f
			case strings.HasPrefix(f, "-A, --all-namespaces"):
				all = f
			}
		}
		if n == "" || all == "" || strings.HasSuffix(n, `(default "default")`) || !strings.Contains(n, "on a cluster, this namespace only") {
			t.Errorf("%v --help: -n %q, -A %q", args, n, all)
		}
		if allHelp == "" {
			allHelp = all
		} else if all != allHelp {
			t.Errorf("%v --help: -A %q, unlike %q", args, all, allHelp)
		}
	}
}

// A Namespace object of the input already labelled as the plan needs: no
// change proposed for what it has; one tightened says so on stderr.
func TestMigratePSSNamespaceObjects(t *testing.T) {
	const ns = `apiVersion: v1
kind: Namespace
metadata:
  name: NS
  labels: {pod-security.kubernetes.io/enforce: privileged}
---
`
	const ds = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: monitoring}
spec:
  selector: {matchLabels: {app: ne}}
  template:
    metadata: {labels: {app: ne}}
    spec:
      hostPID: true
      containers: [{name: ne, image: ne}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: web}
spec:
  containers: [{name: app, image: app}]
`
	input := strings.ReplaceAll(ns, "NS", "monitoring") + strings.ReplaceAll(ns, "NS", "web") + ds
	out, errOut, code := run(t, input, "migrate", "pss", "-f", "-", "--preset", "eks", "-o", "commands")
	if code != 0 || strings.Contains(out, "enforce=privileged") || !strings.Contains(out, "namespace monitoring pod-security.kubernetes.io/enforce-version=latest") ||
		!strings.Contains(out, "namespace web pod-security.kubernetes.io/enforce=baseline") ||
		!strings.Contains(errOut, "warning: namespace web: tightens enforce from privileged to baseline") || strings.Contains(errOut, "namespace monitoring") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	out, _, _ = run(t, input, "migrate", "pss", "-f", "-", "--preset", "eks", "-o", "json")
	for _, want := range []string{`"currentLabels": {`, `"tightensEnforceFrom": "privileged"`, `"changes": {`} {
		if !strings.Contains(out, want) {
			t.Errorf("json lacks %s:\n%s", want, out)
		}
	}
	out, _, _ = run(t, input, "migrate", "pss", "-f", "-", "--preset", "eks")
	if !strings.Contains(out, "namespace monitoring: enforce privileged, warn and audit baseline (Pod Security Standards latest)\n  current: pod-security.kubernetes.io/enforce=privileged\n  kubectl label") {
		t.Errorf("text:\n%s", out)
	}
}
