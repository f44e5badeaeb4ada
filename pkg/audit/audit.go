// Package audit checks the pods running in a live cluster against the
// cluster's current policies and RBAC, as they would be admitted if they
// were created again now: what switching kube-psp from warn or audit mode
// to enforce would refuse.
package audit

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// Options tune an audit.
type Options struct {
	// Namespace limits the audit to one namespace; empty means all.
	Namespace string
	// User is the identity assumed to create bare pods (pods no controller
	// owns): who created them is not recorded on the pod.
	User authorizer.UserInfo
	// Authorizer, when set, decides policy use instead of local evaluation
	// of the cluster's RBAC.
	Authorizer authorizer.Authorizer
	// ExplainAll explains admitted pods too.
	ExplainAll bool
	// Timeout bounds reading the policies and RBAC (every informer's first
	// list), as --request-timeout bounds each request; 0: no limit.
	Timeout time.Duration
}

// Run reads the cluster's policies, RBAC and pods and checks every pod.
// Warnings are policy load problems (an invalid policy left out).
func Run(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, opts Options) (results []check.Verdict, warnings []string, err error) {
	snap, pods, err := Read(ctx, client, dyn, opts)
	if err != nil {
		return nil, nil, err
	}
	workloads := make([]manifest.Workload, 0, len(pods))
	for i := range pods {
		workloads = append(workloads, RecreatedWorkload(&pods[i]))
	}
	results, err = check.Run(ctx, snap.Policies, snap.Authorizer, workloads, check.Options{User: opts.User, ExplainAll: opts.ExplainAll})
	if err != nil {
		return nil, nil, err
	}
	for i := range results {
		results[i].Running = runningProblems(snap.Policies, &pods[i], results[i])
	}
	return results, snap.Warnings, nil
}

// ReadPolicies reads the cluster's current policies (the policy.kube-psp.io
// CRD) and RBAC once, as psp serve --kubeconfig reads them: invalid
// policies are left out with a warning in the snapshot's Warnings. authz,
// when set, decides policy use instead of local evaluation of the RBAC.
// timeout bounds reading (every informer's first list); 0: no limit. The
// first error ends the read: an unreachable apiserver, a missing CRD or
// permission does not go away by waiting.
func ReadPolicies(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, authz authorizer.Authorizer, timeout time.Duration) (*source.Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the informers: one snapshot is all that is needed
	cluster := source.NewCluster(client, dyn, authz, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if timeout > 0 {
		var cancelSync context.CancelFunc
		ctx, cancelSync = context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no complete answer within %s (--request-timeout)", timeout))
		defer cancelSync()
	}
	if err := cluster.Sync(ctx); err != nil {
		return nil, fmt.Errorf("reading policies and RBAC from the cluster: %w", err)
	}
	return cluster.Current(), nil
}

// Read reads one snapshot of the cluster's policies and RBAC
// (ReadPolicies) and the pods of opts.Namespace (all when empty), sorted by
// namespace and name (ListPods). The first error ends the read.
func Read(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, opts Options) (*source.Snapshot, []corev1.Pod, error) {
	snap, err := ReadPolicies(ctx, client, dyn, opts.Authorizer, opts.Timeout)
	if err != nil {
		return nil, nil, err
	}
	pods, err := ListPods(ctx, client, opts.Namespace)
	if err != nil {
		return nil, nil, err
	}
	return snap, pods, nil
}

// runningProblems judges the seccomp profile each container of a running
// pod runs with against the policy that admitted it: the one its
// kubernetes.io/psp annotation names, else the one that would admit it now.
// A pod admitted on a seccomp annotation alone (v1.24's behaviour on a
// v1.27+ cluster) runs Unconfined although its policy requires a profile.
func runningProblems(set *engine.PolicySet, pod *corev1.Pod, r check.Verdict) []string {
	policy := pod.Annotations[policyv1.ValidatedPolicyAnnotationKey]
	if policy == "" {
		policy = r.Policy
	}
	errs, found := set.RunningSeccompErrors(policy, pod)
	if !found {
		return nil
	}
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("policy %q: %s", policy, e.Error()))
	}
	return out
}

// ListPods lists the pods of namespace (all when empty), sorted by
// namespace and name. It lists in pages, so a large cluster is not one huge
// response.
func ListPods(ctx context.Context, client kubernetes.Interface, namespace string) ([]corev1.Pod, error) {
	var pods []corev1.Pod
	err := kubeclient.ListAll(ctx, corev1.Resource("pods"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return client.CoreV1().Pods(namespace).List(ctx, o)
	}, func(obj runtime.Object) error {
		pods = append(pods, *obj.(*corev1.Pod))
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return pods, nil
}

// RecreatedWorkload is a running pod as it would be created again: by its
// controller's identity when a controller owns it (a ReplicaSet's pods by
// the replicaset controller, ...), else by the user the audit assumes. The
// status and what the apiserver assigns are dropped; the spec, labels and
// annotations are kept. They already carry the apiserver's defaults, the
// ServiceAccount plugin's token volume and what the admitting policy set,
// as the controller's next pod does once admitted: podcreate.Create, which
// check applies, leaves them as they are. The ServiceAccount object is not
// read; whether the plugin mounted its token is seen on the pod itself (a
// kube-api-access- volume), so a pod stored without one, because its
// ServiceAccount turned automounting off, is not given one.
func RecreatedWorkload(pod *corev1.Pod) manifest.Workload {
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, GenerateName: pod.GenerateName, Namespace: pod.Namespace,
			Labels: pod.Labels, Annotations: pod.Annotations, OwnerReferences: pod.OwnerReferences},
		Spec: *pod.Spec.DeepCopy(),
	}
	w := manifest.Workload{
		Source:    manifest.LiveObject("pod", pod.Namespace, pod.Name),
		Kind:      "Pod",
		Namespace: pod.Namespace,
		Name:      pod.Name,
		Pod:       p,
		ServiceAccount: &corev1.ServiceAccount{
			ObjectMeta:                   metav1.ObjectMeta{Namespace: pod.Namespace, Name: podcreate.ServiceAccountName(pod)},
			AutomountServiceAccountToken: ptr.To(slices.ContainsFunc(pod.Spec.Volumes, isTokenVolume)),
		},
	}
	if owner := metav1.GetControllerOf(pod); owner != nil {
		if u, ok := podcreate.ControllerUser(owner.Kind); ok {
			w.Creator = &u
		}
	}
	return w
}

// isTokenVolume reports whether v is the ServiceAccount plugin's token volume.
func isTokenVolume(v corev1.Volume) bool {
	return v.Projected != nil && strings.HasPrefix(v.Name, podcreate.TokenVolumePrefix)
}
