//go:build linux

package testbed

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/svcnet/svcnet/sim"
)

// addFlow sets a flow up as its DataPlaneFlow event describes it:
//
//   - via dns: clients resolve e.Host through the cluster DNS; Direct (a
//     headless Service, or a pod's hostname) connects to the pod the
//     answer names at the targetPort, with no Service rule in between;
//   - via nodePort, from pods or from outside: to a node's address at the
//     NodePort;
//   - via loadBalancer: to the LoadBalancer IP; from outside, through the
//     node the cloud load balancer picks (cloudLB), from pods through
//     the client's own node, whose kube-proxy rules take the
//     LoadBalancer IP as they take a ClusterIP;
//   - from outside: from the off-cluster clients' addresses, in the
//     outside namespace, made for the first such flow.
//
// Clients are the flow's own client pods, or the pods its
// clientSelector chose: every pod whose DataPlanePodStart lists the flow.
func (r *runner) addFlow(e sim.DataPlaneEvent) error {
	f := &flowRun{idx: e.Flow, spec: r.s.Traffic[e.Flow], target: e.Target, cache: map[*podRun]*dnsCache{}, ports: &r.ports}
	if e.Via == sim.ViaDNS {
		if !r.dnsAddr.IsValid() {
			return fmt.Errorf("testbed: traffic[%d] via dns: no cluster DNS", e.Flow)
		}
		f.dns, f.host = true, e.Host
		f.direct, f.targetPort = e.Direct, e.TargetPort
	}
	if f.spec.From == sim.FromExternal {
		if len(e.Clients) == 0 {
			return fmt.Errorf("testbed: traffic[%d]: an external flow without client addresses", e.Flow)
		}
		if r.topo.outside == "" {
			if _, err := r.topo.addOutside(e.Clients); err != nil {
				return err
			}
			r.outsideAddrs = e.Clients
		} else {
			var err error
			if r.outsideAddrs, err = r.topo.joinOutside(r.outsideAddrs, e.Clients); err != nil {
				return err
			}
		}
		f.external, f.srcs, f.outside = true, e.Clients, r.topo.outside
	}
	switch e.Via {
	case sim.ViaNodePort:
		f.nodePort = true
	case sim.ViaLoadBalancer:
		if !e.Target.Addr().IsValid() {
			return fmt.Errorf("testbed: traffic[%d] via loadBalancer: no LoadBalancer IP", e.Flow)
		}
		if f.external {
			if err := r.programLB(); err != nil {
				return err
			}
			f.lb = r.lb
		}
	}
	r.flows = append(r.flows, f)
	return nil
}

// pickNode returns the address of the node a NodePort connection goes
// to, from a pod or from outside: a node Ready in the API, at random
// (topology.pickReady, as sim's world.arrival picks among w.apiReady);
// false when there is none.
func (r *runner) pickNode(rng *rand.Rand) (netip.Addr, bool) {
	return r.topo.pickReady(rng)
}
