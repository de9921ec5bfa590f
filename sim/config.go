package sim

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// timings are a Scenario's Delays with the defaults filled in.
type timings struct {
	watch, jitter, batch, minSync, syncPeriod     time.Duration
	scheduling, containerStart, appStart          time.Duration
	nodeGrace, eviction, backoff, bound, interval time.Duration
	ttl                                           time.Duration
}

// config is a checked Scenario: what Run needs, with every default
// filled in (defaultsOf) and every address range parsed.
type config struct {
	s       Scenario
	t       timings
	zones   []string
	maxPods int
	// serviceNets are the ClusterIP ranges: one, or one per family.
	serviceNets []netip.Prefix
	podNet      netip.Prefix
	nodeNet     netip.Prefix
	extNet      netip.Prefix
	lbRange     ipam.Range
	algorithm   string
	stateless   bool
	bucket      time.Duration
	history     int
	// workload names and sizes the generated Services and Deployments.
	workload generatedWorkload
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidScenario, fmt.Sprintf(format, args...))
}

func parsePrefix(field, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, invalid("%s: %v", field, err)
	}
	return p.Masked(), nil
}

// check validates a Scenario and fills in its defaults (defaultsOf),
// section by section, in the order the Scenario lists them; the first
// problem is the error.
func check(s Scenario) (*config, error) {
	if err := checkHeader(&s); err != nil {
		return nil, err
	}
	d := defaultsOf(&s)
	cfg := &config{s: s, t: d.t, zones: d.zones, maxPods: d.maxPods, algorithm: d.algorithm,
		bucket: d.bucket, history: d.history, workload: d.workload}
	for _, section := range []func(*config, *scenarioDefaults) error{
		checkTimings, checkNodes, checkNetworks, checkDataplane, checkMetrics,
	} {
		if err := section(cfg, &d); err != nil {
			return nil, err
		}
	}
	for _, section := range []func(*Scenario) error{checkWorkload, checkTraffic, checkChurn, checkTimeline} {
		if err := section(&s); err != nil {
			return nil, err
		}
	}
	if err := checkCapacity(&s, &d); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkCapacity bounds the pods a scenario asks for by what its nodes
// can hold (nodes × maxPodsPerNode; checkNetworks has checked that the
// pod CIDR holds the nodes): the replicas of the generated workload and
// of the Deployments at time 0, and after each scale event in time
// order. Pods beyond it could only stay Pending, and a scenario that asks
// for a billion of them would spend gigabytes before its first event.
func checkCapacity(s *Scenario, d *scenarioDefaults) error {
	capacity := int64(len(s.Nodes)+d.nodes) * int64(d.maxPods)
	replicas := map[objectKey]int64{}
	var total int64
	set := func(k objectKey, n int64) {
		total += n - replicas[k]
		replicas[k] = n
	}
	w := d.workload
	if int64(w.services)*int64(w.replicas) > capacity {
		return invalid("workload: %d Services × %d replicas is more pods than the %d the nodes hold (%d nodes × maxPodsPerNode %d)",
			w.services, w.replicas, capacity, len(s.Nodes)+d.nodes, d.maxPods)
	}
	for i := range w.services {
		set(objectKey{kindDeployment, w.key(i)}, int64(w.replicas))
	}
	// The workloads with a replica count, at time 0. A DaemonSet's pods
	// are one per node at most: the nodes bound them.
	type counted struct {
		field, kind string
		meta        *service.ObjectMeta
		replicas    *int32
	}
	var all []counted
	for i, o := range s.Deployments {
		if o != nil {
			all = append(all, counted{fmt.Sprintf("deployments[%d]", i), kindDeployment, &o.ObjectMeta, o.Spec.Replicas})
		}
	}
	for i, o := range s.StatefulSets {
		if o != nil {
			all = append(all, counted{fmt.Sprintf("statefulSets[%d]", i), kindStatefulSet, &o.ObjectMeta, o.Spec.Replicas})
		}
	}
	for i, o := range s.ReplicaSets {
		if o != nil {
			all = append(all, counted{fmt.Sprintf("replicaSets[%d]", i), kindReplicaSet, &o.ObjectMeta, o.Spec.Replicas})
		}
	}
	for _, c := range all {
		n := int64(1)
		if c.replicas != nil {
			n = int64(*c.replicas)
		}
		set(objectKey{c.kind, service.NamespacedName{Namespace: orDefault(c.meta.Namespace), Name: c.meta.Name}}, n)
		if total > capacity {
			return invalid("%s %s: %d pods at time 0, more than the %d the nodes hold", c.field, c.meta.Name, total, capacity)
		}
	}
	if total > capacity {
		return invalid("%d pods at time 0: more than the %d the nodes hold (%d nodes × maxPodsPerNode %d)",
			total, capacity, len(s.Nodes)+d.nodes, d.maxPods)
	}
	order := make([]int, len(s.Timeline))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(s.Timeline[a].At, s.Timeline[b].At) })
	has := func(kind string, key service.NamespacedName) bool {
		_, ok := replicas[objectKey{kind, key}]
		return ok
	}
	for _, i := range order {
		e := s.Timeline[i]
		if e.Action != ActionScale || e.Replicas == nil {
			continue
		}
		kind, key, err := resolveWorkload(e.Target, has)
		if err != nil {
			continue // the target check reports it
		}
		set(objectKey{kind, key}, int64(*e.Replicas))
		if total > capacity {
			return invalid("timeline[%d] scale %s to %d: %d pods, more than the %d the nodes hold", i, e.Target, *e.Replicas, total, capacity)
		}
	}
	return nil
}

