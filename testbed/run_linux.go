//go:build linux

package testbed

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/service"
	"github.com/svcnet/svcnet/sim"
)

// podRun is a pod's namespace and, while it serves, its application.
// Its changes (namespace made, application up and down, namespace
// removed) run in order on the pod's own goroutine, so that one pod's
// commands never hold up another pod's change or a node's sync.
type podRun struct {
	key  service.NamespacedName
	addr netip.Addr
	node *nodeNet
	// flows are the flows whose client the pod is.
	flows  []int
	ops    chan func()
	done   chan struct{}
	closed bool
	// ns and app belong to the pod's goroutine (ns is set before the pod
	// is a client, and read by clients after).
	ns  string
	app *app
	// conf is a client pod's resolv.conf.
	conf dnsname.ResolvConf
	// lost: the pod's node died, and its sandbox with it (nodeFault); the
	// simulator's goroutine alone reads and writes it.
	lost bool
}

// maxPodOps bounds the changes queued for one pod.
const maxPodOps = 64

func newPodRun(key service.NamespacedName, addr netip.Addr, n *nodeNet, flows []int) *podRun {
	p := &podRun{key: key, addr: addr, node: n, flows: flows, ops: make(chan func(), maxPodOps), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for op := range p.ops {
			op()
		}
	}()
	return p
}

// do queues op, waiting while maxPodOps wait already; after finish it
// runs op at once. do and finish are called from one goroutine at a
// time (the simulator's, then Compare's).
func (p *podRun) do(op func()) {
	if p.closed {
		op()
		return
	}
	p.ops <- op
}

// finish waits for the queued changes and ends the pod's goroutine.
func (p *podRun) finish() {
	if !p.closed {
		p.closed = true
		close(p.ops)
	}
	<-p.done
}

// sample is an endpoint programming latency sample to measure: a change
// made at since (simulated) that is in generation gen.
type sample struct {
	gen   uint64
	since time.Duration
}

// runner mirrors one simulator run onto the testbed.
type runner struct {
	s              sim.Scenario
	opts           Options
	scale          float64
	connectTimeout time.Duration
	log            func(string, ...any)

	bed    *bed
	topo   *topology
	agents map[string]*agent
	flows  []*flowRun
	pods   map[service.NamespacedName]*podRun
	byAddr map[netip.Addr]*podRun
	// gone are the pods deleted, whose goroutines may still run.
	gone []*podRun
	// outsideAddrs are the off-cluster clients' addresses.
	outsideAddrs []netip.Addr
	// lb is the cloud load balancer of external via-loadBalancer flows;
	// ports the pods' container ports, for Direct flows.
	lb    *cloudLB
	ports podPorts
	seq   int
	// dnsAddr is the cluster DNS address, served on every node that is
	// up by dnsNodes (by node name) from the simulator's resolver dnsRes
	// (TTL dnsTTL); dnsSyncs counts the DNS syncs mirrored.
	dnsAddr  netip.Addr
	dnsTTL   uint32
	dnsRes   *dnsname.Resolver
	dnsNodes map[string]*dnsNode
	dnsSyncs int64
	// dnsAnswered is the queries the stopped servers answered.
	dnsAnswered int64

	started bool
	start   time.Time
	samples []sample
	// late is the most the handling of an event started after its time.
	late time.Duration
	// stall is the most the heartbeat woke late (wall clock), under
	// tally.mu.
	stall time.Duration

	errMu sync.Mutex
	err   error

	end      chan struct{}
	gens     sync.WaitGroup
	conns    sync.WaitGroup
	inflight chan struct{}
	tally    tally
	bucket   time.Duration
}

