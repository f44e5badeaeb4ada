package yamlfile

import (
	"reflect"
	"regexp"
	"strings"
)

// SuggestField returns the known field nearest to the last step of an
// unknown field's path ("spec.allowPrivilegeEscalaton" in a
// PodSecurityPolicy: "allowPrivilegeEscalation"), or "" when none is close:
// the same letters in other case, or at most two edits away for names
// longer than four letters (short names are too alike to guess). out is
// what the document was decoded into; the path is followed through its
// json tags, slices, maps and pointers.
func SuggestField(out any, path string) string {
	t := reflect.TypeOf(out)
	steps := strings.Split(path, ".")
	for _, step := range steps[:len(steps)-1] {
		t = fieldType(t, pathIndexRE.ReplaceAllString(step, ""))
		if t == nil {
			return ""
		}
	}
	t = structType(t)
	if t == nil {
		return ""
	}
	unknown := strings.ToLower(pathIndexRE.ReplaceAllString(steps[len(steps)-1], ""))
	best, bestDistance := "", 3
	for _, name := range jsonFields(t) {
		lower := strings.ToLower(name)
		d := EditDistance(lower, unknown)
		if lower == unknown {
			return name
		}
		if len(name) > 4 && d < bestDistance {
			best, bestDistance = name, d
		}
	}
	return best
}

// DidYouMean is SuggestField as a message suffix: `; did you mean
// "allowPrivilegeEscalation"?`, or "".
func DidYouMean(out any, path string) string {
	if s := SuggestField(out, path); s != "" {
		return `; did you mean "` + s + `"?`
	}
	return ""
}

// UnknownFieldPath returns the path of an unknown-field error of
// DecodeJSON ("spec.runAsUsr"), and false for other errors.
func UnknownFieldPath(err error) (string, bool) {
	m := unknownFieldRE.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	return m[1], true
}

var unknownFieldRE = regexp.MustCompile(`^unknown field "(.*)"$`)

// structType is t without pointers, slices and maps, when that is a struct.
func structType(t reflect.Type) reflect.Type {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// fieldType is the type of the field of t named name in JSON, inline
// (embedded) structs included; nil when there is none.
func fieldType(t reflect.Type, name string) reflect.Type {
	t = structType(t)
	if t == nil {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, inline := jsonName(f)
		switch {
		case inline:
			if ft := fieldType(f.Type, name); ft != nil {
				return ft
			}
		case tag == name:
			return f.Type
		}
	}
	return nil
}

// jsonFields are the JSON names of t's fields, inline structs included.
func jsonFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, inline := jsonName(f)
		switch {
		case inline:
			if st := structType(f.Type); st != nil {
				names = append(names, jsonFields(st)...)
			}
		case tag != "" && tag != "-":
			names = append(names, tag)
		}
	}
	return names
}

// jsonName is a field's JSON name, or inline for an embedded struct
// without one (metav1.TypeMeta, `json:",inline"`).
func jsonName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
		return "", true
	}
	if !f.IsExported() {
		return "", false
	}
	if name == "" {
		name = f.Name
	}
	return name, false
}

// EditDistance is the Levenshtein distance between a and b, in bytes.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
