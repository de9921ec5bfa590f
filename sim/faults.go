package sim

import (
	"slices"
	"time"

	"github.com/svcnet/svcnet/service"
)

// churn runs one random change of a ChurnSpec and schedules the next.
func (w *world) churn(i int) {
	c := w.cfg.s.Churn[i]
	now := w.now()
	next := now + time.Duration(w.rChurn.ExpFloat64()/c.Rate*1e9)
	if c.Stop == 0 || next < c.Stop.D() {
		w.at(next, evChurn, uint32(i), 0)
	}
	if w.cpDown && c.Action != ActionCrashPod {
		return // nobody can write to the API
	}
	w.emit(Event{Kind: EventFault, Action: c.Action, Target: c.Target})
	var d *deploy
	if c.Target != "" {
		d, _ = w.workloadRef(c.Target) // checked before the run
	}
	switch c.Action {
	case ActionRollout:
		if d == nil {
			// Any workload that rolls out: not a ReplicaSet.
			cands := w.deploys
			if slices.ContainsFunc(cands, func(d *deploy) bool { return d.kind == kindReplicaSet }) {
				cands = slices.DeleteFunc(slices.Clone(cands), func(d *deploy) bool { return d.kind == kindReplicaSet })
			}
			if len(cands) > 0 {
				d = cands[w.rChurn.IntN(len(cands))]
			}
		}
		if d != nil {
			w.rollout(d)
		}
	case ActionCrashPod:
		if p := w.randomPod(d); p != nil {
			w.containerDown(p, true)
		}
	default:
		if p := w.randomPod(d); p != nil {
			w.deletePod(p)
		}
	}
}

