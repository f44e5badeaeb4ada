package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// The scale test (issue 14, item 4): N policies, M RoleBindings across K
// namespaces, then psp serve --kubeconfig in each --authorization mode,
// measured from outside: readiness, RSS, the latency of AdmissionReviews
// sent straight to /validate, how long an RBAC change takes to change a
// decision, and the SubjectAccessReviews its /metrics counts.
//
// The CI size is small and asserts only what a loaded 2-core machine
// cannot break; KUBE_PSP_SCALE=N/M/K (policies/bindings/namespaces) runs a
// larger size and the table is the result (go test -v -run TestScale);
// KUBE_PSP_SCALE_SERVE_ARGS adds flags to psp serve (as --sar-qps 2000);
// KUBE_PSP_SCALE_MODES=rbac runs one --authorization mode only.

// scaleLabel marks every object the test creates, for its cleanup.
const scaleLabel = "scale.kube-psp.io/test"

// Who the requests come from. The first and last policies by name are
// granted in every namespace to a group: "best" may use the first policy
// (one use question settles it), "worst" only the last (every policy before
// it is asked about first), and both groups are bound in every namespace.
const (
	scaleBestUser   = "scale-best"
	scaleBestGroup  = "scale:first-policy"
	scaleWorstUser  = "scale-worst"
	scaleWorstGroup = "scale:last-policy"
	// scaleChangeUser may use nothing until the change test binds him.
	scaleChangeUser = "scale-change"
)

// scaleSize is N policies, M RoleBindings, K namespaces.
type scaleSize struct{ policies, bindings, namespaces int }

func (s scaleSize) String() string {
	return fmt.Sprintf("%d/%d/%d", s.policies, s.bindings, s.namespaces)
}

// scaleSizeFromEnv reads KUBE_PSP_SCALE (policies/bindings/namespaces);
// unset: the CI size 10/100/10.
func scaleSizeFromEnv() (scaleSize, error) {
	v := os.Getenv("KUBE_PSP_SCALE")
	if v == "" {
		return scaleSize{10, 100, 10}, nil
	}
	parts := strings.Split(v, "/")
	var n [3]int
	if len(parts) != 3 {
		return scaleSize{}, fmt.Errorf("KUBE_PSP_SCALE=%q: want policies/bindings/namespaces, as 100/5000/500", v)
	}
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 1 {
			return scaleSize{}, fmt.Errorf("KUBE_PSP_SCALE=%q: %q is not a positive number", v, p)
		}
		n[i] = x
	}
	s := scaleSize{n[0], n[1], n[2]}
	if s.policies < 2 || s.bindings < 2*s.namespaces {
		return scaleSize{}, fmt.Errorf("KUBE_PSP_SCALE=%q: want at least 2 policies and 2 bindings per namespace (the best and worst users' groups are bound in each)", v)
	}
	return s, nil
}

func scalePolicy(i int) string    { return fmt.Sprintf("scale-p%04d", i) }
func scaleNamespace(i int) string { return fmt.Sprintf("scale-ns-%04d", i) }
func scaleUseRole(policy string) string {
	return "scale:use:" + policy
}

