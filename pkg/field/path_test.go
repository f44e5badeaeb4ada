package field

import (
	"testing"

	k8sfield "k8s.io/apimachinery/pkg/util/validation/field"
)

// TestPathRendersAsApimachinery compares every way the engine and the
// validation build paths with apimachinery's own rendering.
func TestPathRendersAsApimachinery(t *testing.T) {
	for _, tc := range []struct {
		ours   *Path
		theirs *k8sfield.Path
	}{
		{NewPath("spec"), k8sfield.NewPath("spec")},
		{NewPath("spec", "securityContext", "runAsUser"), k8sfield.NewPath("spec", "securityContext", "runAsUser")},
		{NewPath("spec").Child("containers").Index(3).Child("securityContext", "capabilities", "add").Index(0),
			k8sfield.NewPath("spec").Child("containers").Index(3).Child("securityContext", "capabilities", "add").Index(0)},
		{NewPath("metadata", "annotations").Key("seccomp.security.alpha.kubernetes.io/pod"),
			k8sfield.NewPath("metadata", "annotations").Key("seccomp.security.alpha.kubernetes.io/pod")},
		{NewPath(""), k8sfield.NewPath("")},
		{NewPath("").Child("x"), k8sfield.NewPath("").Child("x")},
		{NewPath("a").Child(""), k8sfield.NewPath("a").Child("")},
		{NewPath("a").Child("", "b"), k8sfield.NewPath("a").Child("", "b")},
		{NewPath("a").Key(""), k8sfield.NewPath("a").Key("")},
		{NewPath("a", "", "b"), k8sfield.NewPath("a", "", "b")},
		{(*Path)(nil).Child("a", "b"), (*k8sfield.Path)(nil).Child("a", "b")},
		{nil, nil},
	} {
		if got, want := tc.ours.String(), tc.theirs.String(); got != want {
			t.Errorf("got %q, apimachinery renders %q", got, want)
		}
	}
}

func TestFrozenPathsRenderTheSame(t *testing.T) {
	p := NewPath("spec").Child("containers").Index(2)
	f := p.Frozen()
	for _, pair := range [][2]*Path{
		{p, f},
		{p.Child("securityContext", "privileged"), f.Child("securityContext", "privileged")},
		{p.Key("k").Child(""), f.Key("k").Child("")},
	} {
		if pair[0].String() != pair[1].String() {
			t.Errorf("%q != %q", pair[0], pair[1])
		}
	}
	if got := f.Child("x").String(); got != "spec.containers[2].x" {
		t.Errorf("got %q", got)
	}
}
