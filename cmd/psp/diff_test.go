package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffGolden runs psp diff on the examples: the seed article's flow
// (EKS's eks.privileged and its binding deleted, the article's own policy
// kept), every policy deleted, and the pull request of examples/diff.
func TestDiffGolden(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	seed := []string{"diff", "-f", "examples/", "--before", "examples/eks", "--before", "examples/seed", "--after", "examples/seed"}
	pr := []string{"diff", "-f", "examples/", "--before", "examples/diff/before", "--after", "examples/diff/after"}
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"diff-seed.txt", seed, 1},
		{"diff-seed.json", append(seed, "-o", "json"), 1},
		{"diff-seed.sarif", append(seed, "-o", "sarif"), 1},
		{"diff-eks-none.txt", []string{"diff", "-f", "examples/", "--before", "examples/eks", "--after", "none"}, 1},
		{"diff-pr.txt", pr, 1},
		{"diff-pr.json", append(pr, "-o", "json"), 1},
		{"diff-pr.sarif", append(pr, "-o", "sarif"), 1},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			t.Chdir(filepath.Join("cmd", "psp"))
			golden(t, tc.golden, out)
		})
	}
}

// TestDiffFailOn: the exit status follows --fail-on.
func TestDiffFailOn(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	// Only a different policy: the article's Deployment, from eks.privileged to example.
	differentPolicy := []string{"diff", "-f", "examples/web-deployment.yaml", "--before", "examples/eks", "--before", "examples/seed", "--after", "examples/seed"}
	newlyDenied := []string{"diff", "-f", "examples/nginx-root.yaml", "--before", "examples/eks", "--after", "examples/seed"}
	unchanged := []string{"diff", "-f", "examples/", "--before", "examples/eks", "--after", "examples/eks"}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"different policy, default", differentPolicy, 0},
		{"different policy, any-change", append(differentPolicy, "--fail-on", "any-change"), 1},
		{"newly denied, default", newlyDenied, 1},
		{"newly denied, none", append(newlyDenied, "--fail-on", "none"), 0},
		{"unchanged, any-change", append(unchanged, "--fail-on", "any-change"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stdout: %s; stderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	out, _, _ := run(t, "", unchanged...)
	if want := "0 workloads of 6 change: 0 newly denied, 0 newly admitted, 0 different policy, 0 different defaults; 6 unchanged\n"; out != want {
		t.Errorf("unchanged: %q, want %q", out, want)
	}
}

// TestDiffUsage: usage and input errors exit 2 with a message saying what to do.
func TestDiffUsage(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	sets := []string{"--before", "examples/eks", "--after", "examples/seed"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no sets", []string{"diff", "-f", "examples/"}, "needs --before and --after"},
		{"argument", append([]string{"diff", "examples/"}, sets...), "takes manifests with -f"},
		{"output", append([]string{"diff", "-f", "examples/", "-o", "yaml"}, sets...), "--output must be text, json or sarif"},
		{"fail-on", append([]string{"diff", "-f", "examples/", "--fail-on", "warning"}, sets...), "--fail-on must be newly-denied, any-change or none"},
		{"both cluster", []string{"diff", "--before", "cluster", "--after", "cluster"}, "nothing to compare"},
		{"keyword and paths", []string{"diff", "-f", "examples/", "--before", "none", "--before", "examples/eks", "--after", "examples/seed"}, "--before none cannot be combined with paths"},
		{"-A with -f", append([]string{"diff", "-f", "examples/", "-A"}, sets...), "cannot be combined with -f"},
		{"set without policies or RBAC", []string{"diff", "-f", "examples/", "--before", "examples/nginx-root.yaml", "--after", "examples/seed"}, `--before: no PodSecurityPolicy or RBAC found in examples/nginx-root.yaml; for a set without any, give "none"`},
		{"missing path", []string{"diff", "-f", "examples/", "--before", "examples/nope", "--after", "examples/seed"}, "examples/nope"},
		{"no workloads", append([]string{"diff", "-f", "examples/eks"}, sets...), "no workloads to check"},
		{"no cluster", []string{"diff", "--before", "cluster", "--after", "examples/seed", "--kubeconfig", "examples/nope"}, "examples/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, "", tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}
