package lint

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
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
	for _, f := range Lint(res, set, rbac.NewIndex(res.RBAC)) {
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

// lintYAML lints policies and RBAC given as one YAML stream.
func lintYAML(t *testing.T, data string) []Finding {
	t.Helper()
	res, err := loader.LoadReader("in.yaml", strings.NewReader(data), loader.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	set, err := engine.NewPolicySet(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	return Lint(res, set, rbac.NewIndex(res.RBAC))
}

const lintPolicies = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: privileged}
spec: {privileged: true, runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}, volumes: ['*']}
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
spec: {runAsUser: {rule: MustRunAsNonRoot}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp-restricted}
rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [restricted]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: psp-restricted}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp-restricted}
subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: system:serviceaccounts}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: extensions-admin, namespace: app}
rules: [{apiGroups: [extensions], resources: ['*'], verbs: ['*']}]
`

// TestWildcardGrant is the classic extensions pitfall: all verbs on all
// resources in extensions, bound to a workload's ServiceAccount, silently
// grants every policy.
func TestWildcardGrant(t *testing.T) {
	bound := lintPolicies + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-extensions, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extensions-admin}
subjects: [{kind: ServiceAccount, name: web}]
`
	namedToo := bound + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-privileged, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp-privileged}
subjects: [{kind: ServiceAccount, name: web}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp-privileged}
rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [privileged]}]
`
	// The same rule in another, unbound Role is only a warning there.
	twin := bound + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: extensions-admin, namespace: other}
rules: [{apiGroups: [extensions], resources: ['*'], verbs: ['*']}]
`
	otherNamespace := strings.Replace(namedToo, "metadata: {name: web-privileged, namespace: app}", "metadata: {name: web-privileged, namespace: other}", 1)
	aggregated := lintPolicies + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: edit-all}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {psp: all}}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp-all, labels: {psp: all}}
rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-edit, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit-all}
subjects: [{kind: ServiceAccount, name: web}]
`
	const role = `Role "app/extensions-admin"`
	for _, tc := range []struct {
		name, yaml, object string
		sev                Severity
		msg                string
	}{
		{"bound to a ServiceAccount", bound, role, Error,
			`grants use of every PodSecurityPolicy (no resourceNames, verbs "*", resources "*" in the legacy extensions group, where podsecuritypolicies also live); through RoleBinding "app/web-extensions" it lets ServiceAccount app/web use "privileged", which no rule grants it by name`},
		{"not bound", lintPolicies, role, Warning, "whoever it is bound to may use any policy created later"},
		{"every policy also granted by name", namedToo, role, Warning, "whoever it is bound to may use any policy created later"},
		{"granted by name in another namespace only", otherNamespace, role, Error, `it lets ServiceAccount app/web use "privileged"`},
		{"the same rule in another Role, bound", twin, role, Error, `through RoleBinding "app/web-extensions"`},
		{"the same rule in another Role, unbound", twin, `Role "other/extensions-admin"`, Warning, "whoever it is bound to may use any policy created later"},
		{"through an aggregated ClusterRole", aggregated, `ClusterRole "psp-all"`, Error, `through RoleBinding "app/web-edit" it lets ServiceAccount app/web use "privileged"`},
		{"an aggregated ClusterRole's binding is not the Role's", aggregated, role, Warning, "whoever it is bound to may use any policy created later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []Finding
			for _, f := range lintYAML(t, tc.yaml) {
				if f.Rule == "wildcard-grant" && f.Object == tc.object {
					got = append(got, f)
				}
			}
			if len(got) != 1 || got[0].Severity != tc.sev || !strings.Contains(got[0].Message, tc.msg) {
				t.Fatalf("got %+v; want one %v finding on %s saying %q", got, tc.sev, tc.object, tc.msg)
			}
			if strings.Count(got[0].Message, `resources "*"`) > 1 {
				t.Errorf("the message repeats itself: %s", got[0].Message)
			}
			if !strings.Contains(got[0].Fix, "apiGroups [policy, policy.kube-psp.io]") {
				t.Errorf("fix grants in a group kubectl auth can-i does not ask: %s", got[0].Fix)
			}
		})
	}
}

// TestSARIFLocations: a finding in a user's file is at the file; one about
// a built-in policy or an object read from no file is at the object (a
// logical location), not at a file that does not exist.
func TestSARIFLocations(t *testing.T) {
	var out strings.Builder
	err := WriteSARIF(&out, []Finding{
		{Rule: "dangerous-policy", Severity: Warning, Object: `PodSecurityPolicy "a"`, Source: yamlfile.Position{File: "psp/a.yaml", Document: 1, Line: 1}},
		{Rule: "dangerous-policy", Severity: Warning, Object: `PodSecurityPolicy "eks.privileged"`, Source: yamlfile.Position{File: "built-in privileged.yaml", Document: 1, Line: 1}},
		{Rule: "unused-policy", Severity: Info, Object: `ClusterRole "r"`},
	})
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Locations []map[string]any `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out.String()), &log); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range log.Runs[0].Results {
		for k := range r.Locations[0] {
			got = append(got, k)
		}
	}
	if want := []string{"physicalLocation", "logicalLocations", "logicalLocations"}; !slices.Equal(got, want) {
		t.Errorf("locations %q, want %q", got, want)
	}
}
