package loader

import (
	"strings"
	"testing"
)

// TestDuplicateFieldsRefused: a field given twice in a policy or RBAC
// object is an error with the file line of both occurrences and the field's
// path, in strict mode or not, in YAML and JSON, in a List too; the last
// value does not silently win.
func TestDuplicateFieldsRefused(t *testing.T) {
	const policyRules = "  runAsUser: {rule: RunAsAny}\n  seLinux: {rule: RunAsAny}\n  supplementalGroups: {rule: RunAsAny}\n  fsGroup: {rule: RunAsAny}\n"
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"policy YAML, second document", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec:\n  privileged: false\n" + policyRules + "  privileged: true\n",
			[]string{`x.yaml: document 2 (line 5): PodSecurityPolicy "p": line 14: duplicate field "spec.privileged" (first set at line 9)`}},
		{"policy YAML, quoted key", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec:\n  hostPID: false\n" + policyRules + "  \"hostPID\": true\n",
			[]string{`line 10: duplicate field "spec.hostPID" (first set at line 5)`}},
		{"policy JSON", "{\n  \"apiVersion\": \"policy/v1beta1\",\n  \"kind\": \"PodSecurityPolicy\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\n    \"privileged\": false,\n" +
			"    \"runAsUser\": {\"rule\": \"RunAsAny\"}, \"seLinux\": {\"rule\": \"RunAsAny\"}, \"supplementalGroups\": {\"rule\": \"RunAsAny\"}, \"fsGroup\": {\"rule\": \"RunAsAny\"},\n    \"privileged\": true\n  }\n}\n",
			[]string{`x.yaml: document 1 (line 1): PodSecurityPolicy "p": line 8: duplicate field "spec.privileged" (first set at line 6)`}},
		{"ClusterRole YAML, in a rule", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- apiGroups: [policy]\n  resources: [podsecuritypolicies]\n  resourceNames: [restricted]\n  verbs: [use]\n  resourceNames: [privileged]\n",
			[]string{`ClusterRole "r": line 9: duplicate field "rules[0].resourceNames" (first set at line 7)`}},
		{"RoleBinding JSON, subject", "{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"RoleBinding\", \"metadata\": {\"name\": \"b\", \"namespace\": \"n\"},\n" +
			"\"roleRef\": {\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"Role\", \"name\": \"use\"},\n\"subjects\": [{\"kind\": \"Group\", \"name\": \"team\",\n \"name\": \"system:authenticated\"}]}\n",
			[]string{`RoleBinding "b": line 4: duplicate field "subjects[0].name" (first set at line 3)`}},
		{"in a List", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: policy/v1beta1\n  kind: PodSecurityPolicy\n  metadata: {name: p}\n  spec:\n    privileged: false\n    privileged: true\n",
			[]string{`List "": line 9: duplicate field "items[0].spec.privileged" (first set at line 8)`}},
		{"every duplicate", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p, name: q}\nspec:\n  privileged: false\n  privileged: true\n  privileged: false\n",
			[]string{`line 3: duplicate field "metadata.name" (first set at line 3)`, `line 6: duplicate field "spec.privileged" (first set at line 5)`, `line 7: duplicate field "spec.privileged" (first set at line 5)`}},
	}
	for _, tc := range tests {
		for _, strict := range []bool{false, true} {
			_, err := LoadReader("x.yaml", strings.NewReader(tc.doc), Options{Strict: strict})
			if err == nil {
				t.Errorf("%s (strict %v): loaded", tc.name, strict)
				continue
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s (strict %v): error lacks %q:\n%v", tc.name, strict, want, err)
				}
			}
		}
	}
}

// TestDuplicateFieldsNotInOtherKinds: other kinds are skipped, and a merge
// key's values may be overridden.
func TestDuplicateFieldsNotInOtherKinds(t *testing.T) {
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b, a: c}\n---\n" +
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  labels: &l {team: a}\n  annotations:\n    <<: *l\n    team: b\nrules: []\n"
	res, err := LoadReader("x.yaml", strings.NewReader(doc), Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RBAC.ClusterRoles) != 1 || res.RBAC.ClusterRoles[0].Annotations["team"] != "b" {
		t.Errorf("got %+v", res.RBAC.ClusterRoles)
	}
}
