// Package k8sschema knows every field of the Kubernetes objects svcnet
// reads — v1 Pod, Service, Node, Namespace and List, apps/v1 Deployment,
// StatefulSet, DaemonSet and ReplicaSet, discovery.k8s.io/v1
// EndpointSlice — and checks a decoded document against them, so that a
// field Kubernetes defines decodes (whether or not svcnet models it) and
// a field it does not define is an error naming its path, also deep in
// subtrees svcnet does not model (volumes, affinity, probes' httpGet).
//
// The schema is schema.txt, generated from k8s.io/api by the kube
// module's schemagen (the core module does not import k8s.io/api); a
// test there fails when the two differ. The flow:
//
//	t, ok := k8sschema.Lookup("v1", "Pod")
//	if p := t.Check(m, ""); p != nil { // m: the document as generic JSON
//		return fmt.Errorf("%s: %s", p.Field, p.Text) // spec.containers[0].imagePullPolizy: unknown field
//	}
//
// Check also turns a number or a boolean that stands where Kubernetes
// has a string into that string, as kubectl's YAML decoding
// (sigs.k8s.io/yaml, driven by the k8s.io/api Go type) does, so that
// what svcnet carries re-encodes as the API server would store it.
package k8sschema

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed schema.txt
var schemaText []byte

// Kind is what a Type is.
type Kind uint8

// The kinds of Type.
const (
	Struct Kind = iota
	List
	Map
	String
	Bool
	Int
	Uint
	Float
	Bytes
	Time
	Quantity
	IntOrString
	Duration
	Any
)

// Type is one type of the schema. Types are shared and immutable.
type Type struct {
	// Name is the struct's name ("core/v1.PodSpec") or the leaf's.
	Name string
	Kind Kind
	// Bits is the size of an Int: 32 or 64.
	Bits int
	// Fields are a Struct's fields by JSON name.
	Fields map[string]*Type
	// Elem is a List's item or a Map's value type.
	Elem *Type
}

type schema struct {
	kinds map[[2]string]*Type
	types map[string]*Type
}

// load parses schema.txt once; the table never changes.
var load = sync.OnceValues(func() (*schema, error) { return parse(schemaText) })

// Lookup returns the schema of apiVersion/kind ("v1", "Pod"), and
// whether the table has it.
func Lookup(apiVersion, kind string) (*Type, bool) {
	s, err := load()
	if err != nil {
		panic("k8sschema: schema.txt does not parse: " + err.Error()) // a bad generated file: a programmer error
	}
	t, ok := s.kinds[[2]string{apiVersion, kind}]
	return t, ok
}

// Named returns the named struct type ("core/v1.PodTemplateSpec").
func Named(name string) (*Type, bool) {
	s, err := load()
	if err != nil {
		panic("k8sschema: schema.txt does not parse: " + err.Error())
	}
	t, ok := s.types[name]
	return t, ok
}

// Kinds lists the table's kinds as "apiVersion/kind" pairs, in order.
func Kinds() [][2]string {
	s, _ := load()
	if s == nil {
		return nil
	}
	return slices.SortedFunc(maps.Keys(s.kinds), func(a, b [2]string) int {
		return strings.Compare(a[0]+" "+a[1], b[0]+" "+b[1])
	})
}

func parse(text []byte) (*schema, error) {
	s := &schema{kinds: map[[2]string]*Type{}, types: map[string]*Type{}}
	named := func(name string) *Type {
		t, ok := s.types[name]
		if !ok {
			t = &Type{Name: name, Kind: Struct, Fields: map[string]*Type{}}
			s.types[name] = t
		}
		return t
	}
	var expr func(string) (*Type, error)
	expr = func(e string) (*Type, error) {
		switch e {
		case "string":
			return &Type{Name: e, Kind: String}, nil
		case "bool":
			return &Type{Name: e, Kind: Bool}, nil
		case "int32":
			return &Type{Name: e, Kind: Int, Bits: 32}, nil
		case "int64":
			return &Type{Name: e, Kind: Int, Bits: 64}, nil
		case "uint64":
			return &Type{Name: e, Kind: Uint, Bits: 64}, nil
		case "float64":
			return &Type{Name: e, Kind: Float, Bits: 64}, nil
		case "bytes":
			return &Type{Name: e, Kind: Bytes}, nil
		case "time":
			return &Type{Name: e, Kind: Time}, nil
		case "quantity":
			return &Type{Name: e, Kind: Quantity}, nil
		case "intorstring":
			return &Type{Name: e, Kind: IntOrString}, nil
		case "duration":
			return &Type{Name: e, Kind: Duration}, nil
		case "any":
			return &Type{Name: e, Kind: Any}, nil
		}
		if rest, ok := strings.CutPrefix(e, "[]"); ok {
			el, err := expr(rest)
			return &Type{Name: e, Kind: List, Elem: el}, err
		}
		if rest, ok := strings.CutPrefix(e, "map[string]"); ok {
			el, err := expr(rest)
			return &Type{Name: e, Kind: Map, Elem: el}, err
		}
		if strings.Contains(e, ".") {
			return named(e), nil
		}
		return nil, fmt.Errorf("unknown type %q", e)
	}
	var cur *Type
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "\t") && cur != nil && len(f) >= 2:
			t, err := expr(f[1])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			cur.Fields[f[0]] = t
		case f[0] == "kind" && len(f) == 4:
			s.kinds[[2]string{f[1], f[2]}] = named(f[3])
		case f[0] == "type" && len(f) == 2:
			cur = named(f[1])
		default:
			return nil, fmt.Errorf("line %d: cannot parse %q", n, line)
		}
	}
	return s, sc.Err()
}

