package loader

import (
	"strings"
	"testing"
)

func TestHeaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"apiVersion: [v1]\nkind: PodSecurityPolicy\n":         "field apiVersion must be a string, not an array",
		"apiVersion: v1\nkind: Role\nmetadata: 5\n":           "field metadata must be an object, not a number",
		"apiVersion: v1\nkind: Role\nmetadata: {name: [a]}\n": "field metadata.name must be a string, not an array",
		"apiVersion: v1\nkind: [true]\n":                      "field kind must be a string, not an array",
		"true\n":                                              "not a YAML or JSON object but a boolean",
		"5\n":                                                 "not a YAML or JSON object but a number",
	} {
		_, err := LoadReader("in.yaml", strings.NewReader(in), Options{})
		if err == nil || !strings.Contains(err.Error(), "in.yaml: document 1 (line 1): "+want) || strings.Contains(err.Error(), "typeMeta") {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}
