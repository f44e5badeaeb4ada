package engine

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
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

// TestUseQuestions: the questions admission asks about one subject, one
// per API group in v1.24's order, with verb use on podsecuritypolicies.
func TestUseQuestions(t *testing.T) {
	alice := authorizer.UserInfo{Name: "alice"}
	qs := UseQuestions(alice, "team", "restricted")
	want := []string{"policy", "extensions", policyv1.GroupName}
	if len(qs) != len(want) {
		t.Fatalf("got %d questions, want %d", len(qs), len(want))
	}
	for i, q := range qs {
		if q.APIGroup != want[i] || q.Verb != "use" || q.Resource != "podsecuritypolicies" || q.Name != "restricted" || q.Namespace != "team" || q.User.Name != "alice" {
			t.Errorf("question %d: %+v", i, q)
		}
	}
	r := UseRule("a", "b")
	if !slices.Equal(r.APIGroups, GrantAPIGroups()) || !slices.Equal(r.Verbs, []string{"use"}) || !slices.Equal(r.Resources, []string{"podsecuritypolicies"}) || !slices.Equal(r.ResourceNames, []string{"a", "b"}) {
		t.Errorf("UseRule = %+v", r)
	}
}

// TestUseSubjects: the pod's ServiceAccount (by its name or the deprecated
// alias), with its groups and without system:authenticated, is asked
// before the requester; a pod without one asks the requester only.
func TestUseSubjects(t *testing.T) {
	user := authorizer.UserInfo{Name: "alice", Groups: []string{authorizer.GroupAuthenticated}}
	pod := &corev1.Pod{Spec: corev1.PodSpec{DeprecatedServiceAccount: "builder"}}
	got := UseSubjects(Request{Namespace: "team", User: user, Pod: pod})
	want := []authorizer.UserInfo{{Name: "system:serviceaccount:team:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team"}}, user}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := UseSubjects(Request{Namespace: "team", User: user, Pod: &corev1.Pod{}}); !reflect.DeepEqual(got, []authorizer.UserInfo{user}) {
		t.Errorf("no ServiceAccount: got %+v", got)
	}
}