// Compare runs s on the simulator and, in lockstep with it, on a real
// testbed: the simulator drives the control plane (its pods' lifecycles
// and each node's syncs, RunOptions.DataPlane) and its run is the
// prediction; the testbed's nodes apply the same tables with nft and its
// clients open real connections. It returns the prediction and what was
// measured. s must have one variant or none (Variant.Apply first).
func Compare(s sim.Scenario, opts Options) (predicted, measured sim.Result, err error) {
	if err := opts.check(); err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	if err := checkFeatures(s); err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	if err := checkSize(s, opts.scale()); err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	b, err := newBed(opts.Prefix, opts.Log)
	if err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	r := &runner{s: s, opts: opts, scale: opts.scale(), connectTimeout: opts.ConnectTimeout, log: b.log,
		bed: b, lb: newCloudLB(), agents: map[string]*agent{}, pods: map[service.NamespacedName]*podRun{}, byAddr: map[netip.Addr]*podRun{},
		end: make(chan struct{}), inflight: make(chan struct{}, maxInFlight)}
	if r.connectTimeout == 0 {
		r.connectTimeout = 2 * time.Second
	}
	defer func() {
		if cerr := r.teardown(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if r.topo, err = newTopology(b); err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	predicted, err = sim.RunWithOptions(s, sim.RunOptions{DataPlane: r.event})
	if err != nil {
		return predicted, sim.Result{}, err
	}
	if r.failed() == nil && !r.started {
		r.begin()
	}
	if r.failed() == nil {
		r.waitUntil(s.Duration.D())
	}
	close(r.end)
	r.gens.Wait()
	r.conns.Wait()
	for _, p := range r.pods {
		p.finish()
	}
	for _, p := range r.gone {
		p.finish()
	}
	for _, a := range r.agents {
		if aerr := a.stop(); aerr != nil {
			r.fail(aerr)
		}
	}
	r.stopDNS()
	measured = r.result(predicted)
	if st := opts.Stats; st != nil {
		*st = r.stats()
	}
	r.log("events handled at most %v late", r.late)
	return predicted, measured, r.failed()
}

// fail records the run's first error.
func (r *runner) fail(err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.err == nil {
		r.err = err
		r.log("%v", err)
	}
}

func (r *runner) failed() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

// Run is Compare's measured Result.
func Run(s sim.Scenario, opts Options) (sim.Result, error) {
	_, m, err := Compare(s, opts)
	return m, err
}

// teardown stops every application and agent and removes every
// namespace; it is safe to call after a failure at any point.
func (r *runner) teardown() error {
	select {
	case <-r.end:
	default:
		close(r.end)
	}
	r.gens.Wait()
	r.conns.Wait()
	for _, a := range r.agents {
		a.stop()
	}
	r.stopDNS()
	for _, p := range append(r.gone, slices.Collect(maps.Values(r.pods))...) {
		p.finish()
		if p.app != nil {
			p.app.stop()
		}
	}
	return r.bed.Close()
}

// wall returns the wall-clock time of simulated time at.
func (r *runner) wall(at time.Duration) time.Time {
	return r.start.Add(time.Duration(float64(at) * r.scale))
}

// waitUntil sleeps until the wall clock reaches simulated time at, or
// Options.Stop closes (then the run fails with ErrInterrupted).
func (r *runner) waitUntil(at time.Duration) {
	d := time.Until(r.wall(at))
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.opts.Stop:
		r.fail(ErrInterrupted)
	}
}

// simTime returns the simulated time of wall-clock time t.
func (r *runner) simTime(t time.Time) time.Duration {
	return time.Duration(float64(t.Sub(r.start)) / r.scale)
}

// bucketOf returns the Timeline bucket of a connection started at t.
func (r *runner) bucketOf(t time.Time) int {
	if r.bucket <= 0 {
		return -1
	}
	return int(r.simTime(t) / r.bucket)
}

// begin starts the wall clock (simulated time 0 is now: everything of
// time 0 is built) and the traffic.
func (r *runner) begin() {
	r.started = true
	r.start = time.Now()
	r.bucket = time.Second // sim's default
	if w := r.s.Metrics.BucketWidth.D(); w > 0 {
		r.bucket = w
	}
	nb := int((r.s.Duration.D()+r.bucket-1)/r.bucket) + 1
	r.tally.buckets = make([][outKinds]int64, nb)
	r.tally.flows = make([][outKinds]int64, len(r.s.Traffic))
	for _, f := range r.flows {
		stop := f.spec.Stop.D()
		if stop == 0 || stop > r.s.Duration.D() {
			stop = r.s.Duration.D()
		}
		rng := rand.New(rand.NewPCG(r.s.Seed, uint64(f.idx)+1))
		r.gens.Add(1)
		go r.generate(f, r.wall(f.spec.Start.D()), r.wall(stop), rng)
	}
	r.gens.Add(1)
	go r.heartbeat()
	r.log("started: %d nodes, %d pods, %d flows", len(r.topo.order), len(r.pods), len(r.flows))
}

// heartbeatEvery is how often the heartbeat wakes.
const heartbeatEvery = 50 * time.Millisecond

// heartbeat wakes every heartbeatEvery until the run ends and records
// the most it woke late: how long the process could not run on time.
func (r *runner) heartbeat() {
	defer r.gens.Done()
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-r.end:
			return
		case <-t.C:
			// A ticker drops the ticks it could not deliver: the gap
			// between two is the time the process did not run.
			now := time.Now()
			if late := now.Sub(last) - heartbeatEvery; late > 0 {
				r.tally.mu.Lock()
				r.stall = max(r.stall, late)
				r.tally.mu.Unlock()
			}
			last = now
		}
	}
}

