package webhook_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/kube-psp/kube-psp/internal/testutil"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/source"
)

func privileged(p *corev1.Pod) {
	t := true
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &t}
}

func TestAdmission(t *testing.T) {
	s := start(t)
	ctx := t.Context()

	// Mutating: admitted with a patch that, applied, gives the defaulted pod.
	pod := podJSON(t, nil)
	resp, err := s.post(ctx, "/mutate", reviewBody(t, "u-1", admissionv1.Create, "", pod, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Allowed || resp.UID != "u-1" || resp.PatchType == nil || resp.AuditAnnotations["admit-policy"] != "restricted" {
		t.Fatalf("mutate: %+v", resp)
	}
	patch, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatal(err)
	}
	admitted, err := patch.Apply(pod)
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	if err := json.Unmarshal(admitted, &got); err != nil {
		t.Fatal(err)
	}
	// The patched pod is exactly the pod the engine admits with the same files.
	want := engineAdmits(t, pod)
	if !equality.Semantic.DeepEqual(&got, want) {
		wantJSON, _ := json.Marshal(want)
		t.Errorf("patched pod differs from the engine's admitted pod:\n got  %s\n want %s", admitted, wantJSON)
	}
	sc := got.Spec.Containers[0].SecurityContext
	if got.Annotations["kubernetes.io/psp"] != "restricted" || sc == nil || !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities.Drop[0] != "ALL" || *got.Spec.SecurityContext.FSGroup != 1 || got.Spec.SecurityContext.SupplementalGroups[0] != 1 {
		t.Errorf("admitted pod: %s", admitted)
	}

	// Validating: the admitted pod passes as it is.
	resp, err = s.post(ctx, "/validate", reviewBody(t, "u-2", admissionv1.Create, "", admitted, nil))
	if err != nil || !resp.Allowed || resp.Patch != nil || resp.AuditAnnotations["validate-policy"] != "restricted" {
		t.Fatalf("validate: %+v %v", resp, err)
	}
	// The pod as sent (not defaulted) does not: the policy would have to change it.
	resp, err = s.post(ctx, "/validate", reviewBody(t, "u-3", admissionv1.Create, "", pod, nil))
	if err != nil || resp.Allowed || resp.Result.Message != "PodSecurityPolicy: unable to validate pod: []" ||
		!strings.Contains(strings.Join(resp.Warnings, "\n"), `policy "restricted" would have to change this pod`) {
		t.Fatalf("validate as sent: %+v %v", resp, err)
	}

	// Denied: v1.24's message, and warnings that explain it.
	resp, err = s.post(ctx, "/mutate", reviewBody(t, "u-4", admissionv1.Create, "", podJSON(t, privileged), nil))
	if err != nil {
		t.Fatal(err)
	}
	wantMsg := "PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]"
	if resp.Allowed || resp.Result.Code != 403 || resp.Result.Message != wantMsg || len(resp.Warnings) == 0 {
		t.Errorf("denial: %+v", resp)
	}

	// kubectl debug with a privileged ephemeral container.
	debug := podJSON(t, func(p *corev1.Pod) {
		tr := true
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debug", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: &tr}}}}
	})
	resp, err = s.post(ctx, "/validate", reviewBody(t, "u-5", admissionv1.Update, "ephemeralcontainers", debug, admitted))
	if err != nil || resp.Allowed || !strings.Contains(resp.Result.Message, "spec.ephemeralContainers[0].securityContext.privileged") {
		t.Errorf("ephemeral container: %+v %v", resp, err)
	}

	// Health, readiness and metrics on the metrics address.
	if code, body := s.get(t, "http://"+s.metricsAddr+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("readyz: %d %q", code, body)
	}
	if code, _ := s.get(t, "http://"+s.metricsAddr+"/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	for _, want := range []string{
		`kube_psp_admission_requests_total{decision="allowed",operation="CREATE",phase="admit"} 1`,
		`kube_psp_admission_requests_total{decision="denied",operation="CREATE",phase="admit"} 1`,
		`kube_psp_admitting_policy_total{phase="validate",policy="restricted"} 1`,
		`kube_psp_policy_loads_total{result="success"} 1`,
		`kube_psp_policies 1`,
	} {
		if m := s.metric(t, "kube_psp_"); !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	waitFor(t, "the denial in the log", func() bool {
		return strings.Contains(s.logs.String(), `"uid":"u-4"`) && strings.Contains(s.logs.String(), `"decision":"denied"`)
	})
}

func TestBadInput(t *testing.T) {
	s := start(t)
	for name, tc := range map[string]struct {
		method, contentType, body, want string
	}{
		"get":          {http.MethodGet, "", "", "method GET is not supported"},
		"content type": {http.MethodPost, "text/plain", "{}", "content type"},
		"not a review": {http.MethodPost, "application/json", `{"kind":"Pod"}`, "want admission.k8s.io/v1 AdmissionReview"},
		"no uid":       {http.MethodPost, "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}`, "no uid"},
		"too large":    {http.MethodPost, "application/json", strings.Repeat(" ", 3<<20+1), "larger than"},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "https://"+s.addr+"/mutate", strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := new(strings.Builder)
			_, _ = bufio.NewReader(resp.Body).WriteTo(buf)
			code, allow := 400, ""
			if tc.method != http.MethodPost {
				code, allow = 405, "POST"
			}
			if resp.StatusCode != code || !strings.Contains(buf.String(), tc.want) || resp.Header.Get("Allow") != allow {
				t.Errorf("got %d %q (Allow %q), want %d (Allow %q)", resp.StatusCode, buf, resp.Header.Get("Allow"), code, allow)
			}
		})
	}
	// TLS older than 1.2 is refused.
	if conn, err := s.dial(tls.VersionTLS11); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// The server is still healthy.
	if code, _ := s.get(t, "http://"+s.metricsAddr+"/healthz"); code != 200 {
		t.Errorf("healthz after bad input: %d", code)
	}
}

// load sends the privileged pod to /mutate from several goroutines until
// stop is closed, counting answers by decision and failing on any error.
type load struct {
	allowed, denied, failed atomic.Int64
	firstErr                atomic.Value
	wg                      sync.WaitGroup
}

func startLoad(t *testing.T, s *server, workers int, stop <-chan struct{}) *load {
	l := &load{}
	body := reviewBody(t, "load", admissionv1.Create, "", podJSON(t, privileged), nil)
	for i := 0; i < workers; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; n < 100000; n++ { // bounded; stop ends it long before
				select {
				case <-stop:
					return
				default:
				}
				resp, err := s.post(t.Context(), "/mutate", body)
				switch {
				case err != nil:
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
				case resp.Allowed:
					l.allowed.Add(1)
				default:
					l.denied.Add(1)
				}
			}
		}()
	}
	return l
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, what, 15*time.Second, cond)
}

