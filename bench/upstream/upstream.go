// Package upstream runs Kubernetes v1.24.17's own PodSecurityPolicy
// admission plugin with the apiserver's RBAC authorizer, in process: the
// reference for kube-psp's differential tests (cmd/upstream124) and the
// baseline of its benchmarks.
package upstream

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	api "k8s.io/kubernetes/pkg/apis/core"
	_ "k8s.io/kubernetes/pkg/apis/core/install" // internal pod conversions
	"k8s.io/kubernetes/pkg/apis/policy"
	_ "k8s.io/kubernetes/pkg/apis/policy/install" // internal policy conversions and defaults
	policyvalidation "k8s.io/kubernetes/pkg/apis/policy/validation"
	"k8s.io/kubernetes/plugin/pkg/admission/security/podsecuritypolicy"
	rbacauthz "k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
)

// RBAC objects.
type RBAC struct {
	Roles               []rbacv1.Role               `json:"roles,omitempty"`
	ClusterRoles        []rbacv1.ClusterRole        `json:"clusterRoles,omitempty"`
	RoleBindings        []rbacv1.RoleBinding        `json:"roleBindings,omitempty"`
	ClusterRoleBindings []rbacv1.ClusterRoleBinding `json:"clusterRoleBindings,omitempty"`
}

// Plugin is one v1.24 plugin over fixed policies and RBAC.
type Plugin struct {
	plugin admission.Interface
}

// New builds the plugin; policies get the v1.24 apiserver's defaults.
func New(policies []policyv1beta1.PodSecurityPolicy, r RBAC) (*Plugin, error) {
	// The plugin reads policies through the informer's lister; filling the
	// informer's store directly avoids starting informers.
	factory := informers.NewSharedInformerFactory(fake.NewSimpleClientset(), 0)
	plugins := admission.NewPlugins()
	podsecuritypolicy.Register(plugins)
	pspInformer := factory.Policy().V1beta1().PodSecurityPolicies().Informer()
	plugin, err := plugins.InitPlugin(podsecuritypolicy.PluginName, nil, initializer{authz: newAuthorizer(r), factory: factory})
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	for i := range policies {
		p := policies[i].DeepCopy()
		if p.Spec.AllowPrivilegeEscalation == nil {
			t := true
			p.Spec.AllowPrivilegeEscalation = &t
		}
		if err := pspInformer.GetIndexer().Add(p); err != nil {
			return nil, fmt.Errorf("adding policy: %w", err)
		}
	}
	return &Plugin{plugin: plugin}, nil
}

// Request is one admission request on a v1 pod.
type Request struct {
	Admit     bool // the mutating phase; else the validating phase
	Operation string
	Namespace string
	User      string
	Groups    []string
	Pod       *corev1.Pod
	OldPod    *corev1.Pod
}

// Decision is the plugin's answer.
type Decision struct {
	Allowed bool
	Policy  string
	// Message is the Forbidden error's text after "is forbidden: ".
	Message string
	// Pod is the admitted pod (mutated in the admit phase).
	Pod *corev1.Pod
}

