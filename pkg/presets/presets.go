// Package presets holds kube-psp's built-in policies: the restricted policy
// and EKS's eks.privileged from the seed articles, and the Pod Security
// Standards baseline expressed as a PodSecurityPolicy. A preset loads all
// three and grants `use` of one of them to every authenticated user, as
// EKS's eks:podsecuritypolicy:authenticated binding does for eks.privileged.
package presets

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/pkg/loader"
)

//go:embed restricted.yaml baseline.yaml privileged.yaml
var files embed.FS

// Names are the presets, in order of increasing permission.
var Names = []string{"restricted", "baseline", "privileged"}

// policyOf is the policy each preset grants.
var policyOf = map[string]string{"restricted": "restricted", "baseline": "baseline", "privileged": "eks.privileged"}

// Load returns the built-in policies and RBAC that grants the preset's policy
// to system:authenticated.
func Load(preset string) (*loader.Result, error) {
	policy, ok := policyOf[preset]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q (want one of %s)", preset, strings.Join(Names, ", "))
	}
	res := &loader.Result{PolicySources: map[string]loader.Source{}}
	for _, name := range []string{"restricted.yaml", "baseline.yaml", "privileged.yaml"} {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("built-in %s: %w", name, err)
		}
		r, err := loader.LoadReader("built-in "+name, strings.NewReader(string(data)), loader.Options{Strict: true})
		if err != nil {
			return nil, fmt.Errorf("built-in policies: %w", err)
		}
		res.Policies = append(res.Policies, r.Policies...)
		for k, v := range r.PolicySources {
			res.PolicySources[k] = v
		}
	}
	role := "psp:" + policy
	res.RBAC.ClusterRoles = []rbacv1.ClusterRole{{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"},
			Verbs: []string{"use"}, ResourceNames: []string{policy}}},
	}}
	res.RBAC.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{{
		ObjectMeta: metav1.ObjectMeta{Name: role + ":authenticated"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
	}}
	return res, nil
}

// IsPreset reports whether name is a preset.
func IsPreset(name string) bool { return slices.Contains(Names, name) }
