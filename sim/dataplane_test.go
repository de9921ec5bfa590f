package sim

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/service"
)

// TestRunDataPlane: a DataPlane sees the world at time 0 (every node,
// flow, running pod and node table), then pods start before their
// application comes up, applications go down before their pod is gone,
// syncs name a node's new generation, all in time order; and the Result
// is byte for byte Run's.
func TestRunDataPlane(t *testing.T) {
	s := small(3)
	s.Timeline = []TimelineEvent{{At: Duration(20 * time.Second), Action: ActionRollout, Target: "svc-0"}}
	want, err := Run(s)
	require.NoError(t, err)
	var evs []DataPlaneEvent
	got, err := RunWithOptions(s, RunOptions{DataPlane: func(e DataPlaneEvent) { evs = append(evs, e) }})
	require.NoError(t, err)
	require.Equal(t, string(mustJSON(t, want)), string(mustJSON(t, got)))

	nodes := map[string]uint64{}
	started := map[service.NamespacedName]bool{}
	up := map[service.NamespacedName]bool{}
	client := map[service.NamespacedName]bool{}
	counts := map[string]int{}
	var last time.Duration
	for i, e := range evs {
		require.GreaterOrEqual(t, e.At, last, "event %d %s goes back in time", i, e.Kind)
		last = e.At
		counts[e.Kind]++
		switch e.Kind {
		case DataPlaneNode:
			require.Zero(t, e.At)
			require.True(t, e.NodeAddr.IsValid() && e.PodCIDR.IsValid(), "%+v", e)
			nodes[e.Node] = 0
		case DataPlaneFlow:
			require.Zero(t, e.At)
			require.True(t, e.Target.IsValid(), "%+v", e)
		case DataPlanePodStart:
			_, ok := nodes[e.Node]
			require.True(t, ok, "pod %s on unknown node %q", e.Pod, e.Node)
			require.True(t, e.PodAddr.IsValid())
			started[e.Pod] = true
			client[e.Pod] = e.Flow >= 0
		case DataPlaneAppUp:
			require.True(t, started[e.Pod], "%s up before it started", e.Pod)
			require.Equal(t, client[e.Pod], len(e.Ports) == 0, "%s: ports %v", e.Pod, e.Ports)
			up[e.Pod] = true
		case DataPlaneAppDown:
			require.True(t, up[e.Pod], "%s down while not up", e.Pod)
			up[e.Pod] = false
		case DataPlanePodGone:
			require.False(t, up[e.Pod], "%s gone while its app is up", e.Pod)
			delete(started, e.Pod)
		case DataPlaneSync:
			g, ok := nodes[e.Node]
			require.True(t, ok)
			require.NotNil(t, e.Table)
			require.Greater(t, e.Generation, g, "node %s synced back", e.Node)
			nodes[e.Node] = e.Generation
		}
	}
	require.Equal(t, s.Cluster.Nodes, counts[DataPlaneNode])
	require.Equal(t, len(s.Traffic), counts[DataPlaneFlow])
	require.Positive(t, counts[DataPlaneAppDown], "the rollout stopped no application")
	require.Positive(t, counts[DataPlaneChange])
	require.Contains(t, client, service.NamespacedName{Namespace: "default", Name: clientPodName(0, 0)})
	// Every node synced beyond time 0, to the newest generation the run
	// reached.
	require.Greater(t, counts[DataPlaneSync], s.Cluster.Nodes)
}

