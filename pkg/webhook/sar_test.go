package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/sar"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// slowAPIServer answers SubjectAccessReviews over HTTP on 127.0.0.1 after
// a delay, as a loaded apiserver would, counting reviews and the most in
// flight at once.
type slowAPIServer struct {
	delay time.Duration
	// allow says whether a review is allowed.
	allow func(spec authorizationv1.SubjectAccessReviewSpec) bool

	calls       atomic.Int32
	mu          sync.Mutex
	inFlight    int
	maxInFlight int
}

// settle waits until the reviews the client had started before it
// cancelled them have reached the server (none in flight, the count
// unchanged for 100 ms, 5 s at most) and returns how many it received: a
// cancelled question may arrive after the decision that needed none.
func (s *slowAPIServer) settle() int {
	last := -1
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s.mu.Lock()
		idle := s.inFlight == 0
		s.mu.Unlock()
		n := int(s.calls.Load())
		if idle && n == last {
			break
		}
		last = n
	}
	return int(s.calls.Load())
}

func (s *slowAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/apis/authorization.k8s.io/v1/subjectaccessreviews" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.calls.Add(1)
	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	var review authorizationv1.SubjectAccessReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case <-time.After(s.delay):
	case <-r.Context().Done():
		return
	}
	review.APIVersion, review.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
	review.Status.Allowed = s.allow(review.Spec)
	if review.Status.Allowed {
		review.Status.Reason = "allowed by the slow apiserver"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&review)
}

func (s *slowAPIServer) max() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// sarSnapshot is n copies of a preset's policy, named p000..., decided by
// SubjectAccessReviews to server through a client of its own.
func sarSnapshot(t *testing.T, preset string, n int, server *slowAPIServer, qps float32, burst int) (*source.Snapshot, *sar.CachingAuthorizer) {
	t.Helper()
	srv := httptest.NewServer(server)
	t.Cleanup(srv.Close)
	res, err := presets.Load(preset)
	if err != nil {
		t.Fatal(err)
	}
	base := res.Policies[0]
	res.Policies = nil
	for i := range n {
		p := base.DeepCopy()
		p.Name = fmt.Sprintf("p%03d", i)
		res.Policies = append(res.Policies, p)
	}
	snap, err := source.Build(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	client, err := sar.NewClient(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}, qps, burst)
	if err != nil {
		t.Fatal(err)
	}
	authz := sar.New(client, sar.DefaultOptions())
	snap.Authorizer = authz
	return snap, authz
}

func sarFixture(t *testing.T, snap *source.Snapshot, fp FailurePolicy, budget time.Duration) *fixture {
	f := newFixture(t, engine.PhaseAdmit, ModeEnforce, fp, snap)
	f.handler.Reviewer.DecisionTimeout = budget
	return f
}

// timedPost is post, with how long the answer took.
func (f *fixture) timedPost(t *testing.T, body []byte) (*admissionv1.AdmissionResponse, time.Duration) {
	t.Helper()
	start := time.Now()
	resp := f.post(t, body)
	return resp, time.Since(start)
}

// onlyUserMay lets user use one policy, in kube-psp's own API group (the
// last one asked), and nobody anything else.
func onlyUserMay(user, policy string) func(authorizationv1.SubjectAccessReviewSpec) bool {
	return func(spec authorizationv1.SubjectAccessReviewSpec) bool {
		a := spec.ResourceAttributes
		return spec.User == user && a.Verb == "use" && a.Group == policyv1.GroupName && a.Resource == "podsecuritypolicies" && a.Name == policy
	}
}

// TestSubjectAccessReviewColdDecisionWithinBudget: 100 policies, the
// user's first usable one 80th, SubjectAccessReviews taking 20 ms each.
// One after another the 480 questions would take ~10 s, past the
// webhook's timeout; asked 16 at a time the cold decision takes about
// 0.6 s, and the warm one asks nothing.
func TestSubjectAccessReviewColdDecisionWithinBudget(t *testing.T) {
	server := &slowAPIServer{delay: 20 * time.Millisecond, allow: onlyUserMay("late", "p079")}
	snap, _ := sarSnapshot(t, "privileged", 100, server, 500, 1000)
	f := sarFixture(t, snap, FailurePolicyFail, 7*time.Second)
	body := asUser(t, review(t, admissionv1.Create, "", pod(nil), nil), "late")
	resp, elapsed := f.timedPost(t, body)
	if !resp.Allowed || resp.AuditAnnotations[AuditAdmitPolicy] != "p079" {
		t.Fatalf("not admitted by p079: %+v", resp)
	}
	// Needed: p000..p078 × (ServiceAccount, user) × 3 groups, then p079's
	// ServiceAccount (3) and the user's 3rd group: 480. Later questions
	// start while p079's are in flight (16 at a time, more if p079's answer
	// is late), and stop at its yes: far from all 600.
	calls := server.settle()
	if calls < 480 || calls > 480+48 {
		t.Errorf("%d SubjectAccessReviews, want 480 (+ those started while p079's were in flight)", calls)
	}
	if m := server.max(); m > 16 || m < 8 {
		t.Errorf("at most %d in flight, want 8..16", m)
	}
	// 480 reviews, 16 at a time, 20 ms each: 0.6 s; one at a time: 9.6 s.
	// The decision came within the budget (it was not answered by the
	// failure policy); its time is logged, not asserted, as a loaded
	// machine stretches it (docs/performance.md has the measurements).
	t.Logf("cold: %v, %d reviews, %d at most in flight", elapsed, calls, server.max())

	best := time.Hour
	for range 5 {
		resp, elapsed = f.timedPost(t, body)
		if !resp.Allowed || int(server.calls.Load()) != calls {
			t.Fatalf("warm decision asked again (%d reviews) or differs: %+v", int(server.calls.Load())-calls, resp)
		}
		best = min(best, elapsed)
	}
	// About 1 ms: 100 policies applied, 480 answers from the cache.
	t.Logf("warm: %v at best", best)
}

