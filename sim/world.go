package sim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/service"
)

// epoch is the wall-clock instant virtual time 0 stands for: fixed, so
// that timestamps in the cluster are the same in every run.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// kind is the kind of a world event, kept in the top byte of its arg.
type kind uint8

const (
	evNodeSync kind = iota + 1
	evNodeMonitor
	evNodeEvict
	evFlush
	evDNSSync
	evPodSchedule
	evPodStart
	evPodAppUp
	evPodProbe
	evPodStop
	evPodGone
	evPodRestart
	evPodAvailable
	evReconcile
	evArrival
	evConnEnd
	evChurn
	evTimeline
	evUndo
	evCheck
	evRecover
	evPeriodic
	evCohort
)

var kindNames = [...]string{"", "node-sync", "node-monitor", "node-evict", "endpoints-flush", "dns-sync",
	"pod-schedule", "pod-start", "pod-app-up", "pod-probe", "pod-stop", "pod-gone", "pod-restart",
	"pod-available", "deployment-reconcile", "connection", "connection-end", "churn", "timeline", "fault-end",
	"check", "control-plane-recover", "periodic-sync", "cohort"}

// arg packs an event: its kind, an id (node, pod, connection, flow...)
// and a 24-bit generation that lets a newer schedule cancel an older one.
func arg(k kind, id uint32, gen uint32) uint64 {
	return uint64(k)<<56 | uint64(id)<<24 | uint64(gen&0xFFFFFF)
}

func unpack(a uint64) (kind, uint32, uint32) {
	return kind(a >> 56), uint32(a >> 24), uint32(a & 0xFFFFFF)
}

// record is one event in the history ring.
type record struct {
	n   uint64
	at  time.Duration
	arg uint64
}

// world is one run: the engine, the cluster and everything the simulator
// models around it. It is the engine's only Handler.
type world struct {
	cfg   *config
	eng   *Engine
	c     *svcnet.Cluster
	clock func() time.Time

	// Random streams, one per component, all drawn from the seed.
	rCluster, rSched, rTraffic, rChurn, rNodes *rand.Rand
	// rNames draws the generated pods' name suffixes; drawn last from
	// the seed, so that it leaves the other streams as they were.
	rNames *rand.Rand

	nodes      []*node
	nodeByName map[string]*node
	// apiReady lists the nodes Ready in the API (the scheduler's and
	// NodePort clients' choice); alive those actually running (a cloud
	// load balancer's health check).
	apiReady nodeSet
	alive    nodeSet
	// idle lists the connected, running kube-proxies that have applied
	// the newest table and wait for a change, in the order they went
	// idle; idleHead is its first live entry, periodicGen the generation
	// of the one pending periodic-sync event.
	idle        []idleEntry
	idleHead    int
	periodicGen uint32

	pods     []*pod
	podByKey map[service.NamespacedName]*pod
	podByIP  map[netip.Addr]*pod
	// unscheduled pods wait for a node.
	unscheduled []*pod

	// deploys are the workloads of every kind, in creation order;
	// deployByKey the Deployments, workloadByKey all of them by kind.
	deploys       []*deploy
	deployByKey   map[service.NamespacedName]*deploy
	workloadByKey map[objectKey]*deploy

	svcs    map[service.NamespacedName]*svcInfo
	svcList []*svcInfo // in creation order, for deterministic walks
	// watched are the Services that traffic goes to, in flow order.
	watched []*svcInfo
	// ipOwner and portOwner hold the ClusterIPs and NodePorts of the
	// Services, checked as each is created.
	ipOwner   map[string]service.NamespacedName
	portOwner map[int32]service.NamespacedName

	flows []*flow
	conns []conn
	free  []uint32

	ep  pipeline
	dns dnsState
	pub publisher

	cpDown     bool
	cpSnapshot []byte
	// deferred are the reconciles asked for while the control plane was down.
	deferred []*deploy

	m metrics
	// tr records the run's Trace.
	tr tracer
	// ring holds the last events run, for a violation's report; ringPos
	// is where the next goes.
	ring    []record
	ringPos int
	// stopped is the violation that stopped the run.
	stopped *Violation
	// ev is the event log (RunOptions.Events), nil without one.
	ev *eventLog
	// dp is RunOptions.DataPlane (nil: none).
	dp func(DataPlaneEvent)
	// lastFull is the event number of the last EveryEvents check.
	lastFull uint64
	// hook, when set (by tests), is told of each workload pod a
	// controller creates ("create", once its fields are set) and of each
	// pod deleted in the API ("delete", once it is terminating or gone).
	hook func(what string, p *pod)

	// byNode runs node syncs one engine event each (worldOptions);
	// otherwise cohorts holds the cohorts of node syncs (openCohort the
	// one that may still take more, -1 none; freeCohorts those to reuse).
	byNode bool
	// lazy: node syncs only move node.applied; the Cluster is told when
	// read (materialize), dirty listing the nodes behind. Set for a run
	// in cohorts without a DataPlane.
	lazy    bool
	dirty   []*node
	cohorts []cohort
	// sink keeps runCohort's loads from being dropped.
	sink        uint64
	freeCohorts []uint32
	openCohort  int
}

func (w *world) now() time.Duration { return w.eng.Now() }

