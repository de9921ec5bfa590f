package sim

import (
	"net/netip"
	"slices"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/service"
)

// podPhase is where a pod is in the kubelet's hands.
type podPhase uint8

const (
	// phPending: created, not bound to a node.
	phPending podPhase = iota
	// phBound: bound; its container is not running (starting, crashed
	// and backing off, or its node is down).
	phBound
	// phRunning: its container runs.
	phRunning
	// phGone: deleted from the API.
	phGone
)

// apiState is what the API holds of a pod's status: where it runs, its
// address, and its conditions.
type apiState struct {
	node    *node
	ip      netip.Addr
	running bool
	ready   bool
	term    bool
}

// profile is how a pod's application behaves, from its template.
type profile struct {
	appStart, preStop, grace time.Duration
	probe                    bool
	initialDelay, period     time.Duration
	success, failure         int
	minReady                 time.Duration
}

// pod is one pod: the kubelet's truth next to what the API and the
// cluster hold.
type pod struct {
	id     uint32
	key    service.NamespacedName
	labels service.Labels
	spec   *service.PodSpec
	prof   *profile
	deploy *deploy
	rs     *replicaSet
	// rev is the revision of its workload's template it was made from;
	// ord its StatefulSet ordinal; dsNode the node its DaemonSet made it
	// for.
	rev     int
	ord     int32
	dsNode  *node
	client  bool
	node    *node
	nodePos int
	ip      netip.Addr

	phase      podPhase
	appUp      bool
	ready      bool
	okStreak   int
	failStreak int
	epoch      uint32
	crashes    int
	// terminating: the kubelet runs the pod's shutdown.
	terminating bool
	// dirty: a status change the kubelet could not write (cut off).
	dirty bool
	// sandboxLost: its node crashed, so the kubelet must start it again
	// with a new sandbox and address; unstarted: bound while its node
	// could not start it.
	sandboxLost, unstarted bool

	api apiState
	// inCluster and cl mirror what the Cluster holds, for the checks.
	inCluster bool
	cl        apiState

	created, readySince, deletedAt time.Duration
	conns                          []uint32
	// flush bookkeeping
	mark   uint64
	lastOp int
	firstT time.Duration
}

func (p *pod) gen() uint32 { return p.epoch & 0xFFFFFF }

// podObject builds the API object of a pod in state st.
func (w *world) podObject(p *pod, st apiState) *service.Pod {
	o := &service.Pod{
		ObjectMeta: service.ObjectMeta{Name: p.key.Name, Namespace: p.key.Namespace, Labels: p.labels,
			CreationTimestamp: epoch.Add(p.created)},
		Spec: *p.spec,
	}
	if st.node != nil {
		o.Spec.NodeName = st.node.name
	}
	if st.ip.IsValid() {
		s := st.ip.String()
		o.Status.PodIP = s
		o.Status.PodIPs = []service.PodIP{{IP: s}}
	}
	o.Status.Phase = service.PodPending
	if st.running {
		o.Status.Phase = service.PodRunning
	}
	o.SetReady(st.ready)
	if st.term {
		ts := epoch.Add(p.deletedAt)
		o.DeletionTimestamp = &ts
		g := int64(p.prof.grace / time.Second)
		o.DeletionGracePeriodSeconds = &g
	}
	return o
}

// newPod creates a pod object in the simulator (not yet in the API's
// downstream): the caller schedules it.
func (w *world) newPod(key service.NamespacedName, labels service.Labels, spec *service.PodSpec, prof *profile) *pod {
	p := &pod{id: uint32(len(w.pods)), key: key, labels: labels, spec: spec, prof: prof, created: w.now()}
	w.pods = append(w.pods, p)
	w.podByKey[key] = p
	w.m.podsCreated++
	for _, f := range w.flows {
		if f.clientSel != nil && f.ns == key.Namespace && f.clientSel.Matches(labels) {
			f.clients = append(f.clients, p)
		}
	}
	return p
}

// writePod writes a pod's status to the API; the endpoints controller
// and everything downstream see it after the watch latency.
func (w *world) writePod(p *pod, st apiState) {
	readyChanged := st.ready != p.api.ready || st.term != p.api.term
	p.api = st
	w.podEvent(p, st)
	w.enqueue(op{p: p, st: st})
	if readyChanged && p.deploy != nil {
		w.reconcileSoon(p.deploy)
		if st.ready && p.prof.minReady > 0 {
			w.after(p.prof.minReady, evPodAvailable, p.id, p.gen())
		}
	}
}

