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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
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
	serviceAccounts := map[string]*corev1.ServiceAccount{}
	for _, l := range []struct {
		resource schema.GroupResource
		list     func(context.Context, metav1.ListOptions) (runtime.Object, error)
	}{
		{appsv1.Resource("deployments"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.AppsV1().Deployments(namespace).List(ctx, o)
		}},
		{appsv1.Resource("statefulsets"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.AppsV1().StatefulSets(namespace).List(ctx, o)
		}},
		{appsv1.Resource("daemonsets"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.AppsV1().DaemonSets(namespace).List(ctx, o)
		}},
		{appsv1.Resource("replicasets"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.AppsV1().ReplicaSets(namespace).List(ctx, o)
		}},
		{corev1.Resource("replicationcontrollers"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.CoreV1().ReplicationControllers(namespace).List(ctx, o)
		}},
		{batchv1.Resource("jobs"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.BatchV1().Jobs(namespace).List(ctx, o)
		}},
		{batchv1.Resource("cronjobs"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.BatchV1().CronJobs(namespace).List(ctx, o)
		}},
		{corev1.Resource("serviceaccounts"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.CoreV1().ServiceAccounts(namespace).List(ctx, o)
		}},
	} {
		err := kubeclient.ListAll(ctx, l.resource, l.list, func(obj runtime.Object) error {
			if sa, ok := obj.(*corev1.ServiceAccount); ok {
				serviceAccounts[sa.Namespace+"/"+sa.Name] = sa
				return nil
			}
			if o, ok := obj.(metav1.Object); ok {
				objects = append(objects, o)
				listed[o.GetUID()] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
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
		out = append(out, audit.RecreatedWorkload(&pods[i]))
	}
	slices.SortFunc(out, func(a, b manifest.Workload) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Source.String(), b.Source.String()))
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
		Source:         manifest.LiveObject(strings.ToLower(kind), obj.GetNamespace(), obj.GetName()),
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
