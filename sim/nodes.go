package sim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/svcnet/svcnet/service"
)

// node is one node: the kubelet's and kube-proxy's state as the
// simulator models them, next to the API object.
type node struct {
	// The fields a sync reads come first, together, in as few cache
	// lines as they fit: 65 000 nodes' syncs touch little else
	// (runCohort loads them ahead).

	// kube-proxy (the Cluster's proxy of this node, synced with
	// SyncNodeTo): w is this node's watch latency, lastSync its last
	// sync, timerAt and timerGen its one pending sync (-1: none).
	timerGen uint32
	// alive: the machine runs; connected: it reaches the control plane.
	alive, connected bool
	inIdle           bool
	// tracked: counted by the programming-latency tracker at version.
	tracked bool
	// dirty: listed in world.dirty (see applied).
	dirty    bool
	w        time.Duration
	lastSync time.Duration
	timerAt  time.Duration
	idleAt   time.Duration
	version  uint64
	// applied is the generation this node's kube-proxy has applied;
	// pushed what the Cluster has been told (SwapNodeGeneration). In a
	// lazy run (world.lazy) the two differ until the Cluster is read
	// (materialize).
	applied, pushed uint64
	idx             int

	name, zone string
	addr       netip.Addr
	obj        *service.Node
	podNet     netip.Prefix
	// free holds the host numbers of the pod range not in use, oldest
	// release first, so that an address is reused as late as possible
	// (a stale proxy may still send to it).
	free []byte
	pods []*pod

	// apiReady is the node's Ready condition in the API.
	apiReady bool
	// epoch counts the node's faults and recoveries; monitors and
	// evictions armed under an older epoch do nothing.
	epoch uint32

	// conns are the open connections that entered by this node (the
	// client's own node, or the node an external client reached); they
	// die with it.
	conns []uint32
	// upSince is when the node last came back (running and connected).
	upSince time.Duration
	// removed: deleted from the API (deleteNode), until added again.
	removed bool
	// taints are spec.taints, parsed when first needed.
	taints []taint
}

// newNodeObject builds the API object of a generated node.
func nodeObject(name, zone string, addr netip.Addr) *service.Node {
	return &service.Node{
		TypeMeta:   service.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: service.ObjectMeta{Name: name, Labels: service.Labels{service.LabelTopologyZone: zone, "kubernetes.io/hostname": name}},
		Status: service.NodeStatus{
			Addresses:  []service.NodeAddress{{Type: service.NodeInternalIP, Address: addr.String()}},
			Conditions: []service.NodeCondition{{Type: service.NodeReady, Status: service.ConditionTrue}},
		},
	}
}

// setNodeReady writes the node's Ready condition to the API.
func (w *world) setNodeReady(n *node, ready bool) {
	if n.apiReady == ready {
		return
	}
	n.apiReady = ready
	w.traceNodeReady(n, ready)
	obj := n.obj.DeepCopy()
	status := service.ConditionFalse
	if ready {
		status = service.ConditionTrue
	}
	found := false
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == service.NodeReady {
			obj.Status.Conditions[i].Status = status
			found = true
		}
	}
	if !found {
		obj.Status.Conditions = append(obj.Status.Conditions, service.NodeCondition{Type: service.NodeReady, Status: status})
	}
	n.obj = obj
	kind := EventNodeNotReady
	if ready {
		kind = EventNodeReady
	}
	w.emit(Event{Kind: kind, Node: n.name})
	w.dataPlane(DataPlaneEvent{Kind: DataPlaneNodeReady, Node: n.name, Ready: ready})
	w.materialize(n)
	if _, err := w.c.AddNode(obj); err != nil {
		w.violate("cluster-accepts", "node %s: %v", n.name, err)
		return
	}
	w.publishIfChanged(nil)
	if ready {
		w.apiReady.add(n)
		w.retryUnscheduled()
	} else {
		w.apiReady.remove(n)
	}
	w.daemonSetsChanged()
}

