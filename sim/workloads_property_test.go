package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// The workload controllers checked against naive restatements of
// Kubernetes' rules: a hook sees every pod a controller creates and
// every pod deleted, and at that moment the world's API state must be
// one the rule allows. The naive models read only the API's view of the
// pods (w.pods), never the controllers' own bookkeeping.

// webTemplate is a pod template with a readiness probe, so that pods
// take a few seconds to turn ready.
func webTemplate(labels service.Labels, period int32) PodTemplateSpec {
	return PodTemplateSpec{ObjectMeta: service.ObjectMeta{Labels: labels},
		Spec: service.PodSpec{Containers: []service.Container{{Name: "web", Image: "web",
			Ports:          []service.ContainerPort{{Name: "http", ContainerPort: 8080}},
			ReadinessProbe: &service.Probe{PeriodSeconds: period}}}}}
}

// setPods returns the pods of a workload that exist in the API (not
// gone), by ownership as the API records it (the owner and, for a
// StatefulSet, the name).
func (w *world) setPods(d *deploy) []*pod {
	var out []*pod
	for _, p := range w.pods {
		if p.deploy == d && p.phase != phGone {
			out = append(out, p)
		}
	}
	return out
}

// naiveMaxUnavailable is a StatefulSet's maxUnavailable, restated: a
// number, or a percentage of replicas rounded down; never below 1.
func naiveMaxUnavailable(v *service.IntOrString, replicas int32) int32 {
	if v == nil {
		return 1
	}
	n := v.IntVal
	if v.IsString {
		pct, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
		n = int32(math.Floor(float64(pct) * float64(replicas) / 100))
	}
	return max(n, 1)
}

func healthy(w *world, p *pod) bool {
	return p.api.running && p.api.ready && !p.api.term && w.now()-p.readySince >= p.prof.minReady
}

func TestStatefulSetControllerProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		replicas := int32(rapid.IntRange(1, 5).Draw(t, "replicas"))
		parallel := rapid.Bool().Draw(t, "parallel")
		onDelete := rapid.IntRange(0, 4).Draw(t, "onDelete") == 0
		partition := int32(rapid.IntRange(0, 3).Draw(t, "partition"))
		var maxU *service.IntOrString
		switch rapid.IntRange(0, 2).Draw(t, "maxUnavailableKind") {
		case 1:
			v := service.FromInt(int32(rapid.IntRange(1, 3).Draw(t, "maxUnavailable")))
			maxU = &v
		case 2:
			v := service.FromString(strconv.Itoa(rapid.IntRange(1, 100).Draw(t, "maxUnavailablePct")) + "%")
			maxU = &v
		}
		start := int32(rapid.IntRange(0, 2).Draw(t, "start"))
		labels := service.Labels{"app": "web"}
		sts := &StatefulSet{ObjectMeta: service.ObjectMeta{Name: "web"},
			Spec: StatefulSetSpec{Replicas: &replicas, ServiceName: "web", Selector: &service.LabelSelector{MatchLabels: labels},
				Template:        webTemplate(labels, int32(rapid.IntRange(1, 3).Draw(t, "probePeriod"))),
				MinReadySeconds: int32(rapid.IntRange(0, 2).Draw(t, "minReady")),
				Ordinals:        &StatefulSetOrdinals{Start: start}}}
		if parallel {
			sts.Spec.PodManagementPolicy = PodManagementParallel
		}
		if onDelete {
			sts.Spec.UpdateStrategy.Type = UpdateOnDelete
		} else {
			sts.Spec.UpdateStrategy.RollingUpdate = &RollingUpdateStatefulSetStrategy{Partition: &partition, MaxUnavailable: maxU}
		}
		// Crashes stop at 120s and back off from 1s, so that by the end
		// (6m) every pod has restarted: at most 2^7 s of back-off.
		s := Scenario{Seed: rapid.Uint64().Draw(t, "seed"), Duration: Duration(6 * time.Minute),
			Cluster:      ClusterSpec{Nodes: rapid.IntRange(1, 4).Draw(t, "nodes"), Delays: Delays{RestartBackoff: D(time.Second)}},
			StatefulSets: []*StatefulSet{sts},
			Checks:       CheckSpec{Interval: D(10 * time.Second)}}
		for i := range rapid.IntRange(0, 3).Draw(t, "events") {
			at := Duration(time.Duration(rapid.IntRange(1, 150).Draw(t, fmt.Sprintf("at%d", i))) * time.Second)
			if rapid.Bool().Draw(t, fmt.Sprintf("scale%d", i)) {
				r := int32(rapid.IntRange(1, 6).Draw(t, fmt.Sprintf("to%d", i)))
				s.Timeline = append(s.Timeline, TimelineEvent{At: at, Action: ActionScale, Target: "web", Replicas: &r})
			} else {
				s.Timeline = append(s.Timeline, TimelineEvent{At: at, Action: ActionRollout, Target: "statefulset/web"})
			}
		}
		if rapid.Bool().Draw(t, "crashes") {
			s.Churn = []ChurnSpec{{Action: ActionCrashPod, Rate: 0.1, Target: "web", Stop: Duration(120 * time.Second)}}
		}
		w, err := newWorld(s)
		require.NoError(t, err)
		d := w.deploys[0]
		inRange := func(ord int32) bool { return ord >= start && ord < start+d.replicas }
		w.hook = func(what string, p *pod) {
			if p.deploy != d {
				return
			}
			pods := w.setPods(d)
			byOrd := map[int32][]*pod{}
			for _, q := range pods {
				ord, err := strconv.Atoi(strings.TrimPrefix(q.key.Name, "web-"))
				require.NoError(t, err, q.key.Name)
				byOrd[int32(ord)] = append(byOrd[int32(ord)], q)
			}
			ord := p.ord
			switch what {
			case "create":
				require.Equal(t, stsPodName("web", ord), p.key.Name)
				require.Equal(t, p.key.Name, p.spec.Hostname)
				require.Equal(t, "web", p.spec.Subdomain)
				require.Len(t, byOrd[ord], 1, "one pod per ordinal at a time: %s", p.key)
				require.True(t, inRange(ord), "created %s outside [%d, %d)", p.key, start, start+d.replicas)
				if !parallel {
					for j := start; j < ord; j++ {
						require.Len(t, byOrd[j], 1, "OrderedReady: %s created before %s exists", p.key, stsPodName("web", j))
						require.True(t, healthy(w, byOrd[j][0]), "OrderedReady: %s created before %s is Running, Ready and available", p.key, byOrd[j][0].key)
					}
				}
				if !onDelete && ord-start < partition {
					require.Equal(t, 1, p.rev, "below the partition a pod comes back at the current revision")
				}
			case "delete":
				if !inRange(ord) {
					if parallel {
						return
					}
					for _, q := range pods {
						if q == p {
							continue
						}
						require.Less(t, q.ord, ord, "OrderedReady scale-down deletes the highest ordinal first: %s before %s", p.key, q.key)
						if inRange(q.ord) {
							require.True(t, healthy(w, q), "OrderedReady scale-down waits for the pods kept to be healthy: %s", q.key)
						}
					}
					return
				}
				require.False(t, onDelete, "OnDelete: the controller never deletes a pod in range (%s)", p.key)
				require.NotEqual(t, d.rev, p.rev, "an update deletes only pods of an old revision")
				require.GreaterOrEqual(t, ord-start, partition, "an update never deletes below the partition")
				unavailable := int32(0)
				for j := start; j < start+d.replicas; j++ {
					qs := byOrd[j]
					if len(qs) == 0 || !healthy(w, qs[0]) {
						unavailable++
					}
					if j > ord && len(qs) > 0 {
						q := qs[0]
						require.True(t, q.rev == d.rev || q.api.term, "the update goes from the highest ordinal down: %s (rev %d) before %s", p.key, q.rev, q.key)
					}
				}
				require.LessOrEqual(t, unavailable, naiveMaxUnavailable(maxU, d.replicas), "maxUnavailable bounds the update")
			}
		}
		res, err := w.run(RunOptions{})
		require.NoError(t, err)
		require.Nil(t, res.Violation)
		// At the end (nothing changes after 150s): every ordinal in range
		// runs, ready, and none outside; at the update revision from the
		// partition up (RollingUpdate).
		pods := w.setPods(d)
		require.Len(t, pods, int(d.replicas))
		for _, p := range pods {
			require.True(t, inRange(p.ord), p.key.String())
			require.True(t, healthy(w, p), "%s settles running and ready", p.key)
			if !onDelete && p.ord-start >= partition {
				require.Equal(t, d.rev, p.rev, "%s is at the update revision", p.key)
			}
		}
	})
}

