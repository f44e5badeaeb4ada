package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubectlPlugin: installed as kubectl-psp, with kubectl_complete-psp
// beside it (both links to the binary), kubectl runs `kubectl psp`, which
// names itself so, and kubectl's own completion completes the plugin's
// commands and flags through kubectl_complete-psp.
func TestKubectlPlugin(t *testing.T) {
	c := needCluster(t)
	psp, err := filepath.Abs(c.psp)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"kubectl-psp", "kubectl_complete-psp"} {
		if err := os.Symlink(psp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	kubectl := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(c.bin, "kubectl"), args...)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := kubectl("psp", "check", "--help"); !strings.Contains(out, "\n  kubectl psp check -f PATH... [flags]\n") {
		t.Errorf("kubectl psp check --help:\n%s", out)
	}
	for words, want := range map[string]string{
		"ch":          "check\t",
		"check --pre": "--preset\t",
	} {
		args := append([]string{"__complete", "psp"}, strings.Fields(words)...)
		if out := kubectl(args...); !strings.Contains(out, want) {
			t.Errorf("kubectl __complete psp %s: %q, want a candidate %q", words, out, want)
		}
	}
}