// allocIP gives a pod an address of its node's range.
func (n *node) allocIP() (netip.Addr, bool) {
	if len(n.free) == 0 {
		return netip.Addr{}, false
	}
	h := n.free[0]
	n.free = n.free[1:]
	b := n.podNet.Addr().As4()
	b[3] = h
	return netip.AddrFrom4(b), true
}

func (n *node) releaseIP(a netip.Addr) {
	if a.IsValid() && n.podNet.Contains(a) {
		if len(n.free) == cap(n.free) {
			n.free = append(make([]byte, 0, 256), n.free...)
		}
		n.free = append(n.free, a.As4()[3])
	}
}

// ---- kube-proxy ----

// sample is a change waiting to be programmed everywhere: the table
// version that carries it and when it happened in the API.
type sample struct {
	version uint64
	t0      time.Duration
}

// publisher follows the table generations the Cluster publishes (it keeps
// the recent ones, Config.TableRetention: a node sees the newest one
// published at least its watch latency ago, GenerationAt) and tracks
// which generation every connected node has applied, to time endpoint
// programming.
type publisher struct {
	// latest is the newest generation seen published.
	latest uint64
	// count counts the tracked nodes at each version; minV is the least
	// version a tracked node has.
	count   versionCount
	tracked int
	minV    uint64
	pending []sample
	// svcVersion is the table version at which each Service's
	// frontends or endpoints last changed (for the stateless data plane).
	svcVersion map[service.NamespacedName]uint64
}

// visible returns the generation that was the newest at simulated time
// t (or the oldest kept), and whether one was published by then. The
// history is short (a few watch latencies), and the answer is nearly
// always one of its last entries.
func (w *world) visible(t time.Duration) (uint64, bool) { return w.c.GenerationAt(epoch.Add(t)) }

// versionCount counts nodes per table version, for versions in a window
// that moves up: a slice from base rather than a map, since the versions
// nodes are at are few and close together.
type versionCount struct {
	base uint64
	n    []int32
}

func (c *versionCount) get(v uint64) int32 {
	if v < c.base || v-c.base >= uint64(len(c.n)) {
		return 0
	}
	return c.n[v-c.base]
}

func (c *versionCount) add(v uint64, d int32) {
	if len(c.n) == 0 {
		c.base = v
	}
	if v < c.base {
		c.n = append(make([]int32, c.base-v), c.n...)
		c.base = v
	}
	for v-c.base >= uint64(len(c.n)) {
		c.n = append(c.n, 0)
	}
	c.n[v-c.base] += d
	// Drop the zeros below the least counted version.
	i := 0
	for i < len(c.n) && c.n[i] == 0 {
		i++
	}
	if i > 0 && i > len(c.n)/2 {
		k := copy(c.n, c.n[i:])
		c.n = c.n[:k]
		c.base += uint64(i)
	}
}

// publish notes a new generation (the Cluster keeps the history and
// drops what no node can still see) and wakes the idle kube-proxies.
func (w *world) publish() {
	g := w.c.Generation()
	p := &w.pub
	now := w.now()
	if g == p.latest {
		return
	}
	w.m.tableVersions++
	w.emit(Event{Kind: EventTable, Generation: g})
	p.latest = g
	for _, e := range w.idle[w.idleHead:] {
		if n := e.n; n.inIdle && n.idleAt == e.at {
			n.inIdle = false
			if n.alive && n.connected {
				w.nodeTimer(n, max(now+n.w, n.lastSync+w.cfg.t.minSync))
			}
		}
	}
	w.clearIdle()
	if p.tracked == 0 {
		p.advance(w)
	}
}

// publishIfChanged publishes when the control plane's table changed.
func (w *world) publishIfChanged(svcs []service.NamespacedName) {
	v := w.c.Generation()
	for _, k := range svcs {
		w.pub.svcVersion[k] = v
	}
	if v != w.pub.latest {
		w.publish()
	}
}