// naiveDSBound is a DaemonSet bound restated: a number, or a percentage
// of the nodes that should run the pod, rounded up.
func naiveDSBound(v *service.IntOrString, def, desired int32) int32 {
	if v == nil {
		return def
	}
	if !v.IsString {
		return v.IntVal
	}
	pct, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return int32(math.Ceil(float64(pct) * float64(desired) / 100))
}

func TestDaemonSetControllerProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nNodes := rapid.IntRange(2, 6).Draw(t, "nodes")
		useSelector := rapid.Bool().Draw(t, "selector")
		// antiEdge: a required node affinity role NotIn [edge] instead.
		antiEdge := !useSelector && rapid.Bool().Draw(t, "antiEdge")
		tolerate := rapid.Bool().Draw(t, "tolerate")
		var nodes []*service.Node
		for i := range nNodes {
			n := &service.Node{ObjectMeta: service.ObjectMeta{Name: fmt.Sprintf("n%d", i), Labels: service.Labels{}}}
			if rapid.IntRange(0, 2).Draw(t, fmt.Sprintf("edge%d", i)) > 0 {
				n.Labels["role"] = "edge"
			}
			if rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("taint%d", i)) == 0 {
				n.Spec.Taints = []byte(`[{"key":"dedicated","value":"db","effect":"NoSchedule"}]`)
			}
			n.Spec.Unschedulable = rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("cordon%d", i)) == 0
			nodes = append(nodes, n)
		}
		mode := rapid.SampledFrom([]string{"unavailable", "surge", UpdateOnDelete}).Draw(t, "mode")
		bound := func(label string, lo int) *service.IntOrString {
			if rapid.Bool().Draw(t, label+"Pct") {
				v := service.FromString(strconv.Itoa(rapid.IntRange(1, 100).Draw(t, label+"%")) + "%")
				return &v
			}
			v := service.FromInt(int32(rapid.IntRange(lo, 3).Draw(t, label)))
			return &v
		}
		labels := service.Labels{"app": "agent"}
		ds := &DaemonSet{ObjectMeta: service.ObjectMeta{Name: "agent"},
			Spec: DaemonSetSpec{Selector: &service.LabelSelector{MatchLabels: labels},
				Template:        webTemplate(labels, int32(rapid.IntRange(1, 3).Draw(t, "probePeriod"))),
				MinReadySeconds: int32(rapid.IntRange(0, 2).Draw(t, "minReady"))}}
		if useSelector {
			ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"}
		}
		if antiEdge {
			ds.Spec.Template.Spec.Affinity = []byte(`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"role","operator":"NotIn","values":["edge"]}]}]}}}`)
		}
		if tolerate {
			ds.Spec.Template.Spec.Tolerations = []byte(`[{"key":"dedicated","operator":"Exists"}]`)
		}
		var maxU, maxS *service.IntOrString
		switch mode {
		case "unavailable":
			maxU = bound("maxUnavailable", 1)
			ds.Spec.UpdateStrategy.RollingUpdate = &RollingUpdateDaemonSet{MaxUnavailable: maxU}
		case "surge":
			zero := service.FromInt(0)
			maxS = bound("maxSurge", 1)
			ds.Spec.UpdateStrategy.RollingUpdate = &RollingUpdateDaemonSet{MaxUnavailable: &zero, MaxSurge: maxS}
		default:
			ds.Spec.UpdateStrategy.Type = UpdateOnDelete
		}
		// strict: one rollout, no crashes, so that every old pod stays
		// available and the bounds are exact.
		strict := rapid.Bool().Draw(t, "strict")
		s := Scenario{Seed: rapid.Uint64().Draw(t, "seed"), Duration: Duration(6 * time.Minute),
			Cluster: ClusterSpec{Delays: Delays{RestartBackoff: D(time.Second)}},
			Nodes:   nodes, DaemonSets: []*DaemonSet{ds}, Checks: CheckSpec{Interval: D(10 * time.Second)}}
		rollouts := 1
		if !strict {
			rollouts = rapid.IntRange(1, 3).Draw(t, "rollouts")
			s.Churn = []ChurnSpec{{Action: ActionCrashPod, Rate: 0.1, Target: "daemonset/agent", Stop: Duration(120 * time.Second)}}
		}
		for i := range rollouts {
			s.Timeline = append(s.Timeline, TimelineEvent{At: Duration(time.Duration(rapid.IntRange(1, 120).Draw(t, fmt.Sprintf("rollout%d", i))) * time.Second),
				Action: ActionRollout, Target: "agent"})
		}
		if rapid.Bool().Draw(t, "nodeChange") {
			n := fmt.Sprintf("n%d", rapid.IntRange(0, nNodes-1).Draw(t, "changed"))
			at := rapid.IntRange(1, 100).Draw(t, "deleteAt")
			s.Timeline = append(s.Timeline, TimelineEvent{At: Duration(time.Duration(at) * time.Second), Action: ActionDeleteNode, Target: n})
			if rapid.Bool().Draw(t, "addBack") {
				s.Timeline = append(s.Timeline, TimelineEvent{At: Duration(time.Duration(at+rapid.IntRange(1, 40).Draw(t, "addAfter")) * time.Second), Action: ActionAddNode, Target: n})
			}
		}
		if !strict && rapid.Bool().Draw(t, "kill") {
			s.Timeline = append(s.Timeline, TimelineEvent{At: Duration(time.Duration(rapid.IntRange(1, 100).Draw(t, "killAt")) * time.Second),
				Action: ActionKillNode, Target: fmt.Sprintf("n%d", rapid.IntRange(0, nNodes-1).Draw(t, "killed")), For: D(time.Duration(rapid.IntRange(5, 60).Draw(t, "killFor")) * time.Second)})
		}
		w, err := newWorld(s)
		require.NoError(t, err)
		d := w.deploys[0]
		// eligible restates NodeShouldRunDaemonPod for these nodes: in
		// the API, its labels match the nodeSelector or the affinity, its
		// taint tolerated; a cordon does not matter.
		eligible := func(n *node) bool {
			if n.removed || useSelector && n.obj.Labels["role"] != "edge" || antiEdge && n.obj.Labels["role"] == "edge" {
				return false
			}
			return tolerate || len(n.obj.Spec.Taints) == 0
		}
		onNode := func(n *node) []*pod {
			var out []*pod
			for _, p := range w.setPods(d) {
				if p.dsNode == n {
					out = append(out, p)
				}
			}
			return out
		}
		desired := func() int32 {
			k := int32(0)
			for _, n := range w.nodes {
				if eligible(n) && n.apiReady {
					k++
				}
			}
			return k
		}
		available := func(p *pod) bool { return !p.api.term && healthy(w, p) }
		w.hook = func(what string, p *pod) {
			if p.deploy != d {
				return
			}
			n := p.dsNode
			switch what {
			case "create":
				require.True(t, eligible(n) && n.apiReady, "pod %s for node %s, which should not get one", p.key, n.name)
				require.Equal(t, d.rev, p.rev, "a new pod has the newest revision")
				var others []*pod
				for _, q := range onNode(n) {
					if q != p && (mode != "surge" || !q.api.term) {
						others = append(others, q)
					}
				}
				if mode != "surge" {
					require.Empty(t, others, "without surge a node gets a pod only when it has none left: %s", n.name)
					return
				}
				require.LessOrEqual(t, len(others), 1, "surge: at most an old pod beside the new one on %s", n.name)
				if len(others) == 1 {
					require.NotEqual(t, d.rev, others[0].rev)
				}
				if strict {
					surged := int32(0)
					for _, m := range w.nodes {
						var old, cur *pod
						for _, q := range onNode(m) {
							if q.api.term {
								continue
							}
							if q.rev == d.rev {
								cur = q
							} else {
								old = q
							}
						}
						if old != nil && cur != nil && available(old) && !available(cur) {
							surged++
						}
					}
					require.LessOrEqual(t, surged, naiveDSBound(maxS, 0, desired()), "maxSurge bounds the nodes running two pods")
				}
			case "delete":
				if !strict || mode != "unavailable" {
					return
				}
				unavailable := int32(0)
				for _, m := range w.nodes {
					if !eligible(m) || !m.apiReady {
						continue
					}
					ok := false
					for _, q := range onNode(m) {
						ok = ok || available(q)
					}
					if !ok {
						unavailable++
					}
				}
				require.LessOrEqual(t, unavailable, naiveDSBound(maxU, 1, desired()), "maxUnavailable bounds the nodes without an available pod (deleting %s)", p.key)
			}
		}
		res, err := w.run(RunOptions{})
		require.NoError(t, err)
		require.Nil(t, res.Violation)
		// At the end: one pod, running and ready, on every node that
		// should run it, at the newest revision unless OnDelete; none
		// elsewhere.
		for _, n := range w.nodes {
			pods := onNode(n)
			if !eligible(n) {
				require.Empty(t, pods, "node %s should run no pod", n.name)
				continue
			}
			require.Len(t, pods, 1, "node %s runs one pod", n.name)
			require.True(t, available(pods[0]), "%s settles ready", pods[0].key)
			if mode != UpdateOnDelete {
				require.Equal(t, d.rev, pods[0].rev, "%s is at the newest revision", pods[0].key)
			}
		}
	})
}

