package generate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// ClusterInput is what ReadCluster read.
type ClusterInput struct {
	// Workloads are the cluster's workloads (Deployments, StatefulSets,
	// DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs,
	// except those a workload of these kinds controls) and the pods no
	// such workload controls, sorted by namespace, kind and name.
	Workloads []manifest.Workload
	// Existing are the cluster's policies (the policy.kube-psp.io CRD) and
	// RBAC, which the proof decides with.
	Existing *loader.PoliciesAndRBAC
	// Warnings: the CRD is not installed (no existing policies).
	Warnings []string
}

// workloadKinds are the kinds read, as the kinds of their controllers.
var ownedByWorkload = []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

// ReadCluster reads the workloads of namespace ("" for all) and the
// cluster's policies and RBAC through the clients `psp audit` uses. A
// workload's pod is its controller's pod from the template
// (podcreate.FromWorkload), created by the controller's identity, so that
// the policies fit what the controller creates next; a pod no workload
// controls is read as it runs (audit.Workload). Each request is bounded by
// the clients' request timeout; the first error ends the read, naming what
// failed (kubeclient.Describe).
func ReadCluster(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, namespace string) (*ClusterInput, error) {
	in := &ClusterInput{Existing: &loader.PoliciesAndRBAC{}}
	accounts, err := list(ctx, corev1.Resource("serviceaccounts"), func(o metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
		l, err := client.CoreV1().ServiceAccounts(namespace).List(ctx, o)
		return items(l, err, func(l *corev1.ServiceAccountList) ([]corev1.ServiceAccount, string) { return l.Items, l.Continue })
	})
	if err != nil {
		return nil, err
	}
	saByName := map[string]*corev1.ServiceAccount{}
	for i := range accounts {
		saByName[accounts[i].Namespace+"/"+accounts[i].Name] = &accounts[i]
	}
	add := func(kind string, obj metav1.Object) error {
		if owner := metav1.GetControllerOf(obj); owner != nil && slices.Contains(ownedByWorkload, owner.Kind) {
			return nil // its controller's template is read instead
		}
		pod, err := podcreate.FromWorkload(obj)
		if err != nil {
			return err
		}
		w := manifest.Workload{
			Source: manifest.LiveObject(strings.ToLower(kind), obj.GetNamespace(), obj.GetName()),
			Kind:   kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Pod: pod,
		}
		if u, ok := podcreate.ControllerUser(kind); ok {
			w.Creator = &u
		}
		w.ServiceAccount = saByName[obj.GetNamespace()+"/"+podcreate.ServiceAccountName(pod)]
		in.Workloads = append(in.Workloads, w)
		return nil
	}
	apps := client.AppsV1()
	if err := readKind(ctx, "Deployment", appsv1.Resource("deployments"), add, func(o metav1.ListOptions) ([]appsv1.Deployment, string, error) {
		l, err := apps.Deployments(namespace).List(ctx, o)
		return items(l, err, func(l *appsv1.DeploymentList) ([]appsv1.Deployment, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := readKind(ctx, "StatefulSet", appsv1.Resource("statefulsets"), add, func(o metav1.ListOptions) ([]appsv1.StatefulSet, string, error) {
		l, err := apps.StatefulSets(namespace).List(ctx, o)
		return items(l, err, func(l *appsv1.StatefulSetList) ([]appsv1.StatefulSet, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := readKind(ctx, "DaemonSet", appsv1.Resource("daemonsets"), add, func(o metav1.ListOptions) ([]appsv1.DaemonSet, string, error) {
		l, err := apps.DaemonSets(namespace).List(ctx, o)
		return items(l, err, func(l *appsv1.DaemonSetList) ([]appsv1.DaemonSet, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := readKind(ctx, "ReplicaSet", appsv1.Resource("replicasets"), add, func(o metav1.ListOptions) ([]appsv1.ReplicaSet, string, error) {
		l, err := apps.ReplicaSets(namespace).List(ctx, o)
		return items(l, err, func(l *appsv1.ReplicaSetList) ([]appsv1.ReplicaSet, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := readKind(ctx, "ReplicationController", corev1.Resource("replicationcontrollers"), add, func(o metav1.ListOptions) ([]corev1.ReplicationController, string, error) {
		l, err := client.CoreV1().ReplicationControllers(namespace).List(ctx, o)
		return items(l, err, func(l *corev1.ReplicationControllerList) ([]corev1.ReplicationController, string) {
			return l.Items, l.Continue
		})
	}); err != nil {
		return nil, err
	}
	if err := readKind(ctx, "Job", batchv1.Resource("jobs"), add, func(o metav1.ListOptions) ([]batchv1.Job, string, error) {
		l, err := client.BatchV1().Jobs(namespace).List(ctx, o)
		return items(l, err, func(l *batchv1.JobList) ([]batchv1.Job, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	if err := readKind(ctx, "CronJob", batchv1.Resource("cronjobs"), add, func(o metav1.ListOptions) ([]batchv1.CronJob, string, error) {
		l, err := client.BatchV1().CronJobs(namespace).List(ctx, o)
		return items(l, err, func(l *batchv1.CronJobList) ([]batchv1.CronJob, string) { return l.Items, l.Continue })
	}); err != nil {
		return nil, err
	}
	pods, err := list(ctx, corev1.Resource("pods"), func(o metav1.ListOptions) ([]corev1.Pod, string, error) {
		l, err := client.CoreV1().Pods(namespace).List(ctx, o)
		return items(l, err, func(l *corev1.PodList) ([]corev1.Pod, string) { return l.Items, l.Continue })
	})
	if err != nil {
		return nil, err
	}
	for i := range pods {
		if owner := metav1.GetControllerOf(&pods[i]); owner != nil && slices.Contains(ownedByWorkload, owner.Kind) {
			continue
		}
		if pods[i].Status.Phase == corev1.PodSucceeded || pods[i].Status.Phase == corev1.PodFailed {
			continue // finished: nothing will create it again
		}
		in.Workloads = append(in.Workloads, audit.Workload(&pods[i]))
	}
	slices.SortFunc(in.Workloads, func(a, b manifest.Workload) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	if err := readExisting(ctx, client, dyn, in); err != nil {
		return nil, err
	}
	return in, nil
}

// readExisting reads the cluster's policies and RBAC.
func readExisting(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, in *ClusterInput) error {
	policies, err := list(ctx, source.PolicyResource.GroupResource(), func(o metav1.ListOptions) ([]*policyv1.PodSecurityPolicy, string, error) {
		l, err := dyn.Resource(source.PolicyResource).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		out := make([]*policyv1.PodSecurityPolicy, 0, len(l.Items))
		for _, u := range l.Items {
			p := &policyv1.PodSecurityPolicy{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
				return nil, "", fmt.Errorf("PodSecurityPolicy %q: %w", u.GetName(), err)
			}
			out = append(out, p)
		}
		return out, l.GetContinue(), nil
	})
	switch {
	case apierrors.IsNotFound(err):
		in.Warnings = append(in.Warnings, fmt.Sprintf("the %s CRD is not installed: no existing policies to prove with", source.PolicyResource.GroupResource()))
	case err != nil:
		return err
	}
	in.Existing.Policies = policies
	rb := client.RbacV1()
	if in.Existing.RBAC.Roles, err = list(ctx, rbacv1.Resource("roles"), func(o metav1.ListOptions) ([]rbacv1.Role, string, error) {
		l, err := rb.Roles("").List(ctx, o)
		return items(l, err, func(l *rbacv1.RoleList) ([]rbacv1.Role, string) { return l.Items, l.Continue })
	}); err != nil {
		return err
	}
	if in.Existing.RBAC.ClusterRoles, err = list(ctx, rbacv1.Resource("clusterroles"), func(o metav1.ListOptions) ([]rbacv1.ClusterRole, string, error) {
		l, err := rb.ClusterRoles().List(ctx, o)
		return items(l, err, func(l *rbacv1.ClusterRoleList) ([]rbacv1.ClusterRole, string) { return l.Items, l.Continue })
	}); err != nil {
		return err
	}
	if in.Existing.RBAC.RoleBindings, err = list(ctx, rbacv1.Resource("rolebindings"), func(o metav1.ListOptions) ([]rbacv1.RoleBinding, string, error) {
		l, err := rb.RoleBindings("").List(ctx, o)
		return items(l, err, func(l *rbacv1.RoleBindingList) ([]rbacv1.RoleBinding, string) { return l.Items, l.Continue })
	}); err != nil {
		return err
	}
	in.Existing.RBAC.ClusterRoleBindings, err = list(ctx, rbacv1.Resource("clusterrolebindings"), func(o metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error) {
		l, err := rb.ClusterRoleBindings().List(ctx, o)
		return items(l, err, func(l *rbacv1.ClusterRoleBindingList) ([]rbacv1.ClusterRoleBinding, string) {
			return l.Items, l.Continue
		})
	})
	return err
}

// list lists every page (500 objects each) of one resource.
func list[T any](ctx context.Context, resource schema.GroupResource, page func(metav1.ListOptions) ([]T, string, error)) ([]T, error) {
	var out []T
	opts := metav1.ListOptions{Limit: 500}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		got, next, err := page(opts)
		if err != nil {
			return nil, kubeclient.Describe(err, "list", resource, "")
		}
		out = append(out, got...)
		if next == "" {
			return out, nil
		}
		opts.Continue = next
	}
}

// readKind lists one workload kind and adds each object.
func readKind[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, kind string, resource schema.GroupResource, add func(string, metav1.Object) error, page func(metav1.ListOptions) ([]T, string, error)) error {
	objs, err := list(ctx, resource, page)
	if err != nil {
		return err
	}
	for i := range objs {
		if err := add(kind, PT(&objs[i])); err != nil {
			return err
		}
	}
	return nil
}

func items[L any, T any](l *L, err error, get func(*L) ([]T, string)) ([]T, string, error) {
	if err != nil {
		return nil, "", err
	}
	its, next := get(l)
	return its, next, nil
}
