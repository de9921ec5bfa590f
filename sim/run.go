package sim

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// Errors of Run.
var (
	// ErrInvalidScenario: a Scenario that cannot run (a bad field, an
	// object the cluster rejects, a target that does not exist). It is
	// wrapped with the field or object at fault.
	ErrInvalidScenario = errors.New("sim: invalid scenario")
	// ErrViolation: an invariant broke; the Result's Violation says which,
	// where and how to replay it.
	ErrViolation = errors.New("sim: invariant violated")
)

// Run runs a scenario and returns what it measured. An invalid scenario
// is an ErrInvalidScenario and an empty Result; a broken invariant stops
// the run and returns the Result so far, with its Violation, and an
// error wrapping ErrViolation.
//
// Run is deterministic: it starts no goroutine, reads no clock and draws
// every random number from Scenario.Seed, so the same Scenario gives the
// same Result. Its cost is about that of the events it runs (see the
// package doc for the figures at Kubernetes' scale limits).
func Run(s Scenario) (Result, error) { return RunWithOptions(s, RunOptions{}) }

// RunOptions are how a run is watched, not what it simulates: nothing
// in them changes a Result. The zero RunOptions watch nothing.
type RunOptions struct {
	// Progress, if not nil, is called as the run goes: after each
	// ProgressEvery of simulated time, and once at the end (also when an
	// invariant stops the run), with simulated time never going back. It
	// is called on Run's goroutine, between events; it must not keep
	// the Scenario's pointers. It may read the wall clock: the run does
	// not see it.
	Progress func(Progress)
	// ProgressEvery is the simulated time between calls of Progress;
	// zero or less means one second.
	ProgressEvery time.Duration
	// Events, if not nil, gets the run's events as they happen, one
	// line of JSON (an Event) each, in order: every control-plane change
	// (pod status and deletion, node Ready), proxy table, proxy and DNS
	// sync, fault, and failed connection, from time 0 (the cluster built
	// at time 0 is not logged). Nothing is buffered beyond one line. A
	// failed write stops the log, not the run: RunWithOptions returns
	// the Result and an error wrapping ErrEventLog.
	Events io.Writer
	// DataPlane, if not nil, is given every change a real data plane
	// must follow to mirror the run (DataPlaneEvent), in order, as it
	// happens, on Run's goroutine: the world at time 0 first, then each
	// pod start, application up and down, pod deletion and proxy sync.
	// It may block (package testbed waits in it for the wall clock to
	// reach the event's time); it must not change the Tables it is
	// given. The Result is the same with it as without.
	DataPlane func(DataPlaneEvent)
}

// Progress is how far a run has come.
type Progress struct {
	// Now is the simulated time reached; Duration the time the run
	// simulates in all.
	Now      time.Duration
	Duration time.Duration
	// Events is the number of engine events run so far.
	Events uint64
}

// RunWithOptions is Run, watched as opts say. The Result is the same,
// byte for byte, as Run's: the engine runs the same events in the same
// order, only paused every ProgressEvery of simulated time (between two
// events, where nothing is scheduled) to call Progress.
func RunWithOptions(s Scenario, opts RunOptions) (Result, error) {
	w, err := newWorld(s)
	if err != nil {
		return Result{}, err
	}
	return w.run(opts)
}

func (w *world) run(opts RunOptions) (Result, error) {
	if opts.Events != nil {
		w.ev = &eventLog{w: opts.Events}
	}
	w.dp = opts.DataPlane
	w.lazy = !w.byNode && w.dp == nil
	w.dpStart()
	err := w.runEngine(opts)
	if err == nil && w.stopped == nil {
		w.fullCheck()
	}
	// Connections still open at the end were served.
	for id := range w.conns {
		if c := &w.conns[id]; c.open {
			w.outcome(c.flow, outServed, c.start)
			w.traceRouted(c.node, outServed, c.start)
		}
	}
	w.traceFinish()
	res := w.result()
	if w.stopped != nil {
		v := w.stopped
		return res, fmt.Errorf("%w: %s at event %d (t=%v, seed %d): %s", ErrViolation, v.Invariant, v.Event, v.At, v.Seed, v.Message)
	}
	if err == nil && w.ev != nil {
		err = w.ev.err
	}
	return res, err
}

