package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// The invariants, as Violation.Invariant names them.
const (
	// InvUniqueClusterIP: no two Services share a ClusterIP.
	InvUniqueClusterIP = "unique-cluster-ip"
	// InvUniqueNodePort: no two Services share a NodePort.
	InvUniqueNodePort = "unique-node-port"
	// InvAllocators: the allocators hold exactly what the Services
	// reference (Registry.Repair finds nothing to do).
	InvAllocators = "allocators-match-services"
	// InvSlices: every Service's EndpointSlices hold exactly the
	// endpoints its pods imply, with their conditions.
	InvSlices = "slices-match-pods"
	// InvNodeConvergence: every running, connected node's proxy has
	// applied every table published longer than the convergence bound ago.
	InvNodeConvergence = "node-convergence"
	// InvDNSConvergence: the DNS has applied every change older than the
	// convergence bound.
	InvDNSConvergence = "dns-convergence"
	// InvPickInView: a proxy only picks a backend its own table holds.
	InvPickInView = "pick-in-view"
	// InvClusterAccepts: the cluster accepts every object the simulator
	// writes (a failure is a bug in one or the other).
	InvClusterAccepts = "cluster-accepts"
)

// checkPick checks a routed connection against the picking node's view.
func (w *world) checkPick(n *node, r lb.Route) {
	w.m.picks++
	ipv6 := r.Backend.Addr.Addr().Is6()
	for _, b := range n.proxy.Table().Backends(r.Service, r.PortName, service.ProtocolTCP, ipv6) {
		if b.Addr == r.Backend.Addr {
			return
		}
	}
	w.violate(InvPickInView, "node %s picked %s for %s port %q, which its table (version %d) does not hold",
		n.name, r.Backend.Addr, r.Service, r.PortName, n.proxy.Table().Version())
}

// periodicCheck runs the full checks and schedules the next.
func (w *world) periodicCheck() {
	w.fullCheck()
	w.after(w.cfg.t.interval, evCheck, 0, 0)
}

// fullCheck runs the invariants that cost O(cluster).
func (w *world) fullCheck() {
	if w.stopped != nil {
		return
	}
	w.m.fullChecks++
	w.checkConvergence()
	if w.cpDown || w.stopped != nil {
		return
	}
	w.checkServices()
	if w.stopped == nil {
		w.checkSlices()
	}
}

// checkConvergence is the liveness check: what was published more than
// the bound ago has reached every running, connected node and the DNS.
func (w *world) checkConvergence() {
	now := w.now()
	bound := w.cfg.t.bound
	p := &w.pub
	if now-p.hist[0].at >= bound {
		want := p.hist[p.visible(now-bound)].t
		for _, n := range w.nodes {
			if !n.alive || !n.connected || now-n.upSince < bound {
				continue
			}
			if got := n.proxy.Table(); got.Version() < want.Version() {
				w.violate(InvNodeConvergence, "node %s is at table version %d; version %d was published more than %v ago",
					n.name, got.Version(), want.Version(), bound)
				return
			}
		}
	}
	if w.dns.since >= 0 && now-w.dns.since > bound && w.c.DNSPending() > 0 {
		w.violate(InvDNSConvergence, "the DNS has %d changes pending since %v (bound %v)", w.c.DNSPending(), w.dns.since, bound)
	}
}

// checkServices checks ClusterIP and NodePort uniqueness over every
// Service, and that the allocators hold exactly those.
func (w *world) checkServices() {
	ips := map[string]service.NamespacedName{}
	ports := map[int32]service.NamespacedName{}
	for _, s := range w.c.Services("") {
		if _, ok := w.claim(s, ips, ports); !ok {
			return
		}
	}
	rep, err := w.c.Repair()
	if err != nil || !rep.Clean() {
		w.violate(InvAllocators, "repair found %+v (%v)", rep, err)
	}
}

