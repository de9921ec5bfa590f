package sim

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// Bounds of a Trace: whatever the cluster and the duration, a run's trace
// holds at most TraceBuckets time buckets, TraceRows rows of nodes and
// TraceTop pods and nodes to blame, so its size does not grow with the
// cluster (5 000 nodes) or the simulated time (an hour).
const (
	// TraceBuckets is the most time buckets of a Trace: its bucket width
	// is the scenario's (metrics.bucketWidth) times the least whole
	// number that keeps the run within this many buckets.
	TraceBuckets = 120
	// TraceRows is the most rows of the per-node programming timeline:
	// with more nodes, each row is a contiguous group of nodes (by their
	// order in the cluster), and its cells are the worst of the group.
	TraceRows = 40
	// TraceTop is the most pods and nodes listed as blamed for failures;
	// the rest are summed in an "others" entry.
	TraceTop = 20
	// TraceIntervals is the most node NotReady intervals kept; further
	// ones are counted in Trace.NotReadyDropped.
	TraceIntervals = 200
)

// Trace is what a run recorded over time to explain its failures: the
// state of the endpoints and of the rollout, every node's proxy
// programming, node and control-plane faults, and who refused, reset or
// routed the failed connections. It is sampled in simulated time only,
// so it is as deterministic as the rest of the Result, and bounded in
// size (see TraceBuckets, TraceRows, TraceTop, TraceIntervals). Bucket i
// is [i·BucketWidth, (i+1)·BucketWidth).
type Trace struct {
	// BucketWidth is the width of a bucket; Buckets their number.
	BucketWidth Duration `json:"bucketWidth"`
	Buckets     int      `json:"buckets"`
	// Endpoints are the endpoints of the Services traffic goes to and
	// the pods behind them, sampled at the start of each bucket: one
	// sample for the first bucket, then one for each bucket where a
	// count changed (a count holds until the next sample).
	Endpoints []EndpointSample `json:"endpoints"`
	// Flows are the flows' failed connections by the bucket they
	// started in, in Scenario order.
	Flows []FlowTrace `json:"flows"`
	// Nodes is the per-node programming timeline.
	Nodes NodeTimeline `json:"nodes"`
	// NotReady are the intervals in which a node was NotReady in the
	// API, in the order they began; an interval still open at the end
	// runs to the end. At most TraceIntervals; NotReadyDropped counts
	// those left out.
	NotReady        []NodeInterval `json:"notReady"`
	NotReadyDropped int            `json:"notReadyDropped,omitempty"`
	// ControlPlaneDown are the intervals in which the control plane was
	// down.
	ControlPlaneDown []Interval `json:"controlPlaneDown"`
	// FailedPods are the backend pods that refused or reset the most
	// connections (at most TraceTop, most first, then by name), and
	// OtherPods the sum of the rest. A refused connection whose address
	// belonged to no pod any more is blamed on the address.
	FailedPods []PodBlame `json:"failedPods"`
	OtherPods  PodBlame   `json:"otherPods"`
	// FailedNodes are the nodes that routed the most failed connections
	// (at most TraceTop), and OtherNodes the sum of the rest. A node
	// routed a connection when its proxy picked the backend, or failed
	// to: the client's node, or the node an external client reached.
	FailedNodes []NodeBlame `json:"failedNodes"`
	OtherNodes  NodeBlame   `json:"otherNodes"`
	// Zones are the connections by the zone of the node that routed
	// them, in the cluster's zone order.
	Zones []ZoneOutcomes `json:"zones"`
}

// EndpointSample is, at the start of a bucket, the endpoints by their
// conditions (KEP-1672), as the endpoints controller has written them
// (one per pod, however many of the Services it backs): Ready (serving
// and not terminating), Serving (ready, terminating or not) and
// Terminating; and the pods of the Deployments behind them by revision
// (not yet gone, terminating included): Old of older revisions, New of
// the newest.
type EndpointSample struct {
	Bucket      int   `json:"bucket"`
	Ready       int32 `json:"ready"`
	Serving     int32 `json:"serving"`
	Terminating int32 `json:"terminating"`
	Old         int32 `json:"old"`
	New         int32 `json:"new"`
}

// FlowTrace is one flow's failed connections (every outcome but served)
// in the buckets that had any.
type FlowTrace struct {
	Name   string        `json:"name"`
	Failed []BucketCount `json:"failed"`
}

