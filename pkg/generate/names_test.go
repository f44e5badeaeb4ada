package generate

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// TestPolicyName: names within the limit are prefix+identity; longer ones
// are cut deterministically, stay valid and stay distinct.
func TestPolicyName(t *testing.T) {
	if got := policyName("generated.", "ops.web"); got != "generated.ops.web" {
		t.Errorf("short name: %q", got)
	}
	ns := strings.Repeat("n", 63)
	a := policyName("generated.", ns+"."+strings.Repeat("s", 200))
	b := policyName("generated.", ns+"."+strings.Repeat("s", 199)+"t")
	// A cut that ends on a dot must not leave "-." or ".-".
	c := policyName("generated.", strings.Repeat("x", 241)+"."+strings.Repeat("y", 20))
	for _, name := range []string{a, b, c} {
		if len(name) > validation.DNS1123SubdomainMaxLength {
			t.Errorf("%q: %d characters", name, len(name))
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("%q: %v", name, errs)
		}
	}
	if a == b {
		t.Errorf("distinct identities share the name %q", a)
	}
	if again := policyName("generated.", ns+"."+strings.Repeat("s", 200)); again != a {
		t.Errorf("not deterministic: %q, then %q", a, again)
	}
}

// TestValidNamePrefix: only a prefix that cannot start a name is refused.
func TestValidNamePrefix(t *testing.T) {
	for prefix, ok := range map[string]bool{"generated.": true, "team-": true, "Bad_": false, ".x": false, strings.Repeat("p", 243): false} {
		if err := validNamePrefix(prefix); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", prefix, err, ok)
		}
	}
}
