package migrate

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
)

// ReadCluster checks the pods of a live cluster for a plan, with the
// cluster's policies and RBAC (audit.Read). A running pod already carries
// the defaults its policy set, so a pod a controller owns is judged by its
// controller's template instead (its ReplicaSet's, Job's, ...), as the
// controller's next pod is created, once per controller, and reported as
// the workload whose manifest holds the template (a ReplicaSet's
// Deployment, a Job's CronJob). A bare pod, whose manifest the cluster does
// not keep, is judged as it runs: whether it depends on its policy's
// defaults cannot be told from the cluster (check its manifest with -f).
// Warnings are policy load problems.
func ReadCluster(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, opts audit.Options) ([]check.Verdict, []string, error) {
	snap, pods, err := audit.Read(ctx, client, dyn, opts)
	if err != nil {
		return nil, nil, err
	}
	owners := ownerReader{ctx: ctx, dyn: dyn, seen: map[string]bool{}}
	var workloads []manifest.Workload
	for i := range pods {
		w, ok, err := owners.template(&pods[i])
		if err != nil {
			return nil, nil, err
		}
		switch {
		case ok && owners.seen[w.Source.Object]:
			continue
		case ok:
			owners.seen[w.Source.Object] = true
		default:
			w = audit.RecreatedWorkload(&pods[i])
		}
		workloads = append(workloads, w)
	}
	results, err := check.Run(ctx, snap.Policies, snap.Authorizer, workloads, check.Options{User: opts.User})
	if err != nil {
		return nil, nil, err
	}
	return results, snap.Warnings, nil
}

// ReadNamespaceLabels reads the labels of the plan's namespaces on the
// cluster, by name, for Plan.SetCurrent; timeout bounds each request (0:
// none). A namespace it may not read, or that is gone, is left out (its
// labels unknown) with a warning; err is any other failed request.
func ReadNamespaceLabels(ctx context.Context, client kubernetes.Interface, plan *Plan, timeout time.Duration) (map[string]map[string]string, []string, error) {
	out := map[string]map[string]string{}
	var warnings []string
	for _, n := range plan.Namespaces {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			rctx, cancel = context.WithTimeout(ctx, timeout)
		}
		ns, err := client.CoreV1().Namespaces().Get(rctx, n.Name, metav1.GetOptions{})
		cancel()
		switch {
		case apierrors.IsForbidden(err) || apierrors.IsNotFound(err):
			warnings = append(warnings, fmt.Sprintf("namespace %s: its current labels are unknown: %v", n.Name, kubeclient.Describe(err, "get", corev1.Resource("namespaces"), "")))
		case err != nil:
			return nil, nil, kubeclient.Describe(err, "get", corev1.Resource("namespaces"), "")
		default:
			out[n.Name] = ns.Labels
		}
	}
	return out, warnings, nil
}

// ownerReader reads the controllers of pods.
type ownerReader struct {
	ctx context.Context
	dyn dynamic.Interface
	// seen are the controllers already read, by Source.Object.
	seen map[string]bool
}

// template returns the workload whose template made pod: false for a pod
// no controller of kube-controller-manager owns, or whose controller is
// gone (a pod left running after its owner was deleted).
func (o *ownerReader) template(pod *corev1.Pod) (manifest.Workload, bool, error) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return manifest.Workload{}, false, nil
	}
	obj, err := o.get(pod.Namespace, ref.Kind, ref.Name)
	if err != nil || obj == nil {
		return manifest.Workload{}, false, err
	}
	p, err := podcreate.FromWorkload(obj)
	if err != nil {
		return manifest.Workload{}, false, fmt.Errorf("%s %s/%s: %w", ref.Kind, pod.Namespace, ref.Name, err)
	}
	// The fields are written in the manifest of the controller's own
	// controller when it has one (a ReplicaSet's Deployment, a Job's
	// CronJob), whose template the owner's copies.
	kind, name := ref.Kind, ref.Name
	if up := metav1.GetControllerOf(obj); up != nil && (up.Kind == "Deployment" && ref.Kind == "ReplicaSet" || up.Kind == "CronJob" && ref.Kind == "Job") {
		kind, name = up.Kind, up.Name
	}
	w := manifest.Workload{Source: manifest.LiveObject(strings.ToLower(ref.Kind), pod.Namespace, ref.Name),
		Kind: kind, Namespace: pod.Namespace, Name: name, Pod: p}
	if u, ok := podcreate.ControllerUser(ref.Kind); ok {
		w.Creator = &u
	}
	return w, true, nil
}

// controllerKinds are the kinds whose pod templates ReadCluster reads:
// their resources, and the typed object FromWorkload takes.
var controllerKinds = map[string]struct {
	resource schema.GroupVersionResource
	object   func() metav1.Object
}{
	"ReplicaSet":            {appsv1.SchemeGroupVersion.WithResource("replicasets"), func() metav1.Object { return &appsv1.ReplicaSet{} }},
	"Deployment":            {appsv1.SchemeGroupVersion.WithResource("deployments"), func() metav1.Object { return &appsv1.Deployment{} }},
	"StatefulSet":           {appsv1.SchemeGroupVersion.WithResource("statefulsets"), func() metav1.Object { return &appsv1.StatefulSet{} }},
	"DaemonSet":             {appsv1.SchemeGroupVersion.WithResource("daemonsets"), func() metav1.Object { return &appsv1.DaemonSet{} }},
	"ReplicationController": {corev1.SchemeGroupVersion.WithResource("replicationcontrollers"), func() metav1.Object { return &corev1.ReplicationController{} }},
	"Job":                   {batchv1.SchemeGroupVersion.WithResource("jobs"), func() metav1.Object { return &batchv1.Job{} }},
	"CronJob":               {batchv1.SchemeGroupVersion.WithResource("cronjobs"), func() metav1.Object { return &batchv1.CronJob{} }},
}

// get reads one controller; nil without error when it does not exist or is
// not a kind kube-controller-manager runs.
func (o *ownerReader) get(namespace, kind, name string) (metav1.Object, error) {
	k, ok := controllerKinds[kind]
	if !ok {
		return nil, nil
	}
	u, err := o.dyn.Resource(k.resource).Namespace(namespace).Get(o.ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, kubeclient.Describe(err, "get", k.resource.GroupResource(), "")
	}
	obj := k.object()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), obj); err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", kind, namespace, name, err)
	}
	return obj, nil
}
