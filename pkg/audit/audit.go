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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/loader"
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
}

// Run reads the cluster's policies, RBAC and pods and checks every pod.
// Warnings are policy load problems (an invalid policy left out).
func Run(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, opts Options) (results []check.Result, warnings []string, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the informers: one snapshot is all an audit needs
	cluster := source.NewCluster(client, dyn, opts.Authorizer, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err := cluster.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("reading policies and RBAC from the cluster: %w", err)
	}
	snap := cluster.Current()
	pods, err := listPods(ctx, client, opts.Namespace)
	if err != nil {
		return nil, nil, err
	}
	workloads := make([]manifest.Workload, 0, len(pods))
	for i := range pods {
		workloads = append(workloads, Workload(&pods[i]))
	}
	results, err = check.Run(ctx, snap.Policies, snap.Authorizer, workloads, check.Options{User: opts.User, ExplainAll: opts.ExplainAll})
	return results, snap.Warnings, err
}

// listPods lists in pages, so a large cluster is not one huge response.
func listPods(ctx context.Context, client kubernetes.Interface, namespace string) ([]corev1.Pod, error) {
	var pods []corev1.Pod
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := client.CoreV1().Pods(namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing pods: %w", err)
		}
		pods = append(pods, list.Items...)
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return pods, nil
}

// Workload is a running pod as it would be created again: by its
// controller's identity when a controller owns it (a ReplicaSet's pods by
// the replicaset controller, ...), else by the user the audit assumes. The
// status and what the apiserver assigns are dropped; the spec, labels and
// annotations are kept. They already carry the apiserver's defaults, the
// ServiceAccount plugin's token volume and what the admitting policy set,
// as the controller's next pod does once admitted: podcreate.Create, which
// check applies, leaves them as they are.
func Workload(pod *corev1.Pod) manifest.Workload {
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, GenerateName: pod.GenerateName, Namespace: pod.Namespace,
			Labels: pod.Labels, Annotations: pod.Annotations, OwnerReferences: pod.OwnerReferences},
		Spec: *pod.Spec.DeepCopy(),
	}
	w := manifest.Workload{
		Source:    loader.Source{File: "pod/" + pod.Namespace + "/" + pod.Name},
		Kind:      "Pod",
		Namespace: pod.Namespace,
		Name:      pod.Name,
		Pod:       p,
	}
	if owner := metav1.GetControllerOf(pod); owner != nil {
		if u, ok := podcreate.ControllerUser(owner.Kind); ok {
			w.Creator = &u
		}
	}
	return w
}
