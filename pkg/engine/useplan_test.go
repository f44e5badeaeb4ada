package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// hashedAuthorizer answers each question by a hash of it and a seed: yes,
// no or an error, the same every time it is asked. With jitter, answers
// come back after a random delay, so concurrent answers arrive out of order.
type hashedAuthorizer struct {
	seed        uint64
	yes, errors uint64 // per mille
	jitter      time.Duration
}

func (h *hashedAuthorizer) Authorize(ctx context.Context, a authorizer.Attributes) (bool, string, error) {
	f := fnv.New64a()
	fmt.Fprintf(f, "%d|%s|%s|%s", h.seed, a.User.Name, a.APIGroup, a.Name)
	v := f.Sum64() % 1000
	if h.jitter > 0 {
		select {
		case <-time.After(time.Duration(f.Sum64()>>20) % h.jitter):
		case <-ctx.Done():
			return false, "", ctx.Err()
		}
	}
	switch {
	case v < h.yes:
		return true, "hashed yes for " + a.User.Name, nil
	case v < h.yes+h.errors:
		return false, "", errors.New("hashed error")
	}
	return false, "", nil
}

// concurrentAuthz makes an authorizer concurrent.
type concurrentAuthz struct {
	authorizer.Authorizer
	n int
}

func (c concurrentAuthz) Concurrency() int { return c.n }

func (c concurrentAuthz) Cached(authorizer.Attributes) (bool, string, bool) { return false, "", false }

// TestConcurrentUseChecksDecideAlike: asking concurrently (and early
// stopping) gives the same decision, attempts and authorizations included,
// as asking one question after another, on random policies and answers.
func TestConcurrentUseChecksDecideAlike(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	pool := func(i int) *policyv1.PodSecurityPolicy {
		name := fmt.Sprintf("p%02d", i)
		switch i % 3 {
		case 0:
			return restrictedPolicy(name)
		case 1:
			return permissivePolicy(name)
		}
		p := permissivePolicy(name)
		p.Spec.Privileged = false
		p.Spec.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAsNonRoot}
		return p
	}
	pods := []*corev1.Pod{
		privilegedPod(),
		newPod(corev1.Container{Name: "app", Image: "x"}),
		newPod(corev1.Container{Name: "app", Image: "x", SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(1000))}}),
	}
	pods[1].Spec.ServiceAccountName = "sa"
	for round := range 60 {
		var policies []*policyv1.PodSecurityPolicy
		for i := range 30 {
			if rng.IntN(3) == 0 {
				policies = append(policies, pool(i))
			}
		}
		set := mustSet(t, policies...)
		h := &hashedAuthorizer{seed: rng.Uint64(), yes: uint64(rng.IntN(300)), errors: uint64(rng.IntN(100))}
		// The same answers, arriving out of order.
		jittered := &hashedAuthorizer{seed: h.seed, yes: h.yes, errors: h.errors, jitter: time.Duration(rng.IntN(2)) * 300 * time.Microsecond}
		for _, pod := range pods {
			for _, phase := range []Phase{PhaseAdmit, PhaseValidate} {
				req := Request{Phase: phase, Operation: OperationCreate, Namespace: "ns", User: authorizer.UserInfo{Name: "user", Groups: []string{"g"}}, Pod: pod}
				if phase == PhaseValidate && len(policies) > 0 {
					pod = pod.DeepCopy()
					pod.Annotations = map[string]string{policyv1.ValidatedPolicyAnnotationKey: policies[rng.IntN(len(policies))].Name}
					req.Pod = pod
				}
				for _, opts := range []Options{{}, {ExplainAll: true}} {
					want, err := Decide(context.Background(), set, h, req, opts)
					if err != nil {
						t.Fatal(err)
					}
					got, err := Decide(context.Background(), set, concurrentAuthz{jittered, 1 + rng.IntN(8)}, req, opts)
					if err != nil {
						t.Fatal(err)
					}
					if err := sameDecision(got, want); err != nil {
						t.Fatalf("round %d, %s, %+v: concurrent decision differs: %v\n got %+v\nwant %+v", round, phase, opts, err, got, want)
					}
				}
			}
		}
	}
}

// sameDecision: the decisions are equal, and so are their attempts, except
// that a concurrent authorizer does not ask about a policy that would
// change the pod after one that admits it with changes (it cannot win):
// that one is NotReached.
func sameDecision(got, want Decision) error {
	g, w := got, want
	g.Attempts, w.Attempts = nil, nil
	if !equality.Semantic.DeepEqual(g, w) {
		return errors.New("decisions differ")
	}
	if len(got.Attempts) != len(want.Attempts) {
		return errors.New("attempts differ in number")
	}
	earlierAdmits := false
	for i, a := range want.Attempts {
		ga := got.Attempts[i]
		skippable := earlierAdmits && len(a.Changes) > 0 && (a.Outcome == OutcomeAdmittedWithChanges || a.Outcome == OutcomeUnauthorized)
		if a.Outcome == OutcomeAdmittedWithChanges {
			earlierAdmits = true
		}
		if equality.Semantic.DeepEqual(ga, a) {
			continue
		}
		if !skippable || !equality.Semantic.DeepEqual(ga, Attempt{Policy: a.Policy, Outcome: OutcomeNotReached}) {
			return fmt.Errorf("attempt %d (%s) differs: got %+v want %+v", i, a.Policy, ga, a)
		}
	}
	return nil
}

