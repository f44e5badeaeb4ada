package loader

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	kindsPolicy = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n" +
		"spec: {runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n"
	kindsRBAC = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: use-p}\n" +
		"rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [p]}]\n"
)

// TestLoadPoliciesAndRBACKinds: --policies takes policies and --rbac RBAC;
// the other's kind is an error naming file, document, line and flag,
// unless the file is reached through both.
func TestLoadPoliciesAndRBACKinds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	policies := write("psp/policies.yaml", kindsPolicy)
	rbacFile := write("rbac/rbac.yaml", kindsRBAC)
	both := write("both/all.yaml", kindsPolicy+"---\n"+kindsRBAC)

	for _, tc := range []struct {
		name              string
		policies, rbac    []string
		wantErr           []string
		policiesN, rolesN int
	}{
		{name: "each in its place", policies: []string{policies}, rbac: []string{filepath.Join(dir, "rbac")}, policiesN: 1, rolesN: 1},
		// A path with nothing of its flag's kinds is one error (a wrong
		// directory of many objects is not one error per object), which
		// says where what it holds belongs.
		{name: "swapped", policies: []string{rbacFile}, rbac: []string{policies}, wantErr: []string{
			"no PodSecurityPolicy found in " + rbacFile + " (they hold: 1 ClusterRole); RBAC is given with --rbac",
		}},
		{name: "policies to both flags", policies: []string{policies}, rbac: []string{policies}, wantErr: []string{
			"no RBAC (Role, ClusterRole, RoleBinding or ClusterRoleBinding) found in " + policies + " (they hold: 1 PodSecurityPolicy)",
		}},
		{name: "policies to --rbac", policies: []string{both}, rbac: []string{policies}, wantErr: []string{
			"no RBAC (Role, ClusterRole, RoleBinding or ClusterRoleBinding) found in " + policies + " (they hold: 1 PodSecurityPolicy); PodSecurityPolicies are given with --policies",
		}},
		{name: "RBAC among the policies", policies: []string{both}, wantErr: []string{
			both + ` also holds RBAC (1 object), which --policies does not take; add --rbac ` + both,
		}},
		{name: "a policy among the RBAC", policies: []string{policies}, rbac: []string{both}, wantErr: []string{
			both + ` also holds 1 PodSecurityPolicy, which --rbac does not take; add --policies ` + both,
		}},
		{name: "one file to both flags", policies: []string{both}, rbac: []string{both}, policiesN: 1, rolesN: 1},
		// The file is reached through a directory and by name: the same file.
		{name: "directory and file", policies: []string{filepath.Join(dir, "both")}, rbac: []string{both}, policiesN: 1, rolesN: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := LoadPoliciesAndRBAC(tc.policies, tc.rbac, Options{})
			if tc.wantErr != nil {
				if err == nil || err.Error() != strings.Join(tc.wantErr, "\n") {
					t.Errorf("got %v\nwant %s", err, strings.Join(tc.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Policies) != tc.policiesN || len(res.RBAC.ClusterRoles) != tc.rolesN {
				t.Errorf("%d policies, %d ClusterRoles", len(res.Policies), len(res.RBAC.ClusterRoles))
			}
		})
	}
	// Load, for tools that read any kind (convert), takes both.
	if res, err := Load([]string{both}, Options{}); err != nil || len(res.Policies) != 1 || len(res.RBAC.ClusterRoles) != 1 {
		t.Errorf("Load: %v", err)
	}
}

// A path whose only candidate policy could not be read reports that
// document's error, not that the path holds no policy.
func TestUnreadableDocumentIsNotNothingFound(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mixed.yaml")
	data := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPoliciesAndRBAC([]string{file}, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "document 2") || strings.Contains(err.Error(), "no PodSecurityPolicy found") {
		t.Errorf("got %v; want the second document's YAML error", err)
	}
}
