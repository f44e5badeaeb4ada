package yamlfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// HeaderError turns a failure to read a document's apiVersion, kind, items
// or metadata into the manifest's terms ("field apiVersion must be a
// string, not an array"): json's own message names the Go type decoding
// filled, which means nothing to the author of the YAML.
func HeaderError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("not a valid YAML or JSON object: %w", err)
	}
	if te.Field == "" {
		return fmt.Errorf("not a YAML or JSON object but %s", jsonValue(te.Value))
	}
	want := "a string"
	switch te.Type.Kind() {
	case reflect.Slice:
		want = "a list"
	case reflect.Struct, reflect.Map:
		want = "an object"
	}
	return fmt.Errorf("field %s must be %s, not %s", te.Field, want, jsonValue(te.Value))
}

// jsonValue names the kind of value json found ("array", "bool", "number",
// "object", "string"): "an array", "a boolean".
func jsonValue(kind string) string {
	if kind == "bool" {
		kind = "boolean"
	}
	if strings.HasPrefix(kind, "a") || strings.HasPrefix(kind, "o") {
		return "an " + kind
	}
	return "a " + kind
}
