package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/proxy"
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
func (w *world) checkPick(n *node, r proxy.Route) {
	w.m.picks++
	ipv6 := r.Backend.Addr.Addr().Is6()
	w.materialize(n)
	view, err := w.c.Proxy(n.name)
	if err != nil {
		w.violate(InvPickInView, "node %s routed, but: %v", n.name, err)
		return
	}
	if view.Table().HasBackend(r.Service, r.PortName, service.ProtocolTCP, ipv6, r.Backend.Addr) {
		return
	}
	w.violate(InvPickInView, "node %s picked %s for %s port %q, which its table (generation %d) does not hold",
		n.name, r.Backend.Addr, r.Service, r.PortName, view.Generation())
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
	w.materializeAll()
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
	if want, ok := w.visible(now - bound); ok {
		for _, n := range w.nodes {
			if !n.alive || !n.connected || now-n.upSince < bound {
				continue
			}
			if got, err := w.c.NodeGeneration(n.name); err != nil || got < want {
				w.violate(InvNodeConvergence, "node %s is at table generation %d; generation %d was published more than %v ago (%v)",
					n.name, got, want, bound, err)
				return
			}
		}
	}
	if w.dns.since >= 0 && now-w.dns.since > bound && w.c.DNSPending() > 0 {
		w.violate(InvDNSConvergence, "the DNS has %d changes pending since %v (bound %v)", w.c.DNSPending(), w.dns.since, bound)
	}
}

// checkServices checks that the allocators hold exactly the ClusterIPs
// and NodePorts the Services reference, none twice: Registry.Repair,
// the repair loops Kubernetes runs, must find nothing to repair and no
// duplicate. (Each Service is also checked against the others as it is
// created.)
func (w *world) checkServices() {
	rep, err := w.c.Repair()
	if err != nil || !rep.Clean() {
		inv := InvAllocators
		for _, pr := range rep.Problems {
			if pr.Reason == "duplicate" && pr.Field == "clusterIP" {
				inv = InvUniqueClusterIP
			} else if pr.Reason == "duplicate" {
				inv = InvUniqueNodePort
			}
		}
		w.violate(inv, "repair found %+v (%v)", rep, err)
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

type endpoint struct {
	addr netip.Addr
	c    epCond
}

// checkSlices compares every Service's slices with what the pods the
// cluster holds imply (the endpoints controller's rules, restated
// naively: a pod in the Service's namespace whose labels the selector
// matches, with an IP, on a node in the API, gets one endpoint with its
// conditions).
func (w *world) checkSlices() {
	// Index the pods the cluster holds by namespace and by the label
	// pairs that Services select on first.
	type lk struct{ ns, k, v string }
	keys := map[[2]string]bool{}
	for _, s := range w.svcList {
		if k, ok := s.firstKey(); ok {
			keys[[2]string{s.key.Namespace, k}] = true
		}
	}
	byLabel := map[lk][]*pod{}
	byNS := map[string][]*pod{}
	for _, p := range w.pods {
		if !p.inCluster || !p.cl.ip.IsValid() || p.cl.node != nil && p.cl.node.removed {
			// A pod on a node gone from the API has no endpoint.
			continue
		}
		byNS[p.key.Namespace] = append(byNS[p.key.Namespace], p)
		for k, v := range p.labels {
			if keys[[2]string{p.key.Namespace, k}] {
				byLabel[lk{p.key.Namespace, k, v}] = append(byLabel[lk{p.key.Namespace, k, v}], p)
			}
		}
	}
	var want, got []endpoint
	byAddr := func(a, b endpoint) int { return a.addr.Compare(b.addr) }
	for _, s := range w.svcList {
		if s.deleted || !s.slices {
			continue
		}
		cands := byNS[s.key.Namespace]
		if k, ok := s.firstKey(); ok {
			cands = byLabel[lk{s.key.Namespace, k, s.labels[k]}]
		}
		want, got = want[:0], got[:0]
		for _, p := range cands {
			if !s.sel.Matches(p.labels) || !p.cl.ip.Is4() {
				continue
			}
			c := epCond{serving: p.cl.ready, terminating: p.cl.term}
			c.ready = s.notReady || c.serving && !c.terminating
			want = append(want, endpoint{p.cl.ip, c})
		}
		for _, sl := range w.c.Slices(s.key) {
			// User-managed slices (Scenario.EndpointSlices) are not the
			// controller's to compute.
			if sl.AddressType != endpoints.AddressTypeIPv4 || sl.Labels[endpoints.LabelManagedBy] != endpoints.DefaultManagedBy {
				continue
			}
			for _, e := range sl.Endpoints {
				got = append(got, endpoint{e.Address(), epCond{ready: e.Conditions.Ready, serving: e.Conditions.Serving, terminating: e.Conditions.Terminating}})
			}
		}
		slices.SortFunc(want, byAddr)
		slices.SortFunc(got, byAddr)
		if !slices.Equal(want, got) {
			w.violate(InvSlices, "Service %s: slices hold %s, its pods imply %s", s.key, fmtEps(got), fmtEps(want))
			return
		}
	}
}

func fmtEps(eps []endpoint) string {
	s := "["
	for i, e := range eps {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s(r=%t,s=%t,t=%t)", e.addr, e.c.ready, e.c.serving, e.c.terminating)
	}
	return s + "] (" + strconv.Itoa(len(eps)) + ")"
}
