// Package jsonpatch computes the RFC 6902 JSON Patch that turns one JSON
// document into another, as an admission webhook returns it.
//
// The diff recurses into objects, and into arrays of equal length, so a
// default set deep inside a pod becomes one small "add" operation instead of
// a replacement of the whole pod. Arrays whose length changed are replaced
// whole, which is always correct.
package jsonpatch

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Operation is one JSON Patch operation.
type Operation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Create returns the operations that turn the JSON document from into to.
func Create(from, to []byte) ([]Operation, error) {
	if from == nil || to == nil {
		return nil, fmt.Errorf("both documents are needed")
	}
	return CreateAt("", from, to)
}

func diff(path string, a, b any, ops *[]Operation) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(av)+len(bv))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, seen := av[k]; !seen {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		// Appliers, including the one the kube-apiserver uses, cannot
		// resolve an empty key in a path ("//0"): where one differs,
		// replace the whole object instead of descending into it.
		if x, y := av[""], bv[""]; len(keys) > 0 && keys[0] == "" && !reflect.DeepEqual(x, y) {
			*ops = append(*ops, Operation{Op: "replace", Path: path, Value: b})
			return
		}
		for _, k := range keys {
			p := path + "/" + escape(k)
			x, inA := av[k]
			y, inB := bv[k]
			switch {
			case !inB:
				*ops = append(*ops, Operation{Op: "remove", Path: p})
			case !inA:
				*ops = append(*ops, Operation{Op: "add", Path: p, Value: y})
			default:
				diff(p, x, y, ops)
			}
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		for i := range av {
			diff(path+"/"+strconv.Itoa(i), av[i], bv[i], ops)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*ops = append(*ops, Operation{Op: "replace", Path: path, Value: b})
	}
}

// CreateAt returns the operations that turn the value at path from into to,
// where from or to may be nil for "absent": an absent value gets an add,
// a value that goes away a remove.
func CreateAt(path string, from, to []byte) ([]Operation, error) {
	var a, b any
	if from != nil {
		if err := json.Unmarshal(from, &a); err != nil {
			return nil, fmt.Errorf("decoding original value: %w", err)
		}
	}
	if to != nil {
		if err := json.Unmarshal(to, &b); err != nil {
			return nil, fmt.Errorf("decoding modified value: %w", err)
		}
	}
	switch {
	case from == nil && to == nil:
		return nil, nil
	case from == nil:
		return []Operation{{Op: "add", Path: path, Value: b}}, nil
	case to == nil:
		return []Operation{{Op: "remove", Path: path}}, nil
	}
	var ops []Operation
	diff(path, a, b, &ops)
	return ops, nil
}

// escape encodes a key as a JSON Pointer reference token (RFC 6901).
func escape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
