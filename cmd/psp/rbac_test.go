package main

import (
	"strings"
	"testing"
)

func TestUnknownPolicyWarns(t *testing.T) {
	for _, args := range [][]string{
		{"can-i", "use", "nonexistent", "--as", "alice"},
		{"who-can", "use", "nonexistent"},
	} {
		_, errOut, _ := run(t, "", args...)
		if !strings.Contains(errOut, `warning: there is no policy "nonexistent"`) {
			t.Errorf("%v: stderr %q", args, errOut)
		}
	}
	if _, errOut, _ := run(t, "", "who-can", "use", "restricted"); errOut != "" {
		t.Errorf("who-can on an existing policy: %q", errOut)
	}
}

func TestCanINamespace(t *testing.T) {
	out, _, _ := run(t, "", "can-i", "--help")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "--namespace") && strings.Count(line, "(default") != 1 {
			t.Errorf("the -n help gives two defaults: %q", line)
		}
	}
	// The namespace is the ServiceAccount's, unless -n says otherwise, and
	// "default" for --as.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--serviceaccount", "team:app"}, `in namespace "team"`},
		{[]string{"--serviceaccount", "team:app", "-n", "prod"}, `in namespace "prod"`},
		{[]string{"--serviceaccount", "team:app", "-n", "default"}, `in namespace "default"`},
		{[]string{"--as", "system:serviceaccount:team:app", "--as-group", "ops"}, `in namespace "default"`},
	} {
		_, errOut, code := run(t, "", append([]string{"can-i", "use", "baseline", "--why"}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestSummariesCountInEnglish: "1 workload", "1 grant", "5 warnings".
func TestSummariesCountInEnglish(t *testing.T) {
	t.Chdir("../..")
	out, _, _ := run(t, "", "check", "-f", "examples/nginx-root.yaml")
	if !strings.Contains(out, "\n1 workload: 0 admitted, 1 denied\n") {
		t.Errorf("check:\n%s", out)
	}
	out, _, _ = run(t, "", "who-can", "use", "eks.privileged", "--policies", "examples/eks", "--rbac", "examples/eks")
	if !strings.Contains(out, "\n1 grant; ") {
		t.Errorf("who-can:\n%s", out)
	}
	out, _, _ = run(t, "", "lint", "--policies", "examples/pitfalls", "--rbac", "examples/pitfalls")
	if !strings.HasSuffix(out, "\n7 findings: 2 errors, 5 warnings, 0 info\n") {
		t.Errorf("lint:\n%s", out)
	}
}
