package yamldoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/svcnet/svcnet/internal/carry"
	"github.com/svcnet/svcnet/internal/jsonfield"
	"github.com/svcnet/svcnet/internal/k8sschema"
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

// DecodeKind decodes one object of a Kubernetes kind into out (a
// pointer to an object type whose UnmarshalJSON carries what it does not
// model, service.UnmarshalCarried) from m, its generic JSON. m is first
// checked against the kind's schema, k (k8sschema.Type.Check): the first
// field Kubernetes does not define, in sorted order, or a value of the
// wrong type for Kubernetes, is a Problem naming its path; numbers and
// booleans where Kubernetes has a string become strings, as kubectl's
// decoding makes them. Then m is decoded into out, and a value out's
// type cannot hold is a Problem naming its field. prefix ("" or
// "items[2].") starts every path. DecodeKind changes m.
func DecodeKind(m map[string]any, k *k8sschema.Type, out any, prefix string) *Problem {
	if p := k.Check(m, strings.TrimSuffix(prefix, ".")); p != nil {
		return &Problem{Field: p.Field, Text: p.Text}
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

// decodesItself reports whether t (pointers removed) or a pointer to it
// is a json.Unmarshaler or a TextUnmarshaler, and not an object type
// that carries what it does not model (carry.Carrier), which decodes as
// a plain struct does.
func decodesItself(t reflect.Type) bool {
	if carry.Carrier(t) {
		return false
	}
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || p.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}
