package presets

import (
	"testing"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

func TestPresetsLoadAndCompile(t *testing.T) {
	for _, name := range Names {
		res, err := Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		set, err := engine.NewPolicySet(res.Policies)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if set.Len() != 3 || len(set.Unusable()) != 0 {
			t.Errorf("%s: %d usable policies, unusable %v", name, set.Len(), set.Unusable())
		}
	}
	if _, err := Load("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}
