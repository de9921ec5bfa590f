package sim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/service"
)

// The workload kinds a scenario runs: Deployments, ReplicaSets given as
// input, StatefulSets and DaemonSets. One deploy value drives each,
// whatever its kind; reconcile dispatches on the kind.
const (
	kindStatefulSet = "StatefulSet"
	kindDaemonSet   = "DaemonSet"
	kindReplicaSet  = "ReplicaSet"
)

// workloadKinds lists the kinds in the order a reference tries them, and
// the words a reference may name each by (kubectl's names, short names
// and plurals, with or without the ".apps" group).
var workloadKinds = []struct {
	kind  string
	words []string
}{
	{kindDeployment, []string{"deployment", "deployments", "deploy"}},
	{kindStatefulSet, []string{"statefulset", "statefulsets", "sts"}},
	{kindDaemonSet, []string{"daemonset", "daemonsets", "ds"}},
	{kindReplicaSet, []string{"replicaset", "replicasets", "rs"}},
}

// kindOfWord returns the kind a reference's first part names, or "".
func kindOfWord(w string) string {
	w = strings.TrimSuffix(strings.ToLower(w), ".apps")
	for _, k := range workloadKinds {
		if slices.Contains(k.words, w) {
			return k.kind
		}
	}
	return ""
}

// WorkloadRef is a parsed reference to a workload, as timeline and churn
// targets name one: "name" (namespace default), "namespace/name",
// "kind/name" or "kind/namespace/name", kind being one of kubectl's
// names for Deployment, StatefulSet, DaemonSet or ReplicaSet
// ("statefulset", "sts", "statefulset.apps", ...). A first part of two
// that names a kind is read as the kind, so a workload in a namespace
// called like a kind is written with its kind: deployment/sts/web.
type WorkloadRef struct {
	// Kind is "" when the reference does not say it.
	Kind string
	Key  service.NamespacedName
}

// ParseWorkloadRef parses a workload reference; it fails on a first
// part of three that names no kind, and on empty parts.
func ParseWorkloadRef(s string) (WorkloadRef, error) {
	parts := strings.Split(s, "/")
	for _, p := range parts {
		if p == "" {
			return WorkloadRef{}, fmt.Errorf("%q: want name, namespace/name, kind/name or kind/namespace/name", s)
		}
	}
	switch len(parts) {
	case 1:
		return WorkloadRef{Key: service.NamespacedName{Namespace: "default", Name: s}}, nil
	case 2:
		if k := kindOfWord(parts[0]); k != "" {
			return WorkloadRef{Kind: k, Key: service.NamespacedName{Namespace: "default", Name: parts[1]}}, nil
		}
		return WorkloadRef{Key: service.NamespacedName{Namespace: parts[0], Name: parts[1]}}, nil
	case 3:
		k := kindOfWord(parts[0])
		if k == "" {
			return WorkloadRef{}, fmt.Errorf("%q: %q is not a workload kind (deployment, statefulset, daemonset, replicaset)", s, parts[0])
		}
		return WorkloadRef{Kind: k, Key: service.NamespacedName{Namespace: parts[1], Name: parts[2]}}, nil
	}
	return WorkloadRef{}, fmt.Errorf("%q: want name, namespace/name, kind/name or kind/namespace/name", s)
}

// resolveWorkload finds what ref names among the workloads has holds
// (kind and key): exactly one, or an error saying that none has it or
// that several kinds share the name and how to choose.
func resolveWorkload(ref string, has func(kind string, key service.NamespacedName) bool) (string, service.NamespacedName, error) {
	r, err := ParseWorkloadRef(ref)
	if err != nil {
		return "", r.Key, err
	}
	if r.Kind != "" {
		if !has(r.Kind, r.Key) {
			return "", r.Key, fmt.Errorf("no such %s in the scenario", r.Kind)
		}
		return r.Kind, r.Key, nil
	}
	var found []string
	for _, k := range workloadKinds {
		if has(k.kind, r.Key) {
			found = append(found, k.kind)
		}
	}
	switch len(found) {
	case 0:
		return "", r.Key, fmt.Errorf("no such workload (Deployment, StatefulSet, DaemonSet or ReplicaSet) in the scenario")
	case 1:
		return found[0], r.Key, nil
	}
	return "", r.Key, fmt.Errorf("ambiguous: a %s share the name; write %s/%s", strings.Join(found, " and a "), strings.ToLower(found[0]), ref)
}

