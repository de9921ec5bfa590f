// Package yamldoc parses one YAML (or JSON) manifest document once and
// serves, from that one parse, both what a strict decoder checks and
// what it decodes: service's manifest decoder and sim's scenario decoder
// read every document through it.
//
// Before it, a core manifest in a scenario stream was parsed three
// times: to JSON for the kind and the unknown-field checks, again inside
// service.Decode, and a third time by sigs.k8s.io/yaml's Unmarshal to
// keep kubectl's scalar rules. The rules are those of sigs.k8s.io/yaml
// (the library kubectl reads manifests with), applied to the one parse:
//
//   - the document is parsed by go.yaml.in/yaml/v2 strictly (a key twice
//     in one mapping is an error), YAML 1.1 scalars as kubectl reads them;
//   - JSON gives the generic JSON value (objects, lists, strings,
//     json.Number, booleans, null) that YAMLToJSONStrict followed by a
//     UseNumber decode gives;
//   - Decode is sigs.k8s.io/yaml.Unmarshal: a number or a boolean bound
//     for a string field becomes that string ("1.10" stays a version,
//     `build: 42` a label), then encoding/json decodes.
//
// The flow, for one document:
//
//	v, err := yamldoc.Parse(doc)  // the only YAML parse
//	m, err := v.JSON()            // kind, apiVersion, unknown fields
//	err = v.Decode(&svc)          // the typed object
//	item := v.Field("items").Item(2) // a List item, decoded the same way
package yamldoc

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/svcnet/svcnet/internal/carry"
	"github.com/svcnet/svcnet/internal/jsonfield"
	"go.yaml.in/yaml/v2"
)

// Value is a parsed YAML value: the document, or a part of it. The zero
// Value is YAML's null.
type Value struct{ v any }

// Parse parses one document strictly: a duplicate key is an error, as
// it is for YAMLToJSONStrict. Parse errors are go.yaml.in/yaml/v2's
// (`yaml: line 3: mapping values are not allowed in this context`).
func Parse(doc []byte) (Value, error) {
	var v any
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return Value{}, err
	}
	return Value{v}, nil
}

// Field returns the value of key in a mapping, or the zero Value when v
// is not a mapping or has no such key.
func (v Value) Field(key string) Value {
	m, _ := v.v.(map[any]any)
	return Value{m[key]}
}

// Item returns the i-th item of a sequence, or the zero Value when v is
// not a sequence or i is out of range.
func (v Value) Item(i int) Value {
	s, _ := v.v.([]any)
	if i < 0 || i >= len(s) {
		return Value{}
	}
	return Value{s[i]}
}

// JSON returns v as encoding/json decodes the JSON that
// sigs.k8s.io/yaml.YAMLToJSONStrict makes of it with UseNumber:
// map[string]any, []any, string, json.Number, bool or nil. A mapping key
// that is a number or a boolean becomes its string; a null or composite
// key, a non-finite number, or two keys that become the same string are
// errors.
func (v Value) JSON() (any, error) { return toJSON(v.v) }

func toJSON(v any) (any, error) { return convert(v, nil, jsonScalar) }

// jsonScalar is a scalar as encoding/json decodes its JSON with
// UseNumber.
func jsonScalar(v any, _ reflect.Type) (any, error) {
	switch v := v.(type) {
	case string:
		return validUTF8(v), nil
	case nil, bool:
		return v, nil
	case int:
		return json.Number(strconv.Itoa(v)), nil
	case int64:
		return json.Number(strconv.FormatInt(v, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(v, 10)), nil
	case float64:
		// encoding/json's own formatting, as the JSON text would hold it.
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err // json: unsupported value: NaN
		}
		return json.Number(b), nil
	}
	return nil, fmt.Errorf("yaml: unsupported value of type %T", v)
}

