package svcnet

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// The state machine drives a dual-stack Cluster with random nodes, pods,
// Services and syncs, and keeps beside it a model that is obviously
// right: the nodes and pods it applied, the Services and slices that the
// returned Changes describe, and the endpoints a Service must have,
// computed from scratch from the pods.
//
// Invariants:
//   - after every call, the Changes it returned, applied to the model,
//     give exactly the cluster's Services and slices (c.Slices);
//   - every slice holds what the naive endpoint rule says;
//   - after SyncAllNodes and SyncDNS, every node's table is the control
//     plane's, its backends are the slices' endpoints, its routes land on
//     usable ones, and the DNS answers each Service's ClusterIPs;
//   - at any time, a connection a node routes lands on an endpoint of the
//     table that node last synced, stale or not;
//   - a Snapshot restored into a new cluster gives the same Services,
//     slice contents and tables, and Repair finds it clean.

var (
	smNamespaces = []string{"default", "other"}
	smServices   = []string{"s0", "s1", "s2"}
	smPods       = []string{"p0", "p1", "p2", "p3", "p4", "p5"}
	smNodes      = []string{"n0", "n1", "n2"}
	smZones      = []string{"", "z1", "z2"}
)

type sliceKey = service.NamespacedName

type clusterMachine struct {
	c         *Cluster
	cfg       func() Config
	immediate bool
	nodes     map[string]*service.Node
	pods      map[service.NamespacedName]*service.Pod
	svcs      map[service.NamespacedName]*service.Service
	slices    map[sliceKey]*endpoints.Slice
	// frozen holds the slices of the Services that lost their selector
	// (or became ExternalName): the endpoints controller keeps them as
	// they were, as Kubernetes' syncService does.
	frozen map[service.NamespacedName][]*endpoints.Slice
}

func smConfig(immediate bool, maxPerSlice int, seed uint64) func() Config {
	return func() Config {
		pool, err := service.NewPoolProvider(service.PoolProviderConfig{Ranges: []ipam.Range{
			ipam.MustParseRange("192.0.2.1-192.0.2.8"), ipam.MustParseRange("2001:db8::1-2001:db8::8"),
		}})
		if err != nil {
			panic(err)
		}
		return Config{
			LoadBalancer:         pool,
			ServiceCIDRs:         []netip.Prefix{netip.MustParsePrefix("10.96.0.0/24"), netip.MustParsePrefix("fd00:10:96::/120")},
			PodCIDRs:             []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10:244::/64")},
			NodeCIDRs:            []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
			MaxEndpointsPerSlice: maxPerSlice,
			Rand:                 rand.New(rand.NewPCG(seed, 7)),
			Clock:                func() time.Time { return epoch },
			ImmediateSync:        immediate,
		}
	}
}

func newClusterMachine(t *rapid.T) *clusterMachine {
	m := &clusterMachine{
		immediate: rapid.Bool().Draw(t, "immediate"),
		nodes:     map[string]*service.Node{},
		pods:      map[service.NamespacedName]*service.Pod{},
		svcs:      map[service.NamespacedName]*service.Service{},
		slices:    map[sliceKey]*endpoints.Slice{},
		frozen:    map[service.NamespacedName][]*endpoints.Slice{},
	}
	m.cfg = smConfig(m.immediate, rapid.IntRange(1, 3).Draw(t, "maxPerSlice"), rapid.Uint64().Draw(t, "seed"))
	var err error
	m.c, err = NewCluster(m.cfg())
	require.NoError(t, err)
	return m
}

