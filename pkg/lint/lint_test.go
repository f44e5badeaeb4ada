package lint

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/rbac"
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

// The built-in restricted policy carries the Kubernetes documentation's
// seccomp annotations, which v1.24's behaviour left without effect on v1.27+.
func TestSeccompAnnotationsOnly(t *testing.T) {
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	set, err := engine.NewPolicySet(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range Lint(res, set, rbac.NewSnapshot(res.RBAC)) {
		if f.Rule == "seccomp-annotations-only" {
			found = append(found, f.Object+": "+f.Message)
		}
	}
	want := `PodSecurityPolicy "restricted": under v1.24's behaviour on Kubernetes v1.27+, where the kubelet reads only the seccompProfile fields, ` +
		"the default profile runtime/default was written only as the pod annotation, so pods without a seccompProfile field ran Unconfined; " +
		"and the allowed profiles docker/default,runtime/default were checked on annotations, so a pod naming one in an annotation alone was admitted and ran Unconfined (kube-psp sets and checks the fields)"
	if !slices.Equal(found, []string{want}) {
		t.Errorf("findings:\n got  %q\n want %q", found, want)
	}
}
