//go:build linux

package testbed

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/sim"
)

// cloudLB is the cloud load balancer in front of the nodes that the
// external clients of a via-loadBalancer flow reach the Service's
// LoadBalancer IP through. It picks a node for each connection by the
// simulator's own rule (svcnet.LoadBalancerNode, which Cluster.LoadBalance
// uses): among the nodes whose machines run, in the simulator's order,
// it starts at a fixed hash of the client's address and skips each node
// whose health check fails — for externalTrafficPolicy Local, a node
// without a local endpoint, which kube-proxy's server on the Service's
// healthCheckNodePort answers 503 (pkg/proxy/healthcheck/service_health.go)
// from the state of its last sync. The check is answered here, as the
// simulator answers it, from the table each node last synced to (its own
// proxy view, fed by the same DataPlaneSync events as the node's agent),
// not over HTTP: a real load balancer probes every few seconds, and the
// simulator's sees a node's sync at once.
//
// The packet then goes to that node unchanged (its destination the
// LoadBalancer IP, as a pass-through load balancer such as GCP's
// network load balancer or MetalLB in layer-2 mode delivers it), where
// the node's kube-proxy rules for the LoadBalancer IP take it: the
// client marks its socket (SO_MARK) with the node's mark, and the
// outside namespace routes each mark through its node (programLB).
type cloudLB struct {
	mu sync.Mutex
	// alive are the running nodes in the simulator's order (its nodeSet:
	// a node that dies is swapped with the last, one that boots again
	// is appended).
	alive []string
	views map[string]*proxy.Proxy
	// mark is each node's socket mark in the outside namespace.
	mark map[string]int
	// programmed says the outside namespace routes the marks.
	programmed bool
}

func newCloudLB() *cloudLB {
	return &cloudLB{views: map[string]*proxy.Proxy{}, mark: map[string]int{}}
}

// lbTableBase is the first routing table (and, plus one, the first mark)
// of the per-node routes in the outside namespace.
const lbTableBase = 100

// observe follows the events that change the load balancer's picks: a
// node added, a node's sync, a node dying or booting. It runs on the
// simulator's goroutine, at each event's wall-clock time.
func (l *cloudLB) observe(e sim.DataPlaneEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e.Kind {
	case sim.DataPlaneNode:
		v, err := proxy.NewProxy(proxy.ProxyConfig{NodeName: e.Node, NodeAddresses: []netip.Addr{e.NodeAddr}, ClusterPrefixes: e.ClusterCIDRs})
		if err != nil {
			return fmt.Errorf("testbed: load balancer: node %s: %w", e.Node, err)
		}
		l.views[e.Node] = v
		l.mark[e.Node] = lbTableBase + 1 + len(l.mark)
		l.alive = append(l.alive, e.Node)
	case sim.DataPlaneSync:
		if v := l.views[e.Node]; v != nil {
			v.Sync(e.Table)
		}
	case sim.DataPlaneNodeDown:
		if i := slices.Index(l.alive, e.Node); i >= 0 {
			last := len(l.alive) - 1
			l.alive[i] = l.alive[last]
			l.alive = l.alive[:last]
		}
	case sim.DataPlaneNodeUp:
		if !slices.Contains(l.alive, e.Node) {
			l.alive = append(l.alive, e.Node)
		}
	}
	return nil
}

// pick returns the mark of the node the load balancer sends client's
// connection to dst through, and false when no node runs (the
// simulator counts the connection unreachable).
func (l *cloudLB) pick(client netip.Addr, dst netip.AddrPort) (int, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The source port does not change the health check's verdict.
	pkt := proxy.Packet{Src: netip.AddrPortFrom(client, 32768), Dst: dst, Proto: lb.TCP}
	now := time.Now()
	name, _, err := svcnet.LoadBalancerNode(l.alive, client, func(node string) (proxy.Route, error) {
		r := l.views[node].Route(pkt, now)
		r.Done() // a check, not a connection
		return r, nil
	})
	if err != nil || name == "" {
		return 0, false, err
	}
	return l.mark[name], true, nil
}

// programLB routes each node's mark through the node in the outside
// namespace: a rule per mark to its own table, whose default route is
// the node's address on the underlay.
func (r *runner) programLB() error {
	r.lb.mu.Lock()
	defer r.lb.mu.Unlock()
	if r.lb.programmed {
		return nil
	}
	var lines []string
	for _, n := range r.topo.order {
		m := r.lb.mark[n.name]
		if m == 0 {
			return fmt.Errorf("testbed: load balancer: node %s unknown", n.name)
		}
		lines = append(lines, fmt.Sprintf("rule add fwmark %d table %d", m, m),
			fmt.Sprintf("route add default via %s dev eth0 onlink table %d", n.addr, m))
	}
	if err := r.bed.ip(r.topo.outside, lines...); err != nil {
		return err
	}
	r.lb.programmed = true
	return nil
}

// markControl returns a Dialer.Control that sets the socket's mark.
func markControl(mark int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, mark)
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// joinOutside gives the outside namespace, made for the first external
// flow, the addresses of a later one it lacks (flows of different client
// counts take different runs of cluster.externalClientCIDR), with the
// nodes' routes back to them, and returns the addresses it holds now.
func (t *topology) joinOutside(have, addrs []netip.Addr) ([]netip.Addr, error) {
	var lines, back []string
	for _, a := range addrs {
		if slices.Contains(have, a) {
			continue
		}
		have = append(have, a)
		lines = append(lines, fmt.Sprintf("addr add %s/32 dev eth0", a))
		back = append(back, fmt.Sprintf("route add %s/32 dev eth0", a))
	}
	if len(lines) == 0 {
		return have, nil
	}
	for _, n := range t.order {
		if err := t.b.ip(n.ns, back...); err != nil {
			return have, err
		}
	}
	return have, t.b.ip(t.outside, lines...)
}
