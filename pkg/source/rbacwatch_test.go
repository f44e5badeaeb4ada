package source

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
)

// TestRBACChangesInvalidate: with an authorizer, every RBAC change the
// watch delivers (a RoleBinding created, a ClusterRole updated, a binding
// deleted) calls invalidate, with the namespace of a namespaced object and
// "" (every namespace) for a cluster-scoped one; the snapshot is not
// rebuilt for it.
func TestRBACChangesInvalidate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	role := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "psp-use", ResourceVersion: "1"},
	}
	md := metadatafake.NewSimpleMetadataClient(scheme, role)
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{PolicyResource: "PodSecurityPolicyList"},
		policyCR("a", anyRules))
	var invalidations atomic.Int32
	var mu sync.Mutex
	var namespaces []string
	var rebuilds atomic.Int32
	c := NewCluster(fake.NewSimpleClientset(), dyn, &allowA{}, slog.New(slog.NewTextHandler(io.Discard, nil)), func(*Snapshot, error) { rebuilds.Add(1) })
	c.InvalidateOnRBACChange(md, func(namespace string) {
		mu.Lock()
		namespaces = append(namespaces, namespace)
		mu.Unlock()
		invalidations.Add(1)
	})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor := func(want int32, what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for invalidations.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d invalidations, want %d", what, invalidations.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1, "the initial list") // the ClusterRole's add
	base := invalidations.Load()

	tracker := md.Tracker()
	binding := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "psp", ResourceVersion: "2"},
	}
	rbGVR := rbacv1.SchemeGroupVersion.WithResource("rolebindings")
	if err := tracker.Create(rbGVR, binding, "team"); err != nil {
		t.Fatal(err)
	}
	waitFor(base+1, "a RoleBinding created")
	updated := role.DeepCopy()
	updated.ResourceVersion = "3"
	if err := tracker.Update(rbacv1.SchemeGroupVersion.WithResource("clusterroles"), updated, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(base+2, "a ClusterRole updated")
	if err := tracker.Delete(rbGVR, "team", "psp"); err != nil {
		t.Fatal(err)
	}
	waitFor(base+3, "a RoleBinding deleted")
	mu.Lock()
	if got, want := namespaces[base:], []string{"team", "", "team"}; !slices.Equal(got, want) {
		t.Errorf("invalidated namespaces %q, want %q", got, want)
	}
	mu.Unlock()
	if n := rebuilds.Load(); n != 1 {
		t.Errorf("%d snapshot builds, want 1: RBAC changes only invalidate answers", n)
	}
}