// checkHeader checks the apiVersion, the kind and the duration.
func checkHeader(s *Scenario) error {
	if s.APIVersion != "" && s.APIVersion != APIVersion {
		return invalid("apiVersion %q: want %q", s.APIVersion, APIVersion)
	}
	if s.Kind != "" && s.Kind != KindScenario {
		return invalid("kind %q: want %q", s.Kind, KindScenario)
	}
	if s.Duration <= 0 {
		return invalid("duration %v: must be positive", s.Duration)
	}
	return nil
}

// checkTimings checks cluster.delays, cluster.dnsTTL and the checks'
// timings.
func checkTimings(cfg *config, _ *scenarioDefaults) error {
	t := cfg.t
	for _, f := range []struct {
		name string
		v    time.Duration
	}{
		{"watchLatency", t.watch}, {"watchJitter", t.jitter}, {"endpointSliceBatchPeriod", t.batch},
		{"minSyncPeriod", t.minSync}, {"scheduling", t.scheduling}, {"containerStart", t.containerStart},
		{"appStart", t.appStart}, {"nodeMonitorGracePeriod", t.nodeGrace}, {"evictionToleration", t.eviction},
		{"restartBackoff", t.backoff},
	} {
		if f.v < 0 {
			return invalid("cluster.delays.%s %v: must not be negative", f.name, f.v)
		}
	}
	if t.syncPeriod <= 0 {
		return invalid("cluster.delays.syncPeriod %v: must be positive", t.syncPeriod)
	}
	if l := cfg.s.Cluster.Delays.WatchJitterLevels; l < 0 || l > 1<<20 {
		return invalid("cluster.delays.watchJitterLevels %d: must be between 0 and %d", l, 1<<20)
	}
	if t.ttl < 0 || t.ttl > time.Hour || t.ttl%time.Second != 0 {
		return invalid("cluster.dnsTTL %v: whole seconds, at most an hour", t.ttl)
	}
	if t.interval < 0 || t.bound <= 0 {
		return invalid("checks: interval and convergenceBound must be positive")
	}
	return nil
}

// checkNodes checks the node count and the pods per node.
func checkNodes(cfg *config, d *scenarioDefaults) error {
	if cfg.maxPods < 0 || cfg.maxPods > 250 {
		return invalid("cluster.maxPodsPerNode %d: must be 1 to 250 (one /24 per node)", cfg.maxPods)
	}
	if d.nodes < 0 {
		return invalid("cluster.nodes %d: must not be negative", d.nodes)
	}
	return nil
}