func TestScale(t *testing.T) {
	c := needCluster(t)
	size, err := scaleSizeFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	// The SubjectAccessReview mode's RBAC is a superset of the rbac mode's
	// (it also creates SubjectAccessReviews): one grant for both runs.
	if err := c.applyChartRBAC("kube-psp-chart-sar.yaml"); err != nil {
		t.Fatal(err)
	}
	admin, err := kubeclient.Connect(kubeclient.Options{Kubeconfig: c.kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	// Objects are created in parallel: client-go's default of 5 requests/s
	// would take over an hour at 20,000 bindings.
	cfg := *admin.Config
	cfg.QPS, cfg.Burst = 2000, 4000
	kube, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	t.Cleanup(func() { scaleCleanup(t, kube, dyn, size) })
	if err := scalePopulate(kube, dyn, size); err != nil {
		t.Fatal(err)
	}
	t.Logf("size %s: %d policies, %d RoleBindings, %d namespaces created in %s", size, size.policies, size.bindings, size.namespaces, time.Since(start).Round(100*time.Millisecond))

	modes := []string{"rbac", "subjectaccessreview"}
	if v := os.Getenv("KUBE_PSP_SCALE_MODES"); v != "" {
		modes = strings.Split(v, ",")
	}
	var results []*scaleResult
	for _, mode := range modes {
		r, err := scaleRun(c, kube, size, mode)
		if err != nil {
			t.Fatalf("%s mode: %v", mode, err)
		}
		results = append(results, r)
	}
	t.Log("\n" + scaleTable(size, results))

	for _, r := range results {
		if r.unanswered > 0 || r.failed > 0 {
			t.Errorf("%s mode: %d requests unanswered, %d answered by the failure policy (want none):\n%s", r.mode, r.unanswered, r.failed, r.firstProblem)
		}
		if r.sarTimeouts > 0 {
			t.Errorf("%s mode: kube_psp_subjectaccessreview_timeouts_total is %v, want 0", r.mode, r.sarTimeouts)
		}
		for _, ch := range []scaleChange{r.grant, r.revoke} {
			if !ch.tookEffect {
				t.Errorf("%s mode: %s did not change the decision within %s", r.mode, ch.what, scaleChangeWait)
			}
		}
	}
	for _, sar := range results {
		if sar.mode == "subjectaccessreview" {
			scaleCheckSAR(t, sar)
		}
	}
}

// scaleCheckSAR checks what SubjectAccessReview mode must show at any size.
func scaleCheckSAR(t *testing.T, sar *scaleResult) {
	t.Helper()
	if worst := slices.Max(sar.cold[scaleWorstUser]); worst >= scaleDecisionTimeout {
		t.Errorf("subjectaccessreview mode: the worst user's slowest cold decision took %s, not within --decision-timeout %s", worst, scaleDecisionTimeout)
	}
	if sar.sarReviews == 0 || sar.cacheHits == 0 {
		t.Errorf("subjectaccessreview mode: %v SubjectAccessReviews sent and %v cache hits, want some of each", sar.sarReviews, sar.cacheHits)
	}
}

// scalePopulate creates the namespaces, one ClusterRole and one policy per
// policy name, and the RoleBindings: in each namespace the best and worst
// users' groups, then users bound to policies round-robin up to M.
func scalePopulate(kube kubernetes.Interface, dyn dynamic.Interface, size scaleSize) error {
	ctx := context.Background()
	labels := map[string]string{scaleLabel: "true"}
	var creates []func() error
	for i := range size.namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scaleNamespace(i), Labels: labels}}
		creates = append(creates, func() error {
			_, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
			return err
		})
	}
	for i := range size.policies {
		name := scalePolicy(i)
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: scaleUseRole(name), Labels: labels},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{source.PolicyResource.Group}, Resources: []string{source.PolicyResource.Resource},
				Verbs: []string{"use"}, ResourceNames: []string{name}}}}
		// Every policy admits the test's pod unchanged, so policies are
		// tried in name order and the first the requester may use wins.
		policy := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": source.PolicyResource.GroupVersion().String(), "kind": "PodSecurityPolicy",
			"metadata": map[string]any{"name": name, "labels": map[string]any{scaleLabel: "true"}},
			"spec": map[string]any{"privileged": false, "volumes": []any{"*"},
				"seLinux": map[string]any{"rule": "RunAsAny"}, "runAsUser": map[string]any{"rule": "RunAsAny"},
				"supplementalGroups": map[string]any{"rule": "RunAsAny"}, "fsGroup": map[string]any{"rule": "RunAsAny"}},
		}}
		creates = append(creates, func() error {
			if _, err := kube.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
				return err
			}
			_, err := dyn.Resource(source.PolicyResource).Create(ctx, policy, metav1.CreateOptions{})
			return err
		})
	}
	if err := scaleParallel(creates); err != nil {
		return fmt.Errorf("creating namespaces, ClusterRoles and policies: %w", err)
	}
	creates = creates[:0]
	bind := func(ns, name, kind, subject, policy string) {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Subjects: []rbacv1.Subject{{Kind: kind, APIGroup: rbacv1.GroupName, Name: subject}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: scaleUseRole(policy)}}
		creates = append(creates, func() error {
			_, err := kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
			return err
		})
	}
	for i := range size.namespaces {
		bind(scaleNamespace(i), "scale-first", rbacv1.GroupKind, scaleBestGroup, scalePolicy(0))
		bind(scaleNamespace(i), "scale-last", rbacv1.GroupKind, scaleWorstGroup, scalePolicy(size.policies-1))
	}
	for j := range size.bindings - 2*size.namespaces {
		bind(scaleNamespace(j%size.namespaces), fmt.Sprintf("scale-user-%05d", j), rbacv1.UserKind, fmt.Sprintf("scale-user-%05d", j), scalePolicy(j%size.policies))
	}
	if err := scaleParallel(creates); err != nil {
		return fmt.Errorf("creating RoleBindings: %w", err)
	}
	return nil
}

