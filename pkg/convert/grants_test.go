package convert

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/pkg/rbac"
)

func TestCRDGroupGrants(t *testing.T) {
	rule := func(groups, resources, verbs []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs, ResourceNames: []string{"example"}}
	}
	psp, use := []string{"podsecuritypolicies"}, []string{"use"}
	objs := rbac.Objects{
		ClusterRoles: []rbacv1.ClusterRole{
			{ObjectMeta: metav1.ObjectMeta{Name: "old", ResourceVersion: "7", UID: "u",
				Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}", "owner": "team"}},
				Rules: []rbacv1.PolicyRule{rule([]string{"policy"}, psp, use), rule([]string{""}, []string{"pods"}, []string{"get"})}},
			{ObjectMeta: metav1.ObjectMeta{Name: "extensions-wildcards"}, Rules: []rbacv1.PolicyRule{rule([]string{"extensions"}, []string{"*"}, []string{"*"})}},
			{ObjectMeta: metav1.ObjectMeta{Name: "already"}, Rules: []rbacv1.PolicyRule{rule([]string{"policy", "policy.kube-psp.io"}, psp, use)}},
			{ObjectMeta: metav1.ObjectMeta{Name: "all-groups"}, Rules: []rbacv1.PolicyRule{rule([]string{"*"}, psp, use)}},
			{ObjectMeta: metav1.ObjectMeta{Name: "read-only"}, Rules: []rbacv1.PolicyRule{rule([]string{"policy"}, psp, []string{"get", "list"})}},
			{ObjectMeta: metav1.ObjectMeta{Name: "aggregated"}, AggregationRule: &rbacv1.AggregationRule{},
				Rules: []rbacv1.PolicyRule{rule([]string{"policy"}, psp, use)}},
		},
		Roles: []rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "psp"}, Rules: []rbacv1.PolicyRule{rule([]string{"policy"}, psp, use)}}},
	}
	got := CRDGroupGrants(objs)
	var names []string
	for _, r := range got.ClusterRoles {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"old", "extensions-wildcards"}) || len(got.Roles) != 1 || got.Roles[0].Namespace != "team" {
		t.Fatalf("changed: cluster roles %v, roles %+v", names, got.Roles)
	}
	old := got.ClusterRoles[0]
	if !slices.Equal(old.Rules[0].APIGroups, []string{"policy", "policy.kube-psp.io"}) || !slices.Equal(old.Rules[1].APIGroups, []string{""}) {
		t.Errorf("rules: %+v", old.Rules)
	}
	if old.ResourceVersion != "" || old.UID != "" || old.Annotations["owner"] != "team" || len(old.Annotations) != 1 {
		t.Errorf("metadata kept: %+v", old.ObjectMeta)
	}
	// The input is not modified.
	if len(objs.ClusterRoles[0].Rules[0].APIGroups) != 1 {
		t.Error("input changed")
	}
	if got := CRDGroupGrants(rbac.Objects{ClusterRoles: got.ClusterRoles}); len(got.ClusterRoles) != 0 {
		t.Errorf("converting twice changes again: %+v", got.ClusterRoles)
	}
}
