package access

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/rbac"
)

func TestParseUseArgs(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		want, fail string
	}{
		{[]string{"use", "restricted"}, "restricted", ""},
		{[]string{"use", "podsecuritypolicy/example"}, "example", ""},
		{[]string{"use", "PSP/example"}, "example", ""},
		{[]string{"use", "podsecuritypolicies.policy/example"}, "example", ""},
		{[]string{"get", "example"}, "", `the only verb on policies is use, not "get"`},
		{[]string{"use", "pods/example"}, "", `"pods/example" is not a podsecuritypolicy`},
		{[]string{"use", "psp/"}, "", `no policy name in "psp/"`},
		{[]string{"use"}, "", "want 2 arguments: use POLICY"},
	} {
		got, err := ParseUseArgs(tc.args)
		if tc.fail != "" {
			if err == nil || err.Error() != tc.fail {
				t.Errorf("%v: got %q, %v; want error %q", tc.args, got, err, tc.fail)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: got %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestUnknownPolicy(t *testing.T) {
	policies := []*policyv1.PodSecurityPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}}
	if w := UnknownPolicy(policies, "a"); w != "" {
		t.Errorf("known: %q", w)
	}
	if w := UnknownPolicy(policies, "b"); w != `there is no policy "b"` {
		t.Errorf("unknown: %q", w)
	}
}

// index grants policy "p": to alice through a ClusterRole with rules in
// group policy and in extensions (every resource), to ServiceAccount
// team/app through a RoleBinding of a role in the CRD's group.
func index() *rbac.Index {
	return rbac.NewIndex(rbac.Objects{
		ClusterRoles: []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "use-p"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{"p"}},
			{APIGroups: []string{"extensions"}, Resources: []string{"*"}, Verbs: []string{"use"}},
		}}},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "alice-p"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "use-p"},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "alice"}}}},
		Roles: []rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "crd-p"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{policyv1.GroupName}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{"p"}},
		}}},
		RoleBindings: []rbacv1.RoleBinding{{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app-p"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "crd-p"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "app", Namespace: "team"}}}},
	})
}

// TestWhoCan: every grant, once per subject, binding and API group, in the
// order admission asks the groups; RoleBindings only in the namespace
// asked about.
func TestWhoCan(t *testing.T) {
	alice := func(group string) Grantee {
		return Grantee{Kind: "User", Name: "alice", Binding: "ClusterRoleBinding/alice-p", Role: "ClusterRole/use-p", APIGroup: group}
	}
	app := Grantee{Kind: "ServiceAccount", Name: "app", Namespace: "team", Binding: "RoleBinding/team/app-p", Role: "Role/crd-p", APIGroup: policyv1.GroupName}
	if got, want := WhoCan(index(), "", "p"), []Grantee{alice("policy"), alice("extensions"), app}; !reflect.DeepEqual(got, want) {
		t.Errorf("all namespaces:\ngot  %+v\nwant %+v", got, want)
	}
	if got, want := WhoCan(index(), "prod", "p"), []Grantee{alice("policy"), alice("extensions")}; !reflect.DeepEqual(got, want) {
		t.Errorf("namespace prod:\ngot  %+v\nwant %+v", got, want)
	}
	if got := WhoCan(index(), "", "q"); len(got) != 1 || got[0] != alice("extensions") {
		t.Errorf("policy q (the wildcard only): %+v", got)
	}

	var b bytes.Buffer
	if err := WriteTable(&b, WhoCan(index(), "", "p")); err != nil {
		t.Fatal(err)
	}
	want := `KIND            SUBJECT   BINDING                     ROLE               API GROUP
User            alice     ClusterRoleBinding/alice-p  ClusterRole/use-p  policy
User            alice     ClusterRoleBinding/alice-p  ClusterRole/use-p  extensions
ServiceAccount  team/app  RoleBinding/team/app-p      Role/crd-p         policy.kube-psp.io
3 grants; members of system:masters may use every policy
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	const none = `{
  "apiVersion": "report.kube-psp.io/v1alpha1",
  "kind": "WhoCanReport",
  "policy": "p",
  "items": []
}
`
	if err := WriteReport(&b, "json", "p", "", WhoCan(rbac.NewIndex(rbac.Objects{}), "", "p")); err != nil || b.String() != none {
		t.Errorf("no grantees as JSON: %q, %v", b.String(), err)
	}
}

func TestSubjectIdentity(t *testing.T) {
	alice := authorizer.Impersonate("alice", nil)
	for _, tc := range []struct {
		name      string
		subject   Subject
		namespace string
		want      authorizer.UserInfo
		wantNS    string
		fail      string
	}{
		{"user, default namespace", Subject{User: &alice}, "", alice, "default", ""},
		{"user in a namespace", Subject{User: &alice}, "team", alice, "team", ""},
		{"ServiceAccount: its namespace", Subject{ServiceAccount: "team:app"}, "",
			authorizer.UserInfo{Name: "system:serviceaccount:team:app", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team"}}, "team", ""},
		{"ServiceAccount, another namespace", Subject{ServiceAccount: "team:app"}, "prod",
			authorizer.UserInfo{Name: "system:serviceaccount:team:app", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team"}}, "prod", ""},
		{"both", Subject{User: &alice, ServiceAccount: "team:app"}, "", authorizer.UserInfo{}, "", "give --as or --serviceaccount, not both"},
		{"neither", Subject{}, "", authorizer.UserInfo{}, "", "give --as USER or --serviceaccount NAMESPACE:NAME"},
		{"malformed", Subject{ServiceAccount: "app"}, "", authorizer.UserInfo{}, "", `--serviceaccount must be NAMESPACE:NAME, not "app"`},
	} {
		got, ns, err := tc.subject.Identity(tc.namespace)
		if tc.fail != "" {
			if err == nil || err.Error() != tc.fail {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.fail)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) || ns != tc.wantNS {
			t.Errorf("%s: got %+v in %q, %v; want %+v in %q", tc.name, got, ns, err, tc.want, tc.wantNS)
		}
	}
}

func TestCanI(t *testing.T) {
	sa, _, _ := Subject{ServiceAccount: "team:app"}.Identity("")
	if ok, why := CanI(context.Background(), index(), sa, "team", "p"); !ok || !strings.HasSuffix(why, "(API group policy.kube-psp.io)") || !strings.Contains(why, "app-p") {
		t.Errorf("ServiceAccount in its namespace: %v, %q", ok, why)
	}
	if ok, why := CanI(context.Background(), index(), sa, "prod", "p"); ok || why != `no binding grants system:serviceaccount:team:app use of "p" in namespace "prod"` {
		t.Errorf("ServiceAccount elsewhere: %v, %q", ok, why)
	}
}
