package sim

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// outcome is a connection's fate.
type outcome uint8

const (
	outServed outcome = iota
	outRefused
	outReset
	outRejected
	outDNS
	outDropped
	outUnreachable
)

func (o *Outcomes) add(k outcome, n int64) {
	o.Total += n
	switch k {
	case outServed:
		o.Served += n
	case outRefused:
		o.Refused += n
	case outReset:
		o.Reset += n
	case outRejected:
		o.Rejected += n
	case outDNS:
		o.DNSFailure += n
	case outDropped:
		o.Dropped += n
	case outUnreachable:
		o.Unreachable += n
	}
}

// flow is one TrafficSpec at run time.
type flow struct {
	idx      int
	spec     TrafficSpec
	name     string
	svc      *svcInfo
	ns       string
	portName string
	port     uint16
	nodePort uint16
	proto    service.Protocol
	external bool
	via      string
	// host is the name pods resolve; vip the ClusterIP; lbIP the load
	// balancer's address.
	host      string
	vip, lbIP netip.Addr
	local     bool
	// direct: the name resolves to pod addresses (a headless Service, or
	// a StatefulSet pod's hostname): the client connects to the pod at
	// target, the Service port's targetPort, with no proxy in between.
	direct bool
	target service.IntOrString

	clientSel *service.Selector
	clients   []*pod
	addrs     []netip.Addr
	cache     map[*pod]dnsEntry
	rng       *rand.Rand
	sport     uint64
	start     time.Duration
	stop      time.Duration

	counts Outcomes
	load   map[*pod]int64
}

type dnsEntry struct {
	addr    netip.Addr
	expires time.Duration
}

// conn is an open connection.
type conn struct {
	gen     uint32
	open    bool
	flow    *flow
	pod     *pod
	node    *node
	route   proxy.Route
	pkt     proxy.Packet
	start   time.Duration
	podPos  int
	nodePos int
}

// Draw returns a duration drawn from d with r, as the simulator draws
// a connection's length (package testbed draws its real connections'
// lengths with it).
func (d Distribution) Draw(r *rand.Rand) time.Duration { return d.draw(r) }

// draw returns a connection length from the flow's distribution.
func (d Distribution) draw(r *rand.Rand) time.Duration {
	mean := d.Mean.D()
	if mean == 0 {
		mean = time.Second
	}
	m := float64(mean)
	var v float64
	switch d.Kind {
	case DistConstant:
		v = m
	case DistLogNormal:
		s := d.Sigma
		if s == 0 {
			s = 1
		}
		// mean = exp(mu + s²/2)
		mu := math.Log(m) - s*s/2
		v = math.Exp(mu + s*r.NormFloat64())
	case DistPareto:
		a := d.Alpha
		if a == 0 {
			a = 2
		}
		// mean = a·xm/(a−1)
		xm := m * (a - 1) / a
		v = xm / math.Pow(1-r.Float64(), 1/a)
	default:
		v = m * r.ExpFloat64()
	}
	if v > float64(1<<62) {
		v = float64(1 << 62)
	}
	return time.Duration(v)
}