// kubeletWrite reports the kubelet's view of a pod, if its node can
// reach the API.
func (w *world) kubeletWrite(p *pod) {
	if !p.node.connected {
		p.dirty = true
		return
	}
	p.dirty = false
	st := p.api
	st.node, st.ip, st.running, st.ready = p.node, p.ip, p.phase == phRunning, p.ready
	if st != p.api {
		w.writePod(p, st)
	}
}

// ---- scheduling ----

func (w *world) podSchedule(p *pod) {
	if p.phase != phPending || p.node != nil {
		return
	}
	if w.cpDown {
		w.unscheduled = append(w.unscheduled, p)
		return
	}
	var n *node
	if p.dsNode != nil {
		n = w.daemonNode(p)
	} else {
		n = w.pickNode(p)
	}
	if n == nil {
		w.unscheduled = append(w.unscheduled, p)
		return
	}
	w.bind(p, n)
	if n.alive && n.connected {
		w.after(w.cfg.t.containerStart, evPodStart, p.id, p.gen())
	} else {
		p.unstarted = true
	}
}

// retryUnscheduled schedules the pods waiting for a node again.
func (w *world) retryUnscheduled() {
	if len(w.unscheduled) == 0 || w.cpDown {
		return
	}
	for _, p := range w.unscheduled {
		w.after(w.cfg.t.scheduling, evPodSchedule, p.id, 0)
	}
	w.unscheduled = w.unscheduled[:0]
}

// pickNode places a pod as a scheduler spreading by pod count would, in
// O(1): the less loaded of two random feasible Ready nodes (the power of
// two choices), falling back to a scan when random draws find none.
func (w *world) pickNode(p *pod) *node {
	list := w.apiReady.list
	if len(list) == 0 {
		return nil
	}
	fits := func(n *node) bool {
		if len(n.pods) >= w.cfg.maxPods || n.obj.Spec.Unschedulable {
			return false
		}
		for k, v := range p.spec.NodeSelector {
			if n.obj.Labels[k] != v {
				return false
			}
		}
		return true
	}
	var best *node
	found := 0
	for range 8 {
		n := list[w.rSched.IntN(len(list))]
		if !fits(n) {
			continue
		}
		if best == nil || len(n.pods) < len(best.pods) {
			best = n
		}
		if found++; found == 2 {
			return best
		}
	}
	if best != nil {
		return best
	}
	start := w.rSched.IntN(len(list))
	for i := range list {
		if n := list[(start+i)%len(list)]; fits(n) {
			return n
		}
	}
	return nil
}

// daemonNode is the node a DaemonSet pod is pinned to, when the
// scheduler can bind it there: the node is in the API, Ready (a
// NotReady node has the not-ready NoSchedule taint, which DaemonSet pods
// do not tolerate) and has room. spec.unschedulable is tolerated.
func (w *world) daemonNode(p *pod) *node {
	n := p.dsNode
	if n.removed || !n.apiReady || len(n.pods) >= w.cfg.maxPods {
		return nil
	}
	return n
}

func (w *world) bind(p *pod, n *node) {
	p.node = n
	p.nodePos = len(n.pods)
	n.pods = append(n.pods, p)
	p.phase = phBound
	p.api.node = n
}

func (w *world) unbind(p *pod) {
	n := p.node
	if n == nil {
		return
	}
	last := n.pods[len(n.pods)-1]
	n.pods[p.nodePos] = last
	last.nodePos = p.nodePos
	n.pods = n.pods[:len(n.pods)-1]
}

// ---- the container ----

func (w *world) podStart(p *pod, gen uint32) {
	if gen != p.gen() || p.phase != phBound || !p.node.alive {
		return
	}
	if !p.ip.IsValid() {
		ip, ok := p.node.allocIP()
		if !ok {
			w.violate("pod-ip", "node %s has no free pod address for %s", p.node.name, p.key)
			return
		}
		p.ip = ip
		w.podByIP[ip] = p
	}
	p.phase = phRunning
	p.okStreak, p.failStreak = 0, 0
	w.dpPod(DataPlanePodStart, p)
	if p.prof.appStart == 0 {
		p.appUp = true
		w.dpPod(DataPlaneAppUp, p)
	} else {
		w.after(p.prof.appStart, evPodAppUp, p.id, p.gen())
	}
	if !p.prof.probe {
		// Without a readiness probe a started container is ready.
		p.ready = true
		p.readySince = w.now()
	} else {
		w.after(p.prof.initialDelay, evPodProbe, p.id, p.gen())
	}
	w.kubeletWrite(p)
}

