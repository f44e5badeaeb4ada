// Package scenario generates the admission benchmark scenarios as YAML
// text, so that kube-psp's benchmarks and the v1.24 plugin's (in the
// separate bench module, which cannot link kube-psp's k8s.io/api) decide the
// very same pods against the very same policies and RBAC. It imports only
// the standard library for that reason.
package scenario

import (
	"fmt"
	"strings"
)

// Scenario is one benchmark input.
type Scenario struct {
	// Name is "admitted/policies=20/bindings=10".
	Name string
	// Policies and RBAC are multi-document YAML (policy/v1beta1 and rbac/v1).
	Policies, RBAC string
	// Pod is the pod as JSON, as an admission request carries it.
	Pod string
	// User creates the pod; Namespace is the request's.
	User      string
	Groups    []string
	Namespace string
}

// Pods are the three kinds of request measured.
var Pods = map[string]string{
	// admitted: compliant with the target policy as it is.
	"admitted": `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-","namespace":"team","annotations":{"kubernetes.io/psp":"z-target"}},"spec":{"serviceAccountName":"web","securityContext":{"runAsNonRoot":true,"fsGroup":1,"supplementalGroups":[1]},"containers":[{"name":"web","image":"nginx","securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}}`,
	// mutated: needs the target policy's defaults.
	"mutated": `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-","namespace":"team"},"spec":{"serviceAccountName":"web","containers":[{"name":"web","image":"nginx"},{"name":"sidecar","image":"envoy"}]}}`,
	// denied: privileged, refused by every policy.
	"denied": `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-","namespace":"team"},"spec":{"serviceAccountName":"web","containers":[{"name":"web","image":"nginx","securityContext":{"privileged":true}}]}}`,
}

// PodKinds, PolicyCounts and BindingCounts are the benchmark's dimensions.
var (
	PodKinds      = []string{"admitted", "mutated", "denied"}
	PolicyCounts  = []int{1, 20, 200}
	BindingCounts = []int{10, 10000}
)

const target = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: z-target}
spec:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  requiredDropCapabilities: [ALL]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
  fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
  volumes: [configMap, emptyDir, projected, secret, downwardAPI, persistentVolumeClaim]
`

// decoy policies sort before the target and are each tried first: they
// would change every benchmark pod (runAsUser MustRunAs 5000 defaults the
// user) and refuse the privileged one, so the target wins only after all.
func decoy(i int) string {
	return fmt.Sprintf(`apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: decoy-%04d}
spec:
  runAsUser: {rule: MustRunAs, ranges: [{min: 5000, max: 5000}]}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  volumes: ['*']
`, i)
}

// Generate returns a scenario: policies decoys plus the target, granted to
// everyone; bindings-1 unrelated bindings besides the one that grants it.
func Generate(pod string, policies, bindings int) Scenario {
	var p strings.Builder
	for i := 0; i < policies-1; i++ {
		p.WriteString("---\n" + decoy(i))
	}
	p.WriteString("---\n" + target)
	var r strings.Builder
	r.WriteString(`---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp-use-all}
rules:
- {apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: unrelated}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: psp-use-all}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp-use-all}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: system:authenticated}
`)
	for i := 0; i < bindings-1; i++ {
		fmt.Fprintf(&r, `---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: unrelated-%05d, namespace: ns-%03d}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: unrelated}
subjects:
- {kind: User, apiGroup: rbac.authorization.k8s.io, name: user-%05d}
`, i, i%200, i)
	}
	return Scenario{
		Name:     fmt.Sprintf("%s/policies=%d/bindings=%d", pod, policies, bindings),
		Policies: p.String(), RBAC: r.String(), Pod: Pods[pod],
		User:   "system:serviceaccount:kube-system:replicaset-controller",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}, Namespace: "team",
	}
}

// All returns every scenario, in benchmark order.
func All() []Scenario {
	var out []Scenario
	for _, pod := range PodKinds {
		for _, n := range PolicyCounts {
			for _, b := range BindingCounts {
				out = append(out, Generate(pod, n, b))
			}
		}
	}
	return out
}