// arrival is the next connection of a flow.
func (w *world) arrival(f *flow) {
	now := w.now()
	next := now + time.Duration(f.rng.ExpFloat64()/f.spec.Rate*1e9)
	if f.stop == 0 || next < f.stop {
		w.at(next, evArrival, uint32(f.idx), 0)
	}
	var (
		client *pod
		src    netip.Addr
		entry  *node
		dst    netip.Addr
		port   uint16
	)
	f.sport++
	sport := svcnet.EphemeralPort(f.sport)
	if f.external {
		src = f.addrs[f.rng.IntN(len(f.addrs))]
	} else {
		client = w.pickClient(f)
		if client == nil {
			return
		}
		src, entry = client.ip, client.node
	}
	switch f.via {
	case ViaDNS:
		e, ok := f.cache[client]
		if !ok || e.expires <= now {
			res, err := w.c.Resolve(svcnet.Source{Pod: client.key}, f.host, dnsname.TypeA)
			if err != nil {
				return // the client is not in the API yet
			}
			w.m.dnsQueries++
			e = dnsEntry{}
			for _, r := range res.Response.Answer {
				if r.Type == dnsname.TypeA {
					e = dnsEntry{addr: r.Addr, expires: now + time.Duration(r.TTL)*time.Second}
					break
				}
			}
			if f.direct {
				// A headless name has an address per ready pod: the
				// loadbalance plugin of CoreDNS's default Corefile
				// shuffles them and the client takes the first, so a
				// random one.
				var as []dnsname.Record
				for _, r := range res.Response.Answer {
					if r.Type == dnsname.TypeA {
						as = append(as, r)
					}
				}
				if len(as) > 1 {
					r := as[f.rng.IntN(len(as))]
					e = dnsEntry{addr: r.Addr, expires: now + time.Duration(r.TTL)*time.Second}
				}
			}
			if !e.addr.IsValid() {
				delete(f.cache, client)
				w.outcome(f, outDNS, now)
				w.traceRouted(client.node, outDNS, now)
				return
			}
			f.cache[client] = e
		}
		dst, port = e.addr, f.port
	case ViaClusterIP:
		dst, port = f.vip, f.port
	case ViaNodePort:
		if len(w.apiReady.list) == 0 {
			w.outcome(f, outUnreachable, now)
			return
		}
		entry = w.apiReady.list[f.rng.IntN(len(w.apiReady.list))]
		dst, port = entry.addr, f.nodePort
		if !entry.alive {
			w.outcome(f, outUnreachable, now)
			w.traceRouted(entry, outUnreachable, now)
			return
		}
	case ViaLoadBalancer:
		dst, port = f.lbIP, f.port
	}
	if f.direct {
		w.directConn(f, client, dst, sport, now)
		return
	}
	pkt := proxy.Packet{Src: netip.AddrPortFrom(src, sport), Dst: netip.AddrPortFrom(dst, port), Proto: lb.TCP}
	clock := w.clock()
	var r proxy.Route
	var err error
	if f.via == ViaLoadBalancer && f.external {
		entry, r, err = w.loadBalance(pkt, clock)
		if entry == nil && err == nil {
			w.outcome(f, outUnreachable, now)
			return
		}
	} else {
		w.materialize(entry)
		r, err = w.c.Route(entry.name, pkt, clock)
	}
	if err != nil {
		w.violate(InvClusterAccepts, "route %v: %v", pkt, err)
		return
	}
	switch r.Verdict {
	case proxy.Routed:
	case proxy.NoEndpoints:
		w.outcomeAt(f, outRejected, now, nil, entry, netip.AddrPort{})
		w.traceRouted(entry, outRejected, now)
		return
	case proxy.DroppedByPolicy, proxy.BlockedBySourceRange:
		w.outcomeAt(f, outDropped, now, nil, entry, netip.AddrPort{})
		w.traceRouted(entry, outDropped, now)
		return
	default:
		w.outcomeAt(f, outUnreachable, now, nil, entry, netip.AddrPort{})
		w.traceRouted(entry, outUnreachable, now)
		return
	}
	if !w.cfg.s.Checks.SkipPicks {
		w.checkPick(entry, r)
	}
	backend := w.podByIP[r.Backend.Addr.Addr()]
	if backend == nil || !backend.appUp || backend.phase != phRunning ||
		backend.key.Namespace != f.ns || !f.svc.sel.Matches(backend.labels) {
		w.c.Done(r)
		w.outcomeAt(f, outRefused, now, backend, entry, r.Backend.Addr)
		w.traceRouted(entry, outRefused, now)
		if backend != nil && (backend.key.Namespace != f.ns || !f.svc.sel.Matches(backend.labels)) {
			backend = nil // the address belongs to another pod now
		}
		w.traceBlame(backend, r.Backend.Addr.Addr(), outRefused)
		return
	}
	if f.via == ViaNodePort && client != nil && f.local && entry != client.node && backend.node != entry {
		// A pod's connection to another node's NodePort of an
		// externalTrafficPolicy Local Service: kube-proxy sends pod
		// traffic to every endpoint ("short-circuit" to the cluster
		// chain) without masquerading it, so a backend off the entry
		// node answers the client pod directly, past the entry node's
		// conntrack, and the client drops a SYN-ACK it never asked
		// for: the connect times out (kubernetes/kubernetes#74383; the
		// testbed measures it).
		w.c.Done(r)
		w.outcomeAt(f, outUnreachable, now, backend, entry, r.Backend.Addr)
		w.traceRouted(entry, outUnreachable, now)
		return
	}
	f.load[backend]++
	id := w.openConn(f, backend, entry, r, pkt, now)
	w.after(f.spec.Length.draw(f.rng), evConnEnd, id, w.conns[id].gen)
	zone := entry.zone
	if client != nil {
		zone = client.node.zone
	}
	w.m.servedZone++
	if zone != backend.node.zone {
		w.m.crossZone++
	}
}