func servedSerial(t *testing.T, s *server) int64 {
	t.Helper()
	conn, err := s.dial(tls.VersionTLS13)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestReloadUnderLoad(t *testing.T) {
	s := start(t)
	stop := make(chan struct{})
	l := startLoad(t, s, 4, stop)
	waitFor(t, "denials under the restricted policy", func() bool { return l.denied.Load() > 20 })

	// A new policy file takes effect without a restart.
	writeAtomic(t, s.path("policies/privileged.yaml"), []byte(privilegedPolicy))
	waitFor(t, "the privileged policy to admit the pod", func() bool { return l.allowed.Load() > 20 })

	// A broken file keeps the last good set, and says so.
	writeAtomic(t, s.path("policies/broken.yaml"), []byte("apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: broken}\nspec: {runAsUser: {rule: Sometimes}}\n"))
	waitFor(t, "the failed reload to be counted", func() bool {
		return strings.Contains(s.metric(t, "kube_psp_policy_loads_total"), `result="error"} 1`)
	})
	before := l.allowed.Load()
	waitFor(t, "more admissions with the last good set", func() bool { return l.allowed.Load() > before+20 })
	if !strings.Contains(s.logs.String(), "keeping the last good policies and RBAC") {
		t.Error("the failed reload was not logged")
	}

	// SIGHUP reloads at once (the interval is also short here; the log shows the reason).
	writeAtomic(t, s.path("policies/broken.yaml"), []byte("# fixed\n"))
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SIGHUP reload", func() bool { return strings.Contains(s.logs.String(), "SIGHUP: reloading") })

	// The certificate is rotated without a restart.
	if got := servedSerial(t, s); got != 100 {
		t.Fatalf("serving serial %d, want 100", got)
	}
	s.ca.issue(t, 200, s.path("tls.crt"), s.path("tls.key"))
	waitFor(t, "the rotated certificate", func() bool { return servedSerial(t, s) == 200 })
	before = l.allowed.Load()
	waitFor(t, "admissions after rotation", func() bool { return l.allowed.Load() > before+20 })

	close(stop)
	l.wg.Wait()
	if n := l.failed.Load(); n != 0 {
		t.Errorf("%d requests failed during reloads; first: %v", n, l.firstErr.Load())
	}
	t.Logf("answered %d allowed and %d denied requests during reloads", l.allowed.Load(), l.denied.Load())
}

// TestGracefulShutdown sends half a request, stops the server, then sends
// the rest: the request in flight is answered, and the server exits 0.
func TestGracefulShutdown(t *testing.T) {
	s := start(t)
	conn, err := s.dial(tls.VersionTLS13)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := reviewBody(t, "in-flight", admissionv1.Create, "", podJSON(t, nil), nil)
	half := len(body) / 2
	fmt.Fprintf(conn, "POST /mutate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", s.addr, len(body))
	if _, err := conn.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is reading the body
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "shutdown to begin", func() bool { return strings.Contains(s.logs.String(), "shutting down") })
	// New connections are refused once shutdown began.
	if c, err := s.dial(tls.VersionTLS13); err == nil {
		c.Close()
		t.Error("a new connection was accepted after SIGTERM")
	}
	if _, err := conn.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight was dropped: %v", err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || !out.Response.Allowed || out.Response.UID != "in-flight" {
		t.Fatalf("in-flight response: %d %+v %v", resp.StatusCode, out.Response, err)
	}
	select {
	case err := <-s.exited:
		var exit interface{ ExitCode() int }
		if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 0) {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
	if !strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Error("no stopped log line")
	}
}

