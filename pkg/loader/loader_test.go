package loader

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadTree(t *testing.T) {
	res, err := Load([]string{"testdata/tree"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.Policies {
		names = append(names, p.Name)
		if p.APIVersion != "policy.kube-psp.io/v1" || p.Spec.AllowPrivilegeEscalation == nil {
			t.Errorf("%s: not normalized and defaulted: %s %v", p.Name, p.APIVersion, p.Spec.AllowPrivilegeEscalation)
		}
	}
	if !slices.Equal(names, []string{"restricted", "legacy"}) {
		t.Errorf("policies = %v", names)
	}
	if src := res.PolicySources["legacy"]; src.File != filepath.Join("testdata", "tree", "policies.yaml") || src.Document != 2 || src.Line != 20 {
		t.Errorf("source of legacy = %+v", src)
	}
	if len(res.RBAC.ClusterRoles) != 1 || len(res.RBAC.ClusterRoleBindings) != 1 || len(res.RBAC.RoleBindings) != 1 {
		t.Errorf("rbac = %+v", res.RBAC)
	}
	if res.RBAC.RoleBindings[0].Namespace != "default" {
		t.Errorf("a RoleBinding without namespace goes to default, as kubectl: %q", res.RBAC.RoleBindings[0].Namespace)
	}
	warnings := strings.Join(res.Warnings, "\n")
	for _, want := range []string{`policies.yaml: skipping 1 ConfigMap: an object that is not PodSecurityPolicy or RBAC`, `RoleBinding "nons" has no namespace`} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		opts      Options
		want      string
	}{
		{"invalid policy names file, document and field", "kind: ConfigMap\napiVersion: v1\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec:\n  runAsUser: {rule: Sometimes}\n  seLinux: {rule: RunAsAny}\n  supplementalGroups: {rule: RunAsAny}\n  fsGroup: {rule: RunAsAny}\n",
			Options{}, `x.yaml: document 2 (line 4): PodSecurityPolicy "p" is invalid: spec.runAsUser.rule: Unsupported value: "Sometimes"`},
		{"wrong type", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {privileged: \"yes\"}\n",
			Options{}, `x.yaml: document 1 (line 1): PodSecurityPolicy: cannot unmarshal string into Go struct field PodSecurityPolicySpec.spec.privileged of type bool`},
		{"unknown field strict", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {runAsUsr: {rule: RunAsAny}}\n",
			Options{Strict: true}, `unknown field "spec.runAsUsr"`},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", Options{}, "x.yaml: document 1 (line 1): object has no kind"},
		{"unsupported version", "apiVersion: policy/v1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n", Options{}, "apiVersion policy/v1 is not supported"},
		{"not yaml", "a: [b\n", Options{}, "not a valid YAML or JSON object"},
		{"duplicate", strings.Repeat("apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n---\n", 2),
			Options{}, `x.yaml: document 2 (line 6): PodSecurityPolicy "p" is already defined at x.yaml: document 1 (line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := LoadReader("x.yaml", strings.NewReader(tt.doc), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if res != nil {
				t.Error("a failed load must return nothing")
			}
		})
	}
}

// TestUnknownFields: an unknown field names the file, document, the
// field's own line, the object and a likely intended field. Under a
// policy's spec it is an error, strict or not (a misspelt restriction is a
// missing one); elsewhere a warning, or an error with Strict.
func TestUnknownFields(t *testing.T) {
	const in = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: typo
  labelz: {a: b}
spec:
  privileged: false
  allowPrivilegeEscalaton: false
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules:
- apiGroups: [policy]
  resource: [podsecuritypolicies]
  verbs: [use]
`
	_, err := LoadReader("typo.yaml", strings.NewReader(in), Options{})
	want := `typo.yaml: document 1 (line 1): PodSecurityPolicy "typo": unknown field "spec.allowPrivilegeEscalaton" (line 8): refused, as a misspelt field would be a restriction silently missing (no spec field is newer than kube-psp: the API is frozen at Kubernetes v1.24); did you mean "allowPrivilegeEscalation"?`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}

	fixed := strings.Replace(in, "allowPrivilegeEscalaton", "allowPrivilegeEscalation", 1)
	res, err := LoadReader("typo.yaml", strings.NewReader(fixed), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantWarnings := []string{
		`typo.yaml: document 1 (line 1): PodSecurityPolicy "typo": unknown field "metadata.labelz" (line 5): ignored, as the Kubernetes v1.24 apiserver did; did you mean "labels"?`,
		`typo.yaml: document 2 (line 14): ClusterRole "r": unknown field "rules[0].resource" (line 19): ignored, as the Kubernetes v1.24 apiserver did; did you mean "resources"?`,
	}
	if strings.Join(res.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(res.Warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}

	_, err = LoadReader("typo.yaml", strings.NewReader(fixed), Options{Strict: true})
	wantStrict := `typo.yaml: document 1 (line 1): PodSecurityPolicy "typo": unknown field "metadata.labelz" (line 5); did you mean "labels"?
typo.yaml: document 2 (line 14): ClusterRole "r": unknown field "rules[0].resource" (line 19); did you mean "resources"?`
	if err == nil || err.Error() != wantStrict {
		t.Errorf("strict: got %v\nwant %s", err, wantStrict)
	}
}

func TestSymlinkedFilesAreRead(t *testing.T) {
	// A ConfigMap volume: dir/policies.yaml -> ..data/policies.yaml, ..data -> ..2024_01_01.
	dir := t.TempDir()
	real := filepath.Join(dir, "..2024_01_01")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/tree/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "policies.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..2024_01_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", "policies.yaml"), filepath.Join(dir, "policies.yaml")); err != nil {
		t.Fatal(err)
	}
	res, err := Load([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 2 {
		t.Errorf("got %d policies, want 2 (read once, through the link)", len(res.Policies))
	}
}

func TestLoadMissingPath(t *testing.T) {
	if _, err := Load([]string{"testdata/nope"}, Options{}); err == nil || !strings.Contains(err.Error(), "testdata/nope") {
		t.Errorf("got %v", err)
	}
}

func FuzzLoadReader(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}, hostPorts: [{min: 1, max: 2}]}\n",
		`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"}}]}`,
		"---\n---\n",
		"kind: RoleBinding\napiVersion: rbac.authorization.k8s.io/v1\nroleRef: 5\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		res, err := LoadReader("fuzz.yaml", strings.NewReader(doc), Options{})
		if err == nil && res == nil {
			t.Fatal("no result and no error")
		}
		if err != nil && res != nil {
			t.Fatal("a result with an error")
		}
		if err == nil {
			for _, p := range res.Policies {
				if p.Spec.AllowPrivilegeEscalation == nil {
					t.Fatal("loaded policy without defaults")
				}
			}
		}
	})
}

func TestExtensionFieldsNeedKubePSPVersion(t *testing.T) {
	spec := "spec: {requireUserNamespace: true, volumes: [image], runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n"
	if _, err := LoadReader("x.yaml", strings.NewReader("apiVersion: policy.kube-psp.io/v1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n"+spec), Options{Strict: true}); err != nil {
		t.Errorf("policy.kube-psp.io/v1: %v", err)
	}
	_, err := LoadReader("x.yaml", strings.NewReader("apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n"+spec), Options{})
	if err == nil || !strings.Contains(err.Error(), `spec.volumes: Unsupported value: "image"`) ||
		!strings.Contains(err.Error(), "spec.requireUserNamespace: Forbidden: requires apiVersion policy.kube-psp.io/v1") {
		t.Errorf("policy/v1beta1: %v", err)
	}
}

// A --policies or --rbac path that holds none of its kind is an error that
// says what the path holds, not an empty set that denies every pod.
func TestLoadPoliciesAndRBACNothingFound(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	apps := write("apps/apps.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n")
	rbacFile := write("rbac/rbac.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n")
	policyFile := write("policies/p.yaml", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n")
	tests := []struct {
		name            string
		policies, rbacs []string
		want            string
	}{
		{"empty policies directory", []string{empty}, []string{rbacFile}, "no PodSecurityPolicy found in " + empty + ": no .yaml, .yml or .json file there"},
		{"empty rbac directory", []string{policyFile}, []string{empty}, "no RBAC (Role, ClusterRole, RoleBinding or ClusterRoleBinding) found in " + empty + ": no .yaml, .yml or .json file there"},
		{"policies path of other kinds", []string{filepath.Dir(apps)}, []string{rbacFile}, "no PodSecurityPolicy found in " + filepath.Dir(apps) + " (they hold: 2 Deployments, 1 NetworkPolicy, 1 ServiceAccount)"},
		{"rbac path of other kinds", []string{policyFile}, []string{apps}, "(they hold: 2 Deployments, 1 NetworkPolicy, 1 ServiceAccount)"},
		{"empty file", []string{write("blank.yaml", "# nothing\n")}, []string{rbacFile}, "its file holds no objects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := LoadPoliciesAndRBAC(tt.policies, tt.rbacs, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if res != nil {
				t.Error("a failed load must return nothing")
			}
		})
	}
	// One directory given to both flags may hold only one of the kinds'
	// objects as long as each flag finds its own somewhere.
	if _, err := LoadPoliciesAndRBAC([]string{policyFile}, []string{rbacFile}, Options{}); err != nil {
		t.Errorf("policies and RBAC in their own paths: %v", err)
	}
	// Other kinds in a policy file: one warning for the file.
	mixed := write("mixed/m.yaml", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n---\n"+
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: j}\n")
	res, err := LoadPoliciesAndRBAC([]string{mixed}, []string{rbacFile}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{mixed + ": skipping 2 Deployments, 2 Ingresses: objects that are not PodSecurityPolicy or RBAC"}; !slices.Equal(res.Warnings, want) {
		t.Errorf("warnings = %q, want %q", res.Warnings, want)
	}
}

func TestKindCounts(t *testing.T) {
	got := kindCounts(map[string]int{"Deployment": 3, "NetworkPolicy": 2, "Ingress": 2, "Endpoints": 2, "Gateway": 2, "Service": 1, "ConfigMap": 1, "Secret": 4})
	want := "4 Secrets, 3 Deployments, 2 Endpoints, 2 Gateways, 2 Ingresses, 4 other objects"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := kindCount(2, "NetworkPolicy"); got != "2 NetworkPolicies" {
		t.Errorf("got %s", got)
	}
}
