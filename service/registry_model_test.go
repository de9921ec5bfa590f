package service

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// TestRegistryStateMachine drives a Registry over tiny ranges (14 IPv4
// and 15 IPv6 ClusterIPs, 12 NodePorts, 4 pool addresses) with random
// creates, updates, status updates and deletes, valid and invalid, with
// requested IPs and ports that collide or fall outside the ranges, with
// type transitions, dual-stack upgrades and downgrades, and with the
// provider failing on demand. After every step it checks that
//
//   - a call that failed changed nothing: the registry's snapshot and the
//     provider's state are byte for byte what they were;
//   - a call that succeeded reports a Change that matches the store;
//   - the allocators hold exactly the IPs and ports the stored Services
//     reference, no two Services share one, the provider's pool holds
//     exactly the ingress of the Services it handles, and every stored
//     Service is valid (checkConsistent);
//   - Repair of a consistent registry finds nothing, and Snapshot/Restore
//     round-trips.
func TestRegistryStateMachine(t *testing.T) {
	t.Run("single-stack", func(t *testing.T) { rapid.Check(t, registryStateMachine(false)) })
	t.Run("dual-stack", func(t *testing.T) { rapid.Check(t, registryStateMachine(true)) })
}

func registryStateMachine(dual bool) func(*rapid.T) {
	return func(t *rapid.T) {
		cidrs := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/28")}
		if dual {
			cidrs = append(cidrs, netip.MustParsePrefix("fd00::/124"))
		}
		pool, err := NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{
			ipam.MustParseRange("192.0.2.0-192.0.2.2"),
			ipam.MustParseRange("2001:db8::-2001:db8::1"),
		}})
		if err != nil {
			t.Fatal(err)
		}
		fp := &faultyProvider{LoadBalancerProvider: pool}
		now := t0
		cfg := RegistryConfig{
			ServiceCIDRs:  cidrs,
			NodePortRange: portalloc.MustParseRange("30000-30011"),
			LoadBalancer:  fp,
			ExternalIPs:   ExternalIPPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/30")}},
			Rand:          rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0)),
			Clock:         func() time.Time { return now },
		}
		r, err := NewRegistry(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m := &registryModel{r: r, pool: pool, fp: fp, keys: map[NamespacedName]bool{}}
		t.Repeat(map[string]func(*rapid.T){
			"Create": func(t *rapid.T) {
				svc := drawService(t)
				m.call(t, "Create", func() (Change, error) { return r.Create(svc) }, func(ch Change, err error) {
					key := NamespacedName{defaultNamespace(svc.Namespace), svc.Name}
					switch {
					case errors.Is(err, ErrAlreadyExists) && !m.keys[key]:
						t.Fatalf("Create(%s) = %v, but the model does not have it", key, err)
					case err == nil && m.keys[key]:
						t.Fatalf("Create(%s) succeeded over an existing Service", key)
					case err == nil:
						m.keys[key] = true
					}
				})
			},
			"Update": func(t *rapid.T) {
				svc := m.drawExisting(t)
				if svc == nil {
					return
				}
				mutate(t, svc)
				m.call(t, "Update", func() (Change, error) { return r.Update(svc) }, nil)
			},
			"Replace": func(t *rapid.T) {
				// A new manifest for an existing name: allocated values are
				// patched in or reallocated.
				old := m.drawExisting(t)
				if old == nil {
					return
				}
				svc := drawService(t)
				svc.Namespace, svc.Name = old.Namespace, old.Name
				m.call(t, "Update", func() (Change, error) { return r.Update(svc) }, nil)
			},
			"UpdateStatus": func(t *rapid.T) {
				svc := m.drawExisting(t)
				if svc == nil {
					return
				}
				svc.Status.LoadBalancer.Ingress = nil
				if rapid.Bool().Draw(t, "ingress") {
					ip := rapid.SampledFrom([]string{"203.0.113.5", "192.0.2.1", "not-an-ip"}).Draw(t, "ingressIP")
					svc.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{IP: ip}}
				}
				m.call(t, "UpdateStatus", func() (Change, error) { return r.UpdateStatus(svc) }, nil)
			},
			"Delete": func(t *rapid.T) {
				ns := rapid.SampledFrom([]string{"default", "ns1"}).Draw(t, "namespace")
				name := rapid.SampledFrom([]string{"a", "b", "c", "d", "e"}).Draw(t, "name")
				if svc := m.drawExisting(t); svc != nil && !oneIn(t, 5, "deleteMissing") {
					ns, name = svc.Namespace, svc.Name
				}
				key := NamespacedName{ns, name}
				m.call(t, "Delete", func() (Change, error) { return r.Delete(ns, name) }, func(ch Change, err error) {
					if errors.Is(err, ErrNotFound) == m.keys[key] {
						t.Fatalf("Delete(%s) = %v, model has it: %v", key, err, m.keys[key])
					}
					if err == nil {
						delete(m.keys, key)
					}
				})
			},
			"ProviderFails": func(t *rapid.T) {
				fp.fail = rapid.Bool().Draw(t, "fail")
			},
			"Tick": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(1, 3600).Draw(t, "seconds")) * time.Second)
			},
			"SnapshotRestore": func(t *rapid.T) {
				data, err := r.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				if rapid.Bool().Draw(t, "corrupt") {
					// JSON carries no checksum, so a flipped byte may be a valid
					// other state; a cut never is.
					bad := data[:rapid.IntRange(0, len(data)-1).Draw(t, "cut")]
					m.call(t, "Restore(truncated)", func() (Change, error) { return Change{}, r.Restore(bad) }, func(_ Change, err error) {
						if !errors.Is(err, ErrSnapshot) {
							t.Fatalf("Restore(truncated) = %v, want ErrSnapshot", err)
						}
					})
					return
				}
				fresh, err := NewRegistry(cfg)
				if err != nil {
					t.Fatal(err)
				}
				fp.fail = false
				if err := fresh.Restore(data); err != nil {
					t.Fatalf("Restore = %v", err)
				}
				again, _ := fresh.Snapshot()
				if !slices.Equal(again, data) {
					t.Fatalf("Snapshot after Restore differs")
				}
				r = fresh
				m.r = r
			},
			"": func(t *rapid.T) {
				if err := checkConsistent(r); err != nil {
					t.Fatal(err)
				}
				if r.Len() != len(m.keys) {
					t.Fatalf("Len = %d, model has %d", r.Len(), len(m.keys))
				}
			},
		})
		fp.fail = false
		rep, err := r.Repair()
		if err != nil || !rep.Clean() {
			t.Fatalf("Repair of a consistent registry: %+v, %v", rep, err)
		}
	}
}