// scaleParallel runs fns on 32 workers and returns the first error.
func scaleParallel(fns []func() error) error {
	work := make(chan func() error)
	errs := make(chan error, len(fns))
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for fn := range work {
				if err := fn(); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, fn := range fns {
		work <- fn
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// scaleCleanup deletes what the test created: the namespaces (their
// RoleBindings go with them, deleted by kube-controller-manager in the
// background), the policies and the ClusterRoles.
func scaleCleanup(t *testing.T, kube kubernetes.Interface, dyn dynamic.Interface, size scaleSize) {
	ctx := context.Background()
	selector := metav1.ListOptions{LabelSelector: scaleLabel}
	if err := dyn.Resource(source.PolicyResource).DeleteCollection(ctx, metav1.DeleteOptions{}, selector); err != nil {
		t.Errorf("deleting the scale test's policies: %v", err)
	}
	if err := kube.RbacV1().ClusterRoles().DeleteCollection(ctx, metav1.DeleteOptions{}, selector); err != nil {
		t.Errorf("deleting the scale test's ClusterRoles: %v", err)
	}
	var deletes []func() error
	for i := range size.namespaces {
		deletes = append(deletes, func() error {
			return kube.CoreV1().Namespaces().Delete(ctx, scaleNamespace(i), metav1.DeleteOptions{})
		})
	}
	if err := scaleParallel(deletes); err != nil {
		t.Errorf("deleting the scale test's namespaces: %v", err)
	}
}

// scaleDecisionTimeout is psp serve's --decision-timeout default, which
// the Helm chart also sets (70% of its 10 s webhook timeout).
const scaleDecisionTimeout = 7 * time.Second

// scaleChangeWait bounds how long a change may take before it counts as
// not taking effect.
const scaleChangeWait = 30 * time.Second

// scaleResult is one mode's measurements.
type scaleResult struct {
	mode string
	// ready is from process start to /readyz answering 200.
	ready time.Duration
	// VmRSS a second after ready, after the requests, and a second after
	// the changes; VmHWM (peak RSS) a second after ready and at the end.
	// In bytes.
	rssReady, rssRequests, rssEnd, peakReady, peak int64
	// CPU time (user and system) the process used until ready, for the
	// requests (per request), and for the two changes with their requests:
	// unlike wall-clock times, it does not grow when other processes share
	// the cores.
	cpuReady, cpuPerRequest, cpuChanges time.Duration
	// latencies by user: warm (rbac mode: every request), and cold (SAR
	// mode: the first request of a user in a namespace).
	warm, cold map[string][]time.Duration
	// reviewsPerCold and reviewsPerWarm are the SubjectAccessReviews one
	// request sent on average, by user.
	reviewsPerCold, reviewsPerWarm map[string]float64
	grant, revoke                  scaleChange
	// unanswered: transport errors, bad statuses, missing responses;
	// failed: answered by the failure policy (code 500).
	unanswered, failed int
	firstProblem       string
	// From /metrics at the end.
	sarReviews, sarErrors, cacheHits, cacheMisses, sarTimeouts float64
}

// scaleChange is one RBAC change and when the decision changed.
type scaleChange struct {
	what       string
	tookEffect bool
	// delay is from just before the API call to the end of the first
	// request decided the new way; requests is how many were sent.
	delay    time.Duration
	requests int
}

// scaleServer is one psp serve under measurement.
type scaleServer struct {
	addr   string
	client *http.Client
	proc   *process
	res    *scaleResult
}

// scaleRun starts psp serve in a mode, measures it and stops it.
func scaleRun(c *cluster, kube kubernetes.Interface, size scaleSize, mode string) (*scaleResult, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &scaleServer{addr: fmt.Sprintf("127.0.0.1:%d", port),
		res: &scaleResult{mode: mode, warm: map[string][]time.Duration{}, cold: map[string][]time.Duration{}, reviewsPerCold: map[string]float64{}, reviewsPerWarm: map[string]float64{}}}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.webhookCA)
	// Above --decision-timeout: a request held longer shows as unanswered.
	s.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 4}}
	started := time.Now()
	args := append([]string{"serve", "--kubeconfig", c.pspKubeconfig, "--listen", s.addr,
		"--tls-cert-file", filepath.Join(c.dir, "webhook", "tls.crt"), "--tls-private-key-file", filepath.Join(c.dir, "webhook", "tls.key"),
		"--log-format", "text", "--authorization", mode}, strings.Fields(os.Getenv("KUBE_PSP_SCALE_SERVE_ARGS"))...)
	s.proc, err = c.startLogged(c.psp, "psp-scale-"+mode, args...)
	if err != nil {
		return nil, err
	}
	defer s.proc.stop()
	if err := s.waitReady(); err != nil {
		return nil, err
	}
	s.res.ready = time.Since(started)
	time.Sleep(time.Second)
	if s.res.rssReady, s.res.peakReady, err = procMemory(s.proc); err != nil {
		return nil, err
	}
	if s.res.cpuReady, err = procCPU(s.proc); err != nil {
		return nil, err
	}
	requests := 0

	users := []string{scaleBestUser, scaleWorstUser}
	if mode == "rbac" {
		for _, user := range users {
			for i := range 200 {
				d, _ := s.review(user, scaleNamespace(i%size.namespaces))
				s.res.warm[user] = append(s.res.warm[user], d)
				requests++
			}
		}
	} else {
		// A user's first request in a namespace finds nothing cached (the
		// namespace is part of every question); the next ten find it all.
		for i := range min(size.namespaces, 20) {
			ns := scaleNamespace(i)
			for _, user := range users {
				before, err := s.metrics()
				if err != nil {
					return nil, err
				}
				d, _ := s.review(user, ns)
				after, err := s.metrics()
				if err != nil {
					return nil, err
				}
				s.res.cold[user] = append(s.res.cold[user], d)
				requests += 11
				s.res.reviewsPerCold[user] += (sarCount(after) - sarCount(before)) / float64(min(size.namespaces, 20))
				for range 10 {
					d, _ := s.review(user, ns)
					s.res.warm[user] = append(s.res.warm[user], d)
				}
				warm, err := s.metrics()
				if err != nil {
					return nil, err
				}
				s.res.reviewsPerWarm[user] += (sarCount(warm) - sarCount(after)) / float64(10*min(size.namespaces, 20))
			}
		}
	}

	if s.res.rssRequests, _, err = procMemory(s.proc); err != nil {
		return nil, err
	}
	cpuRequests, err := procCPU(s.proc)
	if err != nil {
		return nil, err
	}
	// Reading /metrics costs CPU too (SAR mode reads it three times per
	// user and namespace): a small overestimate of a request's cost.
	s.res.cpuPerRequest = (cpuRequests - s.res.cpuReady) / time.Duration(max(requests, 1))
	ctx := context.Background()
	ns := scaleNamespace(0)
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "scale-change-" + mode, Namespace: ns},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: scaleChangeUser}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: scaleUseRole(scalePolicy(size.policies / 2))}}
	if _, allowed := s.review(scaleChangeUser, ns); allowed {
		return nil, fmt.Errorf("%s may use a policy before the change", scaleChangeUser)
	}
	s.res.grant = s.change("a RoleBinding granting a policy", ns, true, func() error {
		_, err := kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
		return err
	})
	s.res.revoke = s.change("deleting that RoleBinding", ns, false, func() error {
		return kube.RbacV1().RoleBindings(ns).Delete(ctx, rb.Name, metav1.DeleteOptions{})
	})

	cpuChanged, err := procCPU(s.proc)
	if err != nil {
		return nil, err
	}
	s.res.cpuChanges = cpuChanged - cpuRequests
	m, err := s.metrics()
	if err != nil {
		return nil, err
	}
	s.res.sarReviews = sarCount(m)
	s.res.sarErrors = m[`kube_psp_subjectaccessreview_duration_seconds_count{result="error"}`]
	s.res.cacheHits = m[`kube_psp_subjectaccessreview_cache_lookups_total{result="hit"}`]
	s.res.cacheMisses = m[`kube_psp_subjectaccessreview_cache_lookups_total{result="miss"}`]
	for k, v := range m {
		if strings.HasPrefix(k, "kube_psp_subjectaccessreview_timeouts_total") {
			s.res.sarTimeouts += v
		}
	}
	time.Sleep(time.Second)
	if s.res.rssEnd, s.res.peak, err = procMemory(s.proc); err != nil {
		return nil, err
	}
	if s.proc.exited() {
		return nil, fmt.Errorf("psp serve exited:\n%s", s.proc.tail())
	}
	return s.res, nil
}