// runEngine runs the engine to the scenario's end: in one go without a
// Progress callback, else in steps of ProgressEvery. Engine.Run up to t
// then on runs the same events as one Engine.Run: each step runs the
// events at or before t, and leaves the rest queued as they were.
func (w *world) runEngine(opts RunOptions) error {
	end := w.cfg.s.Duration.D()
	if opts.Progress == nil {
		return w.eng.Run(end)
	}
	step := opts.ProgressEvery
	if step <= 0 {
		step = time.Second
	}
	report := func() { opts.Progress(Progress{Now: w.now(), Duration: end, Events: w.eng.Events()}) }
	for t := w.now(); ; {
		t += min(step, end-t)
		if err := w.eng.Run(t); err != nil || w.eng.stopped || t >= end {
			report()
			return err
		}
		report()
	}
}

// svcInfo is what the simulator keeps of a Service.
type svcInfo struct {
	key    service.NamespacedName
	spec   *service.Service
	sel    service.Selector
	labels service.Labels
	// slices: the Service gets EndpointSlices (a selector, not
	// ExternalName); notReady: it publishes not-ready addresses.
	slices   bool
	notReady bool
	alg      string
	deleted  bool
	watched  bool
	churn    int64
}

// newWorld checks a scenario and builds the cluster at time 0, in
// steady state: nodes Ready, pods running and ready, every proxy and the
// DNS in sync.
func newWorld(s Scenario) (*world, error) { return newWorldOpts(s, worldOptions{}) }