// nodeTimer makes sure the node's kube-proxy syncs at t at the latest.
func (w *world) nodeTimer(n *node, t time.Duration) {
	if n.timerAt >= 0 && n.timerAt <= t {
		return
	}
	n.timerGen++
	n.timerAt = t
	a := arg(evNodeSync, uint32(n.idx), n.timerGen)
	if w.byNode {
		w.eng.Schedule(t, w, a)
		return
	}
	w.cohortAdd(max(t, w.now()), a)
}

func (w *world) stopNodeTimer(n *node) {
	n.timerGen++
	n.timerAt = -1
}

// nodeSync is one kube-proxy sync: apply the newest table this node can
// see; then sync again when a newer one becomes visible (no sooner than
// minSyncPeriod), or after syncPeriod.
func (w *world) nodeSync(n *node, gen uint32) {
	if gen != n.timerGen&0xFFFFFF {
		return
	}
	n.timerAt = -1
	if !n.alive || !n.connected {
		return
	}
	now := w.now()
	vis, _ := w.visible(now - n.w)
	old := n.applied
	var err error
	if w.lazy && n.w > 0 {
		// The Cluster hears of it when it is read (materialize): a
		// table is O(1) per node, not a lookup and a proxy sync each.
		// With a watch latency vis was published before now, so the
		// Cluster keeps it while this node can have it (it releases
		// at once only a generation superseded at the instant it was
		// published, and the others after TableRetention).
		n.applied = vis
		if vis != n.pushed && !n.dirty {
			n.dirty = true
			w.dirty = append(w.dirty, n)
		}
	} else if old, err = w.c.SwapNodeGeneration(n.name, vis); err == nil {
		n.applied, n.pushed = vis, vis
	}
	if err != nil {
		w.violate(InvClusterAccepts, "node %s: sync to generation %d: %v", n.name, vis, err)
		return
	}
	if vis != old {
		w.traceSync(n, old)
		w.m.nodeSyncs++
		w.emit(Event{Kind: EventSync, Node: n.name, Generation: vis})
		w.dpSync(n, vis)
		if w.cfg.stateless {
			w.rehash(n, old)
		}
	}
	w.track(n, vis)
	n.lastSync = now
	if _, at, ok := w.c.NextGeneration(vis); ok {
		w.nodeTimer(n, max(at.Sub(epoch)+n.w, now+w.cfg.t.minSync))
	} else {
		w.goIdle(n)
	}
}

// materialize tells the Cluster the generation node n has applied,
// before anything reads n's proxy from it; false when the Cluster
// refused it (a violation then).
func (w *world) materialize(n *node) bool {
	if n.applied == n.pushed {
		return true
	}
	if _, err := w.c.SwapNodeGeneration(n.name, n.applied); err != nil {
		w.violate(InvClusterAccepts, "node %s: sync to generation %d: %v", n.name, n.applied, err)
		return false
	}
	n.pushed = n.applied
	return true
}

// materializeAll materializes every node a lazy run has left behind.
func (w *world) materializeAll() {
	for i, n := range w.dirty {
		n.dirty = false
		w.dirty[i] = nil
		w.materialize(n)
	}
	w.dirty = w.dirty[:0]
}

// setApplied notes that the Cluster put node n at generation g itself.
func (n *node) setApplied(g uint64) { n.applied, n.pushed = g, g }

// idleEntry is a kube-proxy that went idle at a time.
type idleEntry struct {
	n  *node
	at time.Duration
}

// goIdle puts a node that has applied the newest table among the idle:
// the next publish wakes it, or its periodic sync (syncPeriod) comes
// first. The idle are kept in the order they went idle, so one event
// serves every periodic sync instead of one timer per node.
func (w *world) goIdle(n *node) {
	now := w.now()
	n.inIdle = true
	n.idleAt = now
	if w.idleHead == len(w.idle) {
		w.clearIdle()
		w.after(w.cfg.t.syncPeriod, evPeriodic, 0, w.periodicGen)
	}
	w.idle = append(w.idle, idleEntry{n: n, at: now})
}