// TestConcurrentUseChecksStopEarly: 100 policies that each admit the pod,
// only the 80th usable: the questions are asked at most 8 at a time, and
// once the 80th answers yes nothing after it is asked; a denied pod's
// policies are asked about concurrently too.
func TestConcurrentUseChecksStopEarly(t *testing.T) {
	var policies []*policyv1.PodSecurityPolicy
	for i := range 100 {
		policies = append(policies, permissivePolicy(fmt.Sprintf("p%03d", i)))
	}
	set := mustSet(t, policies...)
	grants := &syncStatic{grants: map[string]string{"user": "p079"}}
	authz := &slowAuthz{inner: grants, delay: 2 * time.Millisecond}
	req := Request{Phase: PhaseAdmit, Operation: OperationCreate, Namespace: "ns", User: authorizer.UserInfo{Name: "user"}, Pod: newPod(corev1.Container{Name: "app", Image: "x"})}
	start := time.Now()
	d, err := Decide(context.Background(), set, concurrentAuthz{authz, 8}, req, Options{})
	if err != nil || !d.Allowed || d.Policy != "p079" {
		t.Fatalf("decision %+v, %v", d, err)
	}
	elapsed := time.Since(start)
	// 80 policies × 3 API groups: 240 questions, 2 ms each, 8 at a time.
	if calls := authz.calls.Load(); calls < 238 || calls > 240+8 {
		t.Errorf("%d questions asked, want 238 (the user in every group up to p079's first) plus at most 8 in flight", calls)
	}
	if m := authz.maxInFlight.Load(); m > 8 || m < 2 {
		t.Errorf("at most %d questions in flight, want 2..8", m)
	}
	// Concurrency is shown by maxInFlight, not by wall-clock time, which a
	// loaded machine stretches.
	t.Logf("took %v", elapsed)
	for _, a := range d.Attempts[80:] {
		if a.Outcome != OutcomeNotReached || a.Authorization != nil {
			t.Fatalf("%s after the chosen policy: %+v", a.Policy, a)
		}
	}

	// The usual case: the first policy may be used, and its first question
	// says so. Asking starts one question wide: nothing else is asked.
	grants.grants["user"] = "p000"
	authz.calls.Store(0)
	if d, err := Decide(context.Background(), set, concurrentAuthz{authz, 8}, req, Options{}); err != nil || d.Policy != "p000" {
		t.Fatalf("decision %+v, %v", d, err)
	}
	if calls := authz.calls.Load(); calls != 1 {
		t.Errorf("%d questions when the first answers yes, want 1", calls)
	}

	// Denied: every policy refuses the pod; each one's use is asked (v1.24
	// reports the errors of the usable ones), concurrently.
	denySet := mustSet(t, restrictedPolicyList(100)...)
	authz.calls.Store(0)
	start = time.Now()
	d, err = Decide(context.Background(), denySet, concurrentAuthz{authz, 8}, Request{Phase: PhaseAdmit, Operation: OperationCreate, Namespace: "ns", User: authorizer.UserInfo{Name: "user"}, Pod: privilegedPod()}, Options{})
	if err != nil || d.Allowed {
		t.Fatalf("decision %+v, %v", d, err)
	}
	if calls := authz.calls.Load(); calls != 300 {
		t.Errorf("%d questions for a denial, want 300", calls)
	}
	if m := authz.maxInFlight.Load(); m > 8 || m < 2 {
		t.Errorf("at most %d questions in flight, want 2..8", m)
	}
	t.Logf("denial took %v", time.Since(start))
}

func restrictedPolicyList(n int) []*policyv1.PodSecurityPolicy {
	var out []*policyv1.PodSecurityPolicy
	for i := range n {
		out = append(out, restrictedPolicy(fmt.Sprintf("r%03d", i)))
	}
	return out
}

// syncStatic grants one policy to each listed user, in every API group.
type syncStatic struct{ grants map[string]string }

func (s *syncStatic) Authorize(_ context.Context, a authorizer.Attributes) (bool, string, error) {
	return s.grants[a.User.Name] == a.Name, "granted", nil
}

// slowAuthz answers after a delay, counting questions and the most in flight.
type slowAuthz struct {
	inner       authorizer.Authorizer
	delay       time.Duration
	calls       atomic.Int32
	mu          sync.Mutex
	inFlight    int32
	maxInFlight atomic.Int32
}

