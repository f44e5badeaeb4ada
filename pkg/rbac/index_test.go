package rbac

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

// scanAuthorize is the index's reference: every binding in binding order,
// kept when it applies in the namespace and names the user or a group.
func scanAuthorize(s *Index, attrs authorizer.Attributes) (bool, string) {
	if slices.Contains(attrs.User.Groups, authorizer.GroupMasters) {
		return true, "allowed: member of " + authorizer.GroupMasters
	}
	bindings := s.Bindings()
	for i := range bindings {
		b := &bindings[i]
		if !b.AppliesIn(attrs.Namespace) {
			continue
		}
		for j, subj := range b.Subjects {
			named := false
			switch subj.Kind {
			case rbacv1.UserKind:
				named = subj.Name == attrs.User.Name
			case rbacv1.GroupKind:
				named = slices.Contains(attrs.User.Groups, subj.Name)
			case rbacv1.ServiceAccountKind:
				ns := subj.Namespace
				if ns == "" {
					ns = b.Namespace
				}
				named = ns != "" && authorizer.ServiceAccountUsername(ns, subj.Name) == attrs.User.Name
			}
			if !named {
				continue
			}
			for k := range b.Rules {
				if RuleAllows(&b.Rules[k], attrs) {
					return true, b.reasons[j]
				}
			}
			break // a binding's rules are the same for each of its subjects
		}
	}
	return false, ""
}

// rbacGen makes random RBAC from a seeded generator, for the tests that
// compare the index with a reference.
type rbacGen struct {
	rng                                 *rand.Rand
	namespaces, users, groups, policies []string
}

func newRBACGen(rng *rand.Rand) *rbacGen {
	return &rbacGen{rng: rng, namespaces: []string{"a", "b", "c", "d"}, users: []string{"alice", "bob", "carol"},
		groups:   []string{"dev", "ops", "system:authenticated", "system:serviceaccounts", "system:serviceaccounts:a"},
		policies: []string{"p1", "p2", "p3"}}
}

func (g *rbacGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// subject is a User, a Group, or a ServiceAccount with or without a namespace.
func (g *rbacGen) subject() rbacv1.Subject {
	switch g.rng.IntN(4) {
	case 0:
		return rbacv1.Subject{Kind: rbacv1.UserKind, Name: g.pick(g.users)}
	case 1:
		return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: g.pick(g.groups)}
	case 2:
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default"}
	}
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: g.pick(g.namespaces)}
}

// rules grant use of one policy or of all, in one of the API groups asked.
func (g *rbacGen) rules() []rbacv1.PolicyRule {
	var names []string
	if g.rng.IntN(3) > 0 {
		names = []string{g.pick(g.policies)}
	}
	return []rbacv1.PolicyRule{useRule([]string{g.pick([]string{"policy", "extensions", "*"})}, pspList, names)}
}

// questions are the use questions the tests ask: each identity in each
// namespace and at cluster scope, in two API groups, of each policy.
func (g *rbacGen) questions(identities []authorizer.UserInfo) []authorizer.Attributes {
	var out []authorizer.Attributes
	for _, id := range identities {
		for _, ns := range append(slices.Clone(g.namespaces), "") {
			for _, group := range []string{"policy", "extensions"} {
				for _, p := range g.policies {
					out = append(out, use(id, ns, group, p))
				}
			}
		}
	}
	return out
}

