package source

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

// TestClusterBuildsOnceAtStartup: the informers' initial lists are in the
// first snapshot; their events do not trigger a second full build. A
// change after that does.
func TestClusterBuildsOnceAtStartup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var objs []runtime.Object
	objs = append(objs, useAllRole())
	for i := range 50 {
		objs = append(objs, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns-%d", i), Name: "psp"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "psp-use-all"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
		})
	}
	client := fake.NewSimpleClientset(objs...)
	var policies []runtime.Object
	for i := range 10 {
		policies = append(policies, policyCR(fmt.Sprintf("p%d", i), anyRules))
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{PolicyResource: "PodSecurityPolicyList"}, policies...)
	var builds atomic.Int32
	c := NewCluster(client, dyn, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), func(_ *Snapshot, err error) {
		if err == nil {
			builds.Add(1)
		}
	})
	c.settle = 10 * time.Millisecond
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if snap := c.Current(); snap == nil || snap.Policies.Len() != 10 || len(snap.RBAC().Bindings()) != 50 {
		t.Fatalf("the first snapshot lacks the initial lists: %+v", snap)
	}
	time.Sleep(20*c.settle + 100*time.Millisecond)
	if n := builds.Load(); n != 1 {
		t.Fatalf("%d snapshot builds at startup, want 1", n)
	}
	if _, err := client.RbacV1().RoleBindings("ns-x").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns-x", Name: "psp"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "psp-use-all"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for builds.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("a change after startup was not built")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClusterAppliesRBACChangesAlone: an RBAC change publishes a snapshot
// with the same compiled policy set (only a policy change compiles them
// again), and the snapshot before it still answers as before: a request in
// flight keeps the RBAC it started with.
func TestClusterAppliesRBACChangesAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset(useAllRole())
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{PolicyResource: "PodSecurityPolicyList"}, policyCR("a", anyRules))
	c := NewCluster(client, dyn, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	c.settle = time.Millisecond
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	before := c.Current()
	dev := authorizer.UserInfo{Name: "dev", Groups: []string{"system:authenticated"}}
	mayUse := func(s *Snapshot) bool {
		ok, _, _ := s.Authorizer.Authorize(ctx, engine.UseAttributes(dev, "team", "policy", "a"))
		return ok
	}
	if mayUse(before) {
		t.Fatal("dev may use the policy before any binding")
	}
	if _, err := client.RbacV1().RoleBindings("team").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "psp"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "psp-use-all"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !mayUse(c.Current()) {
		if time.Now().After(deadline) {
			t.Fatal("the RoleBinding was not applied")
		}
		time.Sleep(time.Millisecond)
	}
	if c.Current().Policies != before.Policies {
		t.Error("an RBAC change compiled the policies again")
	}
	if mayUse(before) {
		t.Error("the snapshot before the change sees it")
	}
}