func (s *slowAuthz) Authorize(ctx context.Context, a authorizer.Attributes) (bool, string, error) {
	s.calls.Add(1)
	s.mu.Lock()
	s.inFlight++
	if s.inFlight > s.maxInFlight.Load() {
		s.maxInFlight.Store(s.inFlight)
	}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return false, "", ctx.Err()
	}
	return s.inner.Authorize(ctx, a)
}

// gatedAuthz holds every question until the test releases it (one token
// per answer, "no"), or until the question's context ends; it counts the
// questions in flight, the most at once, and those begun after budget
// ran out. Nothing is timed: the test decides when each answer comes.
type gatedAuthz struct {
	n       int
	arrived chan struct{}
	release chan struct{}
	budget  context.Context

	mu                                        sync.Mutex
	inFlight, maxInFlight, asked, afterBudget int
}

func (g *gatedAuthz) Concurrency() int { return g.n }

func (g *gatedAuthz) Cached(authorizer.Attributes) (bool, string, bool) { return false, "", false }

func (g *gatedAuthz) Authorize(ctx context.Context, _ authorizer.Attributes) (bool, string, error) {
	g.mu.Lock()
	g.inFlight++
	g.asked++
	g.maxInFlight = max(g.maxInFlight, g.inFlight)
	if g.budget.Err() != nil {
		g.afterBudget++
	}
	g.mu.Unlock()
	defer func() { g.mu.Lock(); g.inFlight--; g.mu.Unlock() }()
	g.arrived <- struct{}{}
	select {
	case <-g.release:
		return false, "", nil
	case <-ctx.Done():
		return false, "", context.Cause(ctx)
	}
}

func (g *gatedAuthz) counts() (inFlight, maxInFlight, asked, afterBudget int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight, g.maxInFlight, g.asked, g.afterBudget
}

// TestUsePlanConcurrencyAndBudget pins, with an authorizer that answers
// only when the test says so (as a slow apiserver), the two bounds of
// asking concurrently:
//   - concurrency: one question at first, one more for each answer, never
//     more than Concurrency() in flight;
//   - budget: when the decision's context ends (--decision-timeout), the
//     questions in flight are cancelled with its cause, nothing more is
//     asked, Decide returns only once none is left running, and every
//     question not answered carries the cause.
func TestUsePlanConcurrencyAndBudget(t *testing.T) {
	const width = 4
	var policies []*policyv1.PodSecurityPolicy
	for i := range 20 {
		policies = append(policies, permissivePolicy(fmt.Sprintf("p%03d", i)))
	}
	set := mustSet(t, policies...)
	errBudget := errors.New("decision budget spent")
	ctx, spend := context.WithCancelCause(context.Background())
	g := &gatedAuthz{n: width, arrived: make(chan struct{}, 100), release: make(chan struct{}), budget: ctx}
	req := Request{Phase: PhaseAdmit, Operation: OperationCreate, Namespace: "ns", User: authorizer.UserInfo{Name: "user"}, Pod: newPod(corev1.Container{Name: "app", Image: "x"})}
	type result struct {
		d   Decision
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := Decide(ctx, set, g, req, Options{})
		done <- result{d, err}
	}()
	// wait guards against a hang only; no duration is asserted.
	wait := func(what string) {
		t.Helper()
		select {
		case <-g.arrived:
		case <-time.After(30 * time.Second):
			t.Fatalf("no question arrived: %s", what)
		}
	}
	wait("the first question")
	started := 1
	for answered := 1; answered <= 8; answered++ {
		g.release <- struct{}{}
		// Each answer widens the window by one, up to width: the answered
		// question's place and one more are taken.
		for started < answered+min(1+answered, width) {
			wait(fmt.Sprintf("after %d answers", answered))
			started++
		}
		if inFlight, _, _, _ := g.counts(); inFlight > width {
			t.Fatalf("%d questions in flight after %d answers, want at most %d", inFlight, answered, width)
		}
	}
	spend(errBudget)
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Decide did not return after its budget ended")
	}
	inFlight, maxInFlight, asked, afterBudget := g.counts()
	if inFlight != 0 {
		t.Errorf("%d questions still running after Decide returned", inFlight)
	}
	if maxInFlight != width {
		t.Errorf("at most %d questions in flight, want %d", maxInFlight, width)
	}
	if afterBudget != 0 || asked != started {
		t.Errorf("%d questions asked (%d after the budget ended), want the %d started before it", asked, afterBudget, started)
	}
	if r.err != nil || r.d.Allowed {
		t.Fatalf("decision %+v, %v: want a denial made of unanswered questions", r.d, r.err)
	}
	// 8 answers "no"; every other question of the policies asked about
	// ends with the budget's cause (in flight: cancelled; later: not asked).
	withCause := 0
	for _, a := range r.d.Attempts {
		if a.Authorization == nil {
			continue
		}
		for _, e := range a.Authorization.Errors {
			if strings.Contains(e, errBudget.Error()) {
				withCause++
			}
		}
	}
	if withCause == 0 {
		t.Error("no unanswered question carries the budget's cause")
	}
}
