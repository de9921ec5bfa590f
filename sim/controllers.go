package sim

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/svcnet/svcnet/service"
)

// deploy is a workload: a Deployment and its ReplicaSets, driven by the
// Deployment and ReplicaSet controllers' logic; or a ReplicaSet given as
// input (one replicaSet, rsList[0]); or a StatefulSet (sts) or DaemonSet
// (ds), driven by theirs (workloads.go).
type deploy struct {
	idx int
	// kind is kindDeployment, kindReplicaSet, kindStatefulSet or
	// kindDaemonSet.
	kind     string
	key      service.NamespacedName
	obj      *Deployment
	replicas int32
	surge    int32
	unavail  int32
	recreate bool
	rev      int
	// rsList holds the ReplicaSets, oldest first; the last one of
	// revision rev is the new one.
	rsList  []*replicaSet
	pending bool
	prof    *profile
	spec    *service.PodSpec
	// sts and ds are a StatefulSet's and a DaemonSet's state; active
	// their pods not gone from the API (terminating ones too).
	sts    *stsCtl
	ds     *dsCtl
	active []*pod
}

// replicaSet is one revision of a Deployment's template.
type replicaSet struct {
	rev      int
	hash     string
	replicas int32
	// pods are its active pods: not deleted in the API.
	pods   []*pod
	labels service.Labels
}

// templateHash is the pod-template-hash of a revision: deterministic.
func templateHash(key service.NamespacedName, rev int) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", key, rev)
	const digits = "bcdfghjklmnpqrstvwxz2456789"
	v := h.Sum32()
	b := make([]byte, 0, 10)
	for range 10 {
		b = append(b, digits[v%uint32(len(digits))])
		v /= uint32(len(digits))
		if v == 0 {
			v = h.Sum32() + uint32(len(b))
		}
	}
	return string(b)
}

func (d *deploy) newRS() *replicaSet {
	if n := len(d.rsList); n > 0 && d.rsList[n-1].rev == d.rev {
		return d.rsList[n-1]
	}
	hash := templateHash(d.key, d.rev)
	labels := service.Labels{}
	for k, v := range d.obj.Spec.Template.Labels {
		labels[k] = v
	}
	labels["pod-template-hash"] = hash
	rs := &replicaSet{rev: d.rev, hash: hash, labels: labels}
	d.rsList = append(d.rsList, rs)
	return rs
}

// available reports whether a pod counts as available to its Deployment:
// ready in the API for minReadySeconds, and not deleted.
func (w *world) available(p *pod) bool {
	return p.api.ready && !p.api.term && w.now()-p.readySince >= p.prof.minReady
}

func (w *world) availableIn(rs *replicaSet) int32 {
	n := int32(0)
	for _, p := range rs.pods {
		if w.available(p) {
			n++
		}
	}
	return n
}

// reconcileSoon asks for a reconcile of d after the controller's watch
// latency, once however often it is asked.
func (w *world) reconcileSoon(d *deploy) {
	if d.pending {
		return
	}
	d.pending = true
	w.after(w.cfg.t.watch, evReconcile, uint32(d.idx), 0)
}

// reconcile is the Deployment controller (rolling update or recreate)
// followed by the ReplicaSet controller for each of its ReplicaSets.
func (w *world) reconcile(d *deploy) {
	d.pending = false
	if w.cpDown {
		if !slices.Contains(w.deferred, d) {
			w.deferred = append(w.deferred, d)
		}
		return
	}
	switch d.kind {
	case kindStatefulSet:
		w.stsReconcile(d)
		return
	case kindDaemonSet:
		w.dsReconcile(d)
		return
	case kindReplicaSet:
		w.syncRS(d, d.rsList[0])
		return
	}
	newRS := d.newRS()
	old := d.rsList[:len(d.rsList)-1]
	R := d.replicas
	if d.recreate {
		oldPods := 0
		for _, rs := range old {
			rs.replicas = 0
			oldPods += len(rs.pods)
		}
		// Recreate waits until every old pod is gone, terminating ones too.
		for _, p := range w.podsOf(d) {
			if p.rs != newRS {
				oldPods++
			}
		}
		if oldPods == 0 {
			newRS.replicas = R
		}
	} else {
		w.rollingUpdate(d, newRS, old)
	}
	for _, rs := range d.rsList {
		w.syncRS(d, rs)
	}
	// Drop the ReplicaSets with nothing left.
	d.rsList = slices.DeleteFunc(d.rsList, func(rs *replicaSet) bool {
		return rs != newRS && rs.replicas == 0 && len(rs.pods) == 0
	})
}

// podsOf returns the Deployment's pods that still exist (any state).
func (w *world) podsOf(d *deploy) []*pod {
	var out []*pod
	for _, n := range w.nodes {
		for _, p := range n.pods {
			if p.deploy == d {
				out = append(out, p)
			}
		}
	}
	return out
}