// BucketCount is a count in a bucket.
type BucketCount struct {
	Bucket int   `json:"bucket"`
	N      int64 `json:"n"`
}

// NodeTimeline is every node's proxy programming over time, as a grid of
// Rows × Trace.Buckets cells, of which Cells lists those not in sync.
type NodeTimeline struct {
	// Rows are the rows, in node order: one node each, or with more
	// than TraceRows nodes, a group of them.
	Rows []NodeRow `json:"rows"`
	// Cells are the cells with anything to show, by row then bucket; a
	// cell not listed was in sync, with no sync and no node down.
	Cells []NodeCell `json:"cells"`
}

// NodeCell is row Row of the node timeline in bucket Bucket.
type NodeCell struct {
	Row    int `json:"row"`
	Bucket int `json:"bucket"`
	// StaleMillis is how stale the row's proxies were at worst: the age,
	// in milliseconds, of the oldest endpoint change in the API that a
	// running, connected node of the row had not yet applied (when it
	// applied it, or at the bucket's end). 0: in sync.
	StaleMillis int64 `json:"staleMillis,omitempty"`
	// Syncs counts the row's proxy syncs that applied a new table.
	Syncs int32 `json:"syncs,omitempty"`
	// Down counts the row's nodes that were down or cut off from the
	// control plane at some time in the bucket (their proxies apply
	// nothing).
	Down int32 `json:"down,omitempty"`
}

// NodeRow is a row of the node timeline: Nodes nodes, from First to
// Last in the cluster's order (First == Last for one node).
type NodeRow struct {
	First string `json:"first"`
	Last  string `json:"last"`
	Nodes int    `json:"nodes"`
}

// Interval is a span of simulated time.
type Interval struct {
	From Duration `json:"from"`
	To   Duration `json:"to"`
}

// NodeInterval is a span of simulated time of one node: its name, and
// its row in the NodeTimeline.
type NodeInterval struct {
	Node string `json:"node"`
	Row  int    `json:"row"`
	Interval
}

