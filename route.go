package svcnet

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/svcnet/svcnet/proxy"
)

// Linux's default net.ipv4.ip_local_port_range: the source ports a client
// that does not choose one is given.
const (
	EphemeralPortFirst = 32768
	EphemeralPortLast  = 60999
)

// EphemeralPort returns the source port of the n-th connection a client
// opens without choosing one: the ports of Linux's default range in turn,
// from EphemeralPortFirst+1 for n = 1, wrapping after EphemeralPortLast.
// Dial numbers the connections of the whole Cluster; the simulator those
// of each flow.
func EphemeralPort(n uint64) uint16 {
	return uint16(EphemeralPortFirst + n%(EphemeralPortLast+1-EphemeralPortFirst))
}

// NodeProxy is a read-only view of one node's kube-proxy as of the call
// to Cluster.Proxy: the node, and the generation and table it has applied.
// The table is immutable and stays as it is when the node syncs again;
// route through the node with Cluster.Route.
type NodeProxy struct {
	node  string
	gen   uint64
	table *proxy.Table
}

// NodeName returns the node the proxy runs on.
func (p NodeProxy) NodeName() string { return p.node }

// Generation returns the table generation the proxy had applied (0: none
// yet, the empty table).
func (p NodeProxy) Generation() uint64 { return p.gen }

// Table returns the table the proxy had applied.
func (p NodeProxy) Table() *proxy.Table { return p.table }

// Frontends returns the number of frontends in the proxy's table.
func (p NodeProxy) Frontends() int { return p.table.Frontends() }

// Proxy returns a read-only view of a node's proxy; an unknown node is an
// ErrNotFound.
func (c *Cluster) Proxy(name string) (NodeProxy, error) {
	ns, ok := c.nodes[name]
	if !ok {
		return NodeProxy{}, fmt.Errorf("%w: node %q", ErrNotFound, name)
	}
	return NodeProxy{node: name, gen: ns.gen.n, table: ns.gen.table}, nil
}

// NodeView returns a copy of a node's kube-proxy view: a proxy.Proxy
// with the node's name, zone, addresses and the cluster's prefixes,
// synced to the table the node has applied, for renderers such as
// nftables.Render that read a *proxy.Proxy. Its pickers are its own (it
// draws no random number from the Cluster's stream), so routing through
// it does not move the node's; an unknown node is an ErrNotFound.
func (c *Cluster) NodeView(name string) (*proxy.Proxy, error) {
	ns, ok := c.nodes[name]
	if !ok {
		return nil, fmt.Errorf("%w: node %q", ErrNotFound, name)
	}
	prefixes := append(append([]netip.Prefix(nil), c.cfg.PodCIDRs...), c.cfg.NodeCIDRs...)
	p, err := proxy.NewProxy(proxy.ProxyConfig{
		NodeName: name, NodeZone: ns.node.Zone(), NodeAddresses: ns.addrs,
		ClusterPrefixes: prefixes, Algorithm: c.cfg.Algorithm,
		Rand: rand.New(rand.NewPCG(0, 0)),
	})
	if err != nil {
		return nil, err
	}
	p.Sync(ns.gen.table)
	return p, nil
}

// Config returns the Config the cluster was made with (its Rand and
// Clock as given: do not draw from them).
func (c *Cluster) Config() Config { return c.cfg }

// Route decides where the first packet of a connection goes through a
// node's kube-proxy, at time now (which only session affinity reads), with
// the table generation the node has applied: a stale node routes as it was
// programmed. It does not allocate once the port's pickers exist. An
// unknown node is an ErrNotFound. Call Done when the connection ends.
func (c *Cluster) Route(node string, pkt proxy.Packet, now time.Time) (proxy.Route, error) {
	ns, ok := c.nodes[node]
	if !ok {
		return proxy.Route{}, fmt.Errorf("%w: node %q", ErrNotFound, node)
	}
	return ns.route().Route(pkt, now), nil
}

// Done reports that a connection Route or LoadBalance routed has ended,
// so that connection-aware algorithms (least connections, power of two
// choices, bounded load) count it closed. Done of a route that was not
// Routed does nothing.
func (c *Cluster) Done(r proxy.Route) { r.Done() }

