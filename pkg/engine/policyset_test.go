package engine

import (
	"strings"
	"testing"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestNewPolicySet(t *testing.T) {
	b, a := permissivePolicy("b"), permissivePolicy("a")
	b.Spec.AllowPrivilegeEscalation = nil
	set, err := NewPolicySet([]*policyv1.PodSecurityPolicy{b, a, nil})
	if err != nil {
		t.Fatal(err)
	}
	ps := set.Policies()
	if len(ps) != 2 || ps[0].Name != "a" || ps[1].Name != "b" || set.Len() != 2 {
		t.Fatalf("policies = %v", ps)
	}
	if ps[1].Spec.AllowPrivilegeEscalation == nil || !*ps[1].Spec.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation must default to true")
	}
	if b.Spec.AllowPrivilegeEscalation != nil {
		t.Error("NewPolicySet modified its input")
	}
}

func TestNewPolicySetRefusesInvalidSets(t *testing.T) {
	bad := permissivePolicy("bad")
	bad.Spec.HostPorts = nil
	bad.Spec.RunAsUser.Rule = "Sometimes"
	dup1, dup2 := permissivePolicy("dup"), permissivePolicy("dup")
	set, err := NewPolicySet([]*policyv1.PodSecurityPolicy{permissivePolicy("good"), bad, dup1, dup2})
	if set != nil || err == nil {
		t.Fatal("an invalid set must be refused whole")
	}
	for _, want := range []string{
		`PodSecurityPolicy "bad" is invalid: spec.runAsUser.rule: Unsupported value: "Sometimes"`,
		`PodSecurityPolicy "dup" is defined more than once`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
