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
	// ClusterRole); nil when the role does not exist.
	Rules []rbacv1.PolicyRule
	// RoleMissing is true when the referenced role does not exist.
	RoleMissing bool
	// reasons are Authorize's answers for each subject, made once when the
	// snapshot is built: formatting them per question was a fifth of the
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

// subjectRef points at one subject of one binding.
type subjectRef struct {
	binding int // index into Index.bindings
	subject int // index into the binding's Subjects
}

// subjectBindings are the bindings naming one subject: ClusterRoleBindings
// (in force everywhere) and RoleBindings by namespace, each in binding order.
type subjectBindings struct {
	cluster     []subjectRef
	byNamespace map[string][]subjectRef
}

// in returns the refs in force in a namespace ("" is cluster scope):
// ClusterRoleBindings come first in binding order, so appending keeps it.
func (sb *subjectBindings) in(namespace string) (cluster, namespaced []subjectRef) {
	if sb == nil {
		return nil, nil
	}
	if namespace == "" {
		return sb.cluster, nil
	}
	return sb.cluster, sb.byNamespace[namespace]
}

// Index is an immutable, indexed set of RBAC objects. It implements
// authorizer.Authorizer.
type Index struct {
	// bindings: ClusterRoleBindings by name, then RoleBindings by namespace and name.
	bindings []Binding
	// byUser indexes User subjects by name and ServiceAccount subjects by
	// their user name (system:serviceaccount:NS:NAME).
	byUser  map[string]*subjectBindings
	byGroup map[string]*subjectBindings
	// clusterRoles are the ClusterRoles with aggregation resolved, by name.
	clusterRoles map[string][]rbacv1.PolicyRule
	roles        map[string][]rbacv1.PolicyRule // by "namespace/name"
}

var _ authorizer.Authorizer = (*Index)(nil)