// apply checks the Changes of one call against the model and applies
// them to it.
func (m *clusterMachine) apply(t *rapid.T, ch Changes) {
	for _, sc := range ch.Services {
		switch sc.Type {
		case service.Added:
			require.NotContains(t, m.svcs, sc.New.Key(), "added twice")
			m.svcs[sc.New.Key()] = sc.New
		case service.Modified:
			require.Equal(t, m.svcs[sc.New.Key()].ResourceVersion, sc.Old.ResourceVersion, "modified from another version")
			m.svcs[sc.New.Key()] = sc.New
		case service.Deleted:
			require.Equal(t, m.svcs[sc.Old.Key()].ResourceVersion, sc.Old.ResourceVersion)
			delete(m.svcs, sc.Old.Key())
		}
	}
	for _, sc := range ch.Slices {
		switch sc.Kind {
		case endpoints.Created:
			k := sliceKey{Namespace: sc.Slice.Namespace, Name: sc.Slice.Name}
			require.NotContains(t, m.slices, k, "slice %s created twice", k)
			require.Equal(t, sc.Service.Name, sc.Slice.ServiceName())
			m.slices[k] = sc.Slice
		case endpoints.Updated:
			k := sliceKey{Namespace: sc.Slice.Namespace, Name: sc.Slice.Name}
			require.Same(t, m.slices[k], sc.Old, "slice %s updated from another version", k)
			require.Greater(t, sc.Slice.Generation, sc.Old.Generation)
			m.slices[k] = sc.Slice
		case endpoints.Deleted:
			k := sliceKey{Namespace: sc.Old.Namespace, Name: sc.Old.Name}
			require.Same(t, m.slices[k], sc.Old, "slice %s deleted from another version", k)
			delete(m.slices, k)
		default:
			t.Fatalf("change of kind %v", sc.Kind)
		}
	}
}

func (m *clusterMachine) drawLabels(t *rapid.T, name string) service.Labels {
	ls := service.Labels{}
	for _, k := range []string{"app", "tier"} {
		if v := rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, name+"."+k); v != "" {
			ls[k] = v
		}
	}
	if len(ls) == 0 {
		return nil // as a manifest without labels decodes
	}
	return ls
}

func (m *clusterMachine) AddNode(t *rapid.T) {
	name := rapid.SampledFrom(smNodes).Draw(t, "node")
	i := slices.Index(smNodes, name)
	// A node keeps its address unless redrawn, to exercise the update path too.
	ip := fmt.Sprintf("192.168.0.%d", 10+i+10*rapid.IntRange(0, 1).Draw(t, "readdress"))
	n := testNode(name, rapid.SampledFrom(smZones).Draw(t, "zone"), ip)
	ch, err := m.c.AddNode(n)
	require.NoError(t, err)
	m.nodes[name] = n
	m.apply(t, ch)
}

func (m *clusterMachine) RemoveNode(t *rapid.T) {
	if len(m.nodes) == 0 {
		t.Skip("no node")
	}
	name := rapid.SampledFrom(slices.Sorted(maps.Keys(m.nodes))).Draw(t, "node")
	ch, err := m.c.RemoveNode(name)
	require.NoError(t, err)
	delete(m.nodes, name)
	m.apply(t, ch)
	_, err = m.c.Proxy(name)
	require.ErrorIs(t, err, ErrNotFound)
}

// freeIP returns a pod address index no other pod uses: a pod network
// never gives two pods one address.
func (m *clusterMachine) freeIP(t *rapid.T, self service.NamespacedName) int {
	used := map[string]bool{}
	for k, p := range m.pods {
		if k != self {
			used[p.Status.PodIP] = true
		}
	}
	var free []int
	for i := 1; i <= 12; i++ {
		if !used[fmt.Sprintf("10.244.0.%d", i)] && !used[fmt.Sprintf("fd00:10:244::%d", i)] {
			free = append(free, i)
		}
	}
	if len(free) == 0 {
		t.Skip("no free pod address")
	}
	return rapid.SampledFrom(free).Draw(t, "ip")
}

func (m *clusterMachine) ApplyPod(t *rapid.T) {
	key := nn(rapid.SampledFrom(smNamespaces).Draw(t, "ns"), rapid.SampledFrom(smPods).Draw(t, "pod"))
	p := &service.Pod{
		ObjectMeta: service.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: m.drawLabels(t, "labels")},
		Spec: service.PodSpec{
			NodeName:   rapid.SampledFrom(append([]string{""}, smNodes...)).Draw(t, "node"),
			Containers: []service.Container{{Name: "c"}},
		},
	}
	if rapid.Bool().Draw(t, "namedPort") {
		p.Spec.Containers[0].Ports = []service.ContainerPort{{Name: "http", ContainerPort: 8081}}
	}
	p.Status.Phase = rapid.SampledFrom([]service.PodPhase{service.PodRunning, service.PodRunning, service.PodPending, service.PodSucceeded}).Draw(t, "phase")
	i := m.freeIP(t, key)
	v4, v6 := fmt.Sprintf("10.244.0.%d", i), fmt.Sprintf("fd00:10:244::%d", i)
	switch rapid.IntRange(0, 3).Draw(t, "ips") {
	case 0:
		p.Status.PodIP, p.Status.PodIPs = v4, []service.PodIP{{IP: v4}}
	case 1:
		p.Status.PodIP, p.Status.PodIPs = v6, []service.PodIP{{IP: v6}}
	case 2:
		p.Status.PodIP, p.Status.PodIPs = v4, []service.PodIP{{IP: v4}, {IP: v6}}
	case 3:
		// not started yet: no address
	}
	p.SetReady(rapid.Bool().Draw(t, "ready"))
	ch, err := m.c.ApplyPod(p)
	require.NoError(t, err)
	m.pods[key] = p
	m.apply(t, ch)
}

