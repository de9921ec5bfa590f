package convert

import (
	"encoding/json"
	"math/rand"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/resource"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/randfill"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
	"github.com/svcnet/svcnet/sim"
)

// seeds is how many random objects of each kind the round-trip tests try.
const seeds = 150

// kubeFiller fills Kubernetes objects with every field set (no nil
// pointers, one or two elements in every list and map), with
// apimachinery's own fill functions for metadata, times and quantities,
// as Kubernetes' round-trip tests do (apitesting/roundtrip).
func kubeFiller(seed int64) *randfill.Filler {
	return fuzzer.FuzzerFor(metafuzzer.Funcs, rand.NewSource(seed), scheme.Codecs).
		NilChance(0).NumElements(1, 2).MaxDepth(24).
		Funcs(
			func(s *discoveryv1.EndpointSlice, c randfill.Continue) {
				c.FillNoCustom(s)
				// Only IP slices convert; addresses of the family.
				v6 := c.Bool()
				s.AddressType = discoveryv1.AddressTypeIPv4
				if v6 {
					s.AddressType = discoveryv1.AddressTypeIPv6
				}
				for i := range s.Endpoints {
					for j := range s.Endpoints[i].Addresses {
						s.Endpoints[i].Addresses[j] = randAddr(c.Rand, v6).String()
					}
				}
			},
		)
}

// randAddr is a random address of the family.
func randAddr(r *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		r.Read(b[:])
		b[0] = 0xfd
		return netip.AddrFrom16(b)
	}
	var b [4]byte
	r.Read(b[:])
	b[0] = 10
	return netip.AddrFrom4(b)
}

// kubeKinds are the kinds the tests convert: a new Kubernetes object of
// the kind with its TypeMeta set as ToKube sets it, and the round trip
// Kubernetes → svcnet → Kubernetes.
var kubeKinds = []struct {
	kind  string
	fresh func() any
	trip  func(any) (any, error)
}{
	{"Service", func() any { return &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}} },
		func(o any) (any, error) {
			s, err := ServiceFromKube(o.(*corev1.Service))
			if err != nil {
				return nil, err
			}
			return ServiceToKube(s)
		}},
	{"Pod", func() any { return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}} },
		func(o any) (any, error) {
			s, err := PodFromKube(o.(*corev1.Pod))
			if err != nil {
				return nil, err
			}
			return PodToKube(s)
		}},
	{"Node", func() any { return &corev1.Node{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}} },
		func(o any) (any, error) {
			s, err := NodeFromKube(o.(*corev1.Node))
			if err != nil {
				return nil, err
			}
			return NodeToKube(s)
		}},
	{"Namespace", func() any { return &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}} },
		func(o any) (any, error) {
			m, err := NamespaceFromKube(o.(*corev1.Namespace))
			if err != nil {
				return nil, err
			}
			return NamespaceToKube(m)
		}},
	{"EndpointSlice", func() any {
		return &discoveryv1.EndpointSlice{TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"}}
	},
		func(o any) (any, error) {
			s, err := SliceFromKube(o.(*discoveryv1.EndpointSlice))
			if err != nil {
				return nil, err
			}
			return SliceToKube(s), nil
		}},
	{"Deployment", func() any {
		return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}}
	},
		func(o any) (any, error) {
			s, err := DeploymentFromKube(o.(*appsv1.Deployment))
			if err != nil {
				return nil, err
			}
			return DeploymentToKube(s)
		}},
}

