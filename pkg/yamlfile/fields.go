package yamlfile

import (
	"regexp"
	"strconv"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
)

// FieldIndex finds fields of one YAML (or JSON) document by path, for
// messages: the line of an unknown field, every repeated key. It parses the
// document again, so it is built only for a document that has a problem.
type FieldIndex struct {
	root *yaml3.Node // the document's top node; nil when unparsable
	// firstLine is the file line the document starts at.
	firstLine int
}

// NewFieldIndex indexes one document that starts at file line firstLine
// (Document.Line); lines are then file lines.
func NewFieldIndex(data []byte, firstLine int) *FieldIndex {
	x := &FieldIndex{firstLine: firstLine}
	var doc yaml3.Node
	if err := yaml3.Unmarshal(data, &doc); err == nil && doc.Kind == yaml3.DocumentNode && len(doc.Content) == 1 {
		x.root = doc.Content[0]
	}
	return x
}

var (
	// pathStepRE splits one step of a field path into its key and list
	// indexes, as sigs.k8s.io/json writes them ("containers[0]").
	pathStepRE  = regexp.MustCompile(`^(.*?)((?:\[\d+\])*)$`)
	pathIndexRE = regexp.MustCompile(`\[(\d+)\]`)
)

// Line returns the file line of the field at path ("spec.containers[0].name"),
// or 0 when it is not found. Of repeated keys, the last counts, as in
// decoding.
func (x *FieldIndex) Line(path string) int {
	n, line := x.root, 0
	for _, step := range strings.Split(path, ".") {
		m := pathStepRE.FindStringSubmatch(step)
		k, v := lookup(n, m[1])
		if k == nil {
			return 0
		}
		n, line = v, k.Line
		for _, idx := range pathIndexRE.FindAllStringSubmatch(m[2], -1) {
			i, _ := strconv.Atoi(idx[1])
			if n.Kind != yaml3.SequenceNode || i >= len(n.Content) {
				return 0
			}
			n, line = n.Content[i], n.Content[i].Line
		}
	}
	if line == 0 {
		return 0
	}
	return line + x.firstLine - 1
}

// lookup returns the last key named key of mapping n and its value.
func lookup(n *yaml3.Node, key string) (k, v *yaml3.Node) {
	if n == nil || n.Kind != yaml3.MappingNode {
		return nil, nil
	}
	for i := len(n.Content) - 2; i >= 0; i -= 2 {
		if n.Content[i].Value == key {
			v = n.Content[i+1]
			if v.Kind == yaml3.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return n.Content[i], v
		}
	}
	return nil, nil
}

// Duplicates returns every key repeated in its mapping, at the line of the
// repeat, in document order (DuplicateFieldsIn).
func (x *FieldIndex) Duplicates() []DuplicateField {
	if x.root == nil {
		return nil
	}
	return DuplicateFieldsIn(x.root, x.firstLine)
}