func (m *clusterMachine) pickPod(t *rapid.T) service.NamespacedName {
	if len(m.pods) == 0 {
		t.Skip("no pod")
	}
	keys := slices.SortedFunc(maps.Keys(m.pods), compareKeys)
	return rapid.SampledFrom(keys).Draw(t, "pod")
}

func (m *clusterMachine) TerminatePod(t *rapid.T) {
	key := m.pickPod(t)
	p := m.pods[key].DeepCopy()
	ts := epoch.Add(time.Minute)
	p.DeletionTimestamp = &ts
	ch, err := m.c.ApplyPod(p)
	require.NoError(t, err)
	m.pods[key] = p
	m.apply(t, ch)
}

func (m *clusterMachine) DeletePod(t *rapid.T) {
	key := m.pickPod(t)
	ch, err := m.c.DeletePod(key)
	require.NoError(t, err)
	delete(m.pods, key)
	m.apply(t, ch)
	_, err = m.c.DeletePod(key)
	require.ErrorIs(t, err, ErrNotFound)
}

// drawSpec fills a Service's selector, type and ports.
func (m *clusterMachine) drawSpec(t *rapid.T, svc *service.Service) {
	svc.Spec.Selector = m.drawLabels(t, "selector") // nil: no selector, no slices
	svc.Spec.Type = rapid.SampledFrom([]service.ServiceType{service.ServiceTypeClusterIP, service.ServiceTypeClusterIP,
		service.ServiceTypeNodePort, service.ServiceTypeLoadBalancer, service.ServiceTypeExternalName}).Draw(t, "type")
	if svc.Spec.Type == service.ServiceTypeExternalName {
		// As a user turning a Service into an alias writes it.
		svc.Spec.ExternalName = "db.example.com"
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs, svc.Spec.IPFamilies, svc.Spec.IPFamilyPolicy = "", nil, nil, nil
	} else {
		svc.Spec.ExternalName = ""
	}
	svc.Spec.Ports = nil
	for i := range rapid.IntRange(1, 2).Draw(t, "ports") {
		sp := service.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(80 + i), TargetPort: service.FromInt(8080)}
		if rapid.Bool().Draw(t, "named") {
			sp.TargetPort = service.FromString("http")
		}
		if rapid.IntRange(0, 4).Draw(t, "udp") == 0 {
			sp.Protocol = service.ProtocolUDP
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
}

func (m *clusterMachine) CreateService(t *rapid.T) {
	key := nn(rapid.SampledFrom(smNamespaces).Draw(t, "ns"), rapid.SampledFrom(smServices).Draw(t, "svc"))
	svc := &service.Service{ObjectMeta: service.ObjectMeta{Name: key.Name, Namespace: key.Namespace}}
	m.drawSpec(t, svc)
	families := rapid.IntRange(0, 4).Draw(t, "families")
	if svc.Spec.Type == service.ServiceTypeExternalName {
		families = 0 // an ExternalName Service has no families
	}
	switch families {
	case 4:
		if svc.Spec.Type == service.ServiceTypeClusterIP {
			svc.Spec.ClusterIP = service.ClusterIPNone // headless, of the primary family
		}
	case 0:
		// the cluster's primary family, IPv4
	case 1:
		pol := service.IPFamilyPolicySingleStack
		svc.Spec.IPFamilyPolicy, svc.Spec.IPFamilies = &pol, []service.IPFamily{service.IPv6Protocol}
	case 2:
		pol := service.IPFamilyPolicyPreferDualStack
		svc.Spec.IPFamilyPolicy = &pol
	case 3:
		pol := service.IPFamilyPolicyRequireDualStack
		svc.Spec.IPFamilyPolicy, svc.Spec.IPFamilies = &pol, []service.IPFamily{service.IPv6Protocol, service.IPv4Protocol}
	}
	ch, err := m.c.CreateService(svc)
	if _, exists := m.svcs[key]; exists {
		require.ErrorIs(t, err, service.ErrAlreadyExists)
		require.True(t, ch.Empty())
		return
	}
	require.NoError(t, err)
	require.Len(t, ch.Services, 1)
	m.apply(t, ch)
}

func (m *clusterMachine) pickService(t *rapid.T) service.NamespacedName {
	if len(m.svcs) == 0 {
		t.Skip("no Service")
	}
	return rapid.SampledFrom(slices.SortedFunc(maps.Keys(m.svcs), compareKeys)).Draw(t, "svc")
}

func (m *clusterMachine) UpdateService(t *rapid.T) {
	key := m.pickService(t)
	svc, err := m.c.Service(key)
	require.NoError(t, err)
	m.drawSpec(t, svc)
	if svc.IsHeadless() {
		svc.Spec.Type = service.ServiceTypeClusterIP // a headless Service stays one
		svc.Spec.ExternalName = ""
	}
	managed := func(s *service.Service) bool {
		return s.Spec.Selector != nil && s.Spec.Type != service.ServiceTypeExternalName
	}
	switch {
	case managed(svc):
		delete(m.frozen, key)
	case managed(m.svcs[key]):
		m.frozen[key] = m.c.Slices(key) // as the last Check saw them
	}
	ch, err := m.c.UpdateService(svc)
	require.NoError(t, err)
	require.Len(t, ch.Services, 1)
	m.apply(t, ch)
}

func (m *clusterMachine) DeleteService(t *rapid.T) {
	key := m.pickService(t)
	ch, err := m.c.DeleteService(key)
	require.NoError(t, err)
	delete(m.frozen, key)
	m.apply(t, ch)
	require.Nil(t, m.c.Slices(key))
}

func (m *clusterMachine) SyncNode(t *rapid.T) {
	name := rapid.SampledFrom(smNodes).Draw(t, "node")
	err := m.c.SyncNode(name)
	if _, ok := m.nodes[name]; !ok {
		require.ErrorIs(t, err, ErrNotFound)
		return
	}
	require.NoError(t, err)
	stale, err := m.c.NodeStale(name)
	require.NoError(t, err)
	require.Zero(t, stale)
	p, err := m.c.Proxy(name)
	require.NoError(t, err)
	require.Same(t, m.c.Table(), p.Table())
}

func (m *clusterMachine) SyncAllNodes(t *rapid.T) {
	m.c.SyncAllNodes()
	for name := range m.nodes {
		p, err := m.c.Proxy(name)
		require.NoError(t, err)
		require.Same(t, m.c.Table(), p.Table())
	}
}

func (m *clusterMachine) SyncDNS(t *rapid.T) {
	require.NoError(t, m.c.SyncDNS())
	require.Zero(t, m.c.DNSPending())
	m.checkDNS(t)
}

// FullSync syncs every node and the DNS, after which every node and the
// DNS agree with the control plane.
func (m *clusterMachine) FullSync(t *rapid.T) {
	m.c.SyncAllNodes()
	require.NoError(t, m.c.SyncDNS())
	m.checkSynced(t)
}

// Dial routes a connection from a pod to a Service by name or ClusterIP,
// through whatever table the pod's node last synced.
func (m *clusterMachine) Dial(t *rapid.T) {
	from := m.pickPod(t)
	to := nn(rapid.SampledFrom(smNamespaces).Draw(t, "ns"), rapid.SampledFrom(smServices).Draw(t, "svc"))
	port := rapid.SampledFrom([]int{80, 81}).Draw(t, "port")
	target := fmt.Sprintf("%s.%s:%d", to.Name, to.Namespace, port)
	byIP := false
	if svc, ok := m.svcs[to]; ok && !svc.IsHeadless() && len(svc.Spec.ClusterIPs) > 0 && rapid.Bool().Draw(t, "byIP") {
		ip := rapid.SampledFrom(svc.Spec.ClusterIPs).Draw(t, "clusterIP")
		target = netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port)).String()
		byIP = true
	}
	tr, err := m.c.Dial(FromPod(from.Namespace, from.Name), target)
	if len(m.pods[from].Status.PodIPs) == 0 {
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidTarget) // no source address
		}
		return
	}
	if err != nil {
		// A name that resolved to a family the pod has no address in.
		require.ErrorIs(t, err, ErrInvalidTarget)
		return
	}
	if tr.Direct {
		// A headless Service's record: the pod itself. While the DNS has
		// changes pending it may still answer for a headless Service
		// deleted (or changed) since, as CoreDNS does until its watch
		// catches up; with the DNS in sync, only a headless Service does.
		if svc, ok := m.svcs[to]; !ok || !svc.IsHeadless() {
			require.Positive(t, m.c.DNSPending(), "a direct connection with no headless Service and the DNS in sync: %s", tr)
		}
		require.Contains(t, m.pods[tr.Pod].IPs(), tr.Dst.Addr())
		return
	}
	if byIP && m.inSync(m.pods[from].Spec.NodeName) {
		// A node in sync routes a ClusterIP:port of a TCP port exactly
		// when the control plane has a usable endpoint for it.
		svc := m.svcs[to]
		i := slices.IndexFunc(svc.Spec.Ports, func(sp service.ServicePort) bool {
			return int(sp.Port) == port && sp.Protocol == service.ProtocolTCP
		})
		switch {
		case i < 0:
			require.Equal(t, proxy.NotServiceAddress, tr.Route.Verdict, tr.String())
		case hasUsable(m.c.Table().Backends(to, svc.Spec.Ports[i].Name, service.ProtocolTCP, tr.Dst.Addr().Is6())):
			require.Equal(t, proxy.Routed, tr.Route.Verdict, tr.String())
		default:
			require.Equal(t, proxy.NoEndpoints, tr.Route.Verdict, tr.String())
		}
	}
	if tr.Route.Verdict != proxy.Routed {
		return
	}
	// The backend is an endpoint of the table this node last synced,
	// stale or not, and a usable one.
	p, err := m.c.Proxy(tr.Node)
	require.NoError(t, err)
	proto := service.ProtocolTCP
	eps := p.Table().Backends(tr.Route.Service, tr.Route.PortName, proto, tr.Dst.Addr().Is6())
	require.Contains(t, eps, tr.Route.Backend, "routed outside the node's table: %s", tr)
	requireUsable(t, eps, tr.Route.Backend)
	if tr.Pod != (service.NamespacedName{}) {
		require.Contains(t, m.pods[tr.Pod].IPs(), tr.Route.Backend.Addr.Addr())
	}
}