// TestPropertyWorkloadsNoViolation runs random clusters of every
// workload kind, with traffic to a headless Service, to a StatefulSet
// pod's hostname and to ClusterIP Services, under random faults (nodes
// killed, cut, deleted and added, zones down, the control plane
// crashed, rollouts, scales, deletions, crashes), every invariant
// checked as the run goes: none may break, and a run replays to the
// same bytes.
func TestPropertyWorkloadsNoViolation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := rapid.IntRange(1, 5).Draw(t, "nodes")
		zones := []string{"z0", "z1"}[:rapid.IntRange(1, 2).Draw(t, "zones")]
		r := func(label string, lo, hi int) *int32 { v := int32(rapid.IntRange(lo, hi).Draw(t, label)); return &v }
		db := service.Labels{"app": "db"}
		agent := service.Labels{"app": "agent"}
		cache := service.Labels{"app": "cache"}
		port := []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromString("http"), Protocol: service.ProtocolTCP}}
		sts := &StatefulSet{ObjectMeta: service.ObjectMeta{Name: "db"}, Spec: StatefulSetSpec{Replicas: r("dbReplicas", 0, 4), ServiceName: "db",
			Selector: &service.LabelSelector{MatchLabels: db}, Template: webTemplate(db, 1)}}
		if rapid.Bool().Draw(t, "parallel") {
			sts.Spec.PodManagementPolicy = PodManagementParallel
		}
		ds := &DaemonSet{ObjectMeta: service.ObjectMeta{Name: "agent"}, Spec: DaemonSetSpec{
			Selector: &service.LabelSelector{MatchLabels: agent}, Template: webTemplate(agent, 1)}}
		if rapid.Bool().Draw(t, "surge") {
			zero, one := service.FromInt(0), service.FromInt(1)
			ds.Spec.UpdateStrategy.RollingUpdate = &RollingUpdateDaemonSet{MaxUnavailable: &zero, MaxSurge: &one}
		}
		rs := &ReplicaSet{ObjectMeta: service.ObjectMeta{Name: "cache"}, Spec: ReplicaSetSpec{Replicas: r("cacheReplicas", 0, 4),
			Selector: &service.LabelSelector{MatchLabels: cache}, Template: webTemplate(cache, 1)}}
		s := Scenario{Seed: rapid.Uint64().Draw(t, "seed"), Duration: Duration(90 * time.Second),
			Cluster: ClusterSpec{Nodes: nodes, Zones: zones, Delays: Delays{NodeMonitorGracePeriod: D(10 * time.Second), EvictionToleration: D(20 * time.Second)}},
			Services: []*service.Service{
				{ObjectMeta: service.ObjectMeta{Name: "db"}, Spec: service.ServiceSpec{ClusterIP: service.ClusterIPNone, Selector: db, Ports: port}},
				{ObjectMeta: service.ObjectMeta{Name: "agent"}, Spec: service.ServiceSpec{Selector: agent, Ports: port}},
				{ObjectMeta: service.ObjectMeta{Name: "cache"}, Spec: service.ServiceSpec{Selector: cache, Ports: port}},
			},
			StatefulSets: []*StatefulSet{sts}, DaemonSets: []*DaemonSet{ds}, ReplicaSets: []*ReplicaSet{rs},
			Traffic: []TrafficSpec{
				{Service: "db", Rate: 5, Clients: 3},
				{Name: "db-0", Service: "db", Hostname: "db-0.db", Rate: 3, Clients: 2},
				{Service: "agent", Rate: 5, Clients: 3},
				{Service: "cache", Rate: 5, Clients: 3, Via: ViaClusterIP},
			},
			Churn:   []ChurnSpec{{Action: rapid.SampledFrom([]string{ActionDeletePod, ActionCrashPod, ActionRollout}).Draw(t, "churn"), Rate: 0.05}},
			Checks:  CheckSpec{Interval: D(time.Second), EveryEvents: rapid.SampledFrom([]int{0, 0, 20, 50}).Draw(t, "every")},
			Metrics: MetricsSpec{Backends: rapid.Bool().Draw(t, "backends")}}
		actions := []string{ActionRollout, ActionScale, ActionDeletePod, ActionCrashPod, ActionKillNode, ActionRestartNode,
			ActionCutNode, ActionHealNode, ActionZoneDown, ActionZoneUp, ActionCrashControlPlane, ActionDeleteNode, ActionAddNode}
		for i := range rapid.IntRange(0, 8).Draw(t, "events") {
			e := TimelineEvent{At: Duration(time.Duration(rapid.IntRange(0, 85).Draw(t, fmt.Sprint("at", i))) * time.Second),
				Action: rapid.SampledFrom(actions).Draw(t, fmt.Sprint("action", i))}
			switch e.Action {
			case ActionKillNode, ActionRestartNode, ActionCutNode, ActionHealNode, ActionDeleteNode, ActionAddNode:
				e.Target = fmt.Sprintf("node-%d", rapid.IntRange(0, nodes-1).Draw(t, fmt.Sprint("node", i)))
			case ActionZoneDown, ActionZoneUp:
				e.Target = zones[rapid.IntRange(0, min(len(zones), nodes)-1).Draw(t, fmt.Sprint("zone", i))]
			case ActionCrashControlPlane:
			case ActionRollout:
				e.Target = rapid.SampledFrom([]string{"sts/db", "ds/agent"}).Draw(t, fmt.Sprint("target", i))
			case ActionScale:
				e.Target = rapid.SampledFrom([]string{"sts/db", "rs/cache"}).Draw(t, fmt.Sprint("target", i))
				e.Replicas = r(fmt.Sprint("scale", i), 0, 5)
			default:
				e.Target = rapid.SampledFrom([]string{"sts/db", "ds/agent", "rs/cache"}).Draw(t, fmt.Sprint("target", i))
				e.Count = rapid.IntRange(0, 2).Draw(t, fmt.Sprint("count", i))
			}
			if rapid.Bool().Draw(t, fmt.Sprint("for", i)) {
				e.For = D(time.Duration(rapid.IntRange(5, 60).Draw(t, fmt.Sprint("forDur", i))) * time.Second)
			}
			s.Timeline = append(s.Timeline, e)
		}
		var ev1, ev2 bytes.Buffer
		r1, err := RunWithOptions(s, RunOptions{Events: &ev1})
		if err != nil {
			if r1.Violation != nil {
				t.Fatalf("%v\nlast events:\n%v", err, strings.Join(r1.Violation.LastEvents, "\n"))
			}
			t.Fatal(err)
		}
		r2, _ := RunWithOptions(s, RunOptions{Events: &ev2})
		if l1, l2 := strings.Split(ev1.String(), "\n"), strings.Split(ev2.String(), "\n"); ev1.String() != ev2.String() {
			for i := range min(len(l1), len(l2)) {
				if l1[i] != l2[i] {
					t.Fatalf("the event logs part at line %d:\n%s\n%s\nbefore:\n%s", i, l1[i], l2[i], strings.Join(l1[max(0, i-15):i], "\n"))
				}
			}
		}
		j1, _ := json.Marshal(r1)
		j2, _ := json.Marshal(r2)
		if string(j1) != string(j2) {
			i := 0
			for i < min(len(j1), len(j2)) && j1[i] == j2[i] {
				i++
			}
			t.Fatalf("the same scenario gave two results, from byte %d:\n%s\n%s", i, j1[max(0, i-200):min(len(j1), i+100)], j2[max(0, i-200):min(len(j2), i+100)])
		}
	})
}
