package authorizer

import (
	"slices"
	"testing"
)

// TestImpersonate follows the cases of k8s.io/apiserver v0.37's
// impersonation filter: ServiceAccount groups only without --as-group,
// given groups as the authority, system:authenticated added unless a group
// already says authenticated or unauthenticated.
func TestImpersonate(t *testing.T) {
	cases := []struct {
		name   string
		groups []string
		want   []string
	}{
		{"alice", nil, []string{"system:authenticated"}},
		{"alice", []string{"dev"}, []string{"dev", "system:authenticated"}},
		{"alice", []string{"system:authenticated", "dev"}, []string{"system:authenticated", "dev"}},
		{"alice", []string{"system:unauthenticated"}, []string{"system:unauthenticated"}},
		{"system:serviceaccount:kube-system:replicaset-controller", nil,
			[]string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
		{"system:serviceaccount:kube-system:replicaset-controller", []string{"ops"}, []string{"ops", "system:authenticated"}},
		// Not a valid ServiceAccount name: an ordinary user.
		{"system:serviceaccount:Kube_System:x", nil, []string{"system:authenticated"}},
		{"system:serviceaccount:ns", nil, []string{"system:authenticated"}},
		{"system:serviceaccount:ns:a:b", nil, []string{"system:authenticated"}},
		{"system:anonymous", nil, []string{"system:unauthenticated"}},
		{"system:anonymous", []string{"system:unauthenticated"}, []string{"system:unauthenticated"}},
	}
	for _, c := range cases {
		got := Impersonate(c.name, c.groups)
		if got.Name != c.name || !slices.Equal(got.Groups, c.want) {
			t.Errorf("Impersonate(%q, %q) = %q %q, want groups %q", c.name, c.groups, got.Name, got.Groups, c.want)
		}
	}
	given := make([]string, 1, 4)
	given[0] = "dev"
	_ = Impersonate("alice", given)
	if got := given[:2][1]; got != "" {
		t.Errorf("Impersonate wrote %q into the caller's groups", got)
	}
}

func TestSplitServiceAccountUsername(t *testing.T) {
	ns, name, ok := SplitServiceAccountUsername(ServiceAccountUsername("ci", "builder.v2"))
	if !ok || ns != "ci" || name != "builder.v2" {
		t.Errorf("got %q %q %v", ns, name, ok)
	}
	for _, bad := range []string{"builder", "system:serviceaccount:", "system:serviceaccount:ci:", "system:serviceaccounts:ci:x"} {
		if _, _, ok := SplitServiceAccountUsername(bad); ok {
			t.Errorf("%q split as a ServiceAccount", bad)
		}
	}
}