// inSync reports whether a node exists and has synced the newest table.
func (m *clusterMachine) inSync(node string) bool {
	stale, err := m.c.NodeStale(node)
	return err == nil && stale == 0
}

func hasUsable(eps []lb.Backend) bool {
	return slices.ContainsFunc(eps, func(b lb.Backend) bool { return b.Ready || b.Serving && b.Terminating })
}

// SnapshotRoundTrip restores a Snapshot into a new cluster and compares.
func (m *clusterMachine) SnapshotRoundTrip(t *rapid.T) {
	data, err := m.c.Snapshot()
	require.NoError(t, err)
	c2, err := NewCluster(m.cfg())
	require.NoError(t, err)
	require.NoError(t, c2.Restore(data))
	rep, err := c2.Repair()
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%+v", rep)
	require.Equal(t, m.c.Services(""), c2.Services(""))
	require.Equal(t, m.c.Nodes(), c2.Nodes())
	require.Equal(t, m.c.Pods(""), c2.Pods(""))
	for key, svc := range m.svcs {
		if _, ok := m.frozen[key]; ok {
			// A snapshot does not keep slices: a Service without a
			// selector comes back without the slices it kept.
			require.Nil(t, c2.Slices(key), "slices of %s", key)
			continue
		}
		require.Equal(t, sliceAddrs(m.c, key), sliceAddrs(c2, key), "slices of %s", key)
		for _, sp := range svc.Spec.Ports {
			for _, v6 := range []bool{false, true} {
				require.ElementsMatch(t, m.c.Table().Backends(key, sp.Name, sp.Protocol, v6), c2.Table().Backends(key, sp.Name, sp.Protocol, v6))
			}
		}
	}
	for name := range m.nodes {
		stale, err := c2.NodeStale(name)
		require.NoError(t, err)
		require.Zero(t, stale, "Restore syncs every node")
	}
	require.Zero(t, c2.DNSPending())
}

