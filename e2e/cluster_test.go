// Package e2e runs kube-psp against real Kubernetes components: etcd,
// kube-apiserver and kube-controller-manager at the version e2e/kube pins,
// started on 127.0.0.1, driven by the real kubectl. hack/test.sh builds the
// binaries (hack/kube-binaries.sh) and sets KUBE_PSP_E2E_KUBE_BIN; without
// it the tests are skipped.
package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kube-psp/kube-psp/pkg/serve"
)

// Static tokens (--token-auth-file) for the identities the suite uses.
const (
	adminToken = "e2e-admin-token"
	kcmToken   = "e2e-kube-controller-manager-token"
	pspToken   = "e2e-kube-psp-token"
	// pspUser is the identity psp serve reads the cluster as; it has only
	// the RBAC of the Helm chart's ClusterRole.
	pspUser = "system:serviceaccount:kube-psp:kube-psp"
)

// cluster is one running control plane and kube-psp webhook.
type cluster struct {
	dir        string
	bin        string
	psp        string
	server     string
	kubeconfig string
	// pspKubeconfig is psp serve's identity (psp audit runs as the admin).
	pspKubeconfig string
	// processes are stopped in reverse order at the end.
	processes []*process
	webhook   *process
	// webhookAddr and webhookCA are where psp serve listens, and its CA.
	webhookAddr string
	webhookCA   []byte
	// chartDir holds the Helm chart rendered by hack/chart.sh.
	chartDir string
}

// process is a started command whose output goes to a log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (c *cluster) start(name string, args ...string) (*process, error) {
	bin := filepath.Join(c.bin, name)
	if name == "psp" {
		bin = c.psp
	}
	return c.startLogged(bin, name, args...)
}