func TestModesAndFailurePolicy(t *testing.T) {
	s := start(t, "--mode", "warn")
	resp, err := s.post(t.Context(), "/mutate", reviewBody(t, "w", admissionv1.Create, "", podJSON(t, privileged), nil))
	if err != nil || !resp.Allowed || !strings.HasPrefix(resp.Warnings[0], "PodSecurityPolicy would deny this request") {
		t.Errorf("warn mode: %+v %v", resp, err)
	}
	a := start(t, "--mode", "audit")
	resp, err = a.post(t.Context(), "/mutate", reviewBody(t, "a", admissionv1.Create, "", podJSON(t, privileged), nil))
	if err != nil || !resp.Allowed || resp.AuditAnnotations["would-deny"] == "" {
		t.Errorf("audit mode: %+v %v", resp, err)
	}
	waitFor(t, "audit mode to log the would-be denial", func() bool { return strings.Contains(a.logs.String(), "would be denied in enforce mode") })
	// An object kube-psp cannot read: denied (fail closed), or admitted with --failure-policy allow.
	bad := reviewBody(t, "b", admissionv1.Create, "", []byte(`{"spec":{"containers":7}}`), nil)
	resp, err = s.post(t.Context(), "/mutate", bad)
	if err != nil || resp.Allowed || resp.Result.Code != 500 {
		t.Errorf("fail closed: %+v %v", resp, err)
	}
	o := start(t, "--failure-policy", "allow")
	resp, err = o.post(t.Context(), "/mutate", bad)
	if err != nil || !resp.Allowed {
		t.Errorf("failure policy allow: %+v %v", resp, err)
	}
}

func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"missing flags":    {"serve"},
		"bad mode":         {"serve", "--mode", "loud"},
		"missing policy":   {"serve", "--policies", dir + "/nope", "--rbac", dir, "--tls-cert-file", "x", "--tls-private-key-file", "y"},
		"bad memory limit": {"serve", "--dev", "--dev-dir", dir + "/dev", "--listen", "127.0.0.1:0", "--memory-limit", "lots"},
	} {
		out, err := exec_(t, args...)
		if err == nil {
			t.Errorf("%s: started", name)
		}
		if !strings.Contains(out, "error:") {
			t.Errorf("%s: no clear error: %s", name, out)
		}
		if name == "bad memory limit" && !strings.Contains(out, `--memory-limit: memory limit "lots"`) {
			t.Errorf("%s: the error does not name the flag: %s", name, out)
		}
	}
}

// engineAdmits is the pod the engine admits in the admit phase, with the
// policy and RBAC the test server starts with.
func engineAdmits(t *testing.T, podJSON []byte) *corev1.Pod {
	t.Helper()
	res, err := loader.LoadReader("test", strings.NewReader(restrictedPolicy+"---\n"+rbacAll), loader.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(podJSON, &pod); err != nil {
		t.Fatal(err)
	}
	d, err := engine.Decide(t.Context(), snap.Policies, snap.Authorizer, engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate,
		Namespace: "team", User: authorizer.UserInfo{Name: "system:serviceaccount:kube-system:replicaset-controller", Groups: []string{"system:serviceaccounts", "system:authenticated"}},
		Pod: &pod}, engine.Options{})
	if err != nil || !d.Allowed {
		t.Fatalf("engine: %v %s", err, d.Message)
	}
	return d.Pod
}