// Check runs after every action.
func (m *clusterMachine) Check(t *rapid.T) {
	// The Changes describe the control plane exactly.
	require.Len(t, m.c.Services(""), len(m.svcs))
	for _, svc := range m.c.Services("") {
		require.Equal(t, m.svcs[svc.Key()].ResourceVersion, svc.ResourceVersion, "Service %s", svc.Key())
	}
	got := map[sliceKey]*endpoints.Slice{}
	for _, ns := range smNamespaces {
		for _, name := range smServices {
			for _, sl := range m.c.Slices(nn(ns, name)) {
				got[sliceKey{Namespace: sl.Namespace, Name: sl.Name}] = sl
			}
		}
	}
	require.Equal(t, len(m.slices), len(got))
	for k, sl := range m.slices {
		require.Same(t, sl, got[k], "slice %s", k)
	}
	// The slices hold what the naive rule says; those of a Service that
	// lost its selector are what they were.
	for key, svc := range m.svcs {
		if f, ok := m.frozen[key]; ok {
			require.Equal(t, f, m.c.Slices(key), "%s keeps its slices", key)
			continue
		}
		for _, sp := range svc.Spec.Ports {
			for _, v6 := range []bool{false, true} {
				require.Equal(t, m.want(svc, sp, v6), sliceBackends(m.c.Slices(key), sp, v6), "%s port %s v6=%t", key, sp.Name, v6)
			}
		}
	}
	require.Len(t, m.c.Nodes(), len(m.nodes))
	require.Len(t, m.c.Pods(""), len(m.pods))
	if m.immediate {
		require.Zero(t, m.c.DNSPending())
		m.checkSynced(t)
	}
}

