// Package schemagen writes svcnet's table of the Kubernetes object
// schemas (internal/k8sschema/schema.txt in the core module) by walking
// the k8s.io/api Go types by reflection, as encoding/json and
// Kubernetes' own JSON decoder (sigs.k8s.io/json) see them: json tags,
// embedded and ",inline" structs flattened, pointers transparent, and
// the types that encode themselves (metav1.Time, resource.Quantity,
// intstr.IntOrString, runtime.RawExtension, metav1.FieldsV1) named by
// what their JSON is.
//
// The core module cannot import k8s.io/api (its dependencies stay
// small), so the table is generated here and checked in there; the
// test TestSchemaUpToDate fails when the two differ. Regenerate with
//
//	cd kube && go run ./internal/schemagen/cmd/k8sschemagen -o ../internal/k8sschema/schema.txt
package schemagen

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Kind is one top-level kind the table describes.
type Kind struct {
	APIVersion, Kind string
	Type             reflect.Type
}

// Kinds are the kinds svcnet reads from manifests and dumps, in the
// order the table lists them.
var Kinds = []Kind{
	{"v1", "Pod", reflect.TypeFor[corev1.Pod]()},
	{"v1", "Service", reflect.TypeFor[corev1.Service]()},
	{"v1", "Node", reflect.TypeFor[corev1.Node]()},
	{"v1", "Namespace", reflect.TypeFor[corev1.Namespace]()},
	{"v1", "List", reflect.TypeFor[metav1.List]()},
	{"apps/v1", "Deployment", reflect.TypeFor[appsv1.Deployment]()},
	{"apps/v1", "StatefulSet", reflect.TypeFor[appsv1.StatefulSet]()},
	{"apps/v1", "DaemonSet", reflect.TypeFor[appsv1.DaemonSet]()},
	{"apps/v1", "ReplicaSet", reflect.TypeFor[appsv1.ReplicaSet]()},
	{"discovery.k8s.io/v1", "EndpointSlice", reflect.TypeFor[discoveryv1.EndpointSlice]()},
}

// special are the types that encode themselves, by the leaf name the
// table gives them. Any other self-encoding type is an error of
// Generate, so that a new one in k8s.io/api is noticed, not guessed.
var special = map[reflect.Type]string{
	reflect.TypeFor[metav1.Time]():          "time",
	reflect.TypeFor[metav1.MicroTime]():     "time",
	reflect.TypeFor[resource.Quantity]():    "quantity",
	reflect.TypeFor[intstr.IntOrString]():   "intorstring",
	reflect.TypeFor[runtime.RawExtension](): "any",
	reflect.TypeFor[metav1.FieldsV1]():      "any",
	reflect.TypeFor[metav1.Duration]():      "duration",
}

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Generate returns the table: a header, one "kind" line per Kind, then
// one "type" block per named struct type reached, sorted by name, each
// field a line "\tjsonName type" with " omitempty" when the field is
// omitted when empty. Types are "string", "bool", "int32", "int64",
// "uint64", "float64", "bytes" (base64), "time", "quantity",
// "intorstring", "duration", "any", "[]T", "map[string]T" or a named
// struct ("core/v1.PodSpec").
func Generate() ([]byte, error) {
	g := &gen{types: map[string][]string{}}
	var b strings.Builder
	b.WriteString("# The Kubernetes object schemas svcnet decodes against: every field of\n")
	b.WriteString("# each kind, by JSON name. Generated from k8s.io/api " + apiVersion + " by\n")
	b.WriteString("# kube/internal/schemagen; DO NOT EDIT.\n")
	for _, k := range Kinds {
		name, err := g.typ(k.Type)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", k.APIVersion, k.Kind, err)
		}
		fmt.Fprintf(&b, "kind %s %s %s\n", k.APIVersion, k.Kind, name)
	}
	for _, name := range slices.Sorted(mapsKeys(g.types)) {
		fmt.Fprintf(&b, "type %s\n", name)
		for _, f := range g.types[name] {
			b.WriteString("\t" + f + "\n")
		}
	}
	return []byte(b.String()), nil
}

// apiVersion is the k8s.io/api release the table is made from.
const apiVersion = "v0.37.2"

func mapsKeys(m map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

type gen struct {
	// types holds each named struct's field lines; a name present with
	// nil lines is being generated (a recursive reference).
	types map[string][]string
}

// typ returns t's name in the table, generating its block if it is a
// struct not seen yet.
func (g *gen) typ(t reflect.Type) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := special[t]; ok {
		return s, nil
	}
	if selfEncoding(t) {
		return "", fmt.Errorf("type %s encodes itself and has no entry in schemagen's special table", t)
	}
	switch t.Kind() {
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "bool", nil
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return "int32", nil
	case reflect.Int, reflect.Int64:
		return "int64", nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint, reflect.Uint64:
		return "uint64", nil
	case reflect.Float32, reflect.Float64:
		return "float64", nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes", nil
		}
		e, err := g.typ(t.Elem())
		return "[]" + e, err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return "", fmt.Errorf("map type %s: keys are not strings", t)
		}
		e, err := g.typ(t.Elem())
		return "map[string]" + e, err
	case reflect.Struct:
		name := typeName(t)
		if _, ok := g.types[name]; ok {
			return name, nil
		}
		g.types[name] = nil
		fields, err := g.fields(t)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		slices.Sort(fields)
		g.types[name] = fields
		return name, nil
	}
	return "", fmt.Errorf("type %s of kind %s is not in the table's language", t, t.Kind())
}

// fields lists t's JSON fields, embedded and inline structs flattened.
func (g *gen) fields(t reflect.Type) ([]string, error) {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		inline := strings.Contains(","+opts+",", ",inline,")
		if f.Anonymous && (name == "" || inline) || inline {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() != reflect.Struct || selfEncoding(ft) {
				return nil, fmt.Errorf("field %s: inline of a non-struct %s", f.Name, ft)
			}
			sub, err := g.fields(ft)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ts, err := g.typ(f.Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		line := name + " " + ts
		if strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,") {
			line += " omitempty"
		}
		out = append(out, line)
	}
	return out, nil
}

// typeName is "core/v1.PodSpec" for k8s.io/api/core/v1.PodSpec: the
// last two elements of the package path and the type's name.
func typeName(t reflect.Type) string {
	parts := strings.Split(t.PkgPath(), "/")
	if len(parts) >= 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/") + "." + t.Name()
}

func selfEncoding(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	for _, i := range []reflect.Type{marshalerType, unmarshalerType, textMarshalerType, textUnmarshalerType} {
		if t.Implements(i) || p.Implements(i) {
			return true
		}
	}
	return false
}