func (w *world) clearIdle() {
	clear(w.idle)
	w.idle = w.idle[:0]
	w.idleHead = 0
	w.periodicGen++
}

// periodicSync is kube-proxy's syncPeriod for the nodes idle that long:
// a sync that finds the newest table already applied, so it only
// restarts their period.
func (w *world) periodicSync(gen uint32) {
	if gen != w.periodicGen&0xFFFFFF {
		return
	}
	now := w.now()
	due := now - w.cfg.t.syncPeriod
	for w.idleHead < len(w.idle) && w.idle[w.idleHead].at <= due {
		e := w.idle[w.idleHead]
		w.idle[w.idleHead] = idleEntry{}
		w.idleHead++
		if n := e.n; n.inIdle && n.idleAt == e.at && n.alive && n.connected {
			n.lastSync = now
			n.idleAt = now
			w.idle = append(w.idle, idleEntry{n: n, at: now})
		}
	}
	if w.idleHead > len(w.idle)/2 {
		k := copy(w.idle, w.idle[w.idleHead:])
		clear(w.idle[k:])
		w.idle = w.idle[:k]
		w.idleHead = 0
	}
	if w.idleHead < len(w.idle) {
		w.periodicGen++
		w.at(w.idle[w.idleHead].at+w.cfg.t.syncPeriod, evPeriodic, 0, w.periodicGen)
	}
}

// track moves a node's programmed version in the latency tracker.
func (w *world) track(n *node, v uint64) {
	p := &w.pub
	if n.tracked {
		if n.version == v {
			return
		}
		p.count.add(n.version, -1)
	} else {
		n.tracked = true
		p.tracked++
		if v < p.minV {
			p.minV = v
		}
	}
	n.version = v
	p.count.add(v, 1)
	p.advance(w)
}

// untrack takes a node out of the tracker (down or cut off).
func (w *world) untrack(n *node) {
	if !n.tracked {
		return
	}
	p := &w.pub
	n.tracked = false
	p.tracked--
	p.count.add(n.version, -1)
	p.advance(w)
}

// advance moves minV to the least version a tracked node has, and
// completes the samples every tracked node has programmed.
func (p *publisher) advance(w *world) {
	latest := p.latest
	if p.tracked == 0 {
		p.minV = latest
	} else {
		for p.minV < latest && p.count.get(p.minV) == 0 {
			p.minV++
		}
	}
	now := w.now()
	n := 0
	for n < len(p.pending) && p.pending[n].version <= p.minV {
		w.m.endpointLatency = append(w.m.endpointLatency, now-p.pending[n].t0)
		n++
	}
	if n > 0 {
		p.pending = slices.Delete(p.pending, 0, n)
	}
}

// ---- node faults ----

// killNode crashes a node: its containers stop at once, its kube-proxy
// and kubelet with them.
func (w *world) killNode(n *node) {
	if !n.alive {
		return
	}
	n.alive = false
	w.materialize(n)
	w.dataPlane(DataPlaneEvent{Kind: DataPlaneNodeDown, Node: n.name})
	n.epoch++
	n.inIdle = false
	w.tr.markDown(n, w.tr.bucket(w.now()))
	w.alive.remove(n)
	w.stopNodeTimer(n)
	w.untrack(n)
	for _, id := range slices.Clone(n.conns) {
		w.closeConn(id, outReset)
	}
	for _, p := range slices.Clone(n.pods) {
		w.containerDown(p, false)
	}
	if n.connected {
		w.armMonitor(n)
	}
}

// restartNode boots a killed node (not one deleted from the API: only
// addNode brings that back): kube-proxy syncs, the kubelet reports
// Ready, finishes the pods deleted meanwhile and restarts the others.
func (w *world) restartNode(n *node) {
	if n.removed || n.alive {
		return
	}
	n.alive = true
	w.dataPlane(DataPlaneEvent{Kind: DataPlaneNodeUp, Node: n.name})
	n.epoch++
	w.alive.add(n)
	if n.connected {
		w.nodeBack(n)
	}
}

