package diff

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func objectMeta(ns, name, uid string, owner ...metav1.OwnerReference) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), OwnerReferences: owner}
}

func controlledBy(kind, name, uid string) metav1.OwnerReference {
	return metav1.OwnerReference{Kind: kind, Name: name, UID: types.UID(uid), Controller: ptr.To(true)}
}

var podSpec = corev1.PodSpec{ServiceAccountName: "quiet", Containers: []corev1.Container{{Name: "c", Image: "i"}}}

func TestClusterWorkloads(t *testing.T) {
	template := corev1.PodTemplateSpec{Spec: podSpec}
	client := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: objectMeta("a", "web", "d1"), Spec: appsv1.DeploymentSpec{Template: template}},
		&appsv1.ReplicaSet{ObjectMeta: objectMeta("a", "web-123", "rs1", controlledBy("Deployment", "web", "d1")), Spec: appsv1.ReplicaSetSpec{Template: template}},
		&corev1.Pod{ObjectMeta: objectMeta("a", "web-123-xyz", "p1", controlledBy("ReplicaSet", "web-123", "rs1")), Spec: podSpec},
		&batchv1.CronJob{ObjectMeta: objectMeta("b", "nightly", "cj1"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template}}}},
		&batchv1.Job{ObjectMeta: objectMeta("b", "nightly-1", "j1", controlledBy("CronJob", "nightly", "cj1")), Spec: batchv1.JobSpec{Template: template}},
		// A ReplicaSet of a controller kube-psp does not read is its own workload.
		&appsv1.ReplicaSet{ObjectMeta: objectMeta("b", "rollout-1", "rs2", controlledBy("Rollout", "rollout", "ro1")), Spec: appsv1.ReplicaSetSpec{Template: template}},
		&corev1.Pod{ObjectMeta: objectMeta("b", "bare", "p2"), Spec: podSpec},
		&corev1.Pod{ObjectMeta: objectMeta("b", "operated", "p3", controlledBy("Database", "db", "db1")), Spec: podSpec},
		&corev1.ServiceAccount{ObjectMeta: objectMeta("a", "quiet", "sa1"), AutomountServiceAccountToken: ptr.To(false)},
	)
	got, err := ClusterWorkloads(context.Background(), client, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range got {
		names = append(names, w.Source.Object)
	}
	want := "deployment/a/web cronjob/b/nightly pod/b/bare pod/b/operated replicaset/b/rollout-1"
	if strings.Join(names, " ") != want {
		t.Fatalf("workloads %q, want %q", strings.Join(names, " "), want)
	}
	web := got[0]
	if web.Kind != "Deployment" || web.Creator == nil || web.Creator.Name != "system:serviceaccount:kube-system:replicaset-controller" || web.Pod.GenerateName != "web-" {
		t.Errorf("deployment: %+v", web)
	}
	if web.ServiceAccount == nil || web.ServiceAccount.AutomountServiceAccountToken == nil || *web.ServiceAccount.AutomountServiceAccountToken {
		t.Errorf("deployment: the ServiceAccount of the cluster is not used: %+v", web.ServiceAccount)
	}
	if got[1].ServiceAccount != nil {
		t.Errorf("cronjob in namespace b: ServiceAccount %+v, want none (it is in namespace a)", got[1].ServiceAccount)
	}
	if got[2].Creator != nil {
		t.Errorf("bare pod: creator %+v, want the --as user", got[2].Creator)
	}

	// One namespace only.
	got, err = ClusterWorkloads(context.Background(), client, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "web" {
		t.Errorf("namespace a: %+v", got)
	}
}

func TestClusterWorkloadsForbidden(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("list", "cronjobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, forbidden("cronjobs")
	})
	_, err := ClusterWorkloads(context.Background(), client, "")
	if err == nil || !strings.Contains(err.Error(), "cronjobs.batch") || !strings.Contains(err.Error(), "list") {
		t.Errorf("err = %v, want one naming list on cronjobs.batch", err)
	}
}

func forbidden(resource string) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: "batch", Resource: resource}, "", errors.New(`User "alice" cannot list resource "cronjobs"`))
}