// newWorldOpts is newWorld with internal switches.
func newWorldOpts(s Scenario, o worldOptions) (*world, error) {
	cfg, err := check(s)
	if err != nil {
		return nil, err
	}
	root := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	stream := func() *rand.Rand { return rand.New(rand.NewPCG(root.Uint64(), root.Uint64())) }
	w := &world{
		cfg:           cfg,
		eng:           NewEngine(),
		nodeByName:    map[string]*node{},
		podByKey:      map[service.NamespacedName]*pod{},
		podByIP:       map[netip.Addr]*pod{},
		deployByKey:   map[service.NamespacedName]*deploy{},
		workloadByKey: map[objectKey]*deploy{},
		svcs:          map[service.NamespacedName]*svcInfo{},
		ipOwner:       map[string]service.NamespacedName{},
		portOwner:     map[int32]service.NamespacedName{},
		ring:          make([]record, cfg.history),
		byNode:        o.byNode,
		openCohort:    -1,
	}
	w.rCluster, w.rSched, w.rTraffic, w.rChurn, w.rNodes = stream(), stream(), stream(), stream(), stream()
	w.rNames = stream()
	w.clock = func() time.Time { return epoch.Add(w.eng.Now()) }
	w.dns.since = -1
	w.pub = publisher{svcVersion: map[service.NamespacedName]uint64{}}
	nb := int((cfg.s.Duration.D()+cfg.bucket-1)/cfg.bucket) + 1
	w.m.buckets = make([]Outcomes, nb)

	pool, err := service.NewPoolProvider(service.PoolProviderConfig{Ranges: []ipam.Range{cfg.lbRange}})
	if err != nil {
		return nil, invalid("cluster.loadBalancerRange: %v", err)
	}
	ttl := uint32(cfg.t.ttl / time.Second)
	w.c, err = svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs: cfg.serviceNets,
		PodCIDRs:     []netip.Prefix{cfg.podNet},
		NodeCIDRs:    []netip.Prefix{cfg.nodeNet},
		LoadBalancer: pool,
		ExternalIPs:  service.AllowAllExternalIPs(),
		DNS:          svcnet.DNSConfig{TTL: &ttl},
		Algorithm:    cfg.algorithm,
		Rand:         w.rCluster,
		Clock:        w.clock,
		// A node sees the newest table published at least its watch
		// latency ago; the checks look back one convergence bound.
		TableRetention: max(cfg.t.watch+cfg.t.jitter, cfg.t.bound) + time.Second,
	})
	if err != nil {
		return nil, invalid("cluster: %v", err)
	}
	if err := w.addNodes(); err != nil {
		return nil, err
	}
	svcs, deps := w.workload()
	for _, d := range deps {
		if err := w.addDeployment(d); err != nil {
			return nil, err
		}
	}
	for _, o := range s.ReplicaSets {
		if err := w.addReplicaSet(o); err != nil {
			return nil, err
		}
	}
	for _, o := range s.StatefulSets {
		if err := w.addStatefulSet(o); err != nil {
			return nil, err
		}
	}
	for _, o := range s.DaemonSets {
		if err := w.addDaemonSet(o); err != nil {
			return nil, err
		}
	}
	if err := w.addFlows(); err != nil {
		return nil, err
	}
	// Pods go in before the Services: each Service then computes its
	// slices once, instead of one table per pod.
	for _, d := range w.deploys {
		if d.kind != kindDeployment {
			if err := w.startWorkload(d); err != nil {
				return nil, err
			}
			continue
		}
		rs := d.newRS()
		rs.replicas = d.replicas
		for range d.replicas {
			p := w.createRSPodNow(d, rs)
			if err := w.placeRunning(p); err != nil {
				return nil, err
			}
		}
	}
	for i, in := range s.Pods {
		if err := w.addBarePod(i, in); err != nil {
			return nil, err
		}
	}
	for _, f := range w.flows {
		if f.clientSel != nil || f.external {
			continue
		}
		for i := range f.spec.Clients {
			labels := service.Labels{"sim.svcnet.dev/client": "flow-" + strconv.Itoa(f.idx)}
			spec := &service.PodSpec{Containers: []service.Container{{Name: "client", Image: "client"}}}
			p := w.newPod(service.NamespacedName{Namespace: f.ns, Name: clientPodName(f.idx, i)}, labels, spec, &profile{grace: 30 * time.Second})
			p.client = true
			f.clients = append(f.clients, p)
			if err := w.placeRunning(p); err != nil {
				return nil, err
			}
		}
	}
	for _, in := range svcs {
		if err := w.createService(in); err != nil {
			return nil, invalid("service %s/%s: %v", in.Namespace, in.Name, err)
		}
	}
	for i, sl := range s.EndpointSlices {
		if sl == nil {
			return nil, invalid("endpointSlices[%d]: null", i)
		}
		if _, err := w.c.ApplyEndpointSlice(sl); err != nil {
			return nil, invalid("endpointSlice %s/%s: %v", sl.Namespace, sl.Name, err)
		}
	}
	if err := w.resolveFlows(); err != nil {
		return nil, err
	}
	w.tr = newTracer(w)
	// Steady state: every proxy and the DNS in sync.
	w.c.SyncAllNodes()
	for _, n := range w.nodes {
		n.setApplied(w.c.Generation())
	}
	if err := w.c.SyncDNS(); err != nil {
		return nil, invalid("dns: %v", err)
	}
	g := w.c.Generation()
	w.pub.latest = g
	w.pub.minV = g
	for _, n := range w.nodes {
		w.track(n, g)
	}
	// kube-proxies started at different times: their periodic syncs
	// are spread over a sync period.
	order := slices.Clone(w.nodes)
	slices.SortStableFunc(order, func(a, b *node) int { return cmp.Compare(a.lastSync, b.lastSync) })
	for _, n := range order {
		w.goIdle(n)
		n.idleAt = n.lastSync
		w.idle[len(w.idle)-1].at = n.lastSync
	}
	if len(w.idle) > 0 {
		w.periodicGen++
		w.at(w.idle[0].at+cfg.t.syncPeriod, evPeriodic, 0, w.periodicGen)
	}
	w.m.podsCreated = 0
	for _, f := range w.flows {
		if f.spec.Rate > 0 {
			w.at(f.start+time.Duration(f.rng.ExpFloat64()/f.spec.Rate*1e9), evArrival, uint32(f.idx), 0)
		}
	}
	for i, c := range s.Churn {
		if c.Rate > 0 {
			w.at(c.Start.D()+time.Duration(w.rChurn.ExpFloat64()/c.Rate*1e9), evChurn, uint32(i), 0)
		}
	}
	for i, e := range s.Timeline {
		if err := w.checkTarget(i, e); err != nil {
			return nil, err
		}
		w.at(e.At.D(), evTimeline, uint32(i), 0)
	}
	if cfg.t.interval > 0 {
		w.at(cfg.t.interval, evCheck, 0, 0)
	}
	return w, nil
}

