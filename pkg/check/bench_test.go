package check

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// corpus is n workloads of mixed kinds, one in seven privileged (denied by
// the restricted preset), as YAML documents.
func corpus(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		priv := i%7 == 0
		if i%5 == 4 {
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: ns%d}\nspec:\n  containers:\n  - {name: c, image: nginx, securityContext: {privileged: %v}}\n", i, i%50, priv)
			continue
		}
		kind := []string{"Deployment", "DaemonSet", "StatefulSet", "Job"}[i%5]
		api := map[bool]string{true: "batch/v1", false: "apps/v1"}[kind == "Job"]
		fmt.Fprintf(&b, "---\napiVersion: %s\nkind: %s\nmetadata: {name: w%d, namespace: ns%d}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: c, image: nginx, securityContext: {privileged: %v, runAsUser: %d}}\n", api, kind, i, i%50, priv, 1000+i%3)
	}
	return b.String()
}

// BenchmarkCheck10k reads and checks 10,000 workloads per iteration
// against the restricted preset; pods/s is the throughput.
func BenchmarkCheck10k(b *testing.B) {
	res, err := presets.Load("restricted")
	if err != nil {
		b.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		b.Fatal(err)
	}
	docs := corpus(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ws, err := manifest.Read([]string{"-"}, strings.NewReader(docs), manifest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		results, err := Run(context.Background(), snap.Policies, snap.Authorizer, ws, Options{User: authorizer.UserInfo{Name: "u"}})
		if err != nil || len(results) != 10000 {
			b.Fatalf("%d results, %v", len(results), err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "pods/s")
}