// rollingUpdate is the Deployment controller's rolloutRolling:
// reconcileNewReplicaSet, then reconcileOldReplicaSets with
// cleanupUnhealthyReplicas and scaleDownOldReplicaSetsForRollingUpdate.
func (w *world) rollingUpdate(d *deploy, newRS *replicaSet, old []*replicaSet) {
	R := d.replicas
	surge, unavail := d.surge, d.unavail
	all := int32(0)
	for _, rs := range d.rsList {
		all += rs.replicas
	}
	switch {
	case newRS.replicas > R:
		newRS.replicas = R
	case newRS.replicas < R:
		if len(old) == 0 {
			newRS.replicas = R
		} else if maxTotal := R + surge; all < maxTotal {
			newRS.replicas += min(maxTotal-all, R-newRS.replicas)
		}
	}
	oldCount := int32(0)
	for _, rs := range old {
		oldCount += rs.replicas
	}
	if oldCount == 0 {
		return
	}
	all = 0
	for _, rs := range d.rsList {
		all += rs.replicas
	}
	minAvailable := R - unavail
	newUnavailable := newRS.replicas - w.availableIn(newRS)
	maxScaledDown := all - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return
	}
	// cleanupUnhealthyReplicas: scale down old replicas that are not
	// available first; they do not count toward availability.
	cleaned := int32(0)
	for _, rs := range old {
		if cleaned >= maxScaledDown {
			break
		}
		avail := w.availableIn(rs)
		if rs.replicas <= avail {
			continue
		}
		n := min(maxScaledDown-cleaned, rs.replicas-avail)
		rs.replicas -= n
		cleaned += n
	}
	// scaleDownOldReplicaSetsForRollingUpdate.
	availAll := int32(0)
	for _, rs := range d.rsList {
		availAll += w.availableIn(rs)
	}
	if availAll <= minAvailable {
		return
	}
	total := availAll - minAvailable
	done := int32(0)
	for _, rs := range old {
		if done >= total {
			break
		}
		n := min(rs.replicas, total-done)
		rs.replicas -= n
		done += n
	}
}

// syncRS is the ReplicaSet controller: create or delete pods until the
// active ones match replicas. It deletes the least useful first, as
// ActivePodsWithRanks orders them: unscheduled, then not running, then
// not ready, then ready for the shortest time.
func (w *world) syncRS(d *deploy, rs *replicaSet) {
	diff := int(rs.replicas) - len(rs.pods)
	if diff > 0 {
		for range diff {
			w.createRSPod(d, rs)
		}
		return
	}
	if diff == 0 {
		return
	}
	rank := func(p *pod) int {
		switch {
		case p.node == nil:
			return 0
		case !p.api.running:
			return 1
		case !p.api.ready:
			return 2
		}
		return 3
	}
	victims := slices.Clone(rs.pods)
	slices.SortStableFunc(victims, func(a, b *pod) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		// Newer first.
		if a.readySince != b.readySince {
			if a.readySince > b.readySince {
				return -1
			}
			return 1
		}
		return int(b.id) - int(a.id)
	})
	for _, p := range victims[:-diff] {
		w.deletePod(p)
	}
}

func (w *world) createRSPod(d *deploy, rs *replicaSet) *pod {
	p := w.newPod(w.rsPodKey(d, rs), rs.labels, d.spec, d.prof)
	p.deploy, p.rs, p.rev = d, rs, rs.rev
	rs.pods = append(rs.pods, p)
	w.after(w.cfg.t.scheduling, evPodSchedule, p.id, 0)
	return p
}

// rollout starts a new revision of d's template.
func (w *world) rollout(d *deploy) {
	d.rev++
	w.reconcileSoon(d)
}

// scale sets d's replicas.
func (w *world) scale(d *deploy, replicas int32) error {
	d.replicas = replicas
	if d.kind == kindReplicaSet {
		d.rsList[0].replicas = replicas
	}
	if d.kind != kindDeployment {
		w.reconcileSoon(d)
		return nil
	}
	d.obj.Spec.Replicas = &replicas
	var err error
	if d.surge, d.unavail, err = d.obj.RollingBounds(); err != nil {
		return err
	}
	w.reconcileSoon(d)
	return nil
}

// profileOf reads how a template's application behaves.
func (w *world) profileOf(meta *service.ObjectMeta, spec *service.PodSpec, minReady int32) (*profile, error) {
	pr := &profile{appStart: w.cfg.t.appStart, grace: 30 * time.Second, minReady: time.Duration(minReady) * time.Second}
	if v, ok := meta.Annotations[AnnotationAppStart]; ok {
		d, err := ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("annotation %s: %q: want a non-negative duration", AnnotationAppStart, v)
		}
		pr.appStart = d.D()
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		pr.grace = time.Duration(*g) * time.Second
	}
	for _, c := range spec.Containers {
		if l := c.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
			pr.preStop = max(pr.preStop, time.Duration(l.PreStop.Sleep.Seconds)*time.Second)
		}
		if rp := c.ReadinessProbe; rp != nil && !pr.probe {
			pr.probe = true
			pr.initialDelay = time.Duration(rp.InitialDelaySeconds) * time.Second
			pr.period = 10 * time.Second
			if rp.PeriodSeconds > 0 {
				pr.period = time.Duration(rp.PeriodSeconds) * time.Second
			}
			pr.success, pr.failure = 1, 3
			if rp.SuccessThreshold > 0 {
				pr.success = int(rp.SuccessThreshold)
			}
			if rp.FailureThreshold > 0 {
				pr.failure = int(rp.FailureThreshold)
			}
		}
	}
	return pr, nil
}

// AnnotationAppStart on a pod template (or a pod) sets the time its
// application takes from container start to accepting connections,
// overriding Delays.AppStart: `sim.svcnet.dev/app-start: 5s`.
const AnnotationAppStart = "sim.svcnet.dev/app-start"

// actionRefusal says why an action does not apply to a workload kind,
// or "" when it does: a ReplicaSet does not roll out, a DaemonSet has no
// replica count.
func actionRefusal(action, kind string) string {
	switch {
	case action == ActionRollout && kind == kindReplicaSet:
		return "a ReplicaSet does not roll out (a template change leaves its pods as they are); roll out the Deployment that owns it"
	case action == ActionScale && kind == kindDaemonSet:
		return "a DaemonSet has no replica count: it runs one pod on each node that should run it"
	}
	return ""
}
