// Package webhook_test drives a real `psp serve` process over HTTPS on
// 127.0.0.1 with AdmissionReviews.
package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ktypes "k8s.io/apimachinery/pkg/types"

	"github.com/kube-psp/kube-psp/internal/testutil"
)

var (
	buildOnce sync.Once
	pspBinary string
	buildErr  error
)

// binary builds cmd/psp once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "psp-bin")
		if err != nil {
			buildErr = err
			return
		}
		pspBinary = filepath.Join(dir, "psp")
		out, err := exec.Command("go", "build", "-o", pspBinary, "../../cmd/psp").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return pspBinary
}

// ca issues serving certificates for 127.0.0.1.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &ca{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a serving certificate with the given serial to certFile and keyFile.
func (c *ca) issue(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "kube-psp"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	writeAtomic(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	writeAtomic(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// writeAtomic replaces a file by renaming, as a ConfigMap or Secret update does.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// server is a running `psp serve`.
type server struct {
	cmd         *exec.Cmd
	dir         string
	addr        string
	metricsAddr string
	ca          *ca
	client      *http.Client
	logs        *testutil.SyncBuffer
	exited      chan error
}

const restrictedPolicy = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
spec:
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
  fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
  volumes: [configMap, emptyDir, projected, secret, downwardAPI, persistentVolumeClaim]
`

const privilegedPolicy = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: privileged}
spec:
  privileged: true
  allowedCapabilities: ['*']
  volumes: ['*']
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

const rbacAll = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp-use-all}
rules:
- apiGroups: [policy]
  resources: [podsecuritypolicies]
  verbs: [use]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: psp-use-all}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp-use-all}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: system:authenticated}
`

// start runs `psp serve` with the restricted policy and the given extra flags.
func start(t *testing.T, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{dir: dir, ca: newCA(t), logs: &testutil.SyncBuffer{}, exited: make(chan error, 1)}
	for _, d := range []string{"policies", "rbac"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeAtomic(t, s.path("policies/policies.yaml"), []byte(restrictedPolicy))
	writeAtomic(t, s.path("rbac/rbac.yaml"), []byte(rbacAll))
	s.ca.issue(t, 100, s.path("tls.crt"), s.path("tls.key"))

	args := append([]string{"serve", "--policies", s.path("policies"), "--rbac", s.path("rbac"),
		"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--tls-cert-file", s.path("tls.crt"), "--tls-private-key-file", s.path("tls.key"),
		"--reload-interval", "100ms", "--shutdown-timeout", "10s", "--log-format", "json"}, extra...)
	s.cmd = exec.Command(binary(t), args...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serving := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = s.logs.Write([]byte(line + "\n"))
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == "serving" {
				serving <- entry
			}
		}
		s.exited <- s.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	select {
	case entry := <-serving:
		s.addr, _ = entry["listen"].(string)
		s.metricsAddr, _ = entry["metricsListen"].(string)
	case err := <-s.exited:
		t.Fatalf("psp serve exited: %v\n%s", err, s.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("psp serve did not start\n%s", s.logs.String())
	}
	s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tlsConfig(tls.VersionTLS13), MaxIdleConnsPerHost: 8}}
	return s
}

// tlsConfig trusts the test CA; maxVersion bounds the TLS version offered.
func (s *server) tlsConfig(maxVersion uint16) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.ca.pem)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: maxVersion}
}

// dial opens a TLS connection to the webhook port.
func (s *server) dial(maxVersion uint16) (*tls.Conn, error) {
	return tls.Dial("tcp", s.addr, s.tlsConfig(maxVersion))
}

func (s *server) path(name string) string { return filepath.Join(s.dir, name) }

func podJSON(t *testing.T, mutate func(*corev1.Pod)) []byte {
	t.Helper()
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "web-", Namespace: "team"},
		Spec:       corev1.PodSpec{ServiceAccountName: "default", Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}
	if mutate != nil {
		mutate(p)
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func reviewBody(t *testing.T, uid string, op admissionv1.Operation, subresource string, obj, old []byte) []byte {
	t.Helper()
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: ktypes.UID(uid), Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, SubResource: subresource,
			Namespace: "team", Operation: op,
			UserInfo: authenticationv1.UserInfo{Username: "system:serviceaccount:kube-system:replicaset-controller", Groups: []string{"system:serviceaccounts", "system:authenticated"}},
			Object:   runtime.RawExtension{Raw: obj}, OldObject: runtime.RawExtension{Raw: old},
		},
	}
	data, err := json.Marshal(ar)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// post sends a body to an endpoint and returns the decoded response; err is
// any transport error or non-200 status.
func (s *server) post(ctx context.Context, path string, body []byte) (*admissionv1.AdmissionResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+s.addr+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", data, err)
	}
	if out.Response == nil {
		return nil, fmt.Errorf("no response in %s", data)
	}
	return out.Response, nil
}

func (s *server) get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := s.client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func (s *server) metric(t *testing.T, name string) string {
	t.Helper()
	_, body := s.get(t, "http://"+s.metricsAddr+"/metrics")
	var lines []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, name) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// exec_ runs psp with args to completion and returns its combined output.
func exec_(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