func (w *world) podAppUp(p *pod, gen uint32) {
	if gen == p.gen() && p.phase == phRunning {
		p.appUp = true
		w.dpPod(DataPlaneAppUp, p)
	}
}

// podProbe is one readiness probe; probes run until the pod is ready
// (a ready pod only turns unready by crashing, which the kubelet sees at
// once, so later probes would change nothing).
func (w *world) podProbe(p *pod, gen uint32) {
	if gen != p.gen() || p.phase != phRunning {
		return
	}
	if p.appUp {
		p.okStreak++
		p.failStreak = 0
		if !p.ready && p.okStreak >= p.prof.success {
			p.ready = true
			p.readySince = w.now()
			w.kubeletWrite(p)
		}
	} else {
		p.failStreak++
		p.okStreak = 0
		if p.ready && p.failStreak >= p.prof.failure {
			p.ready = false
			w.kubeletWrite(p)
		}
	}
	if !p.ready {
		w.after(p.prof.period, evPodProbe, p.id, p.gen())
	}
}

// containerDown stops a pod's container: its open connections are reset
// and the pod counts as churn for the Services it backs. A crash restarts
// it after the back-off; a node crash leaves it for the node's restart.
func (w *world) containerDown(p *pod, crash bool) {
	if !crash {
		p.sandboxLost = true
	}
	if p.phase == phBound {
		if !crash {
			p.epoch++ // a start or restart under way does not happen
		}
		return
	}
	if p.phase != phRunning {
		return
	}
	if p.appUp {
		w.churnOf(p)
		w.dataPlane(DataPlaneEvent{Kind: DataPlaneAppDown, Pod: p.key})
	}
	p.appUp = false
	p.phase = phBound
	p.epoch++
	p.ready = false
	for len(p.conns) > 0 {
		w.closeConn(p.conns[len(p.conns)-1], outReset)
	}
	if !crash {
		return
	}
	if p.terminating {
		w.podGone(p)
		return
	}
	p.crashes++
	backoff := w.cfg.t.backoff << min(p.crashes-1, 16)
	backoff = min(backoff, 5*time.Minute)
	w.kubeletWrite(p)
	w.after(backoff, evPodRestart, p.id, p.gen())
}

func (w *world) podRestart(p *pod, gen uint32) {
	if gen != p.gen() || p.phase != phBound || !p.node.alive {
		return
	}
	w.podStart(p, gen)
}

// ---- deletion ----

// deletePod deletes a pod in the API (a controller, an eviction or a
// user): it turns terminating, and the kubelet shuts it down.
func (w *world) deletePod(p *pod) {
	if p.api.term || p.phase == phGone {
		return
	}
	p.deletedAt = w.now()
	if rs := p.rs; rs != nil {
		if i := slices.Index(rs.pods, p); i >= 0 {
			rs.pods = slices.Delete(rs.pods, i, i+1)
		}
	}
	if p.phase == phPending {
		if i := slices.Index(w.unscheduled, p); i >= 0 {
			w.unscheduled = slices.Delete(w.unscheduled, i, i+1)
		}
		w.podGone(p)
	} else {
		st := p.api
		st.term = true
		w.writePod(p, st)
		if p.node.alive && p.node.connected {
			w.beginTermination(p, w.cfg.t.watch)
		}
	}
	if w.hook != nil {
		w.hook("delete", p)
	}
}

// beginTermination runs the kubelet's shutdown of a deleted pod after
// delay: the preStop sleep (the app keeps serving), then SIGTERM, on
// which the app exits, all within the grace period.
func (w *world) beginTermination(p *pod, delay time.Duration) {
	if p.terminating {
		return
	}
	p.terminating = true
	p.epoch++
	if p.phase != phRunning {
		w.after(delay, evPodGone, p.id, p.gen())
		return
	}
	w.after(delay+min(p.prof.preStop, p.prof.grace), evPodStop, p.id, p.gen())
}

// podStop is SIGTERM: the application exits; its connections reset.
func (w *world) podStop(p *pod, gen uint32) {
	if gen != p.gen() || p.phase != phRunning {
		return
	}
	if p.appUp {
		w.churnOf(p)
		w.dataPlane(DataPlaneEvent{Kind: DataPlaneAppDown, Pod: p.key})
	}
	p.appUp = false
	p.phase = phBound
	for len(p.conns) > 0 {
		w.closeConn(p.conns[len(p.conns)-1], outReset)
	}
	if p.node.connected {
		w.podGone(p)
	} else {
		p.dirty = true
	}
}