// claim records a Service's ClusterIPs and NodePorts in the maps,
// reporting a violation when one is taken.
func (w *world) claim(s *service.Service, ips map[string]service.NamespacedName, ports map[int32]service.NamespacedName) (service.NamespacedName, bool) {
	key := s.Key()
	for _, ip := range s.Spec.ClusterIPs {
		if ip == "" || ip == service.ClusterIPNone {
			continue
		}
		if o, ok := ips[ip]; ok && o != key {
			w.violate(InvUniqueClusterIP, "Services %s and %s share ClusterIP %s", o, key, ip)
			return key, false
		}
		ips[ip] = key
	}
	np := map[int32]bool{}
	for _, p := range s.Spec.Ports {
		if p.NodePort != 0 {
			np[p.NodePort] = true
		}
	}
	if s.Spec.HealthCheckNodePort != 0 {
		np[s.Spec.HealthCheckNodePort] = true
	}
	for _, port := range slices.Sorted(mapKeys(np)) {
		if o, ok := ports[port]; ok && o != key {
			w.violate(InvUniqueNodePort, "Services %s and %s share NodePort %d", o, key, port)
			return key, false
		}
		ports[port] = key
	}
	return key, true
}

// forgetAllocations drops a deleted Service from the incremental maps.
func (w *world) forgetAllocations(s *svcInfo) {
	for ip, k := range w.ipOwner {
		if k == s.key {
			delete(w.ipOwner, ip)
		}
	}
	for p, k := range w.portOwner {
		if k == s.key {
			delete(w.portOwner, p)
		}
	}
}

type epCond struct {
	ready, serving, terminating bool
}

// checkSlices compares every Service's slices with what the pods the
// cluster holds imply (the endpoints controller's rules, restated
// naively: a pod in the Service's namespace whose labels the selector
// matches, with an IP, gets one endpoint with its conditions).
func (w *world) checkSlices() {
	// Index the pods the cluster holds by namespace and label pair.
	type lk struct{ ns, k, v string }
	byLabel := map[lk][]*pod{}
	byNS := map[string][]*pod{}
	for _, p := range w.pods {
		if !p.inCluster || !p.cl.ip.IsValid() {
			continue
		}
		byNS[p.key.Namespace] = append(byNS[p.key.Namespace], p)
		for k, v := range p.labels {
			byLabel[lk{p.key.Namespace, k, v}] = append(byLabel[lk{p.key.Namespace, k, v}], p)
		}
	}
	for _, s := range w.c.Services("") {
		if s.Spec.Selector == nil || s.Spec.Type == service.ServiceTypeExternalName {
			continue
		}
		sel := service.SelectorFromSet(s.Spec.Selector)
		cands := byNS[s.Namespace]
		if len(s.Spec.Selector) > 0 {
			k := slices.Min(slices.Collect(mapKeys(s.Spec.Selector)))
			cands = byLabel[lk{s.Namespace, k, s.Spec.Selector[k]}]
		}
		want := map[netip.Addr]epCond{}
		for _, p := range cands {
			if !sel.Matches(p.labels) || !p.cl.ip.Is4() {
				continue
			}
			c := epCond{serving: p.cl.ready, terminating: p.cl.term}
			c.ready = s.Spec.PublishNotReadyAddresses || c.serving && !c.terminating
			want[p.cl.ip] = c
		}
		got := map[netip.Addr]epCond{}
		for _, sl := range w.c.Slices(s.Key()) {
			if sl.AddressType != endpoints.AddressTypeIPv4 {
				continue
			}
			for _, e := range sl.Endpoints {
				a := e.Address()
				if _, dup := got[a]; dup {
					w.violate(InvSlices, "Service %s: endpoint %s twice", s.Key(), a)
					return
				}
				got[a] = epCond{ready: e.Conditions.Ready, serving: e.Conditions.Serving, terminating: e.Conditions.Terminating}
			}
		}
		if !mapsEqual(want, got) {
			w.violate(InvSlices, "Service %s: slices hold %s, its pods imply %s", s.Key(), fmtEps(got), fmtEps(want))
			return
		}
	}
}

func mapsEqual(a, b map[netip.Addr]epCond) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if u, ok := b[k]; !ok || u != v {
			return false
		}
	}
	return true
}

func fmtEps(m map[netip.Addr]epCond) string {
	keys := slices.SortedFunc(mapKeys(m), func(a, b netip.Addr) int { return a.Compare(b) })
	s := "["
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		c := m[k]
		s += fmt.Sprintf("%s(r=%t,s=%t,t=%t)", k, c.ready, c.serving, c.terminating)
	}
	return s + "] (" + strconv.Itoa(len(keys)) + ")"
}