// Problem is where a document breaks the schema and why.
type Problem struct {
	// Field is the path ("spec.containers[0].tty"); Text what is wrong
	// ("unknown field", `invalid value "x": must be true or false`).
	Field, Text string
}

func (p *Problem) Error() string {
	if p.Field == "" {
		return p.Text
	}
	return p.Field + ": " + p.Text
}

// Check checks v, a document or a part of it as generic JSON
// (map[string]any, []any, string, json.Number, bool, nil, as
// yamldoc.Value.JSON makes it), against t, and returns the first problem
// in depth-first order, object keys sorted, or nil. path (with no
// trailing dot) starts every field path. A null is accepted anywhere: it
// decodes to the zero value, as Kubernetes' decoder has it.
//
// Check changes v in place where sigs.k8s.io/yaml would have: a number
// or a boolean standing for a string field becomes the string (a number
// with a fraction or an exponent formatted as strconv.FormatFloat(x, 'g',
// -1, 32) writes it, as sigs.k8s.io/yaml does). It never panics.
func (t *Type) Check(v any, path string) *Problem {
	_, p := check(v, t, path)
	return p
}

// check returns v, coerced, and the first problem under it.
func check(v any, t *Type, path string) (any, *Problem) {
	if v == nil {
		return nil, nil
	}
	bad := func(rule string) (any, *Problem) {
		return v, &Problem{Field: path, Text: "invalid value " + display(v) + ": " + rule}
	}
	switch t.Kind {
	case Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("must be an object")
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := t.Fields[k]
			if !ok {
				return v, &Problem{Field: p, Text: "unknown field"}
			}
			nv, prob := check(m[k], ft, p)
			if prob != nil {
				return v, prob
			}
			m[k] = nv
		}
	case Map:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("must be an object")
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			nv, prob := check(m[k], t.Elem, path+"["+k+"]")
			if prob != nil {
				return v, prob
			}
			m[k] = nv
		}
	case List:
		s, ok := v.([]any)
		if !ok {
			return bad("must be a list")
		}
		for i, it := range s {
			nv, prob := check(it, t.Elem, path+"["+strconv.Itoa(i)+"]")
			if prob != nil {
				return v, prob
			}
			s[i] = nv
		}
	case String:
		switch x := v.(type) {
		case string:
		case bool:
			return strconv.FormatBool(x), nil
		case json.Number:
			return numberString(x), nil
		default:
			return bad("must be a string")
		}
	case Bool:
		if _, ok := v.(bool); !ok {
			return bad("must be true or false")
		}
	case Int:
		n, ok := v.(json.Number)
		if !ok {
			return bad("must be an integer")
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits); err != nil {
			return bad(fmt.Sprintf("must be a %d-bit integer", t.Bits))
		}
	case Uint:
		n, ok := v.(json.Number)
		if !ok {
			return bad("must be a non-negative integer")
		}
		if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
			return bad("must be a non-negative 64-bit integer")
		}
	case Float:
		n, ok := v.(json.Number)
		if !ok {
			return bad("must be a number")
		}
		if _, err := strconv.ParseFloat(n.String(), 64); err != nil {
			return bad("must be a finite number")
		}
	case Bytes:
		s, ok := v.(string)
		if !ok {
			return bad("must be a base64 string")
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return bad("must be a base64 string")
		}
	case Time:
		s, ok := v.(string)
		if !ok {
			return bad("must be an RFC 3339 time")
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return bad("must be an RFC 3339 time")
		}
	case Quantity:
		// resource.Quantity reads a JSON string or number; its grammar
		// (resource.ParseQuantity) is the API server's to apply.
		switch v.(type) {
		case string, json.Number:
		default:
			return bad("must be a quantity such as \"100m\" or \"1Gi\"")
		}
	case IntOrString:
		switch x := v.(type) {
		case string:
		case json.Number:
			if _, err := strconv.ParseInt(x.String(), 10, 32); err != nil {
				return bad("must be a 32-bit integer or a string")
			}
		default:
			return bad("must be an integer or a string")
		}
	case Duration:
		s, ok := v.(string)
		if !ok {
			return bad("must be a duration such as \"30s\"")
		}
		if _, err := time.ParseDuration(s); err != nil {
			return bad("must be a duration such as \"30s\"")
		}
	case Any:
	}
	return v, nil
}

// numberString is a number bound for a string field as sigs.k8s.io/yaml
// writes it: an integer as written, a float as FormatFloat(f, 'g', -1,
// 32) (yamldoc's typedScalar does the same for svcnet's own types).
func numberString(n json.Number) string {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'g', -1, 32)
}

// display is a value as an error quotes it.
func display(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}