// change makes an RBAC change and sends requests back to back until one is
// decided the new way (allowed or not).
func (s *scaleServer) change(what, ns string, wantAllowed bool, apply func() error) scaleChange {
	ch := scaleChange{what: what}
	start := time.Now()
	if err := apply(); err != nil {
		s.problem(fmt.Sprintf("%s: %v", what, err))
		return ch
	}
	for time.Since(start) < scaleChangeWait {
		problems := s.res.unanswered + s.res.failed
		_, allowed := s.review(scaleChangeUser, ns)
		ch.requests++
		// An error is no decision, whatever its allowed says.
		if allowed == wantAllowed && s.res.unanswered+s.res.failed == problems {
			ch.tookEffect, ch.delay = true, time.Since(start)
			break
		}
	}
	return ch
}

func (s *scaleServer) problem(msg string) {
	if s.res.firstProblem == "" {
		s.res.firstProblem = msg
	}
}

func (s *scaleServer) waitReady() error {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		if s.proc.exited() {
			return fmt.Errorf("psp serve exited:\n%s", s.proc.tail())
		}
		resp, err := s.client.Get("https://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("psp serve not ready after 10 minutes:\n%s", s.proc.tail())
}

// review sends one pod creation by user in ns to /validate, as the
// apiserver would after defaulting, and returns the time to its answer
// and whether the pod was allowed. Problems are counted in the result.
func (s *scaleServer) review(user, ns string) (time.Duration, bool) {
	uid := types.UID(fmt.Sprintf("scale-%d", time.Now().UnixNano()))
	var groups []string
	switch user {
	case scaleBestUser:
		groups = []string{scaleBestGroup}
	case scaleWorstUser:
		groups = []string{scaleWorstGroup}
	}
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "scale", Namespace: ns},
		Spec: corev1.PodSpec{ServiceAccountName: "default",
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}}}
	raw, _ := json.Marshal(pod)
	body, _ := json.Marshal(&admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: uid, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, Namespace: ns, Name: "scale",
			Operation: admissionv1.Create, UserInfo: authenticationv1.UserInfo{Username: user, Groups: append(groups, "system:authenticated")},
			Object: runtime.RawExtension{Raw: raw}}})
	start := time.Now()
	resp, err := s.client.Post("https://"+s.addr+"/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		s.res.unanswered++
		s.problem(err.Error())
		return time.Since(start), false
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	var review admissionv1.AdmissionReview
	if err == nil && resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(data, &review)
	}
	if err != nil || resp.StatusCode != http.StatusOK || review.Response == nil || review.Response.UID != uid {
		s.res.unanswered++
		s.problem(fmt.Sprintf("%s %v: %s", resp.Status, err, data))
		return d, false
	}
	if r := review.Response.Result; r != nil && r.Code == http.StatusInternalServerError {
		s.res.failed++
		s.problem(r.Message)
	}
	return d, review.Response.Allowed
}