// checkNetworks parses the cluster's address ranges and checks that the
// pod and node ranges hold every node.
func checkNetworks(cfg *config, d *scenarioDefaults) error {
	var err error
	// kube-apiserver's --service-cluster-ip-range: one CIDR, or two of
	// different families separated by a comma (dual-stack, KEP-563).
	for i, part := range strings.Split(d.serviceCIDR, ",") {
		p, err := parsePrefix("cluster.serviceCIDR", strings.TrimSpace(part))
		if err != nil {
			return err
		}
		if i > 1 || i == 1 && p.Addr().Is4() == cfg.serviceNets[0].Addr().Is4() {
			return invalid("cluster.serviceCIDR %q: one CIDR, or two of different IP families", d.serviceCIDR)
		}
		cfg.serviceNets = append(cfg.serviceNets, p)
	}
	if cfg.podNet, err = parsePrefix("cluster.podCIDR", d.podCIDR); err != nil {
		return err
	}
	if !cfg.podNet.Addr().Is4() || cfg.podNet.Bits() > 24 {
		return invalid("cluster.podCIDR %v: an IPv4 prefix of /24 or shorter", cfg.podNet)
	}
	if cfg.nodeNet, err = parsePrefix("cluster.nodeCIDR", d.nodeCIDR); err != nil {
		return err
	}
	if !cfg.nodeNet.Addr().Is4() {
		return invalid("cluster.nodeCIDR %v: an IPv4 prefix", cfg.nodeNet)
	}
	if cfg.extNet, err = parsePrefix("cluster.externalClientCIDR", d.externalClientCIDR); err != nil {
		return err
	}
	// A prefix stands for its addresses but the first and the last.
	lbr := d.loadBalancerRange
	if p, err := netip.ParsePrefix(lbr); err == nil {
		p = p.Masked()
		lbr = p.Addr().Next().String() + "-" + lastAddr(p).Prev().String()
	}
	if cfg.lbRange, err = ipam.ParseRange(lbr); err != nil {
		return invalid("cluster.loadBalancerRange: %v", err)
	}
	nodes := len(cfg.s.Nodes) + d.nodes
	if maxNodes := 1 << (24 - cfg.podNet.Bits()); nodes > maxNodes {
		return invalid("%d nodes: cluster.podCIDR %v holds %d /24s", nodes, cfg.podNet, maxNodes)
	}
	if maxNodes := 1<<(32-cfg.nodeNet.Bits()) - 2; nodes > maxNodes {
		return invalid("%d nodes: cluster.nodeCIDR %v holds %d addresses", nodes, cfg.nodeNet, maxNodes)
	}
	return nil
}

// checkDataplane checks the proxies' algorithm and dataplane.
func checkDataplane(cfg *config, _ *scenarioDefaults) error {
	if !knownAlgorithm(cfg.algorithm) {
		return invalid("cluster.algorithm %q: want one of %s", cfg.algorithm, strings.Join(lb.Algorithms(), ", "))
	}
	switch cfg.s.Cluster.Dataplane {
	case "", DataplaneConntrack:
	case DataplaneStateless:
		cfg.stateless = true
	default:
		return invalid("cluster.dataplane %q: want %q or %q", cfg.s.Cluster.Dataplane, DataplaneConntrack, DataplaneStateless)
	}
	return nil
}

// checkMetrics checks the bucket width against the duration.
func checkMetrics(cfg *config, _ *scenarioDefaults) error {
	if cfg.bucket < 0 {
		return invalid("metrics.bucketWidth %v: must be positive", cfg.bucket)
	}
	if cfg.s.Duration.D()/cfg.bucket > 1_000_000 {
		return invalid("metrics.bucketWidth %v: more than a million buckets", cfg.bucket)
	}
	return nil
}

// checkWorkload checks the generated workload's counts and algorithm.
func checkWorkload(s *Scenario) error {
	w := s.Workload
	if w.Services < 0 || w.Replicas < 0 || w.Namespaces < 0 {
		return invalid("workload: services and replicas must not be negative")
	}
	if w.Algorithm != "" && !knownAlgorithm(w.Algorithm) {
		return invalid("workload.algorithm %q: want one of %s", w.Algorithm, strings.Join(lb.Algorithms(), ", "))
	}
	return nil
}