// LoadBalance routes an external client's packet as a cloud load balancer
// in front of the nodes does: it starts at a node chosen by a fixed hash
// of the client's address (SplitMix64's finalizer over its 16 bytes, so a
// client keeps its node while the list does not change) and goes round
// the list from there, skipping every node whose health check fails — for
// a LoadBalancer frontend of an externalTrafficPolicy Local Service, a
// node without a ready local endpoint (none, or only terminating ones,
// KEP-1669), which kube-proxy's server on the
// Service's healthCheckNodePort answers 503
// (pkg/proxy/healthcheck/service_health.go; "Preserving the client source
// IP" in the create-external-load-balancer docs) — and sends the packet to
// the first that passes, or to the last when none does. It returns that
// node and its Route.
//
// nodes are the candidates in the load balancer's order, those whose
// machines run; nil means every node, sorted by name, as Dial uses. With
// no candidate it returns "" and the zero Route. An unknown node is an
// ErrNotFound. It costs one Route per node tried, and does not allocate.
func (c *Cluster) LoadBalance(nodes []string, pkt proxy.Packet, now time.Time) (string, proxy.Route, error) {
	return c.loadBalance(nodes, pkt, now, nil)
}

// loadBalance is LoadBalance, calling skipped for each node whose health
// check failed.
func (c *Cluster) loadBalance(nodes []string, pkt proxy.Packet, now time.Time, skipped func(node string)) (string, proxy.Route, error) {
	if nodes == nil {
		nodes = c.names
	}
	return pickLoadBalancerNode(nodes, pkt.Src.Addr(), func(name string) (proxy.Route, error) { return c.Route(name, pkt, now) }, skipped)
}

// LoadBalancerNode is LoadBalance's rule for a data plane the Cluster
// does not route itself (package testbed's cloud load balancer in front
// of real nodes): among nodes, starting at the one the fixed hash of
// client picks, the first whose route (how that node routes the
// client's packet, as its kube-proxy is programmed) passes the health
// check, or the last when none does. With no node it returns "" and the
// zero Route; an error of route is returned as it is.
func LoadBalancerNode(nodes []string, client netip.Addr, route func(node string) (proxy.Route, error)) (string, proxy.Route, error) {
	return pickLoadBalancerNode(nodes, client, route, nil)
}

func pickLoadBalancerNode(nodes []string, client netip.Addr, route func(node string) (proxy.Route, error), skipped func(node string)) (string, proxy.Route, error) {
	if len(nodes) == 0 {
		return "", proxy.Route{}, nil
	}
	start := loadBalancerStart(client, len(nodes))
	var name string
	var r proxy.Route
	for i := range nodes {
		name = nodes[(start+i)%len(nodes)]
		var err error
		if r, err = route(name); err != nil {
			return "", proxy.Route{}, err
		}
		if !healthCheckFails(r) || i == len(nodes)-1 {
			break
		}
		if skipped != nil {
			skipped(name)
		}
	}
	return name, r, nil
}

// healthCheckFails reports whether a cloud load balancer's health check
// of the node that routed r fails for r's Service: for a LoadBalancer
// frontend of an externalTrafficPolicy Local Service, a node with no
// ready local endpoint. kube-proxy's server on the healthCheckNodePort
// counts the local ready endpoints (pkg/proxy/healthcheck/service_health.go,
// fed LocalReadyEndpoints) and answers 503 without one: with none at all
// (the node drops by policy) and also when its local endpoints are all
// terminating (KEP-1669: the check fails "if there are only Terminating
// endpoints, regardless of their readiness", so that load balancers drain
// the node while its rules still send what arrives to a serving one).
func healthCheckFails(r proxy.Route) bool {
	if r.Kind != proxy.FrontendLoadBalancer {
		return false
	}
	return r.Verdict == proxy.DroppedByPolicy || r.Verdict == proxy.Routed && r.ExternalLocal && !r.Backend.Ready
}

// loadBalancerStart returns where among n nodes a load balancer starts
// for a client address.
func loadBalancerStart(client netip.Addr, n int) int {
	b := client.As16()
	h := mix(binary.BigEndian.Uint64(b[:8]) ^ mix(binary.BigEndian.Uint64(b[8:])))
	return int(h % uint64(n))
}

// mix is SplitMix64's finalizer: a fixed hash, the same in every run.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
