// Package bench measures the Kubernetes v1.24.17 PodSecurityPolicy plugin on
// the scenarios of bench/scenario, under the names kube-psp's
// BenchmarkAdmission (pkg/engine) uses, so that hack/bench.sh can put the
// two side by side. The two cannot share one binary: the v1.24 plugin needs
// k8s.io/api v0.24, whose PodSecurityPolicy types later releases removed,
// and kube-psp is built on the newest k8s.io/api.
package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/bench/scenario"
	"github.com/kube-psp/kube-psp/bench/upstream"
)

// parse reads the scenario's YAML into the v1.24 types.
func parse(b *testing.B, sc scenario.Scenario) ([]policyv1beta1.PodSecurityPolicy, upstream.RBAC, *corev1.Pod) {
	var policies []policyv1beta1.PodSecurityPolicy
	var r upstream.RBAC
	for _, doc := range strings.Split(sc.Policies+sc.RBAC, "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			b.Fatal(err)
		}
		var err error
		switch meta.Kind {
		case "PodSecurityPolicy":
			var p policyv1beta1.PodSecurityPolicy
			err = yaml.Unmarshal([]byte(doc), &p)
			policies = append(policies, p)
		case "ClusterRole":
			var o rbacv1.ClusterRole
			err = yaml.Unmarshal([]byte(doc), &o)
			r.ClusterRoles = append(r.ClusterRoles, o)
		case "ClusterRoleBinding":
			var o rbacv1.ClusterRoleBinding
			err = yaml.Unmarshal([]byte(doc), &o)
			r.ClusterRoleBindings = append(r.ClusterRoleBindings, o)
		case "RoleBinding":
			var o rbacv1.RoleBinding
			err = yaml.Unmarshal([]byte(doc), &o)
			r.RoleBindings = append(r.RoleBindings, o)
		default:
			b.Fatalf("unexpected kind %q", meta.Kind)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	var pod corev1.Pod
	if err := json.Unmarshal([]byte(sc.Pod), &pod); err != nil {
		b.Fatal(err)
	}
	return policies, r, &pod
}

// BenchmarkAdmission measures one admission by the v1.24 plugin: the admit
// phase, then the validate phase on the admitted pod, including the
// conversions to and from the apiserver's internal pod that the apiserver
// would do anyway.
func BenchmarkAdmission(b *testing.B) {
	for _, sc := range scenario.All() {
		b.Run(sc.Name, func(b *testing.B) {
			policies, r, pod := parse(b, sc)
			p, err := upstream.New(policies, r)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			want := !strings.HasPrefix(sc.Name, "denied")
			req := upstream.Request{Admit: true, Operation: "CREATE", Namespace: sc.Namespace, User: sc.User, Groups: sc.Groups, Pod: pod}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req.Admit, req.Pod = true, pod
				d, err := p.Decide(ctx, req)
				if err != nil || d.Allowed != want {
					b.Fatalf("admit: %v %s", err, d.Message)
				}
				if !d.Allowed {
					continue
				}
				req.Admit, req.Pod = false, d.Pod
				if v, err := p.Decide(ctx, req); err != nil || !v.Allowed {
					b.Fatalf("validate: %v %s", err, v.Message)
				}
			}
		})
	}
}