// addNodes adds the scenario's nodes, then the generated ones.
func (w *world) addNodes() error {
	used := map[netip.Addr]bool{}
	for _, in := range w.cfg.s.Nodes {
		for _, a := range in.Status.Addresses {
			if ip, err := netip.ParseAddr(a.Address); err == nil {
				used[ip] = true
			}
		}
	}
	next := w.cfg.nodeNet.Addr().Next()
	nextAddr := func() netip.Addr {
		for used[next] {
			next = next.Next()
		}
		a := next
		used[a] = true
		next = next.Next()
		return a
	}
	objs := make([]*service.Node, 0, len(w.cfg.s.Nodes)+w.cfg.s.Cluster.Nodes)
	for i, in := range w.cfg.s.Nodes {
		if in == nil {
			return invalid("nodes[%d]: null", i)
		}
		o := in.DeepCopy()
		if o.Labels == nil {
			o.Labels = service.Labels{}
		}
		if o.Zone() == "" {
			o.Labels[service.LabelTopologyZone] = w.cfg.zones[len(objs)%len(w.cfg.zones)]
		}
		has := false
		for _, a := range o.Status.Addresses {
			has = has || a.Type == service.NodeInternalIP
		}
		if !has {
			o.Status.Addresses = append(o.Status.Addresses, service.NodeAddress{Type: service.NodeInternalIP, Address: nextAddr().String()})
		}
		o.Status.Conditions = slices.DeleteFunc(o.Status.Conditions, func(c service.NodeCondition) bool { return c.Type == service.NodeReady })
		o.Status.Conditions = append(o.Status.Conditions, service.NodeCondition{Type: service.NodeReady, Status: service.ConditionTrue})
		objs = append(objs, o)
	}
	for i := range w.cfg.s.Cluster.Nodes {
		objs = append(objs, nodeObject(nodeName(i), w.cfg.zones[len(objs)%len(w.cfg.zones)], nextAddr()))
	}
	base := w.cfg.podNet.Addr().As4()
	for i, o := range objs {
		if _, dup := w.nodeByName[o.Name]; dup {
			return invalid("node %s: defined twice", o.Name)
		}
		if _, err := w.c.AddNode(o); err != nil {
			return invalid("node %s: %v", o.Name, err)
		}
		n := &node{idx: i, name: o.Name, zone: o.Zone(), obj: o, alive: true, connected: true, apiReady: true, timerAt: -1}
		for _, a := range o.Status.Addresses {
			if ip, err := netip.ParseAddr(a.Address); err == nil && a.Type == service.NodeInternalIP && !n.addr.IsValid() {
				n.addr = ip
			}
		}
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 + uint32(i)<<8
		n.podNet = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
		n.free = make([]byte, 0, 256)
		for h := 2; h < 255; h++ {
			n.free = append(n.free, byte(h))
		}
		n.w = w.cfg.t.watch
		if l := w.cfg.s.Cluster.Delays.WatchJitterLevels; w.cfg.t.jitter > 0 && l > 0 {
			n.w += w.cfg.t.jitter * time.Duration(w.rNodes.IntN(l)) / time.Duration(l)
		} else if w.cfg.t.jitter > 0 {
			n.w += time.Duration(w.rNodes.Int64N(int64(w.cfg.t.jitter)))
		}
		// kube-proxies started at different times: their periodic
		// syncs are spread over a sync period.
		n.lastSync = -time.Duration(w.rNodes.Int64N(int64(w.cfg.t.syncPeriod)))
		w.nodes = append(w.nodes, n)
		w.nodeByName[n.name] = n
		w.apiReady.add(n)
		w.alive.add(n)
	}
	return nil
}