// TestSubjectAccessReviewDeniedPodManyPolicies: a pod that 100 policies
// refuse, none usable. v1.24 reports the errors of the usable policies,
// so each policy's use is asked (600 reviews), concurrently; the
// explanation reuses those answers.
func TestSubjectAccessReviewDeniedPodManyPolicies(t *testing.T) {
	server := &slowAPIServer{delay: 20 * time.Millisecond, allow: onlyUserMay("nobody", "")}
	snap, _ := sarSnapshot(t, "restricted", 100, server, 500, 1000)
	f := sarFixture(t, snap, FailurePolicyFail, 7*time.Second)
	privileged := pod(func(p *corev1.Pod) { p.Spec.HostNetwork = true })
	resp, elapsed := f.timedPost(t, review(t, admissionv1.Create, "", privileged, nil))
	if resp.Allowed || resp.Result.Code != http.StatusForbidden || !strings.HasPrefix(resp.Result.Message, "PodSecurityPolicy: unable to admit pod: ") {
		t.Fatalf("want v1.24's denial: %+v", resp.Result)
	}
	if calls := server.calls.Load(); calls != 600 {
		t.Errorf("%d SubjectAccessReviews, want 600", calls)
	}
	t.Logf("denied: %v, %d reviews", elapsed, server.calls.Load())
}

// TestSubjectAccessReviewBudget: when SubjectAccessReviews answer too
// slowly, the request is answered by the failure policy once
// --decision-timeout runs out, naming SubjectAccessReview latency, and
// counted; whether the apiserver is slow or kube-psp's own rate limit
// holds the questions back.
func TestSubjectAccessReviewBudget(t *testing.T) {
	budget := 300 * time.Millisecond
	for _, c := range []struct {
		name   string
		server *slowAPIServer
		qps    float32
		burst  int
	}{
		{"slow apiserver", &slowAPIServer{delay: 5 * time.Second, allow: onlyUserMay("alice", "p000")}, 500, 1000},
		// 40 questions at 10 a second: 4 s. A question refused at once
		// would read as "no"; it waits out the budget instead.
		{"client-side throttling", &slowAPIServer{allow: onlyUserMay("alice", "p006")}, 10, 1},
	} {
		for _, fp := range []FailurePolicy{FailurePolicyFail, FailurePolicyAllow} {
			t.Run(fmt.Sprintf("%s/%s", c.name, fp), func(t *testing.T) {
				snap, _ := sarSnapshot(t, "privileged", 10, c.server, c.qps, c.burst)
				f := sarFixture(t, snap, fp, budget)
				resp, elapsed := f.timedPost(t, asUser(t, review(t, admissionv1.Create, "", pod(nil), nil), "alice"))
				// Unbounded, the answer would take 4-5 s; the upper bound is
				// loose, as a loaded machine delays the answer.
				if elapsed < budget || elapsed > budget+2*time.Second {
					t.Errorf("answered after %v, want just after the %v budget", elapsed, budget)
				}
				msg := strings.Join(resp.Warnings, "\n")
				if fp == FailurePolicyFail {
					if resp.Allowed || resp.Result.Code != http.StatusInternalServerError {
						t.Fatalf("want a failure (500): %+v", resp)
					}
					msg = resp.Result.Message
				} else if !resp.Allowed {
					t.Fatalf("--failure-policy allow: want admitted: %+v", resp)
				}
				if !strings.Contains(msg, "SubjectAccessReview latency") || !strings.Contains(msg, "--decision-timeout=300ms") {
					t.Errorf("message: %s", msg)
				}
				if n := testutil.ToFloat64(f.metrics.timeouts.WithLabelValues("admit")); n != 1 {
					t.Errorf("kube_psp_subjectaccessreview_timeouts_total = %v", n)
				}
			})
		}
	}
}

// TestSubjectAccessReviewAnswersDroppedOnRBACChange: an answer cached
// before an RBAC change is asked again after it.
func TestSubjectAccessReviewAnswersDroppedOnRBACChange(t *testing.T) {
	var allowed atomic.Bool
	server := &slowAPIServer{allow: func(spec authorizationv1.SubjectAccessReviewSpec) bool {
		return allowed.Load() && onlyUserMay("alice", "p000")(spec)
	}}
	snap, authz := sarSnapshot(t, "privileged", 1, server, 500, 1000)
	f := sarFixture(t, snap, FailurePolicyFail, 7*time.Second)
	body := asUser(t, review(t, admissionv1.Create, "", pod(nil), nil), "alice")
	if resp := f.post(t, body); resp.Allowed {
		t.Fatal("admitted before the grant")
	}
	allowed.Store(true) // a RoleBinding is created...
	if resp := f.post(t, body); resp.Allowed {
		t.Fatal("the cached answer was not used")
	}
	authz.Invalidate() // ...and its watch event arrives
	if resp := f.post(t, body); !resp.Allowed {
		t.Fatalf("denied after the RBAC change: %+v", resp.Result)
	}
}

// asUser makes an AdmissionReview's requester name.
func asUser(t *testing.T, body []byte, name string) []byte {
	t.Helper()
	var r admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	r.Request.UserInfo.Username = name
	out, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
