// Package decodetest checks svcnet's manifest decoding against
// Kubernetes' own types: objects of k8s.io/api filled at random with
// every field set (sigs.k8s.io/randfill, as Kubernetes' round-trip tests
// fill them) decode in svcnet and encode back to the same JSON, and a
// misspelled field anywhere in them is rejected with its path.
package decodetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"
	"sigs.k8s.io/yaml"

	"github.com/svcnet/svcnet/internal/jsonfield"

	"github.com/svcnet/svcnet/service"
	"github.com/svcnet/svcnet/sim"
)

// kinds pairs each k8s.io/api type with the svcnet type it decodes into.
var kinds = []struct {
	apiVersion, kind string
	k8s              func() any
	svcnet           func() service.Object
}{
	{"v1", "Pod", func() any { return new(corev1.Pod) }, func() service.Object { return new(service.Pod) }},
	{"v1", "Service", func() any { return new(corev1.Service) }, func() service.Object { return new(service.Service) }},
	{"v1", "Node", func() any { return new(corev1.Node) }, func() service.Object { return new(service.Node) }},
	{"v1", "Namespace", func() any { return new(corev1.Namespace) }, func() service.Object { return new(service.Namespace) }},
	{"discovery.k8s.io/v1", "EndpointSlice", func() any { return new(discoveryv1.EndpointSlice) }, func() service.Object { return new(service.EndpointSlice) }},
	{"apps/v1", "Deployment", func() any { return new(appsv1.Deployment) }, func() service.Object { return new(sim.Deployment) }},
	{"apps/v1", "StatefulSet", func() any { return new(appsv1.StatefulSet) }, func() service.Object { return new(sim.StatefulSet) }},
	{"apps/v1", "DaemonSet", func() any { return new(appsv1.DaemonSet) }, func() service.Object { return new(sim.DaemonSet) }},
	{"apps/v1", "ReplicaSet", func() any { return new(appsv1.ReplicaSet) }, func() service.Object { return new(sim.ReplicaSet) }},
}

// filler fills every field (no nils, one or two items per list and
// map), with values that encode to JSON as the API server writes them:
// times of whole seconds in UTC (metav1.Time's format), quantities in
// their canonical form, IntOrStrings of either kind, raw extensions and
// managed fields as JSON objects, and non-empty strings (an empty one is
// "unset" for a string without omitempty in one type and with it in
// another, the same value to Kubernetes' decoder).
func filler(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0).NumElements(1, 2).MaxDepth(12).Funcs(
		func(s *string, c randfill.Continue) {
			*s = "s" + c.String(8)
		},
		func(t *metav1.Time, c randfill.Continue) {
			*t = metav1.NewTime(time.Unix(c.Int63n(4e9), 0).UTC())
		},
		func(t *metav1.MicroTime, c randfill.Continue) {
			*t = metav1.NewMicroTime(time.Unix(c.Int63n(4e9), c.Int63n(1e6)*1e3).UTC())
		},
		func(q *resource.Quantity, c randfill.Continue) {
			suffix := []string{"", "m", "k", "Mi", "Gi"}[c.Intn(5)]
			*q = resource.MustParse(strconv.Itoa(1+c.Intn(5000)) + suffix)
		},
		func(v *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = intstr.FromInt32(c.Int31() - 1<<30)
			} else {
				*v = intstr.FromString("port-" + strconv.Itoa(c.Intn(100)))
			}
		},
		func(r *runtime.RawExtension, c randfill.Continue) {
			r.Raw = []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","data":{"k":%q}}`, c.String(5)))
		},
		func(f *metav1.FieldsV1, c randfill.Continue) {
			f.SetRawString(fmt.Sprintf(`{"f:metadata":{"f:labels":{"f:%s":{}}}}`, strconv.Itoa(c.Intn(1000))))
		},
		func(st *corev1.PodStatus, c randfill.Continue) {
			c.FillNoCustom(st)
			// Kubernetes' own rule for the two forms: podIPs[0] is podIP.
			st.PodIP, st.HostIP = st.PodIPs[0].IP, st.HostIPs[0].IP
		},
	)
}

// fill makes the i-th random object of a kind.
func fill(t *testing.T, i int, apiVersion, kind string, obj any) {
	t.Helper()
	filler(int64(i)*7919 + int64(len(kind))).Fill(obj)
	v := reflect.ValueOf(obj).Elem()
	v.FieldByName("TypeMeta").Set(reflect.ValueOf(metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}))
}

// generic decodes JSON into any, numbers as json.Number, with the null
// values removed: a null field and an absent one are the same to
// Kubernetes' decoder (and metav1.Time writes a zero time as null).
func generic(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return dropNulls(v)
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}

// iterations per kind and encoding; each is a whole object with every
// field set (a Pod is some 30 kB of JSON).
const iterations = 20

