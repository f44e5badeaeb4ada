package loader

import (
	"strings"
	"testing"
)

// TestLoadYAMLErrorFileLine: the loader's message names the file line.
func TestLoadYAMLErrorFileLine(t *testing.T) {
	data := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: p\n spec: {}\n"
	_, err := LoadReader("in.yaml", strings.NewReader(data), Options{})
	if err == nil || !strings.Contains(err.Error(), "in.yaml: document 2 (line 5): not a valid YAML or JSON object: line 9: ") {
		t.Errorf("got %v", err)
	}
}
