package rbac

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

func useRule(groups, resources, names []string, verbs ...string) rbacv1.PolicyRule {
	if len(verbs) == 0 {
		verbs = []string{"use"}
	}
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, ResourceNames: names, Verbs: verbs}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func crb(name, role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

func rb(ns, name, kind, role string, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role}, Subjects: subjects}
}

var (
	alice   = authorizer.UserInfo{Name: "alice", Groups: []string{"system:authenticated"}}
	appSA   = engine.ServiceAccountUser("app-test", "app")
	pspList = []string{"podsecuritypolicies"}
)

func use(user authorizer.UserInfo, ns, group, policy string) authorizer.Attributes {
	return authorizer.Attributes{User: user, Verb: "use", Namespace: ns, APIGroup: group, Resource: "podsecuritypolicies", Name: policy}
}

func TestAuthorize(t *testing.T) {
	objs := Objects{
		ClusterRoles: []rbacv1.ClusterRole{
			clusterRole("psp:example", useRule([]string{"policy"}, pspList, []string{"example"})),
			clusterRole("extensions-all", useRule([]string{"extensions"}, []string{"*"}, nil, "*")),
			clusterRole("all-policies", useRule([]string{"*"}, pspList, nil)),
			clusterRole("wrong-verb", useRule([]string{"policy"}, pspList, nil, "get", "list")),
		},
		Roles: []rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "psp-team"}, Rules: []rbacv1.PolicyRule{useRule([]string{"policy"}, pspList, []string{"team"})}}},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			// The seed article's binding.
			crb("psp:example:app:app-test", "psp:example", rbacv1.Subject{Kind: "ServiceAccount", Name: "app", Namespace: "app-test"}),
			crb("legacy", "extensions-all", rbacv1.Subject{Kind: "User", Name: "bob"}),
			crb("everyone-get", "wrong-verb", rbacv1.Subject{Kind: "Group", Name: "system:authenticated"}),
			// A ServiceAccount without namespace in a ClusterRoleBinding matches nobody.
			crb("sa-no-ns", "all-policies", rbacv1.Subject{Kind: "ServiceAccount", Name: "app"}),
		},
		RoleBindings: []rbacv1.RoleBinding{
			rb("team", "team-role", "Role", "psp-team", rbacv1.Subject{Kind: "Group", Name: "devs"}),
			rb("team", "team-cluster-role", "ClusterRole", "all-policies", rbacv1.Subject{Kind: "ServiceAccount", Name: "builder"}),
			rb("team", "dangling", "Role", "missing", rbacv1.Subject{Kind: "Group", Name: "system:authenticated"}),
		},
	}
	s := NewIndex(objs)
	tests := []struct {
		name  string
		attrs authorizer.Attributes
		want  bool
		why   string
	}{
		{"seed SA may use example", use(appSA, "app-test", "policy", "example"), true, `ClusterRoleBinding "psp:example:app:app-test" of ClusterRole "psp:example" to ServiceAccount "app-test/app"`},
		{"seed SA: resourceNames restrict", use(appSA, "app-test", "policy", "other"), false, ""},
		{"seed SA: group must match", use(appSA, "app-test", "extensions", "example"), false, ""},
		{"user not bound", use(alice, "app-test", "policy", "example"), false, ""},
		{"extensions wildcard grants every policy", use(authorizer.UserInfo{Name: "bob"}, "x", "extensions", "anything"), true, `to User "bob"`},
		{"extensions grant does not cover policy group", use(authorizer.UserInfo{Name: "bob"}, "x", "policy", "anything"), false, ""},
		{"wrong verb", use(alice, "x", "policy", "example"), false, ""},
		{"role binding in its namespace", use(authorizer.UserInfo{Name: "carol", Groups: []string{"devs"}}, "team", "policy", "team"), true, `RoleBinding "team/team-role" of Role "psp-team" to Group "devs"`},
		{"role binding not in other namespaces", use(authorizer.UserInfo{Name: "carol", Groups: []string{"devs"}}, "prod", "policy", "team"), false, ""},
		{"SA subject defaults to the binding's namespace", use(engine.ServiceAccountUser("team", "builder"), "team", "policy", "any"), true, `ServiceAccount "builder"`},
		{"same SA name elsewhere", use(engine.ServiceAccountUser("prod", "builder"), "team", "policy", "any"), false, ""},
		{"system:masters", use(authorizer.UserInfo{Name: "admin", Groups: []string{"system:masters"}}, "x", "policy", "p"), true, "system:masters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := s.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !strings.Contains(reason, tt.why) {
				t.Errorf("got %v %q, want %v containing %q", got, reason, tt.want, tt.why)
			}
		})
	}
	var dangling *Binding
	for i, b := range s.Bindings() {
		if b.Name == "dangling" {
			dangling = &s.Bindings()[i]
		}
	}
	if dangling == nil || !dangling.RoleMissing {
		t.Errorf("a binding to a missing role must be marked: %+v", dangling)
	}
}

func TestAggregation(t *testing.T) {
	labeled := clusterRole("psp-use-restricted", useRule([]string{"policy"}, pspList, []string{"restricted"}))
	labeled.Labels = map[string]string{"psp.example.com/aggregate-to-workloads": "true"}
	agg := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "workloads"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"psp.example.com/aggregate-to-workloads": "true"}}}},
		// Rules written in the file are replaced by the aggregation, as the controller does.
		Rules: []rbacv1.PolicyRule{useRule([]string{"policy"}, pspList, []string{"privileged"})},
	}
	// An aggregated role selecting an aggregated role.
	outer := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "outer"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"level": "inner"}}}}}
	agg.Labels = map[string]string{"level": "inner"}
	s := NewIndex(Objects{
		ClusterRoles: []rbacv1.ClusterRole{outer, agg, labeled},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			crb("b", "workloads", rbacv1.Subject{Kind: "User", Name: "alice"}),
			crb("c", "outer", rbacv1.Subject{Kind: "User", Name: "dave"}),
		},
	})
	for _, who := range []string{"alice", "dave"} {
		if ok, _, _ := s.Authorize(context.Background(), use(authorizer.UserInfo{Name: who}, "ns", "policy", "restricted")); !ok {
			t.Errorf("%s: aggregated rule not granted", who)
		}
		if ok, _, _ := s.Authorize(context.Background(), use(authorizer.UserInfo{Name: who}, "ns", "policy", "privileged")); ok {
			t.Errorf("%s: the aggregated role's own rules must be replaced", who)
		}
	}
}

// A RoleBinding without a namespace (only the exported API can make one:
// loaders give it the default namespace) grants nowhere, as AppliesIn and
// who-can say, never cluster-wide.
func TestRoleBindingWithoutNamespaceGrantsNowhere(t *testing.T) {
	s := NewIndex(Objects{
		ClusterRoles: []rbacv1.ClusterRole{clusterRole("all-policies", useRule([]string{"policy"}, pspList, nil))},
		RoleBindings: []rbacv1.RoleBinding{rb("", "no-namespace", "ClusterRole", "all-policies", rbacv1.Subject{Kind: "User", Name: "alice"})},
	})
	for _, ns := range []string{"prod", ""} {
		if ok, reason, err := s.Authorize(context.Background(), use(alice, ns, "policy", "privileged")); ok || err != nil {
			t.Errorf("namespace %q: allowed (%s, %v)", ns, reason, err)
		}
	}
}
