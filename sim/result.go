package sim

// Result is everything a run measured, as data. It marshals to stable
// JSON: no maps, lists in a defined order, durations as strings, and
// nothing from the host (no wall time), so the same Scenario and seed
// give the same bytes.
type Result struct {
	// Scenario and Variant name the run.
	Scenario string `json:"scenario,omitempty"`
	Variant  string `json:"variant,omitempty"`
	// Seed is the seed the run used.
	Seed uint64 `json:"seed"`
	// Duration is the simulated time run: the scenario's duration, or
	// less when an invariant stopped the run.
	Duration Duration `json:"duration"`
	// Events is the number of events run, each node sync counted once
	// also where a cohort of them ran as one engine event: the count of
	// the node-by-node run.
	Events uint64 `json:"events"`
	// Cluster summarises the cluster at the end and the work done.
	Cluster ClusterSummary `json:"cluster"`
	// Connections totals the connection outcomes.
	Connections Outcomes `json:"connections"`
	// BucketWidth is the width of each Timeline bucket.
	BucketWidth Duration `json:"bucketWidth"`
	// Timeline holds the outcomes of the connections that started in each
	// bucket, from time 0, one entry per bucket.
	Timeline []Bucket `json:"timeline"`
	// Flows are the traffic flows, in Scenario order.
	Flows []FlowResult `json:"flows"`
	// EndpointLatency is the endpoint programming latency: from a pod
	// turning ready or gone (or a Service change) in the API to the moment
	// every connected node's proxy has applied it, as ClusterLoader2's
	// NetworkProgrammingLatency (there per node, here the last node).
	EndpointLatency Latency `json:"endpointProgrammingLatency"`
	// DNSLatency is the DNS programming latency: from the change in the
	// API to the cluster DNS answering with it (client caches come on
	// top, for up to the TTL).
	DNSLatency Latency `json:"dnsProgrammingLatency"`
	// Algorithms gives, per load-balancing algorithm in use, the
	// connections disrupted per churn event.
	Algorithms []AlgorithmResult `json:"algorithms"`
	// CrossZone is the share of served connections whose client (or
	// entry node) and backend are in different zones.
	CrossZone CrossZone `json:"crossZone"`
	// Checks counts the invariant checks run.
	Checks CheckCounts `json:"checks"`
	// Violation is the invariant that stopped the run, if any.
	Violation *Violation `json:"violation,omitempty"`
	// Trace is what the run recorded over time to explain its failures
	// (endpoints, rollout, per-node programming, faults, blame), bounded
	// in size whatever the cluster; nil in a Result of an older svcsim.
	Trace *Trace `json:"trace,omitempty"`
}

// Outcomes counts connections by outcome.
type Outcomes struct {
	// Total is the number of connections attempted.
	Total int64 `json:"total"`
	// Served: the connection reached a running backend and ended normally
	// (or was still open when the run ended).
	Served int64 `json:"served"`
	// Refused: the proxy chose a backend pod that was gone or not
	// listening (a stale view).
	Refused int64 `json:"refused"`
	// Reset: the backend pod stopped (or, on a stateless data plane, the
	// connection was moved to another backend) while it was open.
	Reset int64 `json:"reset"`
	// Rejected: the Service had no endpoints in the node's view.
	Rejected int64 `json:"rejected"`
	// DNSFailure: the name did not resolve.
	DNSFailure int64 `json:"dnsFailure"`
	// Dropped: a traffic policy (externalTrafficPolicy or
	// internalTrafficPolicy Local, or loadBalancerSourceRanges) dropped it.
	Dropped int64 `json:"dropped"`
	// Unreachable: the address was no Service frontend in the node's view
	// (a stale DNS answer for a deleted Service), no node could take it,
	// or the answer could not come back (a pod's connection to another
	// node's NodePort under externalTrafficPolicy Local, answered by a
	// backend off that node); the client times out.
	Unreachable int64 `json:"unreachable"`
}

// Failed returns the connections that were not served.
func (o Outcomes) Failed() int64 { return o.Total - o.Served }

// Add adds b's counts to o, outcome by outcome: the outcomes of two sets
// of connections together.
func (o *Outcomes) Add(b Outcomes) {
	o.Total += b.Total
	o.Served += b.Served
	o.Refused += b.Refused
	o.Reset += b.Reset
	o.Rejected += b.Rejected
	o.DNSFailure += b.DNSFailure
	o.Dropped += b.Dropped
	o.Unreachable += b.Unreachable
}

// Bucket is the outcomes of the connections that started in
// [At, At+BucketWidth).
type Bucket struct {
	At Duration `json:"at"`
	Outcomes
}