// directConn is a connection from a client pod straight to the pod
// address DNS gave (a headless Service or a pod's hostname): no proxy,
// so its fate is the address's. No pod there: the SYN goes unanswered
// (unreachable); a pod that is not serving, is not the Service's any
// more (the address was reused), or has no such port: refused.
func (w *world) directConn(f *flow, client *pod, dst netip.Addr, sport uint16, now time.Duration) {
	entry := client.node
	backend := w.podByIP[dst]
	if backend == nil || backend.phase == phGone {
		w.outcomeAt(f, outUnreachable, now, nil, entry, netip.AddrPortFrom(dst, 0))
		w.traceRouted(entry, outUnreachable, now)
		return
	}
	port, ok := endpoints.FindPort(backend.spec, f.target, service.ProtocolTCP)
	addr := netip.AddrPortFrom(dst, uint16(port))
	if !ok || !backend.appUp || backend.phase != phRunning || backend.key.Namespace != f.ns || !f.svc.sel.Matches(backend.labels) {
		w.outcomeAt(f, outRefused, now, backend, entry, addr)
		w.traceRouted(entry, outRefused, now)
		if backend.key.Namespace != f.ns || !f.svc.sel.Matches(backend.labels) {
			backend = nil
		}
		w.traceBlame(backend, dst, outRefused)
		return
	}
	f.load[backend]++
	r := proxy.Route{Service: f.svc.key, PortName: f.portName, Backend: lb.Backend{Addr: addr}}
	pkt := proxy.Packet{Src: netip.AddrPortFrom(client.ip, sport), Dst: addr, Proto: lb.TCP}
	id := w.openConn(f, backend, entry, r, pkt, now)
	w.after(f.spec.Length.draw(f.rng), evConnEnd, id, w.conns[id].gen)
	w.m.servedZone++
	if entry.zone != backend.node.zone {
		w.m.crossZone++
	}
}

// pickClient returns a running client pod of the flow.
func (w *world) pickClient(f *flow) *pod {
	if len(f.clients) == 0 {
		return nil
	}
	for range 8 {
		p := f.clients[f.rng.IntN(len(f.clients))]
		if p.phase == phRunning && p.node.alive && p.inCluster {
			return p
		}
	}
	return nil
}

// loadBalance is a cloud load balancer in front of the live nodes: the
// Cluster's LoadBalance, the one policy Dial uses too (a node chosen by a
// hash of the client, skipping the nodes whose health check fails:
// externalTrafficPolicy Local and no local endpoint). No live node is a
// nil node.
func (w *world) loadBalance(pkt proxy.Packet, clock time.Time) (*node, proxy.Route, error) {
	w.materializeAll()
	name, r, err := w.c.LoadBalance(w.alive.names, pkt, clock)
	if name == "" || err != nil {
		return nil, r, err
	}
	return w.nodeByName[name], r, nil
}

