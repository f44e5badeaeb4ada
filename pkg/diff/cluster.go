package diff

import (
	"cmp"
	"context"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
)

// ClusterWorkloads reads the workloads of a live cluster in namespace (every
// namespace when empty): what its controllers will create next, and its
// pods that no controller recreates.
//
//   - Deployments, StatefulSets, DaemonSets, ReplicaSets,
//     ReplicationControllers, Jobs and CronJobs by their pod template, as
//     `psp check` reads them from manifests (podcreate.FromWorkload, created
//     by the controller's identity, the ServiceAccount read from the
//     cluster), except those a listed one controls (a Deployment's
//     ReplicaSets, a CronJob's Jobs): their owner stands for them. A
//     workload scaled to zero, or a CronJob between runs, is included:
//     its next pod is what a policy change affects.
//   - Pods that none of those controls (bare pods, static pods, pods of
//     other operators) as `psp audit` reads them (audit.Workload).
//
// A workload's source is "KIND/NAMESPACE/NAME" in lower case, as kubectl
// names resources. The result is sorted by namespace, source and name.
// Errors name the resource that could not be listed, and why.
func ClusterWorkloads(ctx context.Context, client kubernetes.Interface, namespace string) ([]manifest.Workload, error) {
	var objects []metav1.Object
	listed := map[types.UID]bool{}
	add := func(obj metav1.Object) {
		objects = append(objects, obj)
		listed[obj.GetUID()] = true
	}
	if err := listInto(ctx, "deployments", appsv1.GroupName, add, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.Deployment, string, error) {
		l, err := client.AppsV1().Deployments(namespace).List(ctx, o)
		return listItems(l, err, func(l *appsv1.DeploymentList) ([]appsv1.Deployment, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := listInto(ctx, "statefulsets", appsv1.GroupName, add, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.StatefulSet, string, error) {
		l, err := client.AppsV1().StatefulSets(namespace).List(ctx, o)
		return listItems(l, err, func(l *appsv1.StatefulSetList) ([]appsv1.StatefulSet, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := listInto(ctx, "daemonsets", appsv1.GroupName, add, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.DaemonSet, string, error) {
		l, err := client.AppsV1().DaemonSets(namespace).List(ctx, o)
		return listItems(l, err, func(l *appsv1.DaemonSetList) ([]appsv1.DaemonSet, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := listInto(ctx, "replicasets", appsv1.GroupName, add, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.ReplicaSet, string, error) {
		l, err := client.AppsV1().ReplicaSets(namespace).List(ctx, o)
		return listItems(l, err, func(l *appsv1.ReplicaSetList) ([]appsv1.ReplicaSet, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := listInto(ctx, "replicationcontrollers", corev1.GroupName, add, func(ctx context.Context, o metav1.ListOptions) ([]corev1.ReplicationController, string, error) {
		l, err := client.CoreV1().ReplicationControllers(namespace).List(ctx, o)
		return listItems(l, err, func(l *corev1.ReplicationControllerList) ([]corev1.ReplicationController, string) {
			return l.Items, l.Continue
		})
	}); err != nil {
		return nil, err
	}
	if err := listInto(ctx, "jobs", batchv1.GroupName, add, func(ctx context.Context, o metav1.ListOptions) ([]batchv1.Job, string, error) {
		l, err := client.BatchV1().Jobs(namespace).List(ctx, o)
		return listItems(l, err, func(l *batchv1.JobList) ([]batchv1.Job, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := listInto(ctx, "cronjobs", batchv1.GroupName, add, func(ctx context.Context, o metav1.ListOptions) ([]batchv1.CronJob, string, error) {
		l, err := client.BatchV1().CronJobs(namespace).List(ctx, o)
		return listItems(l, err, func(l *batchv1.CronJobList) ([]batchv1.CronJob, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	serviceAccounts := map[string]*corev1.ServiceAccount{}
	if err := listInto(ctx, "serviceaccounts", corev1.GroupName, func(obj metav1.Object) {
		serviceAccounts[obj.GetNamespace()+"/"+obj.GetName()] = obj.(*corev1.ServiceAccount)
	}, func(ctx context.Context, o metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
		l, err := client.CoreV1().ServiceAccounts(namespace).List(ctx, o)
		return listItems(l, err, func(l *corev1.ServiceAccountList) ([]corev1.ServiceAccount, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	pods, err := audit.ListPods(ctx, client, namespace)
	if err != nil {
		return nil, err
	}

	var out []manifest.Workload
	for _, obj := range objects {
		if owner := metav1.GetControllerOf(obj); owner != nil && listed[owner.UID] {
			continue
		}
		w, err := templateWorkload(obj, serviceAccounts)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	for i := range pods {
		if owner := metav1.GetControllerOf(&pods[i]); owner != nil && listed[owner.UID] {
			continue
		}
		out = append(out, audit.Workload(&pods[i]))
	}
	slices.SortFunc(out, func(a, b manifest.Workload) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Source.File, b.Source.File))
	})
	return out, nil
}

// templateWorkload is a workload object of the cluster as `psp check` reads
// it from a manifest.
func templateWorkload(obj metav1.Object, serviceAccounts map[string]*corev1.ServiceAccount) (manifest.Workload, error) {
	pod, err := podcreate.FromWorkload(obj)
	if err != nil {
		return manifest.Workload{}, err
	}
	kind := kindOf(obj)
	w := manifest.Workload{
		Source:         loader.Source{File: strings.ToLower(kind) + "/" + obj.GetNamespace() + "/" + obj.GetName()},
		Kind:           kind,
		Namespace:      obj.GetNamespace(),
		Name:           obj.GetName(),
		Pod:            pod,
		ServiceAccount: serviceAccounts[obj.GetNamespace()+"/"+podcreate.ServiceAccountName(pod)],
	}
	if u, ok := podcreate.ControllerUser(kind); ok {
		w.Creator = &u
	}
	return w, nil
}

// kindOf is the kind of a typed workload object (a list's items carry no
// TypeMeta).
func kindOf(obj metav1.Object) string {
	switch obj.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *appsv1.StatefulSet:
		return "StatefulSet"
	case *appsv1.DaemonSet:
		return "DaemonSet"
	case *appsv1.ReplicaSet:
		return "ReplicaSet"
	case *corev1.ReplicationController:
		return "ReplicationController"
	case *batchv1.Job:
		return "Job"
	case *batchv1.CronJob:
		return "CronJob"
	}
	return ""
}

// listItems adapts a typed List call to listInto.
func listItems[L any, T any](l *L, err error, items func(*L) ([]T, string)) ([]T, string, error) {
	if err != nil {
		return nil, "", err
	}
	it, next := items(l)
	return it, next, nil
}

// listInto lists every object of one resource in pages of 500, so that a
// large cluster is not one huge response, and hands each to add.
func listInto[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, resource, group string, add func(metav1.Object), list func(context.Context, metav1.ListOptions) ([]T, string, error)) error {
	opts := metav1.ListOptions{Limit: 500}
	for {
		items, next, err := list(ctx, opts)
		if err != nil {
			return kubeclient.Describe(err, "list", schema.GroupResource{Group: group, Resource: resource}, "")
		}
		for i := range items {
			add(PT(&items[i]))
		}
		if next == "" {
			return nil
		}
		opts.Continue = next
	}
}
