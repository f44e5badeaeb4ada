package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kube-psp/kube-psp/internal/testutil"
	"github.com/kube-psp/kube-psp/pkg/webhook"
)

// devConfig is `psp serve --dev --dev-dir dir --listen addr`.
func devConfig(dir, addr string, logs *testutil.SyncBuffer) Config {
	return Config{Listen: addr, DevDir: dir, Mode: webhook.ModeEnforce, FailurePolicy: webhook.FailurePolicyFail,
		ReloadInterval: time.Second, ShutdownTimeout: 5 * time.Second, Log: slog.New(slog.NewJSONHandler(logs, nil))}
}

// startDev runs a --dev server until the test ends and returns its address
// once it answers /readyz over TLS with the CA of dir.
func startDev(t *testing.T, dir string) string {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, devConfig(dir, "127.0.0.1:0", logs)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	addr := servingAddr(t, logs)
	pem, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("the server does not serve with the CA of %s: %v", dir, err)
	}
	resp.Body.Close()
	return addr
}

// servingAddr waits for Run's "serving" log line (JSON) and returns the
// address it listens on.
func servingAddr(t *testing.T, logs *testutil.SyncBuffer) string {
	t.Helper()
	var addr string
	testutil.Eventually(t, "the server to listen", 15*time.Second, func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) == nil && e["msg"] == "serving" {
				addr, _ = e["listen"].(string)
			}
		}
		return addr != ""
	})
	return addr
}

type fileState struct {
	data    string
	modTime time.Time
}

// snapshot reads every file of dir with its modification time.
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fileState{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fileState{string(data), info.ModTime()}
	}
	return out
}

// TestDevRestartKeepsFiles: a restart serves the edited rbac.yaml and the
// same CA and certificate, and writes nothing.
func TestDevRestartKeepsFiles(t *testing.T) {
	dir := t.TempDir()
	t.Run("first start", func(t *testing.T) { startDev(t, dir) })
	first := snapshot(t, dir)
	for _, name := range []string{"ca.crt", "tls.crt", "tls.key", "policies.yaml", "rbac.yaml"} {
		if _, ok := first[name]; !ok {
			t.Fatalf("--dev did not make %s: %v", name, first)
		}
	}
	edited := first["rbac.yaml"].data + "# edited: kept on restart\n"
	if err := os.WriteFile(filepath.Join(dir, "rbac.yaml"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	startDev(t, dir)
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("the restart changed --dev-dir:\nbefore %v\nafter  %v", before, after)
	}
}

// TestDevBusyPort: an instance that cannot bind its port fails without
// writing or replacing a file, whether the directory is empty or holds
// the files of the instance serving there.
func TestDevBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	empty := t.TempDir()
	used := t.TempDir()
	startDev(t, used)
	for _, dir := range []string{empty, used} {
		before := snapshot(t, dir)
		err := Run(context.Background(), devConfig(dir, busy.Addr().String(), &testutil.SyncBuffer{}))
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("second instance: %v", err)
		}
		if after := snapshot(t, dir); !maps.Equal(before, after) {
			t.Errorf("a failed start changed %s:\nbefore %v\nafter  %v", dir, before, after)
		}
	}
}

// TestDevCertificateNeverReplaced: an unusable or partial set is an error
// saying what to remove, and the files stay.
func TestDevCertificateNeverReplaced(t *testing.T) {
	dir := t.TempDir()
	if _, _, _, created, err := DevCertificate(dir); err != nil || !created {
		t.Fatalf("first: created %v, %v", created, err)
	}
	if _, _, _, created, err := DevCertificate(dir); err != nil || created {
		t.Fatalf("second: created %v, %v", created, err)
	}
	other := t.TempDir()
	if _, _, _, err := WriteSelfSigned(other); err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(filepath.Join(other, "ca.crt"))
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	if _, _, _, _, err := DevCertificate(dir); err == nil || !strings.Contains(err.Error(), "cannot serve 127.0.0.1 with the CA") || !strings.Contains(err.Error(), "remove") {
		t.Errorf("a CA that did not sign tls.crt: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "tls.key")); err != nil {
		t.Fatal(err)
	}
	delete(before, "tls.key")
	if _, _, _, _, err := DevCertificate(dir); err == nil || !strings.Contains(err.Error(), "not all of ca.crt, tls.crt and tls.key") {
		t.Errorf("a partial set: %v", err)
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
	}
}
