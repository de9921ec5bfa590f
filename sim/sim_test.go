package sim

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// small returns a scenario of a few nodes and one Service with traffic,
// every invariant checked each simulated second.
func small(seed uint64) Scenario {
	return Scenario{
		Seed: seed, Duration: Duration(3 * time.Minute),
		Cluster:  ClusterSpec{Nodes: 6},
		Workload: WorkloadSpec{Services: 2, Replicas: 6},
		Traffic: []TrafficSpec{{Service: "svc-0", Rate: 50,
			Length: Distribution{Kind: DistConstant, Mean: Duration(time.Second)}}},
		Checks: CheckSpec{Interval: D(time.Second)},
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[string]time.Duration{`"30s"`: 30 * time.Second, `"1h2m"`: time.Hour + 2*time.Minute, `90`: 90 * time.Second, `"0.5"`: 500 * time.Millisecond, `0`: 0} {
		var d Duration
		require.NoError(t, json.Unmarshal([]byte(in), &d), in)
		require.Equal(t, want, d.D(), in)
	}
	for _, in := range []string{`"soon"`, `true`, `"1e400"`} {
		var d Duration
		require.Error(t, json.Unmarshal([]byte(in), &d), in)
	}
	require.Equal(t, `"1m30s"`, string(mustJSON(t, Duration(90*time.Second))))
}

func TestRollingBounds(t *testing.T) {
	pct := func(s string) *service.IntOrString { v := service.FromString(s); return &v }
	num := func(n int32) *service.IntOrString { v := service.FromInt(n); return &v }
	for _, c := range []struct {
		replicas       int32
		surge, unavail *service.IntOrString
		wantS, wantU   int32
	}{
		{10, nil, nil, 3, 2}, // 25% up, 25% down
		{4, nil, nil, 1, 1},
		{1, nil, nil, 1, 0},
		{3, pct("0%"), pct("0%"), 0, 1}, // both 0: maxUnavailable 1
		{10, num(0), pct("50%"), 0, 5},
		{7, pct("100%"), num(2), 7, 2},
	} {
		d := &Deployment{Spec: DeploymentSpec{Replicas: &c.replicas,
			Strategy: DeploymentStrategy{RollingUpdate: &RollingUpdateDeployment{MaxSurge: c.surge, MaxUnavailable: c.unavail}}}}
		s, u, err := d.RollingBounds()
		require.NoError(t, err)
		require.Equal(t, [2]int32{c.wantS, c.wantU}, [2]int32{s, u}, "replicas %d", c.replicas)
	}
	d := &Deployment{Spec: DeploymentSpec{Strategy: DeploymentStrategy{RollingUpdate: &RollingUpdateDeployment{MaxSurge: pct("x%")}}}}
	_, _, err := d.RollingBounds()
	require.Error(t, err)
}

// TestDeterministic runs a scenario with every kind of event twice and
// compares the Results byte for byte.
func TestDeterministic(t *testing.T) {
	s := small(7)
	s.Duration = Duration(10 * time.Minute)
	s.Cluster.Dataplane = DataplaneStateless
	s.Churn = []ChurnSpec{{Rate: 0.1}, {Action: ActionCrashPod, Rate: 0.02}}
	s.Traffic = append(s.Traffic, TrafficSpec{Service: "svc-1", Rate: 5, Length: Distribution{Kind: DistLogNormal}})
	s.Timeline = []TimelineEvent{
		{At: Duration(time.Minute), Action: ActionRollout, Target: "svc-0"},
		{At: Duration(2 * time.Minute), Action: ActionKillNode, Target: "node-1", For: D(7 * time.Minute)},
		{At: Duration(3 * time.Minute), Action: ActionCutNode, Target: "node-2", For: D(time.Minute)},
		{At: Duration(4 * time.Minute), Action: ActionCrashControlPlane, For: D(20 * time.Second)},
		{At: Duration(5 * time.Minute), Action: ActionScale, Target: "svc-1", Replicas: ptr(int32(2))},
	}
	r1, err := Run(s)
	require.NoError(t, err)
	r2, err := Run(s)
	require.NoError(t, err)
	require.Equal(t, string(mustJSON(t, r1)), string(mustJSON(t, r2)))
	s.Seed++
	r3, err := Run(s)
	require.NoError(t, err)
	require.NotEqual(t, string(mustJSON(t, r1)), string(mustJSON(t, r3)), "another seed, another run")
}

func ptr[T any](v T) *T { return &v }

// TestPreStopKnownAnswer: a rolling update without a preStop sleep loses
// connections (nodes still send to pods that exited); with a sleep longer
// than the programming delay it loses none.
func TestPreStopKnownAnswer(t *testing.T) {
	run := func(preStop time.Duration) Outcomes {
		s := small(1)
		s.Workload.PreStopSleep = D(preStop)
		s.Timeline = []TimelineEvent{{At: Duration(time.Minute), Action: ActionRollout, Target: "svc-0"}}
		r, err := Run(s)
		require.NoError(t, err)
		require.Equal(t, int64(6), r.Cluster.PodsCreated, "a new pod per replica")
		return r.Connections
	}
	without, with := run(0), run(5*time.Second)
	t.Logf("without preStop: %+v", without)
	t.Logf("with a 5s preStop: %+v", with)
	require.Positive(t, without.Refused, "stale nodes send to exited pods")
	require.Positive(t, without.Reset, "open connections die with the app")
	require.Zero(t, with.Failed())
	require.Equal(t, without.Total, with.Total, "the same arrivals")
}

// TestMaglevKnownAnswer: on a stateless data plane, when one backend of
// twenty leaves, Maglev breaks few of the other backends' connections
// and random breaks most.
func TestMaglevKnownAnswer(t *testing.T) {
	s := Scenario{
		Seed: 2, Duration: Duration(3 * time.Minute),
		Cluster:  ClusterSpec{Nodes: 6, Dataplane: DataplaneStateless},
		Workload: WorkloadSpec{Services: 1, Replicas: 20},
		Traffic: []TrafficSpec{{Service: "svc-0", Rate: 20,
			Length: Distribution{Kind: DistConstant, Mean: Duration(time.Minute)}}},
		Timeline: []TimelineEvent{{At: Duration(90 * time.Second), Action: ActionDeletePod, Target: "svc-0"}},
		Checks:   CheckSpec{Interval: D(time.Second)},
		Variants: []Variant{{Name: "random", Algorithm: "random"}, {Name: "maglev", Algorithm: "maglev"}},
	}
	rs, err := Compare(s)
	require.NoError(t, err)
	random, maglev := rs[0], rs[1]
	require.Equal(t, "maglev", maglev.Variant)
	require.Equal(t, "maglev", maglev.Algorithms[0].Algorithm)
	t.Logf("random: %+v", random.Algorithms)
	t.Logf("maglev: %+v", maglev.Algorithms)
	require.Equal(t, int64(1), maglev.Algorithms[0].ChurnEvents)
	// About 1200 connections are open; the leaving backend holds 1/20.
	require.Greater(t, random.Connections.Reset, int64(900))
	require.Less(t, maglev.Connections.Reset, int64(200))
	require.Less(t, 5*maglev.Algorithms[0].PerChurnEvent, random.Algorithms[0].PerChurnEvent)
}

// TestLocalPolicyKnownAnswer: with externalTrafficPolicy Local, NodePort
// traffic to a node without a local pod is dropped; with Cluster it is
// forwarded.
func TestLocalPolicyKnownAnswer(t *testing.T) {
	run := func(policy service.TrafficPolicy) Outcomes {
		one := int32(1)
		labels := service.Labels{"app": "web"}
		s := Scenario{
			Seed: 3, Duration: Duration(time.Minute),
			Cluster: ClusterSpec{Nodes: 4},
			Services: []*service.Service{{ObjectMeta: service.ObjectMeta{Name: "web"},
				Spec: service.ServiceSpec{Type: service.ServiceTypeNodePort, Selector: labels, ExternalTrafficPolicy: policy,
					Ports: []service.ServicePort{{Port: 80, TargetPort: service.FromInt(8080)}}}}},
			Deployments: []*Deployment{{ObjectMeta: service.ObjectMeta{Name: "web"},
				Spec: DeploymentSpec{Replicas: &one, Selector: &service.LabelSelector{MatchLabels: labels},
					Template: PodTemplateSpec{ObjectMeta: service.ObjectMeta{Labels: labels},
						Spec: service.PodSpec{Containers: []service.Container{{Name: "web"}}}}}}},
			Traffic: []TrafficSpec{{Service: "web", From: FromExternal, Rate: 40}},
			Checks:  CheckSpec{Interval: D(time.Second)},
		}
		r, err := Run(s)
		require.NoError(t, err)
		return r.Connections
	}
	local, cluster := run(service.TrafficPolicyLocal), run(service.TrafficPolicyCluster)
	t.Logf("Local: %+v; Cluster: %+v", local, cluster)
	require.Zero(t, cluster.Failed())
	require.Equal(t, local.Total, local.Served+local.Dropped)
	// One node of four has the pod: about 3/4 dropped.
	share := float64(local.Dropped) / float64(local.Total)
	require.InDelta(t, 0.75, share, 0.05)
}

// TestLoadBalancerLocal: a cloud load balancer skips the nodes whose
// health check fails, so Local LoadBalancer traffic is all served, and
// stays on the node it entered by.
func TestLoadBalancerLocal(t *testing.T) {
	two := int32(2)
	labels := service.Labels{"app": "web"}
	s := Scenario{
		Seed: 4, Duration: Duration(time.Minute),
		Cluster: ClusterSpec{Nodes: 5},
		Services: []*service.Service{{ObjectMeta: service.ObjectMeta{Name: "web"},
			Spec: service.ServiceSpec{Type: service.ServiceTypeLoadBalancer, Selector: labels, ExternalTrafficPolicy: service.TrafficPolicyLocal,
				Ports: []service.ServicePort{{Port: 80, TargetPort: service.FromString("http")}}}}},
		Deployments: []*Deployment{{ObjectMeta: service.ObjectMeta{Name: "web"},
			Spec: DeploymentSpec{Replicas: &two, Selector: &service.LabelSelector{MatchLabels: labels},
				Template: PodTemplateSpec{ObjectMeta: service.ObjectMeta{Labels: labels},
					Spec: service.PodSpec{Containers: []service.Container{{Name: "web",
						Ports: []service.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}}}},
		Traffic: []TrafficSpec{{Service: "web", From: FromExternal, Rate: 30, Clients: 50}},
		Checks:  CheckSpec{Interval: D(time.Second)},
	}
	r, err := Run(s)
	require.NoError(t, err)
	require.Positive(t, r.Connections.Total)
	require.Equal(t, r.Connections.Total, r.Connections.Served)
	require.Zero(t, r.CrossZone.CrossZone, "Local keeps traffic on the entry node")
}

// TestNodePortFromPodsLocal: a pod's connection to a node's NodePort of
// an externalTrafficPolicy Local Service goes to any endpoint (pod traffic
// is not held to the node's own), unmasqueraded, so the backend's answer
// comes back through the entry node only when the backend is on it or
// the entry node is the client's own (kubernetes/kubernetes#74383):
// with the one pod on one node of four, a connection fails when its
// entry node (one of four at random) is neither the pod's nor the
// client's; the clients spread evenly, that is 3/4 × 3/4 of them. With
// Cluster (masqueraded) none fails.
func TestNodePortFromPodsLocal(t *testing.T) {
	run := func(policy service.TrafficPolicy) Outcomes {
		one := int32(1)
		labels := service.Labels{"app": "web"}
		s := Scenario{
			Seed: 6, Duration: Duration(time.Minute),
			Cluster: ClusterSpec{Nodes: 4},
			Services: []*service.Service{{ObjectMeta: service.ObjectMeta{Name: "web"},
				Spec: service.ServiceSpec{Type: service.ServiceTypeNodePort, Selector: labels, ExternalTrafficPolicy: policy,
					Ports: []service.ServicePort{{Port: 80, TargetPort: service.FromInt(8080)}}}}},
			Deployments: []*Deployment{{ObjectMeta: service.ObjectMeta{Name: "web"},
				Spec: DeploymentSpec{Replicas: &one, Selector: &service.LabelSelector{MatchLabels: labels},
					Template: PodTemplateSpec{ObjectMeta: service.ObjectMeta{Labels: labels},
						Spec: service.PodSpec{Containers: []service.Container{{Name: "web"}}}}}}},
			Traffic: []TrafficSpec{{Service: "web", Via: ViaNodePort, Rate: 40, Clients: 20}},
			Checks:  CheckSpec{Interval: D(time.Second)},
		}
		r, err := Run(s)
		require.NoError(t, err)
		return r.Connections
	}
	local, cluster := run(service.TrafficPolicyLocal), run(service.TrafficPolicyCluster)
	t.Logf("Local: %+v; Cluster: %+v", local, cluster)
	require.Zero(t, cluster.Failed())
	require.Equal(t, local.Total, local.Served+local.Unreachable)
	share := float64(local.Unreachable) / float64(local.Total)
	require.InDelta(t, 0.5625, share, 0.08)
}

func TestInvalidScenario(t *testing.T) {
	for name, mod := range map[string]func(*Scenario){
		"no duration":     func(s *Scenario) { s.Duration = 0 },
		"bad algorithm":   func(s *Scenario) { s.Cluster.Algorithm = "best" },
		"unknown service": func(s *Scenario) { s.Traffic[0].Service = "nope" },
		"unknown node":    func(s *Scenario) { s.Timeline = []TimelineEvent{{Action: ActionKillNode, Target: "node-99"}} },
		"bad action":      func(s *Scenario) { s.Timeline = []TimelineEvent{{Action: "explode"}} },
		"bad CIDR":        func(s *Scenario) { s.Cluster.PodCIDR = "10.0.0.0/30" },
		"bad length":      func(s *Scenario) { s.Traffic[0].Length.Kind = "uniform" },
		"negative delay":  func(s *Scenario) { s.Cluster.Delays.MinSyncPeriod = D(-time.Second) },
		"event after end": func(s *Scenario) {
			s.Timeline = []TimelineEvent{{At: s.Duration + 1, Action: ActionRollout, Target: "svc-0"}}
		},
		"replicas beyond capacity": func(s *Scenario) { s.Workload.Replicas = 1_000_000_000 },
		"scale beyond capacity": func(s *Scenario) {
			s.Timeline = []TimelineEvent{{At: Duration(time.Second), Action: ActionScale, Target: "svc-0", Replicas: ptr(int32(1 << 30))}}
		},
	} {
		s := small(1)
		mod(&s)
		_, err := Run(s)
		require.ErrorIs(t, err, ErrInvalidScenario, name)
	}
}

// TestFaults drives each fault and checks its effect on the cluster.
func TestFaults(t *testing.T) {
	t.Run("node crash evicts after the toleration", func(t *testing.T) {
		s := small(5)
		s.Duration = Duration(8 * time.Minute)
		s.Timeline = []TimelineEvent{{At: Duration(time.Minute), Action: ActionKillNode, Target: "node-0"}}
		w, err := newWorld(s)
		require.NoError(t, err)
		onNode := len(w.nodeByName["node-0"].pods)
		require.Positive(t, onNode)
		r, err := w.run(RunOptions{})
		require.NoError(t, err)
		// 40 s to NotReady, 300 s more to eviction: the Deployment
		// replaces the pods of the dead node, not the clients.
		require.Positive(t, r.Cluster.PodsCreated)
		require.False(t, w.nodeByName["node-0"].apiReady)
		for _, p := range w.nodeByName["node-0"].pods {
			require.True(t, p.api.term || p.client, "%s evicted", p.key)
		}
	})
	t.Run("a cut-off node keeps its view", func(t *testing.T) {
		s := small(6)
		s.Timeline = []TimelineEvent{
			{At: Duration(30 * time.Second), Action: ActionCutNode, Target: "node-3"},
			{At: Duration(40 * time.Second), Action: ActionRollout, Target: "svc-0"},
		}
		w, err := newWorld(s)
		require.NoError(t, err)
		require.NoError(t, w.eng.Run(35*time.Second))
		table := func(node string) *proxy.Table {
			p, err := w.c.Proxy(node)
			require.NoError(t, err)
			return p.Table()
		}
		frozen := table("node-3")
		_, err = w.run(RunOptions{})
		require.NoError(t, err)
		require.Same(t, frozen, table("node-3"))
		require.NotSame(t, frozen, table("node-2"))
	})
	t.Run("zone down and up", func(t *testing.T) {
		s := small(7)
		s.Duration = Duration(5 * time.Minute)
		s.Timeline = []TimelineEvent{{At: Duration(time.Minute), Action: ActionZoneDown, Target: "zone-b", For: D(2 * time.Minute)}}
		r, err := Run(s)
		require.NoError(t, err)
		require.Positive(t, r.Connections.Reset+r.Connections.Refused)
	})
	t.Run("control plane restores from its snapshot", func(t *testing.T) {
		s := small(8)
		s.Churn = []ChurnSpec{{Rate: 0.5}}
		s.Timeline = []TimelineEvent{{At: Duration(time.Minute), Action: ActionCrashControlPlane, For: D(30 * time.Second)},
			{At: Duration(70 * time.Second), Action: ActionDeleteService, Target: "svc-1"},
			{At: Duration(2 * time.Minute), Action: ActionDeleteService, Target: "svc-1"},
			{At: Duration(150 * time.Second), Action: ActionCreateService, Target: "svc-1"}}
		w, err := newWorld(s)
		require.NoError(t, err)
		r, err := w.run(RunOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, w.m.restores)
		require.Equal(t, 2, r.Cluster.Services)
		require.Positive(t, r.DNSLatency.Count)
	})
}

// TestViolationReport checks that a broken invariant stops the run with
// what it takes to replay it, and that the replay breaks the same way.
func TestViolationReport(t *testing.T) {
	s := small(9)
	s.Timeline = []TimelineEvent{{At: Duration(time.Minute), Action: ActionRollout, Target: "svc-0"}}
	s.Checks.ConvergenceBound = D(10 * time.Millisecond) // tighter than any kube-proxy
	r, err := Run(s)
	require.ErrorIs(t, err, ErrViolation)
	v := r.Violation
	require.NotNil(t, v)
	require.Equal(t, InvNodeConvergence, v.Invariant)
	require.Equal(t, uint64(9), v.Seed)
	require.Len(t, v.LastEvents, 32)
	require.Less(t, r.Duration.D(), s.Duration.D())
	r2, err2 := Run(s)
	require.Equal(t, err.Error(), err2.Error())
	require.Equal(t, *v, *r2.Violation)
}

func TestCompareVariantsShareNothing(t *testing.T) {
	s := small(1)
	s.Deployments = []*Deployment{{ObjectMeta: service.ObjectMeta{Name: "x"}, Spec: DeploymentSpec{
		Selector: &service.LabelSelector{MatchLabels: service.Labels{"app": "x"}},
		Template: PodTemplateSpec{ObjectMeta: service.ObjectMeta{Labels: service.Labels{"app": "x"}},
			Spec: service.PodSpec{Containers: []service.Container{{Name: "x"}}}}}}}
	v := Variant{Name: "v", Algorithm: "maglev", PreStopSleep: D(3 * time.Second)}.Apply(s)
	require.Nil(t, s.Deployments[0].Spec.Template.Spec.Containers[0].Lifecycle)
	require.Equal(t, int64(3), v.Deployments[0].Spec.Template.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds)
	require.Equal(t, "maglev", v.Workload.Algorithm)
	require.Empty(t, s.Workload.Algorithm)
	rs, err := Compare(s)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	_ = errors.New
}

// TestBarePodsAndNodes runs a scenario of explicit nodes, bare pods and a
// flow whose clients are picked by a selector among them.
func TestBarePodsAndNodes(t *testing.T) {
	node := func(name, zone, ip string) *service.Node {
		return &service.Node{ObjectMeta: service.ObjectMeta{Name: name, Labels: service.Labels{service.LabelTopologyZone: zone}},
			Status: service.NodeStatus{Addresses: []service.NodeAddress{{Type: service.NodeInternalIP, Address: ip}}}}
	}
	pod := func(name, node, role string) *service.Pod {
		return &service.Pod{ObjectMeta: service.ObjectMeta{Name: name, Labels: service.Labels{"role": role}},
			Spec: service.PodSpec{NodeName: node, Containers: []service.Container{{Name: "c",
				Ports: []service.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
	}
	s := Scenario{
		Seed: 11, Duration: Duration(time.Minute),
		Nodes: []*service.Node{node("a", "east", "192.168.1.10"), node("b", "west", "192.168.1.11")},
		Pods:  []*service.Pod{pod("web-a", "a", "web"), pod("web-b", "b", "web"), pod("client-a", "a", "client"), pod("client-b", "", "client")},
		Services: []*service.Service{{ObjectMeta: service.ObjectMeta{Name: "web"},
			Spec: service.ServiceSpec{Selector: service.Labels{"role": "web"}, TrafficDistribution: ptr(service.TrafficDistributionPreferClose),
				Ports: []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromString("http")}}}}},
		Traffic: []TrafficSpec{{Name: "from-clients", Service: "web", ClientSelector: "role=client", Rate: 20}},
		Checks:  CheckSpec{Interval: D(time.Second), EveryEvents: 10},
	}
	r, err := Run(s)
	require.NoError(t, err)
	require.Equal(t, 2, r.Cluster.Nodes)
	require.Equal(t, 4, r.Cluster.Pods)
	require.Positive(t, r.Connections.Total)
	require.Equal(t, r.Connections.Total, r.Connections.Served)
	require.Equal(t, "from-clients", r.Flows[0].Name)
	require.Equal(t, 2, r.Flows[0].Backends)
	require.Zero(t, r.CrossZone.CrossZone, "PreferClose keeps traffic in the client's zone")
}

// TestRollingUpdateBounds steps through a rolling update and checks the
// Deployment controller's guarantees all along: never more than
// replicas+maxSurge pods, never fewer than replicas−maxUnavailable
// available, and every pod of the new revision at the end.
func TestRollingUpdateBounds(t *testing.T) {
	for _, c := range []struct{ surge, unavail string }{{"25%", "25%"}, {"0", "1"}, {"3", "0"}, {"100%", "0"}} {
		s := small(12)
		s.Workload.Replicas = 8
		s.Workload.ReadinessProbe = &service.Probe{PeriodSeconds: 2}
		s.Cluster.Delays.AppStart = D(3 * time.Second)
		s.Timeline = []TimelineEvent{{At: Duration(30 * time.Second), Action: ActionRollout, Target: "svc-0"}}
		w, err := newWorld(s)
		require.NoError(t, err)
		d := w.deployByKey[service.NamespacedName{Namespace: "default", Name: "svc-0"}]
		surge, unavail := service.FromString(c.surge), service.FromString(c.unavail)
		if c.surge[len(c.surge)-1] != '%' {
			surge = service.FromInt(int32(c.surge[0] - '0'))
		}
		if c.unavail[len(c.unavail)-1] != '%' {
			unavail = service.FromInt(int32(c.unavail[0] - '0'))
		}
		d.obj.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavail}
		d.surge, d.unavail, err = d.obj.RollingBounds()
		require.NoError(t, err)
		for at := time.Duration(0); at < s.Duration.D(); at += 100 * time.Millisecond {
			require.NoError(t, w.eng.Run(at))
			active, avail := 0, 0
			for _, rs := range d.rsList {
				for _, p := range rs.pods {
					active++
					if w.available(p) {
						avail++
					}
				}
			}
			require.LessOrEqual(t, active, 8+int(d.surge), "%s/%s at %v", c.surge, c.unavail, at)
			require.GreaterOrEqual(t, avail, 8-int(d.unavail), "%s/%s at %v", c.surge, c.unavail, at)
		}
		require.Len(t, d.rsList, 1, "%s/%s: the old ReplicaSet is gone", c.surge, c.unavail)
		require.Len(t, d.rsList[0].pods, 8)
		require.Equal(t, 2, d.rsList[0].rev)
	}
}

// TestParseDurationOverflow: a well-formed duration too long for a
// time.Duration says so; a malformed one does not.
func TestParseDurationOverflow(t *testing.T) {
	for _, s := range []string{"3000000h", "1e9h", "1e11"} {
		_, err := ParseDuration(s)
		require.ErrorIs(t, err, ErrDurationOverflow, s)
	}
	for _, s := range []string{"soon", "1e400", "5x"} {
		_, err := ParseDuration(s)
		require.Error(t, err, s)
		require.NotErrorIs(t, err, ErrDurationOverflow, s)
	}
	d, err := ParseDuration("2562047h")
	require.NoError(t, err)
	require.Equal(t, 2562047*time.Hour, d.D())
}
