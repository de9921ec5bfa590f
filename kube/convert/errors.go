package convert

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every *Error: an object that cannot convert.
var ErrInvalid = errors.New("convert: invalid object")

// Error is a conversion that failed: the kind and namespace/name of the
// object, the field path and value that could not convert, and why.
type Error struct {
	// Kind is the object's kind ("EndpointSlice"); Name its
	// "namespace/name".
	Kind, Name string
	// Field is the JSON path of the field ("endpoints[2].addresses[0]"),
	// or "" for the whole object.
	Field string
	// Value is the offending value as text.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error returns "convert: KIND NAME: FIELD: "VALUE": REASON".
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("convert: %s %s: %s", e.Kind, e.Name, e.Reason)
	}
	return fmt.Sprintf("convert: %s %s: %s: %q: %s", e.Kind, e.Name, e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }
