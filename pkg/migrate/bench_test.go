package migrate

import (
	"fmt"
	"strings"
	"testing"
)

// deployments is n Deployments in 20 namespaces: most plain (the restricted
// preset defaults four fields each, so each is mutation-dependent), one in
// five setting what restricted asks; one in seven privileged (denied), in a
// namespace of their own, so the others stay restricted. hack/bench-check.sh
// writes the same as files.
func deployments(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		sc, ns := "{}", fmt.Sprintf("ns%d", i%20)
		switch {
		case i%7 == 0:
			sc, ns = "{privileged: true}", "privileged"
		case i%5 == 0:
			sc = "{runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}"
		}
		fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d%d, namespace: %s}\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      containers:\n      - {name: c, image: nginx, securityContext: %s}\n", i, ns, sc)
	}
	return b.String()
}

// BenchmarkMigrate2k: psp check's work on 2,000 Deployments (check), and
// psp migrate pss's (the same, then Build): compare their ns/op side by
// side for migrate's cost over check's.
func BenchmarkMigrate2k(b *testing.B) {
	docs := deployments(2000)
	std, err := NewStandards("latest")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			checkManifests(b, "restricted", docs)
		}
	})
	b.Run("migrate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Build(checkManifests(b, "restricted", docs), std); err != nil {
				b.Fatal(err)
			}
		}
	})
}
