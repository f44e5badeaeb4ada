package webhook

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// BenchmarkHandler measures the server's work for one request, without
// TLS and the network: decoding, deciding, patching or explaining, encoding.
func BenchmarkHandler(b *testing.B) {
	t := &testing.T{}
	large := pod(func(p *corev1.Pod) {
		p.Spec.Containers = nil
		for i := range 20 {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%02d", i), Image: "x"})
		}
	})
	for _, tc := range []struct {
		name  string
		phase engine.Phase
		pod   *corev1.Pod
	}{
		{"mutate/defaulted", engine.PhaseAdmit, pod(nil)},
		{"mutate/denied", engine.PhaseAdmit, pod(privileged)},
		{"mutate/20-containers", engine.PhaseAdmit, large},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(t, tc.phase, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t))
			body := review(t, admissionv1.Create, "", tc.pod, nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				f.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}
