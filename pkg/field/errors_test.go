package field

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestErrorRendersAsKubernetes124(t *testing.T) {
	var nilBool *bool
	f := false
	pm := corev1.UnmaskedProcMount
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"bool", Invalid(NewPath("spec", "containers").Index(0).Child("securityContext", "privileged"), true, "Privileged containers are not allowed"),
			"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"},
		{"nil pointer", Invalid(NewPath("x"), nilBool, "d"), "x: Invalid value: null: d"},
		{"pointer dereferenced", Invalid(NewPath("x"), &f, "d"), "x: Invalid value: false: d"},
		{"string quoted", Invalid(NewPath("x"), "hostPath", "d"), `x: Invalid value: "hostPath": d`},
		{"int32", Invalid(NewPath("x"), int32(80), "d"), "x: Invalid value: 80: d"},
		{"named string with %#v", Invalid(NewPath("x"), pm, "ProcMountType is not allowed"), `x: Invalid value: "Unmasked": ProcMountType is not allowed`},
		{"int64 slice", Invalid(NewPath("x"), []int64{1, 2}, "d"), "x: Invalid value: []int64{1, 2}: d"},
		{"nil int64 slice", Invalid(NewPath("x"), []int64(nil), "d"), "x: Invalid value: []int64(nil): d"},
		{"literal", Invalid(NewPath("x"), Literal(`[]core.Capability{"A"}`), "d"), `x: Invalid value: []core.Capability{"A"}: d`},
		{"no detail", Invalid(NewPath("spec", "runtimeClassName"), "gvisor", ""), `spec.runtimeClassName: Invalid value: "gvisor"`},
		{"required", Required(NewPath("a"), ""), "a: Required value"},
		{"required detail", Required(NewPath("a"), "must be true"), "a: Required value: must be true"},
		{"forbidden", Forbidden(NewPath("pod", "metadata", "annotations").Key("k/x"), "seccomp may not be set"), "pod.metadata.annotations[k/x]: Forbidden: seccomp may not be set"},
		{"not supported", NotSupported(NewPath("r"), "X", []string{"A", "B"}), `r: Unsupported value: "X": supported values: "A", "B"`},
		{"duplicate", Duplicate(NewPath("r"), "x"), `r: Duplicate value: "x"`},
		{"too long", TooLong(NewPath("r"), "x", 63), `r: Too long: must have at most 63 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestErrorListString(t *testing.T) {
	if got := (ErrorList{}).String(); got != "[]" {
		t.Errorf("empty list: got %q", got)
	}
	l := ErrorList{Required(NewPath("a"), ""), Forbidden(NewPath("b"), "no")}
	if got, want := l.String(), "[a: Required value b: Forbidden: no]"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}