// checkTraffic checks each traffic flow.
func checkTraffic(s *Scenario) error {
	for i, f := range s.Traffic {
		if f.Rate < 0 || f.Rate > 1e6 {
			return invalid("traffic[%d].rate %v: must be 0 to 1e6", i, f.Rate)
		}
		if f.Service == "" {
			return invalid("traffic[%d].service: required", i)
		}
		switch f.From {
		case "", FromPods, FromExternal:
		default:
			return invalid("traffic[%d].from %q: want %q or %q", i, f.From, FromPods, FromExternal)
		}
		switch f.Via {
		case "", ViaDNS, ViaClusterIP, ViaNodePort, ViaLoadBalancer:
		default:
			return invalid("traffic[%d].via %q: want dns, clusterIP, nodePort or loadBalancer", i, f.Via)
		}
		if f.From == FromExternal && (f.Via == ViaDNS || f.Via == ViaClusterIP) {
			return invalid("traffic[%d]: external clients reach a Service by nodePort or loadBalancer", i)
		}
		if f.Clients < 0 || f.Clients > 100_000 {
			return invalid("traffic[%d].clients %d: must be 0 to 100000", i, f.Clients)
		}
		if err := f.Length.check(); err != nil {
			return invalid("traffic[%d].length: %v", i, err)
		}
		if f.ClientSelector != "" {
			if _, err := service.ParseSelector(f.ClientSelector); err != nil {
				return invalid("traffic[%d].clientSelector: %v", i, err)
			}
		}
	}
	return nil
}

// checkChurn checks each churn process.
func checkChurn(s *Scenario) error {
	for i, c := range s.Churn {
		if c.Rate < 0 || c.Rate > 1e5 {
			return invalid("churn[%d].rate %v: must be 0 to 1e5", i, c.Rate)
		}
		switch c.Action {
		case "", ActionDeletePod, ActionCrashPod, ActionRollout:
		default:
			return invalid("churn[%d].action %q: want deletePod, crashPod or rollout", i, c.Action)
		}
	}
	return nil
}

// checkTimeline checks each timeline event.
func checkTimeline(s *Scenario) error {
	for i, e := range s.Timeline {
		if e.At < 0 {
			return invalid("timeline[%d].at %v: must not be negative", i, e.At)
		}
		if e.At > s.Duration {
			return invalid("timeline[%d].at %v: after the end of the run (duration %v)", i, e.At, s.Duration)
		}
		switch e.Action {
		case ActionDeletePod, ActionCrashPod, ActionRollout, ActionKillNode, ActionRestartNode,
			ActionCutNode, ActionHealNode, ActionZoneDown, ActionZoneUp, ActionDeleteService, ActionCreateService,
			ActionDeleteNode, ActionAddNode:
			if e.Target == "" {
				return invalid("timeline[%d] %s: target required", i, e.Action)
			}
		case ActionScale:
			if e.Target == "" || e.Replicas == nil || *e.Replicas < 0 {
				return invalid("timeline[%d] scale: target and non-negative replicas required", i)
			}
		case ActionCrashControlPlane:
		default:
			return invalid("timeline[%d].action %q: unknown", i, e.Action)
		}
		if e.For != nil && *e.For < 0 {
			return invalid("timeline[%d].for %v: must not be negative", i, *e.For)
		}
		if e.Count < 0 {
			return invalid("timeline[%d].count %d: must not be negative", i, e.Count)
		}
	}
	return nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}

func (d Distribution) check() error {
	switch d.Kind {
	case "", DistExponential, DistConstant:
	case DistLogNormal:
		if d.Sigma < 0 || d.Sigma > 10 {
			return fmt.Errorf("sigma %v: must be 0 to 10", d.Sigma)
		}
	case DistPareto:
		if d.Alpha != 0 && (d.Alpha <= 1 || d.Alpha > 100) {
			return fmt.Errorf("alpha %v: must be above 1 (a finite mean) and at most 100", d.Alpha)
		}
	default:
		return fmt.Errorf("kind %q: want exponential, lognormal, pareto or constant", d.Kind)
	}
	if d.Mean < 0 {
		return fmt.Errorf("mean %v: must not be negative", d.Mean)
	}
	return nil
}

// splitKey reads "namespace/name" or "name" (in default).
func splitKey(s string) service.NamespacedName {
	if ns, name, ok := strings.Cut(s, "/"); ok {
		return service.NamespacedName{Namespace: ns, Name: name}
	}
	return service.NamespacedName{Namespace: "default", Name: s}
}
