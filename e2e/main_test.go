package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// theCluster is shared by every test of the package: starting a control
// plane takes seconds, and the tests run in order, each in its own
// namespace, cleaning up what is cluster-wide.
var theCluster *cluster

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bin, chartDir := os.Getenv("KUBE_PSP_E2E_KUBE_BIN"), os.Getenv("KUBE_PSP_E2E_CHART_DIR")
	if bin == "" || chartDir == "" {
		fmt.Println("e2e: KUBE_PSP_E2E_KUBE_BIN (hack/kube-binaries.sh) or KUBE_PSP_E2E_CHART_DIR (hack/chart.sh) is not set: skipping the end-to-end tests (hack/test.sh sets both)")
		return m.Run()
	}
	// Paths may be given relative to the repository root; tests run in e2e/.
	bin, chartDir = fromRoot(bin), fromRoot(chartDir)
	psp, err := buildPSP()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	start := time.Now()
	c, err := startCluster(bin, psp, chartDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the cluster:", err)
		return 1
	}
	fmt.Printf("e2e: etcd, kube-apiserver, kube-controller-manager and psp serve ready in %s (logs in %s)\n", time.Since(start).Round(100*time.Millisecond), c.dir)
	theCluster = c
	code := m.Run()
	if code != 0 {
		fmt.Println(c.logs())
	}
	c.stop()
	return code
}

// buildPSP builds the psp binary under test, unless KUBE_PSP_E2E_PSP names one.
func buildPSP() (string, error) {
	if p := os.Getenv("KUBE_PSP_E2E_PSP"); p != "" {
		return fromRoot(p), nil
	}
	dir, err := os.MkdirTemp("", "kube-psp-e2e-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "psp")
	if b, err := exec.Command("go", "build", "-o", out, "../cmd/psp").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building psp: %v\n%s", err, b)
	}
	return out, nil
}

// fromRoot makes a path relative to the repository root usable from e2e/.
func fromRoot(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join("..", p)
}

// needCluster skips a test when no cluster was started.
func needCluster(t *testing.T) *cluster {
	t.Helper()
	if theCluster == nil {
		t.Skip("no cluster: set KUBE_PSP_E2E_KUBE_BIN (hack/test.sh does)")
	}
	return theCluster
}
