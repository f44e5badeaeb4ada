package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kube-psp/kube-psp/internal/testutil"
	"github.com/kube-psp/kube-psp/pkg/source"
	"github.com/kube-psp/kube-psp/pkg/webhook"
)

// TestServeFromCluster runs the server on policies and RBAC from (fake)
// cluster clients: not ready until synced, then deciding with them.
func TestServeFromCluster(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile, err := WriteSelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	kube := fake.NewSimpleClientset(
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "use"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "everyone"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "use"},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: "system:authenticated"}}},
	)
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{source.PolicyResource: "PodSecurityPolicyList"},
		&unstructured.Unstructured{Object: map[string]any{"apiVersion": "policy.kube-psp.io/v1", "kind": "PodSecurityPolicy", "metadata": map[string]any{"name": "no-privileged"},
			"spec": map[string]any{"runAsUser": map[string]any{"rule": "RunAsAny"}, "seLinux": map[string]any{"rule": "RunAsAny"},
				"supplementalGroups": map[string]any{"rule": "RunAsAny"}, "fsGroup": map[string]any{"rule": "RunAsAny"}, "volumes": []any{"*"}}}})

	logs := &testutil.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Cluster: &ClusterClients{Kube: kube, Dynamic: dyn}, Listen: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile,
			Mode: webhook.ModeEnforce, FailurePolicy: webhook.FailurePolicyFail, ReloadInterval: time.Second, ShutdownTimeout: 5 * time.Second,
			Log: slog.New(slog.NewJSONHandler(logs, nil))})
	}()
	addr := servingAddr(t, logs)
	pem, _ := os.ReadFile(caFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	testutil.Eventually(t, "readiness after the informers synced", 15*time.Second, func() bool {
		resp, err := client.Get("https://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","namespace":"ns",` +
		`"resource":{"version":"v1","resource":"pods"},"userInfo":{"username":"alice","groups":["system:authenticated"]},` +
		`"object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","securityContext":{"privileged":true}}]}}}}`
	resp, err := client.Post("https://"+addr+"/validate", "application/json", strings.NewReader(review))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Privileged containers are not allowed") {
		t.Errorf("decision with the cluster's policy: %s", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
