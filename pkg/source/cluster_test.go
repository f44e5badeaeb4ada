package source

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kube-psp/kube-psp/internal/testutil"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

func policyCR(name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy.kube-psp.io/v1", "kind": "PodSecurityPolicy",
		"metadata": map[string]any{"name": name}, "spec": spec,
	}}
}

// useAllRole may use every policy, in API group policy.
func useAllRole() *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "psp-use-all"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}}},
	}
}

var anyRules = map[string]any{
	"runAsUser": map[string]any{"rule": "RunAsAny"}, "seLinux": map[string]any{"rule": "RunAsAny"},
	"supplementalGroups": map[string]any{"rule": "RunAsAny"}, "fsGroup": map[string]any{"rule": "RunAsAny"},
}

func TestClusterFollowsChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset(useAllRole())
	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{PolicyResource: "PodSecurityPolicyList"},
		policyCR("a", anyRules),
		policyCR("broken", map[string]any{"runAsUser": map[string]any{"rule": "Sometimes"}}))
	c := NewCluster(client, dyn, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	c.settle = 10 * time.Millisecond
	if c.Current() != nil {
		t.Fatal("ready before sync")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	snap := c.Current()
	if snap == nil || snap.Policies.Len() != 1 || len(snap.Warnings) != 1 {
		t.Fatalf("first snapshot: %+v", snap)
	}
	alice := authorizer.UserInfo{Name: "alice"}
	may := func() bool {
		return engine.AuthorizeUse(ctx, c.Current().Authorizer, []authorizer.UserInfo{alice}, "ns", "a").Allowed
	}
	if may() {
		t.Fatal("alice may use a before any binding")
	}
	// A binding created now takes effect without a restart.
	if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "alice"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "psp-use-all"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "alice"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the binding to take effect", 10*time.Second, may)
	// So does a new policy, and a deleted one.
	if _, err := dyn.Resource(PolicyResource).Create(ctx, policyCR("b", anyRules), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "policy b", 10*time.Second, func() bool { return c.Current().Policies.Len() == 2 })
	if err := dyn.Resource(PolicyResource).Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "policy a to go", 10*time.Second, func() bool {
		ps := c.Current().Policies.Policies()
		return len(ps) == 1 && ps[0].Name == "b"
	})
}

func TestClusterSaysWhyItIsNotReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The apiserver answers 404 for a resource whose CRD is not installed.
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{PolicyResource: "PodSecurityPolicyList"})
	dyn.PrependReactor("list", "podsecuritypolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(PolicyResource.GroupResource(), "")
	})
	logs := &testutil.SyncBuffer{}
	c := NewCluster(fake.NewSimpleClientset(), dyn, nil, slog.New(slog.NewTextHandler(logs, nil)), nil)
	c.waitLog = 50 * time.Millisecond
	err := c.Start(ctx)
	const want = "the server doesn't have a resource type podsecuritypolicies.policy.kube-psp.io; install the CRD: kubectl apply -f deploy/crds"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Start without the CRD: %v", err)
	}
	if !strings.Contains(logs.String(), want) || c.Current() != nil {
		t.Errorf("logs: %s", logs.String())
	}
	if err := c.NotReady(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("NotReady: %v", err)
	}
}

// allowA is an authorizer that allows "use" of policy "a" only, and
// counts questions.
type allowA struct{ asked int }

func (a *allowA) Authorize(_ context.Context, attrs authorizer.Attributes) (bool, string, error) {
	a.asked++
	return attrs.Name == "a", "asked the apiserver", nil
}

func TestClusterWithAnAuthorizerDoesNotWatchRBAC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset()
	rbacListed := false
	client.PrependReactor("list", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetResource().Group == rbacv1.GroupName {
			rbacListed = true
		}
		return false, nil, nil
	})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{PolicyResource: "PodSecurityPolicyList"},
		policyCR("a", anyRules), policyCR("b", anyRules))
	authz := &allowA{}
	c := NewCluster(client, dyn, authz, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	snap := c.Current()
	if snap == nil || snap.Policies.Len() != 2 {
		t.Fatalf("snapshot: %+v", snap)
	}
	alice := []authorizer.UserInfo{{Name: "alice"}}
	if !engine.AuthorizeUse(ctx, snap.Authorizer, alice, "ns", "a").Allowed || engine.AuthorizeUse(ctx, snap.Authorizer, alice, "ns", "b").Allowed {
		t.Fatal("the snapshot does not decide with the given authorizer")
	}
	if authz.asked == 0 || rbacListed {
		t.Fatalf("asked %d times; RBAC listed: %v", authz.asked, rbacListed)
	}
}
