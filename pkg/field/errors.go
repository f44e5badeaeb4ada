// Package field holds the field errors kube-psp reports. They render exactly
// as Kubernetes v1.24's k8s.io/apimachinery field errors rendered, because
// PodSecurityPolicy denial messages are built from them and users, scripts and
// alerts match on that text. (Newer apimachinery releases render values as
// JSON, which would change every message.)
package field

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ErrorType says why a field is wrong.
type ErrorType string

// The error types v1.24 used.
const (
	ErrorTypeNotFound     ErrorType = "FieldValueNotFound"
	ErrorTypeRequired     ErrorType = "FieldValueRequired"
	ErrorTypeDuplicate    ErrorType = "FieldValueDuplicate"
	ErrorTypeInvalid      ErrorType = "FieldValueInvalid"
	ErrorTypeNotSupported ErrorType = "FieldValueNotSupported"
	ErrorTypeForbidden    ErrorType = "FieldValueForbidden"
	ErrorTypeTooLong      ErrorType = "FieldValueTooLong"
	ErrorTypeInternal     ErrorType = "InternalError"
)

// String is the human text of an error type.
func (t ErrorType) String() string {
	switch t {
	case ErrorTypeNotFound:
		return "Not found"
	case ErrorTypeRequired:
		return "Required value"
	case ErrorTypeDuplicate:
		return "Duplicate value"
	case ErrorTypeInvalid:
		return "Invalid value"
	case ErrorTypeNotSupported:
		return "Unsupported value"
	case ErrorTypeForbidden:
		return "Forbidden"
	case ErrorTypeTooLong:
		return "Too long"
	case ErrorTypeInternal:
		return "Internal error"
	default:
		return string(t)
	}
}

// Error is one field error.
type Error struct {
	Type     ErrorType
	Field    string
	BadValue any
	Detail   string
}

// Literal is a bad value whose text is given verbatim. It stands for values
// that v1.24 printed with %#v on its internal API types (for example
// `[]core.Capability{"NET_RAW"}`), which the v1 types kube-psp works on would
// print differently.
type Literal string

// Error renders the error as v1.24 did: "FIELD: BODY".
func (e *Error) Error() string { return e.Field + ": " + e.ErrorBody() }

// ErrorBody renders the error without its field, as v1.24 did.
func (e *Error) ErrorBody() string {
	var s string
	switch e.Type {
	case ErrorTypeRequired, ErrorTypeForbidden, ErrorTypeTooLong, ErrorTypeInternal:
		s = e.Type.String()
	default:
		s = e.Type.String() + ": " + renderValue(e.BadValue)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// renderValue follows apimachinery v0.24's ErrorBody: nil and nil pointers
// are "null", pointers are dereferenced, simple types print plainly, strings
// quoted, Stringers by String, everything else with %#v.
func renderValue(value any) string {
	if lit, ok := value.(Literal); ok {
		return string(lit)
	}
	valueType := reflect.TypeOf(value)
	if value == nil || valueType == nil {
		return "null"
	}
	if valueType.Kind() == reflect.Pointer {
		rv := reflect.ValueOf(value)
		if rv.IsNil() {
			return "null"
		}
		value = rv.Elem().Interface()
	}
	switch t := value.(type) {
	case int64, int32, float64, float32, bool:
		return fmt.Sprintf("%v", t)
	case string:
		return strconv.Quote(t)
	case fmt.Stringer:
		return t.String()
	default:
		return fmt.Sprintf("%#v", value)
	}
}

// Invalid reports a malformed or disallowed value.
func Invalid(path *Path, value any, detail string) *Error {
	return &Error{Type: ErrorTypeInvalid, Field: path.String(), BadValue: value, Detail: detail}
}

// Required reports a missing value.
func Required(path *Path, detail string) *Error {
	return &Error{Type: ErrorTypeRequired, Field: path.String(), BadValue: "", Detail: detail}
}

// Forbidden reports a value that is valid but not permitted.
func Forbidden(path *Path, detail string) *Error {
	return &Error{Type: ErrorTypeForbidden, Field: path.String(), BadValue: "", Detail: detail}
}

// Duplicate reports a value that must be unique.
func Duplicate(path *Path, value any) *Error {
	return &Error{Type: ErrorTypeDuplicate, Field: path.String(), BadValue: value}
}

// TooLong reports a value longer than maxLength bytes.
func TooLong(path *Path, value any, maxLength int) *Error {
	return &Error{Type: ErrorTypeTooLong, Field: path.String(), BadValue: value, Detail: fmt.Sprintf("must have at most %d bytes", maxLength)}
}

// NotSupported reports a value outside an enumeration.
func NotSupported(path *Path, value any, validValues []string) *Error {
	detail := ""
	if len(validValues) > 0 {
		quoted := make([]string, len(validValues))
		for i, v := range validValues {
			quoted[i] = strconv.Quote(v)
		}
		detail = "supported values: " + strings.Join(quoted, ", ")
	}
	return &Error{Type: ErrorTypeNotSupported, Field: path.String(), BadValue: value, Detail: detail}
}

// InternalStringSlice renders a slice of a string type as v1.24 printed it
// with %#v on its internal API type, e.g. `[]core.Capability{"NET_RAW"}` or
// `[]core.Capability(nil)`; typeName is the internal type ("core.Capability").
func InternalStringSlice[S ~string](typeName string, items []S) Literal {
	if items == nil {
		return Literal("[]" + typeName + "(nil)")
	}
	quoted := make([]string, len(items))
	for i, item := range items {
		quoted[i] = strconv.Quote(string(item))
	}
	return Literal("[]" + typeName + "{" + strings.Join(quoted, ", ") + "}")
}

// ErrorList is a list of field errors.
type ErrorList []*Error

// String renders the list as v1.24's fmt "%v" of a field.ErrorList did:
// the errors separated by single spaces, in brackets.
func (l ErrorList) String() string {
	// Render first and size once: a denial across hundreds of policies
	// makes a long message, and growing a builder copied it repeatedly.
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return "[" + strings.Join(parts, " ") + "]"
}