func (w *world) openConn(f *flow, p *pod, n *node, r proxy.Route, pkt proxy.Packet, now time.Duration) uint32 {
	var id uint32
	if k := len(w.free); k > 0 {
		id = w.free[k-1]
		w.free = w.free[:k-1]
	} else {
		id = uint32(len(w.conns))
		w.conns = append(w.conns, conn{})
	}
	c := &w.conns[id]
	c.gen++
	c.open = true
	c.flow, c.pod, c.node, c.route, c.pkt, c.start = f, p, n, r, pkt, now
	c.podPos = len(p.conns)
	p.conns = append(p.conns, id)
	c.nodePos = len(n.conns)
	n.conns = append(n.conns, id)
	return id
}

func (w *world) connEnd(id, gen uint32) {
	c := &w.conns[id]
	if !c.open || c.gen&0xFFFFFF != gen {
		return
	}
	w.closeConn(id, outServed)
}

// closeConn ends an open connection with an outcome.
func (w *world) closeConn(id uint32, k outcome) {
	c := &w.conns[id]
	if !c.open {
		return
	}
	c.open = false
	p := c.pod
	last := p.conns[len(p.conns)-1]
	p.conns[c.podPos] = last
	w.conns[last].podPos = c.podPos
	p.conns = p.conns[:len(p.conns)-1]
	n := c.node
	lastN := n.conns[len(n.conns)-1]
	n.conns[c.nodePos] = lastN
	w.conns[lastN].nodePos = c.nodePos
	n.conns = n.conns[:len(n.conns)-1]
	w.c.Done(c.route)
	w.outcomeAt(c.flow, k, c.start, p, n, c.route.Backend.Addr)
	w.traceRouted(n, k, c.start)
	if k == outReset {
		w.traceBlame(p, c.route.Backend.Addr.Addr(), k)
	}
	c.flow, c.pod, c.node, c.route = nil, nil, nil, proxy.Route{}
	w.free = append(w.free, id)
}

// outcome counts a connection that started at t.
func (w *world) outcome(f *flow, k outcome, t time.Duration) {
	w.outcomeAt(f, k, t, nil, nil, netip.AddrPort{})
}

// outcomeAt is outcome, with the backend pod, the node that routed it
// (nil when none) and the backend address (zero when none), for the
// event log.
func (w *world) outcomeAt(f *flow, k outcome, t time.Duration, p *pod, n *node, backend netip.AddrPort) {
	w.connFailed(f, k, t, p, n, backend)
	f.counts.add(k, 1)
	w.m.total.add(k, 1)
	b := int(t / w.cfg.bucket)
	if b >= len(w.m.buckets) {
		b = len(w.m.buckets) - 1
	}
	w.m.buckets[b].add(k, 1)
	w.traceOutcome(f, k, t)
}

// rehash is the stateless data plane after a node's table changed: the
// next packet of every open connection through the node is routed again,
// and a connection sent to another backend breaks.
func (w *world) rehash(n *node, from uint64) {
	clock := w.clock()
	for _, id := range slices.Clone(n.conns) {
		c := &w.conns[id]
		if !c.open || c.flow.direct || w.pub.svcVersion[c.flow.svc.key] <= from {
			continue
		}
		w.materialize(n)
		r, err := w.c.Route(n.name, c.pkt, clock)
		if err != nil {
			w.violate(InvClusterAccepts, "node %s: route %v: %v", n.name, c.pkt, err)
			return
		}
		w.c.Done(r)
		if r.Verdict != proxy.Routed || r.Backend.Addr != c.route.Backend.Addr {
			w.closeConn(id, outReset)
		}
	}
}

// churnOf counts a backend stopping against the watched Services it backs.
func (w *world) churnOf(p *pod) {
	for _, s := range w.watched {
		if s.key.Namespace == p.key.Namespace && s.sel.Matches(p.labels) {
			s.churn++
		}
	}
}

// clientPodName names the i-th client pod of flow f.
func clientPodName(f, i int) string {
	return "client-" + strconv.Itoa(f) + "-" + strconv.Itoa(i)
}