// TestIndexMatchesScan: the subject-and-namespace index answers as a scan
// of every binding would, reason included, on random RBAC.
func TestIndexMatchesScan(t *testing.T) {
	gen := newRBACGen(rand.New(rand.NewPCG(14, 2)))
	rng, pick, subject, role := gen.rng, gen.pick, gen.subject, gen.rules
	namespaces, users, groups := gen.namespaces, gen.users, gen.groups
	for round := range 200 {
		var objs Objects
		for i := range 4 {
			objs.ClusterRoles = append(objs.ClusterRoles, clusterRole(fmt.Sprintf("cr%d", i), role()...))
		}
		for _, ns := range namespaces {
			objs.Roles = append(objs.Roles, rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r"}, Rules: role()})
		}
		for i := range rng.IntN(4) {
			objs.ClusterRoleBindings = append(objs.ClusterRoleBindings, crb(fmt.Sprintf("crb%d", i), fmt.Sprintf("cr%d", rng.IntN(5)), subject(), subject()))
		}
		for i := range rng.IntN(12) {
			kind, name := "ClusterRole", fmt.Sprintf("cr%d", rng.IntN(4))
			if rng.IntN(2) == 0 {
				kind, name = "Role", "r"
			}
			objs.RoleBindings = append(objs.RoleBindings, rb(pick(namespaces), fmt.Sprintf("rb%d", i), kind, name, subject(), subject(), subject()))
		}
		s := NewIndex(objs)
		identities := []authorizer.UserInfo{engine.ServiceAccountUser("a", "default"), engine.ServiceAccountUser("b", "default")}
		for _, u := range users {
			identities = append(identities, authorizer.UserInfo{Name: u, Groups: []string{pick(groups), pick(groups)}})
		}
		for _, attrs := range gen.questions(identities) {
			allowed, reason, err := s.Authorize(context.Background(), attrs)
			wantAllowed, wantReason := scanAuthorize(s, attrs)
			if err != nil || allowed != wantAllowed || reason != wantReason {
				t.Fatalf("round %d, %+v: got %v %q %v, want %v %q", round, attrs, allowed, reason, err, wantAllowed, wantReason)
			}
		}
	}
}

// BenchmarkUseCheck compares a `use` question for a group bound in every
// one of 2,000 namespaces with the same question when one namespace binds
// it: the index makes both cost the same.
func BenchmarkUseCheck(b *testing.B) {
	const namespaces = 2000
	build := func(bound int) *Index {
		objs := Objects{ClusterRoles: []rbacv1.ClusterRole{clusterRole("psp:restricted", useRule([]string{"policy"}, pspList, []string{"restricted"}))}}
		for i := range bound {
			objs.RoleBindings = append(objs.RoleBindings, rb(fmt.Sprintf("ns-%04d", i), "psp", "ClusterRole", "psp:restricted",
				rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:authenticated"}))
		}
		return NewIndex(objs)
	}
	dev := authorizer.UserInfo{Name: "dev", Groups: []string{"system:authenticated"}}
	for _, c := range []struct {
		name      string
		snap      *Index
		namespace string
	}{
		{"single-binding", build(1), "ns-0000"},
		{"group-in-2000-namespaces", build(namespaces), "ns-1999"},
	} {
		for _, allowed := range []bool{true, false} {
			policy := "restricted"
			if !allowed {
				policy = "privileged"
			}
			attrs := use(dev, c.namespace, "policy", policy)
			b.Run(fmt.Sprintf("%s/allowed=%v", c.name, allowed), func(b *testing.B) {
				for b.Loop() {
					ok, _, _ := c.snap.Authorize(context.Background(), attrs)
					if ok != allowed {
						b.Fatalf("allowed %v, want %v", ok, allowed)
					}
				}
			})
		}
	}
}

// rbacWorld is the objects a sequence of changes has left, by key: the
// reference a Builder must match.
type rbacWorld struct {
	roles               map[string]rbacv1.Role
	clusterRoles        map[string]rbacv1.ClusterRole
	roleBindings        map[string]rbacv1.RoleBinding
	clusterRoleBindings map[string]rbacv1.ClusterRoleBinding
}

func (w rbacWorld) clone() rbacWorld {
	return rbacWorld{maps.Clone(w.roles), maps.Clone(w.clusterRoles), maps.Clone(w.roleBindings), maps.Clone(w.clusterRoleBindings)}
}

func (w rbacWorld) objects() Objects {
	var o Objects
	for _, k := range slices.Sorted(maps.Keys(w.roles)) {
		o.Roles = append(o.Roles, w.roles[k])
	}
	for _, k := range slices.Sorted(maps.Keys(w.clusterRoles)) {
		o.ClusterRoles = append(o.ClusterRoles, w.clusterRoles[k])
	}
	for _, k := range slices.Sorted(maps.Keys(w.roleBindings)) {
		o.RoleBindings = append(o.RoleBindings, w.roleBindings[k])
	}
	for _, k := range slices.Sorted(maps.Keys(w.clusterRoleBindings)) {
		o.ClusterRoleBindings = append(o.ClusterRoleBindings, w.clusterRoleBindings[k])
	}
	return o
}

// TestIncrementalEqualsFullBuild: a Builder changed one object at a time
// (adds, updates that change subjects, role references and rules, and
// deletes of every kind, aggregated ClusterRoles among them) publishes
// indexes that answer exactly as NewIndex of the same objects, reason
// and listing included; and an index published earlier keeps answering
// as the objects were when it was published, whatever changed after.
// Random sequences from a fixed seed.
func TestIncrementalEqualsFullBuild(t *testing.T) {
	gen := newRBACGen(rand.New(rand.NewPCG(14, 3)))
	rng, pick := gen.rng, gen.pick
	namespaces, users := gen.namespaces, gen.users
	subjects := func() []rbacv1.Subject {
		var out []rbacv1.Subject
		for range 1 + rng.IntN(3) {
			out = append(out, gen.subject())
		}
		return out
	}
	rules := func() []rbacv1.PolicyRule {
		if rng.IntN(6) == 0 {
			return nil // a role without rules
		}
		return gen.rules()
	}
	clusterRoleNames := []string{"cr0", "cr1", "cr2", "agg0", "agg1"}
	newClusterRole := func(name string) rbacv1.ClusterRole {
		r := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules()}
		if rng.IntN(2) == 0 {
			r.Labels = map[string]string{"aggregate": pick([]string{"0", "1"})}
		}
		if name[:3] == "agg" && rng.IntN(4) > 0 {
			r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"aggregate": name[3:]}}}}
		}
		return r
	}
	roleRef := func(namespaced bool) rbacv1.RoleRef {
		if namespaced && rng.IntN(3) == 0 {
			return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: pick([]string{"r0", "r1"})}
		}
		// Sometimes a role that is never created.
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: pick(append(clusterRoleNames, "missing"))}
	}
	identities := []authorizer.UserInfo{engine.ServiceAccountUser("a", "default"), engine.ServiceAccountUser("b", "default")}
	for _, u := range users {
		identities = append(identities, authorizer.UserInfo{Name: u, Groups: []string{"dev", "system:authenticated"}}, authorizer.UserInfo{Name: u, Groups: []string{"ops"}})
	}
	same := func(t *testing.T, what string, got, want *Index) {
		t.Helper()
		for _, attrs := range gen.questions(identities) {
			a1, r1, _ := got.Authorize(context.Background(), attrs)
			a2, r2, _ := want.Authorize(context.Background(), attrs)
			if a1 != a2 || r1 != r2 {
				t.Fatalf("%s: %+v: incremental %v %q, full build %v %q", what, attrs, a1, r1, a2, r2)
			}
		}
		if !reflect.DeepEqual(got.Bindings(), want.Bindings()) {
			t.Fatalf("%s: bindings differ:\nincremental %+v\nfull build  %+v", what, got.Bindings(), want.Bindings())
		}
		whoCan := use(authorizer.UserInfo{}, "a", "policy", "p1")
		if !reflect.DeepEqual(got.WhoCan(whoCan), want.WhoCan(whoCan)) {
			t.Fatalf("%s: WhoCan differs", what)
		}
		if got.BindingCount() != len(want.Bindings()) {
			t.Fatalf("%s: BindingCount %d, want %d", what, got.BindingCount(), len(want.Bindings()))
		}
	}

	const sequences, steps = 200, 80
	for seq := range sequences {
		x := NewBuilder()
		w := rbacWorld{map[string]rbacv1.Role{}, map[string]rbacv1.ClusterRole{}, map[string]rbacv1.RoleBinding{}, map[string]rbacv1.ClusterRoleBinding{}}
		type published struct {
			step int
			snap *Index
			w    rbacWorld
		}
		var kept []published
		for step := range steps {
			// Each object is given as a copy: the index keeps what it is
			// given, as it keeps an informer's objects.
			switch rng.IntN(8) {
			case 0:
				r := rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: pick(namespaces), Name: pick([]string{"r0", "r1"})}, Rules: rules()}
				w.roles[r.Namespace+"/"+r.Name] = r
				x.SetRole(r.DeepCopy())
			case 1:
				r := newClusterRole(pick(clusterRoleNames))
				w.clusterRoles[r.Name] = r
				x.SetClusterRole(r.DeepCopy())
			case 2, 3:
				b := rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: pick(namespaces), Name: pick([]string{"rb0", "rb1", "rb2", "rb3"})}, RoleRef: roleRef(true), Subjects: subjects()}
				w.roleBindings[b.Namespace+"/"+b.Name] = b
				x.SetRoleBinding(b.DeepCopy())
			case 4:
				b := rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: pick([]string{"crb0", "crb1", "crb2"})}, RoleRef: roleRef(rng.IntN(8) == 0), Subjects: subjects()}
				w.clusterRoleBindings[b.Name] = b
				x.SetClusterRoleBinding(b.DeepCopy())
			default: // delete something, present or not
				switch rng.IntN(4) {
				case 0:
					ns, name := pick(namespaces), pick([]string{"r0", "r1"})
					delete(w.roles, ns+"/"+name)
					x.DeleteRole(ns, name)
				case 1:
					name := pick(clusterRoleNames)
					delete(w.clusterRoles, name)
					x.DeleteClusterRole(name)
				case 2:
					ns, name := pick(namespaces), pick([]string{"rb0", "rb1", "rb2", "rb3"})
					delete(w.roleBindings, ns+"/"+name)
					x.DeleteRoleBinding(ns, name)
				default:
					name := pick([]string{"crb0", "crb1", "crb2"})
					delete(w.clusterRoleBindings, name)
					x.DeleteClusterRoleBinding(name)
				}
			}
			// Publish after some changes only, as the server does after a
			// burst settles: several changes then land in one generation.
			if rng.IntN(3) == 0 || step == steps-1 {
				snap := x.Index()
				same(t, fmt.Sprintf("sequence %d, step %d", seq, step), snap, NewIndex(w.objects()))
				kept = append(kept, published{step, snap, w.clone()})
			}
		}
		for _, p := range kept {
			same(t, fmt.Sprintf("sequence %d, snapshot of step %d after step %d", seq, p.step, steps-1), p.snap, NewIndex(p.w.objects()))
		}
	}
}

