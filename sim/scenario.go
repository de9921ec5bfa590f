package sim

import (
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// APIVersion and KindScenario identify a scenario document in a YAML
// stream: `apiVersion: sim.svcnet.dev/v1alpha1`, `kind: Scenario`.
const (
	APIVersion   = "sim.svcnet.dev/v1alpha1"
	KindScenario = "Scenario"
)

// Scenario is everything one simulated run needs: a seed, a duration,
// the shape of the cluster and its delays, the objects in it, the traffic,
// random churn and a timeline of events. Its JSON form (field names as
// tagged, durations as strings) is the `kind: Scenario` document that
// DecodeScenario reads, so a scenario can be written in YAML:
//
//	apiVersion: sim.svcnet.dev/v1alpha1
//	kind: Scenario
//	metadata: {name: rolling-update}
//	seed: 1
//	duration: 10m
//	cluster: {nodes: 6, zones: [a, b, c]}
//	traffic: [{service: web, rate: 50, length: {mean: 2s}}]
//	timeline: [{at: 2m, action: rollout, target: web}]
//
// The zero value of every field means Kubernetes' default or "none"; a
// Scenario with only a Duration runs an empty cluster. Run copies what it
// needs and never modifies the Scenario.
type Scenario struct {
	// APIVersion is APIVersion or empty; Kind is KindScenario or empty.
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// Metadata names the scenario.
	Metadata Metadata `json:"metadata,omitzero"`
	// Seed seeds the run's one random source; every component draws its
	// own stream from it. The same Scenario and Seed give the same Result,
	// byte for byte.
	Seed uint64 `json:"seed"`
	// Duration is the simulated time to run; it must be positive.
	Duration Duration `json:"duration"`
	// Cluster is the cluster's shape (generated nodes, zones, address
	// ranges), its default load-balancing algorithm and its delays.
	Cluster ClusterSpec `json:"cluster,omitzero"`
	// Workload generates Services, each backed by a Deployment.
	Workload WorkloadSpec `json:"workload,omitzero"`
	// Traffic lists the connection flows, each to one Service.
	Traffic []TrafficSpec `json:"traffic,omitempty"`
	// Churn lists random changes at a rate (pods deleted or crashed,
	// rollouts), as a Poisson process each.
	Churn []ChurnSpec `json:"churn,omitempty"`
	// Timeline lists the changes and faults at given times.
	Timeline []TimelineEvent `json:"timeline,omitempty"`
	// Checks says how often the invariants are checked.
	Checks CheckSpec `json:"checks,omitzero"`
	// Metrics says how results are bucketed.
	Metrics MetricsSpec `json:"metrics,omitzero"`
	// Variants, if any, are what Compare runs: the same scenario with one
	// thing changed each (an LB algorithm, a preStop sleep). Run ignores
	// them.
	Variants []Variant `json:"variants,omitempty"`

	// Nodes are added before the generated ones. A node without an
	// InternalIP gets one from Cluster.NodeCIDR; without a zone label, one
	// of Cluster.Zones in turn.
	Nodes []*service.Node `json:"nodes,omitempty"`
	// Services are created at time 0, in order.
	Services []*service.Service `json:"services,omitempty"`
	// Deployments are created at time 0, in order; their pods start
	// running and ready at time 0 (a cluster in steady state), and later
	// pods go through the whole lifecycle.
	Deployments []*Deployment `json:"deployments,omitempty"`
	// StatefulSets, DaemonSets and ReplicaSets are created at time 0, in
	// order, after the Deployments, their pods as a Deployment's are.
	// A StatefulSet's pods are <name>-0, <name>-1, ... with stable DNS
	// names under its serviceName; a DaemonSet runs one pod per node
	// that should run it. A Deployment's own ReplicaSets are not input.
	StatefulSets []*StatefulSet `json:"statefulSets,omitempty"`
	DaemonSets   []*DaemonSet   `json:"daemonSets,omitempty"`
	ReplicaSets  []*ReplicaSet  `json:"replicaSets,omitempty"`
	// Pods are bare pods created at time 0, running and ready; a pod
	// without spec.nodeName is scheduled, one without an IP gets one from
	// its node's pod range.
	Pods []*service.Pod `json:"pods,omitempty"`
	// EndpointSlices are user-managed discovery.k8s.io/v1 EndpointSlices
	// (svcnet.Cluster.ApplyEndpointSlice), applied at time 0 after the
	// Services: the endpoints of a Service without a selector, which no
	// controller computes. A manifest labelled with the endpoint
	// controller's managed-by value, or of addressType FQDN, is skipped
	// (the simulator computes the former, kube-proxy ignores the latter);
	// listed here, it is an error.
	EndpointSlices []*endpoints.Slice `json:"endpointSlices,omitempty"`
}

// Metadata names a scenario.
type Metadata struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// The data-plane modes of ClusterSpec.Dataplane.
const (
	// DataplaneConntrack: each node tracks its connections (kube-proxy with
	// netfilter conntrack); an open connection stays on its backend
	// whatever the proxy table does later.
	DataplaneConntrack = "conntrack"
	// DataplaneStateless: nothing tracks connections, so every packet is
	// routed again through the node's current table (a stateless,
	// hash-based load balancer such as an ECMP or DSR front end without
	// flow state). An open connection breaks (reset) when a table change
	// sends its next packet to another backend: the case consistent
	// hashing exists for.
	DataplaneStateless = "stateless"
)

// ClusterSpec is the cluster's shape, addressing and timing.
type ClusterSpec struct {
	// Nodes is the number of nodes to generate, named node-0, node-1, ...,
	// spread over Zones in turn, after Scenario.Nodes.
	Nodes int `json:"nodes,omitempty"`
	// Zones are the topology zones; empty means zone-a, zone-b, zone-c.
	Zones []string `json:"zones,omitempty"`
	// MaxPodsPerNode caps the pods the scheduler places on a node; 0
	// means the kubelet's default, 110.
	MaxPodsPerNode int `json:"maxPodsPerNode,omitempty"`
	// ServiceCIDR is the ClusterIP range; "" means 10.96.0.0/12. Two
	// ranges of different families separated by a comma, as
	// kube-apiserver's --service-cluster-ip-range takes them, make the
	// cluster dual-stack for Services (the first is the primary family);
	// pods keep one IPv4 address.
	ServiceCIDR string `json:"serviceCIDR,omitempty"`
	// PodCIDR is cut into one /24 per node (kube-controller-manager's
	// --node-cidr-mask-size); "" means 10.0.0.0/8.
	PodCIDR string `json:"podCIDR,omitempty"`
	// NodeCIDR gives the nodes' InternalIPs; "" means 172.16.0.0/12.
	NodeCIDR string `json:"nodeCIDR,omitempty"`
	// LoadBalancerRange is the pool LoadBalancer IPs come from, as
	// "first-last" or a CIDR; "" means 198.51.100.0/24.
	LoadBalancerRange string `json:"loadBalancerRange,omitempty"`
	// ExternalClientCIDR is where clients outside the cluster come from;
	// "" means 203.0.113.0/24.
	ExternalClientCIDR string `json:"externalClientCIDR,omitempty"`
	// Algorithm is the default load-balancing algorithm (lb.Algorithms);
	// "" means kube-proxy's random. A Service chooses its own with the
	// lb.svcnet.dev/algorithm annotation.
	Algorithm string `json:"algorithm,omitempty"`
	// Dataplane is DataplaneConntrack (the default, "") or
	// DataplaneStateless.
	Dataplane string `json:"dataplane,omitempty"`
	// DNSTTL is the TTL of DNS answers, for which clients cache them; nil
	// means CoreDNS's 5 s. Whole seconds, at most an hour.
	DNSTTL *Duration `json:"dnsTTL,omitempty"`
	// Delays are the control plane's and the nodes' delays.
	Delays Delays `json:"delays,omitzero"`
}

// Delays are the timings of the control plane, the nodes and the pods.
// Nil means the default given with each field, Kubernetes' own where it
// has one.
type Delays struct {
	// WatchLatency is how long a change takes from the API server to its
	// watchers (controllers, kube-proxies, CoreDNS); default 100ms.
	WatchLatency *Duration `json:"watchLatency,omitempty"`
	// WatchJitter adds to WatchLatency a per-node delay drawn once,
	// uniformly in [0, WatchJitter); default 200ms. It spreads the nodes'
	// programming, as real nodes are not in lockstep.
	WatchJitter *Duration `json:"watchJitter,omitempty"`
	// WatchJitterLevels, when above zero, draws each node's jitter from
	// that many evenly spaced values, WatchJitter·k/levels for k in
	// [0, levels), instead of from a continuum: the nodes then fall
	// into that many groups whose kube-proxies sync at the same instants,
	// which the simulator runs as one event each (cohorts) — what lets a
	// 65 000-node cluster run in a minute. Default 0: continuous.
	WatchJitterLevels int `json:"watchJitterLevels,omitempty"`
	// EndpointSliceBatchPeriod is kube-controller-manager's
	// --endpointslice-updates-batch-period: pod changes are gathered for
	// this long before the slices are written; default 0 (each change
	// written at once), Kubernetes' default.
	EndpointSliceBatchPeriod *Duration `json:"endpointSliceBatchPeriod,omitempty"`
	// MinSyncPeriod is kube-proxy's --iptables-min-sync-period: the least
	// time between two syncs of a node; default 1s.
	MinSyncPeriod *Duration `json:"minSyncPeriod,omitempty"`
	// SyncPeriod is kube-proxy's --iptables-sync-period: a node syncs at
	// least this often; default 30s.
	SyncPeriod *Duration `json:"syncPeriod,omitempty"`
	// Scheduling is the time from a pod's creation to its binding to a
	// node; default 100ms.
	Scheduling *Duration `json:"scheduling,omitempty"`
	// ContainerStart is the time from binding to a running container
	// with an IP (sandbox, image, start); default 2s.
	ContainerStart *Duration `json:"containerStart,omitempty"`
	// AppStart is the time from a running container to an application
	// that accepts connections and passes its readiness probe; default 0.
	// A Deployment's pod template may set its own with the annotation
	// sim.svcnet.dev/app-start.
	AppStart *Duration `json:"appStart,omitempty"`
	// NodeMonitorGracePeriod is kube-controller-manager's
	// --node-monitor-grace-period: how long a silent node stays Ready;
	// default 40s.
	NodeMonitorGracePeriod *Duration `json:"nodeMonitorGracePeriod,omitempty"`
	// EvictionToleration is the tolerationSeconds of the default
	// node.kubernetes.io/not-ready and unreachable NoExecute tolerations:
	// how long pods stay bound to a NotReady node before they are evicted;
	// default 300s.
	EvictionToleration *Duration `json:"evictionToleration,omitempty"`
	// RestartBackoff is the kubelet's first back-off before restarting a
	// crashed container; it doubles on each crash up to 5 minutes;
	// default 10s.
	RestartBackoff *Duration `json:"restartBackoff,omitempty"`
}

// WorkloadSpec generates Services, each with a Deployment behind it:
// Services named <prefix>-0, <prefix>-1, ..., each selecting app=<its
// name>, port 80 to target port 8080.
type WorkloadSpec struct {
	// Services is the number of Services (and Deployments) to generate.
	Services int `json:"services,omitempty"`
	// Replicas is each Deployment's replica count; 0 means 3.
	Replicas int32 `json:"replicas,omitempty"`
	// Prefix names them; "" means "svc".
	Prefix string `json:"prefix,omitempty"`
	// Namespace holds them; "" means "default".
	Namespace string `json:"namespace,omitempty"`
	// Namespaces, when above 1, spreads the Services (and their
	// Deployments) over that many namespaces, <namespace>-0,
	// <namespace>-1, ..., Service i in namespace i mod Namespaces.
	// Kubernetes' scalability thresholds allow 5 000 Services per
	// namespace.
	Namespaces int `json:"namespaces,omitempty"`
	// Type is the Services' type; "" means ClusterIP.
	Type service.ServiceType `json:"type,omitempty"`
	// Algorithm, when set, is written to every generated Service's
	// lb.svcnet.dev/algorithm annotation.
	Algorithm string `json:"algorithm,omitempty"`
	// PreStopSleep, when set, gives every container a preStop sleep hook.
	PreStopSleep *Duration `json:"preStopSleep,omitempty"`
	// ReadinessProbe, when set, is every container's readiness probe.
	ReadinessProbe *service.Probe `json:"readinessProbe,omitempty"`
}

// The client kinds of TrafficSpec.From.
const (
	// FromPods: clients are pods in the cluster; they resolve the
	// Service's name through their search path and a TTL cache, and enter
	// by their own node's proxy.
	FromPods = "pods"
	// FromExternal: clients are addresses outside the cluster; they reach
	// a NodePort on a node or a LoadBalancer IP.
	FromExternal = "external"
)

// The destinations of TrafficSpec.Via.
const (
	// ViaDNS: the Service's name, resolved by the client (pods only).
	ViaDNS = "dns"
	// ViaClusterIP: the Service's ClusterIP, without DNS (pods only).
	ViaClusterIP = "clusterIP"
	// ViaNodePort: a node's InternalIP at the Service's NodePort; the
	// client picks a Ready node at random.
	ViaNodePort = "nodePort"
	// ViaLoadBalancer: the Service's LoadBalancer IP; the cloud load
	// balancer sends it to a node chosen by a hash of the client among
	// the nodes that pass its health check (for externalTrafficPolicy
	// Local, those with a local endpoint).
	ViaLoadBalancer = "loadBalancer"
)

// TrafficSpec is one flow of connections to one Service port: Poisson
// arrivals at Rate per second, each connection open for a length drawn
// from Length.
type TrafficSpec struct {
	// Name labels the flow in the Result; "" means the Service's.
	Name string `json:"name,omitempty"`
	// Service is the target, "namespace/name" or "name" in default. A
	// headless Service (clusterIP: None) is reached by DNS only: the
	// client resolves its name to a ready pod's address and connects to
	// the pod directly, no proxy in between.
	Service string `json:"service"`
	// Hostname, when set, is the DNS name the clients resolve instead of
	// the Service's: a StatefulSet pod's stable name under its headless
	// Service, "web-0.web" (resolved through the client's search path,
	// so relative to the Service's namespace) or fully qualified,
	// "web-0.web.default.svc.cluster.local". It needs Via dns and pod
	// clients; connections go to the pod's address directly, at the
	// Service port's targetPort. (The cluster DNS, as CoreDNS, answers a
	// pod's hostname under any Service whose endpoint has it; a
	// StatefulSet's serviceName is normally a headless one.)
	Hostname string `json:"hostname,omitempty"`
	// Port is the Service port's name or number; "" means its first.
	Port string `json:"port,omitempty"`
	// From is FromPods (default, "") or FromExternal.
	From string `json:"from,omitempty"`
	// Via is how clients address the Service: ViaDNS (default for
	// pods), ViaClusterIP, ViaNodePort, or ViaLoadBalancer (default for
	// external clients of a LoadBalancer Service; else ViaNodePort).
	Via string `json:"via,omitempty"`
	// ClientSelector picks existing pods (a label selector string, in
	// the Service's namespace) as clients. Without it, Clients client
	// pods are created for the flow on random nodes.
	ClientSelector string `json:"clientSelector,omitempty"`
	// Clients is the number of client pods to create (pods), or of
	// client addresses (external); 0 means 10.
	Clients int `json:"clients,omitempty"`
	// Rate is the arrival rate in connections per second.
	Rate float64 `json:"rate"`
	// Length is the distribution of connection lengths.
	Length Distribution `json:"length,omitzero"`
	// Start and Stop bound the flow in time; a zero Stop means the end.
	Start Duration `json:"start,omitempty"`
	Stop  Duration `json:"stop,omitempty"`
}

// The distributions of Distribution.Kind.
const (
	DistExponential = "exponential"
	DistLogNormal   = "lognormal"
	DistPareto      = "pareto"
	DistConstant    = "constant"
)

// Distribution is a distribution of durations with a given mean.
type Distribution struct {
	// Kind is DistExponential (default, ""), DistLogNormal, DistPareto or
	// DistConstant.
	Kind string `json:"kind,omitempty"`
	// Mean is the mean; 0 means 1s.
	Mean Duration `json:"mean,omitempty"`
	// Sigma is the log-normal's σ (of the logarithm); 0 means 1.
	Sigma float64 `json:"sigma,omitempty"`
	// Alpha is the Pareto shape, above 1 so the mean is finite; 0 means 2.
	Alpha float64 `json:"alpha,omitempty"`
}

// The actions of ChurnSpec and TimelineEvent.
const (
	// ActionDeletePod deletes pods (Target: a Deployment, or a pod for
	// the timeline); they terminate gracefully and are replaced.
	ActionDeletePod = "deletePod"
	// ActionCrashPod crashes pods' containers; the kubelet restarts them
	// after a back-off.
	ActionCrashPod = "crashPod"
	// ActionRollout starts a rolling update of a Deployment, StatefulSet
	// or DaemonSet (a new template revision), by each kind's rules; a
	// ReplicaSet does not roll out.
	ActionRollout = "rollout"
	// ActionScale sets a Deployment's, StatefulSet's or ReplicaSet's
	// replicas.
	ActionScale = "scale"
	// ActionKillNode crashes a node: its pods stop at once, it turns
	// NotReady after the node-monitor grace period and its pods are
	// evicted after the toleration. For, when set, restarts it after.
	ActionKillNode = "killNode"
	// ActionRestartNode brings a killed node back.
	ActionRestartNode = "restartNode"
	// ActionCutNode cuts a node off from the control plane: its proxy
	// view freezes and it stops reporting, while its pods keep serving.
	// For, when set, heals it after.
	ActionCutNode = "cutNode"
	// ActionHealNode reconnects a cut-off node.
	ActionHealNode = "healNode"
	// ActionZoneDown kills every node of a zone (Target: the zone); For,
	// when set, brings them back after.
	ActionZoneDown = "zoneDown"
	// ActionZoneUp restarts the killed nodes of a zone.
	ActionZoneUp = "zoneUp"
	// ActionCrashControlPlane stops the control plane for For (default
	// 30s): nothing is written, scheduled or synced; then it restores
	// from a snapshot taken at the crash and runs its repair loops.
	ActionCrashControlPlane = "crashControlPlane"
	// ActionDeleteService deletes a Service (Target).
	ActionDeleteService = "deleteService"
	// ActionCreateService creates a Service deleted earlier in the run
	// (Target) again, from its original spec; it gets new addresses.
	ActionCreateService = "createService"
	// ActionDeleteNode deletes a node from the API (Target): it stops,
	// its pods are force-deleted (the pod garbage collector) and its
	// DaemonSet pods are not replaced.
	ActionDeleteNode = "deleteNode"
	// ActionAddNode adds a node deleted earlier back (Target) as a new,
	// empty, Ready node: the DaemonSets that should run on it create
	// their pods there.
	ActionAddNode = "addNode"
)

// ChurnSpec is random change at a rate: Poisson events of one action on
// a random target.
type ChurnSpec struct {
	// Action is ActionDeletePod (default, ""), ActionCrashPod or
	// ActionRollout.
	Action string `json:"action,omitempty"`
	// Rate is events per second.
	Rate float64 `json:"rate"`
	// Target is a workload: "name", "namespace/name", or with its kind
	// when two kinds share the name, "statefulset/web" or
	// "statefulset/namespace/web" (ParseWorkloadRef); "" means a pod of
	// any workload, chosen uniformly (or any workload that rolls out,
	// for rollouts).
	Target string `json:"target,omitempty"`
	// Start and Stop bound the churn in time; a zero Stop means the end.
	Start Duration `json:"start,omitempty"`
	Stop  Duration `json:"stop,omitempty"`
}

// TimelineEvent is one change or fault at a given time.
type TimelineEvent struct {
	// At is when it happens.
	At Duration `json:"at"`
	// Action is one of the Action constants.
	Action string `json:"action"`
	// Target names what it acts on: a workload (a Deployment,
	// StatefulSet, DaemonSet or ReplicaSet: "name", "namespace/name", or
	// "kind/name" and "kind/namespace/name" when two kinds share the
	// name, ParseWorkloadRef) or a Service ("namespace/name" or "name"),
	// a pod (for deletePod and crashPod, when no workload has that name),
	// a node, or a zone.
	Target string `json:"target,omitempty"`
	// Replicas is the new replica count of ActionScale.
	Replicas *int32 `json:"replicas,omitempty"`
	// Count is how many pods of the Deployment ActionDeletePod and
	// ActionCrashPod act on; 0 means 1.
	Count int `json:"count,omitempty"`
	// For is how long a fault lasts before it is undone; nil means until
	// an explicit restart or heal (the control plane: 30s).
	For *Duration `json:"for,omitempty"`
}

// CheckSpec says how often the invariants are checked. The cheap ones
// (a pick uses a backend of the node's view, no two Services share a
// ClusterIP or NodePort) run at every connection and every Service
// change; the ones that cost O(cluster) run every Interval of simulated
// time and, when EveryEvents is set, every that many events.
type CheckSpec struct {
	// Interval is the simulated time between full checks; nil means 10s;
	// 0 turns the periodic checks off.
	Interval *Duration `json:"interval,omitempty"`
	// EveryEvents, when positive, also runs the full checks every that
	// many engine events (1 = after every event, for tests).
	EveryEvents int `json:"everyEvents,omitempty"`
	// ConvergenceBound is how long after a change every connected node's
	// proxy and the DNS must have applied it; nil means WatchLatency +
	// WatchJitter + MinSyncPeriod + EndpointSliceBatchPeriod + 1s.
	ConvergenceBound *Duration `json:"convergenceBound,omitempty"`
	// SkipPicks turns off the check of every pick against the node's view.
	SkipPicks bool `json:"skipPicks,omitempty"`
	// History is how many of the last events a violation reports; 0 means
	// 32.
	History int `json:"history,omitempty"`
}

// MetricsSpec says how the Result is bucketed.
type MetricsSpec struct {
	// BucketWidth is the width of the outcome buckets; 0 means 1s.
	BucketWidth Duration `json:"bucketWidth,omitempty"`
	// Backends lists every backend's load per Service in the Result
	// (otherwise only the summary: count, max/mean, relative stddev).
	Backends bool `json:"backends,omitempty"`
}

// Variant is the Scenario with one thing changed, for Compare.
type Variant struct {
	// Name labels the variant's Result.
	Name string `json:"name"`
	// Algorithm, when set, is the load-balancing algorithm of every
	// Service (and the cluster default).
	Algorithm string `json:"algorithm,omitempty"`
	// PreStopSleep, when set, is the preStop sleep of every workload's
	// containers (Deployments, StatefulSets, DaemonSets, ReplicaSets); 0
	// removes it.
	PreStopSleep *Duration `json:"preStopSleep,omitempty"`
	// Dataplane, when set, replaces Cluster.Dataplane.
	Dataplane string `json:"dataplane,omitempty"`
	// Seed, when set, replaces the Scenario's seed.
	Seed *uint64 `json:"seed,omitempty"`
}