// cutNode cuts a node off from the control plane: its proxy view
// freezes; its pods keep running.
func (w *world) cutNode(n *node) {
	if n.removed || !n.connected {
		return
	}
	n.connected = false
	w.materialize(n)
	n.epoch++
	n.inIdle = false
	w.tr.markDown(n, w.tr.bucket(w.now()))
	w.stopNodeTimer(n)
	w.untrack(n)
	if n.alive {
		w.armMonitor(n)
	}
}

// healNode reconnects a node.
func (w *world) healNode(n *node) {
	if n.removed || n.connected {
		return
	}
	n.connected = true
	n.epoch++
	if n.alive {
		w.nodeBack(n)
	}
}

// nodeBack runs when a node is both alive and connected again.
func (w *world) nodeBack(n *node) {
	n.upSince = w.now()
	w.nodeTimer(n, w.now())
	if !w.cpDown {
		w.setNodeReady(n, true)
	}
	for _, p := range slices.Clone(n.pods) {
		w.kubeletResync(p)
	}
}

// armMonitor starts the node-monitor grace period of a silent node.
func (w *world) armMonitor(n *node) {
	w.after(w.cfg.t.nodeGrace, evNodeMonitor, uint32(n.idx), n.epoch)
}

// nodeMonitor is the node lifecycle controller noticing a silent node:
// NotReady, its pods not ready, and eviction armed.
func (w *world) nodeMonitor(n *node, epoch uint32) {
	if epoch != n.epoch&0xFFFFFF || (n.alive && n.connected) || w.cpDown || n.removed {
		return
	}
	w.setNodeReady(n, false)
	for _, p := range n.pods {
		if p.api.ready {
			st := p.api
			st.ready = false
			w.writePod(p, st)
		}
	}
	w.after(w.cfg.t.eviction, evNodeEvict, uint32(n.idx), n.epoch)
}

// nodeEvict evicts the pods of a node NotReady for the toleration, but
// for DaemonSet pods: they tolerate the not-ready and unreachable
// NoExecute taints without a time limit (daemonTolerations).
func (w *world) nodeEvict(n *node, epoch uint32) {
	if epoch != n.epoch&0xFFFFFF || (n.alive && n.connected) || w.cpDown || n.removed {
		return
	}
	for _, p := range slices.Clone(n.pods) {
		if p.dsNode == nil {
			w.deletePod(p)
		}
	}
}

// deleteNode deletes a node from the API (a scale-in, or kubectl delete
// node): the machine stops, the pod garbage collector (gcOrphaned)
// force-deletes the pods bound to it, and its DaemonSet pods are not
// made again. addNodeBack undoes it.
func (w *world) deleteNode(n *node) {
	if n.removed || w.cpDown {
		return
	}
	w.killNode(n)
	n.removed = true
	n.epoch++
	for _, p := range slices.Clone(n.pods) {
		p.deletedAt = w.now()
		w.podGone(p)
	}
	if n.apiReady {
		w.dataPlane(DataPlaneEvent{Kind: DataPlaneNodeReady, Node: n.name, Ready: false})
	}
	w.apiReady.remove(n)
	n.apiReady = false
	if _, err := w.c.RemoveNode(n.name); err != nil {
		w.violate(InvClusterAccepts, "remove node %s: %v", n.name, err)
		return
	}
	// Added again, it starts from the empty table.
	n.setApplied(0)
	w.emit(Event{Kind: EventNodeNotReady, Node: n.name})
	w.publishIfChanged(nil)
	w.daemonSetsChanged()
}

// addNodeBack adds a deleted node again, as a new machine joining:
// booted, connected, Ready, with no pods.
func (w *world) addNodeBack(n *node) {
	if !n.removed || w.cpDown {
		return
	}
	n.removed = false
	n.alive, n.connected = true, true
	n.epoch++
	w.alive.add(n)
	w.nodeBack(n)
}
