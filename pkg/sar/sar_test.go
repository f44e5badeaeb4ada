package sar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// fakeAPIServer answers SubjectAccessReviews: alice may use policy "a" in
// group "policy"; a user named "broken" makes the call fail.
func fakeAPIServer(calls *atomic.Int32, seen *[]authorizationv1.SubjectAccessReviewSpec) *fake.Clientset {
	client := fake.NewClientset()
	client.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		calls.Add(1)
		review := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		if seen != nil {
			*seen = append(*seen, review.Spec)
		}
		spec := review.Spec
		switch {
		case spec.User == "broken":
			return true, nil, errors.New("connection refused")
		case spec.User == "needless":
			return true, nil, fmt.Errorf("asking: %w", context.Canceled)
		case spec.User == "partial":
			review.Status = authorizationv1.SubjectAccessReviewStatus{EvaluationError: "webhook authorizer timed out"}
		case spec.User == "alice" && spec.ResourceAttributes.Group == "policy" && spec.ResourceAttributes.Name == "a":
			review.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: `RBAC: allowed by ClusterRoleBinding "alice"`}
		}
		return true, review, nil
	})
	return client
}

func useAttrs(user, group, name string) authorizer.Attributes {
	return authorizer.Attributes{User: authorizer.UserInfo{Name: user, Groups: []string{"devs"}}, Verb: "use", Namespace: "ns",
		APIGroup: group, Resource: "podsecuritypolicies", Name: name}
}

func TestAuthorizeAsksTheAPIServer(t *testing.T) {
	var calls atomic.Int32
	var seen []authorizationv1.SubjectAccessReviewSpec
	a := New(fakeAPIServer(&calls, &seen).AuthorizationV1().SubjectAccessReviews(), DefaultOptions())
	ok, reason, err := a.Authorize(context.Background(), useAttrs("alice", "policy", "a"))
	if err != nil || !ok || !strings.Contains(reason, "ClusterRoleBinding") {
		t.Fatalf("alice: %v %q %v", ok, reason, err)
	}
	want := authorizationv1.SubjectAccessReviewSpec{User: "alice", Groups: []string{"devs"}, ResourceAttributes: &authorizationv1.ResourceAttributes{
		Verb: "use", Namespace: "ns", Group: "policy", Resource: "podsecuritypolicies", Name: "a"}}
	if len(seen) != 1 || seen[0].User != want.User || *seen[0].ResourceAttributes != *want.ResourceAttributes || seen[0].Groups[0] != "devs" {
		t.Fatalf("review sent: %+v", seen)
	}
	ok, reason, err = a.Authorize(context.Background(), useAttrs("alice", "policy", "b"))
	if err != nil || ok || reason == "" {
		t.Fatalf("alice on b: %v %q %v", ok, reason, err)
	}
}