// randomPod returns a random running, undeleted pod of d, or of any
// Deployment when d is nil.
func (w *world) randomPod(d *deploy) *pod {
	ok := func(p *pod) bool {
		return p != nil && p.phase == phRunning && !p.api.term && p.deploy != nil && (d == nil || p.deploy == d)
	}
	if d != nil {
		var cands []*pod
		for _, rs := range d.rsList {
			for _, p := range rs.pods {
				if ok(p) {
					cands = append(cands, p)
				}
			}
		}
		for _, p := range d.active {
			if ok(p) {
				cands = append(cands, p)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		return cands[w.rChurn.IntN(len(cands))]
	}
	for range 64 {
		if p := w.pods[w.rChurn.IntN(len(w.pods))]; ok(p) {
			return p
		}
	}
	return nil
}

// timeline runs a TimelineEvent, or undoes it when its For has passed.
func (w *world) timeline(i int, undo bool) {
	e := w.cfg.s.Timeline[i]
	if undo {
		w.emit(Event{Kind: EventFaultEnd, Action: e.Action, Target: e.Target})
		switch e.Action {
		case ActionKillNode:
			w.restartNode(w.nodeByName[e.Target])
		case ActionCutNode:
			w.healNode(w.nodeByName[e.Target])
		case ActionZoneDown:
			w.zone(e.Target, false)
		}
		return
	}
	w.emit(Event{Kind: EventFault, Action: e.Action, Target: e.Target})
	if e.For != nil && e.Action != ActionCrashControlPlane {
		w.after(e.For.D(), evUndo, uint32(i), 0)
	}
	if w.cpDown {
		switch e.Action {
		case ActionRollout, ActionScale, ActionDeletePod, ActionDeleteService, ActionCreateService, ActionDeleteNode, ActionAddNode:
			return // nobody can write to the API
		}
	}
	switch e.Action {
	case ActionRollout:
		d, _ := w.workloadRef(e.Target) // checked before the run
		w.rollout(d)
	case ActionScale:
		d, _ := w.workloadRef(e.Target)
		if err := w.scale(d, *e.Replicas); err != nil {
			w.violate("scenario", "timeline[%d]: %v", i, err)
		}
	case ActionDeletePod, ActionCrashPod:
		crash := e.Action == ActionCrashPod
		act := func(p *pod) {
			if crash {
				w.containerDown(p, true)
			} else {
				w.deletePod(p)
			}
		}
		if d, err := w.workloadRef(e.Target); err == nil {
			for range max(e.Count, 1) {
				if p := w.randomPod(d); p != nil {
					act(p)
				}
			}
		} else if p := w.podByKey[splitKey(e.Target)]; p != nil {
			act(p)
		}
	case ActionKillNode:
		w.killNode(w.nodeByName[e.Target])
	case ActionRestartNode:
		w.restartNode(w.nodeByName[e.Target])
	case ActionCutNode:
		w.cutNode(w.nodeByName[e.Target])
	case ActionHealNode:
		w.healNode(w.nodeByName[e.Target])
	case ActionZoneDown:
		w.zone(e.Target, true)
	case ActionZoneUp:
		w.zone(e.Target, false)
	case ActionDeleteNode:
		w.deleteNode(w.nodeByName[e.Target])
	case ActionAddNode:
		w.addNodeBack(w.nodeByName[e.Target])
	case ActionCrashControlPlane:
		w.crashControlPlane(or(e.For, 30*time.Second))
	case ActionDeleteService:
		w.deleteService(splitKey(e.Target))
	case ActionCreateService:
		w.recreateService(splitKey(e.Target))
	}
}

func (w *world) zone(z string, down bool) {
	for _, n := range w.nodes {
		if n.zone == z {
			if down {
				w.killNode(n)
			} else {
				w.restartNode(n)
			}
		}
	}
}

// crashControlPlane stops the API server and the controllers for d. The
// store survives (the snapshot taken now); kubelets and kube-proxies keep
// running on what they have.
func (w *world) crashControlPlane(d time.Duration) {
	if w.cpDown {
		return
	}
	w.materializeAll()
	snap, err := w.c.Snapshot()
	if err != nil {
		w.violate("control-plane-restore", "snapshot: %v", err)
		return
	}
	w.cpDown = true
	w.traceControlPlane(true)
	w.emit(Event{Kind: EventControlPlaneDown})
	w.cpSnapshot = snap
	w.after(d, evRecover, 0, 0)
}

// recoverControlPlane restores the control plane from its snapshot, runs
// the repair loops (which must find nothing to repair), and lets the
// writes that waited through.
func (w *world) recoverControlPlane() {
	if !w.cpDown {
		return
	}
	// The nodes down or cut off do not see the restart: they go back to
	// the generation they had.
	w.materializeAll()
	had := make([]uint64, len(w.nodes))
	for i, n := range w.nodes {
		had[i], _ = w.c.NodeGeneration(n.name)
	}
	if err := w.c.Restore(w.cpSnapshot); err != nil {
		w.violate("control-plane-restore", "restore: %v", err)
		return
	}
	rep, err := w.c.Repair()
	if err != nil || !rep.Clean() {
		w.violate("allocators-match-services", "repair after restore: %+v %v", rep, err)
		return
	}
	w.cpDown = false
	w.traceControlPlane(false)
	w.emit(Event{Kind: EventControlPlaneUp})
	w.cpSnapshot = nil
	w.m.restores++
	now := w.now()
	// Restore built every proxy afresh and synced it to a new generation,
	// the history's only one. Nodes that are down or cut off keep the
	// view they had.
	g := w.c.Generation()
	w.pub.latest = g
	w.pub.count = versionCount{}
	w.pub.tracked = 0
	w.pub.minV = g
	for _, s := range w.pub.pending {
		w.m.endpointLatency = append(w.m.endpointLatency, now-s.t0)
	}
	w.pub.pending = w.pub.pending[:0]
	clear(w.pub.svcVersion)
	for _, s := range w.dns.samples {
		w.m.dnsLatency = append(w.m.dnsLatency, now-s)
	}
	w.dns.samples = w.dns.samples[:0]
	w.dns.since = -1
	w.clearIdle()
	for i, n := range w.nodes {
		n.tracked = false
		n.inIdle = false
		if n.removed {
			// Out of the API; the Cluster may hold it from the snapshot.
			g, _ := w.c.NodeGeneration(n.name)
			n.setApplied(g)
			continue
		}
		if n.alive && n.connected {
			n.setApplied(g)
			w.dpSync(n, g)
			w.track(n, g)
			n.lastSync = now
			w.stopNodeTimer(n)
			w.goIdle(n)
		} else if err := w.c.SyncNodeTo(n.name, had[i]); err != nil {
			w.violate("control-plane-restore", "node %s: back to generation %d: %v", n.name, had[i], err)
			return
		} else {
			n.setApplied(had[i])
		}
		if !(n.alive && n.connected) {
			// The node lifecycle controller starts a fresh grace period.
			w.armMonitor(n)
		} else if !n.apiReady {
			w.setNodeReady(n, true)
		}
	}
	w.flush()
	for _, d := range w.deploys {
		w.reconcileSoon(d)
	}
	w.deferred = w.deferred[:0]
	w.retryUnscheduled()
}

// deleteService deletes a Service in the API.
func (w *world) deleteService(key service.NamespacedName) {
	s := w.svcs[key]
	if s == nil || s.deleted || w.cpDown {
		return
	}
	before := w.c.Generation()
	if _, err := w.c.DeleteService(key); err != nil {
		w.violate("cluster-accepts", "delete service %s: %v", key, err)
		return
	}
	s.deleted = true
	w.forgetAllocations(s)
	w.serviceChanged(key, before)
}

// recreateService creates a deleted Service again from its original spec.
func (w *world) recreateService(key service.NamespacedName) {
	s := w.svcs[key]
	if s == nil || !s.deleted || w.cpDown {
		return
	}
	before := w.c.Generation()
	in := s.spec.DeepCopy()
	if err := w.createService(in); err != nil {
		w.violate("cluster-accepts", "create service %s: %v", key, err)
		return
	}
	w.serviceChanged(key, before)
}

// serviceChanged records the samples of a Service change and publishes.
func (w *world) serviceChanged(key service.NamespacedName, before uint64) {
	now := w.now()
	if v := w.c.Generation(); v != before {
		w.pub.pending = append(w.pub.pending, sample{version: v, t0: now})
		w.dataPlane(DataPlaneEvent{Kind: DataPlaneChange, Generation: v, Since: now})
	}
	w.dns.samples = append(w.dns.samples, now)
	w.publishIfChanged([]service.NamespacedName{key})
	w.dnsChanged()
}
