// Package jsonfield maps a struct type's JSON field names to their types,
// as encoding/json sees them.
package jsonfield

import (
	"reflect"
	"strings"
)

// Fields maps the JSON names of the struct type t's fields to their
// types. Embedded structs without a JSON name, and pointers to them, are
// flattened, as encoding/json does; unexported fields and fields tagged
// "-" are left out.
func Fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range Fields(ft) {
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
