package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/bench/scenario"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// BenchmarkAdmission measures one admission, the admit phase then the
// validate phase on the admitted pod, as the apiserver runs them, for the
// scenarios of bench/scenario. bench/ runs the v1.24 plugin on the same
// scenarios under the same names; hack/bench.sh prints the ratios.
func BenchmarkAdmission(b *testing.B) {
	for _, sc := range scenario.All() {
		b.Run(sc.Name, func(b *testing.B) {
			res, err := loader.LoadReader("bench", strings.NewReader(sc.Policies+sc.RBAC), loader.Options{Strict: true})
			if err != nil {
				b.Fatal(err)
			}
			snap, err := source.Build(res, "")
			if err != nil {
				b.Fatal(err)
			}
			var pod corev1.Pod
			if err := json.Unmarshal([]byte(sc.Pod), &pod); err != nil {
				b.Fatal(err)
			}
			user := authorizer.UserInfo{Name: sc.User, Groups: sc.Groups}
			ctx := context.Background()
			want := !strings.HasPrefix(sc.Name, "denied")
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				d, err := engine.Decide(ctx, snap.Policies, snap.Authorizer, engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate, Namespace: sc.Namespace, User: user, Pod: &pod}, engine.Options{})
				if err != nil || d.Allowed != want {
					b.Fatalf("admit: %v %s", err, d.Message)
				}
				if !d.Allowed {
					continue
				}
				v, err := engine.Decide(ctx, snap.Policies, snap.Authorizer, engine.Request{Phase: engine.PhaseValidate, Operation: engine.OperationCreate, Namespace: sc.Namespace, User: user, Pod: d.Pod}, engine.Options{})
				if err != nil || !v.Allowed {
					b.Fatalf("validate: %v %s", err, v.Message)
				}
			}
		})
	}
}