// PodBlame is a backend pod (or address) and the connections it refused
// and reset.
type PodBlame struct {
	Pod     string `json:"pod,omitempty"`
	Node    string `json:"node,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Refused int64  `json:"refused"`
	Reset   int64  `json:"reset"`
}

// NodeBlame is a node and the outcomes of the connections it routed.
type NodeBlame struct {
	Node        string   `json:"node,omitempty"`
	Zone        string   `json:"zone,omitempty"`
	Connections Outcomes `json:"connections"`
}

// ZoneOutcomes is the outcomes of the connections routed by a zone's
// nodes.
type ZoneOutcomes struct {
	Zone        string   `json:"zone"`
	Connections Outcomes `json:"connections"`
	// Failed are the zone's failed connections in the buckets that had
	// any, by the bucket they started in.
	Failed []BucketCount `json:"failed"`
}

// tracer records a Trace as the run goes.
type tracer struct {
	width time.Duration
	n     int
	// next is the start of the first bucket not yet sampled.
	next time.Duration

	endpoints []EndpointSample
	flows     [][]int64 // flow → failed per bucket

	rowOf     []int32 // node index → row
	rows      []NodeRow
	stale     [][]int64
	syncs     [][]int32
	down      [][]int32
	downSeen  []int32 // node index → 1 + the last bucket it was counted down in
	notReady  []NodeInterval
	openNR    []int32 // node index → 1 + its open NotReady interval, 0 none
	nrDropped int
	cpDown    []Interval

	// watched pods: those whose endpoints and revisions are counted.
	scanned  int
	watched  []*pod
	deployOK map[*deploy]bool

	podBlame  map[*pod]*PodBlame
	addrBlame map[netip.Addr]*PodBlame
	nodeOut   []Outcomes
	// zones are the zones in order (the scenario's, then any other a
	// node has); zoneOf maps a node to its zone's index; zoneFailed
	// counts each zone's failures per bucket.
	zones      []string
	zoneOf     []int32
	zoneFailed [][]int64
}

// newTracer sizes a tracer for the world's duration and nodes.
func newTracer(w *world) tracer {
	dur := w.cfg.s.Duration.D()
	width := w.cfg.bucket
	if nb := (dur + width - 1) / width; nb > TraceBuckets {
		width *= (nb + TraceBuckets - 1) / TraceBuckets
	}
	n := max(1, int((dur+width-1)/width))
	t := tracer{width: width, n: n, deployOK: map[*deploy]bool{},
		podBlame: map[*pod]*PodBlame{}, addrBlame: map[netip.Addr]*PodBlame{}}
	for range w.flows {
		t.flows = append(t.flows, make([]int64, n))
	}
	nodes := len(w.nodes)
	rows := min(nodes, TraceRows)
	t.rowOf = make([]int32, nodes)
	t.downSeen = make([]int32, nodes)
	t.openNR = make([]int32, nodes)
	t.nodeOut = make([]Outcomes, nodes)
	t.zoneOf = make([]int32, nodes)
	t.zones = slices.Clone(w.cfg.zones)
	for i, nd := range w.nodes {
		zi := slices.Index(t.zones, nd.zone)
		if zi < 0 {
			zi = len(t.zones)
			t.zones = append(t.zones, nd.zone)
		}
		t.zoneOf[i] = int32(zi)
	}
	for range t.zones {
		t.zoneFailed = append(t.zoneFailed, make([]int64, n))
	}
	for r := range rows {
		lo, hi := r*nodes/rows, (r+1)*nodes/rows
		for i := lo; i < hi; i++ {
			t.rowOf[i] = int32(r)
		}
		t.rows = append(t.rows, NodeRow{First: w.nodes[lo].name, Last: w.nodes[hi-1].name, Nodes: hi - lo})
		t.stale = append(t.stale, make([]int64, n))
		t.syncs = append(t.syncs, make([]int32, n))
		t.down = append(t.down, make([]int32, n))
	}
	return t
}

// bucket is the trace bucket of time d, clamped to the run.
func (t *tracer) bucket(d time.Duration) int {
	return min(max(0, int(d/t.width)), t.n-1)
}

// traceTick is called before each event: when the clock has passed the start
// of buckets not yet sampled, it closes the buckets before them and
// samples the state as it was at their start (no event ran in between).
func (w *world) traceTick(now time.Duration) {
	t := &w.tr
	for now >= t.next && t.next < time.Duration(t.n)*t.width {
		b := int(t.next / t.width)
		if b > 0 {
			w.traceClose(b-1, t.next)
		}
		w.traceSample(b)
		t.next += t.width
	}
}

// traceFinish closes the buckets up to the end of the run.
func (w *world) traceFinish() {
	end := w.now()
	w.traceTick(end)
	w.traceClose(w.tr.bucket(end), end)
}

// traceClose ends bucket b at time end: the nodes still behind are as
// stale as their oldest unapplied change is old; those down are counted.
func (w *world) traceClose(b int, end time.Duration) {
	t := &w.tr
	for _, n := range w.nodes {
		if !n.alive || !n.connected {
			t.markDown(n, b)
			continue
		}
		if age, ok := w.oldestUnapplied(n.version, end); ok {
			r := t.rowOf[n.idx]
			t.stale[r][b] = max(t.stale[r][b], age.Milliseconds())
		}
	}
}

// oldestUnapplied returns the age at time at of the oldest endpoint
// change a node at version v has not applied.
func (w *world) oldestUnapplied(v uint64, at time.Duration) (time.Duration, bool) {
	p := w.pub.pending
	i, _ := slices.BinarySearchFunc(p, v+1, func(s sample, v uint64) int { return cmp.Compare(s.version, v) })
	if i == len(p) {
		return 0, false
	}
	return at - p[i].t0, true
}

func (t *tracer) markDown(n *node, b int) {
	if t.downSeen[n.idx] == int32(b+1) {
		return
	}
	t.downSeen[n.idx] = int32(b + 1)
	t.down[t.rowOf[n.idx]][b]++
}

// traceSample counts the endpoints and the rollout's pods at the start
// of bucket b.
func (w *world) traceSample(b int) {
	t := &w.tr
	for ; t.scanned < len(w.pods); t.scanned++ {
		if p := w.pods[t.scanned]; w.traceWatches(p) {
			t.watched = append(t.watched, p)
		}
	}
	e := EndpointSample{Bucket: b}
	keep := t.watched[:0]
	for _, p := range t.watched {
		if p.inCluster && p.cl.ip.IsValid() {
			if p.cl.ready {
				e.Serving++
				if !p.cl.term {
					e.Ready++
				}
			}
			if p.cl.term {
				e.Terminating++
			}
		}
		if p.phase != phGone && p.deploy != nil {
			if p.rev == p.deploy.rev {
				e.New++
			} else {
				e.Old++
			}
		}
		if p.phase != phGone || p.inCluster {
			keep = append(keep, p)
		}
	}
	clear(t.watched[len(keep):])
	t.watched = keep
	if k := len(t.endpoints); k > 0 {
		last := t.endpoints[k-1]
		last.Bucket = b
		if last == e {
			return
		}
	}
	t.endpoints = append(t.endpoints, e)
}

// traceWatches reports whether a pod backs a Service that traffic goes
// to. A Deployment's pods are matched once, by its template's labels.
func (w *world) traceWatches(p *pod) bool {
	if p.client {
		return false
	}
	match := func() bool {
		for _, s := range w.watched {
			if s.key.Namespace == p.key.Namespace && s.slices && s.sel.Matches(p.labels) {
				return true
			}
		}
		return false
	}
	if p.deploy == nil || p.deploy.kind == kindStatefulSet {
		// A StatefulSet's pods differ in their labels (pod-name, pod-index).
		return match()
	}
	ok, seen := w.tr.deployOK[p.deploy]
	if !seen {
		ok = match()
		w.tr.deployOK[p.deploy] = ok
	}
	return ok
}

// traceSync notes a node's proxy applying a new table (from version old):
// how stale it was just before.
func (w *world) traceSync(n *node, old uint64) {
	t := &w.tr
	r, b := t.rowOf[n.idx], t.bucket(w.now())
	t.syncs[r][b]++
	if age, ok := w.oldestUnapplied(old, w.now()); ok {
		t.stale[r][b] = max(t.stale[r][b], age.Milliseconds())
	}
}

// traceNodeReady notes a node's Ready condition changing in the API.
func (w *world) traceNodeReady(n *node, ready bool) {
	t := &w.tr
	now := Duration(w.now())
	if !ready {
		if len(t.notReady) == TraceIntervals {
			t.nrDropped++
			return
		}
		t.notReady = append(t.notReady, NodeInterval{Node: n.name, Row: int(t.rowOf[n.idx]), Interval: Interval{From: now, To: -1}})
		t.openNR[n.idx] = int32(len(t.notReady))
		return
	}
	if i := t.openNR[n.idx]; i > 0 {
		t.notReady[i-1].To = now
		t.openNR[n.idx] = 0
	}
}

// traceControlPlane notes the control plane going down or coming back.
func (w *world) traceControlPlane(down bool) {
	t := &w.tr
	now := Duration(w.now())
	if down {
		t.cpDown = append(t.cpDown, Interval{From: now, To: -1})
	} else if k := len(t.cpDown); k > 0 && t.cpDown[k-1].To < 0 {
		t.cpDown[k-1].To = now
	}
}

// traceOutcome counts a flow's connection that started at start.
func (w *world) traceOutcome(f *flow, k outcome, start time.Duration) {
	t := &w.tr
	if f.idx >= len(t.flows) {
		return
	}
	if k != outServed {
		t.flows[f.idx][t.bucket(start)]++
	}
}

// traceRouted counts the outcome of a connection that started at start
// against the node that routed it (nil: none did) and its zone.
func (w *world) traceRouted(n *node, k outcome, start time.Duration) {
	if n == nil {
		return
	}
	t := &w.tr
	t.nodeOut[n.idx].add(k, 1)
	if k != outServed {
		t.zoneFailed[t.zoneOf[n.idx]][t.bucket(start)]++
	}
}

// traceBlame counts a refused or reset connection against its backend:
// the pod, or, when no pod has the address any more, the address.
func (w *world) traceBlame(p *pod, addr netip.Addr, k outcome) {
	t := &w.tr
	var b *PodBlame
	if p != nil {
		if b = t.podBlame[p]; b == nil {
			b = &PodBlame{Pod: p.key.String()}
			if p.node != nil {
				b.Node, b.Zone = p.node.name, p.node.zone
			}
			t.podBlame[p] = b
		}
	} else {
		if b = t.addrBlame[addr]; b == nil {
			b = &PodBlame{Pod: addr.String() + " (no pod)"}
			t.addrBlame[addr] = b
		}
	}
	if k == outRefused {
		b.Refused++
	} else {
		b.Reset++
	}
}

// trace assembles the Trace at the end of the run.
func (w *world) trace() *Trace {
	t := &w.tr
	out := &Trace{BucketWidth: Duration(t.width), Buckets: t.n, Endpoints: slices.Clone(t.endpoints),
		Nodes:    NodeTimeline{Rows: t.rows, Cells: []NodeCell{}},
		NotReady: slices.Clone(t.notReady), NotReadyDropped: t.nrDropped, ControlPlaneDown: slices.Clone(t.cpDown),
		Flows: []FlowTrace{}}
	for i, f := range w.flows {
		ft := FlowTrace{Name: f.name, Failed: []BucketCount{}}
		for b, n := range t.flows[i] {
			if n > 0 {
				ft.Failed = append(ft.Failed, BucketCount{Bucket: b, N: n})
			}
		}
		out.Flows = append(out.Flows, ft)
	}
	for r := range t.rows {
		for b := range t.n {
			if c := (NodeCell{Row: r, Bucket: b, StaleMillis: t.stale[r][b], Syncs: t.syncs[r][b], Down: t.down[r][b]}); c.StaleMillis+int64(c.Syncs)+int64(c.Down) > 0 {
				out.Nodes.Cells = append(out.Nodes.Cells, c)
			}
		}
	}
	end := Duration(w.now())
	for i := range out.NotReady {
		if out.NotReady[i].To < 0 {
			out.NotReady[i].To = end
		}
	}
	for i := range out.ControlPlaneDown {
		if out.ControlPlaneDown[i].To < 0 {
			out.ControlPlaneDown[i].To = end
		}
	}
	if out.NotReady == nil {
		out.NotReady = []NodeInterval{}
	}
	if out.ControlPlaneDown == nil {
		out.ControlPlaneDown = []Interval{}
	}
	pods := make([]PodBlame, 0, len(t.podBlame)+len(t.addrBlame))
	for _, b := range t.podBlame {
		pods = append(pods, *b)
	}
	for _, b := range t.addrBlame {
		pods = append(pods, *b)
	}
	// Every field decides, so that the order does not depend on the
	// maps': a StatefulSet's pods reuse their names.
	slices.SortFunc(pods, func(a, b PodBlame) int {
		return cmp.Or(cmp.Compare(b.Refused+b.Reset, a.Refused+a.Reset), cmp.Compare(a.Pod, b.Pod),
			cmp.Compare(a.Node, b.Node), cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.Refused, b.Refused))
	})
	out.FailedPods = pods[:min(len(pods), TraceTop)]
	for _, b := range pods[len(out.FailedPods):] {
		out.OtherPods.Refused += b.Refused
		out.OtherPods.Reset += b.Reset
	}
	var nodes []NodeBlame
	for zi, z := range t.zones {
		zo := ZoneOutcomes{Zone: z, Failed: []BucketCount{}}
		for b, n := range t.zoneFailed[zi] {
			if n > 0 {
				zo.Failed = append(zo.Failed, BucketCount{Bucket: b, N: n})
			}
		}
		out.Zones = append(out.Zones, zo)
	}
	for i, o := range t.nodeOut {
		n := w.nodes[i]
		out.Zones[t.zoneOf[i]].Connections.Add(o)
		if o.Failed() > 0 {
			nodes = append(nodes, NodeBlame{Node: n.name, Zone: n.zone, Connections: o})
		}
	}
	slices.SortStableFunc(nodes, func(a, b NodeBlame) int { return cmp.Compare(b.Connections.Failed(), a.Connections.Failed()) })
	out.FailedNodes = nodes[:min(len(nodes), TraceTop)]
	if out.FailedNodes == nil {
		out.FailedNodes = []NodeBlame{}
	}
	for _, b := range nodes[len(out.FailedNodes):] {
		out.OtherNodes.Connections.Add(b.Connections)
	}
	out.Zones = slices.DeleteFunc(out.Zones, func(z ZoneOutcomes) bool { return z.Connections.Total == 0 })
	if out.Zones == nil {
		out.Zones = []ZoneOutcomes{}
	}
	return out
}