// convert turns a parsed value into what encoding/json works with:
// mappings into map[string]any (keys as keyString makes them), sequences
// into []any, and each scalar by leaf, given the Go type it decodes into
// (t's field or element type, pointers removed; nil when unknown or
// when it decodes itself).
func convert(v any, t reflect.Type, leaf func(v any, t reflect.Type) (any, error)) (any, error) {
	t = target(t)
	switch x := v.(type) {
	case map[any]any:
		var fields map[string]reflect.Type
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = jsonfield.Fields(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, err := keyString(k, e)
			if err != nil {
				return nil, err
			}
			if _, dup := m[ks]; dup {
				return nil, fmt.Errorf("yaml: key %q twice in one mapping (as %v)", ks, k)
			}
			et := elem
			if fields != nil {
				et = field(fields, ks)
			}
			je, err := convert(e, et, leaf)
			if err != nil {
				return nil, err
			}
			m[ks] = je
		}
		return m, nil
	case []any:
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		s := make([]any, len(x))
		for i, e := range x {
			je, err := convert(e, elem, leaf)
			if err != nil {
				return nil, err
			}
			s[i] = je
		}
		return s, nil
	}
	return leaf(v, t)
}

// keyString is a mapping key as sigs.k8s.io/yaml turns it into a JSON
// object key.
func keyString(k, v any) (string, error) {
	if s, ok := intOrBoolString(k); ok {
		return s, nil
	}
	switch k := k.(type) {
	case string:
		return validUTF8(k), nil
	case float64:
		s := strconv.FormatFloat(k, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return s, nil
	}
	return "", fmt.Errorf("unsupported map key of type: %s, key: %+#v, value: %+#v", reflect.TypeOf(k), k, v)
}

// validUTF8 replaces each byte that is not UTF-8 with U+FFFD, as
// encoding/json writes such a string.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Decode decodes v into out, a non-nil pointer, as
// sigs.k8s.io/yaml.Unmarshal decodes the document v was parsed from: a
// number or a boolean where out's type has a string becomes that string
// (a number as strconv.FormatFloat(x, 'g', -1, 32) writes a float, as
// sigs.k8s.io/yaml does), then encoding/json decodes, unknown fields
// ignored. Errors read as sigs.k8s.io/yaml's (`error unmarshaling JSON:
// while decoding JSON: json: cannot unmarshal ...`).
func (v Value) Decode(out any) error {
	j, err := toTyped(v.v, reflect.TypeOf(out))
	if err != nil {
		return fmt.Errorf("error converting YAML to JSON: %w", err)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("error converting YAML to JSON: %w", err)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
		return fmt.Errorf("error unmarshaling JSON: while decoding JSON: %w", err)
	}
	return nil
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// target is the type a value decodes into with pointers removed, or nil
// when the type decodes itself (a json.Unmarshaler or a
// TextUnmarshaler): such a value is passed on as the YAML holds it.
func target(t reflect.Type) reflect.Type {
	for t != nil {
		if carry.Carrier(t) {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			return t // an object type: its UnmarshalJSON decodes it as a plain struct
		}
		if t.Implements(jsonUnmarshalerType) || t.Implements(textUnmarshalerType) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			if reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
				return nil
			}
			return t
		}
		t = t.Elem()
	}
	return nil
}

// toTyped is toJSON with the scalars bound for a string turned into
// strings; t is the Go type v decodes into, or nil for none known.
func toTyped(v any, t reflect.Type) (any, error) { return convert(v, t, typedScalar) }

// typedScalar is a scalar as sigs.k8s.io/yaml passes it to
// json.Marshal: a number or a boolean for a string field as a string,
// anything else as it is (json.Marshal reports a non-finite float and
// writes invalid UTF-8 as U+FFFD itself).
func typedScalar(v any, t reflect.Type) (any, error) {
	if t == nil || t.Kind() != reflect.String {
		return v, nil
	}
	if s, ok := intOrBoolString(v); ok {
		return s, nil
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 32), nil
	}
	return v, nil
}

// intOrBoolString formats the integers and booleans go.yaml.in/yaml/v2
// parses as sigs.k8s.io/yaml writes them as strings.
func intOrBoolString(v any) (string, bool) {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// field is the type of the struct field a JSON key decodes into:
// encoding/json matches a key to a field's name exactly or, failing
// that, without regard to case (the smallest such name, for a
// deterministic choice).
func field(fields map[string]reflect.Type, key string) reflect.Type {
	if t, ok := fields[key]; ok {
		return t
	}
	best := ""
	var bt reflect.Type
	for name, t := range fields {
		if strings.EqualFold(name, key) && (bt == nil || name < best) {
			best, bt = name, t
		}
	}
	return bt
}