// TestKubeRoundTrip converts Kubernetes objects with every field set at
// random to svcnet and back, and checks that the JSON of the result
// equals the original's but for the fields NotCarried lists; and that
// each listed field was dropped in some object (the list is not stale).
func TestKubeRoundTrip(t *testing.T) {
	for _, k := range kubeKinds {
		t.Run(k.kind, func(t *testing.T) {
			dropped := map[string]bool{}
			for seed := range int64(seeds) {
				in := k.fresh()
				tm := reflect.ValueOf(in).Elem().FieldByName("TypeMeta").Interface()
				kubeFiller(seed).Fill(in)
				reflect.ValueOf(in).Elem().FieldByName("TypeMeta").Set(reflect.ValueOf(tm))
				out, err := k.trip(in)
				require.NoError(t, err, "seed %d", seed)
				for _, p := range jsonDiff(t, in, out) {
					dropped[p] = true
					require.Contains(t, NotCarried[k.kind], p, "seed %d: %s %s changed in the round trip and is not in NotCarried", seed, k.kind, p)
				}
			}
			for _, p := range NotCarried[k.kind] {
				require.True(t, dropped[p], "NotCarried[%q] lists %s, which no round trip dropped", k.kind, p)
			}
		})
	}
}

// TestNotCarriedAgainstSchemas checks each NotCarried path against the
// two type definitions: Kubernetes' type declares it, svcnet's does not
// (its parent is declared, so the path is one field svcnet lacks).
func TestNotCarriedAgainstSchemas(t *testing.T) {
	svcnetTypes := map[string]reflect.Type{
		"Service": reflect.TypeFor[service.Service](), "Pod": reflect.TypeFor[service.Pod](),
		"Node": reflect.TypeFor[service.Node](), "Namespace": reflect.TypeFor[namespaceShape](),
		"EndpointSlice": reflect.TypeFor[endpoints.Slice](), "Deployment": reflect.TypeFor[sim.Deployment](),
	}
	for _, k := range kubeKinds {
		kt := reflect.TypeOf(k.fresh()).Elem()
		st := svcnetTypes[k.kind]
		for _, p := range NotCarried[k.kind] {
			_, ok := typeAt(kt, p)
			require.True(t, ok, "%s: Kubernetes' type has no %s", k.kind, p)
			_, ok = typeAt(st, p)
			require.False(t, ok, "%s: svcnet's type declares %s, which NotCarried lists", k.kind, p)
			parent := p[:max(0, strings.LastIndex(p, "."))]
			if parent != "" {
				_, ok = typeAt(st, strings.TrimSuffix(parent, "[*]"))
				require.True(t, ok, "%s: svcnet's type lacks %s's parent; list the parent instead", k.kind, p)
			}
		}
	}
}

// namespaceShape is the Namespace as svcnet carries it: metadata only.
type namespaceShape struct {
	service.TypeMeta   `json:",inline"`
	service.ObjectMeta `json:"metadata,omitempty"`
}

// jsonDiff returns the JSON paths, lists' indexes as [*], where a and b
// differ; absent, null, "", 0, false, [] and objects of such values
// count as one value (the omitempty rules of the two sides differ).
func jsonDiff(t *testing.T, a, b any) []string {
	t.Helper()
	var ta, tb any
	for _, p := range []struct {
		v   any
		dst *any
	}{{a, &ta}, {b, &tb}} {
		raw, err := json.Marshal(p.v)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, p.dst))
	}
	set := map[string]bool{}
	diffAt("", ta, tb, set)
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case float64:
		return v == 0
	case bool:
		return !v
	case []any:
		return len(v) == 0
	case map[string]any:
		// An object of empty fields is empty: a struct without
		// omitempty written by one side, absent on the other.
		for _, e := range v {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	}
	return false
}

func diffAt(path string, a, b any, out map[string]bool) {
	if isEmpty(a) && isEmpty(b) {
		return
	}
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if aok && bok || aok && isEmpty(b) || bok && isEmpty(a) {
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			va, vb := ma[k], mb[k]
			if isEmpty(va) != isEmpty(vb) {
				out[p] = true
				continue
			}
			diffAt(p, va, vb, out)
		}
		return
	}
	la, aok := a.([]any)
	lb, bok := b.([]any)
	if aok && bok && len(la) == len(lb) {
		for i := range la {
			diffAt(path+"[*]", la[i], lb[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		out[path] = true
	}
}

// typeAt returns the Go type at a JSON path of t ("spec.containers[*].env"),
// following json tags and inlined embedded structs.
func typeAt(t reflect.Type, path string) (reflect.Type, bool) {
	for part := range strings.SplitSeq(path, ".") {
		list := strings.HasSuffix(part, "[*]")
		part = strings.TrimSuffix(part, "[*]")
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		f, ok := jsonField(t, part)
		if !ok {
			return nil, false
		}
		t = f.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if list {
			if t.Kind() != reflect.Slice {
				return nil, false
			}
			t = t.Elem()
		}
	}
	return t, true
}

// jsonName is a struct field's JSON name, and whether it is inlined.
func jsonName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if tag == "-" {
		return "", false
	}
	if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
		return "", true
	}
	if name == "" {
		name = f.Name
	}
	return name, false
}