// want returns the backends a Service port must have in one family,
// computed from the pods: the pods of its namespace that its selector
// matches, not terminated, with an address of the family and the
// targetPort resolved, with KEP-1672's conditions.
func (m *clusterMachine) want(svc *service.Service, sp service.ServicePort, v6 bool) []lb.Backend {
	fam := service.IPv4Protocol
	if v6 {
		fam = service.IPv6Protocol
	}
	if svc.Spec.Selector == nil || svc.Spec.Type == service.ServiceTypeExternalName || !slices.Contains(svc.Spec.IPFamilies, fam) {
		return nil
	}
	sel := service.SelectorFromSet(svc.Spec.Selector)
	var out []lb.Backend
	for key, p := range m.pods {
		if key.Namespace != svc.Namespace || !sel.Matches(p.Labels) || p.Status.Phase == service.PodSucceeded {
			continue
		}
		var addr netip.Addr
		for _, a := range p.IPs() {
			if a.Is6() == v6 {
				addr = a
			}
		}
		port := sp.TargetPort.IntVal
		if sp.TargetPort.IsString {
			port = 0
			for _, cp := range p.Spec.Containers[0].Ports {
				if cp.Name == sp.TargetPort.StrVal && sp.Protocol == service.ProtocolTCP {
					port = cp.ContainerPort
				}
			}
		}
		if !addr.IsValid() || port == 0 {
			continue
		}
		// A pod on a node that is not known gets no endpoint
		// (reconcileByAddressType), unless the Service publishes
		// not-ready addresses.
		if _, known := m.nodes[p.Spec.NodeName]; !known && !svc.Spec.PublishNotReadyAddresses {
			continue
		}
		serving, terminating := p.IsReady(), p.IsTerminating()
		b := lb.Backend{Addr: netip.AddrPortFrom(addr, uint16(port)), Node: p.Spec.NodeName,
			Ready: serving && !terminating, Serving: serving, Terminating: terminating}
		if n, ok := m.nodes[p.Spec.NodeName]; ok {
			b.Zone = n.Zone()
		}
		out = append(out, b)
	}
	return sortBackends(out)
}

