package webhook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesPathsWithoutPolicies: serve does not start on a
// --policies directory without a PodSecurityPolicy (a mistyped path or an
// emptied ConfigMap), which would deny every pod; it says what the path
// holds.
func TestServeRefusesPathsWithoutPolicies(t *testing.T) {
	dir := t.TempDir()
	apps := filepath.Join(dir, "apps")
	if err := os.Mkdir(apps, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(apps, "app.yaml"), []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rbac.yaml"), []byte(rbacAll), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec_(t, "serve", "--policies", apps, "--rbac", filepath.Join(dir, "rbac.yaml"), "--tls-cert-file", "x", "--tls-private-key-file", "y")
	if err == nil || !strings.Contains(out, "no PodSecurityPolicy found in "+apps+" (they hold: 1 Deployment)") {
		t.Errorf("serve started or did not say why: %v\n%s", err, out)
	}
}
