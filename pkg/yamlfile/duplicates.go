package yamlfile

import (
	"fmt"
	"strconv"

	yaml3 "go.yaml.in/yaml/v3"
)

// DuplicateField is a key given twice in one mapping of a YAML or JSON
// document. The Kubernetes v1.24 apiserver's decoders kept the last value
// silently, so `privileged: false` followed lower by `privileged: true` was
// a privileged policy; YAML itself requires unique keys (YAML 1.2, section
// 3.2.1.1), and the current apiserver's strict field validation refuses them.
type DuplicateField struct {
	// Path is the field's path, as in unknown-field messages:
	// "spec.privileged", "items[0].rules[1].verbs".
	Path string
	// Line is the file line of the repeated key; First that of its first
	// occurrence.
	Line, First int
}

func (d DuplicateField) Error() string {
	return fmt.Sprintf("line %d: duplicate field %q (first set at line %d)", d.Line, d.Path, d.First)
}

// DuplicateFields returns the keys given twice in a mapping of one YAML or
// JSON document, in document order, with file lines: firstLine is the file
// line the document starts at (Document.Line). Merge keys (<<) and the
// mappings behind aliases are not duplicates: what they bring in is
// overridden by design. A document that does not parse has none: decoding
// it reports the syntax error.
func DuplicateFields(doc []byte, firstLine int) []DuplicateField {
	var root yaml3.Node
	if err := yaml3.Unmarshal(doc, &root); err != nil {
		return nil
	}
	return DuplicateFieldsIn(&root, firstLine)
}

// DuplicateFieldsIn is DuplicateFields for a document already parsed into
// root (a document node or the mapping under it).
func DuplicateFieldsIn(root *yaml3.Node, firstLine int) []DuplicateField {
	var dups []DuplicateField
	var walk func(n *yaml3.Node, path string)
	walk = func(n *yaml3.Node, path string) {
		switch n.Kind {
		case yaml3.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml3.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		case yaml3.MappingNode:
			seen := map[string]int{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, value := n.Content[i], n.Content[i+1]
				if key.Kind != yaml3.ScalarNode || key.Tag == "!!merge" {
					continue
				}
				field := key.Value
				if path != "" {
					field = path + "." + key.Value
				}
				if first, dup := seen[key.Value]; dup {
					dups = append(dups, DuplicateField{Path: field, Line: firstLine + key.Line - 1, First: firstLine + first - 1})
				} else {
					seen[key.Value] = key.Line
				}
				walk(value, field)
			}
		}
	}
	walk(root, "")
	return dups
}