func (w *world) podGoneEvent(p *pod, gen uint32) {
	if gen == p.gen() {
		w.podGone(p)
	}
}

// podGone removes a pod from the API for good.
func (w *world) podGone(p *pod) {
	if p.phase == phGone {
		return
	}
	for len(p.conns) > 0 {
		w.closeConn(p.conns[len(p.conns)-1], outReset)
	}
	if p.appUp {
		w.dataPlane(DataPlaneEvent{Kind: DataPlaneAppDown, Pod: p.key})
	}
	w.dataPlane(DataPlaneEvent{Kind: DataPlanePodGone, Pod: p.key, PodAddr: p.ip})
	p.phase = phGone
	p.appUp = false
	p.epoch++
	if p.node != nil {
		w.unbind(p)
		p.node.releaseIP(p.ip)
	}
	if p.ip.IsValid() && w.podByIP[p.ip] == p {
		delete(w.podByIP, p.ip)
	}
	if w.podByKey[p.key] == p {
		delete(w.podByKey, p.key)
	}
	if rs := p.rs; rs != nil {
		if i := slices.Index(rs.pods, p); i >= 0 {
			rs.pods = slices.Delete(rs.pods, i, i+1)
		}
	}
	for _, f := range w.flows {
		if f.clientSel != nil {
			if i := slices.Index(f.clients, p); i >= 0 {
				f.clients = slices.Delete(f.clients, i, i+1)
			}
		}
	}
	if p.deploy != nil {
		p.deploy.forgetOwned(p)
	}
	w.m.podsDeleted++
	w.emit(Event{Kind: EventPodDeleted, Pod: p.key.String()})
	w.enqueue(op{p: p, del: true})
	if p.deploy != nil {
		w.reconcileSoon(p.deploy)
	}
	w.retryUnscheduled()
}

// kubeletResync is the kubelet of a node that is back (booted, or
// reconnected): it finishes pods deleted meanwhile, restarts containers
// a reboot stopped, and reports statuses it could not write.
func (w *world) kubeletResync(p *pod) {
	if p.phase == phGone {
		return
	}
	n := p.node
	if p.api.term {
		if p.phase == phRunning && !p.terminating {
			w.beginTermination(p, 0)
		} else if p.phase != phRunning {
			w.podGone(p)
		}
		return
	}
	if p.phase == phBound && (p.sandboxLost || p.unstarted) {
		// A rebooted node gives the pod a new sandbox and address.
		if p.sandboxLost && p.ip.IsValid() {
			if w.podByIP[p.ip] == p {
				delete(w.podByIP, p.ip)
			}
			n.releaseIP(p.ip)
			p.ip = netip.Addr{}
		}
		p.sandboxLost, p.unstarted = false, false
		p.epoch++
		w.after(w.cfg.t.containerStart, evPodStart, p.id, p.gen())
		return
	}
	w.kubeletWrite(p)
}

// ---- the endpoints pipeline ----

// op is one pod write on its way from the API to the endpoints
// controller (and so to the proxies and the DNS).
type op struct {
	p   *pod
	st  apiState
	del bool
	t0  time.Duration
	due time.Duration
}

// pipeline holds the pod writes not yet applied to the cluster.
type pipeline struct {
	ops       []op
	scheduled bool
	flushes   uint64
}

func (w *world) enqueue(o op) {
	now := w.now()
	o.t0 = now
	o.due = now + w.cfg.t.watch
	w.ep.ops = append(w.ep.ops, o)
	if !w.ep.scheduled {
		w.ep.scheduled = true
		w.at(o.due+w.cfg.t.batch, evFlush, 0, 0)
	}
}