// metrics reads psp serve's /metrics: each series (name and labels as
// written) to its value.
func (s *scaleServer) metrics() (map[string]float64, error) {
	resp, err := s.client.Get("https://" + s.addr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// sarCount is the SubjectAccessReviews sent, whatever their result.
func sarCount(m map[string]float64) float64 {
	var n float64
	for k, v := range m {
		if strings.HasPrefix(k, "kube_psp_subjectaccessreview_duration_seconds_count") {
			n += v
		}
	}
	return n
}

// procMemory reads a process's VmRSS and VmHWM (peak RSS), in bytes.
func procMemory(p *process) (rss, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading psp serve's memory: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			peak = kb * 1024
		}
	}
	return rss, peak, nil
}

// procCPU reads the user and system CPU time a process has used, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s, Linux's
// USER_HZ).
func procCPU(p *process) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("reading psp serve's CPU time: %w", err)
	}
	// The command name (field 2) may hold spaces: count from its ")".
	i := bytes.LastIndexByte(data, ')')
	f := strings.Fields(string(data[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("reading psp serve's CPU time: unexpected /proc/PID/stat %q", data)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("reading psp serve's CPU time from %q", data)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
func mib(b int64) string        { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 0, 64) }

// scaleTable renders the results, one row per mode and measure.
func scaleTable(size scaleSize, results []*scaleResult) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "size %s (policies/bindings/namespaces)\n", size)
	fmt.Fprintln(w, "mode\tready s\tCPU to ready s\tCPU per request ms\tCPU for changes ms\tRSS ready MiB\tpeak at ready MiB\tRSS after requests MiB\tRSS after changes MiB\tpeak MiB\tgrant ms (requests)\trevoke ms (requests)\tSARs sent\tSAR errors\tcache hit/miss\tunanswered\tfailure policy")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s (%d)\t%s (%d)\t%.0f\t%.0f\t%.0f/%.0f\t%d\t%d\n", r.mode, r.ready.Seconds(),
			r.cpuReady.Seconds(), ms(r.cpuPerRequest), ms(r.cpuChanges),
			mib(r.rssReady), mib(r.peakReady), mib(r.rssRequests), mib(r.rssEnd), mib(r.peak),
			ms(r.grant.delay), r.grant.requests, ms(r.revoke.delay), r.revoke.requests, r.sarReviews, r.sarErrors, r.cacheHits, r.cacheMisses, r.unanswered, r.failed)
	}
	fmt.Fprintln(w, "\nmode\tuser\tcache\trequests\tSARs each\tp50 ms\tp99 ms\tmax ms")
	for _, r := range results {
		for _, user := range []string{scaleBestUser, scaleWorstUser} {
			for _, row := range []struct {
				cache string
				ds    []time.Duration
			}{{"cold", r.cold[user]}, {"warm", r.warm[user]}} {
				if len(row.ds) == 0 {
					continue
				}
				cache, sars := row.cache, "-"
				switch {
				case r.mode == "rbac":
					cache = "-"
				case row.cache == "cold":
					sars = strconv.FormatFloat(r.reviewsPerCold[user], 'f', 1, 64)
				default:
					sars = strconv.FormatFloat(r.reviewsPerWarm[user], 'f', 1, 64)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.mode, user, cache, len(row.ds), sars, ms(percentile(row.ds, 50)), ms(percentile(row.ds, 99)), ms(slices.Max(row.ds)))
			}
		}
	}
	w.Flush()
	return b.String()
}