// workload returns the Services and Deployments to create: the
// scenario's, then the generated ones.
func (w *world) workload() ([]*service.Service, []*Deployment) {
	s := w.cfg.s
	svcs := slices.Clone(s.Services)
	deps := slices.Clone(s.Deployments)
	g := s.Workload
	if g.Services == 0 {
		return svcs, deps
	}
	gen := w.cfg.workload
	container := service.Container{Name: "app", Image: "app",
		Ports: []service.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: service.ProtocolTCP}}, ReadinessProbe: g.ReadinessProbe}
	if g.PreStopSleep != nil && *g.PreStopSleep > 0 {
		container.Lifecycle = &service.Lifecycle{PreStop: &service.LifecycleHandler{Sleep: &service.SleepAction{Seconds: int64(g.PreStopSleep.D() / time.Second)}}}
	}
	for i := range gen.services {
		k := gen.key(i)
		name, ns := k.Name, k.Namespace
		labels := service.Labels{"app": name}
		svc := &service.Service{ObjectMeta: service.ObjectMeta{Name: name, Namespace: ns},
			Spec: service.ServiceSpec{Type: g.Type, Selector: labels,
				Ports: []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080), Protocol: service.ProtocolTCP}}}}
		if g.Algorithm != "" {
			svc.Annotations = map[string]string{proxy.AlgorithmAnnotation: g.Algorithm}
		}
		r := gen.replicas
		d := &Deployment{ObjectMeta: service.ObjectMeta{Name: name, Namespace: ns},
			Spec: DeploymentSpec{Replicas: &r, Selector: &service.LabelSelector{MatchLabels: labels},
				Template: PodTemplateSpec{ObjectMeta: service.ObjectMeta{Labels: labels},
					Spec: service.PodSpec{Containers: []service.Container{container}}}}}
		svcs = append(svcs, svc)
		deps = append(deps, d)
	}
	return svcs, deps
}

