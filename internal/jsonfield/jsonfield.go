// Package jsonfield walks a decoded JSON value against the Go type it
// will be decoded into, as encoding/json sees that type: the one check
// of unknown fields behind both service's strict manifest decoding and
// sim's scenario decoding.
//
// A decoder unmarshals a document into any, then walks it:
//
//	jsonfield.Walk(m, reflect.TypeFor[service.Service](), "", func(v any, t reflect.Type, path string) jsonfield.Action {
//		if t == nil {
//			unknown = append(unknown, path) // a key the type has no field for
//			return jsonfield.Skip
//		}
//		return jsonfield.Descend
//	})
package jsonfield

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Fields maps the JSON names of the struct type t's fields to their
// types. Embedded structs without a JSON name, and pointers to them, are
// flattened, as encoding/json does; unexported fields and fields tagged
// "-" are left out. The map is computed once per type and shared, as
// encoding/json caches its field lists: the caller must not change it.
func Fields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m, _ := fieldCache.LoadOrStore(t, fields(t))
	return m.(map[string]reflect.Type)
}

// fieldCache memoises Fields by type: what a type's fields are never
// changes, so the cache holds no state beyond the types seen.
var fieldCache sync.Map

func fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range fields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// Action says what Walk does after a visit.
type Action uint8

// The actions.
const (
	// Descend walks into the value's fields, items or entries, when the
	// value is an object (map[string]any) for a struct or map type, or a
	// list ([]any) for a slice type; otherwise it is Skip.
	Descend Action = iota
	// Skip goes on with the value's next sibling.
	Skip
	// Stop ends the walk.
	Stop
)

// Walk walks v, a value decoded from JSON into any (map[string]any,
// []any, string, a number, bool or nil), against t, the type it will be
// decoded into, depth first, object keys in sorted order. It calls visit
// for each value it reaches, with t's pointers removed and the value's
// path: path itself for v, then "path.key" for a struct field
// ("key" when path is ""), "path[i]" for a list item and "path[key]"
// for a map entry. A key that the struct type has no field for (see
// Fields) is visited with a nil type and never descended into. Walk
// reports whether it ran to the end (no visit returned Stop).
//
// Walk knows nothing of types that decode themselves (json.RawMessage,
// a json.Unmarshaler): visit returns Skip for them.
func Walk(v any, t reflect.Type, path string, visit func(v any, t reflect.Type, path string) Action) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch visit(v, t, path) {
	case Stop:
		return false
	case Skip:
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return true
		}
		fields := Fields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				if visit(m[k], nil, p) == Stop {
					return false
				}
				continue
			}
			if !Walk(m[k], ft, p, visit) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return true
		}
		for i, it := range items {
			if !Walk(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i), visit) {
				return false
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return true
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !Walk(m[k], t.Elem(), path+"["+k+"]", visit) {
				return false
			}
		}
	}
	return true
}
