package lint

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestGrantsUse(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rule        rbacv1.PolicyRule
		grants, all bool
	}{
		{"named", rbacv1.PolicyRule{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{"a"}}, true, false},
		{"unnamed", rbacv1.PolicyRule{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}}, true, true},
		{"extensions everything", rbacv1.PolicyRule{APIGroups: []string{"extensions"}, Resources: []string{"*"}, Verbs: []string{"*"}}, true, true},
		{"kube-psp group", rbacv1.PolicyRule{APIGroups: []string{"policy.kube-psp.io"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}}, true, true},
		{"wrong verb", rbacv1.PolicyRule{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"get"}}, false, false},
		{"other group", rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"*"}, Verbs: []string{"*"}}, false, false},
	} {
		grants, all, _ := grantsUse(tc.rule)
		if grants != tc.grants || all != tc.all {
			t.Errorf("%s: grants %v all %v", tc.name, grants, all)
		}
	}
}

func TestPermissions(t *testing.T) {
	p := &policyv1.PodSecurityPolicy{}
	if got := permissions(p); len(got) != 0 {
		t.Errorf("empty policy: %v", got)
	}
	p.Spec.Volumes = []policyv1.FSType{"hostPath"}
	p.Spec.AllowedHostPaths = []policyv1.AllowedHostPath{{PathPrefix: "/run/containerd"}}
	if got := permissions(p); !slices.Contains(got, "the container runtime's socket /run/containerd/containerd.sock") {
		t.Errorf("containerd socket: %v", got)
	}
	p.Spec.AllowedHostPaths[0].ReadOnly = true
	if got := permissions(p); len(got) != 1 {
		t.Errorf("a read-only mount of the socket still lets a process connect to it: %v", got)
	}
	p.Spec.AllowedHostPaths = []policyv1.AllowedHostPath{{PathPrefix: "/"}}
	if got := permissions(p); !slices.Equal(got, []string{`host path "/"`}) {
		t.Errorf("root: %v", got)
	}
	if _, err := ParseSeverity("loud"); err == nil {
		t.Error("bad severity accepted")
	}
}