// event is the simulator's DataPlane: it mirrors each change, at its
// time. After a failure it ignores the rest (the simulator finishes
// alone).
func (r *runner) event(e sim.DataPlaneEvent) {
	if r.failed() != nil {
		return
	}
	if e.At > 0 && !r.started {
		r.begin()
	}
	if r.started {
		r.waitUntil(e.At)
		if r.failed() != nil {
			return
		}
		r.late = max(r.late, time.Since(r.wall(e.At)))
	}
	if err := r.apply(e); err != nil {
		r.fail(err)
	}
}

func (r *runner) apply(e sim.DataPlaneEvent) error {
	if err := r.lb.observe(e); err != nil {
		return err
	}
	switch e.Kind {
	case sim.DataPlaneNode:
		n, err := r.topo.addNode(e.Node, e.NodeAddr, e.PodCIDR, e.ServiceCIDRs)
		if err != nil {
			return err
		}
		a, err := newAgent(n, e.ServiceCIDRs, e.ClusterCIDRs, r.log)
		if err != nil {
			return err
		}
		a.stateless = r.s.Cluster.Dataplane == sim.DataplaneStateless
		r.agents[e.Node] = a
		go a.loop()
	case sim.DataPlaneDNS:
		if r.dnsAddr.IsValid() {
			r.dnsSyncs++ // the resolver applies the changes when we return
			return nil
		}
		if e.DNS == nil || !e.DNSAddr.Is4() {
			return fmt.Errorf("%w: cluster DNS at %v: an IPv4 address is needed", ErrInvalid, e.DNSAddr)
		}
		r.dnsAddr, r.dnsTTL, r.dnsRes = e.DNSAddr, e.DNS.TTL(), e.DNS
		r.dnsNodes = map[string]*dnsNode{}
		for _, n := range r.topo.order {
			d, err := startDNS(r.bed, n, e.DNSAddr, e.DNS)
			if err != nil {
				return err
			}
			r.dnsNodes[n.name] = d
		}
		r.log("cluster DNS at %s on %d nodes", e.DNSAddr, len(r.dnsNodes))
	case sim.DataPlaneNodeDown, sim.DataPlaneNodeUp, sim.DataPlaneNodeReady:
		n := r.topo.nodes[e.Node]
		if n == nil {
			return fmt.Errorf("testbed: %s of unknown node %s", e.Kind, e.Node)
		}
		return r.nodeFault(n, e)
	case sim.DataPlaneFlow:
		return r.addFlow(e)
	case sim.DataPlanePodStart:
		return r.podStart(e)
	case sim.DataPlaneAppUp:
		p := r.pods[e.Pod]
		if p == nil {
			return fmt.Errorf("testbed: pod %s up before it started", e.Pod)
		}
		var ports, udp []int32
		for _, cp := range e.Ports {
			switch cp.Protocol {
			case "", service.ProtocolTCP:
				ports = append(ports, cp.ContainerPort)
			case service.ProtocolUDP:
				udp = append(udp, cp.ContainerPort)
			}
		}
		if len(ports)+len(udp) == 0 {
			return nil
		}
		p.do(func() {
			if p.app != nil || p.ns == "" {
				return
			}
			a, err := startApp(p.ns, p.addr, ports, udp)
			if err != nil {
				r.fail(err)
				return
			}
			p.app = a
			r.log("%.3fs pod %s serves on %s tcp %v udp %v", e.At.Seconds(), e.Pod, p.addr, ports, udp)
		})
	case sim.DataPlaneAppDown:
		if p := r.pods[e.Pod]; p != nil {
			p.do(func() {
				if p.app != nil {
					p.app.stop()
					p.app = nil
					r.log("%.3fs pod %s stopped", e.At.Seconds(), e.Pod)
				}
			})
		}
	case sim.DataPlanePodGone:
		if p := r.pods[e.Pod]; p != nil {
			r.podGone(p)
		}
	case sim.DataPlaneSync:
		a := r.agents[e.Node]
		if a == nil {
			return fmt.Errorf("testbed: sync of unknown node %s", e.Node)
		}
		if !r.started {
			// Time 0: the cluster starts in sync.
			return a.apply(e.Table, e.Generation, time.Now())
		}
		a.sync(e.Table, e.Generation, r.wall(e.At))
	case sim.DataPlaneChange:
		r.samples = append(r.samples, sample{gen: e.Generation, since: e.Since})
	}
	return nil
}

