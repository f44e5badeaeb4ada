// Package rbac evaluates Kubernetes RBAC (rbac.authorization.k8s.io/v1
// Roles, ClusterRoles, RoleBindings and ClusterRoleBindings) locally, with
// the rules of the apiserver's RBAC authorizer: verbs, API groups, resources
// and resource names with "*" wildcards; RoleBindings apply in their own
// namespace, ClusterRoleBindings everywhere; subjects User, Group and
// ServiceAccount; aggregated ClusterRoles get the rules of the ClusterRoles
// their selectors match. Members of system:masters may do everything, as a
// real apiserver allows them before RBAC is asked.
//
// An Index is immutable and indexed by subject and namespace, so an
// authorization check looks only at the ClusterRoleBindings and the
// RoleBindings of the request's namespace that name the user or one of its
// groups: its cost does not grow with the number of namespaces that bind them.
// A Builder keeps an Index current one changed object at a time, copying
// only the parts a change touches.
package rbac

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// Objects are the RBAC objects an Index is built from.
type Objects struct {
	Roles               []rbacv1.Role
	ClusterRoles        []rbacv1.ClusterRole
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
}

// Binding is one RoleBinding or ClusterRoleBinding with the rules of the
// role it references, resolved.
type Binding struct {
	// Kind is "RoleBinding" or "ClusterRoleBinding".
	Kind      string
	Namespace string
	Name      string
	RoleRef   rbacv1.RoleRef
	Subjects  []rbacv1.Subject
	// Rules are the referenced role's rules (aggregated for an aggregated
	// ClusterRole); nil when the role does not exist. Set in the bindings
	// Bindings returns; the index looks them up by roleKey instead, so
	// that a role's change touches the role only.
	Rules []rbacv1.PolicyRule
	// RoleMissing is true when the referenced role does not exist.
	RoleMissing bool

	// key orders bindings as they are evaluated (clusterRoleBindingKey,
	// roleBindingKey).
	key string
	// roleKey names the role in Index.clusterRoles (clusterRole) or
	// Index.roles ("namespace/name"); "" when the reference can name
	// none (a Role from a ClusterRoleBinding, an unknown kind).
	roleKey     string
	clusterRole bool
	// reasons are Authorize's answers for each subject, made once when the
	// binding is indexed: formatting them per question was a fifth of the
	// cost of a denial (every policy's use is asked).
	reasons []string
}

// String names the binding as the apiserver does in its reasons.
func (b *Binding) String() string {
	if b.Kind == "RoleBinding" {
		return fmt.Sprintf("RoleBinding %q of %s %q", b.Namespace+"/"+b.Name, b.RoleRef.Kind, b.RoleRef.Name)
	}
	return fmt.Sprintf("ClusterRoleBinding %q of %s %q", b.Name, b.RoleRef.Kind, b.RoleRef.Name)
}

// AppliesIn reports whether the binding grants in the namespace ("" is cluster scope).
func (b *Binding) AppliesIn(namespace string) bool {
	return b.Kind == "ClusterRoleBinding" || (namespace != "" && b.Namespace == namespace)
}

// Index is an immutable, indexed set of RBAC objects. It implements
// authorizer.Authorizer. Build one with NewIndex, or keep one current
// change by change with a Builder.
type Index struct {
	// bindings by key.
	bindings     cowMap[*Binding]
	bindingCount int
	// users indexes User subjects by name and ServiceAccount subjects by
	// their user name (system:serviceaccount:NS:NAME); groups, Group subjects.
	users, groups cowMap[*subjectBindings]
	// clusterRoles are the ClusterRoles' rules, aggregation resolved, by name.
	clusterRoles    map[string][]rbacv1.PolicyRule
	clusterRolesGen uint64
	roles           cowMap[[]rbacv1.PolicyRule] // by "namespace/name"
	sorted          *sortedBindings
}

var _ authorizer.Authorizer = (*Index)(nil)

