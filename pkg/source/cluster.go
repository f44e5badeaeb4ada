package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/rbac"
)

// PolicyResource is the CRD's resource.
var PolicyResource = policyv1.SchemeGroupVersion.WithResource("podsecuritypolicies")

// Cluster keeps a snapshot of a live cluster's policies (the
// policy.kube-psp.io CRD) and RBAC, from informers: a change to either is
// in force within a moment, without a restart. It is not ready (Current is
// nil) until every informer has synced.
type Cluster struct {
	client  kubernetes.Interface
	dynamic dynamic.Interface
	// authz, when set, answers "may X use policy P" instead of local RBAC
	// evaluation, and RBAC is not watched.
	authz    authorizer.Authorizer
	log      *slog.Logger
	onReload func(*Snapshot, error)
	// settle is how long to wait after a change for more before
	// publishing: a burst (kubectl apply -f dir/) is published once. A
	// publish costs little (the index is already changed), so it is short:
	// a change's delay is mostly this wait.
	settle time.Duration
	// waitLog is how often to say that informers have not synced yet.
	waitLog time.Duration

	// rbacMetadata and invalidate, when set, watch RBAC to invalidate
	// authz's cached answers (rbacwatch.go).
	rbacMetadata metadata.Interface
	invalidate   func(namespace string)

	current atomic.Pointer[Snapshot]
	changed chan struct{}

	// changesMu guards what the informers' handlers change between
	// publishes: the RBAC index and whether a policy changed.
	changesMu       sync.Mutex
	index           *rbac.Builder
	policiesChanged bool
	// Owned by the goroutine that publishes: the policy set in force, its
	// warnings, and each policy converted, by name.
	policies       *engine.PolicySet
	policyWarnings []string
	converted      map[string]convertedPolicy

	// mu guards what says why the source is not ready yet.
	mu      sync.Mutex
	watched []watchedResource
	// failures has the last error reading each resource, Described.
	failures map[schema.GroupResource]failure
	// unreachable is the last error reaching the apiserver at all.
	unreachable error
}

type watchedResource struct {
	resource schema.GroupResource
	informer cache.SharedIndexInformer
	handler  cache.ResourceEventHandler
}

type failure struct {
	err    error
	logged time.Time
}

// CRDHint is what to do when the cluster lacks the policies' resource type.
const CRDHint = "install the CRD: kubectl apply -f deploy/crds (the Helm chart installs it too)"

// NewCluster returns a cluster source; call Start. With a nil authz,
// policy use is decided by evaluating the cluster's RBAC locally (exact for
// RBAC, and no apiserver call on the admission path); otherwise authz
// decides (a SubjectAccessReview authorizer, say) and RBAC is not watched.
func NewCluster(client kubernetes.Interface, dyn dynamic.Interface, authz authorizer.Authorizer, log *slog.Logger, onReload func(*Snapshot, error)) *Cluster {
	if onReload == nil {
		onReload = func(*Snapshot, error) {}
	}
	return &Cluster{client: client, dynamic: dyn, authz: authz, log: log, onReload: onReload, settle: 20 * time.Millisecond, waitLog: 10 * time.Second,
		changed: make(chan struct{}, 1), failures: map[schema.GroupResource]failure{}}
}

// NotReady says why Current is nil: for each resource not read yet, the
// last error reading it (kubeclient.Describe: the apiserver unreachable,
// the CRD not installed, a permission missing), or that its first answer
// is awaited. nil once a snapshot is in force.
func (c *Cluster) NotReady() error {
	if c.Current() != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs, waiting []string
	if c.unreachable != nil {
		errs = append(errs, c.unreachable.Error())
	}
	for _, w := range c.watched {
		if w.informer.HasSynced() {
			continue
		}
		if f, ok := c.failures[w.resource]; ok {
			errs = append(errs, f.err.Error())
		} else {
			waiting = append(waiting, w.resource.String())
		}
	}
	if len(waiting) > 0 {
		errs = append(errs, "waiting for the apiserver's first answer on "+strings.Join(waiting, ", "))
	}
	return fmt.Errorf("policies and RBAC are not read from the cluster yet: %s", strings.Join(errs, "; "))
}

