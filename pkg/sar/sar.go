// Package sar answers the engine's authorization questions by asking the
// apiserver (SubjectAccessReview), for clusters whose authorizers are more
// than RBAC (webhook authorizers, Node, ABAC).
//
// Answers are cached briefly, keyed by everything a review sends, and the
// cache is bounded; errors are never cached. Invalidate drops every answer,
// InvalidateNamespace those of one namespace (the server calls them on each
// RBAC change it sees), and an answer asked before either is not stored
// after it. The engine asks an
// CachingAuthorizer's questions concurrently (authorizer.Concurrent); the client's
// own rate limit (rest.Config QPS and Burst) bounds the rate.
package sar

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// Options bound the cache and the asking.
type Options struct {
	// TTL is how long an answer is reused. Zero disables the cache: every
	// question reaches the apiserver.
	TTL time.Duration
	// MaxEntries bounds the cache; when it is full, expired answers go
	// first, then the oldest.
	MaxEntries int
	// Timeout bounds one SubjectAccessReview call.
	Timeout time.Duration
	// Concurrency is the most SubjectAccessReviews one decision has in
	// flight at once.
	Concurrency int
}

// DefaultOptions are psp serve's defaults: a change of authorization outside RBAC (a webhook
// authorizer's) is in force within TTL, an RBAC change as soon as its watch
// event arrives; 10,000 entries are a few MB.
func DefaultOptions() Options {
	return Options{TTL: 10 * time.Second, MaxEntries: 10000, Timeout: 5 * time.Second, Concurrency: 16}
}

// CachingAuthorizer asks SubjectAccessReviews. It implements
// authorizer.Concurrent and prometheus.Collector (the latency of its
// reviews and its cache's hits).
type CachingAuthorizer struct {
	client authorizationclient.SubjectAccessReviewInterface
	opts   Options
	now    func() time.Time

	latency *prometheus.HistogramVec
	lookups *prometheus.CounterVec

	// hits and misses are lookups' counters, resolved once: a label
	// lookup per question is a hash and a lock.
	hits, misses prometheus.Counter

	// mu guards the cache: lookups read it, answers and Invalidate write.
	mu      sync.RWMutex
	entries map[string]entry
	// order holds keys in insertion order, for evicting the oldest.
	order []string
	// generation counts Invalidate calls: an answer asked in an earlier
	// generation may predate an RBAC change and is not stored.
	generation uint64
}

var (
	_ authorizer.Concurrent = (*CachingAuthorizer)(nil)
	_ prometheus.Collector  = (*CachingAuthorizer)(nil)
)

type entry struct {
	allowed   bool
	reason    string
	namespace string
	expires   time.Time
}

// New returns an authorizer asking through client.
func New(client authorizationclient.SubjectAccessReviewInterface, opts Options) *CachingAuthorizer {
	if opts.MaxEntries <= 0 {
		opts.TTL = 0
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	a := &CachingAuthorizer{
		client: client, opts: opts, now: time.Now, entries: map[string]entry{},
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kube_psp_subjectaccessreview_duration_seconds",
			Help:    "SubjectAccessReview latency, from asking (client-side throttling included) to the apiserver's answer, by result (allowed, denied, error, or cancelled: a question kube-psp stopped asking because its answer could no longer change the decision).",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"result"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_subjectaccessreview_cache_lookups_total",
			Help: "SubjectAccessReview answers looked up in the cache, by result (hit, miss).",
		}, []string{"result"}),
	}
	a.hits, a.misses = a.lookups.WithLabelValues("hit"), a.lookups.WithLabelValues("miss")
	return a
}

// Concurrency implements authorizer.Concurrent.
func (a *CachingAuthorizer) Concurrency() int { return a.opts.Concurrency }

// Cached implements authorizer.Concurrent.
func (a *CachingAuthorizer) Cached(attrs authorizer.Attributes) (bool, string, bool) {
	if a.opts.TTL <= 0 {
		return false, "", false
	}
	var buf [256]byte
	key := appendKey(buf[:0], attrs)
	now := a.now()
	a.mu.RLock()
	e, ok := a.entries[string(key)]
	a.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return false, "", false // counted as a miss when asked
	}
	a.hits.Inc()
	return e.allowed, e.reason, true
}

// Describe implements prometheus.Collector.
func (a *CachingAuthorizer) Describe(ch chan<- *prometheus.Desc) {
	a.latency.Describe(ch)
	a.lookups.Describe(ch)
}

// Collect implements prometheus.Collector.
func (a *CachingAuthorizer) Collect(ch chan<- prometheus.Metric) {
	a.latency.Collect(ch)
	a.lookups.Collect(ch)
}