// NewIndex indexes RBAC objects. The objects are copied.
func NewIndex(objs Objects) *Index {
	x := NewBuilder()
	for i := range objs.Roles {
		x.SetRole(objs.Roles[i].DeepCopy())
	}
	for i := range objs.ClusterRoles {
		x.SetClusterRole(objs.ClusterRoles[i].DeepCopy())
	}
	for i := range objs.ClusterRoleBindings {
		x.SetClusterRoleBinding(objs.ClusterRoleBindings[i].DeepCopy())
	}
	for i := range objs.RoleBindings {
		x.SetRoleBinding(objs.RoleBindings[i].DeepCopy())
	}
	return x.Index()
}

// rules returns the rules of a binding's role, and whether the role exists.
func (s *Index) rules(b *Binding) ([]rbacv1.PolicyRule, bool) {
	if b.roleKey == "" {
		return nil, false
	}
	if b.clusterRole {
		rules, ok := s.clusterRoles[b.roleKey]
		return rules, ok
	}
	return s.roles.get(b.roleKey)
}

// Authorize answers whether attrs.User may perform the request, and names the
// binding that allows it.
func (s *Index) Authorize(_ context.Context, attrs authorizer.Attributes) (bool, string, error) {
	if slices.Contains(attrs.User.Groups, authorizer.GroupMasters) {
		return true, "allowed: member of " + authorizer.GroupMasters, nil
	}
	for _, ref := range s.candidates(attrs.User, attrs.Namespace) {
		rules, _ := s.rules(ref.binding)
		for i := range rules {
			if RuleAllows(&rules[i], attrs) {
				return true, ref.binding.reasons[ref.subject], nil
			}
		}
	}
	return false, "", nil
}

// candidates are the subjects of the bindings in force in the namespace
// that name the user or one of its groups, in binding order, each binding
// once. The cost is that of the bindings found, not of the namespaces that
// bind the same subjects elsewhere.
func (s *Index) candidates(user authorizer.UserInfo, namespace string) []subjectRef {
	// Most identities are named by one list only (their group's in this
	// namespace, say): it is already in binding order, once per binding,
	// and is returned as it is (callers only read it).
	var buf [8][]subjectRef
	lists := buf[:0]
	for i := -1; i < len(user.Groups); i++ {
		var sb *subjectBindings
		if i < 0 {
			sb, _ = s.users.get(user.Name)
		} else {
			sb, _ = s.groups.get(user.Groups[i])
		}
		cluster, namespaced := sb.in(namespace)
		if len(cluster) > 0 {
			lists = append(lists, cluster)
		}
		if len(namespaced) > 0 {
			lists = append(lists, namespaced)
		}
	}
	switch len(lists) {
	case 0:
		return nil
	case 1:
		return lists[0]
	}
	var refs []subjectRef
	for _, l := range lists {
		refs = append(refs, l...)
	}
	slices.SortFunc(refs, func(a, b subjectRef) int {
		if c := strings.Compare(a.binding.key, b.binding.key); c != 0 {
			return c
		}
		return a.subject - b.subject
	})
	return slices.CompactFunc(refs, func(a, b subjectRef) bool { return a.binding == b.binding })
}

// Match is one subject of one binding whose rules allow a request.
type Match struct {
	Subject rbacv1.Subject
	Binding *Binding
	// Rule is the rule that allows it.
	Rule rbacv1.PolicyRule
}