// sortBackends sorts backends by address, and gives nil for none.
func sortBackends(bs []lb.Backend) []lb.Backend {
	if len(bs) == 0 {
		return nil
	}
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b lb.Backend) int { return a.Addr.Compare(b.Addr) })
	return bs
}

// sliceBackends reads a Service port's backends in one family from its
// slices, as the naive model words them.
func sliceBackends(sls []*endpoints.Slice, sp service.ServicePort, v6 bool) []lb.Backend {
	at := endpoints.AddressTypeIPv4
	if v6 {
		at = endpoints.AddressTypeIPv6
	}
	var out []lb.Backend
	for _, sl := range sls {
		if sl.AddressType != at {
			continue
		}
		i := slices.IndexFunc(sl.Ports, func(p endpoints.Port) bool { return p.Name == sp.Name && p.Protocol == sp.Protocol })
		if i < 0 {
			continue
		}
		for _, e := range sl.Endpoints {
			out = append(out, lb.Backend{Addr: netip.AddrPortFrom(e.Address(), uint16(sl.Ports[i].Port)), Node: e.NodeName, Zone: e.Zone,
				Ready: e.Conditions.Ready, Serving: e.Conditions.Serving, Terminating: e.Conditions.Terminating})
		}
	}
	return sortBackends(out)
}

// requireUsable checks that b is one kube-proxy may pick from eps: a
// ready one, or a serving terminating one when none is ready (KEP-1669).
func requireUsable(t require.TestingT, eps []lb.Backend, b lb.Backend) {
	if b.Ready {
		return
	}
	require.True(t, b.Serving && b.Terminating, "picked an unusable backend %+v", b)
	for _, e := range eps {
		require.False(t, e.Ready, "picked terminating %s while %s is ready", b.Addr, e.Addr)
	}
}

// checkDNS checks the DNS against the Registry: every Service's name
// answers its ClusterIPs by family, every other name NXDOMAIN.
func (m *clusterMachine) checkDNS(t *rapid.T) {
	for _, ns := range smNamespaces {
		for _, name := range smServices {
			svc, ok := m.svcs[nn(ns, name)]
			fqdn := dnsname.ServiceName(name, ns, "")
			for _, qt := range []dnsname.Type{dnsname.TypeA, dnsname.TypeAAAA} {
				resp := m.c.DNS().Resolve(fqdn, qt)
				if !ok {
					require.Equal(t, dnsname.RcodeNXDomain, resp.Rcode, "%s %s", fqdn, qt)
					continue
				}
				if svc.Spec.Type == service.ServiceTypeExternalName {
					require.Equal(t, dnsname.RcodeNoError, resp.Rcode, "%s %s", fqdn, qt)
					require.Len(t, resp.Answer, 1)
					require.Equal(t, "db.example.com.", resp.Answer[0].Target)
					continue
				}
				var want, got []netip.Addr
				for _, r := range resp.Answer {
					got = append(got, r.Addr)
				}
				if svc.IsHeadless() {
					// The ready endpoints (spec §2.4.1), NXDOMAIN without any.
					all := endpointSet(m.c.Slices(svc.Key()), endpoints.AddressTypeIPv4)
					if qt == dnsname.TypeAAAA {
						all = endpointSet(m.c.Slices(svc.Key()), endpoints.AddressTypeIPv6)
					}
					for a, e := range all {
						if e.Conditions.Ready {
							want = append(want, a)
						}
					}
					slices.SortFunc(want, netip.Addr.Compare)
					if len(want) == 0 && !m.anyReady(svc) {
						require.Equal(t, dnsname.RcodeNXDomain, resp.Rcode, "%s %s", fqdn, qt)
						continue
					}
				} else {
					for _, ip := range svc.Spec.ClusterIPs {
						if a := netip.MustParseAddr(ip); a.Is6() == (qt == dnsname.TypeAAAA) {
							want = append(want, a)
						}
					}
				}
				require.Equal(t, dnsname.RcodeNoError, resp.Rcode, "%s %s", fqdn, qt)
				require.Equal(t, want, got, "%s %s", fqdn, qt)
			}
		}
	}
}

// anyReady reports whether a Service's slices have a ready endpoint in
// any family.
func (m *clusterMachine) anyReady(svc *service.Service) bool {
	for _, sl := range m.c.Slices(svc.Key()) {
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready {
				return true
			}
		}
	}
	return false
}

