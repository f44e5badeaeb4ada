// Package sar answers the engine's authorization questions by asking the
// apiserver (SubjectAccessReview), for clusters whose authorizers are more
// than RBAC (webhook authorizers, Node, ABAC). Answers are cached briefly
// and the cache is bounded; errors are never cached.
package sar

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// Options bound the cache.
type Options struct {
	// TTL is how long an answer is reused. Zero disables the cache: every
	// question reaches the apiserver.
	TTL time.Duration
	// MaxEntries bounds the cache; when it is full, expired answers go
	// first, then the oldest.
	MaxEntries int
	// Timeout bounds one SubjectAccessReview call.
	Timeout time.Duration
}

// DefaultOptions: a change of RBAC is in force within TTL; 10,000 entries
// are a few MB.
var DefaultOptions = Options{TTL: 10 * time.Second, MaxEntries: 10000, Timeout: 5 * time.Second}

// Authorizer asks SubjectAccessReviews.
type Authorizer struct {
	client authorizationclient.SubjectAccessReviewInterface
	opts   Options
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]entry
	// order holds keys in insertion order, for evicting the oldest.
	order []string
}

type entry struct {
	allowed bool
	reason  string
	expires time.Time
}

// New returns an authorizer asking through client.
func New(client authorizationclient.SubjectAccessReviewInterface, opts Options) *Authorizer {
	if opts.MaxEntries <= 0 {
		opts.TTL = 0
	}
	return &Authorizer{client: client, opts: opts, now: time.Now, entries: map[string]entry{}}
}

// Authorize implements authorizer.Authorizer.
func (a *Authorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (bool, string, error) {
	key := cacheKey(attrs)
	if e, ok := a.lookup(key); ok {
		return e.allowed, e.reason, nil
	}
	if a.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.opts.Timeout)
		defer cancel()
	}
	review, err := a.client.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   attrs.User.Name,
		Groups: attrs.User.Groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: attrs.Verb, Namespace: attrs.Namespace, Group: attrs.APIGroup, Resource: attrs.Resource, Name: attrs.Name,
		},
	}}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("SubjectAccessReview for %s %s.%s/%s: %w", attrs.Verb, attrs.Resource, attrs.APIGroup, attrs.Name, err)
	}
	st := review.Status
	if st.EvaluationError != "" && !st.Allowed {
		// The apiserver could not evaluate every authorizer: the answer is
		// unknown, not "no".
		return false, "", fmt.Errorf("SubjectAccessReview for %s %s.%s/%s: %s", attrs.Verb, attrs.Resource, attrs.APIGroup, attrs.Name, st.EvaluationError)
	}
	reason := st.Reason
	if reason == "" {
		reason = "SubjectAccessReview: " + map[bool]string{true: "allowed", false: "not allowed"}[st.Allowed]
	}
	a.store(key, entry{allowed: st.Allowed, reason: reason})
	return st.Allowed, reason, nil
}

func (a *Authorizer) lookup(key string) (entry, bool) {
	if a.opts.TTL <= 0 {
		return entry{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.entries[key]
	if !ok || !a.now().Before(e.expires) {
		return entry{}, false
	}
	return e, true
}

func (a *Authorizer) store(key string, e entry) {
	if a.opts.TTL <= 0 {
		return
	}
	now := a.now()
	e.expires = now.Add(a.opts.TTL)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.entries[key]; !ok {
		if len(a.entries) >= a.opts.MaxEntries {
			a.evictLocked(now)
		}
		a.order = append(a.order, key)
	}
	a.entries[key] = e
}

// evictLocked drops expired entries, or the oldest quarter when none has
// expired, so that eviction is amortized rather than once per insert.
func (a *Authorizer) evictLocked(now time.Time) {
	kept := a.order[:0]
	for _, k := range a.order {
		if now.Before(a.entries[k].expires) {
			kept = append(kept, k)
		} else {
			delete(a.entries, k)
		}
	}
	a.order = kept
	if len(a.entries) >= a.opts.MaxEntries {
		drop := max(1, len(a.order)/4)
		for _, k := range a.order[:drop] {
			delete(a.entries, k)
		}
		a.order = append(a.order[:0], a.order[drop:]...)
	}
}

// Len is the number of cached answers.
func (a *Authorizer) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.entries)
}

func cacheKey(a authorizer.Attributes) string {
	var b strings.Builder
	for _, s := range []string{a.User.Name, a.Verb, a.Namespace, a.APIGroup, a.Resource, a.Name} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	// Groups as given: the engine always sends an identity's groups in the
	// same order.
	for _, g := range a.User.Groups {
		b.WriteString(g)
		b.WriteByte(1)
	}
	return b.String()
}
