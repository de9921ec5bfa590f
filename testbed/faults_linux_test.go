//go:build linux

package testbed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/internal/netns"
	"github.com/svcnet/svcnet/service"
	"github.com/svcnet/svcnet/sim"
)

// cutNodeSeed is a seed of the reduced rolling update on which two of
// the three client pods run on node-1, the node cut off: so that much
// of the traffic goes through the frozen rules (on about half the seeds
// no client runs there, or the rollout stalls on a new pod bound to the
// cut node, whose kubelet never starts it, before an old pod is gone,
// and nothing fails).
const cutNodeSeed = 2

// TestCutNode: a node cut off from the control plane (cutNode) keeps
// forwarding with the rules it had. During the reduced rolling update
// with a 5 s preStop sleep, which fails nothing on a connected cluster
// (the simulator says so for the same seed without the cut, and
// TestRollingUpdate measures it), node-1 is cut off at 10 s, before the
// rollout at 15 s: its agent applies nothing more, so its clients'
// connections still go to the old pods after they are gone (the
// simulator refuses them; on the kernel their sandboxes are gone and the
// SYNs time out), and those open on an old pod at its SIGTERM are reset
// (the preStop sleep only helps a node whose rules dropped the pod).
// The measured failures agree with the prediction within 4σ of the
// Poisson noise on the difference (√(2F) for F predicted: about 28 % of
// 400); the stale window is the rest of the run, so the nft apply lag,
// a fraction of a second, does not count.
//
// The node's own pods keep serving (its kubelet does not see their
// deletion), and the other nodes fail nothing.
func TestCutNode(t *testing.T) {
	t.Parallel()
	prefix := needKernel(t)
	var pred, meas sim.Result
	var st Stats
	var s sim.Scenario
	for attempt := range 3 {
		var opts Options
		s, opts = reduced(t, 1, 0.5)
		s.Seed = cutNodeSeed
		s.Timeline = append(s.Timeline, sim.TimelineEvent{At: sim.Duration(10 * time.Second), Action: sim.ActionCutNode, Target: "node-1", For: sim.D(30 * time.Second)})
		opts.Prefix = fmt.Sprintf("%s%d-", prefix, attempt)
		opts.Log = t.Logf
		opts.Stats = &st
		var err error
		pred, meas, err = Compare(s, opts)
		require.NoError(t, err)
		require.Empty(t, leftovers(t, opts.Prefix), "namespaces left behind")
		t.Logf("predicted %+v; measured %+v (%+v)", pred.Connections, meas.Connections, st)
		if keptUp(st) {
			break
		}
		t.Logf("attempt %d: the testbed did not keep up with the simulated timeline (%+v)", attempt+1, st)
	}
	require.True(t, keptUp(st), "the machine was too loaded for the testbed to keep up in three runs: %+v", st)

	connected := s
	connected.Timeline = s.Timeline[:len(s.Timeline)-1]
	whole, err := sim.Run(connected)
	require.NoError(t, err)
	require.Zero(t, whole.Connections.Failed(), "without the cut the simulator predicts failures: %+v", whole.Connections)

	p, m := pred.Connections, meas.Connections
	require.Positive(t, p.Refused, "the simulator sends nothing to a pod that is gone through the cut node")
	require.Positive(t, p.Reset)
	require.Positive(t, m.Refused+m.Unreachable, "no connection went through node-1's frozen rules to a pod that is gone")
	require.Positive(t, m.Reset, "no connection open through node-1 was reset at its pod's SIGTERM")
	tol := 4 * math.Sqrt(2*float64(p.Failed()))
	t.Logf("failed: predicted %d of %d (refused %d, reset %d); measured %d of %d (refused %d, reset %d, unreachable or timed out %d); tolerance ±%.0f",
		p.Failed(), p.Total, p.Refused, p.Reset, m.Failed(), m.Total, m.Refused, m.Reset, m.Unreachable, tol)
	require.InDelta(t, float64(p.Failed()), float64(m.Failed()), tol, "measured %d failed, predicted %d", m.Failed(), p.Failed())
	require.InDelta(t, float64(p.Total), float64(m.Total), 5*math.Sqrt(float64(p.Total)))
}