// FlowResult is what one traffic flow measured.
type FlowResult struct {
	// Name is the flow's name; Service its target.
	Name    string `json:"name"`
	Service string `json:"service"`
	// Algorithm is the Service's load-balancing algorithm at the start.
	Algorithm string `json:"algorithm"`
	// Connections counts the flow's outcomes.
	Connections Outcomes `json:"connections"`
	// Backends is the number of distinct backend pods that got
	// connections.
	Backends int `json:"backends"`
	// MaxOverMean is the most loaded backend's connections over the mean
	// (1 is perfect balance); RSD the relative standard deviation of the
	// backends' connections. Both are over the backends that got any.
	MaxOverMean float64 `json:"maxOverMean"`
	RSD         float64 `json:"rsd"`
	// BackendLoad lists every backend's connections, when
	// MetricsSpec.Backends is set, sorted by pod.
	BackendLoad []BackendLoad `json:"backendLoad,omitempty"`
}

// BackendLoad is the connections one backend pod got.
type BackendLoad struct {
	Pod         string `json:"pod"`
	Node        string `json:"node"`
	Zone        string `json:"zone"`
	Connections int64  `json:"connections"`
}

// Latency is a latency distribution. Quantiles are computed by
// golang.org/x/exp/stats.Quantiles (linear interpolation between order
// statistics, R's type 7); mean and standard deviation by
// stats.MeanAndStdDev. All are zero when Count is. Histogram holds every
// sample in the buckets of LatencyBounds: unlike the quantiles it merges
// exactly across runs (Histogram.Merge), and it is what a CDF is drawn
// from.
type Latency struct {
	Count  int      `json:"count"`
	Mean   Duration `json:"mean"`
	StdDev Duration `json:"stdDev"`
	P50    Duration `json:"p50"`
	P90    Duration `json:"p90"`
	P99    Duration `json:"p99"`
	Max    Duration `json:"max"`
	// Histogram is the samples' distribution, with LatencyBounds; its
	// Count is Count.
	Histogram Histogram `json:"histogram"`
}

// AlgorithmResult is the disruption measured for one load-balancing
// algorithm, over the flows to Services that use it.
type AlgorithmResult struct {
	Algorithm string `json:"algorithm"`
	// Connections counts the connections and Disrupted those that were
	// refused, reset or rejected.
	Connections int64 `json:"connections"`
	Disrupted   int64 `json:"disrupted"`
	// ChurnEvents counts the backend churn events of those Services: pods
	// that stopped (deleted, evicted, crashed, or on a killed node).
	ChurnEvents int64 `json:"churnEvents"`
	// PerChurnEvent is Disrupted / ChurnEvents (0 without churn).
	PerChurnEvent float64 `json:"perChurnEvent"`
}

// CrossZone is the cross-zone share of served connections.
type CrossZone struct {
	Served    int64   `json:"served"`
	CrossZone int64   `json:"crossZone"`
	Share     float64 `json:"share"`
}

// ClusterSummary describes the cluster at the end of the run and the
// control-plane work done.
type ClusterSummary struct {
	Nodes    int `json:"nodes"`
	Pods     int `json:"pods"`
	Services int `json:"services"`
	// PodsCreated and PodsDeleted count pod objects over the run.
	PodsCreated int64 `json:"podsCreated"`
	PodsDeleted int64 `json:"podsDeleted"`
	// TableVersions counts the proxy tables the control plane published;
	// NodeSyncs the proxy syncs of all nodes; DNSSyncs the DNS updates.
	TableVersions uint64 `json:"tableVersions"`
	NodeSyncs     int64  `json:"nodeSyncs"`
	DNSSyncs      int64  `json:"dnsSyncs"`
	// DNSQueries counts the A queries clients sent the cluster DNS (a
	// client asks when its cached answer's TTL ran out).
	DNSQueries int64 `json:"dnsQueries,omitempty"`
	// PodsSkippedNodeNotFound counts the times the endpoints controller
	// left a pod out of a Service's slices because the pod's Node object
	// was missing (svcnet.Changes.SkippedPods: once per pod, Service and
	// pod write), as Kubernetes' reconciler does.
	PodsSkippedNodeNotFound int64 `json:"podsSkippedNodeNotFound,omitempty"`
}

// CheckCounts counts the invariant checks made.
type CheckCounts struct {
	// Picks is the number of picks checked against the node's view.
	Picks int64 `json:"picks"`
	// Full is the number of full (O(cluster)) checks.
	Full int64 `json:"full"`
}

// Violation is a broken invariant, with what it takes to replay it: the
// seed, the number of the event that broke it, and the events before it.
type Violation struct {
	// Invariant names the invariant; Message says how it broke.
	Invariant string `json:"invariant"`
	Message   string `json:"message"`
	// Seed and Event locate it: run the same Scenario with this seed and
	// the violation comes at this event number, at this time.
	Seed  uint64   `json:"seed"`
	Event uint64   `json:"event"`
	At    Duration `json:"at"`
	// LastEvents describes the last events run, oldest first.
	LastEvents []string `json:"lastEvents"`
}