func TestAnswersAreCachedBriefly(t *testing.T) {
	var calls atomic.Int32
	a := New(fakeAPIServer(&calls, nil).AuthorizationV1().SubjectAccessReviews(), Options{TTL: time.Minute, MaxEntries: 100})
	now := time.Unix(1000, 0)
	a.now = func() time.Time { return now }
	for range 3 {
		if ok, _, _ := a.Authorize(context.Background(), useAttrs("alice", "policy", "a")); !ok {
			t.Fatal("not allowed")
		}
		if ok, _, _ := a.Authorize(context.Background(), useAttrs("bob", "policy", "a")); ok {
			t.Fatal("bob allowed")
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls for 2 distinct questions asked 3 times each", calls.Load())
	}
	now = now.Add(time.Minute)
	a.Authorize(context.Background(), useAttrs("alice", "policy", "a"))
	if calls.Load() != 3 {
		t.Fatalf("an expired answer was reused: %d calls", calls.Load())
	}
	// Different groups are a different question.
	attrs := useAttrs("alice", "policy", "a")
	attrs.User.Groups = []string{"admins"}
	a.Authorize(context.Background(), attrs)
	if calls.Load() != 4 {
		t.Fatalf("groups are not part of the key: %d calls", calls.Load())
	}
}

func TestCacheIsBounded(t *testing.T) {
	var calls atomic.Int32
	a := New(fakeAPIServer(&calls, nil).AuthorizationV1().SubjectAccessReviews(), Options{TTL: time.Hour, MaxEntries: 8})
	for i := range 100 {
		a.Authorize(context.Background(), useAttrs("user"+string(rune('a'+i%26))+string(rune('a'+i/26)), "policy", "a"))
		if a.Len() > 8 || len(a.order) > 8 {
			t.Fatalf("after %d questions the cache holds %d entries (%d keys)", i+1, a.Len(), len(a.order))
		}
	}
	// The newest answer is still cached.
	before := calls.Load()
	a.Authorize(context.Background(), useAttrs("user"+string(rune('a'+99%26))+string(rune('a'+99/26)), "policy", "a"))
	if calls.Load() != before {
		t.Fatal("the newest answer was evicted")
	}
}

func TestErrorsAreNotCachedAndNotAnswers(t *testing.T) {
	var calls atomic.Int32
	a := New(fakeAPIServer(&calls, nil).AuthorizationV1().SubjectAccessReviews(), DefaultOptions())
	for _, user := range []string{"broken", "partial"} {
		for range 2 {
			ok, _, err := a.Authorize(context.Background(), useAttrs(user, "policy", "a"))
			if err == nil || ok {
				t.Fatalf("%s: allowed=%v err=%v; want an error", user, ok, err)
			}
		}
	}
	if calls.Load() != 4 || a.Len() != 0 {
		t.Fatalf("errors were cached: %d calls, %d entries", calls.Load(), a.Len())
	}
}

func TestNoCache(t *testing.T) {
	var calls atomic.Int32
	a := New(fakeAPIServer(&calls, nil).AuthorizationV1().SubjectAccessReviews(), Options{})
	a.Authorize(context.Background(), useAttrs("alice", "policy", "a"))
	a.Authorize(context.Background(), useAttrs("alice", "policy", "a"))
	if calls.Load() != 2 || a.Len() != 0 {
		t.Fatalf("TTL 0 cached: %d calls", calls.Load())
	}
}

// TestKeyIsExact: the uid, each extra value and the order of groups make
// different questions; the order of extra keys does not (a map has none).
func TestKeyIsExact(t *testing.T) {
	base := useAttrs("alice", "policy", "a")
	withUID := base
	withUID.User.UID = "u-1"
	withExtra := base
	withExtra.User.Extra = map[string][]string{"scopes": {"a", "b"}}
	otherExtra := base
	otherExtra.User.Extra = map[string][]string{"scopes": {"ab"}}
	splitExtra := base
	splitExtra.User.Extra = map[string][]string{"scopes": {"a"}, "b": nil}
	twoGroups := base
	twoGroups.User.Groups = []string{"devs", "ops"}
	swapped := base
	swapped.User.Groups = []string{"ops", "devs"}
	joined := base
	joined.User.Groups = []string{"devsops"}
	keys := map[string]string{}
	for name, attrs := range map[string]authorizer.Attributes{
		"base": base, "uid": withUID, "extra": withExtra, "other extra": otherExtra, "split extra": splitExtra,
		"two groups": twoGroups, "swapped groups": swapped, "joined groups": joined,
	} {
		k := cacheKey(attrs)
		if other, dup := keys[k]; dup {
			t.Errorf("%s and %s share a key", name, other)
		}
		keys[k] = name
	}
	a := base
	a.User.Extra = map[string][]string{"x": {"1"}, "y": {"2"}}
	b := base
	b.User.Extra = map[string][]string{"y": {"2"}, "x": {"1"}}
	for range 10 { // map iteration order varies
		if cacheKey(a) != cacheKey(b) {
			t.Fatal("the same extra gave different keys")
		}
	}
}

// TestInvalidate: Invalidate drops every answer, and an answer asked
// before it (it may predate the RBAC change) is returned but not stored.
func TestInvalidate(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	client := fake.NewClientset()
	client.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		calls.Add(1)
		review := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		if review.Spec.User == "slow" {
			<-release
		}
		review.Status.Allowed = true
		return true, review, nil
	})
	a := New(client.AuthorizationV1().SubjectAccessReviews(), DefaultOptions())
	a.Authorize(context.Background(), useAttrs("alice", "policy", "a"))
	if a.Len() != 1 {
		t.Fatal("not cached")
	}
	a.Invalidate()
	if a.Len() != 0 {
		t.Fatal("Invalidate kept answers")
	}
	a.Authorize(context.Background(), useAttrs("alice", "policy", "a"))
	if calls.Load() != 2 {
		t.Fatalf("%d calls: the answer survived Invalidate", calls.Load())
	}

	done := make(chan bool)
	go func() {
		ok, _, _ := a.Authorize(context.Background(), useAttrs("slow", "policy", "a"))
		done <- ok
	}()
	for calls.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	a.Invalidate() // while "slow" is being asked
	close(release)
	if !<-done {
		t.Fatal("the answer in flight was not returned")
	}
	if _, _, ok := a.Cached(useAttrs("slow", "policy", "a")); ok || a.Len() != 0 {
		t.Fatal("an answer asked before Invalidate was stored after it")
	}
}