// TestRandomObjectsRoundTrip: every random object decodes in svcnet from
// its JSON and from its YAML, without error, and encodes back to JSON
// equal to what k8s.io/api encodes.
func TestRandomObjectsRoundTrip(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			for i := range iterations {
				in := k.k8s()
				fill(t, i, k.apiVersion, k.kind, in)
				js, err := json.Marshal(in)
				require.NoError(t, err)
				ys, err := yaml.Marshal(in)
				require.NoError(t, err)
				want := generic(t, js)
				for enc, data := range map[string][]byte{"json": js, "yaml": ys} {
					obj := k.svcnet()
					require.NoError(t, service.DecodeInto(data, obj), "object %d as %s:\n%s", i, enc, data)
					out, err := json.Marshal(obj)
					require.NoError(t, err)
					if got := generic(t, out); !reflect.DeepEqual(got, want) {
						require.JSONEq(t, string(js), string(out), "object %d as %s re-encodes differently", i, enc)
					}
				}
				if k.apiVersion == "v1" || k.kind == "EndpointSlice" {
					// The kinds Decode itself reads decode there too, and
					// as the item of a v1 List (kubectl get -o yaml).
					obj, err := service.Decode(js)
					require.NoError(t, err, "object %d", i)
					out, err := json.Marshal(obj)
					require.NoError(t, err)
					require.Equal(t, want, generic(t, out), "object %d through Decode", i)
					list := fmt.Sprintf(`{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[%s]}`, js)
					objs, err := service.DecodeAll([]byte(list))
					require.NoError(t, err, "object %d in a List", i)
					require.Len(t, objs, 1)
					out, err = json.Marshal(objs[0])
					require.NoError(t, err)
					require.Equal(t, want, generic(t, out), "object %d through a List", i)
				}
			}
		})
	}
}

// TestRandomMisspelledFields: a random object with one field key (at a
// random depth, in a struct, not a map's key) misspelled is rejected,
// and the error names the misspelled field's whole path.
func TestRandomMisspelledFields(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			for i := range iterations {
				in := k.k8s()
				fill(t, i, k.apiVersion, k.kind, in)
				js, err := json.Marshal(in)
				require.NoError(t, err)
				doc := generic(t, js)
				var keys []fieldKey
				structKeys(doc, reflect.TypeOf(in), "", &keys)
				require.NotEmpty(t, keys)
				r := rand.New(rand.NewPCG(uint64(i), 17))
				fk := keys[r.IntN(len(keys))]
				bad := misspell(fk.name, r, fk.fields)
				rename(fk.parent, fk.name, bad)
				path := bad
				if fk.path != "" {
					path = fk.path + "." + bad
				}
				data, err := json.Marshal(doc)
				require.NoError(t, err)
				ys, err := yaml.JSONToYAML(data)
				require.NoError(t, err)
				for enc, data := range map[string][]byte{"json": data, "yaml": ys} {
					err := service.DecodeInto(data, k.svcnet())
					require.Error(t, err, "object %d as %s: %s misspelled as %s was accepted", i, enc, fk.name, path)
					require.ErrorContains(t, err, ": "+path+": unknown field", "object %d as %s", i, enc)
				}
			}
		})
	}
}

// fieldKey is one key of a struct-typed object in a document.
type fieldKey struct {
	parent map[string]any
	name   string
	// path is the parent's path, as svcnet's errors write it.
	path string
	// fields are the JSON names of the parent's type, which a
	// misspelling must not hit.
	fields map[string]bool
}

// structKeys collects the keys of the objects in v that stand for a
// struct of type t (maps' keys are free, and types that encode
// themselves are not looked into), apiVersion and kind at the top left
// out (they choose the type).
func structKeys(v any, t reflect.Type, path string, out *[]fieldKey) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if encodesItself(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonfield.Fields(t)
		names := map[string]bool{}
		for n := range fields {
			names[n] = true
		}
		for _, k := range slices.Sorted(mapKeys(m)) {
			if path == "" && (k == "apiVersion" || k == "kind") {
				continue
			}
			*out = append(*out, fieldKey{m, k, path, names})
			p := k
			if path != "" {
				p = path + "." + k
			}
			if ft, ok := fields[k]; ok {
				structKeys(m[k], ft, p, out)
			}
		}
	case reflect.Slice:
		s, ok := v.([]any)
		if !ok {
			return
		}
		for i, e := range s {
			structKeys(e, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, k := range slices.Sorted(mapKeys(m)) {
			structKeys(m[k], t.Elem(), path+"["+k+"]", out)
		}
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var (
	marshalerType   = reflect.TypeFor[json.Marshaler]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

func encodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(marshalerType) || p.Implements(marshalerType) || t.Implements(unmarshalerType) || p.Implements(unmarshalerType)
}

// misspell changes one letter of name, or doubles one, so that it is no
// field of the struct (taken: its fields).
func misspell(name string, r *rand.Rand, taken map[string]bool) string {
	for range 100 {
		b := []byte(name)
		i := r.IntN(len(b))
		var s string
		if r.IntN(2) == 0 {
			b[i] = "abcdefghijklmnopqrstuvwxyz"[r.IntN(26)]
			s = string(b)
		} else {
			s = name[:i] + name[i:i+1] + name[i:]
		}
		if !taken[s] && !strings.EqualFold(s, name) {
			return s
		}
	}
	return name + "Zz"
}

func rename(m map[string]any, from, to string) {
	m[to] = m[from]
	delete(m, from)
}
