package service

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// TestRegistryIsolation checks the Registry's copy contract against a
// naive model that deep-copies by encoding: after every successful call
// the model keeps the JSON of the Service the call reported, and then
// every object the caller passed in or got back (the input, Change.New,
// Change.Old, what Get and List returned) is scribbled over — every
// exported string, number and bool it reaches through pointers, slices
// and maps changed, and a key added to every map. The Registry's
// Services must still encode exactly as the model says, and its
// allocators must still agree with them (Check). This is what holds the
// sharing inside the Registry to its rules: strings are shared freely
// (they are immutable), a stored Service is handed out as Change.Old only
// once it is no longer stored, and nothing else a caller can reach is
// shared with what the Registry keeps.
func TestRegistryIsolation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pool, err := NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{
			ipam.MustParseRange("192.0.2.0-192.0.2.2"),
			ipam.MustParseRange("2001:db8::-2001:db8::1"),
		}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRegistry(RegistryConfig{
			ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/28"), netip.MustParsePrefix("fd00::/124")},
			NodePortRange: portalloc.MustParseRange("30000-30011"),
			LoadBalancer:  pool,
			ExternalIPs:   ExternalIPPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/30")}},
			Rand:          rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0)),
			Clock:         func() time.Time { return t0 },
		})
		if err != nil {
			t.Fatal(err)
		}
		model := map[NamespacedName]string{} // the JSON of every stored Service
		record := func(t *rapid.T, ch Change) {
			switch ch.Type {
			case Added, Modified:
				model[ch.New.Key()] = encode(t, ch.New)
			case Deleted:
				delete(model, ch.Old.Key())
			}
		}
		existing := func(t *rapid.T) *Service {
			keys := slices.SortedFunc(maps.Keys(model), compareKey)
			if len(keys) == 0 {
				return nil
			}
			k := rapid.SampledFrom(keys).Draw(t, "existing")
			svc, err := r.Get(k.Namespace, k.Name)
			if err != nil {
				t.Fatalf("Get(%s): %v", k, err)
			}
			return svc
		}
		t.Repeat(map[string]func(*rapid.T){
			"Create": func(t *rapid.T) {
				in := drawService(t)
				decorate(t, in)
				ch, err := r.Create(in)
				if err == nil {
					record(t, ch)
				}
				scribble(in, ch.New)
			},
			"Update": func(t *rapid.T) {
				in := existing(t)
				if in == nil {
					return
				}
				got := encode(t, in)
				if rapid.Bool().Draw(t, "relabel") {
					in.Labels = Labels{"app": rapid.SampledFrom([]string{"x", "y", "z"}).Draw(t, "app")}
				}
				if rapid.Bool().Draw(t, "reselect") {
					in.Spec.Selector = Labels{"app": rapid.SampledFrom([]string{"x", "y"}).Draw(t, "selector")}
				}
				ch, err := r.Update(in)
				if err == nil {
					record(t, ch)
					if old := encode(t, ch.Old); old != got {
						t.Fatalf("Update: Change.Old %s, was %s", old, got)
					}
				}
				scribble(in, ch.New, ch.Old)
			},
			"UpdateStatus": func(t *rapid.T) {
				in := existing(t)
				if in == nil {
					return
				}
				in.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{IP: "203.0.113.5", Ports: []PortStatus{{Port: 80, Protocol: ProtocolTCP}}}}
				ch, err := r.UpdateStatus(in)
				if err == nil {
					record(t, ch)
				}
				scribble(in, ch.New, ch.Old)
			},
			"Delete": func(t *rapid.T) {
				in := existing(t)
				if in == nil {
					return
				}
				ch, err := r.Delete(in.Namespace, in.Name)
				if err != nil {
					t.Fatalf("Delete(%s): %v", in.Key(), err)
				}
				record(t, ch)
				scribble(in, ch.Old)
			},
			"Read": func(t *rapid.T) {
				scribble(r.List("", Everything())...)
				if svc := existing(t); svc != nil {
					scribble(svc)
				}
			},
			"": func(t *rapid.T) {
				all := r.List("", Everything())
				if len(all) != len(model) {
					t.Fatalf("List: %d Services, model %d", len(all), len(model))
				}
				for _, svc := range all {
					want, ok := model[svc.Key()]
					if got := encode(t, svc); !ok || got != want {
						t.Fatalf("%s is\n%s\nmodel\n%s", svc.Key(), got, want)
					}
				}
				if p := r.Check(); len(p) > 0 {
					t.Fatalf("allocators and Services disagree: %v", p)
				}
			},
		})
	})
}