// watchFailed records an error of an informer's list or watch, logs it when
// it is new (or a minute old: the informer retries with back-off, up to
// every 30 s) and passes it to failed when set. Closed and expired watches
// are the informer's routine, as client-go's DefaultWatchErrorHandler has it.
func (c *Cluster) watchFailed(resource schema.GroupResource, err error, failed chan<- error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return
	}
	hint := ""
	if resource == PolicyResource.GroupResource() {
		hint = CRDHint
	}
	err = kubeclient.Describe(err, "watch", resource, hint)
	c.mu.Lock()
	prev, seen := c.failures[resource]
	logIt := !seen || prev.err.Error() != err.Error() || time.Since(prev.logged) > time.Minute
	f := failure{err: err, logged: prev.logged}
	if logIt {
		f.logged = time.Now()
	}
	c.failures[resource] = f
	c.mu.Unlock()
	if logIt {
		c.log.Warn("cannot read from the cluster; retrying", "resource", resource.String(), "error", err.Error())
	}
	if failed != nil {
		select {
		case failed <- err:
		default:
		}
	}
}

// Current returns the snapshot in force, nil until synced.
func (c *Cluster) Current() *Snapshot { return c.current.Load() }

// Start starts the informers, waits until they have synced (or ctx ends),
// builds the first snapshot, and keeps it current until ctx ends. Errors
// reading the cluster are retried, logged, and said by NotReady until then.
func (c *Cluster) Start(ctx context.Context) error { return c.start(ctx, nil) }

// Sync is Start for a one-shot reader (audit): it returns at the first
// error reading the cluster, Described, instead of retrying, and when ctx
// ends first, with NotReady's reasons. Bound the time with ctx; the
// informers stop when it ends.
func (c *Cluster) Sync(ctx context.Context) error { return c.start(ctx, make(chan error, 1)) }

func (c *Cluster) start(ctx context.Context, failed chan error) error {
	// The caches keep what decisions read: managed fields (often larger
	// than the object) and, for RBAC, annotations (kubectl's
	// last-applied-configuration copy) are dropped as objects arrive.
	factory := informers.NewSharedInformerFactoryWithOptions(c.client, 0, informers.WithTransform(stripRBAC))
	dynFactory := dynamicinformer.NewDynamicSharedInformerFactory(c.dynamic, 0)
	rb := factory.Rbac().V1()
	policyInformer := dynFactory.ForResource(PolicyResource)
	if err := policyInformer.Informer().SetTransform(stripManagedFields); err != nil {
		return fmt.Errorf("watching %s: %w", PolicyResource.GroupResource(), err)
	}
	policies := policyInformer.Lister()
	onPolicy := func(any) {
		c.changesMu.Lock()
		c.policiesChanged = true
		c.changesMu.Unlock()
		c.signal()
	}
	policyHandler := cache.ResourceEventHandlerFuncs{AddFunc: onPolicy, UpdateFunc: func(_, obj any) { onPolicy(obj) }, DeleteFunc: onPolicy}
	watched := []watchedResource{{PolicyResource.GroupResource(), policyInformer.Informer(), policyHandler}}
	c.changesMu.Lock()
	c.policiesChanged = true
	c.index = rbac.NewBuilder()
	c.changesMu.Unlock()
	if c.authz == nil {
		rbacGroup := func(resource string) schema.GroupResource {
			return rbacv1.SchemeGroupVersion.WithResource(resource).GroupResource()
		}
		handler := c.rbacHandler()
		watched = append(watched, watchedResource{rbacGroup("roles"), rb.Roles().Informer(), handler}, watchedResource{rbacGroup("clusterroles"), rb.ClusterRoles().Informer(), handler},
			watchedResource{rbacGroup("rolebindings"), rb.RoleBindings().Informer(), handler}, watchedResource{rbacGroup("clusterrolebindings"), rb.ClusterRoleBindings().Informer(), handler})
	}
	// else nothing to evaluate locally (the index stays empty): the
	// authorizer asks the apiserver.
	var hasSynced []cache.InformerSynced
	// handlersSynced report when each handler has been given its
	// informer's initial list: those events are in the first build.
	var handlersSynced []cache.InformerSynced
	for _, w := range watched {
		reg, err := w.informer.AddEventHandler(w.handler)
		if err != nil {
			return fmt.Errorf("watching: %w", err)
		}
		handlersSynced = append(handlersSynced, reg.HasSynced)
		// Instead of client-go's default, which logs every retry through
		// klog and says nothing to NotReady or to a one-shot reader.
		if err := w.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			c.watchFailed(w.resource, err, failed)
		}); err != nil {
			return fmt.Errorf("watching %s: %w", w.resource, err)
		}
		hasSynced = append(hasSynced, w.informer.HasSynced)
	}
	c.mu.Lock()
	c.watched = watched
	c.mu.Unlock()
	if err := c.reach(ctx); err != nil && failed != nil {
		return err
	}
	var rbacSynced []cache.InformerSynced
	if c.authz != nil && c.rbacMetadata != nil {
		var err error
		if rbacSynced, err = c.watchRBACMetadata(ctx); err != nil {
			return err
		}
	}
	factory.Start(ctx.Done())
	dynFactory.Start(ctx.Done())
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	synced := make(chan bool, 1)
	go func() { synced <- cache.WaitForCacheSync(waitCtx.Done(), hasSynced...) }()
	// Say why the server is not ready while it waits: a missing CRD or
	// missing list/watch permissions keep an informer from syncing forever.
	t := time.NewTicker(c.waitLog)
	defer t.Stop()
	for waiting := true; waiting; {
		select {
		case ok := <-synced:
			if !ok {
				return c.notReadyYet(ctx)
			}
			waiting = false
		case err := <-failed: // nil for Start: never
			return err
		case <-t.C:
			_ = c.reach(ctx)
			c.log.Warn("not ready", "reason", c.notReadyYet(ctx).Error())
		}
	}
	if !cache.WaitForCacheSync(ctx.Done(), rbacSynced...) {
		return fmt.Errorf("watching RBAC changes did not sync (may kube-psp list and watch roles, clusterroles, rolebindings and clusterrolebindings?)")
	}
	if !cache.WaitForCacheSync(ctx.Done(), handlersSynced...) {
		return fmt.Errorf("informers did not deliver their initial lists: %w", ctx.Err())
	}
	// The initial lists' events are all in the caches the first build reads:
	// they must not trigger a second full build right after it.
	select {
	case <-c.changed:
	default:
	}
	c.publish(policies)
	go c.run(ctx, policies)
	return nil
}

