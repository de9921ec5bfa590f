package sim

import (
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
// filled in and every address range parsed.
type config struct {
	s          Scenario
	t          timings
	zones      []string
	maxPods    int
	serviceNet netip.Prefix
	podNet     netip.Prefix
	nodeNet    netip.Prefix
	extNet     netip.Prefix
	lbRange    ipam.Range
	algorithm  string
	stateless  bool
	bucket     time.Duration
	history    int
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidScenario, fmt.Sprintf(format, args...))
}

func parsePrefix(field, s, def string) (netip.Prefix, error) {
	if s == "" {
		s = def
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, invalid("%s: %v", field, err)
	}
	return p.Masked(), nil
}

// check validates a Scenario and fills in its defaults.
func check(s Scenario) (*config, error) {
	if s.APIVersion != "" && s.APIVersion != APIVersion {
		return nil, invalid("apiVersion %q: want %q", s.APIVersion, APIVersion)
	}
	if s.Kind != "" && s.Kind != KindScenario {
		return nil, invalid("kind %q: want %q", s.Kind, KindScenario)
	}
	if s.Duration <= 0 {
		return nil, invalid("duration %v: must be positive", s.Duration)
	}
	cfg := &config{s: s}
	d := s.Cluster.Delays
	t := timings{
		watch:          or(d.WatchLatency, 100*time.Millisecond),
		jitter:         or(d.WatchJitter, 200*time.Millisecond),
		batch:          or(d.EndpointSliceBatchPeriod, 0),
		minSync:        or(d.MinSyncPeriod, time.Second),
		syncPeriod:     or(d.SyncPeriod, 30*time.Second),
		scheduling:     or(d.Scheduling, 100*time.Millisecond),
		containerStart: or(d.ContainerStart, 2*time.Second),
		appStart:       or(d.AppStart, 0),
		nodeGrace:      or(d.NodeMonitorGracePeriod, 40*time.Second),
		eviction:       or(d.EvictionToleration, 300*time.Second),
		backoff:        or(d.RestartBackoff, 10*time.Second),
		ttl:            or(s.Cluster.DNSTTL, 5*time.Second),
	}
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
			return nil, invalid("cluster.delays.%s %v: must not be negative", f.name, f.v)
		}
	}
	if t.syncPeriod <= 0 {
		return nil, invalid("cluster.delays.syncPeriod %v: must be positive", t.syncPeriod)
	}
	if t.ttl < 0 || t.ttl > time.Hour || t.ttl%time.Second != 0 {
		return nil, invalid("cluster.dnsTTL %v: whole seconds, at most an hour", t.ttl)
	}
	t.bound = or(s.Checks.ConvergenceBound, t.watch+t.jitter+t.minSync+t.batch+time.Second)
	t.interval = or(s.Checks.Interval, 10*time.Second)
	if t.interval < 0 || t.bound <= 0 {
		return nil, invalid("checks: interval and convergenceBound must be positive")
	}
	cfg.t = t

	cfg.zones = s.Cluster.Zones
	if len(cfg.zones) == 0 {
		cfg.zones = []string{"zone-a", "zone-b", "zone-c"}
	}
	cfg.maxPods = s.Cluster.MaxPodsPerNode
	if cfg.maxPods == 0 {
		cfg.maxPods = 110
	}
	if cfg.maxPods < 0 || cfg.maxPods > 250 {
		return nil, invalid("cluster.maxPodsPerNode %d: must be 1 to 250 (one /24 per node)", cfg.maxPods)
	}
	if s.Cluster.Nodes < 0 {
		return nil, invalid("cluster.nodes %d: must not be negative", s.Cluster.Nodes)
	}
	var err error
	if cfg.serviceNet, err = parsePrefix("cluster.serviceCIDR", s.Cluster.ServiceCIDR, "10.96.0.0/12"); err != nil {
		return nil, err
	}
	if cfg.podNet, err = parsePrefix("cluster.podCIDR", s.Cluster.PodCIDR, "10.0.0.0/8"); err != nil {
		return nil, err
	}
	if !cfg.podNet.Addr().Is4() || cfg.podNet.Bits() > 24 {
		return nil, invalid("cluster.podCIDR %v: an IPv4 prefix of /24 or shorter", cfg.podNet)
	}
	if cfg.nodeNet, err = parsePrefix("cluster.nodeCIDR", s.Cluster.NodeCIDR, "172.16.0.0/12"); err != nil {
		return nil, err
	}
	if !cfg.nodeNet.Addr().Is4() {
		return nil, invalid("cluster.nodeCIDR %v: an IPv4 prefix", cfg.nodeNet)
	}
	if cfg.extNet, err = parsePrefix("cluster.externalClientCIDR", s.Cluster.ExternalClientCIDR, "203.0.113.0/24"); err != nil {
		return nil, err
	}
	lbr := s.Cluster.LoadBalancerRange
	if lbr == "" {
		lbr = "198.51.100.0/24"
	}
	if p, err := netip.ParsePrefix(lbr); err == nil {
		p = p.Masked()
		lbr = p.Addr().Next().String() + "-" + lastAddr(p).Prev().String()
	}
	if cfg.lbRange, err = ipam.ParseRange(lbr); err != nil {
		return nil, invalid("cluster.loadBalancerRange: %v", err)
	}
	nodes := len(s.Nodes) + s.Cluster.Nodes
	if maxNodes := 1 << (24 - cfg.podNet.Bits()); nodes > maxNodes {
		return nil, invalid("%d nodes: cluster.podCIDR %v holds %d /24s", nodes, cfg.podNet, maxNodes)
	}
	if maxNodes := 1<<(32-cfg.nodeNet.Bits()) - 2; nodes > maxNodes {
		return nil, invalid("%d nodes: cluster.nodeCIDR %v holds %d addresses", nodes, cfg.nodeNet, maxNodes)
	}
	cfg.algorithm = s.Cluster.Algorithm
	if cfg.algorithm == "" {
		cfg.algorithm = lb.AlgorithmRandom
	}
	if !slices.Contains(lb.Algorithms(), cfg.algorithm) {
		return nil, invalid("cluster.algorithm %q: want one of %s", cfg.algorithm, strings.Join(lb.Algorithms(), ", "))
	}
	switch s.Cluster.Dataplane {
	case "", DataplaneConntrack:
	case DataplaneStateless:
		cfg.stateless = true
	default:
		return nil, invalid("cluster.dataplane %q: want %q or %q", s.Cluster.Dataplane, DataplaneConntrack, DataplaneStateless)
	}
	cfg.bucket = s.Metrics.BucketWidth.D()
	if cfg.bucket == 0 {
		cfg.bucket = time.Second
	}
	if cfg.bucket < 0 {
		return nil, invalid("metrics.bucketWidth %v: must be positive", cfg.bucket)
	}
	if s.Duration.D()/cfg.bucket > 1_000_000 {
		return nil, invalid("metrics.bucketWidth %v: more than a million buckets", cfg.bucket)
	}
	cfg.history = s.Checks.History
	if cfg.history <= 0 {
		cfg.history = 32
	}
	w := s.Workload
	if w.Services < 0 || w.Replicas < 0 || w.Namespaces < 0 {
		return nil, invalid("workload: services and replicas must not be negative")
	}
	if w.Algorithm != "" && !slices.Contains(lb.Algorithms(), w.Algorithm) {
		return nil, invalid("workload.algorithm %q: want one of %s", w.Algorithm, strings.Join(lb.Algorithms(), ", "))
	}
	for i, f := range s.Traffic {
		if f.Rate < 0 || f.Rate > 1e6 {
			return nil, invalid("traffic[%d].rate %v: must be 0 to 1e6", i, f.Rate)
		}
		if f.Service == "" {
			return nil, invalid("traffic[%d].service: required", i)
		}
		switch f.From {
		case "", FromPods, FromExternal:
		default:
			return nil, invalid("traffic[%d].from %q: want %q or %q", i, f.From, FromPods, FromExternal)
		}
		switch f.Via {
		case "", ViaDNS, ViaClusterIP, ViaNodePort, ViaLoadBalancer:
		default:
			return nil, invalid("traffic[%d].via %q: want dns, clusterIP, nodePort or loadBalancer", i, f.Via)
		}
		if f.From == FromExternal && (f.Via == ViaDNS || f.Via == ViaClusterIP) {
			return nil, invalid("traffic[%d]: external clients reach a Service by nodePort or loadBalancer", i)
		}
		if f.Clients < 0 || f.Clients > 100_000 {
			return nil, invalid("traffic[%d].clients %d: must be 0 to 100000", i, f.Clients)
		}
		if err := f.Length.check(); err != nil {
			return nil, invalid("traffic[%d].length: %v", i, err)
		}
		if f.ClientSelector != "" {
			if _, err := service.ParseSelector(f.ClientSelector); err != nil {
				return nil, invalid("traffic[%d].clientSelector: %v", i, err)
			}
		}
	}
	for i, c := range s.Churn {
		if c.Rate < 0 || c.Rate > 1e5 {
			return nil, invalid("churn[%d].rate %v: must be 0 to 1e5", i, c.Rate)
		}
		switch c.Action {
		case "", ActionDeletePod, ActionCrashPod, ActionRollout:
		default:
			return nil, invalid("churn[%d].action %q: want deletePod, crashPod or rollout", i, c.Action)
		}
	}
	for i, e := range s.Timeline {
		if e.At < 0 {
			return nil, invalid("timeline[%d].at %v: must not be negative", i, e.At)
		}
		switch e.Action {
		case ActionDeletePod, ActionCrashPod, ActionRollout, ActionKillNode, ActionRestartNode,
			ActionCutNode, ActionHealNode, ActionZoneDown, ActionZoneUp, ActionDeleteService, ActionCreateService:
			if e.Target == "" {
				return nil, invalid("timeline[%d] %s: target required", i, e.Action)
			}
		case ActionScale:
			if e.Target == "" || e.Replicas == nil || *e.Replicas < 0 {
				return nil, invalid("timeline[%d] scale: target and non-negative replicas required", i)
			}
		case ActionCrashControlPlane:
		default:
			return nil, invalid("timeline[%d].action %q: unknown", i, e.Action)
		}
		if e.For != nil && *e.For < 0 {
			return nil, invalid("timeline[%d].for %v: must not be negative", i, *e.For)
		}
		if e.Count < 0 {
			return nil, invalid("timeline[%d].count %d: must not be negative", i, e.Count)
		}
	}
	return cfg, nil
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
