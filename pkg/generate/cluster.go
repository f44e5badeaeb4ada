package generate

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/diff"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// ClusterInput is what ReadCluster read.
type ClusterInput struct {
	// Workloads are the cluster's workloads as diff.ClusterWorkloads reads
	// them: each controller's pod template, created by the controller's
	// identity, and the pods no listed controller controls, as they run.
	Workloads []manifest.Workload
	// Existing are the cluster's policies (the policy.kube-psp.io CRD) and
	// RBAC, which the proof decides with.
	Existing *loader.PoliciesAndRBAC
	// Warnings: the CRD is not installed (no existing policies), or a
	// policy is invalid and left out.
	Warnings []string
}

// ReadCluster reads the workloads of namespace ("" for all), as `psp diff`
// reads them (diff.ClusterWorkloads: policies should fit what the
// controllers create next), and the cluster's policies and RBAC, through
// the clients `psp audit` uses. Each request is bounded by the clients'
// request timeout; the first error ends the read, naming what failed
// (kubeclient.Describe).
func ReadCluster(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, namespace string) (*ClusterInput, error) {
	workloads, err := diff.ClusterWorkloads(ctx, client, namespace)
	if err != nil {
		return nil, err
	}
	in := &ClusterInput{Workloads: workloads, Existing: &loader.PoliciesAndRBAC{}}
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
			// As the cluster source reads them: an invalid policy, which
			// admission would not use, is left out with a warning.
			if errs := engine.DefaultAndValidatePolicy(p); len(errs) > 0 {
				in.Warnings = append(in.Warnings, fmt.Sprintf("PodSecurityPolicy %q is invalid and left out: %s", p.Name, errs[0].Error()))
				continue
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

func items[L any, T any](l *L, err error, get func(*L) ([]T, string)) ([]T, string, error) {
	if err != nil {
		return nil, "", err
	}
	its, next := get(l)
	return its, next, nil
}