// stsCtl is a StatefulSet's controller state.
type stsCtl struct {
	obj      *StatefulSet
	start    int32
	parallel bool
	onDelete bool
	// partition is the first ordinal index the rolling update replaces.
	partition int32
	// svc is the governing Service's name: every pod's subdomain.
	svc string
	// cur is status.currentRevision (upd is the deploy's rev).
	cur int
	// byOrd holds each ordinal's pod until it is gone from the API
	// (terminating ones too: the name is taken until then).
	byOrd map[int32]*pod
}

// dsCtl is a DaemonSet's controller state.
type dsCtl struct {
	obj *DaemonSet
	// surge: the spec allows surge (util.AllowsSurge); onDelete: the
	// OnDelete strategy.
	surge, onDelete bool
	tolerations     []toleration
	selector        map[string]string
	affinity        nodeAffinity
}

// taint and toleration are core/v1's, for the DaemonSet's node choice.
type taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

type toleration struct {
	Key      string `json:"key,omitempty"`
	Operator string `json:"operator,omitempty"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect,omitempty"`
}

// tolerates is ToleratesTaint (k8s.io/api/core/v1 toleration.go): the
// effect empty or equal, the key empty (with Exists) or equal, and with
// Equal (the default) the value equal.
func (t toleration) tolerates(x taint) bool {
	if t.Effect != "" && t.Effect != x.Effect {
		return false
	}
	if t.Key != "" && t.Key != x.Key {
		return false
	}
	switch t.Operator {
	case "Exists":
		return true
	case "", "Equal":
		return t.Value == x.Value
	}
	return false
}

// The taint effects and the node taints DaemonSet pods tolerate.
const (
	effectNoSchedule = "NoSchedule"
	effectNoExecute  = "NoExecute"
	taintNotReady    = "node.kubernetes.io/not-ready"
)

// daemonTolerations are what util.AddOrUpdateDaemonPodTolerations
// (pkg/controller/daemon/util) adds to every DaemonSet pod.
func daemonTolerations(hostNetwork bool) []toleration {
	t := []toleration{
		{Key: taintNotReady, Operator: "Exists", Effect: effectNoExecute},
		{Key: "node.kubernetes.io/unreachable", Operator: "Exists", Effect: effectNoExecute},
		{Key: "node.kubernetes.io/disk-pressure", Operator: "Exists", Effect: effectNoSchedule},
		{Key: "node.kubernetes.io/memory-pressure", Operator: "Exists", Effect: effectNoSchedule},
		{Key: "node.kubernetes.io/pid-pressure", Operator: "Exists", Effect: effectNoSchedule},
		{Key: "node.kubernetes.io/unschedulable", Operator: "Exists", Effect: effectNoSchedule},
	}
	if hostNetwork {
		t = append(t, toleration{Key: "node.kubernetes.io/network-unavailable", Operator: "Exists", Effect: effectNoSchedule})
	}
	return t
}

// nodeTaints returns a node's taints as the API has them: its own, and
// the not-ready NoSchedule and NoExecute taints the node lifecycle
// controller adds while it is NotReady (TaintNodesByCondition and
// taint-based eviction).
func (n *node) nodeTaints() []taint {
	if n.taints == nil {
		n.taints = []taint{}
		if len(n.obj.Spec.Taints) > 0 {
			// Validated on decode; a bad list reads as none.
			_ = json.Unmarshal(n.obj.Spec.Taints, &n.taints)
		}
	}
	if n.apiReady {
		return n.taints
	}
	return append(slices.Clip(n.taints), taint{Key: taintNotReady, Effect: effectNoSchedule}, taint{Key: taintNotReady, Effect: effectNoExecute})
}

