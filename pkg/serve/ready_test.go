package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kube-psp/kube-psp/internal/testutil"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/webhook"
)

// TestServeSaysWhyNotReady: psp serve --kubeconfig on clusters it cannot
// read (real HTTP servers on 127.0.0.1) answers /readyz with 503 and what
// is missing, and logs it.
func TestServeSaysWhyNotReady(t *testing.T) {
	for _, tc := range testutil.BrokenClusters() {
		t.Run(tc.Name, func(t *testing.T) {
			clients, err := kubeclient.Connect(kubeclient.Options{Kubeconfig: testutil.Kubeconfig(t, tc.Server(t)), RequestTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			caFile, certFile, keyFile, err := WriteSelfSigned(dir)
			if err != nil {
				t.Fatal(err)
			}
			logs := &testutil.SyncBuffer{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, Config{Cluster: &ClusterClients{Kube: clients.Kube, Dynamic: clients.Dynamic}, Listen: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile,
					Mode: webhook.ModeEnforce, FailurePolicy: webhook.FailurePolicyFail, ReloadInterval: time.Second, ShutdownTimeout: 5 * time.Second,
					Log: slog.New(slog.NewJSONHandler(logs, nil))})
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			}()
			addr := servingAddr(t, logs)
			pem, _ := os.ReadFile(caFile)
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			var body string
			testutil.Eventually(t, "/readyz to say why", 10*time.Second, func() bool {
				resp, err := client.Get("https://" + addr + "/readyz")
				if err != nil {
					return false
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
				return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, tc.Says)
			})
			logged, _ := json.Marshal(tc.Says) // as the JSON log writes it
			if !strings.HasPrefix(body, "not ready: ") || !strings.Contains(logs.String(), string(logged[1:len(logged)-1])) {
				t.Errorf("/readyz: %s\nlogs: %s", body, logs.String())
			}
		})
	}
}