// WhoCan lists the subjects that a binding allows the request (attrs without
// a user) in attrs.Namespace; with an empty namespace, bindings of every
// namespace count. Members of system:masters may do everything besides.
func (s *Index) WhoCan(attrs authorizer.Attributes) []Match {
	var out []Match
	bindings := s.Bindings()
	for i := range bindings {
		b := &bindings[i]
		if attrs.Namespace != "" && !b.AppliesIn(attrs.Namespace) {
			continue
		}
		for j := range b.Rules {
			if !RuleAllows(&b.Rules[j], attrs) {
				continue
			}
			for _, subj := range b.Subjects {
				if subj.Kind == rbacv1.ServiceAccountKind && subj.Namespace == "" {
					if b.Namespace == "" {
						continue // matches nobody in a ClusterRoleBinding
					}
					subj.Namespace = b.Namespace
				}
				out = append(out, Match{Subject: subj, Binding: b, Rule: b.Rules[j]})
			}
			break
		}
	}
	return out
}

// Bindings returns every binding in evaluation order, with its role's
// rules. The list is made at the first call; callers must not modify it.
func (s *Index) Bindings() []Binding {
	s.sorted.once.Do(func() {
		list := make([]Binding, 0, s.bindingCount)
		s.bindings.each(func(_ string, b *Binding) {
			c := *b
			var found bool
			c.Rules, found = s.rules(b)
			c.RoleMissing = !found
			list = append(list, c)
		})
		slices.SortFunc(list, func(a, b Binding) int { return strings.Compare(a.key, b.key) })
		s.sorted.list = list
	})
	return s.sorted.list
}

// BindingCount is the number of bindings.
func (s *Index) BindingCount() int { return s.bindingCount }

// RuleAllows reports whether a rule allows a resource request, as the
// apiserver's RBAC authorizer decides it.
func RuleAllows(rule *rbacv1.PolicyRule, attrs authorizer.Attributes) bool {
	return matches(rule.Verbs, attrs.Verb, rbacv1.VerbAll) &&
		matches(rule.APIGroups, attrs.APIGroup, rbacv1.APIGroupAll) &&
		matches(rule.Resources, attrs.Resource, rbacv1.ResourceAll) &&
		(len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, attrs.Name))
}

func matches(ruleValues []string, requested, wildcard string) bool {
	for _, v := range ruleValues {
		if v == wildcard || v == requested {
			return true
		}
	}
	return false
}

func describeSubject(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind && s.Namespace != "" {
		return fmt.Sprintf("%s %q", s.Kind, s.Namespace+"/"+s.Name)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

// aggregateInto gives each aggregated ClusterRole, as the apiserver's
// aggregation controller does, the rules of every other ClusterRole its
// selectors match, without duplicates; aggregation of aggregated roles is
// followed to a fixed point. rules holds every ClusterRole's own rules, by
// name, and is updated; sorted are all ClusterRoles by name, aggregated
// those with an aggregation rule, by name.
func aggregateInto(rules map[string][]rbacv1.PolicyRule, sorted, aggregated []*rbacv1.ClusterRole) {
	// Aggregated roles may select aggregated roles: repeat until nothing
	// changes, as the controller's repeated reconciles would. The bound only
	// guards against selectors that chase each other forever.
	for pass, changed := 0, true; changed && pass <= len(aggregated)+1; pass++ {
		changed = false
		for _, agg := range aggregated {
			var combined []rbacv1.PolicyRule
			for _, sel := range agg.AggregationRule.ClusterRoleSelectors {
				selector, err := metav1.LabelSelectorAsSelector(&sel)
				if err != nil {
					continue // the apiserver refuses such a selector; it matches nothing
				}
				for _, other := range sorted {
					if other.Name == agg.Name || !selector.Matches(labels.Set(other.Labels)) {
						continue
					}
					for _, rule := range rules[other.Name] {
						if !containsRule(combined, rule) {
							combined = append(combined, rule)
						}
					}
				}
			}
			if !equality.Semantic.DeepEqual(combined, rules[agg.Name]) {
				rules[agg.Name] = combined
				changed = true
			}
		}
	}
}

func containsRule(rules []rbacv1.PolicyRule, rule rbacv1.PolicyRule) bool {
	for i := range rules {
		if equality.Semantic.DeepEqual(rules[i], rule) {
			return true
		}
	}
	return false
}