// shouldRun is NodeShouldRunDaemonPod: whether the node should run the
// DaemonSet's pod (a new one may be created there) and whether a pod
// there may keep running. A node not in the API runs none; one whose
// labels the nodeSelector or the required node affinity does not match
// neither; an untolerated
// NoSchedule taint stops new pods, an untolerated NoExecute taint every
// pod. spec.unschedulable is tolerated, as DaemonSet pods tolerate
// node.kubernetes.io/unschedulable.
func (c *dsCtl) shouldRun(n *node) (run, keep bool) {
	if n.removed {
		return false, false
	}
	for k, v := range c.selector {
		if got, ok := n.obj.Labels[k]; !ok || got != v {
			return false, false
		}
	}
	if !c.affinity.matches(n.obj.Labels, n.name) {
		return false, false
	}
	run, keep = true, true
	for _, x := range n.nodeTaints() {
		if x.Effect != effectNoSchedule && x.Effect != effectNoExecute {
			continue
		}
		if slices.ContainsFunc(c.tolerations, func(t toleration) bool { return t.tolerates(x) }) {
			continue
		}
		run = false
		if x.Effect == effectNoExecute {
			keep = false
		}
	}
	return run, keep
}

// workloadLabels returns a pod's labels: the template's and the
// controller's own.
func workloadLabels(tmpl service.Labels, extra ...string) service.Labels {
	l := make(service.Labels, len(tmpl)+len(extra)/2)
	for k, v := range tmpl {
		l[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// revisionHash names a revision as the controller-revision-hash label
// does: "<name>-<hash>".
func (d *deploy) revisionHash(rev int) string {
	return d.key.Name + "-" + templateHash(d.key, rev)
}

// ---- StatefulSet ----

// stsPodName is <name>-<ordinal>.
func stsPodName(name string, ord int32) string { return name + "-" + strconv.Itoa(int(ord)) }

// createSTSPod creates the pod of an ordinal at a revision, with its
// stable identity: name, hostname and subdomain, and the labels the
// StatefulSet controller sets (statefulset.kubernetes.io/pod-name,
// apps.kubernetes.io/pod-index, controller-revision-hash).
func (w *world) createSTSPod(d *deploy, ord int32, rev int) *pod {
	c := d.sts
	name := stsPodName(d.key.Name, ord)
	labels := workloadLabels(c.obj.Spec.Template.Labels,
		"statefulset.kubernetes.io/pod-name", name,
		"apps.kubernetes.io/pod-index", strconv.Itoa(int(ord)),
		"controller-revision-hash", d.revisionHash(rev))
	spec := *d.spec
	spec.Hostname, spec.Subdomain = name, c.svc
	p := w.newPod(service.NamespacedName{Namespace: d.key.Namespace, Name: name}, labels, &spec, d.prof)
	p.deploy, p.rev, p.ord = d, rev, ord
	c.byOrd[ord] = p
	d.active = append(d.active, p)
	if w.hook != nil {
		w.hook("create", p)
	}
	return p
}

// runningReady is isRunningAndReady; runningAvailable adds
// minReadySeconds (isRunningAndAvailable).
func (w *world) runningReady(p *pod) bool { return p.api.running && p.api.ready }

func (w *world) runningAvailable(p *pod) bool {
	return w.runningReady(p) && w.now()-p.readySince >= p.prof.minReady
}

// stsUnavailable is isUnavailable of stateful_set_utils.go: terminating,
// or not running and available.
func (w *world) stsUnavailable(p *pod) bool { return p.api.term || !w.runningAvailable(p) }

// stsReconcile is the StatefulSet controller's updateStatefulSet
// (pkg/controller/statefulset/stateful_set_control.go): create the
// missing ordinals in order (OrderedReady: one at a time, each after its
// predecessors are Running and Ready and available; Parallel: all at
// once), delete the condemned ordinals (above the replicas) from the
// highest down (OrderedReady: one at a time, only once every replica is
// healthy), then, for RollingUpdate, replace pods not at the update
// revision from the highest ordinal down to the partition, at most
// maxUnavailable unavailable at once
// (updateStatefulSetAfterInvariantEstablished). A missing ordinal below
// the partition comes back at the current revision
// (newVersionedStatefulSetPod).
func (w *world) stsReconcile(d *deploy) {
	c := d.sts
	monotonic := !c.parallel
	replicas := int(d.replicas)
	reps := make([]*pod, replicas)
	var condemned []*pod
	for ord, p := range c.byOrd {
		if i := int(ord - c.start); ord >= c.start && i < replicas {
			reps[i] = p
		} else {
			condemned = append(condemned, p)
		}
	}
	// Descending ordinals.
	slices.SortFunc(condemned, func(a, b *pod) int { return cmp.Compare(b.ord, a.ord) })
	defer w.stsStatus(d)
	var firstUnhealthy *pod
	for _, p := range reps {
		if p != nil && w.stsUnavailable(p) && firstUnhealthy == nil {
			firstUnhealthy = p
		}
	}
	for i := len(condemned) - 1; i >= 0 && firstUnhealthy == nil; i-- {
		if w.stsUnavailable(condemned[i]) {
			firstUnhealthy = condemned[i]
		}
	}
	for i, p := range reps {
		ord := c.start + int32(i)
		if p == nil {
			if q := w.podByKey[service.NamespacedName{Namespace: d.key.Namespace, Name: stsPodName(d.key.Name, ord)}]; q != nil && q.phase != phGone {
				// Another pod has the name: the create fails
				// (AlreadyExists) and the sync stops there.
				return
			}
			rev := d.rev
			if !c.onDelete && int32(i) < c.partition {
				rev = c.cur
			}
			reps[i] = w.createSTSPod(d, ord, rev)
			w.after(w.cfg.t.scheduling, evPodSchedule, reps[i].id, 0)
			if monotonic {
				return
			}
			continue
		}
		if monotonic && (p.api.term || !w.runningReady(p) || !w.runningAvailable(p)) {
			return
		}
	}
	for _, p := range condemned {
		if p.api.term {
			if monotonic {
				return
			}
			continue
		}
		if monotonic && p != firstUnhealthy && !w.runningAvailable(p) {
			return
		}
		w.deletePod(p)
		if monotonic {
			return
		}
	}
	if c.onDelete {
		return
	}
	maxUnavail, err := c.obj.MaxUnavailable(d.replicas)
	if err != nil {
		w.violate("scenario", "%v", err)
		return
	}
	unavailable := int32(0)
	for _, p := range reps {
		if w.stsUnavailable(p) {
			unavailable++
		}
	}
	if unavailable > maxUnavail {
		return
	}
	toDelete := maxUnavail - unavailable
	for i := len(reps) - 1; i >= int(c.partition) && toDelete > 0; i-- {
		if p := reps[i]; p.rev != d.rev && !p.api.term {
			w.deletePod(p)
			toDelete--
		}
	}
}

// stsStatus is completeRollingUpdate: once every pod is at the update
// revision and ready, the update revision becomes the current one.
func (w *world) stsStatus(d *deploy) {
	c := d.sts
	if c.onDelete || c.cur == d.rev {
		return
	}
	created, updated, ready := 0, 0, 0
	for _, p := range c.byOrd {
		created++
		if !p.api.term && p.rev == d.rev {
			updated++
		}
		if w.runningReady(p) {
			ready++
		}
	}
	if updated == created && ready == created {
		c.cur = d.rev
	}
}

// ---- DaemonSet ----

// createDSPod creates a DaemonSet pod for a node, named as generateName
// "<name>-" makes it, with the controller-revision-hash label; the
// scheduler binds it to that node (the controller pins it with node
// affinity, ReplaceDaemonSetPodNodeNameNodeAffinity).
func (w *world) createDSPod(d *deploy, n *node) *pod {
	c := d.ds
	labels := workloadLabels(c.obj.Spec.Template.Labels, "controller-revision-hash", d.revisionHash(d.rev))
	p := w.newPod(w.generatedName(d.key, d.key.Name+"-"), labels, d.spec, d.prof)
	p.deploy, p.rev, p.dsNode = d, d.rev, n
	d.active = append(d.active, p)
	if w.hook != nil {
		w.hook("create", p)
	}
	return p
}

// oldestFirst orders pods as podByCreationTimestampAndPhase: by creation
// time, then by id.
func oldestFirst(a, b *pod) int {
	if a.created != b.created {
		return cmp.Compare(a.created, b.created)
	}
	return cmp.Compare(a.id, b.id)
}

// dsReconcile is the DaemonSet controller's updateDaemonSet
// (pkg/controller/daemon/daemon_controller.go): manage (podsShouldBeOnNode
// for every node, in the nodes' order) creates the pods missing and
// deletes the extra ones; when manage changed nothing (its expectations
// are then satisfied), rollingUpdate (update.go) replaces old pods.
func (w *world) dsReconcile(d *deploy) {
	c := d.ds
	byNode := map[*node][]*pod{}
	for _, p := range d.active {
		byNode[p.dsNode] = append(byNode[p.dsNode], p)
	}
	var create []*node
	var del []*pod
	for _, n := range w.nodes {
		run, keep := c.shouldRun(n)
		pods := byNode[n]
		switch {
		case run && len(pods) == 0:
			create = append(create, n)
		case keep:
			var running []*pod
			for _, p := range pods {
				if !p.api.term {
					running = append(running, p)
				}
			}
			slices.SortFunc(running, oldestFirst)
			if !c.surge {
				if len(running) > 1 {
					del = append(del, running[1:]...)
				}
				break
			}
			if len(running) <= 1 {
				if len(running) == 0 && run {
					create = append(create, n)
				}
				break
			}
			// Surge: keep the oldest new pod and the oldest old one.
			var newest, oldest *pod
			for _, p := range running {
				switch {
				case p.rev == d.rev && newest == nil:
					newest = p
				case p.rev != d.rev && oldest == nil:
					oldest = p
				default:
					del = append(del, p)
				}
			}
			// Both: the old one goes when it is not ready, or when the new
			// one is available.
			if newest != nil && oldest != nil && (!oldest.api.ready || w.available(newest)) {
				del = append(del, oldest)
			}
		case !keep && len(pods) > 0:
			for _, p := range pods {
				if !p.api.term {
					del = append(del, p)
				}
			}
		}
	}
	// getUnscheduledPodsWithoutNode: pods for a node that is gone.
	for _, p := range d.active {
		if p.dsNode.removed && p.node == nil && !p.api.term {
			del = append(del, p)
		}
	}
	for _, p := range del {
		w.deletePod(p)
	}
	for _, n := range create {
		p := w.createDSPod(d, n)
		w.after(w.cfg.t.scheduling, evPodSchedule, p.id, 0)
	}
	if len(del) > 0 || len(create) > 0 || c.onDelete {
		return
	}
	w.dsRollingUpdate(d, byNode)
}

// dsRollingUpdate is rollingUpdate of pkg/controller/daemon/update.go,
// the nodes taken in their order (Kubernetes walks a map). Without
// surge it deletes old pods up to maxUnavailable unavailable nodes (an
// unavailable old pod is deleted whatever the count, and counts as
// unavailable); with surge it creates a new
// pod beside an old one on up to maxSurge nodes (at once where the old
// pod is unavailable) and deletes an old pod once its node's new pod is
// available.
func (w *world) dsRollingUpdate(d *deploy, byNode map[*node][]*pod) {
	c := d.ds
	desired := int32(0)
	for _, n := range w.nodes {
		if run, _ := c.shouldRun(n); run {
			desired++
		}
	}
	maxSurge, maxUnavail, err := c.obj.RollingBounds(desired)
	if err != nil {
		w.violate("scenario", "%v", err)
		return
	}
	// findUpdatedPodsOnNode: the node's new and old pod, not deleted;
	// ok false when it has two of either.
	find := func(n *node) (newP, oldP *pod, ok bool) {
		for _, p := range byNode[n] {
			if p.api.term {
				continue
			}
			if p.rev == d.rev {
				if newP != nil {
					return nil, nil, false
				}
				newP = p
			} else {
				if oldP != nil {
					return nil, nil, false
				}
				oldP = p
			}
		}
		return newP, oldP, true
	}
	nodes := make([]*node, 0, len(byNode))
	for _, n := range w.nodes {
		if _, ok := byNode[n]; ok {
			nodes = append(nodes, n)
		}
	}
	if maxSurge == 0 {
		unavailable := int32(0)
		var replace, candidates []*pod
		for _, n := range nodes {
			newP, oldP, ok := find(n)
			switch {
			case !ok:
				unavailable++
			case (oldP == nil) == (newP == nil):
				unavailable++
			case newP != nil:
				if !w.available(newP) {
					unavailable++
				}
			case !w.available(oldP):
				// Replaced at once, and counted as unavailable.
				replace = append(replace, oldP)
				unavailable++
			case unavailable >= maxUnavail:
			default:
				candidates = append(candidates, oldP)
			}
		}
		room := min(max(maxUnavail-unavailable, 0), int32(len(candidates)))
		for _, p := range append(replace, candidates[:room]...) {
			w.deletePod(p)
		}
		return
	}
	var toDelete, notRunDelete []*pod
	var candidateNodes, allowedNodes []*node
	surged, availableN := int32(0), int32(0)
	for _, n := range nodes {
		newP, oldP, ok := find(n)
		if !ok {
			surged++
			continue
		}
		if oldP != nil {
			if w.available(oldP) {
				availableN++
			}
		} else if newP != nil && w.available(newP) {
			availableN++
		}
		run, _ := c.shouldRun(n)
		switch {
		case oldP == nil:
		case newP == nil:
			switch {
			case !w.available(oldP):
				if !run {
					toDelete = append(toDelete, oldP)
					continue
				}
				allowedNodes = append(allowedNodes, n)
			default:
				if !run {
					notRunDelete = append(notRunDelete, oldP)
					continue
				}
				if surged >= maxSurge {
					continue
				}
				candidateNodes = append(candidateNodes, n)
			}
		default:
			if !w.available(newP) {
				surged++
				continue
			}
			toDelete = append(toDelete, oldP)
		}
	}
	if extra := int(availableN - desired); extra > 0 {
		toDelete = append(toDelete, notRunDelete[:min(extra, len(notRunDelete))]...)
	}
	room := min(max(maxSurge-surged, 0), int32(len(candidateNodes)))
	for _, p := range toDelete {
		w.deletePod(p)
	}
	for _, n := range append(allowedNodes, candidateNodes[:room]...) {
		p := w.createDSPod(d, n)
		w.after(w.cfg.t.scheduling, evPodSchedule, p.id, 0)
	}
}

// daemonSetsChanged asks every DaemonSet to reconcile: a node came,
// went, or changed its Ready condition.
func (w *world) daemonSetsChanged() {
	for _, d := range w.deploys {
		if d.kind == kindDaemonSet {
			w.reconcileSoon(d)
		}
	}
}

// forgetOwned drops a pod gone from the API from its workload's lists.
func (d *deploy) forgetOwned(p *pod) {
	if i := slices.Index(d.active, p); i >= 0 {
		d.active = slices.Delete(d.active, i, i+1)
	}
	if d.sts != nil && d.sts.byOrd[p.ord] == p {
		delete(d.sts.byOrd, p.ord)
	}
}

// generatedName draws a free name for generateName prefix, as
// rsPodKey does.
func (w *world) generatedName(key service.NamespacedName, prefix string) service.NamespacedName {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 0, 8)
	for try := 0; ; try++ {
		b = b[:0]
		for range 5 + try/64 {
			b = append(b, alphabet[w.rNames.IntN(len(alphabet))])
		}
		k := service.NamespacedName{Namespace: key.Namespace, Name: prefix + string(b)}
		if _, taken := w.podByKey[k]; !taken {
			return k
		}
	}
}