type registryModel struct {
	r    *Registry
	pool *PoolProvider
	fp   *faultyProvider
	keys map[NamespacedName]bool
}

func (m *registryModel) providerState() string {
	keys := slices.SortedFunc(maps.Keys(m.pool.assigned), func(a, b NamespacedName) int {
		if a.Namespace != b.Namespace {
			return cmpString(a.Namespace, b.Namespace)
		}
		return cmpString(a.Name, b.Name)
	})
	s := fmt.Sprint(m.pool.Allocated())
	for _, k := range keys {
		s += fmt.Sprintf(" %s=%v", k, m.pool.assigned[k])
	}
	return s
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// call runs op and checks the all-or-nothing rule around it, then hands
// the result to check (which may be nil).
func (m *registryModel) call(t *rapid.T, name string, op func() (Change, error), check func(Change, error)) {
	before, err := m.r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	prov := m.providerState()
	rv := m.r.rv
	ch, err := op()
	if check != nil {
		check(ch, err)
	}
	if err != nil {
		after, _ := m.r.Snapshot()
		if !slices.Equal(before, after) {
			t.Fatalf("%s failed (%v) but changed the registry:\nbefore %s\nafter  %s", name, err, before, after)
		}
		if p := m.providerState(); p != prov {
			t.Fatalf("%s failed (%v) but changed the provider: %s -> %s", name, err, prov, p)
		}
		if !isExpectedError(err) {
			t.Fatalf("%s: unexpected kind of error: %v", name, err)
		}
		return
	}
	if m.r.rv != rv+1 {
		t.Fatalf("%s: resourceVersion went from %d to %d", name, rv, m.r.rv)
	}
	switch ch.Type {
	case Added, Modified:
		got, err := m.r.Get(ch.New.Namespace, ch.New.Name)
		if err != nil || !reflect.DeepEqual(got, ch.New) {
			t.Fatalf("%s: Change.New %+v, stored %+v (%v)", name, ch.New, got, err)
		}
		if ch.New.ResourceVersion != strconv.FormatUint(m.r.rv, 10) {
			t.Fatalf("%s: resourceVersion %s, want %d", name, ch.New.ResourceVersion, m.r.rv)
		}
		if (ch.Type == Added) != (ch.Old == nil) || ch.Old != nil && ch.Old.UID != ch.New.UID {
			t.Fatalf("%s: Change %v with Old %v", name, ch.Type, ch.Old)
		}
		// The copy handed out is the caller's: mutating it changes nothing.
		ch.New.Spec.Ports = append(ch.New.Spec.Ports, ServicePort{Port: 1})
		if again, _ := m.r.Get(ch.New.Namespace, ch.New.Name); reflect.DeepEqual(again, ch.New) {
			t.Fatalf("%s: Change.New aliases the store", name)
		}
	case Deleted:
		if _, err := m.r.Get(ch.Old.Namespace, ch.Old.Name); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: deleted Service still there", name)
		}
	default:
		t.Fatalf("%s: Change type %v", name, ch.Type)
	}
}

