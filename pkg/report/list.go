// Package report writes psp's machine-readable reports (the objects of
// pkg/apis/report/v1alpha1) as JSON or YAML while they are made: the
// envelope first, each item as soon as it is known, the summary last, so
// that a report of 60,000 workloads is never held in memory. The output is
// byte for byte what encoding the whole object at once gives (JSON indented
// by two spaces, YAML as sigs.k8s.io/yaml writes it), with strings as they
// are: "<stdin>", not "\u003cstdin\u003e".
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
)

// Field is one top-level key of a report other than apiVersion, kind and items.
type Field struct {
	Key   string
	Value any
}

// ListWriter writes one report object: apiVersion, kind, the head fields,
// items written one by one with Item, and the tail fields given to Close.
// JSON keeps that order; YAML sorts the keys as sigs.k8s.io/yaml does, so
// every head and tail key must sort after "items" (a key sorting before it
// would have to be known before the first item: give it in head).
type ListWriter struct {
	w      io.Writer
	yaml   bool
	fields []Field // apiVersion, kind and head
	items  int
	err    error
}

// NewListWriter returns a writer of a report of kind meta.Kind in format
// "json" or "yaml"; it writes nothing until the first Item or Close.
func NewListWriter(w io.Writer, format string, meta v1alpha1.TypeMeta, head ...Field) (*ListWriter, error) {
	if format != "json" && format != "yaml" {
		return nil, fmt.Errorf("report format must be json or yaml, not %q", format)
	}
	fields := append([]Field{{"apiVersion", meta.APIVersion}, {"kind", meta.Kind}}, head...)
	return &ListWriter{w: w, yaml: format == "yaml", fields: fields}, nil
}

// Item writes one item. After an error every call returns it.
func (l *ListWriter) Item(v any) error {
	if l.err != nil {
		return l.err
	}
	var b bytes.Buffer
	if l.items == 0 {
		l.writeHead(&b, false)
	}
	if l.yaml {
		// A one-item sequence at the top level is the item as the whole
		// report holds it (sequences under a key are not indented), long
		// strings wrapped at the same columns.
		data, err := yaml.Marshal([]any{v})
		if err != nil {
			return l.fail(err)
		}
		b.Write(data)
	} else {
		if l.items > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		if err := EncodeJSON(&b, v, "    "); err != nil {
			return l.fail(err)
		}
	}
	l.items++
	return l.write(b.Bytes())
}

// Close ends the items and writes the tail fields (a summary).
func (l *ListWriter) Close(tail ...Field) error {
	if l.err != nil {
		return l.err
	}
	var b bytes.Buffer
	if l.items == 0 {
		l.writeHead(&b, true)
	}
	if l.yaml {
		if l.items == 0 {
			b.WriteString("items: []\n")
		}
		rest := append(slices.Clone(l.fields), tail...)
		slices.SortStableFunc(rest, func(a, c Field) int { return strings.Compare(a.Key, c.Key) })
		for _, f := range rest {
			if f.Key < "items" {
				if slices.ContainsFunc(tail, func(t Field) bool { return t.Key == f.Key }) {
					return l.fail(fmt.Errorf("report field %q sorts before items: give it before the items", f.Key))
				}
				continue // written before the items
			}
			if err := writeYAMLField(&b, f); err != nil {
				return l.fail(err)
			}
		}
	} else {
		if l.items == 0 {
			b.WriteString("]")
		} else {
			b.WriteString("\n  ]")
		}
		for _, f := range tail {
			if err := writeJSONField(&b, f, ","); err != nil {
				return l.fail(err)
			}
		}
		b.WriteString("\n}\n")
	}
	if err := l.write(b.Bytes()); err != nil {
		return err
	}
	l.err = fmt.Errorf("report already closed")
	return nil
}

// writeHead writes what comes before the first item, or before Close when
// there is none (empty).
func (l *ListWriter) writeHead(b *bytes.Buffer, empty bool) {
	if l.yaml {
		sorted := slices.Clone(l.fields)
		slices.SortStableFunc(sorted, func(a, c Field) int { return strings.Compare(a.Key, c.Key) })
		for _, f := range sorted {
			if f.Key < "items" {
				if err := writeYAMLField(b, f); err != nil {
					l.err = err
				}
			}
		}
		if !empty {
			b.WriteString("items:\n")
		}
		return
	}
	b.WriteString("{")
	for i, f := range l.fields {
		sep := ","
		if i == 0 {
			sep = ""
		}
		if err := writeJSONField(b, f, sep); err != nil {
			l.err = err
		}
	}
	b.WriteString(",\n  \"items\": [")
}

func (l *ListWriter) write(data []byte) error {
	if l.err != nil {
		return l.err
	}
	if _, err := l.w.Write(data); err != nil {
		return l.fail(err)
	}
	return nil
}

func (l *ListWriter) fail(err error) error {
	l.err = err
	return err
}

// writeJSONField writes `SEP\n  "KEY": VALUE`.
func writeJSONField(b *bytes.Buffer, f Field, sep string) error {
	b.WriteString(sep + "\n  ")
	if err := EncodeJSON(b, f.Key, "  "); err != nil {
		return err
	}
	b.WriteString(": ")
	return EncodeJSON(b, f.Value, "  ")
}

// EncodeJSON writes v indented by two spaces under prefix (the first line
// unprefixed), without escaping <, > and &, and without a final newline.
func EncodeJSON(b *bytes.Buffer, v any, prefix string) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// writeYAMLField writes one top-level key as sigs.k8s.io/yaml writes it.
func writeYAMLField(b *bytes.Buffer, f Field) error {
	data, err := yaml.Marshal(map[string]any{f.Key: f.Value})
	if err != nil {
		return err
	}
	b.Write(data)
	return nil
}

// WriteJSON writes v, a whole report, as ListWriter writes it: indented
// by two spaces, strings unescaped.
func WriteJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := EncodeJSON(&b, v, ""); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