// NewIndex indexes RBAC objects. The objects are copied.
func NewIndex(objs Objects) *Index {
	s := &Index{
		byUser:       map[string]*subjectBindings{},
		byGroup:      map[string]*subjectBindings{},
		clusterRoles: aggregateClusterRoles(objs.ClusterRoles),
		roles:        make(map[string][]rbacv1.PolicyRule, len(objs.Roles)),
	}
	for i := range objs.Roles {
		r := objs.Roles[i].DeepCopy()
		s.roles[r.Namespace+"/"+r.Name] = r.Rules
	}

	crbs := slices.Clone(objs.ClusterRoleBindings)
	slices.SortFunc(crbs, func(a, b rbacv1.ClusterRoleBinding) int { return strings.Compare(a.Name, b.Name) })
	for i := range crbs {
		b := crbs[i].DeepCopy()
		s.addBinding(Binding{Kind: "ClusterRoleBinding", Name: b.Name, RoleRef: b.RoleRef, Subjects: b.Subjects})
	}
	rbs := slices.Clone(objs.RoleBindings)
	slices.SortFunc(rbs, func(a, b rbacv1.RoleBinding) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	for i := range rbs {
		b := rbs[i].DeepCopy()
		s.addBinding(Binding{Kind: "RoleBinding", Namespace: b.Namespace, Name: b.Name, RoleRef: b.RoleRef, Subjects: b.Subjects})
	}
	return s
}

func (s *Index) addBinding(b Binding) {
	b.Rules, b.RoleMissing = s.resolveRoleRef(b.RoleRef, b.Namespace)
	b.reasons = make([]string, len(b.Subjects))
	for j := range b.Subjects {
		b.reasons[j] = fmt.Sprintf("RBAC: allowed by %s to %s", &b, describeSubject(b.Subjects[j]))
	}
	idx := len(s.bindings)
	s.bindings = append(s.bindings, b)
	// add indexes a subject once per binding (the first time it is named),
	// so that one index list needs no deduplication when it is read.
	add := func(index map[string]*subjectBindings, name string, ref subjectRef) {
		sb := index[name]
		if sb == nil {
			sb = &subjectBindings{}
			index[name] = sb
		}
		// By kind, as AppliesIn decides: a RoleBinding without a namespace
		// (only the exported API can make one; loaders default it) grants
		// nowhere, never cluster-wide.
		if b.Kind == "ClusterRoleBinding" {
			if n := len(sb.cluster); n == 0 || sb.cluster[n-1].binding != ref.binding {
				sb.cluster = append(sb.cluster, ref)
			}
			return
		}
		if sb.byNamespace == nil {
			sb.byNamespace = map[string][]subjectRef{}
		}
		refs := sb.byNamespace[b.Namespace]
		if n := len(refs); n == 0 || refs[n-1].binding != ref.binding {
			sb.byNamespace[b.Namespace] = append(refs, ref)
		}
	}
	for j, subj := range b.Subjects {
		ref := subjectRef{binding: idx, subject: j}
		switch subj.Kind {
		case rbacv1.UserKind:
			add(s.byUser, subj.Name, ref)
		case rbacv1.GroupKind:
			add(s.byGroup, subj.Name, ref)
		case rbacv1.ServiceAccountKind:
			// A ServiceAccount subject without a namespace means the
			// binding's own; in a ClusterRoleBinding it matches nobody.
			ns := subj.Namespace
			if ns == "" {
				ns = b.Namespace
			}
			if ns != "" {
				add(s.byUser, authorizer.ServiceAccountUsername(ns, subj.Name), ref)
			}
		}
	}
}

// resolveRoleRef returns the rules of a binding's role. A ClusterRoleBinding
// can only reference a ClusterRole.
func (s *Index) resolveRoleRef(ref rbacv1.RoleRef, bindingNamespace string) ([]rbacv1.PolicyRule, bool) {
	switch ref.Kind {
	case "ClusterRole":
		rules, ok := s.clusterRoles[ref.Name]
		return rules, !ok
	case "Role":
		if bindingNamespace == "" {
			return nil, true
		}
		rules, ok := s.roles[bindingNamespace+"/"+ref.Name]
		return rules, !ok
	}
	return nil, true
}

// Authorize answers whether attrs.User may perform the request, and names the
// binding that allows it.
func (s *Index) Authorize(_ context.Context, attrs authorizer.Attributes) (bool, string, error) {
	if slices.Contains(attrs.User.Groups, authorizer.GroupMasters) {
		return true, "allowed: member of " + authorizer.GroupMasters, nil
	}
	for _, ref := range s.candidates(attrs.User, attrs.Namespace) {
		b := &s.bindings[ref.binding]
		for i := range b.Rules {
			if RuleAllows(&b.Rules[i], attrs) {
				return true, b.reasons[ref.subject], nil
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
			sb = s.byUser[user.Name]
		} else {
			sb = s.byGroup[user.Groups[i]]
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
		if a.binding != b.binding {
			return a.binding - b.binding
		}
		return a.subject - b.subject
	})
	return slices.CompactFunc(refs, func(a, b subjectRef) bool { return a.binding == b.binding })
}

// Grant is one subject of one binding whose rules allow a request.
type Grant struct {
	Subject rbacv1.Subject
	Binding *Binding
	// Rule is the rule that allows it.
	Rule rbacv1.PolicyRule
}

// WhoCan lists the subjects that a binding allows the request (attrs without
// a user) in attrs.Namespace; with an empty namespace, bindings of every
// namespace count. Members of system:masters may do everything besides.
func (s *Index) WhoCan(attrs authorizer.Attributes) []Grant {
	var out []Grant
	for i := range s.bindings {
		b := &s.bindings[i]
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
				out = append(out, Grant{Subject: subj, Binding: b, Rule: b.Rules[j]})
			}
			break
		}
	}
	return out
}

// Bindings returns every binding in evaluation order. Callers must not modify them.
func (s *Index) Bindings() []Binding { return s.bindings }

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

// aggregateClusterRoles returns every ClusterRole's effective rules. An
// aggregated ClusterRole gets, as the apiserver's aggregation controller
// gives it, the rules of every other ClusterRole its selectors match, without
// duplicates; aggregation of aggregated roles is followed to a fixed point.
func aggregateClusterRoles(roles []rbacv1.ClusterRole) map[string][]rbacv1.PolicyRule {
	rules := make(map[string][]rbacv1.PolicyRule, len(roles))
	sorted := slices.Clone(roles)
	slices.SortFunc(sorted, func(a, b rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	var aggregated []*rbacv1.ClusterRole
	for i := range sorted {
		r := sorted[i].DeepCopy()
		rules[r.Name] = r.Rules
		if r.AggregationRule != nil {
			aggregated = append(aggregated, r)
		}
	}
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
				for i := range sorted {
					other := &sorted[i]
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
	return rules
}

func containsRule(rules []rbacv1.PolicyRule, rule rbacv1.PolicyRule) bool {
	for i := range rules {
		if equality.Semantic.DeepEqual(rules[i], rule) {
			return true
		}
	}
	return false
}