// Authorize implements authorizer.Authorizer: a cached answer, else one
// SubjectAccessReview with the user's name, uid, groups and extra, and the
// question's resource attributes.
func (a *CachingAuthorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (bool, string, error) {
	key := cacheKey(attrs)
	e, ok, generation := a.lookup(key)
	if ok {
		return e.allowed, e.reason, nil
	}
	if a.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.opts.Timeout)
		defer cancel()
	}
	start := time.Now()
	allowed, reason, err := a.ask(ctx, attrs)
	result := map[bool]string{true: "allowed", false: "denied"}[allowed]
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		// The engine cancels questions whose answer became needless: not
		// an apiserver error, and no alert should count it as one.
		result = "cancelled"
	case err != nil:
		result = "error"
	}
	a.latency.WithLabelValues(result).Observe(time.Since(start).Seconds())
	if err != nil {
		return false, "", err
	}
	a.store(key, generation, entry{allowed: allowed, reason: reason, namespace: attrs.Namespace})
	return allowed, reason, nil
}

func (a *CachingAuthorizer) ask(ctx context.Context, attrs authorizer.Attributes) (bool, string, error) {
	var extra map[string]authorizationv1.ExtraValue
	if len(attrs.User.Extra) > 0 {
		extra = make(map[string]authorizationv1.ExtraValue, len(attrs.User.Extra))
		for k, v := range attrs.User.Extra {
			extra[k] = v
		}
	}
	review, err := a.client.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   attrs.User.Name,
		UID:    attrs.User.UID,
		Groups: attrs.User.Groups,
		Extra:  extra,
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
	return st.Allowed, reason, nil
}

// Invalidate drops every cached answer, and keeps answers asked before it
// from being stored: call it when authorization may have changed (an RBAC
// object was added, changed or deleted).
func (a *CachingAuthorizer) Invalidate() { a.InvalidateNamespace("") }

// InvalidateNamespace drops the cached answers about namespace, or every
// answer when namespace is "" (the apiserver's RBAC authorizer applies a
// Role or RoleBinding in its own namespace only; a ClusterRole or
// ClusterRoleBinding may grant anywhere). Answers being asked, whatever
// their namespace, are not stored when they arrive.
func (a *CachingAuthorizer) InvalidateNamespace(namespace string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.generation++
	if namespace == "" {
		clear(a.entries)
		a.order = a.order[:0]
		return
	}
	kept := a.order[:0]
	for _, k := range a.order {
		if a.entries[k].namespace == namespace {
			delete(a.entries, k)
		} else {
			kept = append(kept, k)
		}
	}
	a.order = kept
}

// lookup returns a live cached answer, and the generation a new answer
// would be stored in.
func (a *CachingAuthorizer) lookup(key string) (entry, bool, uint64) {
	now := a.now()
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.opts.TTL <= 0 {
		return entry{}, false, a.generation
	}
	e, ok := a.entries[key]
	if !ok || !now.Before(e.expires) {
		a.misses.Inc()
		return entry{}, false, a.generation
	}
	a.hits.Inc()
	return e, true, a.generation
}

func (a *CachingAuthorizer) store(key string, generation uint64, e entry) {
	if a.opts.TTL <= 0 {
		return
	}
	now := a.now()
	e.expires = now.Add(a.opts.TTL)
	a.mu.Lock()
	defer a.mu.Unlock()
	if generation != a.generation {
		return // asked before an RBAC change: the answer may be stale
	}
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
func (a *CachingAuthorizer) evictLocked(now time.Time) {
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
func (a *CachingAuthorizer) Len() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.entries)
}

// appendKey appends to dst everything a review sends: user name, uid,
// groups (in the order given: the engine sends an identity's groups in the
// same order), extra (by key), verb, namespace, API group, resource and
// name. Each part is length-prefixed, so no two questions share a key. A
// lookup appends to a buffer on its stack and indexes the map with it, so
// a cached answer costs no allocation (a key built as a string was a third
// of a warm decision).
func appendKey(dst []byte, a authorizer.Attributes) []byte {
	put := func(s string) {
		dst = strconv.AppendInt(dst, int64(len(s)), 10)
		dst = append(dst, ':')
		dst = append(dst, s...)
	}
	for _, s := range [...]string{a.User.Name, a.User.UID, a.Verb, a.Namespace, a.APIGroup, a.Resource, a.Name} {
		put(s)
	}
	dst = strconv.AppendInt(dst, int64(len(a.User.Groups)), 10)
	dst = append(dst, 'g')
	for _, g := range a.User.Groups {
		put(g)
	}
	dst = strconv.AppendInt(dst, int64(len(a.User.Extra)), 10)
	dst = append(dst, 'e')
	if len(a.User.Extra) == 0 {
		return dst
	}
	var buf [8]string
	keys := buf[:0]
	for k := range a.User.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		put(k)
		dst = strconv.AppendInt(dst, int64(len(a.User.Extra[k])), 10)
		dst = append(dst, 'v')
		for _, v := range a.User.Extra[k] {
			put(v)
		}
	}
	return dst
}

// cacheKey is appendKey's key as a string, for storing.
func cacheKey(a authorizer.Attributes) string {
	var buf [256]byte
	return string(appendKey(buf[:0], a))
}
