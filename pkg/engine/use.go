package engine

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// What `use` of a policy means, as v1.24's admission plugin asked it
// (plugin/pkg/admission/security/podsecuritypolicy/admission.go
// authorizedForPolicy and authorizedForPolicyInAPIGroup): who is asked
// (UseSubjects), with which attributes (UseQuestions), in which API groups
// (UseAPIGroups). Tools that list, lint, grant or convert grants ask here
// rather than spell out the verb, resource and groups again.

// UseVerb and UseResource are the verb and resource of the question.
const (
	UseVerb     = "use"
	UseResource = "podsecuritypolicies"
)

// UseAPIGroups are the API groups in which `use` of a policy is checked, in
// order. v1.24 checked policy and extensions (for RBAC written before
// policy/v1beta1); kube-psp also accepts its own group.
func UseAPIGroups() []string { return []string{"policy", LegacyUseAPIGroup, policyv1.GroupName} }

// LegacyUseAPIGroup is the group where PodSecurityPolicies lived before
// policy/v1beta1; v1.24 still honoured `use` granted there, so a rule over
// every resource of it grants every policy.
const LegacyUseAPIGroup = "extensions"

// GrantAPIGroups are the API groups a new grant of `use` names, a subset of
// UseAPIGroups that both kube-psp and kubectl answer yes for: policy, which
// the v1.24 plugin asks first, and the CRD's group, to which `kubectl auth
// can-i use podsecuritypolicy/NAME` maps the resource once the CRD is
// installed (kubectl resolves it through discovery, where group policy no
// longer serves podsecuritypolicies).
func GrantAPIGroups() []string { return []string{"policy", policyv1.GroupName} }

// UseAttributes is the question admission asks an authorizer for one API
// group of UseAPIGroups: may user `use` policy (resource
// podsecuritypolicies) in namespace. Tools that list grants leave user,
// namespace or policy unset to ask about any (v1.24
// plugin/pkg/admission/security/podsecuritypolicy/admission.go
// authorizedForPolicyInAPIGroup).
func UseAttributes(user authorizer.UserInfo, namespace, group, policy string) authorizer.Attributes {
	return authorizer.Attributes{User: user, Verb: UseVerb, Namespace: namespace, APIGroup: group, Resource: UseResource, Name: policy}
}

// UseQuestions are the questions admission asks about one subject, one per
// API group of UseAPIGroups, in order; the first yes grants use. As with
// UseAttributes, a tool leaves user, namespace or policy unset to ask
// about any.
func UseQuestions(user authorizer.UserInfo, namespace, policy string) []authorizer.Attributes {
	groups := UseAPIGroups()
	out := make([]authorizer.Attributes, len(groups))
	for i, g := range groups {
		out[i] = UseAttributes(user, namespace, g, policy)
	}
	return out
}

// UseRule is the RBAC rule that grants `use` of the named policies in
// every group of GrantAPIGroups, as `psp init` and the presets write it.
func UseRule(policies ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: GrantAPIGroups(), Resources: []string{UseResource}, Verbs: []string{UseVerb}, ResourceNames: policies}
}

// ServiceAccountUser is the identity the v1.24 plugin gave a pod's
// ServiceAccount when asking whether it may use a policy: the
// ServiceAccount's user name with the groups system:serviceaccounts and
// system:serviceaccounts:NAMESPACE, and not system:authenticated.
func ServiceAccountUser(namespace, name string) authorizer.UserInfo {
	return authorizer.UserInfo{
		Name:   authorizer.ServiceAccountUsername(namespace, name),
		Groups: []string{authorizer.GroupServiceAccounts, authorizer.ServiceAccountsGroup(namespace)},
	}
}

// PodServiceAccount is the name of the pod's ServiceAccount, whose `use`
// grants count: spec.serviceAccountName, else the deprecated alias
// spec.serviceAccount, which v1 conversion and defaulting copy into it
// (v1.37 pkg/apis/core/v1 SetDefaults_PodSpec), so a request carrying only
// the alias is authorized as the apiserver stores it; "" when neither is set.
func PodServiceAccount(pod *corev1.Pod) string {
	if sa := pod.Spec.ServiceAccountName; sa != "" {
		return sa
	}
	return pod.Spec.DeprecatedServiceAccount
}

// UseSubjects are who may `use` a policy for req, in the order admission
// asks: the pod's ServiceAccount (ServiceAccountUser, when the pod has one)
// and then the requesting user.
func UseSubjects(req Request) []authorizer.UserInfo {
	subjects := make([]authorizer.UserInfo, 0, 2)
	if sa := PodServiceAccount(req.Pod); sa != "" {
		subjects = append(subjects, ServiceAccountUser(req.Namespace, sa))
	}
	return append(subjects, req.User)
}

// AuthorizeUse asks whether any of the subjects, in order, may `use` the
// policy in the namespace (UseQuestions), as admission asks it. Authorizer
// errors count as "no" and are recorded, prefixed with the subject's name.
func AuthorizeUse(ctx context.Context, authz authorizer.Authorizer, subjects []authorizer.UserInfo, namespace, policy string) *Authorization {
	result := &Authorization{}
	for _, subject := range subjects {
		for _, q := range UseQuestions(subject, namespace, policy) {
			allowed, reason, err := authz.Authorize(ctx, q)
			if err != nil {
				result.Errors = append(result.Errors, fmt.Sprintf("%s: %v", subject.Name, err))
			}
			if allowed {
				result.Allowed, result.Subject, result.APIGroup, result.Reason = true, subject.Name, q.APIGroup, reason
				return result
			}
		}
	}
	return result
}
