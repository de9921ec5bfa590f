package sim

import (
	"slices"
	"strconv"
	"time"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// scenarioDefaults is a Scenario with its defaults applied and its
// generated objects named: the one pass that both the decode-time check
// (checkScenario, which reports file and line positions) and Run (check,
// then the world it builds) read. It only fills in; it checks nothing,
// so it can be worked out from any Scenario, valid or not.
type scenarioDefaults struct {
	t         timings
	zones     []string // ClusterSpec.ZoneNames
	maxPods   int
	algorithm string
	bucket    time.Duration
	history   int

	// The address ranges, as written or defaulted, still unparsed.
	serviceCIDR, podCIDR, nodeCIDR, externalClientCIDR, loadBalancerRange string

	// nodes is how many nodes the cluster generates (named by nodeName),
	// after Scenario.Nodes.
	nodes    int
	workload generatedWorkload
}

// generatedWorkload is WorkloadSpec with its defaults: how many Services,
// each with a Deployment of the same name, and how they are named.
type generatedWorkload struct {
	services   int
	prefix     string // "svc" by default
	namespace  string // "default" by default
	namespaces int
	replicas   int32 // 3 by default
}

// key returns the name of the i-th generated Service and Deployment:
// <prefix>-<i> in the namespace, or, with Namespaces above 1, in
// <namespace>-<i mod Namespaces>.
func (g generatedWorkload) key(i int) service.NamespacedName {
	k := service.NamespacedName{Namespace: g.namespace, Name: g.prefix + "-" + strconv.Itoa(i)}
	if g.namespaces > 1 {
		k.Namespace += "-" + strconv.Itoa(i%g.namespaces)
	}
	return k
}

// nodeName returns the name of the i-th generated node (ClusterSpec.Nodes).
func nodeName(i int) string { return "node-" + strconv.Itoa(i) }

// defaultZones are the zones of a cluster that names none.
var defaultZones = [...]string{"zone-a", "zone-b", "zone-c"}

// ZoneNames returns the topology zones the cluster's nodes are spread
// over: Zones, or zone-a, zone-b and zone-c when it is empty. The result
// is a new slice.
func (c ClusterSpec) ZoneNames() []string {
	if len(c.Zones) == 0 {
		return slices.Clone(defaultZones[:])
	}
	return slices.Clone(c.Zones)
}

// defaultsOf applies s's defaults.
func defaultsOf(s *Scenario) scenarioDefaults {
	c, w := &s.Cluster, s.Workload
	d := scenarioDefaults{
		t:                  defaultTimings(s),
		zones:              c.ZoneNames(),
		maxPods:            orInt(c.MaxPodsPerNode, 110),
		algorithm:          orString(c.Algorithm, lb.AlgorithmRandom),
		bucket:             s.Metrics.BucketWidth.D(),
		history:            s.Checks.History,
		serviceCIDR:        orString(c.ServiceCIDR, "10.96.0.0/12"),
		podCIDR:            orString(c.PodCIDR, "10.0.0.0/8"),
		nodeCIDR:           orString(c.NodeCIDR, "172.16.0.0/12"),
		externalClientCIDR: orString(c.ExternalClientCIDR, "203.0.113.0/24"),
		loadBalancerRange:  orString(c.LoadBalancerRange, "198.51.100.0/24"),
		nodes:              c.Nodes,
		workload: generatedWorkload{
			services:   w.Services,
			prefix:     orString(w.Prefix, "svc"),
			namespace:  orString(w.Namespace, "default"),
			namespaces: w.Namespaces,
			replicas:   w.Replicas,
		},
	}
	if d.bucket == 0 {
		d.bucket = time.Second
	}
	if d.history <= 0 {
		d.history = 32
	}
	if d.workload.replicas == 0 {
		d.workload.replicas = 3
	}
	return d
}

// defaultTimings is s's Delays, DNS TTL and check timings with the
// defaults filled in (Delays and CheckSpec say which).
func defaultTimings(s *Scenario) timings {
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
	t.bound = or(s.Checks.ConvergenceBound, t.watch+t.jitter+t.minSync+t.batch+time.Second)
	t.interval = or(s.Checks.Interval, 10*time.Second)
	return t
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