// TestNodeFault: on a killed node the pods' sandboxes are lost (their
// applications stop, their namespaces are deleted) and the DNS server
// stops, its address off the node's loopback; a NotReady node is not
// picked by off-cluster clients; when the node boots the DNS server
// answers again, and a pod started again with the address it had gets
// a new namespace. Teardown removes everything.
func TestNodeFault(t *testing.T) {
	t.Parallel()
	prefix := needKernel(t)
	b, err := newBed(prefix, t.Logf)
	require.NoError(t, err)
	r := &runner{bed: b, log: t.Logf, lb: newCloudLB(), agents: map[string]*agent{}, pods: map[service.NamespacedName]*podRun{},
		byAddr: map[netip.Addr]*podRun{}, end: make(chan struct{}), inflight: make(chan struct{}, maxInFlight)}
	defer func() {
		require.NoError(t, r.teardown())
		require.Empty(t, leftovers(t, prefix), "namespaces left behind")
	}()
	r.topo, err = newTopology(b)
	require.NoError(t, err)
	svcs := []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}
	n, err := r.topo.addNode("node-0", netip.MustParseAddr("10.240.0.1"), netip.MustParsePrefix("10.244.0.0/24"), svcs)
	require.NoError(t, err)
	podAddr := netip.MustParseAddr("10.244.0.5")
	key := service.NamespacedName{Namespace: "default", Name: "web-1"}
	start := sim.DataPlaneEvent{Kind: sim.DataPlanePodStart, Pod: key, PodAddr: podAddr, Node: "node-0", Flow: -1}
	require.NoError(t, r.podStart(start))
	p := r.pods[key]
	require.NoError(t, r.apply(sim.DataPlaneEvent{Kind: sim.DataPlaneAppUp, Pod: key, Ports: []service.ContainerPort{{ContainerPort: 8080}}}))
	settle := func(p *podRun) { // waits for the pod's queued changes
		done := make(chan struct{})
		p.do(func() { close(done) })
		<-done
	}
	settle(p)
	require.NotNil(t, p.app)
	oldNS := p.ns

	dnsAddr := netip.MustParseAddr("10.96.0.10")
	require.NoError(t, r.apply(sim.DataPlaneEvent{Kind: sim.DataPlaneDNS, DNS: dnsname.NewResolver(dnsname.Config{}), DNSAddr: dnsAddr}))
	answers := func() bool { // whether the node's DNS server answers on the cluster DNS address
		res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (c net.Conn, err error) {
			err = netns.Enter(n.ns, func() (err error) {
				var d net.Dialer
				c, err = d.DialContext(ctx, "udp4", netip.AddrPortFrom(dnsAddr, 53).String())
				return err
			})
			return c, err
		}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := res.LookupNetIP(ctx, "ip4", "nothing.default.svc.cluster.local.")
		var de *net.DNSError
		return errors.As(err, &de) && de.IsNotFound // NXDOMAIN: an answer
	}
	require.True(t, answers())

	require.NoError(t, r.apply(sim.DataPlaneEvent{Kind: sim.DataPlaneNodeDown, Node: "node-0"}))
	settle(p)
	require.Nil(t, p.app, "the pod's application still runs on a dead node")
	require.NotContains(t, namespaces(t), oldNS, "the pod's sandbox outlived its node")
	require.False(t, answers(), "a dead node's DNS server answers")
	out, err := exec.Command("ip", "-n", n.ns, "addr", "show", "dev", "lo").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NotContains(t, string(out), dnsAddr.String())

	rng := rand.New(rand.NewPCG(1, 2))
	a, ok := r.topo.pickReady(rng)
	require.True(t, ok, "a dead node stays Ready until it is noticed")
	require.Equal(t, n.addr, a)
	require.NoError(t, r.apply(sim.DataPlaneEvent{Kind: sim.DataPlaneNodeReady, Node: "node-0", Ready: false}))
	_, ok = r.topo.pickReady(rng)
	require.False(t, ok, "a NotReady node picked")

	require.NoError(t, r.apply(sim.DataPlaneEvent{Kind: sim.DataPlaneNodeUp, Node: "node-0"}))
	require.NoError(t, r.apply(sim.DataPlaneEvent{Kind: sim.DataPlaneNodeReady, Node: "node-0", Ready: true}))
	require.True(t, answers(), "the DNS server is not back with its node")
	_, ok = r.topo.pickReady(rng)
	require.True(t, ok)
	// The kubelet starts the pod again; even at the same address it is a
	// new sandbox.
	require.NoError(t, r.podStart(start))
	q := r.pods[key]
	require.NotSame(t, p, q)
	settle(q)
	require.NotEqual(t, oldNS, q.ns)
	require.Contains(t, namespaces(t), q.ns)
}

// namespaces lists every network namespace by name.
func namespaces(t *testing.T) []string {
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}
