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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	// settle is how long to wait after a change for more before rebuilding.
	settle time.Duration
	// waitLog is how often to say that informers have not synced yet.
	waitLog time.Duration

	// rbacMetadata and invalidate, when set, watch RBAC to invalidate
	// authz's cached answers (rbacwatch.go).
	rbacMetadata metadata.Interface
	invalidate   func()

	current atomic.Pointer[Snapshot]
	changed chan struct{}

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
	return &Cluster{client: client, dynamic: dyn, authz: authz, log: log, onReload: onReload, settle: 100 * time.Millisecond, waitLog: 10 * time.Second,
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

type listers struct {
	policies            cache.GenericLister
	roles               func() ([]*rbacv1.Role, error)
	clusterRoles        func() ([]*rbacv1.ClusterRole, error)
	roleBindings        func() ([]*rbacv1.RoleBinding, error)
	clusterRoleBindings func() ([]*rbacv1.ClusterRoleBinding, error)
}

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
	factory := informers.NewSharedInformerFactory(c.client, 0)
	dynFactory := dynamicinformer.NewDynamicSharedInformerFactory(c.dynamic, 0)
	rb := factory.Rbac().V1()
	policyInformer := dynFactory.ForResource(PolicyResource)
	l := listers{
		policies:     policyInformer.Lister(),
		roles:        func() ([]*rbacv1.Role, error) { return rb.Roles().Lister().List(labels.Everything()) },
		clusterRoles: func() ([]*rbacv1.ClusterRole, error) { return rb.ClusterRoles().Lister().List(labels.Everything()) },
		roleBindings: func() ([]*rbacv1.RoleBinding, error) { return rb.RoleBindings().Lister().List(labels.Everything()) },
		clusterRoleBindings: func() ([]*rbacv1.ClusterRoleBinding, error) {
			return rb.ClusterRoleBindings().Lister().List(labels.Everything())
		},
	}
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.signal() },
		UpdateFunc: func(any, any) { c.signal() },
		DeleteFunc: func(any) { c.signal() },
	}
	watched := []watchedResource{{PolicyResource.GroupResource(), policyInformer.Informer()}}
	if c.authz == nil {
		rbacGroup := func(resource string) schema.GroupResource {
			return rbacv1.SchemeGroupVersion.WithResource(resource).GroupResource()
		}
		watched = append(watched, watchedResource{rbacGroup("roles"), rb.Roles().Informer()}, watchedResource{rbacGroup("clusterroles"), rb.ClusterRoles().Informer()},
			watchedResource{rbacGroup("rolebindings"), rb.RoleBindings().Informer()}, watchedResource{rbacGroup("clusterrolebindings"), rb.ClusterRoleBindings().Informer()})
	} else {
		// Nothing to evaluate locally: the authorizer asks the apiserver.
		l.roles = func() ([]*rbacv1.Role, error) { return nil, nil }
		l.clusterRoles = func() ([]*rbacv1.ClusterRole, error) { return nil, nil }
		l.roleBindings = func() ([]*rbacv1.RoleBinding, error) { return nil, nil }
		l.clusterRoleBindings = func() ([]*rbacv1.ClusterRoleBinding, error) { return nil, nil }
	}
	var hasSynced []cache.InformerSynced
	// handlersSynced report when each handler has been given its
	// informer's initial list: those events are in the first build.
	var handlersSynced []cache.InformerSynced
	for _, w := range watched {
		reg, err := w.informer.AddEventHandler(notify)
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
	c.rebuild(l)
	go c.run(ctx, l)
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

func (c *Cluster) run(ctx context.Context, l listers) {
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
			c.rebuild(l)
		}
	}
}

// rebuild builds a snapshot from the informers' caches. An invalid policy
// (which the CRD's validating webhook should have refused) is left out and
// reported, rather than blocking every later change.
func (c *Cluster) rebuild(l listers) {
	var policies []*policyv1.PodSecurityPolicy
	var rbacObjs rbac.Objects
	var warnings []string
	objs, err := l.policies.List(labels.Everything())
	if err != nil {
		c.fail(err)
		return
	}
	for _, obj := range objs {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		p := &policyv1.PodSecurityPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
			warnings = append(warnings, fmt.Sprintf("PodSecurityPolicy %q: %v", u.GetName(), err))
			continue
		}
		if errs := engine.DefaultAndValidatePolicy(p); len(errs) > 0 {
			warnings = append(warnings, fmt.Sprintf("PodSecurityPolicy %q is invalid and left out: %s", p.Name, errs[0].Error()))
			continue
		}
		policies = append(policies, p)
	}
	roles, err1 := l.roles()
	clusterRoles, err2 := l.clusterRoles()
	roleBindings, err3 := l.roleBindings()
	clusterRoleBindings, err4 := l.clusterRoleBindings()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		c.fail(err)
		return
	}
	for _, r := range roles {
		rbacObjs.Roles = append(rbacObjs.Roles, *r)
	}
	for _, r := range clusterRoles {
		rbacObjs.ClusterRoles = append(rbacObjs.ClusterRoles, *r)
	}
	for _, b := range roleBindings {
		rbacObjs.RoleBindings = append(rbacObjs.RoleBindings, *b)
	}
	for _, b := range clusterRoleBindings {
		rbacObjs.ClusterRoleBindings = append(rbacObjs.ClusterRoleBindings, *b)
	}
	snap, err := build(policies, rbacObjs, warnings, "cluster")
	if err != nil {
		c.fail(err)
		return
	}
	if c.authz != nil {
		snap.Authorizer = c.authz
	}
	c.current.Store(snap)
	for _, w := range snap.Warnings {
		c.log.Warn("policy load warning", "warning", w)
	}
	c.log.Info("policies and RBAC loaded from the cluster", "policies", snap.Policies.Len(), "bindings", len(snap.RBAC().Bindings()))
	c.onReload(snap, nil)
}

func (c *Cluster) fail(err error) {
	c.log.Error("building policies and RBAC from the cluster failed; keeping the last good set", "error", err)
	c.onReload(nil, err)
}