// Decide runs the plugin on one request, converting the pod to the
// apiserver's internal type and back as the apiserver does.
func (p *Plugin) Decide(ctx context.Context, r Request) (Decision, error) {
	pod := &api.Pod{}
	if err := legacyscheme.Scheme.Convert(r.Pod, pod, nil); err != nil {
		return Decision{}, fmt.Errorf("convert pod: %w", err)
	}
	var oldPod runtime.Object
	if r.OldPod != nil {
		op := &api.Pod{}
		if err := legacyscheme.Scheme.Convert(r.OldPod, op, nil); err != nil {
			return Decision{}, fmt.Errorf("convert old pod: %w", err)
		}
		oldPod = op
	}
	attrs := &recordingAttributes{Attributes: admission.NewAttributesRecord(pod, oldPod, api.Kind("Pod").WithVersion("version"), r.Namespace, pod.Name,
		api.Resource("pods").WithVersion("version"), "", admission.Operation(r.Operation), nil, false,
		&user.DefaultInfo{Name: r.User, Groups: r.Groups}), annotations: map[string]string{}}
	var err error
	if r.Admit {
		err = p.plugin.(admission.MutationInterface).Admit(ctx, attrs, nil)
	} else {
		err = p.plugin.(admission.ValidationInterface).Validate(ctx, attrs, nil)
	}
	if err != nil {
		msg := err.Error()
		if _, after, ok := strings.Cut(msg, " is forbidden: "); ok {
			msg = after
		}
		return Decision{Message: msg}, nil
	}
	out := &corev1.Pod{}
	if err := legacyscheme.Scheme.Convert(pod, out, nil); err != nil {
		return Decision{}, fmt.Errorf("convert result: %w", err)
	}
	d := Decision{Allowed: true, Pod: out}
	for k, v := range attrs.annotations {
		if strings.HasSuffix(k, "/admit-policy") || strings.HasSuffix(k, "/validate-policy") {
			d.Policy = v
		}
	}
	return d, nil
}

// ValidatePolicy defaults and validates a policy as the v1.24 apiserver did on create.
func ValidatePolicy(in *policyv1beta1.PodSecurityPolicy) ([]string, error) {
	external := in.DeepCopy()
	legacyscheme.Scheme.Default(external)
	internal := &policy.PodSecurityPolicy{}
	if err := legacyscheme.Scheme.Convert(external, internal, nil); err != nil {
		return nil, fmt.Errorf("convert policy: %w", err)
	}
	errs := []string{}
	for _, e := range policyvalidation.ValidatePodSecurityPolicy(internal) {
		errs = append(errs, e.Error())
	}
	return errs, nil
}

type initializer struct {
	authz   authorizer.Authorizer
	factory informers.SharedInformerFactory
}

func (i initializer) Initialize(p admission.Interface) {
	p.(interface{ SetAuthorizer(authorizer.Authorizer) }).SetAuthorizer(i.authz)
	p.(interface {
		SetExternalKubeInformerFactory(informers.SharedInformerFactory)
	}).SetExternalKubeInformerFactory(i.factory)
}

// newAuthorizer is the apiserver's RBAC authorizer over the objects, behind
// the system:masters short cut every apiserver has.
func newAuthorizer(r RBAC) authorizer.Authorizer {
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	roles, clusterRoles, roleBindings, clusterRoleBindings := idx(), idx(), idx(), idx()
	for i := range r.Roles {
		_ = roles.Add(&r.Roles[i])
	}
	for i := range r.ClusterRoles {
		_ = clusterRoles.Add(&r.ClusterRoles[i])
	}
	for i := range r.RoleBindings {
		_ = roleBindings.Add(&r.RoleBindings[i])
	}
	for i := range r.ClusterRoleBindings {
		_ = clusterRoleBindings.Add(&r.ClusterRoleBindings[i])
	}
	return mastersAuthorizer{rbacauthz.New(
		&rbacauthz.RoleGetter{Lister: rbaclisters.NewRoleLister(roles)},
		&rbacauthz.RoleBindingLister{Lister: rbaclisters.NewRoleBindingLister(roleBindings)},
		&rbacauthz.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(clusterRoles)},
		&rbacauthz.ClusterRoleBindingLister{Lister: rbaclisters.NewClusterRoleBindingLister(clusterRoleBindings)},
	)}
}

type mastersAuthorizer struct{ next authorizer.Authorizer }

func (m mastersAuthorizer) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	for _, g := range a.GetUser().GetGroups() {
		if g == user.SystemPrivilegedGroup {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return m.next.Authorize(ctx, a)
}

// recordingAttributes keeps the audit annotations the plugin adds.
type recordingAttributes struct {
	admission.Attributes
	annotations map[string]string
}

func (r *recordingAttributes) AddAnnotation(key, value string) error {
	r.annotations[key] = value
	return nil
}