// jsonField finds the field of struct t with JSON name name.
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		n, inline := jsonName(f)
		if inline {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if g, ok := jsonField(ft, name); ok {
					return g, true
				}
			}
			continue
		}
		if !f.IsExported() || n == "" {
			continue
		}
		if n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// svcnetFiller fills a svcnet object at random, field by field, walking
// the Kubernetes type beside it: a field svcnet declares and Kubernetes
// does not fails the test (the two schemas must agree), and each field
// svcnet carries as raw JSON gets the JSON of a random value of the
// Kubernetes field at the same path, so that it converts.
type svcnetFiller struct {
	t    *testing.T
	r    *rand.Rand
	kube *randfill.Filler
}

func (g *svcnetFiller) fill(v reflect.Value, kt reflect.Type, path string) {
	for kt.Kind() == reflect.Pointer {
		kt = kt.Elem()
	}
	switch v.Type() {
	case reflect.TypeFor[json.RawMessage]():
		kv := reflect.New(kt)
		g.kube.Fill(kv.Interface())
		raw, err := json.Marshal(kv.Interface())
		require.NoError(g.t, err, path)
		// Kubernetes' own form of it (a quantity as it prints it).
		kv = reflect.New(kt)
		require.NoError(g.t, json.Unmarshal(raw, kv.Interface()), path)
		raw, err = json.Marshal(kv.Interface())
		require.NoError(g.t, err, path)
		v.SetBytes(raw)
		return
	case reflect.TypeFor[time.Time]():
		// Whole seconds: metav1.Time's wire precision.
		v.Set(reflect.ValueOf(time.Unix(g.r.Int63n(2e9), 0).UTC()))
		return
	case reflect.TypeFor[service.IntOrString]():
		if g.r.Intn(2) == 0 {
			v.Set(reflect.ValueOf(service.FromInt(g.r.Int31n(65535) + 1)))
		} else {
			v.Set(reflect.ValueOf(service.FromString(g.word())))
		}
		return
	case reflect.TypeFor[netip.Addr]():
		v.Set(reflect.ValueOf(randAddr(g.r, false)))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		g.fill(v.Elem(), kt, path)
	case reflect.Slice:
		n := 1 + g.r.Intn(2)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		ke := kt
		if kt.Kind() == reflect.Slice {
			ke = kt.Elem()
		}
		for i := range n {
			g.fill(v.Index(i), ke, path+"[*]")
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + g.r.Intn(2) {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString(g.word())
			e := reflect.New(v.Type().Elem()).Elem()
			e.SetString(g.word())
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, inline := jsonName(f)
			if inline {
				g.fill(v.Field(i), kt, path)
				continue
			}
			kf, ok := jsonField(kt, name)
			p := strings.TrimPrefix(path+"."+name, ".")
			require.True(g.t, ok, "svcnet declares %s, which Kubernetes' %s does not", p, kt)
			g.fill(v.Field(i), kf.Type, p)
		}
	case reflect.String:
		v.SetString(g.word())
	case reflect.Bool:
		v.SetBool(g.r.Intn(2) == 0)
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(g.r.Int63n(1 << 30))
	default:
		g.t.Fatalf("%s: cannot fill a %s", path, v.Type())
	}
}

func (g *svcnetFiller) word() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-"
	b := make([]byte, 1+g.r.Intn(8))
	for i := range b {
		b[i] = letters[g.r.Intn(len(letters))]
	}
	return string(b)
}

