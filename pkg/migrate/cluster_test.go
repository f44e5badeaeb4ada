package migrate

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// toUnstructuredObject is obj as the dynamic client holds it.
func toUnstructuredObject(t *testing.T, apiVersion, kind string, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u
}

func controlledBy(kind, name string) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: "u", Controller: &yes}}
}

// A pod a controller owns is judged by its controller's template, once per
// controller, named after the manifest that holds the template; a pod
// whose controller is gone, and a bare pod, as they run.
func TestReadClusterJudgesTemplates(t *testing.T) {
	template := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}}}
	// The running pods carry what the policy set.
	running := func(name string, owners []metav1.OwnerReference) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, OwnerReferences: owners},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app",
				SecurityContext: &corev1.SecurityContext{RunAsNonRoot: new(true)}}}}}
	}
	webRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web-abc", OwnerReferences: controlledBy("Deployment", "web")},
		Spec: appsv1.ReplicaSetSpec{Template: template}}
	loneRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "lone"}, Spec: appsv1.ReplicaSetSpec{Template: template}}
	everyone := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "everyone"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "use-restricted"},
		Subjects: []rbacv1.Subject{{Kind: "Group", Name: authorizer.GroupAuthenticated}}}
	useRole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "use-restricted"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{"restricted"}}}}
	client := fake.NewClientset(useRole, everyone,
		running("web-abc-1", controlledBy("ReplicaSet", "web-abc")), running("web-abc-2", controlledBy("ReplicaSet", "web-abc")),
		running("lone-1", controlledBy("ReplicaSet", "lone")), running("orphan-1", controlledBy("ReplicaSet", "gone")),
		running("bare", nil))
	policy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy.kube-psp.io/v1", "kind": "PodSecurityPolicy", "metadata": map[string]any{"name": "restricted"},
		"spec": map[string]any{
			"runAsUser": map[string]any{"rule": "MustRunAsNonRoot"}, "seLinux": map[string]any{"rule": "RunAsAny"},
			"supplementalGroups": map[string]any{"rule": "RunAsAny"}, "fsGroup": map[string]any{"rule": "RunAsAny"},
			"volumes": []any{"projected"},
		},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{source.PolicyResource: "PodSecurityPolicyList"}, policy,
		toUnstructuredObject(t, "apps/v1", "ReplicaSet", webRS), toUnstructuredObject(t, "apps/v1", "ReplicaSet", loneRS))
	results, _, err := ReadCluster(context.Background(), client, dyn, audit.Options{Namespace: "team", User: authorizer.Impersonate("me", nil)})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ source, workload, requester string }
	var got []row
	for _, r := range results {
		if !r.Admitted {
			t.Errorf("%s: %s", r.Workload, r.Message)
		}
		got = append(got, row{r.Workload.Source.String(), r.Workload.String(), r.Requester.Name})
	}
	want := []row{
		{"pod/team/bare", "Pod team/bare", "me"},
		{"replicaset/team/lone", "ReplicaSet team/lone", "system:serviceaccount:kube-system:replicaset-controller"},
		{"pod/team/orphan-1", "Pod team/orphan-1", "system:serviceaccount:kube-system:replicaset-controller"},
		{"replicaset/team/web-abc", "Deployment team/web", "system:serviceaccount:kube-system:replicaset-controller"},
	}
	if len(got) != len(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d: %v, want %v", i, got[i], want[i])
		}
	}
	// The templates lack what the policy sets; the running pods have it.
	plan, err := Build(results, latest(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plan.Namespaces[0].Pods {
		fromTemplate := p.Result.Workload.Source.Object[:4] != "pod/"
		if (len(p.Result.Changes) > 0) != fromTemplate || p.AsRunning() == fromTemplate {
			t.Errorf("%s: changes %v, judged as running %v", p.Result.Workload, p.Result.Changes, p.AsRunning())
		}
	}
}

// A pod judged as it runs is reported with what cannot be told of it.
func TestTextSaysWhatRunningPodsHide(t *testing.T) {
	results := checkManifests(t, "eks", in("a", restrictedPod))
	results[0].Workload.Source = manifest.LiveObject("pod", "a", "locked")
	plan, err := Build(results, latest(t))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteText(&b, plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "pod/a/locked: Pod a/locked: restricted (policy \"eks.privileged\")\n    judged as it runs") {
		t.Errorf("report:\n%s", b.String())
	}
}
