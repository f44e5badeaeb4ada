// Command upstream124 runs Kubernetes v1.24.17's own PodSecurityPolicy
// admission plugin, with its own RBAC authorizer, on cases read as JSON
// lines from standard input, and writes one JSON answer line per case. It is
// the reference the differential tests in pkg/engine compare kube-psp with.
// It lives in its own module so that kube-psp never imports k8s.io/kubernetes.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
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
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	"k8s.io/kubernetes/pkg/apis/policy"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	policyvalidation "k8s.io/kubernetes/pkg/apis/policy/validation"
	"k8s.io/kubernetes/plugin/pkg/admission/security/podsecuritypolicy"
	rbacauthz "k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
)

// Case is one admission request with the policies and RBAC in force, or,
// when ValidatePolicy is set, one policy to validate as the apiserver would.
type Case struct {
	ValidatePolicy *policyv1beta1.PodSecurityPolicy `json:"validatePolicy,omitempty"`

	Policies  []policyv1beta1.PodSecurityPolicy `json:"policies"`
	RBAC      RBAC                              `json:"rbac"`
	Phase     string                            `json:"phase"`
	Operation string                            `json:"operation"`
	Namespace string                            `json:"namespace"`
	User      User                              `json:"user"`
	Pod       *corev1.Pod                       `json:"pod"`
	OldPod    *corev1.Pod                       `json:"oldPod,omitempty"`
}

// RBAC objects of a case.
type RBAC struct {
	Roles               []rbacv1.Role               `json:"roles,omitempty"`
	ClusterRoles        []rbacv1.ClusterRole        `json:"clusterRoles,omitempty"`
	RoleBindings        []rbacv1.RoleBinding        `json:"roleBindings,omitempty"`
	ClusterRoleBindings []rbacv1.ClusterRoleBinding `json:"clusterRoleBindings,omitempty"`
}

// User is the requesting user.
type User struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
}

// Answer is the plugin's decision.
type Answer struct {
	Allowed bool        `json:"allowed"`
	Policy  string      `json:"policy,omitempty"`
	Message string      `json:"message,omitempty"`
	Pod     *corev1.Pod `json:"pod,omitempty"`
	Error   string      `json:"error,omitempty"`
	// Errors are the policy validation errors, for ValidatePolicy cases.
	Errors []string `json:"errors,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var c Case
		var a Answer
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			a.Error = "decoding case: " + err.Error()
		} else {
			a = run(&c)
		}
		if err := enc.Encode(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(c *Case) (a Answer) {
	defer func() {
		if r := recover(); r != nil {
			a = Answer{Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	if c.ValidatePolicy != nil {
		return validatePolicy(c.ValidatePolicy)
	}
	var objs []runtime.Object
	for i := range c.Policies {
		p := c.Policies[i].DeepCopy()
		if p.Spec.AllowPrivilegeEscalation == nil {
			t := true
			p.Spec.AllowPrivilegeEscalation = &t
		}
		objs = append(objs, p)
	}
	// The plugin reads policies through the informer's lister; filling the
	// informer's store directly avoids starting informers for every case.
	factory := informers.NewSharedInformerFactory(fake.NewSimpleClientset(), 0)
	authz := newAuthorizer(c.RBAC)
	plugins := admission.NewPlugins()
	podsecuritypolicy.Register(plugins)
	pspInformer := factory.Policy().V1beta1().PodSecurityPolicies().Informer()
	plugin, err := plugins.InitPlugin(podsecuritypolicy.PluginName, nil, initializer{authz: authz, factory: factory})
	if err != nil {
		return Answer{Error: "init: " + err.Error()}
	}
	for _, o := range objs {
		if err := pspInformer.GetIndexer().Add(o); err != nil {
			return Answer{Error: "adding policy: " + err.Error()}
		}
	}

	pod := &api.Pod{}
	if err := legacyscheme.Scheme.Convert(c.Pod, pod, nil); err != nil {
		return Answer{Error: "convert pod: " + err.Error()}
	}
	var oldPod runtime.Object
	if c.OldPod != nil {
		op := &api.Pod{}
		if err := legacyscheme.Scheme.Convert(c.OldPod, op, nil); err != nil {
			return Answer{Error: "convert old pod: " + err.Error()}
		}
		oldPod = op
	}
	attrs := &recordingAttributes{Attributes: admission.NewAttributesRecord(pod, oldPod, api.Kind("Pod").WithVersion("version"), c.Namespace, pod.Name,
		api.Resource("pods").WithVersion("version"), "", admission.Operation(c.Operation), nil, false,
		&user.DefaultInfo{Name: c.User.Name, Groups: c.User.Groups}), annotations: map[string]string{}}
	if c.Phase == "admit" {
		err = plugin.(admission.MutationInterface).Admit(context.Background(), attrs, nil)
	} else {
		err = plugin.(admission.ValidationInterface).Validate(context.Background(), attrs, nil)
	}
	if err != nil {
		msg := err.Error()
		if _, after, ok := strings.Cut(msg, " is forbidden: "); ok {
			msg = after
		}
		return Answer{Message: msg}
	}
	out := &corev1.Pod{}
	if err := legacyscheme.Scheme.Convert(pod, out, nil); err != nil {
		return Answer{Error: "convert result: " + err.Error()}
	}
	a.Allowed = true
	a.Pod = out
	for k, v := range attrs.annotations {
		if strings.HasSuffix(k, "/admit-policy") || strings.HasSuffix(k, "/validate-policy") {
			a.Policy = v
		}
	}
	return a
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

// newAuthorizer is the apiserver's RBAC authorizer over the case's objects,
// behind the system:masters short cut every apiserver has.
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
	rbac := rbacauthz.New(
		&rbacauthz.RoleGetter{Lister: rbaclisters.NewRoleLister(roles)},
		&rbacauthz.RoleBindingLister{Lister: rbaclisters.NewRoleBindingLister(roleBindings)},
		&rbacauthz.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(clusterRoles)},
		&rbacauthz.ClusterRoleBindingLister{Lister: rbaclisters.NewClusterRoleBindingLister(clusterRoleBindings)},
	)
	return mastersAuthorizer{rbac}
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

// validatePolicy defaults and validates a policy as the v1.24 apiserver did on create.
func validatePolicy(in *policyv1beta1.PodSecurityPolicy) Answer {
	external := in.DeepCopy()
	legacyscheme.Scheme.Default(external)
	internal := &policy.PodSecurityPolicy{}
	if err := legacyscheme.Scheme.Convert(external, internal, nil); err != nil {
		return Answer{Error: "convert policy: " + err.Error()}
	}
	a := Answer{Errors: []string{}}
	for _, e := range policyvalidation.ValidatePodSecurityPolicy(internal) {
		a.Errors = append(a.Errors, e.Error())
	}
	return a
}