// startLogged starts bin with its output in logName.log in the cluster's
// directory (a second psp serve gets a log of its own).
func (c *cluster) startLogged(bin, logName string, args ...string) (*process, error) {
	name := logName
	logFile := filepath.Join(c.dir, logName+".log")
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// stop asks the process to end (SIGTERM), then kills it after a while.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail is the end of a process's log, for failure messages.
func (p *process) tail() string {
	data, _ := os.ReadFile(p.log)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	return ports, nil
}

// startCluster starts etcd, kube-apiserver and kube-controller-manager,
// installs the CRD and kube-psp's RBAC (the Helm chart's, rendered into
// chartDir), starts psp serve and registers its webhooks.
func startCluster(bin, psp, chartDir string) (c *cluster, err error) {
	dir, err := os.MkdirTemp("", "kube-psp-e2e-")
	if err != nil {
		return nil, err
	}
	c = &cluster{dir: dir, bin: bin, psp: psp, chartDir: chartDir}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, c.logs())
			c.stop()
		}
	}()
	ports, err := freePorts(4)
	if err != nil {
		return c, err
	}
	etcdClient, etcdPeer, apiPort, kcmPort := ports[0], ports[1], ports[2], ports[3]

	// etcd, without fsync: its data is thrown away.
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	etcd, err := c.start("etcd", "--data-dir", filepath.Join(dir, "etcd"), "--unsafe-no-fsync",
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL, "--log-level", "warn")
	if err != nil {
		return c, err
	}
	c.processes = append(c.processes, etcd)

	caFile, certFile, keyFile, err := serve.WriteSelfSigned(filepath.Join(dir, "apiserver"), "kubernetes", "kubernetes.default.svc")
	if err != nil {
		return c, err
	}
	saKey := filepath.Join(dir, "sa.key")
	if err := writeECKey(saKey); err != nil {
		return c, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf("%s,admin,admin,\"system:masters\"\n%s,system:kube-controller-manager,kcm\n%s,%s,kube-psp,\"system:serviceaccounts,system:serviceaccounts:kube-psp\"\n",
		adminToken, kcmToken, pspToken, pspUser)), 0o600); err != nil {
		return c, err
	}
	// Pod Security Admission configured as a cluster that migrates off PSP
	// configures it: privileged by default (so the other tests' pods are
	// unaffected), each namespace's labels choosing its level.
	admissionConfig := filepath.Join(dir, "admission.yaml")
	if err := os.WriteFile(admissionConfig, []byte(podSecurityAdmissionConfig), 0o600); err != nil {
		return c, err
	}
	apiserver, err := c.start("kube-apiserver",
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", fmt.Sprint(apiPort),
		// There is no kube-proxy or Service network: the webhooks are
		// registered by URL, and the apiserver must not try to publish a
		// loopback address as the kubernetes Service's endpoint.
		"--endpoint-reconciler-type", "none",
		"--tls-cert-file", certFile, "--tls-private-key-file", keyFile,
		"--token-auth-file", tokens,
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", saKey,
		"--service-account-signing-key-file", saKey, "--service-cluster-ip-range", "10.0.0.0/24",
		// As real clusters run; otherwise privileged pods are refused
		// before any webhook sees them.
		"--allow-privileged=true",
		"--enable-admission-plugins", "PodSecurity", "--admission-control-config-file", admissionConfig)
	if err != nil {
		return c, err
	}
	c.processes = append(c.processes, apiserver)
	c.server = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return c, err
	}
	if err := waitReady(c.server+"/readyz", ca, adminToken, 90*time.Second, apiserver); err != nil {
		return c, fmt.Errorf("kube-apiserver: %w", err)
	}

	c.kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	c.pspKubeconfig = filepath.Join(dir, "kube-psp.kubeconfig")
	kcmKubeconfig := filepath.Join(dir, "kcm.kubeconfig")
	for file, token := range map[string]string{c.kubeconfig: adminToken, c.pspKubeconfig: pspToken, kcmKubeconfig: kcmToken} {
		if err := writeKubeconfig(file, c.server, caFile, token); err != nil {
			return c, err
		}
	}
	kcm, err := c.start("kube-controller-manager", "--kubeconfig", kcmKubeconfig,
		// Controllers act as their own ServiceAccounts, so the pods of a
		// Deployment are created by system:serviceaccount:kube-system:replicaset-controller.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file", saKey, "--root-ca-file", caFile,
		"--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(kcmPort),
		"--controllers", "serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,"+
			"deployment-controller,replicaset-controller,namespace-controller,garbage-collector-controller,"+
			"daemonset-controller,statefulset-controller,job-controller,replicationcontroller-controller,"+
			// Fills the aggregated ClusterRoles (edit, view, admin).
			"clusterrole-aggregation-controller")
	if err != nil {
		return c, err
	}
	c.processes = append(c.processes, kcm)
	// kube-controller-manager works once it has made the default namespace's
	// ServiceAccount.
	if err := waitFor(60*time.Second, kcm, func() bool {
		_, err := c.kubectl("get", "serviceaccount", "default", "-n", "default")
		return err == nil
	}); err != nil {
		return c, fmt.Errorf("kube-controller-manager: %w", err)
	}

	// kube-psp's CRD, its namespace, and the chart's RBAC for the webhook:
	// psp serve reads the cluster with exactly what the chart grants.
	if out, err := c.kubectl("apply", "-f", "../deploy/crds/"); err != nil {
		return c, fmt.Errorf("installing the CRD: %v\n%s", err, out)
	}
	if out, err := c.kubectl("create", "namespace", "kube-psp"); err != nil {
		return c, fmt.Errorf("creating namespace kube-psp: %v\n%s", err, out)
	}
	if err := c.applyChartRBAC("kube-psp-chart.yaml"); err != nil {
		return c, err
	}
	if out, err := c.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd/podsecuritypolicies.policy.kube-psp.io"); err != nil {
		return c, fmt.Errorf("waiting for the CRD: %v\n%s", err, out)
	}
	if err := c.startWebhook(); err != nil {
		return c, err
	}
	if err := c.registerWebhooks(); err != nil {
		return c, err
	}
	return c, nil
}

// podSecurityAdmissionConfig is the apiserver's admission configuration:
// the PodSecurity plugin at privileged unless a namespace's labels say
// otherwise, no exemptions.
const podSecurityAdmissionConfig = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: privileged, enforce-version: latest, audit: privileged, audit-version: latest, warn: privileged, warn-version: latest}
    exemptions: {usernames: [], runtimeClasses: [], namespaces: []}