func (r *runner) podStart(e sim.DataPlaneEvent) error {
	if p := r.pods[e.Pod]; p != nil && p.addr == e.PodAddr && !p.lost {
		return nil // a restart in the same sandbox
	} else if p != nil {
		r.podGone(p)
	}
	if old := r.byAddr[e.PodAddr]; old != nil {
		// The address was given again: the old sandbox must be gone
		// before the new one takes it.
		r.podGone(old)
		old.finish()
	}
	n := r.topo.nodes[e.Node]
	if n == nil {
		return fmt.Errorf("testbed: pod %s on unknown node %q", e.Pod, e.Node)
	}
	for _, f := range e.Flows {
		if f < 0 || f >= len(r.flows) {
			return fmt.Errorf("testbed: client pod %s of unknown flow %d", e.Pod, f)
		}
	}
	r.seq++
	name := fmt.Sprintf("p%d-%s", r.seq, shortName(e.Pod.Name))
	p := newPodRun(e.Pod, e.PodAddr, n, e.Flows)
	r.ports.set(e.PodAddr, e.Ports)
	if e.ResolvConf != nil {
		p.conf = *e.ResolvConf
	}
	r.pods[e.Pod] = p
	r.byAddr[e.PodAddr] = p
	build := func() {
		ns, err := r.topo.addPod(n, name, e.PodAddr)
		if err != nil {
			r.fail(err)
			return
		}
		p.ns = ns
		for _, f := range p.flows {
			r.flows[f].addClient(p)
		}
		r.log("%.3fs pod %s on %s: %s", e.At.Seconds(), e.Pod, n.name, e.PodAddr)
	}
	if !r.started {
		build() // time 0: the cluster is built before the clock starts
		return r.failed()
	}
	p.do(build)
	return nil
}

// podGone stops a pod and removes its namespace at once, as the kubelet
// tears a sandbox down when its containers have exited.
func (r *runner) podGone(p *podRun) {
	delete(r.pods, p.key)
	if r.byAddr[p.addr] == p {
		delete(r.byAddr, p.addr)
		r.ports.forget(p.addr)
	}
	p.do(func() {
		if p.app != nil {
			p.app.stop()
			p.app = nil
		}
		for _, f := range p.flows {
			r.flows[f].removeClient(p)
		}
		if p.ns != "" {
			if err := r.bed.remove(p.ns); err != nil {
				r.fail(err)
			}
		}
	})
	r.gone = append(r.gone, p)
}