// flush applies the pod writes that have reached the endpoints
// controller, all of them at once when batching, each pod's last write
// only (a controller reads its cache, not the history), and publishes
// the new table.
func (w *world) flush() {
	w.ep.scheduled = false
	if w.cpDown {
		return
	}
	now := w.now()
	ops := w.ep.ops
	n := 0
	for n < len(ops) && ops[n].due <= now {
		n++
	}
	w.ep.flushes++
	mark := w.ep.flushes
	for i := range ops[:n] {
		p := ops[i].p
		if p.mark != mark {
			p.mark = mark
			p.firstT = ops[i].t0
		}
		p.lastOp = i
	}
	var (
		writes  []svcnet.PodWrite
		applied []op
	)
	for i, o := range ops[:n] {
		p := o.p
		if p.lastOp != i {
			continue
		}
		o.t0 = p.firstT
		switch {
		case o.del && !p.inCluster, !o.del && !p.inCluster && !o.st.ip.IsValid():
			// Never written downstream, or not yet worth writing (no IP).
			continue
		case o.del:
			writes = append(writes, svcnet.PodWrite{Delete: p.key})
		default:
			writes = append(writes, svcnet.PodWrite{Pod: w.podObject(p, o.st), Owned: true})
		}
		applied = append(applied, o)
	}
	var touched []service.NamespacedName
	if len(writes) > 0 {
		before := w.c.Generation()
		chs, err := w.c.ApplyPodWrites(writes)
		if err != nil {
			w.violate(InvClusterAccepts, "pod writes: %v", err)
			return
		}
		v := w.c.Generation()
		for i, o := range applied {
			w.m.skippedPods += int64(len(chs[i].SkippedPods))
			p := o.p
			if o.del {
				p.inCluster, p.cl = false, apiState{}
			} else {
				p.inCluster, p.cl = true, o.st
			}
			if len(chs[i].Slices) == 0 {
				continue
			}
			for _, sc := range chs[i].Slices {
				touched = append(touched, sc.Service)
			}
			if v != before {
				w.pub.pending = append(w.pub.pending, sample{version: v, t0: o.t0})
				w.dataPlane(DataPlaneEvent{Kind: DataPlaneChange, Generation: v, Since: o.t0})
			}
			w.dns.samples = append(w.dns.samples, o.t0)
		}
	}
	rest := copy(ops, ops[n:])
	clear(ops[rest:])
	w.ep.ops = ops[:rest]
	w.publishIfChanged(touched)
	w.dnsChanged()
	if rest > 0 {
		w.ep.scheduled = true
		w.at(w.ep.ops[0].due+w.cfg.t.batch, evFlush, 0, 0)
	}
}

// ---- DNS ----

// dnsState is CoreDNS following the API: it applies changes a watch
// latency after they reach the API's downstream.
type dnsState struct {
	scheduled bool
	// since is when the oldest change not yet applied arrived (-1: none).
	since   time.Duration
	samples []time.Duration
}

func (w *world) dnsChanged() {
	if w.c.DNSPending() == 0 {
		return
	}
	if w.dns.since < 0 {
		w.dns.since = w.now()
	}
	if !w.dns.scheduled {
		w.dns.scheduled = true
		w.after(w.cfg.t.watch, evDNSSync, 0, 0)
	}
}

func (w *world) dnsSync() {
	w.dns.scheduled = false
	if w.dp != nil {
		if k := w.c.Kubelet(); len(k.ClusterDNS) > 0 {
			w.dataPlane(DataPlaneEvent{Kind: DataPlaneDNS, DNS: w.c.DNS(), DNSAddr: k.ClusterDNS[0]})
		}
	}
	if err := w.c.SyncDNS(); err != nil {
		w.violate("cluster-accepts", "dns: %v", err)
		return
	}
	w.m.dnsSyncs++
	w.emit(Event{Kind: EventDNSSync})
	now := w.now()
	for _, t0 := range w.dns.samples {
		w.m.dnsLatency = append(w.m.dnsLatency, now-t0)
	}
	w.dns.samples = w.dns.samples[:0]
	w.dns.since = -1
}

// rsPodKey names a new pod of a replica set as the ReplicaSet
// controller and the API server do: generateName "<rs name>-" and five
// random characters of the alphabet apimachinery's rand.String draws
// from (consonants and digits that spell no word,
// k8s.io/apimachinery/pkg/util/rand), here from the run's seed, drawn
// again when the name is taken (one more character every 64 tries, so
// the loop ends however full the names are).
func (w *world) rsPodKey(d *deploy, rs *replicaSet) service.NamespacedName {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 0, 8)
	for try := 0; ; try++ {
		b = b[:0]
		for range 5 + try/64 {
			b = append(b, alphabet[w.rNames.IntN(len(alphabet))])
		}
		key := service.NamespacedName{Namespace: d.key.Namespace, Name: d.key.Name + "-" + rs.hash + "-" + string(b)}
		if rs.hash == "" {
			key.Name = d.key.Name + "-" + string(b) // a ReplicaSet given as input
		}
		if _, taken := w.podByKey[key]; !taken {
			return key
		}
	}
}
