package presets

import (
	"context"
	"testing"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/rbac"
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

// TestPresetGrantKubectlAgrees: the preset's grant is answered yes both for
// the groups admission asks and for the CRD's group, which `kubectl auth
// can-i use podsecuritypolicy/NAME` asks.
func TestPresetGrantKubectlAgrees(t *testing.T) {
	res, err := Load("baseline")
	if err != nil {
		t.Fatal(err)
	}
	snap := rbac.NewIndex(res.RBAC)
	user := authorizer.UserInfo{Name: "alice", Groups: []string{authorizer.GroupAuthenticated}}
	for _, group := range []string{"policy", policyv1.GroupName} {
		ok, _, err := snap.Authorize(context.Background(), authorizer.Attributes{User: user, Verb: "use", APIGroup: group, Resource: "podsecuritypolicies", Name: "baseline"})
		if err != nil || !ok {
			t.Errorf("use of baseline in group %q: %v %v", group, ok, err)
		}
	}
}
