package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
)

// TestListWriterEncodesAsAWhole: the report written item by item is byte
// for byte the whole object encoded at once, for 0, 1 and several items,
// with strings YAML must quote, block scalars and <, > and & unescaped.
func TestListWriterEncodesAsAWhole(t *testing.T) {
	item := func(i int) v1alpha1.Finding {
		return v1alpha1.Finding{Rule: "r", Severity: "error", Object: fmt.Sprintf(`ClusterRole "a&b<%d>"`, i),
			Source:  v1alpha1.Source{File: "<stdin>", Document: i + 1, Line: 3 * i},
			Message: "a: b\n\nc - d\n", Fix: "- x " + strings.Repeat("long words wrapped ", 8)}
	}
	for _, n := range []int{0, 1, 3} {
		whole := v1alpha1.LintReport{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindLintReport}, Items: []v1alpha1.Finding{}, Summary: v1alpha1.LintSummary{Findings: n}}
		for i := range n {
			whole.Items = append(whole.Items, item(i))
		}
		var wantJSON bytes.Buffer
		enc := json.NewEncoder(&wantJSON)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(whole); err != nil {
			t.Fatal(err)
		}
		wantYAML, err := yaml.Marshal(whole)
		if err != nil {
			t.Fatal(err)
		}
		for format, want := range map[string]string{"json": wantJSON.String(), "yaml": string(wantYAML)} {
			var got bytes.Buffer
			l, err := NewListWriter(&got, format, whole.TypeMeta)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range whole.Items {
				if err := l.Item(it); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(Field{"summary", whole.Summary}); err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("%d items, %s:\n%s\nwant:\n%s", n, format, got.String(), want)
			}
			if n > 0 && strings.Contains(got.String(), `\u003c`) {
				t.Errorf("%s escapes <", format)
			}
		}
	}
}

// TestListWriterHeadFields: fields known before the items (who-can's
// policy and namespace) keep the struct's order in JSON and sort in YAML.
func TestListWriterHeadFields(t *testing.T) {
	whole := v1alpha1.WhoCanReport{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindWhoCanReport}, Policy: "p", Namespace: "ns",
		Items: []v1alpha1.SubjectGrant{{Kind: "User", Name: "alice", Binding: "b", Role: "r", APIGroup: "policy"}}}
	wantYAML, err := yaml.Marshal(whole)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.MarshalIndent(whole, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for format, want := range map[string]string{"json": string(wantJSON) + "\n", "yaml": string(wantYAML)} {
		var got bytes.Buffer
		l, err := NewListWriter(&got, format, whole.TypeMeta, Field{"policy", "p"}, Field{"namespace", "ns"})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Item(whole.Items[0]); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Errorf("%s:\n%s\nwant:\n%s", format, got.String(), want)
		}
	}
}

// TestListWriterRefusesLateEarlyKey: a tail key that YAML sorts before the
// items cannot be written after them.
func TestListWriterRefusesLateEarlyKey(t *testing.T) {
	l, err := NewListWriter(&bytes.Buffer{}, "yaml", v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: "X"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(Field{"count", 1}); err == nil || !strings.Contains(err.Error(), `"count" sorts before items`) {
		t.Errorf("err = %v", err)
	}
	if _, err := NewListWriter(&bytes.Buffer{}, "xml", v1alpha1.TypeMeta{}); err == nil {
		t.Error("xml accepted")
	}
}