// BenchmarkIndexChange is one RoleBinding added, published and removed
// again at the scale test's largest size (20,000 bindings in 2,000
// namespaces, two groups bound in each): the cost of a change, against
// BenchmarkFullBuild's.
func BenchmarkIndexChange(b *testing.B) {
	objs := scaleObjects(500, 20000, 2000)
	x := NewBuilder()
	for i := range objs.ClusterRoles {
		x.SetClusterRole(&objs.ClusterRoles[i])
	}
	for i := range objs.RoleBindings {
		x.SetRoleBinding(&objs.RoleBindings[i])
	}
	x.Index()
	change := rb("ns-0000", "change", "ClusterRole", "use-p0250", rbacv1.Subject{Kind: rbacv1.UserKind, Name: "change"})
	for b.Loop() {
		x.SetRoleBinding(&change)
		x.Index()
		x.DeleteRoleBinding(change.Namespace, change.Name)
		x.Index()
	}
}

// BenchmarkFullBuild builds the same RBAC from scratch.
func BenchmarkFullBuild(b *testing.B) {
	objs := scaleObjects(500, 20000, 2000)
	for b.Loop() {
		NewIndex(objs)
	}
}

// scaleObjects is the scale test's RBAC (e2e/scale_test.go): a ClusterRole
// per policy, two groups bound in every namespace, users bound round-robin.
func scaleObjects(policies, bindings, namespaces int) Objects {
	var objs Objects
	for i := range policies {
		objs.ClusterRoles = append(objs.ClusterRoles, clusterRole(fmt.Sprintf("use-p%04d", i), useRule([]string{"policy.kube-psp.io"}, pspList, []string{fmt.Sprintf("p%04d", i)})))
	}
	for i := range namespaces {
		ns := fmt.Sprintf("ns-%04d", i)
		objs.RoleBindings = append(objs.RoleBindings,
			rb(ns, "first", "ClusterRole", "use-p0000", rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "first"}),
			rb(ns, "last", "ClusterRole", fmt.Sprintf("use-p%04d", policies-1), rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "last"}))
	}
	for j := range bindings - 2*namespaces {
		user := fmt.Sprintf("user-%05d", j)
		objs.RoleBindings = append(objs.RoleBindings, rb(fmt.Sprintf("ns-%04d", j%namespaces), user, "ClusterRole", fmt.Sprintf("use-p%04d", j%policies), rbacv1.Subject{Kind: rbacv1.UserKind, Name: user}))
	}
	return objs
}