// TestInvalidateNamespace drops the answers about one namespace and keeps
// the others'; "" drops all.
func TestInvalidateNamespace(t *testing.T) {
	var calls atomic.Int32
	a := New(fakeAPIServer(&calls, nil).AuthorizationV1().SubjectAccessReviews(), DefaultOptions())
	in := func(ns string) authorizer.Attributes {
		attrs := useAttrs("alice", "policy", "a")
		attrs.Namespace = ns
		return attrs
	}
	for _, ns := range []string{"team", "other", "third"} {
		a.Authorize(context.Background(), in(ns))
	}
	a.InvalidateNamespace("team")
	if _, _, ok := a.Cached(in("team")); ok {
		t.Error("the answer about the namespace survived")
	}
	for _, ns := range []string{"other", "third"} {
		if _, _, ok := a.Cached(in(ns)); !ok {
			t.Errorf("the answer about %s was dropped", ns)
		}
	}
	a.InvalidateNamespace("")
	if a.Len() != 0 {
		t.Errorf("%d answers left after invalidating every namespace", a.Len())
	}
}

// TestWaitingLimiter: a request waits for its token until its context
// ends, then fails with the context's cause, and gives the token back.
// Nothing is timed: the rates are far from the test's own duration.
func TestWaitingLimiter(t *testing.T) {
	fast := newWaitingLimiter(1000, 1)
	for i := 0; i < 3; i++ {
		if err := fast.Wait(context.Background()); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
	// One token a hundred seconds: the burst's token, then nothing.
	l := newWaitingLimiter(0.01, 1)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	cause := errors.New("budget")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 20*time.Millisecond, cause)
	defer cancel()
	// client-go's limiter would fail at once (the wait passes the
	// deadline); this one waits until the context ends.
	if err := l.Wait(ctx); !errors.Is(err, cause) {
		t.Fatalf("got %v, want the context's cause", err)
	}
	// The cancelled reservation gave its token back: without that the
	// limiter would owe one token (about -1).
	if tokens := l.limiter.Tokens(); tokens < -0.5 {
		t.Errorf("%.2f tokens after the cancelled wait; the reservation was not given back", tokens)
	}
}

// A question the engine cancelled because its answer became needless is
// counted as cancelled, not as an apiserver error.
func TestCancelledQuestionsAreNotErrors(t *testing.T) {
	var calls atomic.Int32
	a := New(fakeAPIServer(&calls, nil).AuthorizationV1().SubjectAccessReviews(), DefaultOptions())
	if _, _, err := a.Authorize(context.Background(), useAttrs("needless", "policy", "a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	_, _, _ = a.Authorize(context.Background(), useAttrs("broken", "policy", "a"))
	count := func(result string) uint64 {
		var m dto.Metric
		if err := a.latency.WithLabelValues(result).(interface{ Write(*dto.Metric) error }).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetHistogram().GetSampleCount()
	}
	if c, e := count("cancelled"), count("error"); c != 1 || e != 1 {
		t.Errorf("cancelled %d, error %d; want 1 each", c, e)
	}
}
