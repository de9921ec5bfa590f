package yamldoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/svcnet/svcnet/internal/jsonfield"
)

// Problem says where a strict decode failed and why: Field is the field
// path ("spec.ports[0].port", "" for the whole object), Text what is
// wrong ("unknown field").
type Problem struct {
	Field, Text string
}

// DecodeStrict decodes one object into out (a non-nil pointer to a
// struct) strictly, from m, its generic JSON (Value.JSON), and src, its
// parse, when there is one. The first field out's type does not have,
// in sorted order, is a Problem ("unknown field"). src is decoded by
// Decode, with kubectl's scalar rules; without src, or when that fails,
// m's JSON is decoded by encoding/json, and a value of the wrong type
// is a Problem naming its field ("cannot hold a JSON string, want
// int32"). prefix ("", or "items[2]." for a List item) starts every
// path. Types that decode themselves (a json.Unmarshaler or a
// TextUnmarshaler) are not looked into.
//
// This is the one strict decoding of Kubernetes objects behind
// service.Decode and sim's scenario decoder.
func DecodeStrict(m map[string]any, src *Value, out any, prefix string) *Problem {
	t := reflect.TypeOf(out).Elem()
	if path := unknownField(m, t, prefix); path != "" {
		return &Problem{Field: path, Text: "unknown field"}
	}
	if src != nil {
		if err := src.Decode(out); err == nil {
			return nil
		}
		reflect.ValueOf(out).Elem().SetZero()
	}
	j, err := json.Marshal(m)
	if err != nil {
		return &Problem{Text: err.Error()}
	}
	if err := json.Unmarshal(j, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &Problem{Field: prefix + te.Field, Text: fmt.Sprintf("cannot hold a JSON %s, want %s", te.Value, te.Type)}
		}
		return &Problem{Text: err.Error()}
	}
	return nil
}

// unknownField walks m against t and returns the path of the first
// field (in sorted order) t does not have, or "".
func unknownField(m map[string]any, t reflect.Type, prefix string) string {
	var found string
	jsonfield.Walk(m, t, strings.TrimSuffix(prefix, "."), func(_ any, t reflect.Type, p string) jsonfield.Action {
		switch {
		case t == nil:
			found = p
			return jsonfield.Stop
		case decodesItself(t):
			return jsonfield.Skip
		}
		return jsonfield.Descend
	})
	return found
}

// decodesItself reports whether t (pointers removed) or a pointer to it
// is a json.Unmarshaler or a TextUnmarshaler.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || p.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}