// reach asks the apiserver its version, and records (for NotReady) and
// returns an error of reaching it: connection refused, no route, no
// answer within --request-timeout. The informers cannot say it: the
// WatchList request of their first sync retries a refused connection
// without a word (client-go tools/cache/reflector.go,
// isWatchErrorRetriable). Whatever an apiserver that was reached answers
// is left to the informers, which report it per resource.
func (c *Cluster) reach(ctx context.Context) error {
	answer := make(chan error, 1)
	go func() {
		_, err := c.client.Discovery().ServerVersion()
		answer <- err
	}()
	var err error
	select {
	case err = <-answer:
	case <-ctx.Done():
		return nil // the caller says why it gave up
	}
	var urlErr *url.Error
	var timedOut *kubeclient.TimeoutError
	if err != nil && (errors.As(err, &urlErr) || errors.As(err, &timedOut)) {
		err = kubeclient.Describe(err, "get", schema.GroupResource{Resource: "version"}, "")
	} else {
		err = nil
	}
	c.mu.Lock()
	changed := err != nil && (c.unreachable == nil || c.unreachable.Error() != err.Error())
	c.unreachable = err
	c.mu.Unlock()
	if changed {
		c.log.Warn("cannot reach the apiserver; retrying", "error", err.Error())
	}
	return err
}

// notReadyYet is NotReady before the first snapshot, with why ctx ended.
func (c *Cluster) notReadyYet(ctx context.Context) error {
	err := c.NotReady()
	if err == nil {
		err = errors.New("policies and RBAC are not read from the cluster yet")
	}
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("%w (gave up: %w)", err, cause)
	}
	return err
}

func (c *Cluster) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *Cluster) run(ctx context.Context, policies cache.GenericLister) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.changed:
			// Let a burst of changes (kubectl apply -f dir/) settle.
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.settle):
			}
			c.publish(policies)
		}
	}
}

// rbacHandler applies each RBAC event to the index as it arrives (the
// informers' initial lists too: that is the startup build), and asks for
// a publish.
func (c *Cluster) rbacHandler() cache.ResourceEventHandler {
	apply := func(obj any, deleted bool) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj, deleted = d.Obj, true
		}
		var set, remove func()
		switch o := obj.(type) {
		case *rbacv1.Role:
			set, remove = func() { c.index.SetRole(o) }, func() { c.index.DeleteRole(o.Namespace, o.Name) }
		case *rbacv1.ClusterRole:
			set, remove = func() { c.index.SetClusterRole(o) }, func() { c.index.DeleteClusterRole(o.Name) }
		case *rbacv1.RoleBinding:
			set, remove = func() { c.index.SetRoleBinding(o) }, func() { c.index.DeleteRoleBinding(o.Namespace, o.Name) }
		case *rbacv1.ClusterRoleBinding:
			set, remove = func() { c.index.SetClusterRoleBinding(o) }, func() { c.index.DeleteClusterRoleBinding(o.Name) }
		default:
			return
		}
		c.changesMu.Lock()
		if deleted {
			remove()
		} else {
			set()
		}
		c.changesMu.Unlock()
		c.signal()
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { apply(obj, false) },
		UpdateFunc: func(_, obj any) { apply(obj, false) },
		DeleteFunc: func(obj any) { apply(obj, true) },
	}
}

