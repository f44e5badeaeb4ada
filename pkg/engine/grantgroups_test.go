package engine

import (
	"slices"
	"testing"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

// New grants must be honoured by admission and name the CRD's group, which
// kubectl auth can-i asks.
func TestGrantAPIGroups(t *testing.T) {
	for _, g := range GrantAPIGroups() {
		if !slices.Contains(UseAPIGroups(), g) {
			t.Errorf("grants in %q, which admission does not ask", g)
		}
	}
	if !slices.Contains(GrantAPIGroups(), policyv1.GroupName) || GrantAPIGroups()[0] != "policy" {
		t.Errorf("GrantAPIGroups() = %v", GrantAPIGroups())
	}
}
