package engine

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// applied is one policy's defaults and errors for the pod, computed ahead
// of the decision loop when the authorizer is concurrent.
type applied struct {
	pod     *corev1.Pod
	changes []Change
	errors  field.ErrorList
}

// prefetch, for a concurrent authorizer (SubjectAccessReview), applies
// every policy to the pod and then asks, concurrently, the `use` questions
// the decision loop will need: those of the policies that admit the pod
// (every policy with ExplainAll), up to the first that admits it unchanged
// and may be used. The loop then reads the answers instead of asking one
// after another. It returns nil for any other authorizer: the loop applies
// and asks as it goes, and never applies a policy past the chosen one.
//
// The answers only stand in for the loop's own questions: a policy the loop
// asks about that was not prefetched is asked then, so the decision is the
// same either way.
func (c *useChecker) prefetch(order []*provider, pod *corev1.Pod, mutationAllowed bool, opts Options) []applied {
	if c.concurrency() <= 1 {
		return nil
	}
	out := make([]applied, len(order))
	var policies []string
	var mutating []bool
	// Copies are shared where the loop cannot tell them apart: a policy
	// that does not admit the pod hands its copy to the next (as the loop
	// does), and every policy that admits the pod unchanged gets the same
	// copy, equal to the pod. At 100 policies that admit a pod unchanged,
	// one copy instead of 100: half of a warm decision's allocation.
	var spare, unchanged *corev1.Pod
	for i, prov := range order {
		p := copyForDefaults(pod, spare)
		spare = nil
		changes, errs := prov.apply(p)
		mutated := len(changes) > 0
		switch {
		case len(errs) > 0 || (mutated && !mutationAllowed):
			spare = p // never the admitted pod
		case !mutated && unchanged == nil:
			unchanged = p
		case !mutated:
			spare, p = p, unchanged
		}
		out[i] = applied{pod: p, changes: changes, errors: errs}
		if opts.ExplainAll || (len(errs) == 0 && (mutationAllowed || !mutated)) {
			policies = append(policies, prov.name)
			mutating = append(mutating, mutated)
		}
	}
	c.resolve(policies, mutating, !opts.ExplainAll)
	return out
}

// prefetchDenied asks concurrently about the policies whose errors a
// denial may report (v1.24 reports those the requester may use).
func (c *useChecker) prefetchDenied(attempts []Attempt) {
	if c.concurrency() <= 1 {
		return
	}
	var policies []string
	for i := range attempts {
		if attempts[i].Outcome == OutcomeInvalid && attempts[i].Authorization == nil {
			policies = append(policies, attempts[i].Policy)
		}
	}
	c.resolve(policies, nil, false)
}

func (c *useChecker) concurrency() int {
	if cc, ok := c.authz.(authorizer.Concurrent); ok {
		return cc.Concurrency()
	}
	return 1
}

// useAnswer is one question's answer.
type useAnswer struct {
	started, done bool
	allowed       bool
	reason        string
	err           error
	cancel        context.CancelFunc
}

// resolve asks the `use` questions of the policies, in order, and records
// each policy's Authorization as AuthorizeUse would make it. It asks
// nothing whose answer can no longer change one: a question after one of
// the same policy that answered yes (an earlier identity or API group),
// and, when choosing (the decision loop's rules), any question of a policy
// after one that may be used and admits the pod unchanged, or of a
// mutating policy after one that may be used; questions in flight that
// become needless are cancelled. At most concurrency() questions are
// in flight, and fewer at first: one, then one more for each answer (as
// TCP's slow start), so that a decision settled by its first question (the
// usual case: the first policy may be used) asks only that one, and a long
// search soon runs at full width. When ctx ends, the questions left get
// its error.
func (c *useChecker) resolve(policies []string, mutating []bool, choosing bool) {
	if len(policies) == 0 {
		return
	}
	subjects := c.subjects
	groups := UseAPIGroups()
	perPolicy := len(subjects) * len(groups)
	answers := make([]useAnswer, len(policies)*perPolicy)
	firstYes := make([]int, len(policies)) // question index within the policy, or perPolicy
	for i := range firstYes {
		firstYes[i] = perPolicy
	}
	// When choosing: policies after cutoff are not reached, and mutating
	// policies after firstUsable cannot win.
	cutoff, firstUsable := len(policies), len(policies)
	policyNeeded := func(p int) bool {
		return !choosing || (p <= cutoff && (!mutating[p] || p <= firstUsable))
	}
	needed := func(q int) bool {
		p := q / perPolicy
		return policyNeeded(p) && q%perPolicy < firstYes[p]
	}

	type result struct {
		q       int
		allowed bool
		reason  string
		err     error
	}
	results := make(chan result, c.concurrency())
	record := func(r result) {
		a := &answers[r.q]
		if a.cancel != nil {
			a.cancel()
		}
		a.done, a.allowed, a.reason, a.err = true, r.allowed, r.reason, r.err
		p, k := r.q/perPolicy, r.q%perPolicy
		if !r.allowed || k >= firstYes[p] {
			return
		}
		firstYes[p] = k
		if choosing {
			if !mutating[p] {
				cutoff = min(cutoff, p)
			}
			firstUsable = min(firstUsable, p)
		}
		for o := range answers {
			if answers[o].started && !answers[o].done && !needed(o) {
				answers[o].cancel()
			}
		}
	}
	cached, _ := c.authz.(authorizer.Concurrent)
	next, inFlight, window := 0, 0, 1
	for {
		for inFlight < window && c.ctx.Err() == nil {
			for next < len(answers) && !needed(next) {
				next++
			}
			if next == len(answers) {
				break
			}
			q := next
			next++
			p, k := q/perPolicy, q%perPolicy
			attrs := UseAttributes(subjects[k/len(groups)], c.namespace, groups[k%len(groups)], policies[p])
			answers[q].started = true
			if cached != nil {
				if allowed, reason, ok := cached.Cached(attrs); ok {
					record(result{q, allowed, reason, nil})
					continue
				}
			}
			ctx, cancel := context.WithCancel(c.ctx)
			answers[q].cancel = cancel
			inFlight++
			// attrs is passed, not captured: captured, it would be moved to
			// the heap for every question, cached ones included.
			go func(attrs authorizer.Attributes) {
				allowed, reason, err := c.authz.Authorize(ctx, attrs)
				results <- result{q, allowed, reason, err}
			}(attrs)
		}
		if inFlight == 0 {
			break
		}
		r := <-results
		inFlight--
		window = min(window+1, c.concurrency())
		record(r)
	}

	if c.answers == nil {
		c.answers = make(map[string]*Authorization, len(policies))
	}
	for p := range policies {
		if !policyNeeded(p) {
			continue
		}
		result := &Authorization{}
		for k := range perPolicy {
			a := &answers[p*perPolicy+k]
			if !a.done {
				// Not asked: ctx ended first.
				a.err = context.Cause(c.ctx)
				if a.err == nil {
					a.err = fmt.Errorf("not asked")
				}
			}
			if a.err != nil {
				result.Errors = append(result.Errors, fmt.Sprintf("%s: %v", subjects[k/len(groups)].Name, a.err))
			}
			if a.allowed {
				result.Allowed, result.Subject, result.APIGroup, result.Reason = true, subjects[k/len(groups)].Name, groups[k%len(groups)], a.reason
				break
			}
		}
		c.answers[policies[p]] = result
	}
}
