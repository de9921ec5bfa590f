//go:build linux

package testbed

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/sim"
)

// trafficKinds runs, in one scenario, every kind of traffic besides a
// ClusterIP and a Service name from client pods (the other tests' own):
//
//   - lb-external: off-cluster clients to the LoadBalancer IP of web
//     (externalTrafficPolicy Local, 2 pods on 3 nodes), through the node
//     the cloud load balancer picks: it skips a node without a local
//     endpoint (its healthCheckNodePort fails), so nothing is dropped
//     (a NodePort of the same Service drops a third, TestETPLocal);
//   - lb-pods: pods to the same LoadBalancer IP, which their own node's
//     kube-proxy takes (pod traffic to an external address of an ETP
//     Local Service goes to every endpoint, "short-circuit" in the
//     nftables proxier);
//   - nodeport-pods: pods to a random node's address at web's NodePort;
//   - selector: the StatefulSet db's own pods (clientSelector app=db) to
//     web by its name through the cluster DNS;
//   - headless: pods resolve the headless Service db (an A record per
//     ready pod) and connect straight to one pod, at the targetPort
//     named http;
//   - hostname: pods resolve db-0.db, the stable name of the
//     StatefulSet's first pod, and connect to it.
//
// At 12 s db-0 is deleted: until the DNS drops it, clients that hold its
// address (TTL 1 s) time out on it (no pod has it: the node answers
// with an ICMP unreachable, or, past the kernel's ICMP rate limit, says
// nothing), then db-0.db does not resolve until the StatefulSet's new
// db-0 is ready.
//
// No web pod leaves: a connection sent to a pod whose sandbox is gone
// meets an ICMP unreachable from the node, which the kernel rate-limits
// per destination (net.ipv4.icmp_ratelimit: a burst of 6, then one a
// second); past it the SYN is dropped silently and retransmitted a
// second later (wall clock: 2 s simulated at half speed), by when the
// rules have moved on and it is served. With only 6 off-cluster client
// addresses, a draft of this scenario whose load balancer kept sending
// to a node left with one terminating pod for 1.2 s measured 5 failures
// where the simulator refused 17 (the load balancer now drains such a
// node at its sync, KEP-1669, TestLoadBalanceTerminatingLocal); the
// ClusterIP flows of TestRollingUpdate come from many pods and stay
// under the limit.
const trafficKinds = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: traffic-kinds}
seed: 3
duration: 22s
cluster: {nodes: 3, dnsTTL: 1s}
traffic:
- {name: lb-external, service: web, from: external, via: loadBalancer, rate: 20, clients: 6, length: {kind: constant, mean: 200ms}}
- {name: lb-pods, service: web, via: loadBalancer, rate: 10, clients: 2, length: {kind: constant, mean: 200ms}}
- {name: nodeport-pods, service: web, via: nodePort, rate: 15, clients: 2, length: {kind: constant, mean: 200ms}}
- {name: selector, service: web, clientSelector: app=db, rate: 10, length: {kind: constant, mean: 200ms}}
- {name: headless, service: db, rate: 15, clients: 4, length: {kind: constant, mean: 200ms}}
- {name: hostname, service: db, hostname: db-0.db, rate: 15, clients: 2, length: {kind: constant, mean: 200ms}}
timeline:
- {at: 12s, action: deletePod, target: db-0}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
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
        image: web
        ports:
        - {containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: db
        ports:
        - {name: http, containerPort: 9090}
`

// TestTrafficKinds: every flow of trafficKinds opens about as many
// connections on the real kernel as in the simulator (Poisson: within
// 5σ) and fails about as many of them, for the same seed: within 40 %
// or 10 of the prediction, scaled to the connections opened. Failures
// are 0-30 per flow but nodeport-pods' ~130, so Poisson noise alone is
// √(2F) ≈ 0-8 (16 for nodeport-pods, 12 %). Failures are compared whole:
// the classes of the hostname flow's split by chance, a client whose
// cached db-0 address (TTL 1 s) outlives the pod timing out on it, one
// whose cache runs out first failing to resolve, and which it is turns
// on where in its TTL each of the 2 clients is when db-0 goes (the
// simulator said 1 unreachable and 24 DNS failures, runs measured 7-10
// and 18-20); a flow the simulator predicts 10 or more DNS failures for
// must have some.
//
// What each flow shows beyond that: lb-external drops nothing (without
// the load balancer's health check a third of it, the share of a node
// without a local endpoint, would time out); nodeport-pods loses about
// 0.4 of its connections, the unmasqueraded answers of backends off the
// entry node (TestNodePortFromPodsLocal in sim); hostname and headless
// fail only while a cached address of the old db-0 is stale; selector's
// clients are db's pods. The run is discarded and made again, up to
// three times, when the testbed did not keep up (keptUp).
func TestTrafficKinds(t *testing.T) {
	var pred, meas sim.Result
	var st Stats
	for attempt := range 3 {
		start := time.Now()
		pred, meas, st = compareScenario(t, trafficKinds)
		t.Logf("attempt %d in %v: kept up %+v", attempt+1, time.Since(start).Round(100*time.Millisecond), st)
		if keptUp(st) {
			break
		}
	}
	require.True(t, keptUp(st), "the machine was too loaded for the testbed to keep up in three runs: %+v", st)
	require.Len(t, meas.Flows, len(pred.Flows))
	flows := map[string][2]sim.Outcomes{}
	for i, pf := range pred.Flows {
		p, m := pf.Connections, meas.Flows[i].Connections
		flows[pf.Name] = [2]sim.Outcomes{p, m}
		t.Logf("%s: predicted %+v; measured %+v", pf.Name, p, m)
		require.Positive(t, p.Total, pf.Name)
		require.InDelta(t, float64(p.Total), float64(m.Total), 5*math.Sqrt(float64(p.Total)), "%s: connections opened", pf.Name)
		scale := float64(m.Total) / float64(p.Total)
		pc, mc := float64(p.Failed())*scale, float64(m.Failed())
		require.InDelta(t, pc, mc, max(10, 0.4*pc), "%s: connections failed: predicted %.0f (scaled), measured %.0f", pf.Name, pc, mc)
		if p.DNSFailure >= 10 {
			require.Positive(t, m.DNSFailure, "%s: no DNS failure measured", pf.Name)
		}
	}
	// The prediction has what makes each comparison tell: a LoadBalancer
	// that drops nothing, a NodePort from pods and a pod's hostname that
	// lose a share.
	require.Zero(t, flows["lb-external"][0].Dropped+flows["lb-external"][0].Unreachable)
	require.Greater(t, flows["nodeport-pods"][0].Unreachable, flows["nodeport-pods"][0].Total/5)
	require.Positive(t, flows["hostname"][0].Failed())
	require.Greater(t, st.DNSLookups, int64(0))
}
