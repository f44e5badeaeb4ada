package convert

import (
	rbacv1 "k8s.io/api/rbac/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/rbac"
)

// CRDGroupGrants returns the Roles and ClusterRoles that grant `use` of
// PodSecurityPolicies in group policy or extensions, with the CRD's group
// (policy.kube-psp.io) added to each such rule. kube-psp needs no such
// change: it honours grants in all three groups. kubectl does: `kubectl
// auth can-i use podsecuritypolicy/NAME` maps the resource to the CRD's
// group and answers "no" for a grant written for v1.24. Aggregated
// ClusterRoles are left out, as their rules are the aggregation
// controller's; the ClusterRoles they aggregate are changed instead.
func CRDGroupGrants(objs rbac.Objects) rbac.Objects {
	var out rbac.Objects
	for i := range objs.ClusterRoles {
		r := &objs.ClusterRoles[i]
		if r.AggregationRule != nil {
			continue
		}
		if rules, changed := withCRDGroup(r.Rules); changed {
			c := r.DeepCopy()
			c.Rules = rules
			out.ClusterRoles = append(out.ClusterRoles, *cleanMeta(c))
		}
	}
	for i := range objs.Roles {
		r := &objs.Roles[i]
		if rules, changed := withCRDGroup(r.Rules); changed {
			c := r.DeepCopy()
			c.Rules = rules
			out.Roles = append(out.Roles, *cleanRoleMeta(c))
		}
	}
	return out
}

// withCRDGroup adds policy.kube-psp.io to every rule that grants use of
// podsecuritypolicies in a legacy group only.
func withCRDGroup(rules []rbacv1.PolicyRule) ([]rbacv1.PolicyRule, bool) {
	out := make([]rbacv1.PolicyRule, len(rules))
	changed := false
	for i, r := range rules {
		out[i] = *r.DeepCopy()
		// In which of the groups admission asks does the rule grant use
		// of some policy (whichever it names)?
		unnamed := r
		unnamed.ResourceNames = nil
		var legacy, covered bool
		for _, q := range engine.UseQuestions(authorizer.UserInfo{}, "", "") {
			switch {
			case !rbac.RuleAllows(&unnamed, q):
			case q.APIGroup == policyv1.GroupName:
				covered = true
			default:
				legacy = true
			}
		}
		if legacy && !covered {
			out[i].APIGroups = append(out[i].APIGroups, policyv1.GroupName)
			changed = true
		}
	}
	return out, changed
}

// cleanMeta keeps what identifies the object, so that applying the output
// changes the rules only (no stale resourceVersion, uid or managed fields).
func cleanMeta(r *rbacv1.ClusterRole) *rbacv1.ClusterRole {
	r.ObjectMeta = trimMeta(r.ObjectMeta)
	return r
}

// cleanRoleMeta is cleanMeta for a Role.
func cleanRoleMeta(r *rbacv1.Role) *rbacv1.Role {
	r.ObjectMeta = trimMeta(r.ObjectMeta)
	return r
}