// addDeployment checks a Deployment and adds it (its pods come later).
func (w *world) addDeployment(in *Deployment) error {
	if in == nil {
		return invalid("deployments: null")
	}
	o := &Deployment{TypeMeta: in.TypeMeta, ObjectMeta: in.ObjectMeta.DeepCopy(), Spec: in.Spec}
	o.Spec.Template.ObjectMeta = in.Spec.Template.ObjectMeta.DeepCopy()
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	key := o.Key()
	if _, dup := w.deployByKey[key]; dup {
		return invalid("deployment %s: defined twice", key)
	}
	if err := service.ValidateName(service.DNS1123Subdomain, o.Name); err != nil {
		return invalid("deployment %s: %v", key, err)
	}
	if o.Spec.Selector == nil {
		return invalid("deployment %s: spec.selector: required", key)
	}
	sel, err := o.Spec.Selector.Selector()
	if err != nil {
		return invalid("deployment %s: %v", key, err)
	}
	if !sel.Matches(o.Spec.Template.Labels) {
		return invalid("deployment %s: spec.template.metadata.labels: must match spec.selector", key)
	}
	if len(o.Spec.Template.Spec.Containers) == 0 {
		return invalid("deployment %s: spec.template.spec.containers: required", key)
	}
	if o.ReplicaCount() < 0 {
		return invalid("deployment %s: spec.replicas: must not be negative", key)
	}
	switch o.Spec.Strategy.Type {
	case "", StrategyRollingUpdate, StrategyRecreate:
	default:
		return invalid("deployment %s: spec.strategy.type %q: want RollingUpdate or Recreate", key, o.Spec.Strategy.Type)
	}
	d := &deploy{idx: len(w.deploys), kind: kindDeployment, key: key, obj: o, replicas: o.ReplicaCount(), rev: 1,
		recreate: o.Spec.Strategy.Type == StrategyRecreate}
	if d.surge, d.unavail, err = o.RollingBounds(); err != nil {
		return invalid("%v", err)
	}
	spec := o.Spec.Template.Spec
	spec.NodeName = ""
	d.spec = &spec
	if d.prof, err = w.profileOf(&o.Spec.Template.ObjectMeta, d.spec, o.Spec.MinReadySeconds); err != nil {
		return invalid("deployment %s: %v", key, err)
	}
	w.deployByKey[key] = d
	return w.addWorkload(d)
}

// createRSPodNow creates a pod of rs for time 0 (not scheduled by an event).
func (w *world) createRSPodNow(d *deploy, rs *replicaSet) *pod {
	p := w.newPod(w.rsPodKey(d, rs), rs.labels, d.spec, d.prof)
	p.deploy, p.rs, p.rev = d, rs, rs.rev
	rs.pods = append(rs.pods, p)
	return p
}

// placeRunning binds a time-0 pod and makes it running and ready, written
// straight to the cluster.
func (w *world) placeRunning(p *pod) error {
	n := p.node
	if n == nil {
		if n = w.pickNode(p); n == nil {
			w.unscheduled = append(w.unscheduled, p)
			return nil
		}
		w.bind(p, n)
	}
	if !p.ip.IsValid() {
		ip, ok := n.allocIP()
		if !ok {
			return invalid("node %s: no free pod address", n.name)
		}
		p.ip = ip
	}
	if o, dup := w.podByIP[p.ip]; dup && o != p {
		return invalid("pods %s and %s share IP %s", o.key, p.key, p.ip)
	}
	w.podByIP[p.ip] = p
	p.phase = phRunning
	p.appUp, p.ready = true, true
	// Ready long since (a cluster in steady state): available whatever
	// its minReadySeconds.
	p.readySince = -time.Hour
	p.api = apiState{node: n, ip: p.ip, running: true, ready: true}
	if _, err := w.c.ApplyPodWrites([]svcnet.PodWrite{{Pod: w.podObject(p, p.api), Owned: true}}); err != nil {
		return invalid("pod %s: %v", p.key, err)
	}
	p.inCluster = true
	p.cl = p.api
	return nil
}

// addBarePod adds one of Scenario.Pods.
func (w *world) addBarePod(i int, in *service.Pod) error {
	if in == nil {
		return invalid("pods[%d]: null", i)
	}
	o := in.DeepCopy()
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if _, dup := w.podByKey[o.Key()]; dup {
		return invalid("pod %s: defined twice", o.Key())
	}
	spec := o.Spec
	spec.NodeName = ""
	prof, err := w.profileOf(&o.ObjectMeta, &spec, 0)
	if err != nil {
		return invalid("pod %s: %v", o.Key(), err)
	}
	p := w.newPod(o.Key(), o.Labels, &spec, prof)
	if name := in.Spec.NodeName; name != "" {
		n := w.nodeByName[name]
		if n == nil {
			return invalid("pod %s: spec.nodeName %q: no such node", p.key, name)
		}
		w.bind(p, n)
	}
	ip := o.Status.PodIP
	if len(o.Status.PodIPs) > 0 {
		ip = o.Status.PodIPs[0].IP
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || !a.Is4() {
			return invalid("pod %s: status.podIP %q: want an IPv4 address", p.key, ip)
		}
		p.ip = a
		if p.node != nil && p.node.podNet.Contains(a) {
			p.node.free = slices.DeleteFunc(p.node.free, func(h byte) bool { return h == a.As4()[3] })
		}
	}
	return w.placeRunning(p)
}

