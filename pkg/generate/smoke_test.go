package generate

import (
	"context"
	"os"
	"testing"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/manifest"
)

func TestSmokeExamples(t *testing.T) {
	in, err := manifest.ReadAll([]string{"../../examples"}, nil, manifest.Options{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Generate(in.Workloads, Options{})
	if err != nil {
		t.Fatal(err)
	}
	WriteYAML(os.Stdout, res)
	f, w, err := Prove(context.Background(), res, ProveOptions{User: authorizer.Impersonate("kube-psp:check", nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(w)
	WriteFindings(os.Stdout, f, true)
}