`

// chartDocuments returns the documents of a rendered chart file whose kind
// is one of kinds, named kube-psp (the release's own objects, not presets).
func (c *cluster) chartDocuments(file string, kinds ...string) (string, error) {
	data, err := os.ReadFile(filepath.Join(c.chartDir, file))
	if err != nil {
		return "", fmt.Errorf("the rendered chart: %w", err)
	}
	var docs []string
	for _, doc := range strings.Split(string(data), "\n---\n") {
		for _, kind := range kinds {
			if strings.Contains(doc, "\nkind: "+kind+"\n") && strings.Contains(doc, "\nmetadata:\n  name: kube-psp\n") {
				docs = append(docs, doc)
			}
		}
	}
	if len(docs) != len(kinds) {
		return "", fmt.Errorf("%s has %d documents of kinds %v, want one of each", file, len(docs), kinds)
	}
	return strings.Join(docs, "\n---\n"), nil
}

// applyChartRBAC applies the ClusterRole and ClusterRoleBinding of a
// rendered chart: psp serve's identity is the chart's ServiceAccount.
func (c *cluster) applyChartRBAC(file string) error {
	rbac, err := c.chartDocuments(file, "ClusterRole", "ClusterRoleBinding")
	if err != nil {
		return err
	}
	if out, err := c.kubectlIn(rbac, "apply", "-f", "-"); err != nil {
		return fmt.Errorf("applying the chart's RBAC from %s: %v\n%s", file, err, out)
	}
	return nil
}

// startWebhook starts psp serve against the cluster and waits until it is
// ready (its informers synced).
func (c *cluster) startWebhook(extraArgs ...string) error {
	if c.webhookAddr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		c.webhookAddr = fmt.Sprintf("127.0.0.1:%d", port)
		caFile, _, _, err := serve.WriteSelfSigned(filepath.Join(c.dir, "webhook"))
		if err != nil {
			return err
		}
		if c.webhookCA, err = os.ReadFile(caFile); err != nil {
			return err
		}
	}
	args := append([]string{"serve", "--kubeconfig", c.pspKubeconfig, "--listen", c.webhookAddr,
		"--tls-cert-file", filepath.Join(c.dir, "webhook", "tls.crt"), "--tls-private-key-file", filepath.Join(c.dir, "webhook", "tls.key"),
		"--log-format", "text"}, extraArgs...)
	p, err := c.start("psp", args...)
	if err != nil {
		return err
	}
	c.webhook = p
	if err := waitReady("https://"+c.webhookAddr+"/readyz", c.webhookCA, "", 60*time.Second, p); err != nil {
		return fmt.Errorf("psp serve: %w", err)
	}
	return nil
}

func (c *cluster) stopWebhook() {
	if c.webhook != nil {
		c.webhook.stop()
		c.webhook = nil
	}
}

// registerWebhooks registers kube-psp's three webhooks by URL, as the
// Helm chart does by Service, and waits until the apiserver calls them.
func (c *cluster) registerWebhooks() error {
	tmpl, err := os.ReadFile("testdata/webhooks.yaml")
	if err != nil {
		return err
	}
	manifest := strings.NewReplacer("WEBHOOK_URL", "https://"+c.webhookAddr,
		"CA_BUNDLE", base64.StdEncoding.EncodeToString(c.webhookCA)).Replace(string(tmpl))
	if out, err := c.kubectlIn(manifest, "apply", "-f", "-"); err != nil {
		return fmt.Errorf("registering the webhooks: %v\n%s", err, out)
	}
	// A new configuration takes effect within about a second: wait until
	// kube-psp refuses a pod (there are no policies yet, so it refuses
	// every pod, even the admin's).
	var out string
	if err := waitFor(30*time.Second, c.webhook, func() bool {
		out, _ = c.kubectlIn(podYAML("webhook-probe", "", false), "create", "--dry-run=server", "-n", "default", "-f", "-")
		return strings.Contains(out, "no providers available to validate pod request")
	}); err != nil {
		return fmt.Errorf("the webhooks are not called: %w\nlast kubectl output: %s", err, out)
	}
	return nil
}

// waitFor polls cond until it holds, p (when not nil) exits, or timeout:
// the one polling loop of the suite. The caller's error gets every log.
func waitFor(timeout time.Duration, p *process, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited", p.name)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func (c *cluster) stop() {
	c.stopWebhook()
	for i := len(c.processes) - 1; i >= 0; i-- {
		c.processes[i].stop()
	}
	if os.Getenv("KUBE_PSP_E2E_KEEP") == "" {
		_ = os.RemoveAll(c.dir)
	}
}

// logs is the end of every process's log.
func (c *cluster) logs() string {
	var b strings.Builder
	ps := append([]*process{}, c.processes...)
	if c.webhook != nil {
		ps = append(ps, c.webhook)
	}
	for _, p := range ps {
		fmt.Fprintf(&b, "--- %s (%s) ---\n%s\n", p.name, p.log, p.tail())
	}
	return b.String()
}

// kubectl runs the real kubectl as the cluster's admin.
func (c *cluster) kubectl(args ...string) (string, error) {
	return c.kubectlIn("", args...)
}

// kubectlIn runs kubectl with stdin; the output is stdout and stderr.
func (c *cluster) kubectlIn(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "kubectl"), append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// waitReady polls url until it answers 200, the process exits, or timeout.
func waitReady(url string, ca []byte, token string, timeout time.Duration, p *process) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var last string
	err := waitFor(timeout, p, func() bool {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			return false
		}
		resp.Body.Close()
		last = resp.Status
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		return fmt.Errorf("not ready: %w (last answer: %s)", err, last)
	}
	return nil
}

func writeECKey(path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

func writeKubeconfig(path, server, caFile, token string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, certificate-authority: %q}
users:
- name: e2e
  user: {token: %q}
contexts:
- name: e2e
  context: {cluster: e2e, user: e2e}
current-context: e2e
`, server, caFile, token)), 0o600)
}