// createService creates a Service in the API and records it.
func (w *world) createService(in *service.Service) error {
	if in == nil {
		return errors.New("null Service")
	}
	o := in.DeepCopy()
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if _, err := w.c.CreateService(o); err != nil {
		return err
	}
	key := o.Key()
	got, err := w.c.Service(key)
	if err != nil {
		return err
	}
	s := w.svcs[key]
	if s == nil {
		s = &svcInfo{key: key, spec: in.DeepCopy()}
		s.spec.Namespace = o.Namespace
		w.svcs[key] = s
		w.svcList = append(w.svcList, s)
	}
	s.deleted = false
	s.sel = service.SelectorFromSet(got.Spec.Selector)
	s.labels = got.Spec.Selector
	s.slices = got.Spec.Selector != nil && got.Spec.Type != service.ServiceTypeExternalName
	s.notReady = got.Spec.PublishNotReadyAddresses
	s.alg = w.cfg.algorithm
	if a := got.Annotations[proxy.AlgorithmAnnotation]; a != "" {
		s.alg = a
	}
	if _, ok := w.claim(got, w.ipOwner, w.portOwner); !ok {
		return nil
	}
	return nil
}

// addFlows builds the flows (their Services are resolved later).
func (w *world) addFlows() error {
	for i, spec := range w.cfg.s.Traffic {
		key := splitKey(spec.Service)
		f := &flow{idx: i, spec: spec, name: spec.Name, ns: key.Namespace, external: spec.From == FromExternal,
			cache: map[*pod]dnsEntry{}, load: map[*pod]int64{}, start: spec.Start.D(), stop: spec.Stop.D(),
			rng: rand.New(rand.NewPCG(w.rTraffic.Uint64(), w.rTraffic.Uint64()))}
		if f.name == "" {
			f.name = key.String()
		}
		if f.spec.Clients == 0 {
			f.spec.Clients = 10
		}
		if spec.ClientSelector != "" {
			sel, _ := service.ParseSelector(spec.ClientSelector)
			f.clientSel = &sel
		}
		if f.external {
			base := w.cfg.extNet.Addr()
			for range f.spec.Clients {
				base = base.Next()
				if !w.cfg.extNet.Contains(base) {
					break
				}
				f.addrs = append(f.addrs, base)
			}
			if len(f.addrs) == 0 {
				return invalid("traffic[%d]: cluster.externalClientCIDR %v has no address", i, w.cfg.extNet)
			}
		}
		w.flows = append(w.flows, f)
	}
	return nil
}

