package service

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is the sentinel wrapped by every validation failure:
// errors.Is(err, ErrInvalid) reports whether err says an object, a
// selector or a manifest is invalid.
var ErrInvalid = errors.New("service: invalid")

// FieldError is one problem with one field, in the style of
// apimachinery's field.Error: the field's path (spec.ports[1].name), the
// value found there, and the rule it breaks.
type FieldError struct {
	// Path is the field path, as Kubernetes prints it: spec.ports[1].nodePort.
	Path string
	// Value is the offending value, or nil when the field is missing.
	Value any
	// Rule says what the value must be (lowercase, as Kubernetes words it).
	Rule string
}

// Invalid returns a FieldError for path with value and rule.
func Invalid(path string, value any, rule string) *FieldError {
	return &FieldError{Path: path, Value: value, Rule: rule}
}

// Required returns a FieldError for a missing field.
func Required(path, rule string) *FieldError {
	return &FieldError{Path: path, Rule: rule}
}

// Error formats the problem as `spec.ports[0].port: invalid value 0: must be between 1 and 65535, inclusive`.
func (e *FieldError) Error() string {
	if e.Value == nil {
		return e.Path + ": required value: " + e.Rule
	}
	return e.Path + ": invalid value " + quoteValue(e.Value) + ": " + e.Rule
}

// Unwrap makes errors.Is(e, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func quoteValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	default:
		return fmt.Sprint(v)
	}
}

// ErrorList is every problem found in one object, in field order. It is
// an error only through Err, so that an empty list is never a non-nil
// error.
type ErrorList []*FieldError

// Err returns nil for an empty list, and the list as an error otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return &ValidationError{Errors: l}
}

// ValidationError carries every FieldError of one object. Its message
// lists them all; errors.As gives the list to callers that want each
// field separately.
type ValidationError struct {
	// Kind and Name say which object failed, when known ("Service", "default/web").
	Kind, Name string
	// Errors lists the problems, in field order; never empty.
	Errors ErrorList
}

// Error lists every problem, separated by "; ".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("service: invalid")
	if e.Kind != "" {
		b.WriteString(" " + e.Kind)
	}
	if e.Name != "" {
		b.WriteString(" " + strconv.Quote(e.Name))
	}
	b.WriteString(": ")
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap makes errors.Is(e, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// named returns err with the object's kind and name filled in, if err is
// a *ValidationError.
func named(err error, kind, name string) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		ve.Kind, ve.Name = kind, name
	}
	return err
}