// TestRunDataPlaneFaults: a killed node is reported down, its pods'
// applications go down after it, and it does not sync until it is
// reported up again; a node cut off does not sync while it is cut; the
// cluster DNS is reported at time 0 (its address, the kubelets') and
// once before each of the run's DNS syncs; a via-dns flow names its
// host, and its client pods carry a ClusterFirst resolv.conf.
func TestRunDataPlaneFaults(t *testing.T) {
	s := small(4)
	s.Duration = Duration(90 * time.Second)
	s.Traffic[0].Via = ViaDNS
	s.Timeline = []TimelineEvent{
		{At: Duration(10 * time.Second), Action: ActionKillNode, Target: "node-1", For: D(30 * time.Second)},
		{At: Duration(20 * time.Second), Action: ActionCutNode, Target: "node-2", For: D(20 * time.Second)},
		{At: Duration(50 * time.Second), Action: ActionDeletePod, Target: "svc-0"},
	}
	var evs []DataPlaneEvent
	got, err := RunWithOptions(s, RunOptions{DataPlane: func(e DataPlaneEvent) { evs = append(evs, e) }})
	require.NoError(t, err)
	onNode := map[service.NamespacedName]string{}
	down := map[string]bool{}
	var dns, downs, ups int
	var podsDown int
	for _, e := range evs {
		switch e.Kind {
		case DataPlanePodStart:
			onNode[e.Pod] = e.Node
			if e.Flow >= 0 {
				require.NotNil(t, e.ResolvConf, "client %s without resolv.conf", e.Pod)
				require.Equal(t, []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}, e.ResolvConf.Search)
			}
		case DataPlaneFlow:
			require.Equal(t, ViaDNS, e.Via)
			require.Equal(t, "svc-0", e.Host)
		case DataPlaneNodeDown:
			require.Equal(t, "node-1", e.Node)
			require.Equal(t, 10*time.Second, e.At)
			down[e.Node] = true
			downs++
		case DataPlaneNodeUp:
			require.Equal(t, 40*time.Second, e.At)
			down[e.Node] = false
			ups++
		case DataPlaneAppDown:
			if down[onNode[e.Pod]] {
				podsDown++
			}
		case DataPlaneSync:
			require.False(t, down[e.Node], "%s synced at %v while down", e.Node, e.At)
			if e.Node == "node-2" {
				require.False(t, e.At > 20*time.Second && e.At < 40*time.Second, "node-2 synced at %v while cut off", e.At)
			}
		case DataPlaneDNS:
			require.NotNil(t, e.DNS)
			require.True(t, e.DNSAddr.IsValid())
			dns++
		}
	}
	require.Equal(t, 1, downs)
	require.Equal(t, 1, ups)
	require.Positive(t, podsDown, "no application of node-1 went down with it")
	require.Positive(t, got.Cluster.DNSSyncs)
	require.EqualValues(t, got.Cluster.DNSSyncs+1, dns, "one at time 0, one per DNS sync")
}

// TestRunDataPlaneTrafficKinds: a LoadBalancer flow's Target is the
// Service's LoadBalancer IP (from the pool, not a ClusterIP), a headless
// flow's is Direct with the port's named targetPort, and a pod a
// clientSelector chose starts with that flow in Flows and its
// resolv.conf, as a flow's own client pod does.
func TestRunDataPlaneTrafficKinds(t *testing.T) {
	s, err := DecodeScenario([]byte(`apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: kinds}
duration: 2s
cluster: {nodes: 2}
traffic:
- {service: web, from: external, rate: 1}
- {service: web, via: clusterIP, clientSelector: app=web, rate: 1}
- {service: hl, rate: 1, clients: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
  - {port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata: {name: hl}
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {port: 80, targetPort: http}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        ports:
        - {name: http, containerPort: 8080}
`))
	require.NoError(t, err)
	flows := map[int]DataPlaneEvent{}
	starts := map[string]DataPlaneEvent{}
	_, err = RunWithOptions(s, RunOptions{DataPlane: func(e DataPlaneEvent) {
		switch e.Kind {
		case DataPlaneFlow:
			flows[e.Flow] = e
		case DataPlanePodStart:
			starts[e.Pod.Name] = e
		}
	}})
	require.NoError(t, err)
	require.Len(t, flows, 3)
	lbf := flows[0]
	require.Equal(t, ViaLoadBalancer, lbf.Via)
	require.True(t, netip.MustParsePrefix("198.51.100.0/24").Contains(lbf.Target.Addr()), "the LoadBalancer IP, from cluster.loadBalancerRange's default: %v", lbf.Target)
	require.Equal(t, uint16(80), lbf.Target.Port())
	require.NotEmpty(t, lbf.Clients)
	require.Equal(t, ViaClusterIP, flows[1].Via)
	require.False(t, flows[1].Direct)
	hl := flows[2]
	require.True(t, hl.Direct)
	require.Equal(t, "hl", hl.Host)
	require.Equal(t, service.FromString("http"), hl.TargetPort)
	var chosen int
	for name, e := range starts {
		switch {
		case strings.HasPrefix(name, "web-"):
			chosen++
			require.Equal(t, []int{1}, e.Flows, name)
			require.Equal(t, 1, e.Flow, name)
			require.NotNil(t, e.ResolvConf, name)
		case strings.HasPrefix(name, "client-2-"):
			require.Equal(t, []int{2}, e.Flows, name)
			require.NotNil(t, e.ResolvConf, name)
		default:
			t.Fatalf("pod %s", name)
		}
	}
	require.Equal(t, 2, chosen, "both web pods are flow 1's clients")
}