// shortName keeps namespace names readable and short.
func shortName(s string) string {
	if len(s) > 40 {
		s = s[len(s)-40:]
	}
	return strings.Trim(s, "-.")
}

// result assembles the measured Result, shaped as the prediction.
func (r *runner) result(pred sim.Result) sim.Result {
	r.tally.mu.Lock()
	defer r.tally.mu.Unlock()
	m := sim.Result{Scenario: pred.Scenario, Variant: pred.Variant, Seed: pred.Seed, Duration: pred.Duration,
		BucketWidth: sim.Duration(r.bucket)}
	m.Connections = toOutcomes(r.tally.total)
	for i, b := range r.tally.buckets {
		m.Timeline = append(m.Timeline, sim.Bucket{At: sim.Duration(time.Duration(i) * r.bucket), Outcomes: toOutcomes(b)})
	}
	for i, f := range r.tally.flows {
		fr := sim.FlowResult{Connections: toOutcomes(f)}
		if i < len(pred.Flows) {
			fr.Name, fr.Service, fr.Algorithm = pred.Flows[i].Name, pred.Flows[i].Service, pred.Flows[i].Algorithm
		}
		m.Flows = append(m.Flows, fr)
	}
	var lat []time.Duration
	if r.started {
		for _, s := range r.samples {
			if s.since <= 0 {
				continue
			}
			var last time.Time
			ok := true
			for _, a := range r.nodeAgents() {
				t, reached := a.reached(s.gen)
				if !reached {
					ok = false
					break
				}
				if t.After(last) {
					last = t
				}
			}
			if ok {
				lat = append(lat, time.Duration(float64(last.Sub(r.wall(s.since)))/r.scale))
			}
		}
	}
	m.EndpointLatency = sim.LatencyOf(lat)
	m.Cluster.DNSQueries, m.Cluster.DNSSyncs = r.tally.lookups, r.dnsSyncs
	if r.tally.skipped > 0 {
		r.log("%d arrivals skipped: %d connections in flight", r.tally.skipped, maxInFlight)
	}
	return m
}

// stats is what Options.Stats gets.
func (r *runner) stats() Stats {
	var st Stats
	var sum time.Duration
	var n int
	for _, a := range r.nodeAgents() {
		longest, s, k := a.lags()
		st.MaxApplyLag = max(st.MaxApplyLag, time.Duration(float64(longest)/r.scale))
		sum, n = sum+s, n+k
	}
	if n > 0 {
		st.MeanApplyLag = time.Duration(float64(sum) / float64(n) / r.scale)
	}
	st.MaxEventLate = time.Duration(float64(r.late) / r.scale)
	r.tally.mu.Lock()
	defer r.tally.mu.Unlock()
	st.MaxStall = time.Duration(float64(r.stall) / r.scale)
	st.TimedOut = r.tally.total[outTimeout]
	st.Unreachable = r.tally.total[outUnreachable]
	st.Skipped = r.tally.skipped
	st.DNSLookups = r.tally.lookups
	st.DNSAnswered = r.dnsAnswered
	return st
}

// stopDNS stops the cluster DNS servers (again: a no-op).
func (r *runner) stopDNS() {
	for _, d := range r.dnsNodes {
		err := d.stop()
		r.dnsAnswered += int64(d.answered())
		if err != nil {
			r.fail(fmt.Errorf("testbed: dns: %w", err))
		}
	}
	r.dnsNodes = nil
}

// nodeAgents is the nodes' agents in node order.
func (r *runner) nodeAgents() []*agent {
	out := make([]*agent, 0, len(r.topo.order))
	for _, n := range r.topo.order {
		if a := r.agents[n.name]; a != nil {
			out = append(out, a)
		}
	}
	return out
}