// checkSynced checks a cluster whose nodes and DNS are in sync.
func (m *clusterMachine) checkSynced(t *rapid.T) {
	m.checkDNS(t)
	inside := map[bool]netip.AddrPort{false: netip.MustParseAddrPort("10.244.255.1:40000"), true: netip.MustParseAddrPort("[fd00:10:244::ffff]:40000")}
	outside := netip.MustParseAddrPort("203.0.113.1:40000")
	for name, n := range m.nodes {
		p, err := m.c.Proxy(name)
		require.NoError(t, err)
		require.Same(t, m.c.Table(), p.Table(), "node %s is in sync", name)
		// Nothing more: no frontend of a deleted Service or port stays.
		require.Equal(t, len(m.svcs), p.Table().Services())
		frontends := 0
		for _, svc := range m.svcs {
			if svc.Spec.Type == service.ServiceTypeExternalName {
				continue
			}
			for _, sp := range svc.Spec.Ports {
				for _, vip := range vips(svc) {
					if slices.Contains(svc.Spec.IPFamilies, ipFamily(vip)) {
						frontends++
					}
				}
				if sp.NodePort != 0 {
					frontends += len(svc.Spec.IPFamilies)
				}
			}
		}
		require.Equal(t, frontends, p.Frontends(), "node %s", name)
		nodeIP := netip.MustParseAddr(n.Status.Addresses[0].Address)
		for key, svc := range m.svcs {
			for _, sp := range svc.Spec.Ports {
				proto := lb.TCP
				if sp.Protocol == service.ProtocolUDP {
					proto = lb.UDP
				}
				for _, fam := range svc.Spec.IPFamilies {
					v6 := fam == service.IPv6Protocol
					eps := p.Table().Backends(key, sp.Name, sp.Protocol, v6)
					require.Equal(t, sliceBackends(m.c.Slices(key), sp, v6), sortBackends(eps), "node %s, %s port %s", name, key, sp.Name)
				}
				for _, vip := range vips(svc) {
					v6 := vip.Is6()
					if !slices.Contains(svc.Spec.IPFamilies, ipFamily(vip)) {
						continue
					}
					eps := p.Table().Backends(key, sp.Name, sp.Protocol, v6)
					pkt := proxy.Packet{Src: inside[v6], Dst: netip.AddrPortFrom(vip, uint16(sp.Port)), Proto: proto}
					if !slices.Contains(svc.Spec.ClusterIPs, vip.String()) {
						pkt.Src = outside // a LoadBalancer address, from outside
					}
					pkts := []proxy.Packet{pkt}
					if sp.NodePort != 0 && !v6 {
						pkts = append(pkts, proxy.Packet{Src: outside, Dst: netip.AddrPortFrom(nodeIP, uint16(sp.NodePort)), Proto: proto})
					}
					usable := hasUsable(eps)
					for _, pkt := range pkts {
						r, err := m.c.Route(name, pkt, epoch)
						require.NoError(t, err)
						require.Equal(t, key, r.Service, "node %s: %v", name, pkt)
						if !usable {
							require.Equal(t, proxy.NoEndpoints, r.Verdict, "node %s: %v", name, pkt)
							continue
						}
						require.Equal(t, proxy.Routed, r.Verdict, "node %s: %v", name, pkt)
						require.Contains(t, eps, r.Backend)
						requireUsable(t, eps, r.Backend)
					}
				}
			}
		}
	}
}

// vips returns a Service's virtual addresses: its ClusterIPs and its
// LoadBalancer ingress IPs.
func vips(svc *service.Service) []netip.Addr {
	var out []netip.Addr
	for _, ip := range svc.Spec.ClusterIPs {
		if ip != service.ClusterIPNone {
			out = append(out, netip.MustParseAddr(ip))
		}
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		out = append(out, netip.MustParseAddr(in.IP))
	}
	return out
}

func ipFamily(a netip.Addr) service.IPFamily {
	if a.Is6() {
		return service.IPv6Protocol
	}
	return service.IPv4Protocol
}

func compareKeys(a, b service.NamespacedName) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func TestClusterStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newClusterMachine(t)
		t.Repeat(rapid.StateMachineActions(m))
	})
}