func newSvcnetFiller(t *testing.T, seed int64) *svcnetFiller {
	return &svcnetFiller{t: t, r: rand.New(rand.NewSource(seed)), kube: kubeFiller(seed).Funcs(
		// Managed fields' FieldsV1 must be JSON.
		func(f *metav1.FieldsV1, c randfill.Continue) { f.SetRawString(`{"f:spec":{}}`) },
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewQuantity(c.Int63n(1000), resource.DecimalSI)
		},
	)}
}

// TestSvcnetRoundTrip fills svcnet objects at random, every field set,
// converts them to Kubernetes and back, and checks they are unchanged.
func TestSvcnetRoundTrip(t *testing.T) {
	type kind struct {
		name  string
		kube  reflect.Type
		fresh func() any
		trip  func(any) (any, error)
	}
	kinds := []kind{
		{"Service", reflect.TypeFor[corev1.Service](), func() any { return &service.Service{} }, func(o any) (any, error) {
			k, err := ServiceToKube(o.(*service.Service))
			if err != nil {
				return nil, err
			}
			return ServiceFromKube(k)
		}},
		{"Pod", reflect.TypeFor[corev1.Pod](), func() any { return &service.Pod{} }, func(o any) (any, error) {
			k, err := PodToKube(o.(*service.Pod))
			if err != nil {
				return nil, err
			}
			return PodFromKube(k)
		}},
		{"Node", reflect.TypeFor[corev1.Node](), func() any { return &service.Node{} }, func(o any) (any, error) {
			k, err := NodeToKube(o.(*service.Node))
			if err != nil {
				return nil, err
			}
			return NodeFromKube(k)
		}},
		{"EndpointSlice", reflect.TypeFor[discoveryv1.EndpointSlice](), func() any { return &endpoints.Slice{} }, func(o any) (any, error) {
			return SliceFromKube(SliceToKube(o.(*endpoints.Slice)))
		}},
		{"Deployment", reflect.TypeFor[appsv1.Deployment](), func() any { return &sim.Deployment{} }, func(o any) (any, error) {
			k, err := DeploymentToKube(o.(*sim.Deployment))
			if err != nil {
				return nil, err
			}
			return DeploymentFromKube(k)
		}},
	}
	apiVersions := map[string]string{"EndpointSlice": "discovery.k8s.io/v1", "Deployment": "apps/v1"}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for seed := range int64(seeds) {
				in := k.fresh()
				g := newSvcnetFiller(t, seed)
				g.fill(reflect.ValueOf(in).Elem(), k.kube, "")
				// ToKube sets the TypeMeta; a slice's addresses are of
				// its family.
				tm := service.TypeMeta{APIVersion: cmpOr(apiVersions[k.name], "v1"), Kind: k.name}
				reflect.ValueOf(in).Elem().FieldByName("TypeMeta").Set(reflect.ValueOf(tm))
				if s, ok := in.(*endpoints.Slice); ok {
					v6 := g.r.Intn(2) == 0
					s.AddressType = endpoints.AddressTypeIPv4
					if v6 {
						s.AddressType = endpoints.AddressTypeIPv6
					}
					for i := range s.Endpoints {
						for j := range s.Endpoints[i].Addresses {
							s.Endpoints[i].Addresses[j] = randAddr(g.r, v6)
						}
					}
				}
				out, err := k.trip(in)
				require.NoError(t, err, "seed %d", seed)
				// Kubernetes' types write some zero values svcnet's omit
				// (status: {}, a kubelet port of 0); svcnet carries them.
				// The modelled fields must come back equal, and what is
				// carried must be only such zeros.
				require.Equal(t, prunedJSON(t, in), prunedJSON(t, out), "seed %d: carried more than zero values", seed)
				reflect.ValueOf(out).Elem().FieldByName("TypeMeta").Addr().Interface().(*service.TypeMeta).SetCarried(service.Carried{})
				require.Equal(t, in, out, "seed %d", seed)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestSliceConditionsNil checks discovery/v1's meanings of nil pointers:
// ready and serving true, terminating false, a port's name "" and
// protocol TCP; and that they are written back explicitly.
func TestSliceConditionsNil(t *testing.T) {
	in := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}},
		Ports:       []discoveryv1.EndpointPort{{}},
	}
	s, err := SliceFromKube(in)
	require.NoError(t, err)
	require.Equal(t, endpoints.Conditions{Ready: true, Serving: true, Terminating: false}, s.Endpoints[0].Conditions)
	require.Equal(t, endpoints.Port{Name: "", Protocol: service.ProtocolTCP}, s.Ports[0])
	require.Equal(t, "web", s.ServiceName())
	back := SliceToKube(s)
	require.Equal(t, discoveryv1.EndpointConditions{Ready: ptr(true), Serving: ptr(true), Terminating: ptr(false)}, back.Endpoints[0].Conditions)
	require.Equal(t, ptr(""), back.Ports[0].Name)
	require.Equal(t, ptr(corev1.ProtocolTCP), back.Ports[0].Protocol)
	require.Nil(t, back.Ports[0].Port, "port 0 is the nil port")
}

