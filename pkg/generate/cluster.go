package generate

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	var policies []*policyv1.PodSecurityPolicy
	err := kubeclient.ListAll(ctx, source.PolicyResource.GroupResource(), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return dyn.Resource(source.PolicyResource).List(ctx, o)
	}, func(obj runtime.Object) error {
		u := obj.(*unstructured.Unstructured)
		p := &policyv1.PodSecurityPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
			return fmt.Errorf("PodSecurityPolicy %q: %w", u.GetName(), err)
		}
		// As the cluster source reads them: an invalid policy, which
		// admission would not use, is left out with a warning.
		if errs := engine.DefaultAndValidatePolicy(p); len(errs) > 0 {
			in.Warnings = append(in.Warnings, fmt.Sprintf("PodSecurityPolicy %q is invalid and left out: %s", p.Name, errs[0].Error()))
			return nil
		}
		policies = append(policies, p)
		return nil
	})
	switch {
	case apierrors.IsNotFound(err):
		in.Warnings = append(in.Warnings, fmt.Sprintf("the %s CRD is not installed: no existing policies to prove with", source.PolicyResource.GroupResource()))
	case err != nil:
		return err
	}
	in.Existing.Policies = policies
	rb := client.RbacV1()
	rbac := &in.Existing.RBAC
	for _, l := range []struct {
		resource schema.GroupResource
		list     func(context.Context, metav1.ListOptions) (runtime.Object, error)
		add      func(runtime.Object)
	}{
		{rbacv1.Resource("roles"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return rb.Roles("").List(ctx, o)
		},
			func(obj runtime.Object) { rbac.Roles = append(rbac.Roles, *obj.(*rbacv1.Role)) }},
		{rbacv1.Resource("clusterroles"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return rb.ClusterRoles().List(ctx, o)
		},
			func(obj runtime.Object) { rbac.ClusterRoles = append(rbac.ClusterRoles, *obj.(*rbacv1.ClusterRole)) }},
		{rbacv1.Resource("rolebindings"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return rb.RoleBindings("").List(ctx, o)
		},
			func(obj runtime.Object) { rbac.RoleBindings = append(rbac.RoleBindings, *obj.(*rbacv1.RoleBinding)) }},
		{rbacv1.Resource("clusterrolebindings"), func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return rb.ClusterRoleBindings().List(ctx, o)
		}, func(obj runtime.Object) {
			rbac.ClusterRoleBindings = append(rbac.ClusterRoleBindings, *obj.(*rbacv1.ClusterRoleBinding))
		}},
	} {
		if err := kubeclient.ListAll(ctx, l.resource, l.list, func(obj runtime.Object) error { l.add(obj); return nil }); err != nil {
			return err
		}
	}
	return nil
}
