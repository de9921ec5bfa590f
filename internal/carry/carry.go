// Package carry keeps the part of a decoded Kubernetes object that its
// Go type does not model, so that the object re-encodes with it: the
// lossless half of svcnet's manifest decoding.
//
// An object type (service.Service, sim.Deployment) embeds a Remainder
// (through service.TypeMeta) and decodes and encodes itself through
// Unmarshal and Marshal with a method-less copy of its own type:
//
//	func (s *Service) UnmarshalJSON(b []byte) error {
//		type plain Service
//		return carry.Unmarshal(b, (*plain)(s), &s.TypeMeta.carried.r)
//	}
//
// Unmarshal decodes the modelled fields as encoding/json does and keeps
// every other one, at its path, in the Remainder; Marshal encodes the
// modelled fields and merges the Remainder back in. A Remainder is
// immutable once made, so a shallow copy of an object (DeepCopy's
// `c := *s`) shares it safely.
//
// The Remainder is aligned to the object as it was decoded: an
// unmodelled field of spec.containers[1] is merged into whatever
// spec.containers[1] is when the object is encoded, and dropped when
// the list has become shorter. A struct the Go type omits when empty
// (status: {} omitted) is re-created to hold its carried fields.
package carry

import (
	"bytes"
	"encoding"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/svcnet/svcnet/internal/jsonfield"
)

// Remainder is the unmodelled part of one decoded object. The zero
// Remainder carries nothing.
type Remainder struct{ n *node }

// IsZero reports whether r carries nothing.
func (r Remainder) IsZero() bool { return r.n == nil }

// node is the remainder under one value: for an object, the keys the Go
// type lacks (extra, their values as decoded) and the modelled keys with
// unmodelled content below (fields); for a list, items by index; for a
// map, entries by key.
type node struct {
	extra   map[string]any
	fields  map[string]*node
	items   map[int]*node
	entries map[string]*node
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	remainderType       = reflect.TypeFor[Remainder]()
)

// Carrier reports whether t (pointers removed) is an object type that
// carries a Remainder in one of its fields, its embedded structs
// included: such a type's UnmarshalJSON is Unmarshal, and a walker that
// sees it should look into its fields as into a plain struct's.
func Carrier(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return false
	}
	if c, ok := carrierCache.Load(t); ok {
		return c.(bool)
	}
	c := hasRemainder(t, 0)
	carrierCache.Store(t, c)
	return c
}

// carrierCache memoises Carrier by type, as jsonfield caches fields.
var carrierCache sync.Map

func hasRemainder(t reflect.Type, depth int) bool {
	if depth > 4 {
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == remainderType {
			return true
		}
		ft := f.Type
		if f.Anonymous && ft.Kind() == reflect.Struct && hasRemainder(ft, depth+1) {
			return true
		}
		// A wrapper struct (service.Carried) holding a Remainder.
		if ft.Kind() == reflect.Struct && ft.NumField() == 1 && ft.Field(0).Type == remainderType {
			return true
		}
	}
	return false
}

// selfDecoding reports whether t decodes itself (and is not a Carrier,
// which decodes as a plain struct plus its Remainder).
func selfDecoding(t reflect.Type) bool {
	if Carrier(t) {
		return false
	}
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || p.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}

// Split returns the part of v, a JSON value decoded into any with
// UseNumber, that t does not model: the keys (at any depth) that
// encoding/json would ignore when decoding v into t. A key matches a
// field exactly or, as encoding/json matches, without regard to case.
// Values under a type that decodes itself (json.RawMessage, IntOrString)
// are modelled whole. Split keeps v's values; the caller must not change
// v afterwards.
func Split(v any, t reflect.Type) Remainder { return Remainder{split(v, t)} }

func split(v any, t reflect.Type) *node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if selfDecoding(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonfield.Fields(t)
		var n *node
		for k, e := range m {
			ft, ok := fields[k]
			if !ok {
				ft, ok = foldField(fields, k)
			}
			if !ok {
				if n == nil {
					n = &node{}
				}
				if n.extra == nil {
					n.extra = map[string]any{}
				}
				n.extra[k] = e
				continue
			}
			if sub := split(e, ft); sub != nil {
				if n == nil {
					n = &node{}
				}
				if n.fields == nil {
					n.fields = map[string]*node{}
				}
				n.fields[k] = sub
			}
		}
		return n
	case reflect.Slice, reflect.Array:
		s, ok := v.([]any)
		if !ok {
			return nil
		}
		var n *node
		for i, e := range s {
			if sub := split(e, t.Elem()); sub != nil {
				if n == nil {
					n = &node{items: map[int]*node{}}
				}
				n.items[i] = sub
			}
		}
		return n
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		var n *node
		for k, e := range m {
			if sub := split(e, t.Elem()); sub != nil {
				if n == nil {
					n = &node{entries: map[string]*node{}}
				}
				n.entries[k] = sub
			}
		}
		return n
	}
	return nil
}