// TestSliceBadInput checks that what svcnet cannot hold is an *Error
// naming the field and the value, and no slice.
func TestSliceBadInput(t *testing.T) {
	base := func() *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2", "10.0.0.3"}}}}
	}
	cases := []struct {
		name         string
		mod          func(*discoveryv1.EndpointSlice)
		field, value string
	}{
		{"fqdn", func(s *discoveryv1.EndpointSlice) { s.AddressType = discoveryv1.AddressTypeFQDN }, "addressType", "FQDN"},
		{"not an IP", func(s *discoveryv1.EndpointSlice) { s.Endpoints[1].Addresses[1] = "db.example" }, "endpoints[1].addresses[1]", "db.example"},
		{"wrong family", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses[0] = "fd00::1" }, "endpoints[0].addresses[0]", "fd00::1"},
		{"zone", func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeIPv6
			s.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"fe80::1%eth0"}}}
		}, "endpoints[0].addresses[0]", "fe80::1%eth0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base()
			c.mod(in)
			s, err := SliceFromKube(in)
			require.Nil(t, s)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, ErrInvalid)
			require.Equal(t, "EndpointSlice", e.Kind)
			require.Equal(t, "ns/s", e.Name)
			require.Equal(t, c.field, e.Field)
			require.Equal(t, c.value, e.Value)
			require.Contains(t, err.Error(), c.field)
		})
	}
	_, err := SliceFromKube(nil)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = ServiceFromKube(nil)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = PodToKube(nil)
	require.ErrorIs(t, err, ErrInvalid)
}

// TestTimesKeepSeconds checks the one change svcnet → Kubernetes makes:
// timestamps keep whole seconds, as metav1.Time does on the wire.
func TestTimesKeepSeconds(t *testing.T) {
	at := time.Date(2026, 12, 4, 1, 2, 3, 456789, time.UTC)
	k, err := PodToKube(&service.Pod{ObjectMeta: service.ObjectMeta{Name: "p", CreationTimestamp: at}})
	require.NoError(t, err)
	back, err := PodFromKube(k)
	require.NoError(t, err)
	require.Equal(t, at.Truncate(time.Second), back.CreationTimestamp)
}

// prunedJSON is o's JSON as generic values with every zero leaf (0, "",
// false, null) and every object or list left empty by that removed.
func prunedJSON(t *testing.T, o any) any {
	t.Helper()
	b, err := json.Marshal(o)
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	p, _ := prune(v)
	return p
}

// prune removes zero leaves below v; it reports whether v itself is zero.
func prune(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if p, zero := prune(e); zero {
				delete(x, k)
			} else {
				x[k] = p
			}
		}
		return x, len(x) == 0
	case []any:
		out := x[:0]
		for _, e := range x {
			p, _ := prune(e) // a list keeps its items' positions
			out = append(out, p)
		}
		return out, len(out) == 0
	case nil:
		return nil, true
	case bool:
		return x, !x
	case string:
		return x, x == ""
	case float64:
		return x, x == 0
	}
	return v, false
}
