package manifest

import (
	"strings"
	"testing"
)

// TestNamelessWorkloads: an object without a name is named by its
// generateName, or says it has none, never "Pod default/".
func TestNamelessWorkloads(t *testing.T) {
	in := `apiVersion: v1
kind: Pod
metadata: {generateName: web-}
spec: {containers: [{name: a, image: x}]}
---
apiVersion: v1
kind: Pod
spec: {containers: [{name: a, image: x}]}
---
apiVersion: batch/v1
kind: Job
metadata: {generateName: migrate-, namespace: db}
spec: {template: {spec: {containers: [{name: a, image: x}]}}}
`
	ws, err := Read([]string{"-"}, strings.NewReader(in), Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	if want := "Pod default/web-*|Pod default/(no name)|Job db/migrate-*"; strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestHeaderErrors: a document whose apiVersion, kind or items has the
// wrong type is named in YAML's terms, not by the Go type that read it.
func TestHeaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"apiVersion: [v1]\nkind: Pod\n": "<stdin>: document 1 (line 1): field apiVersion must be a string, not an array",
		"kind: {a: 1}\n":                "<stdin>: document 1 (line 1): field kind must be a string, not an object",
		"kind: List\nitems: 5\n":        "<stdin>: document 1 (line 1): field items must be a list, not a number",
		"- a\n":                         "<stdin>: document 1 (line 1): not a YAML or JSON object but an array",
	} {
		_, err := Read([]string{"-"}, strings.NewReader(in), Options{})
		if err == nil || err.Error() != want || strings.Contains(err.Error(), "manifest.") {
			t.Errorf("%q: got %v, want %s", in, err, want)
		}
	}
}