func foldField(fields map[string]reflect.Type, key string) (reflect.Type, bool) {
	for name, t := range fields {
		if strings.EqualFold(name, key) {
			return t, true
		}
	}
	return nil, false
}

// Unmarshal decodes b into plain (a pointer to an object type without
// methods of its own, so that encoding/json does not call back into the
// caller's UnmarshalJSON) and stores in *r what plain's type does not
// model. Errors are encoding/json's.
func Unmarshal(b []byte, plain any, r *Remainder) error {
	if err := json.Unmarshal(b, plain); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return err
	}
	*r = Split(g, reflect.TypeOf(plain))
	return nil
}

// Marshal encodes plain as encoding/json does and merges r into it.
// With a zero r it is json.Marshal(plain), byte for byte.
func Marshal(plain any, r Remainder) ([]byte, error) {
	b, err := json.Marshal(plain)
	if err != nil || r.n == nil {
		return b, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, err
	}
	return json.Marshal(merge(g, r.n))
}

// merge adds n's carried values to v, a freshly decoded JSON value, and
// returns it.
func merge(v any, n *node) any {
	switch {
	case n.extra != nil || n.fields != nil:
		m, ok := v.(map[string]any)
		if !ok {
			if v != nil {
				return v
			}
			m = map[string]any{}
		}
		for k, e := range n.extra {
			if _, has := m[k]; !has {
				m[k] = e
			}
		}
		for k, sub := range n.fields {
			child := m[k]
			if child == nil && sub.items == nil && sub.entries == nil {
				child = map[string]any{}
			}
			if child != nil {
				m[k] = merge(child, sub)
			}
		}
		return m
	case n.items != nil:
		s, ok := v.([]any)
		if !ok {
			return v
		}
		for i, sub := range n.items {
			if i < len(s) && s[i] != nil {
				s[i] = merge(s[i], sub)
			}
		}
		return s
	case n.entries != nil:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for k, sub := range n.entries {
			if e, has := m[k]; has && e != nil {
				m[k] = merge(e, sub)
			}
		}
		return m
	}
	return v
}

// Paths lists the paths of the carried fields, sorted:
// "spec.containers[0].tty", "status.daemonEndpoints".
func (r Remainder) Paths() []string {
	var out []string
	var walk func(n *node, path string)
	join := func(path, k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	walk = func(n *node, path string) {
		for k := range n.extra {
			out = append(out, join(path, k))
		}
		for k, sub := range n.fields {
			walk(sub, join(path, k))
		}
		for i, sub := range n.items {
			walk(sub, path+"["+strconv.Itoa(i)+"]")
		}
		for k, sub := range n.entries {
			walk(sub, path+"["+k+"]")
		}
	}
	if r.n != nil {
		walk(r.n, "")
	}
	slices.Sort(out)
	return out
}

// Get returns a copy of the carried value at the path of JSON keys (no
// list indexes) and whether there is one: Get("spec",
// "enableServiceLinks").
func (r Remainder) Get(keys ...string) (any, bool) {
	n := r.n
	for i, k := range keys {
		if n == nil {
			return nil, false
		}
		if i == len(keys)-1 {
			v, ok := n.extra[k]
			return cloneJSON(v), ok
		}
		n = n.fields[k]
	}
	return nil, false
}

// cloneJSON copies a generic JSON value, so that the Remainder's own
// stays immutable.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = cloneJSON(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = cloneJSON(e)
		}
		return c
	}
	return v
}

// Without returns r without the carried value at the path of object keys
// (no list indexes), r itself when it has none there. r is not changed:
// the nodes along the path are copied.
func (r Remainder) Without(keys ...string) Remainder {
	if _, ok := r.Get(keys...); !ok {
		return r
	}
	return Remainder{without(r.n, keys)}
}

func without(n *node, keys []string) *node {
	c := *n
	if len(keys) == 1 {
		c.extra = maps.Clone(n.extra)
		delete(c.extra, keys[0])
		if len(c.extra) == 0 {
			c.extra = nil
		}
	} else {
		c.fields = maps.Clone(n.fields)
		if sub := without(n.fields[keys[0]], keys[1:]); sub != nil {
			c.fields[keys[0]] = sub
		} else {
			delete(c.fields, keys[0])
		}
		if len(c.fields) == 0 {
			c.fields = nil
		}
	}
	if c.extra == nil && c.fields == nil && c.items == nil && c.entries == nil {
		return nil
	}
	return &c
}

// Sub returns what r carries under the object at the path of JSON keys
// (no list indexes), as a Remainder of that object: a Deployment's
// Sub("spec", "template") is what its pod template carries, aligned with
// a pod built from the template (its metadata and spec). The zero
// Remainder when nothing is carried there.
func (r Remainder) Sub(keys ...string) Remainder {
	n := r.n
	for _, k := range keys {
		if n == nil {
			return Remainder{}
		}
		n = n.fields[k]
	}
	return Remainder{n}
}