// Handle runs one event.
func (w *world) Handle(e *Engine, a uint64) {
	k, id, gen := unpack(a)
	if k == evCohort {
		w.runCohort(e, id)
		return
	}
	w.record(e, a)
	switch k {
	case evNodeSync:
		w.nodeSync(w.nodes[id], gen)
	case evNodeMonitor:
		w.nodeMonitor(w.nodes[id], gen)
	case evNodeEvict:
		w.nodeEvict(w.nodes[id], gen)
	case evFlush:
		w.flush()
	case evDNSSync:
		w.dnsSync()
	case evPodSchedule:
		w.podSchedule(w.pods[id])
	case evPodStart:
		w.podStart(w.pods[id], gen)
	case evPodAppUp:
		w.podAppUp(w.pods[id], gen)
	case evPodProbe:
		w.podProbe(w.pods[id], gen)
	case evPodStop:
		w.podStop(w.pods[id], gen)
	case evPodGone:
		w.podGoneEvent(w.pods[id], gen)
	case evPodRestart:
		w.podRestart(w.pods[id], gen)
	case evPodAvailable:
		if p := w.pods[id]; p.epoch&0xFFFFFF == gen && p.deploy != nil {
			w.reconcileSoon(p.deploy)
		}
	case evReconcile:
		w.reconcile(w.deploys[id])
	case evArrival:
		w.arrival(w.flows[id])
	case evConnEnd:
		w.connEnd(id, gen)
	case evChurn:
		w.churn(int(id))
	case evTimeline:
		w.timeline(int(id), false)
	case evUndo:
		w.timeline(int(id), true)
	case evCheck:
		w.periodicCheck()
	case evRecover:
		w.recoverControlPlane()
	case evPeriodic:
		w.periodicSync(gen)
	}
	w.everyEvents(e)
}

// everyEvents runs the full check every Checks.EveryEvents events.
func (w *world) everyEvents(e *Engine) {
	if n := w.cfg.s.Checks.EveryEvents; n > 0 && w.stopped == nil && e.Events()%uint64(n) == 0 && w.lastFull != e.Events() {
		w.lastFull = e.Events()
		w.fullCheck()
	}
}

// record notes event a in the history ring, and ticks the trace.
func (w *world) record(e *Engine, a uint64) {
	if len(w.ring) > 0 {
		w.ring[w.ringPos] = record{n: e.Events(), at: e.Now(), arg: a}
		w.ringPos = (w.ringPos + 1) % len(w.ring)
	}
	if now := e.Now(); now >= w.tr.next {
		w.traceTick(now)
	}
}

func (w *world) at(t time.Duration, k kind, id, gen uint32) {
	w.eng.Schedule(t, w, arg(k, id, gen))
}

func (w *world) after(d time.Duration, k kind, id, gen uint32) {
	w.eng.Schedule(w.now()+d, w, arg(k, id, gen))
}

// describe formats a history record for a violation report.
func (w *world) describe(r record) string {
	k, id, gen := unpack(r.arg)
	name := "?"
	if int(k) < len(kindNames) {
		name = kindNames[k]
	}
	what := ""
	switch k {
	case evNodeSync, evNodeMonitor, evNodeEvict:
		if int(id) < len(w.nodes) {
			what = w.nodes[id].name
		}
	case evPodSchedule, evPodStart, evPodAppUp, evPodProbe, evPodStop, evPodGone, evPodRestart, evPodAvailable:
		if int(id) < len(w.pods) {
			what = w.pods[id].key.String()
		}
	case evReconcile:
		d := w.deploys[id]
		what = d.key.String()
		if d.kind != kindDeployment {
			what = strings.ToLower(d.kind) + "/" + what
		}
	case evArrival:
		what = w.flows[id].name
	case evConnEnd:
		what = fmt.Sprintf("connection %d", id)
	case evTimeline, evUndo:
		e := w.cfg.s.Timeline[id]
		what = e.Action + " " + e.Target
	case evChurn:
		what = w.cfg.s.Churn[id].Action
	}
	_ = gen
	return fmt.Sprintf("#%d t=%v %s %s", r.n, r.at, name, what)
}

// lastEvents returns the history ring, oldest first.
func (w *world) lastEvents() []string {
	var out []string
	for i := range len(w.ring) {
		r := w.ring[(w.ringPos+i)%len(w.ring)]
		if r.arg == 0 {
			continue
		}
		out = append(out, w.describe(r))
	}
	return out
}

// violate stops the run with a broken invariant.
func (w *world) violate(invariant, format string, args ...any) {
	if w.stopped != nil {
		return
	}
	w.stopped = &Violation{
		Invariant:  invariant,
		Message:    fmt.Sprintf(format, args...),
		Seed:       w.cfg.s.Seed,
		Event:      w.eng.Events(),
		At:         Duration(w.now()),
		LastEvents: w.lastEvents(),
	}
	w.eng.Stop(fmt.Errorf("%w: %s: %s", ErrViolation, invariant, w.stopped.Message))
}

// nodeSet is a set of nodes with O(1) add, remove and random choice; its
// order depends only on the sequence of calls. names are the nodes' names
// in the same order (the list a load balancer goes round).
type nodeSet struct {
	list  []*node
	names []string
	pos   map[*node]int
}

func (s *nodeSet) add(n *node) {
	if s.pos == nil {
		s.pos = map[*node]int{}
	}
	if _, ok := s.pos[n]; ok {
		return
	}
	s.pos[n] = len(s.list)
	s.list = append(s.list, n)
	s.names = append(s.names, n.name)
}

func (s *nodeSet) remove(n *node) {
	i, ok := s.pos[n]
	if !ok {
		return
	}
	k := len(s.list) - 1
	last := s.list[k]
	s.list[i], s.names[i] = last, last.name
	s.pos[last] = i
	s.list[k] = nil
	s.list, s.names = s.list[:k], s.names[:k]
	delete(s.pos, n)
}
