// Package presets holds kube-psp's built-in policies: the restricted policy
// and EKS's eks.privileged from the seed articles, and the Pod Security
// Standards baseline expressed as a PodSecurityPolicy. A preset loads all
// three and grants `use` of one of them to every authenticated user, as
// EKS's eks:podsecuritypolicy:authenticated binding does for eks.privileged.
package presets

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

//go:embed restricted.yaml baseline.yaml privileged.yaml
var files embed.FS

// Names are the presets, in order of increasing permission. "eks" is
// "privileged" with EKS's own role and binding names.
var Names = []string{"restricted", "baseline", "privileged", "eks"}

// policyOf is the policy each preset grants.
var policyOf = map[string]string{"restricted": "restricted", "baseline": "baseline", "privileged": "eks.privileged", "eks": "eks.privileged"}

// sourcePrefix starts the file name of the built-in policies' sources.
const sourcePrefix = "built-in "

// IsBuiltIn reports whether src is a built-in policy's: no file a user has.
func IsBuiltIn(src yamlfile.Position) bool { return strings.HasPrefix(src.File, sourcePrefix) }

// Load returns the built-in policies and RBAC that grants the preset's policy
// to system:authenticated.
func Load(preset string) (*loader.PoliciesAndRBAC, error) {
	policy, ok := policyOf[preset]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q (want one of %s)", preset, strings.Join(Names, ", "))
	}
	res := &loader.PoliciesAndRBAC{}
	for _, name := range []string{"restricted.yaml", "baseline.yaml", "privileged.yaml"} {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("built-in %s: %w", name, err)
		}
		r, err := loader.LoadReader(sourcePrefix+name, strings.NewReader(string(data)), loader.Options{Strict: true})
		if err != nil {
			return nil, fmt.Errorf("built-in policies: %w", err)
		}
		res.Add(r)
	}
	role, binding := "psp:"+policy, "psp:"+policy+":authenticated"
	if preset == "eks" {
		role, binding = "eks:podsecuritypolicy:privileged", "eks:podsecuritypolicy:authenticated"
	}
	res.RBAC.ClusterRoles = []rbacv1.ClusterRole{{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		Rules:      []rbacv1.PolicyRule{engine.UseRule(policy)},
	}}
	res.RBAC.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{{
		ObjectMeta: metav1.ObjectMeta{Name: binding},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
	}}
	return res, nil
}

// WriteFiles writes a preset's policies and RBAC as YAML files into dir
// (policies.yaml, rbac.yaml), for a server that reads files.
func WriteFiles(preset, dir string) (policyFile, rbacFile string, err error) {
	res, err := Load(preset)
	if err != nil {
		return "", "", err
	}
	var policies []byte
	for _, name := range []string{"restricted.yaml", "baseline.yaml", "privileged.yaml"} {
		data, err := files.ReadFile(name)
		if err != nil {
			return "", "", err
		}
		policies = append(append(policies, "---\n"...), data...)
	}
	var rbac []byte
	for _, obj := range []any{
		&rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: res.RBAC.ClusterRoles[0].ObjectMeta, Rules: res.RBAC.ClusterRoles[0].Rules},
		&rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: res.RBAC.ClusterRoleBindings[0].ObjectMeta, RoleRef: res.RBAC.ClusterRoleBindings[0].RoleRef, Subjects: res.RBAC.ClusterRoleBindings[0].Subjects},
	} {
		data, err := yaml.Marshal(obj)
		if err != nil {
			return "", "", err
		}
		rbac = append(append(rbac, "---\n"...), data...)
	}
	policyFile, rbacFile = filepath.Join(dir, "policies.yaml"), filepath.Join(dir, "rbac.yaml")
	if err := os.WriteFile(policyFile, policies, 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(rbacFile, rbac, 0o644); err != nil {
		return "", "", err
	}
	return policyFile, rbacFile, nil
}
