package rbac

import (
	"context"
	"fmt"
	"math/rand/v2"
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
	for i := range s.bindings {
		b := &s.bindings[i]
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

// TestIndexMatchesScan: the subject-and-namespace index answers as a scan
// of every binding would, reason included, on random RBAC.
func TestIndexMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	namespaces := []string{"a", "b", "c", "d"}
	users := []string{"alice", "bob", "carol"}
	groups := []string{"dev", "ops", "system:authenticated", "system:serviceaccounts", "system:serviceaccounts:a"}
	policies := []string{"p1", "p2", "p3"}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	subject := func() rbacv1.Subject {
		switch rng.IntN(4) {
		case 0:
			return rbacv1.Subject{Kind: rbacv1.UserKind, Name: pick(users)}
		case 1:
			return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: pick(groups)}
		case 2:
			return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default"}
		}
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: pick(namespaces)}
	}
	role := func() []rbacv1.PolicyRule {
		var names []string
		if rng.IntN(3) > 0 {
			names = []string{pick(policies)}
		}
		return []rbacv1.PolicyRule{useRule([]string{pick([]string{"policy", "extensions", "*"})}, pspList, names)}
	}
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
		for _, id := range identities {
			for _, ns := range append(namespaces, "") {
				for _, g := range []string{"policy", "extensions"} {
					for _, p := range policies {
						attrs := use(id, ns, g, p)
						allowed, reason, err := s.Authorize(context.Background(), attrs)
						wantAllowed, wantReason := scanAuthorize(s, attrs)
						if err != nil || allowed != wantAllowed || reason != wantReason {
							t.Fatalf("round %d, %+v: got %v %q %v, want %v %q", round, attrs, allowed, reason, err, wantAllowed, wantReason)
						}
					}
				}
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
