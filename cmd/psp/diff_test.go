package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The golden runs of psp diff (TestCommandsGolden): the seed article's flow
// and the pull request of examples/diff.
var (
	diffSeed = []string{"diff", "-f", "examples/", "--before", "examples/eks", "--before", "examples/seed", "--after", "examples/seed"}
	diffPR   = []string{"diff", "-f", "examples/", "--before", "examples/diff/before", "--after", "examples/diff/after"}
)

// TestDiffExit: the exit status follows --fail-on, and usage and input
// errors exit 2 with a message saying what to do.
func TestDiffExit(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	// Only a different policy: the article's Deployment, from eks.privileged to example.
	differentPolicy := []string{"diff", "-f", "examples/web-deployment.yaml", "--before", "examples/eks", "--before", "examples/seed", "--after", "examples/seed"}
	newlyDenied := []string{"diff", "-f", "examples/nginx-root.yaml", "--before", "examples/eks", "--after", "examples/seed"}
	unchanged := []string{"diff", "-f", "examples/", "--before", "examples/eks", "--after", "examples/eks"}
	sets := []string{"--before", "examples/eks", "--after", "examples/seed"}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"different policy, default", differentPolicy, 0, ""},
		{"different policy, any-change", append(differentPolicy, "--fail-on", "any-change"), 1, ""},
		{"newly denied, default", newlyDenied, 1, ""},
		{"newly denied, none", append(newlyDenied, "--fail-on", "none"), 0, ""},
		{"unchanged, any-change", append(unchanged, "--fail-on", "any-change"), 0, ""},
		{"no sets", []string{"diff", "-f", "examples/"}, 2, "needs --before and --after"},
		{"argument", append([]string{"diff", "examples/"}, sets...), 2, "takes manifests with -f"},
		{"output", append([]string{"diff", "-f", "examples/", "-o", "table"}, sets...), 2, "--output must be text, json, yaml or sarif"},
		{"fail-on", append([]string{"diff", "-f", "examples/", "--fail-on", "warning"}, sets...), 2, "--fail-on must be newly-denied, any-change or none"},
		{"both cluster", []string{"diff", "--before", "cluster", "--after", "cluster"}, 2, "nothing to compare"},
		{"keyword and paths", []string{"diff", "-f", "examples/", "--before", "none", "--before", "examples/eks", "--after", "examples/seed"}, 2, "--before: none cannot be combined with paths"},
		{"authorization without the cluster's set", []string{"diff", "--before", "examples/eks", "--after", "none", "--sar-timeout", "1s", "--kubeconfig", "examples/nope"}, 2, "--sar-timeout is for the cluster's set"},
		{"cluster flag without a cluster", append([]string{"diff", "-f", "examples/", "--authorization", "subjectaccessreview"}, sets...), 2, "--authorization is for reading a cluster"},
		{"-A with -f", append([]string{"diff", "-f", "examples/", "-A"}, sets...), 2, "cannot be combined with -f"},
		{"set without policies or RBAC", []string{"diff", "-f", "examples/", "--before", "examples/nginx-root.yaml", "--after", "examples/seed"}, 2,
			`--before: no PodSecurityPolicy or RBAC found in examples/nginx-root.yaml; for a set without any, give "none"`},
		{"missing path", []string{"diff", "-f", "examples/", "--before", "examples/nope", "--after", "examples/seed"}, 2, "examples/nope"},
		{"no workloads", append([]string{"diff", "-f", "examples/eks"}, sets...), 2, "no workloads to compare"},
		{"no cluster", []string{"diff", "--before", "cluster", "--after", "examples/seed", "--kubeconfig", "examples/nope"}, 2, "examples/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, want %d; stdout: %s; stderr %q, want %q", code, tc.code, out, errOut, tc.stderr)
			}
		})
	}
	out, _, _ := run(t, "", unchanged...)
	if want := "0 workloads of 6 change: 0 newly denied, 0 newly admitted, 0 different policy, 0 different defaults; 6 unchanged\n"; out != want {
		t.Errorf("unchanged: %q, want %q", out, want)
	}
}

// TestDiffCompletion: --before and --after complete the keywords, and files.
func TestDiffCompletion(t *testing.T) {
	out, _, code := run(t, "", "__complete", "diff", "--before", "")
	if code != 0 || !strings.Contains(out, "cluster\nnone\n:0\n") {
		t.Errorf("completion of --before (exit %d):\n%s", code, out)
	}
}
