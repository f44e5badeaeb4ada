package v1alpha1

import (
	"fmt"
	"strings"
	"testing"
)

func TestDecodeIsStrict(t *testing.T) {
	for _, tc := range []struct{ name, data, err string }{
		{"unknown key", `{"apiVersion":"report.kube-psp.io/v1alpha1","kind":"LintReport","items":[{"rule":"r","color":"red"}]}`, `unknown field "color"`},
		{"other version", `{"apiVersion":"report.kube-psp.io/v1","kind":"LintReport","items":[]}`, `apiVersion "report.kube-psp.io/v1"`},
		{"unknown kind", `{"apiVersion":"report.kube-psp.io/v1alpha1","kind":"Pod"}`, `unknown report kind "Pod"`},
		{"trailing data", `{"apiVersion":"report.kube-psp.io/v1alpha1","kind":"WhoCanReport","policy":"p","items":[]} []`, "after top-level value"},
		{"a bare array", `[]`, "not a report object"},
	} {
		if _, err := Decode([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
		}
	}
	got, err := Decode([]byte(`{"apiVersion":"report.kube-psp.io/v1alpha1","kind":"AuditReport","items":[{"source":{"object":"pod/a/b"},"kind":"Pod","namespace":"a","name":"b","requester":"u","admitted":true,"policies":[],"running":["x"]}],"summary":{"workloads":1,"admitted":1,"denied":0,"invalid":0,"running":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := got.(*CheckReport); !ok || r.Kind != KindAuditReport || r.Items[0].Source.Object != "pod/a/b" || r.Summary.Running != 1 {
		t.Errorf("decoded %#v", got)
	}
}

// TestDecodeKinds: each kind decodes into its own type.
func TestDecodeKinds(t *testing.T) {
	for kind, want := range map[string]any{
		KindCheckReport: &CheckReport{}, KindExplainReport: &CheckReport{}, KindAuditReport: &CheckReport{},
		KindLintReport: &LintReport{}, KindWhoCanReport: &WhoCanReport{}, KindDiffReport: &DiffReport{},
		KindVerifyReport: &VerifyReport{}, KindPodSecurityMigration: &PodSecurityMigration{},
	} {
		got, err := Decode([]byte(`{"apiVersion":"` + APIVersion + `","kind":"` + kind + `"}`))
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("%s decodes into %T, want %T", kind, got, want)
		}
	}
	// The one source shape: a workload's origin is an object, never the
	// flat file/document/line of before.
	if _, err := Decode([]byte(`{"apiVersion":"` + APIVersion + `","kind":"PodSecurityMigration","namespaces":[{"name":"a","workloads":[{"file":"x.yaml"}]}]}`)); err == nil || !strings.Contains(err.Error(), `unknown field "file"`) {
		t.Errorf("flat file key: err %v", err)
	}
}