// decorate sets, at random, the optional fields drawService leaves
// alone, so that every kind of field a Service can hold gets scribbled.
func decorate(t *rapid.T, svc *Service) {
	if rapid.Bool().Draw(t, "annotations") {
		svc.Annotations = map[string]string{"example.com/note": "n"}
	}
	if rapid.Bool().Draw(t, "finalizers") {
		svc.Finalizers = []string{"example.com/f"}
	}
	if rapid.Bool().Draw(t, "owner") {
		svc.OwnerReferences = []OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "o", UID: "u", Controller: ptr(true)}}
	}
	for i := range svc.Spec.Ports {
		if rapid.Bool().Draw(t, "appProtocol") {
			svc.Spec.Ports[i].AppProtocol = ptr("http")
		}
	}
	if svc.Spec.Type != ServiceTypeExternalName {
		if rapid.Bool().Draw(t, "affinity") {
			svc.Spec.SessionAffinity = ServiceAffinityClientIP
			svc.Spec.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: ptr(int32(60))}}
		}
		if rapid.Bool().Draw(t, "internalTrafficPolicy") {
			svc.Spec.InternalTrafficPolicy = ptr(TrafficPolicyLocal)
		}
		if rapid.Bool().Draw(t, "trafficDistribution") {
			svc.Spec.TrafficDistribution = ptr("PreferClose")
		}
	}
}

func encode(t *rapid.T, svc *Service) string {
	b, err := json.Marshal(svc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scribble changes everything it can reach from each of svcs (nil ones
// skipped), as a careless caller would: see TestRegistryIsolation.
func scribble(svcs ...*Service) {
	for _, s := range svcs {
		if s != nil {
			scribbleValue(reflect.ValueOf(s).Elem())
		}
	}
}

func scribbleValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scribbleValue(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scribbleValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scribbleValue(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		// Map values are not addressable: replace each by a scribbled
		// copy, and add a key.
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			scribbleValue(e)
			v.SetMapIndex(k, e)
		}
		if v.Type().Key().Kind() == reflect.String {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString("scribbled")
			v.SetMapIndex(k, reflect.Zero(v.Type().Elem()))
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(strings.ToUpper(v.String()) + "~")
		}
	case reflect.Bool:
		if v.CanSet() {
			v.SetBool(!v.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.CanSet() {
			v.SetInt(v.Int() + 1)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.CanSet() {
			v.SetUint(v.Uint() + 1)
		}
	}
}

// TestScribbleReachesEverything checks the test's own scribbler: a
// Service with every kind of field set shares nothing with its DeepCopy
// once one of them is scribbled, and differs from it in every field that
// scribbling changes.
func TestScribbleReachesEverything(t *testing.T) {
	svc := &Service{
		ObjectMeta: ObjectMeta{Name: "a", Labels: Labels{"k": "v"}, Annotations: map[string]string{"k": "v"}},
		Spec: ServiceSpec{
			Selector:       Labels{"k": "v"},
			Ports:          []ServicePort{{Port: 80, AppProtocol: ptr("http")}},
			ClusterIPs:     []string{"10.0.0.1"},
			IPFamilies:     []IPFamily{IPv4Protocol},
			IPFamilyPolicy: ptr(IPFamilyPolicySingleStack),
		},
	}
	c := svc.DeepCopy()
	before, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	scribble(svc)
	if after, _ := json.Marshal(c); string(after) != string(before) {
		t.Fatalf("scribbling the original changed its DeepCopy:\n%s\n%s", before, after)
	}
	if svc.Labels["scribbled"] != "" || len(svc.Labels) != 2 || svc.Labels["k"] != "V~" ||
		svc.Spec.Ports[0].Port != 81 || *svc.Spec.Ports[0].AppProtocol != "HTTP~" ||
		svc.Spec.ClusterIPs[0] != "10.0.0.1~" || *svc.Spec.IPFamilyPolicy != "SINGLESTACK~" {
		t.Fatalf("scribble missed a field: %+v", svc)
	}
}