// resolveFlows binds each flow to its Service and port.
func (w *world) resolveFlows() error {
	for i, f := range w.flows {
		key := splitKey(f.spec.Service)
		s := w.svcs[key]
		if s == nil {
			return invalid("traffic[%d].service %s: no such Service", i, key)
		}
		obj, err := w.c.Service(key)
		if err != nil {
			return invalid("traffic[%d].service %s: %v", i, key, err)
		}
		if len(obj.Spec.Selector) == 0 || obj.Spec.Type == service.ServiceTypeExternalName {
			return invalid("traffic[%d].service %s: traffic goes to Services with a selector", i, key)
		}
		f.direct = obj.IsHeadless() || f.spec.Hostname != ""
		if f.direct && (f.external || f.spec.Via != "" && f.spec.Via != ViaDNS) {
			return invalid("traffic[%d].service %s: a headless Service, or a pod's hostname, is reached by its DNS name from pods (via dns)", i, key)
		}
		f.svc = s
		if !s.watched {
			s.watched = true
			w.watched = append(w.watched, s)
		}
		var port *service.ServicePort
		for j := range obj.Spec.Ports {
			p := &obj.Spec.Ports[j]
			if f.spec.Port == "" || p.Name == f.spec.Port || strconv.Itoa(int(p.Port)) == f.spec.Port {
				port = p
				break
			}
		}
		if port == nil {
			return invalid("traffic[%d].port %q: Service %s has no such port", i, f.spec.Port, key)
		}
		if port.Protocol != service.ProtocolTCP {
			return invalid("traffic[%d].port %q: only TCP is simulated", i, f.spec.Port)
		}
		f.portName, f.port, f.nodePort, f.proto = port.Name, uint16(port.Port), uint16(port.NodePort), port.Protocol
		f.vip, _ = netip.ParseAddr(obj.Spec.ClusterIP)
		f.host = key.Name
		if f.spec.Hostname != "" {
			f.host = f.spec.Hostname
		}
		f.target = port.TargetPort
		if f.target.IsZero() {
			f.target = service.FromInt(port.Port)
		}
		f.local = obj.Spec.ExternalTrafficPolicy == service.TrafficPolicyLocal
		f.via = f.spec.Via
		if f.via == "" {
			switch {
			case !f.external:
				f.via = ViaDNS
			case obj.Spec.Type == service.ServiceTypeLoadBalancer:
				f.via = ViaLoadBalancer
			default:
				f.via = ViaNodePort
			}
		}
		switch f.via {
		case ViaNodePort:
			if f.nodePort == 0 {
				return invalid("traffic[%d]: Service %s port %q has no NodePort", i, key, f.spec.Port)
			}
		case ViaLoadBalancer:
			for _, in := range obj.Status.LoadBalancer.Ingress {
				if a, err := netip.ParseAddr(in.IP); err == nil && a.Is4() {
					f.lbIP = a
					break
				}
			}
			if !f.lbIP.IsValid() {
				return invalid("traffic[%d]: Service %s has no LoadBalancer IP", i, key)
			}
		}
	}
	return nil
}

// checkTarget checks that a timeline event's target exists.
func (w *world) checkTarget(i int, e TimelineEvent) error {
	ok := true
	switch e.Action {
	case ActionRollout, ActionScale:
		d, err := w.workloadRef(e.Target)
		if err != nil {
			return invalid("timeline[%d] %s: target %q: %v", i, e.Action, e.Target, err)
		}
		if msg := actionRefusal(e.Action, d.kind); msg != "" {
			return invalid("timeline[%d] %s: target %q: %s", i, e.Action, e.Target, msg)
		}
	case ActionDeletePod, ActionCrashPod:
		_, err := w.workloadRef(e.Target)
		ok = err == nil || w.podByKey[splitKey(e.Target)] != nil
	case ActionDeleteNode, ActionAddNode:
		ok = w.nodeByName[e.Target] != nil
	case ActionKillNode, ActionRestartNode, ActionCutNode, ActionHealNode:
		ok = w.nodeByName[e.Target] != nil
	case ActionZoneDown, ActionZoneUp:
		ok = slices.ContainsFunc(w.nodes, func(n *node) bool { return n.zone == e.Target })
	case ActionDeleteService, ActionCreateService:
		ok = w.svcs[splitKey(e.Target)] != nil
	}
	if !ok {
		return invalid("timeline[%d] %s: target %q not found", i, e.Action, e.Target)
	}
	return nil
}

// firstKey returns the least key of the Service's selector, to look its
// pods up by; false for an empty selector (every pod of the namespace).
func (s *svcInfo) firstKey() (string, bool) {
	if len(s.labels) == 0 {
		return "", false
	}
	return slices.Min(slices.Collect(maps.Keys(s.labels))), true
}
