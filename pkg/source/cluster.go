package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/apis/policy/validation"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/loader"
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
}

// NewCluster returns a cluster source; call Start. With a nil authz,
// policy use is decided by evaluating the cluster's RBAC locally (exact for
// RBAC, and no apiserver call on the admission path); otherwise authz
// decides (a SubjectAccessReview authorizer, say) and RBAC is not watched.
func NewCluster(client kubernetes.Interface, dyn dynamic.Interface, authz authorizer.Authorizer, log *slog.Logger, onReload func(*Snapshot, error)) *Cluster {
	if onReload == nil {
		onReload = func(*Snapshot, error) {}
	}
	return &Cluster{client: client, dynamic: dyn, authz: authz, log: log, onReload: onReload, settle: 100 * time.Millisecond, waitLog: 10 * time.Second, changed: make(chan struct{}, 1)}
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
// builds the first snapshot, and keeps it current until ctx ends.
func (c *Cluster) Start(ctx context.Context) error {
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
	watched := []cache.SharedIndexInformer{policyInformer.Informer()}
	if c.authz == nil {
		watched = append(watched, rb.Roles().Informer(), rb.ClusterRoles().Informer(), rb.RoleBindings().Informer(), rb.ClusterRoleBindings().Informer())
	} else {
		// Nothing to evaluate locally: the authorizer asks the apiserver.
		l.roles = func() ([]*rbacv1.Role, error) { return nil, nil }
		l.clusterRoles = func() ([]*rbacv1.ClusterRole, error) { return nil, nil }
		l.roleBindings = func() ([]*rbacv1.RoleBinding, error) { return nil, nil }
		l.clusterRoleBindings = func() ([]*rbacv1.ClusterRoleBinding, error) { return nil, nil }
	}
	// handlersSynced report when each handler has been given its
	// informer's initial list: those events are in the first build.
	var handlersSynced []cache.InformerSynced
	for _, inf := range watched {
		reg, err := inf.AddEventHandler(notify)
		if err != nil {
			return fmt.Errorf("watching: %w", err)
		}
		handlersSynced = append(handlersSynced, reg.HasSynced)
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
	// Say why the server is not ready while it waits: a missing CRD or
	// missing list/watch permissions keep an informer from syncing forever.
	synced := make(chan struct{})
	defer close(synced)
	go func() {
		t := time.NewTicker(c.waitLog)
		defer t.Stop()
		for {
			select {
			case <-synced:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				c.log.Warn("still waiting for the policy and RBAC informers to sync: is the CRD installed (deploy/crds) and may kube-psp list and watch podsecuritypolicies.policy.kube-psp.io, roles, clusterroles, rolebindings and clusterrolebindings?")
			}
		}
	}()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	for gvr, ok := range dynFactory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync (is the CRD installed?)", gvr)
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
	res := &loader.Result{PolicySources: map[string]loader.Source{}, RBACSources: map[string]loader.Source{}}
	var problems []error
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
			problems = append(problems, fmt.Errorf("PodSecurityPolicy %q: %w", u.GetName(), err))
			continue
		}
		policyv1.SetDefaults(p)
		if errs := validation.ValidatePodSecurityPolicy(p); len(errs) > 0 {
			problems = append(problems, fmt.Errorf("PodSecurityPolicy %q is invalid and left out: %s", p.Name, errs[0].Error()))
			continue
		}
		res.Policies = append(res.Policies, p)
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
		res.RBAC.Roles = append(res.RBAC.Roles, *r)
	}
	for _, r := range clusterRoles {
		res.RBAC.ClusterRoles = append(res.RBAC.ClusterRoles, *r)
	}
	for _, b := range roleBindings {
		res.RBAC.RoleBindings = append(res.RBAC.RoleBindings, *b)
	}
	for _, b := range clusterRoleBindings {
		res.RBAC.ClusterRoleBindings = append(res.RBAC.ClusterRoleBindings, *b)
	}
	for _, p := range problems {
		res.Warnings = append(res.Warnings, p.Error())
	}
	snap, err := Build(res, "cluster")
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
	c.log.Info("policies and RBAC loaded from the cluster", "policies", snap.Policies.Len(), "bindings", len(snap.RBAC.Bindings()))
	c.onReload(snap, nil)
}

func (c *Cluster) fail(err error) {
	c.log.Error("building policies and RBAC from the cluster failed; keeping the last good set", "error", err)
	c.onReload(nil, err)
}