// stripRBAC drops what no RBAC decision reads from an object the informers
// keep: managed fields and annotations. Labels stay (aggregation selects
// ClusterRoles by them).
func stripRBAC(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		m.SetAnnotations(nil)
	}
	return obj, nil
}

// stripManagedFields drops a policy's managed fields; its annotations are
// part of the policy (seccomp and AppArmor defaults).
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// publish makes the current snapshot from the RBAC index as it is (each
// event already applied: publishing copies nothing) and the policy set,
// compiled again only when a policy changed.
func (c *Cluster) publish(policies cache.GenericLister) {
	c.changesMu.Lock()
	policiesChanged := c.policiesChanged
	c.policiesChanged = false
	r := c.index.Index()
	c.changesMu.Unlock()
	if policiesChanged || c.policies == nil {
		set, warnings, err := c.compilePolicies(policies)
		if err != nil {
			c.changesMu.Lock()
			c.policiesChanged = true // try again at the next change
			c.changesMu.Unlock()
			c.fail(err)
			return
		}
		c.policies, c.policyWarnings = set, warnings
		for _, w := range warnings {
			c.log.Warn("policy load warning", "warning", w)
		}
	}
	snap := &Snapshot{Policies: c.policies, Authorizer: r, rbac: r, Warnings: c.policyWarnings, Version: "cluster", LoadedAt: time.Now()}
	if c.authz != nil {
		snap.Authorizer = c.authz
	}
	c.current.Store(snap)
	level := slog.LevelDebug // RBAC churn publishes often
	if policiesChanged {
		level = slog.LevelInfo
	}
	c.log.Log(context.Background(), level, "policies and RBAC loaded from the cluster", "policies", snap.Policies.Len(), "bindings", r.BindingCount())
	c.onReload(snap, nil)
}

// compilePolicies compiles the policies in the informer's cache. An
// invalid policy (which the CRD's validating webhook should have refused)
// is left out and reported, rather than blocking every later change. Each
// policy is converted and validated once per resourceVersion: a change to
// one of 500 policies converts one.
func (c *Cluster) compilePolicies(lister cache.GenericLister) (*engine.PolicySet, []string, error) {
	objs, err := lister.List(labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	var policies []*policyv1.PodSecurityPolicy
	var warnings []string
	converted := make(map[string]convertedPolicy, len(objs))
	for _, obj := range objs {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		cp, ok := c.converted[u.GetName()]
		if !ok || cp.resourceVersion != u.GetResourceVersion() || cp.uid != u.GetUID() || u.GetResourceVersion() == "" {
			cp = convertPolicy(u)
		}
		converted[u.GetName()] = cp
		if cp.problem != nil {
			warnings = append(warnings, cp.problem.Error())
			continue
		}
		policies = append(policies, cp.policy)
	}
	c.converted = converted
	set, warnings, err := compile(policies, warnings)
	return set, warnings, err
}

// convertedPolicy is one policy object, converted and validated.
type convertedPolicy struct {
	uid             types.UID
	resourceVersion string
	policy          *policyv1.PodSecurityPolicy
	problem         error
}

func convertPolicy(u *unstructured.Unstructured) convertedPolicy {
	cp := convertedPolicy{uid: u.GetUID(), resourceVersion: u.GetResourceVersion()}
	p := &policyv1.PodSecurityPolicy{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
		cp.problem = fmt.Errorf("PodSecurityPolicy %q: %w", u.GetName(), err)
		return cp
	}
	if errs := engine.DefaultAndValidatePolicy(p); len(errs) > 0 {
		cp.problem = fmt.Errorf("PodSecurityPolicy %q is invalid and left out: %s", p.Name, errs[0].Error())
		return cp
	}
	cp.policy = p
	return cp
}

func (c *Cluster) fail(err error) {
	c.log.Error("building policies and RBAC from the cluster failed; keeping the last good set", "error", err)
	c.onReload(nil, err)
}