// isExpectedError reports whether err is of a kind the Registry documents.
func isExpectedError(err error) bool {
	for _, target := range []error{ErrInvalid, ErrForbidden, ErrNotFound, ErrAlreadyExists, ErrConflict, ErrProvider, ErrSnapshot, ipam.ErrFull, portalloc.ErrFull} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// drawExisting returns a copy of a stored Service, sometimes stale.
func (m *registryModel) drawExisting(t *rapid.T) *Service {
	all := m.r.List("", Everything())
	if len(all) == 0 {
		return nil
	}
	svc := rapid.SampledFrom(all).Draw(t, "existing")
	switch {
	case oneIn(t, 10, "stale"):
		svc.ResourceVersion = "1" // usually stale
	case oneIn(t, 3, "unconditional"):
		svc.ResourceVersion = ""
	}
	return svc
}

// oneIn reports true about once in n draws. rapid leans towards the low
// end of a range, so the rare outcome is the high end.
func oneIn(t *rapid.T, n int, label string) bool {
	return rapid.IntRange(0, n-1).Draw(t, label) == n-1
}

func drawType(t *rapid.T) ServiceType {
	if oneIn(t, 30, "bogusType") {
		return "Bogus"
	}
	return rapid.SampledFrom([]ServiceType{"", ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeNodePort,
		ServiceTypeLoadBalancer, ServiceTypeLoadBalancer, ServiceTypeExternalName}).Draw(t, "type")
}

// drawPorts draws up to three ports, usually distinct (protocol, port)
// pairs with TCP and UDP 53 often together, sometimes with requested
// nodePorts in or just outside the range.
func drawPorts(t *rapid.T, typ ServiceType) []ServicePort {
	pairs := []ServicePort{{Port: 53, Protocol: ProtocolTCP}, {Port: 53, Protocol: ProtocolUDP}, {Port: 80, Protocol: ProtocolTCP}, {Port: 443, Protocol: ProtocolTCP}}
	n := rapid.IntRange(0, 3).Draw(t, "ports")
	if n == 0 && !oneIn(t, 5, "keepNoPorts") {
		n = 1
	}
	start := rapid.IntRange(0, len(pairs)-1).Draw(t, "firstPort")
	nodePortChance := 12
	if typ == ServiceTypeNodePort || typ == ServiceTypeLoadBalancer {
		nodePortChance = 3
	}
	var ports []ServicePort
	for i := range n {
		p := pairs[(start+i)%len(pairs)]
		if oneIn(t, 20, "duplicatePort") {
			p = pairs[start] // invalid when it repeats a pair
		}
		p.Name = "p" + strconv.Itoa(i)
		if oneIn(t, nodePortChance+1, "requestNodePort") {
			p.NodePort = int32(rapid.IntRange(29999, 30012).Draw(t, "nodePort"))
		}
		if n > 1 && oneIn(t, 30, "unnamed") {
			p.Name = "" // invalid: several ports need names
		}
		ports = append(ports, p)
	}
	return ports
}

func drawClusterIP(t *rapid.T) []string {
	switch rapid.IntRange(0, 9).Draw(t, "clusterIPKind") {
	case 0:
		return []string{ClusterIPNone}
	case 1, 2:
		return []string{"10.0.0." + strconv.Itoa(rapid.IntRange(0, 17).Draw(t, "v4"))}
	case 3:
		return []string{"fd00::" + strconv.FormatInt(int64(rapid.IntRange(0, 17).Draw(t, "v6")), 16)}
	case 4:
		return []string{"10.0.0." + strconv.Itoa(rapid.IntRange(1, 14).Draw(t, "v4")), "fd00::" + strconv.FormatInt(int64(rapid.IntRange(1, 15).Draw(t, "v6")), 16)}
	}
	return nil
}

func drawService(t *rapid.T) *Service {
	svc := &Service{ObjectMeta: ObjectMeta{
		Namespace: rapid.SampledFrom([]string{"", "default", "ns1"}).Draw(t, "namespace"),
		Name:      rapid.SampledFrom([]string{"a", "b", "c", "d", "e"}).Draw(t, "name"),
		Labels:    Labels{"app": rapid.SampledFrom([]string{"x", "y"}).Draw(t, "app")},
	}}
	sp := &svc.Spec
	sp.Type = drawType(t)
	sp.Ports = drawPorts(t, sp.Type)
	if !oneIn(t, 5, "selectorless") {
		sp.Selector = Labels{"app": "x"}
	}
	if sp.Type == ServiceTypeExternalName {
		if !oneIn(t, 10, "noExternalName") {
			sp.ExternalName = "db.example.com"
		}
		if !oneIn(t, 10, "externalNameWithIP") {
			return svc
		}
	}
	if ips := drawClusterIP(t); ips != nil {
		sp.ClusterIP, sp.ClusterIPs = ips[0], ips
	}
	switch rapid.IntRange(0, 5).Draw(t, "policy") {
	case 0:
		sp.IPFamilyPolicy = ptr(IPFamilyPolicySingleStack)
	case 1:
		sp.IPFamilyPolicy = ptr(IPFamilyPolicyPreferDualStack)
	case 2:
		sp.IPFamilyPolicy = ptr(IPFamilyPolicyRequireDualStack)
	}
	switch rapid.IntRange(0, 9).Draw(t, "families") {
	case 0:
		sp.IPFamilies = []IPFamily{IPv4Protocol}
	case 1:
		sp.IPFamilies = []IPFamily{IPv6Protocol}
	case 2:
		sp.IPFamilies = []IPFamily{IPv6Protocol, IPv4Protocol}
	case 3: // the families of the requested IPs
		for _, s := range sp.ClusterIPs {
			if a, err := netip.ParseAddr(s); err == nil {
				sp.IPFamilies = append(sp.IPFamilies, familyOf(a))
			}
		}
	}
	if sp.Type == ServiceTypeLoadBalancer || sp.Type == ServiceTypeNodePort {
		sp.ExternalTrafficPolicy = rapid.SampledFrom([]TrafficPolicy{"", TrafficPolicyCluster, TrafficPolicyLocal}).Draw(t, "etp")
	}
	chance := 29
	if sp.ExternalTrafficPolicy == TrafficPolicyLocal {
		chance = 3
	}
	if oneIn(t, chance+1, "requestHealthCheck") {
		sp.HealthCheckNodePort = int32(rapid.IntRange(29999, 30012).Draw(t, "hc"))
	}
	if oneIn(t, 10, "withExternalIPs") {
		sp.ExternalIPs = []string{rapid.SampledFrom([]string{"198.51.100.1", "198.51.100.2", "203.0.113.9"}).Draw(t, "externalIP")}
	}
	if sp.Type == ServiceTypeLoadBalancer {
		switch rapid.IntRange(0, 5).Draw(t, "allocateNodePorts") {
		case 0:
			sp.AllocateLoadBalancerNodePorts = ptr(false)
		case 1:
			sp.AllocateLoadBalancerNodePorts = ptr(true)
		}
		if oneIn(t, 6, "foreignClass") {
			sp.LoadBalancerClass = ptr("example.com/other")
		}
		if oneIn(t, 5, "requestLBIP") {
			sp.LoadBalancerIP = rapid.SampledFrom([]string{"192.0.2.1", "192.0.2.9", "2001:db8::1"}).Draw(t, "lbIP")
		}
	}
	return svc
}

// mutate changes one or a few fields of a stored Service, as a user
// editing it would.
func mutate(t *rapid.T, svc *Service) {
	sp := &svc.Spec
	for range rapid.IntRange(1, 2).Draw(t, "edits") {
		// rapid favours low numbers: the edits that matter most come first.
		switch rapid.IntRange(0, 11).Draw(t, "edit") {
		case 0:
			sp.Type = drawType(t)
			if sp.Type == ServiceTypeExternalName {
				sp.ExternalName = "db.example.com"
			}
		case 1:
			sp.IPFamilyPolicy = rapid.SampledFrom([]*IPFamilyPolicy{ptr(IPFamilyPolicySingleStack), ptr(IPFamilyPolicyPreferDualStack), ptr(IPFamilyPolicyRequireDualStack), nil}).Draw(t, "policy")
		case 2:
			if len(sp.Ports) > 0 {
				sp.Ports = slices.Delete(sp.Ports, 0, 1)
			}
		case 3:
			sp.Ports = append(sp.Ports, drawPorts(t, sp.Type)...)
			for i := range sp.Ports {
				sp.Ports[i].Name = "q" + strconv.Itoa(i)
			}
		case 4:
			sp.ExternalTrafficPolicy = rapid.SampledFrom([]TrafficPolicy{TrafficPolicyLocal, TrafficPolicyCluster, ""}).Draw(t, "etp")
		case 5:
			for i := range sp.Ports {
				sp.Ports[i].NodePort = 0
			}
		case 6:
			sp.AllocateLoadBalancerNodePorts = rapid.SampledFrom([]*bool{ptr(false), ptr(true), nil}).Draw(t, "allocateNodePorts")
		case 7:
			sp.ClusterIP, sp.ClusterIPs = "", nil
		case 8:
			sp.IPFamilies = nil
		case 9:
			if ips := drawClusterIP(t); ips != nil {
				sp.ClusterIP, sp.ClusterIPs = ips[0], ips
			}
		case 10:
			sp.ExternalIPs = append(sp.ExternalIPs, rapid.SampledFrom([]string{"198.51.100.3", "203.0.113.9"}).Draw(t, "externalIP"))
		case 11:
			sp.HealthCheckNodePort = rapid.SampledFrom([]int32{0, 29999, 30000, 30005, 30011, 30012}).Draw(t, "hc")
		}
	}
}
