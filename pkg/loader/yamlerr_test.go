package loader

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestYAMLErrorFileLine: every kind of YAML error names the file line of
// the mistake, for a document that starts at line 10.
func TestYAMLErrorFileLine(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
		strict          bool
	}{
		// The parser counts from 0: the mistake is on the document's 4th line.
		{"parser", "a: 1\nb:\n  c: 1\n d: 2\n", "line 13: did not find expected key", false},
		// The parser gives no line for the first.
		{"parser, first line", "a: b: c\n", "line 10: mapping values are not allowed in this context", false},
		// The scanner counts from 1.
		{"scanner", "a: 1\nb:\n\t- x\n", "line 12: found character that cannot start any token", false},
		{"unclosed flow", "a: 1\nb: [\n", "line 12: did not find expected node content", false},
		{"duplicate key", "a: 1\nb:\n  c: 2\n  c: 3\n", "unmarshal errors:\n  line 13: key \"c\" already set in map", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			convert := yaml.YAMLToJSON
			if tc.strict {
				convert = yaml.YAMLToJSONStrict
			}
			_, err := convert([]byte(tc.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if got := YAMLError(err, 10).Error(); got != tc.want {
				t.Errorf("got %q from %q, want %q", got, err, tc.want)
			}
		})
	}
	if YAMLError(nil, 3) != nil {
		t.Error("nil error")
	}
}

// TestLoadYAMLErrorFileLine: the loader's message names the file line.
func TestLoadYAMLErrorFileLine(t *testing.T) {
	data := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: p\n spec: {}\n"
	_, err := LoadReader("in.yaml", strings.NewReader(data), Options{})
	if err == nil || !strings.Contains(err.Error(), "in.yaml: document 2 (line 5): not a valid YAML or JSON object: line 9: ") {
		t.Errorf("got %v", err)
	}
}
