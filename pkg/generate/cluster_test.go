package generate

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kube-psp/kube-psp/pkg/source"
)

func owned(kind, name, uid string) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: types.UID(uid), Controller: &yes}}
}

// TestReadCluster: the workloads are diff.ClusterWorkloads's (tested
// there); here, that they reach the policies with their ServiceAccounts and
// creators, and that the cluster's policies and RBAC are read.
func TestReadCluster(t *testing.T) {
	template := corev1.PodTemplateSpec{Spec: corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "team", Name: name, UID: types.UID(name)}
	}
	running := corev1.PodStatus{Phase: corev1.PodRunning}
	client := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Template: template}},
		// The Deployment's ReplicaSet and pod: read through the Deployment.
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web-1", UID: "web-1", OwnerReferences: owned("Deployment", "web", "web")}, Spec: appsv1.ReplicaSetSpec{Template: template}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web-1-a", OwnerReferences: owned("ReplicaSet", "web-1", "web-1")}, Spec: template.Spec, Status: running},
		&batchv1.CronJob{ObjectMeta: meta("nightly"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template}}}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "nightly-1", UID: "nightly-1", OwnerReferences: owned("CronJob", "nightly", "nightly")}, Spec: batchv1.JobSpec{Template: template}},
		// A bare pod, and one owned by something else.
		&corev1.Pod{ObjectMeta: meta("debug"), Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "d", Image: "busybox"}}}, Status: running},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "op-pod", OwnerReferences: owned("Database", "db", "db")}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "d", Image: "db"}}}, Status: running},
		// web's ServiceAccount does not mount its token.
		&corev1.ServiceAccount{ObjectMeta: meta("web"), AutomountServiceAccountToken: ptr(false)},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "use-all"}},
	)
	policy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy.kube-psp.io/v1", "kind": "PodSecurityPolicy", "metadata": map[string]any{"name": "restricted"},
		"spec": map[string]any{"runAsUser": map[string]any{"rule": "MustRunAsNonRoot"}, "seLinux": map[string]any{"rule": "RunAsAny"},
			"supplementalGroups": map[string]any{"rule": "RunAsAny"}, "fsGroup": map[string]any{"rule": "RunAsAny"}},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{source.PolicyResource: "PodSecurityPolicyList"}, policy)

	in, err := ReadCluster(context.Background(), client, dyn, "team")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range in.Workloads {
		names = append(names, w.String()+" from "+w.Source.String())
	}
	want := []string{
		"CronJob team/nightly from cronjob/team/nightly",
		"Deployment team/web from deployment/team/web",
		"Pod team/debug from pod/team/debug",
		"Pod team/op-pod from pod/team/op-pod",
	}
	if !slices.Equal(names, want) {
		t.Errorf("workloads:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range in.Workloads {
		switch w.Kind {
		case "Deployment":
			if w.Creator == nil || w.Creator.Name != "system:serviceaccount:kube-system:replicaset-controller" || w.ServiceAccount == nil || *w.ServiceAccount.AutomountServiceAccountToken {
				t.Errorf("Deployment: creator %v, ServiceAccount %v", w.Creator, w.ServiceAccount)
			}
		case "Pod":
			if w.Creator != nil {
				t.Errorf("%s: creator %v, want the --as user", w, w.Creator)
			}
		}
	}
	if len(in.Existing.Policies) != 1 || in.Existing.Policies[0].Name != "restricted" || len(in.Existing.RBAC.ClusterRoles) != 1 || len(in.Warnings) != 0 {
		t.Errorf("existing: %d policies, %d ClusterRoles, warnings %q", len(in.Existing.Policies), len(in.Existing.RBAC.ClusterRoles), in.Warnings)
	}

	// The token volume: web's pod gets none, the others do.
	res, err := Generate(in.Workloads, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Policies {
		if p.Policy.Name == "generated.team.web" && len(p.Policy.Spec.Volumes) != 0 {
			t.Errorf("web's policy allows volumes %v; its ServiceAccount mounts no token", p.Policy.Spec.Volumes)
		}
	}
}

// Without the CRD there are no existing policies: a warning, not an error
// (generate runs before kube-psp is installed); a refused list is an error.
func TestReadClusterWithoutTheCRD(t *testing.T) {
	newDyn := func(err error) *dynamicfake.FakeDynamicClient {
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{source.PolicyResource: "PodSecurityPolicyList"})
		dyn.PrependReactor("list", "podsecuritypolicies", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, err })
		return dyn
	}
	client := fake.NewClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "debug"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "d", Image: "busybox"}}}})
	in, err := ReadCluster(context.Background(), client, newDyn(apierrors.NewNotFound(source.PolicyResource.GroupResource(), "")), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Warnings) != 1 || !strings.Contains(in.Warnings[0], "CRD is not installed") || len(in.Workloads) != 1 {
		t.Errorf("warnings %q, %d workloads", in.Warnings, len(in.Workloads))
	}
	_, err = ReadCluster(context.Background(), client, newDyn(apierrors.NewForbidden(source.PolicyResource.GroupResource(), "", nil)), "")
	if err == nil || !strings.Contains(err.Error(), "podsecuritypolicies") {
		t.Errorf("a refused list: err = %v", err)
	}
}
