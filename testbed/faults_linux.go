//go:build linux

package testbed

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/svcnet/svcnet/sim"
)

// nodeFault mirrors a node's death, its boot and its Ready condition in
// the API.
//
// A killed node (DataPlaneNodeDown; sim's killNode: "its containers stop
// at once, its kube-proxy and kubelet with them") is a machine that
// stopped: its port on the underlay goes down, so nothing reaches it or
// leaves it; its DNS server stops (its address leaves the node's
// loopback); and its pods' sandboxes are lost, as a crashed machine's
// are: each pod's application stops and its namespace is deleted, its
// veth and the node's route to it with it (a client pod's connections
// end with it). The simulator's DataPlaneAppDown events that follow find
// nothing left to stop. The node's own namespace stays, with the rules
// its agent last applied: the simulator keeps that node's proxy view
// frozen while it is down and routes with it until the first sync after
// the boot, and the testbed does the same (a real reboot would start
// with no rules until kube-proxy's first sync, a window the simulator
// does not model).
//
// A node that boots again (DataPlaneNodeUp) is back on the underlay and
// serves DNS again; its pods come back as the simulator's kubelet starts
// them, in new sandboxes (DataPlanePodStart: a new namespace, and the
// new address the simulator gives them).
//
// DataPlaneNodeReady sets whether NodePort clients (off-cluster ones
// and pods) pick the node: as sim's traffic.go (world.arrival,
// ViaNodePort) picks among the nodes Ready in the API (w.apiReady), a
// dead node is picked, and its SYNs go unanswered, until the node
// lifecycle controller marks it NotReady.
//
// A node cut off from the control plane (cutNode) has no event: it only
// stops syncing, and its agent with it.
func (r *runner) nodeFault(n *nodeNet, e sim.DataPlaneEvent) error {
	switch e.Kind {
	case sim.DataPlaneNodeReady:
		n.setReady(e.Ready)
		r.log("%.3fs node %s ready: %v", e.At.Seconds(), n.name, e.Ready)
		return nil
	case sim.DataPlaneNodeDown:
		if err := r.topo.setDown(n, true); err != nil {
			return err
		}
		if err := r.stopNodeDNS(n); err != nil {
			return err
		}
		lost := 0
		for _, p := range r.pods {
			if p.node == n && !p.lost {
				r.sandboxLost(p)
				lost++
			}
		}
		r.log("%.3fs node %s down: %d pod sandboxes lost", e.At.Seconds(), n.name, lost)
	case sim.DataPlaneNodeUp:
		if err := r.topo.setDown(n, false); err != nil {
			return err
		}
		if err := r.startNodeDNS(n); err != nil {
			return err
		}
		r.log("%.3fs node %s up", e.At.Seconds(), n.name)
	}
	return nil
}

// sandboxLost stops pod p's application and deletes its namespace, on
// the pod's goroutine; the pod stays known (r.pods) until the simulator
// starts it again in a new sandbox or deletes it.
func (r *runner) sandboxLost(p *podRun) {
	p.lost = true
	p.do(func() {
		if p.app != nil {
			p.app.stop()
			p.app = nil
		}
		for _, f := range p.flows {
			if f >= 0 && f < len(r.flows) {
				r.flows[f].removeClient(p)
			}
		}
		if p.ns != "" {
			if err := r.bed.remove(p.ns); err != nil {
				r.fail(err)
			}
		}
	})
}

// stopNodeDNS stops node n's DNS server, if it runs, and takes the DNS
// address off the node's loopback.
func (r *runner) stopNodeDNS(n *nodeNet) error {
	d := r.dnsNodes[n.name]
	if d == nil {
		return nil
	}
	delete(r.dnsNodes, n.name)
	err := d.stop()
	r.dnsAnswered += int64(d.answered())
	if err != nil {
		return fmt.Errorf("testbed: dns on %s: %w", n.name, err)
	}
	return r.bed.ip(n.ns, fmt.Sprintf("addr del %s/32 dev lo", r.dnsAddr))
}

// startNodeDNS serves the cluster DNS on node n again (nothing without
// a cluster DNS, or when n serves it already).
func (r *runner) startNodeDNS(n *nodeNet) error {
	if r.dnsNodes == nil || r.dnsNodes[n.name] != nil {
		return nil
	}
	d, err := startDNS(r.bed, n, r.dnsAddr, r.dnsRes)
	if err != nil {
		return err
	}
	r.dnsNodes[n.name] = d
	return nil
}

// setReady records the node's Ready condition in the API.
func (n *nodeNet) setReady(ready bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notReady = !ready
}

// isReady reports whether the node is Ready in the API.
func (n *nodeNet) isReady() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.notReady
}

// pickReady returns the address of a node Ready in the API, drawn with
// rng, as an off-cluster client picks the node of a NodePort (sim's
// world.arrival: uniformly among w.apiReady), and false when none is.
func (t *topology) pickReady(rng *rand.Rand) (netip.Addr, bool) {
	ready := make([]netip.Addr, 0, len(t.order))
	for _, n := range t.order {
		if n.isReady() {
			ready = append(ready, n.addr)
		}
	}
	if len(ready) == 0 {
		return netip.Addr{}, false
	}
	return ready[rng.IntN(len(ready))], true
}
