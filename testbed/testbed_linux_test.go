//go:build linux

package testbed

import (
	"flag"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/internal/netns"
	"github.com/svcnet/svcnet/sim"
)

// long runs the reduced scenarios whole and in real time (about 2
// minutes each) instead of cut to 40 s at half speed.
var long = flag.Bool("testbed.long", false, "run the real-kernel scenarios whole, in real time")

// seeds is how many seeds TestRollingUpdate runs for real without
// preStop (20 s each at half speed): 1 in the suite, to keep it within
// its time budget.
var seeds = flag.Int("testbed.seeds", 1, "seeds of the rolling update without preStop to run for real (1-20)")

// needKernel skips the test (fails it under SVCNET_REQUIRE_NETNS=1)
// without root, ip or nft, and returns a prefix unique to the test.
func needKernel(t *testing.T) string {
	netns.New(t, "nft", "sysctl") // makes nothing: only its checks
	return fmt.Sprintf("svctb-%s-%d-", strings.ToLower(t.Name()[4:min(len(t.Name()), 12)]), time.Now().UnixNano()%1e6)
}

// compareScenario runs a scenario's YAML on the testbed at half speed
// and returns the prediction, the measurement and the testbed's stats,
// failing the test on any error or on a namespace left behind.
func compareScenario(t *testing.T, yaml string) (pred, meas sim.Result, st Stats) {
	t.Helper()
	s, err := sim.DecodeScenario([]byte(yaml))
	require.NoError(t, err)
	return compareRunning(t, s, 0.5, stalled)
}

// compareRunning runs s on the testbed at the time scale given, again
// while bad(its Stats) says the run is not to be held against the
// prediction, three times at most (then the test fails and says why),
// each run with a prefix of its own, and fails the test on any error or
// on a namespace left behind.
func compareRunning(t *testing.T, s sim.Scenario, scale float64, bad func(Stats) bool) (pred, meas sim.Result, st Stats) {
	t.Helper()
	prefix := needKernel(t)
	for attempt := range 3 {
		opts := Options{TimeScale: scale, Prefix: fmt.Sprintf("%s%d-", prefix, attempt), Log: t.Logf, Stats: &st}
		var err error
		pred, meas, err = Compare(s, opts)
		require.NoError(t, err)
		require.Empty(t, leftovers(t, opts.Prefix), "namespaces left behind")
		if !bad(st) {
			return pred, meas, st
		}
		t.Logf("attempt %d: the testbed did not keep up with the simulated timeline (%+v)", attempt+1, st)
	}
	require.FailNow(t, "the machine was too loaded for the testbed to keep up in three runs", "%+v", st)
	return pred, meas, st
}

// stalled reports whether the testbed's process stalled for long enough
// (500 ms simulated: a quarter of the 2 s connect timeout at half speed;
// on a machine at a load of 8 the stalls stay under 100 ms) to turn
// served connections into timed-out ones: the -race suite once measured
// 345 failures against 90 predicted, its dials taking 3.8 s against
// their 2 s timeout. Such a run is made again.
func stalled(st Stats) bool { return st.MaxStall > 500*time.Millisecond }

// leftovers lists the namespaces whose names start with prefix.
func leftovers(t *testing.T, prefix string) []string {
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var left []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, prefix) {
			left = append(left, l)
		}
	}
	return left
}

// reduced is rolling-update-real.yaml's variant v cut to 40 s (the
// rollout starts at 15 s and its six steps end by 30 s) at the time
// scale given, or whole and in real time with -testbed.long.
func reduced(t *testing.T, v int, scale float64) (sim.Scenario, Options) {
	s, err := sim.ReadScenarioFiles("../examples/scenarios/rolling-update-real.yaml")
	require.NoError(t, err)
	s = s.Variants[v].Apply(s)
	if *long {
		return s, Options{TimeScale: 1}
	}
	s.Duration = sim.Duration(40 * time.Second)
	return s, Options{TimeScale: scale}
}

// lagShare is what the nft apply lag adds to the failed share of a
// scenario whose endpoints are removed while the traffic goes to them,
// the simulator not modelling it: every removal's stale window (the time
// a node still sends to a pod that stopped) is longer by the lag, so,
// with the traffic spread over the endpoints, the refused connections
// grow by rate × lag × (removed / endpoints), out of rate × duration.
// The nodes' mean apply lag of the run (Stats.MeanApplyLag, simulated
// time) stands for the lag; removed/endpoints is the share of the
// endpoints replaced (a rolling update replaces all: 1).
func lagShare(st Stats, s sim.Scenario, replaced float64) float64 {
	return replaced * st.MeanApplyLag.Seconds() / s.Duration.D().Seconds()
}

// failedShare is the statistic the band tests hold: a run's failed share.
func failedShare(r sim.Result) float64 { return FailedShare(r.Connections) }

// keptUp is how closely the testbed must have followed the simulated
// timeline for its measurement to be held against the prediction: a
// node's rules may hold a table on average 500 ms (simulated) after the
// simulated sync (nft itself takes 40-150 ms; a run with a mean of
// 410 ms still measured 214 failures against 204), and at most 2.5 s
// (the 5 s preStop sleep less the 1.3 s programming delay leaves 1.2 s
// to spare). On a machine too loaded for that (the shared 2-core
// machines run at a load of 10 at times, and go test ./... runs other
// packages beside this one), the run is discarded and made again, up to
// three times; then the test fails and says why. Nor may the process
// have stalled.
func keptUp(st Stats) bool {
	return st.MeanApplyLag <= 500*time.Millisecond && st.MaxApplyLag <= 2500*time.Millisecond && !stalled(st)
}

// TestRollingUpdate: without preStop, a rolling update of 6 pods
// refuses and resets connections on the real kernel, and the failed
// share measured (on seed 1, and with -testbed.seeds on seeds 2, 3, ...
// as well) agrees with the simulator's band over 20 seeds (PredictBand
// over seeds 1-20; Band.Limits: the band doubled about its middle, its
// top raised by lagShare); with a 5 s preStop sleep no seed fails
// anything and neither does the real run. Every namespace is removed
// afterwards. The runs without preStop go at half speed (20 s); the one
// with it at 0.75 (30 s), so that a loaded machine's slower nft stays
// well inside the sleep.
//
// Why this statistic: the testbed replays the seed's control plane but
// draws its own traffic (and the kernel adds its timing), so even a
// perfect simulator would not predict the seed's count exactly; the
// spread over seeds shows how far runs of one scenario fall apart
// (about ±10 % of the share here, what Poisson noise on ~200 failures
// gives alone), instead of a tolerance guessed for it. Measured before
// this statistic: 176-217 failed of ~3 950 over nine runs of seed 1
// (shares 0.045-0.055), against a band of 0.0434-0.0529, limits about
// 0.039-0.058 plus the lag's 0.003-0.012.
func TestRollingUpdate(t *testing.T) {
	prefix := needKernel(t)
	require.True(t, *seeds >= 1 && *seeds <= BandSeeds, "-testbed.seeds %d: want 1 to %d", *seeds, BandSeeds)
	type run struct {
		name  string
		v     int
		seed  uint64
		scale float64
	}
	// One after the other: two runs side by side slow each other's nft
	// past keptUp on a 2-core machine.
	runs := []run{{"no-prestop", 0, 1, 0.5}, {"prestop-5s", 1, 1, 0.75}}
	for seed := uint64(2); seed <= uint64(*seeds); seed++ {
		runs = append(runs, run{fmt.Sprintf("no-prestop-seed-%d", seed), 0, seed, 0.5})
	}
	for i, c := range runs {
		t.Run(c.name, func(t *testing.T) {
			var pred, meas sim.Result
			var st Stats
			var s sim.Scenario
			for attempt := range 3 {
				var opts Options
				s, opts = reduced(t, c.v, c.scale)
				s.Seed = c.seed
				opts.Prefix = fmt.Sprintf("%s%d%d-", prefix, i, attempt)
				opts.Log = t.Logf // shown on failure, or with -v
				opts.Stats = &st
				start := time.Now()
				var err error
				pred, meas, err = Compare(s, opts)
				require.NoError(t, err)
				require.Empty(t, leftovers(t, opts.Prefix), "namespaces left behind")
				p, m := pred.Connections, meas.Connections
				t.Logf("%s in %v: predicted %d of %d failed (refused %d, reset %d); measured %d of %d (refused %d, reset %d, unreachable or timed out %d); programming p50/p99 predicted %v/%v measured %v/%v",
					c.name, time.Since(start).Round(time.Second), p.Failed(), p.Total, p.Refused, p.Reset, m.Failed(), m.Total, m.Refused, m.Reset, m.Unreachable,
					pred.EndpointLatency.P50, pred.EndpointLatency.P99, meas.EndpointLatency.P50, meas.EndpointLatency.P99)
				t.Logf("kept up: %+v", st)
				if keptUp(st) {
					break
				}
				t.Logf("attempt %d: the testbed did not keep up with the simulated timeline (%+v)", attempt+1, st)
			}
			require.True(t, keptUp(st), "the machine was too loaded for the testbed to keep up in three runs: %+v", st)
			p, m := pred.Connections, meas.Connections
			// The clients opened about as many connections as the
			// simulator did (Poisson: within 5σ).
			require.InDelta(t, float64(p.Total), float64(m.Total), 5*math.Sqrt(float64(p.Total)))
			require.Positive(t, meas.EndpointLatency.Count)
			// One band for both seeds: the scenario's seed 1 and the 19
			// after it.
			first := s
			first.Seed = 1
			band, values, err := PredictBand(first, BandSeeds, failedShare)
			require.NoError(t, err)
			require.Equal(t, FailedShare(p), values[c.seed-1], "the seed run for real is one of the band's")
			if c.v == 1 {
				require.Equal(t, Band{Seeds: BandSeeds}, band, "the simulator predicts no failure with preStop on any seed")
				require.Zero(t, m.Failed(), "measured failures with preStop: %+v (%+v)", m, st)
				return
			}
			require.Positive(t, p.Refused)
			require.Positive(t, p.Reset)
			require.Positive(t, m.Reset, "no connection was reset by a pod stopping")
			require.Positive(t, m.Refused+m.Unreachable, "no connection met a stopped pod through a stale rule")
			above := lagShare(st, s, 1)
			lo, hi := band.Limits(above)
			got := FailedShare(m)
			t.Logf("failed share: predicted %.4f (seed %d), band %v; measured %.4f; limits %.4f-%.4f (nft lag adds %.4f)", FailedShare(p), s.Seed, band, got, lo, hi, above)
			require.True(t, band.Admits(got, above), "measured failed share %.4f (%d of %d) outside %.4f-%.4f: band %v, nft lag %v", got, m.Failed(), m.Total, lo, hi, band, st.MeanApplyLag)
		})
	}
}

// TestInterrupted: closing Options.Stop ends a run early with
// ErrInterrupted, and every namespace is removed.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	prefix := needKernel(t)
	s, opts := reduced(t, 0, 0.5)
	opts.Prefix = prefix
	stop := make(chan struct{})
	opts.Stop = stop
	time.AfterFunc(3*time.Second, func() { close(stop) })
	start := time.Now()
	_, _, err := Compare(s, opts)
	require.ErrorIs(t, err, ErrInterrupted)
	require.Less(t, time.Since(start), 15*time.Second)
	require.Empty(t, leftovers(t, prefix))
}

// etpLocal is a NodePort Service with externalTrafficPolicy Local and
// two pods on three nodes, reached from off the cluster through a
// random node's NodePort: a node without a local endpoint drops the
// connection.
const etpLocal = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: etp-local}
seed: 3
duration: 20s
cluster: {nodes: 3}
traffic:
- {service: web, from: external, via: nodePort, rate: 30, clients: 4, length: {kind: constant, mean: 200ms}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
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
`

// TestETPLocal: the share of off-cluster connections a NodePort with
// externalTrafficPolicy Local drops on the nodes without a local
// endpoint, measured (connects that time out: nothing answers a dropped
// SYN), is within the limits of the simulator's band of the Dropped
// share over 20 seeds (3-22; Band.Limits, nothing added: no stale
// window is involved). The band is that of the binomial noise about 1/3
// (0.31-0.40: on 19 of the 20 seeds, seed 3 among them, the two pods
// run on two of the three nodes; on the other they share one, and it
// drops 2/3, past the 95th percentile). Nothing else fails.
func TestETPLocal(t *testing.T) {
	t.Parallel()
	pred, meas, st := compareScenario(t, etpLocal)
	p, m := pred.Connections, meas.Connections
	t.Logf("predicted %+v; measured %+v (%+v)", p, m, st)
	require.Positive(t, p.Dropped, "the simulator drops nothing: both pods on every node?")
	require.Less(t, p.Dropped, p.Total)
	s, err := sim.DecodeScenario([]byte(etpLocal))
	require.NoError(t, err)
	band, values, err := PredictBand(s, BandSeeds, func(r sim.Result) float64 {
		return float64(r.Connections.Dropped) / float64(max(r.Connections.Total, 1))
	})
	require.NoError(t, err)
	want := float64(p.Dropped) / float64(p.Total)
	require.Equal(t, want, values[0])
	got := float64(st.TimedOut) / float64(m.Total)
	lo, hi := band.Limits(0)
	t.Logf("dropped share: predicted %.4f (seed %d), band %v; measured %.4f; limits %.4f-%.4f", want, s.Seed, band, got, lo, hi)
	require.True(t, band.Admits(got, 0), "dropped share: measured %.4f outside %.4f-%.4f (band %v)", got, lo, hi, band)
	require.Zero(t, m.Refused+m.Reset+st.Unreachable, "only drops: %+v", m)
}

// oneLeaves: 100 long-lived flows (20 s, pinging as they go) to a
// ClusterIP of five pods on a data plane without connection tracking
// (sim's stateless: the testbed flushes each node's conntrack when its
// rules change, so the next packet of every flow meets the rules again);
// at 12 s one pod is deleted, and its Deployment replaces it.
const oneLeaves = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: one-leaves}
seed: 5
duration: 30s
cluster: {nodes: 3, dataplane: stateless}
traffic:
- {service: web, via: clusterIP, rate: 10, clients: 3, stop: 10s, length: {kind: constant, mean: 20s}}
timeline:
- {at: 12s, action: deletePod, target: web}
variants:
- {name: maglev, algorithm: maglev}
- {name: random, algorithm: random}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 5
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
`

// TestMaglevVsRandom: when one of five backends leaves, the share of
// long-lived flows broken, measured, is for Maglev within the limits of
// the simulator's band over 20 seeds (5-24; Band.Limits, nothing added:
// the share is set by which flows the new table moves, not by how long
// the change takes; a band of 0.28-0.38, binomial noise over ~100
// flows, σ ≈ 0.05). For random nearly every flow breaks (each rule
// change re-rolls every flow's backend, and a flow meets two or three:
// ~1 of 100 survives), so the band (0.98-1) is that of a count near
// zero, Poisson and not normal, which doubling does not cover (measured
// 0.969 once: three survived, outside the limits 0.970-1.010, where
// Poisson with mean 1 gives three or more 8 % of the time); random is
// held to the seed's prediction within 0.15 (binomial σ ≤ 0.05) as
// before.
// Maglev breaks fewer than random on both.
func TestMaglevVsRandom(t *testing.T) {
	t.Parallel()
	needKernel(t)
	if _, err := exec.LookPath("conntrack"); err != nil {
		netns.New(t, "conntrack") // skips, or fails under SVCNET_REQUIRE_NETNS=1
	}
	s, err := sim.DecodeScenario([]byte(oneLeaves))
	require.NoError(t, err)
	var broken [2][2]float64 // variant, predicted/measured
	// The variants run side by side; the group returns when both ended.
	t.Run("variants", func(t *testing.T) {
		for i, v := range s.Variants {
			t.Run(v.Name, func(t *testing.T) {
				t.Parallel()
				vs := v.Apply(s)
				pred, meas, st := compareRunning(t, vs, 0.5, stalled)
				p, m := pred.Connections, meas.Connections
				t.Logf("%s: predicted %+v; measured %+v (%+v)", v.Name, p, m, st)
				require.Positive(t, p.Total)
				require.Positive(t, m.Total)
				broken[i] = [2]float64{FailedShare(p), FailedShare(m)}
				if v.Algorithm == "random" {
					require.InDelta(t, broken[i][0], broken[i][1], 0.15, "%s: broken share predicted %.3f, measured %.3f", v.Name, broken[i][0], broken[i][1])
					return
				}
				band, values, err := PredictBand(vs, BandSeeds, failedShare)
				require.NoError(t, err)
				require.Equal(t, broken[i][0], values[0])
				lo, hi := band.Limits(0)
				t.Logf("%s: broken share predicted %.4f (seed %d), band %v; measured %.4f; limits %.4f-%.4f", v.Name, broken[i][0], vs.Seed, band, broken[i][1], lo, hi)
				require.True(t, band.Admits(broken[i][1], 0), "%s: broken share measured %.4f outside %.4f-%.4f (band %v)", v.Name, broken[i][1], lo, hi, band)
			})
		}
	})
	if t.Failed() {
		return
	}
	require.Less(t, broken[0][0], broken[1][0], "simulated: maglev breaks fewer flows than random")
	require.Less(t, broken[0][1], broken[1][1], "measured: maglev breaks fewer flows than random")
}

// viaDNS: clients resolve the Service's short name through the cluster
// DNS with their resolv.conf's search path (TTL 5 s, cached per client
// pod), then connect to the answer. At 8 s the Service is deleted: once
// the DNS has synced, a lookup is NXDOMAIN on every candidate (a DNS
// failure), and an answer still cached points to a ClusterIP no rule
// holds (unreachable: cluster-ips-check drops it). At 16 s it is made
// again, with a new ClusterIP, and both heal.
const viaDNS = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: via-dns}
seed: 7
duration: 24s
cluster: {nodes: 3}
traffic:
- {service: web, via: dns, rate: 30, clients: 3, length: {kind: constant, mean: 100ms}}
timeline:
- {at: 8s, action: deleteService, target: web}
- {at: 16s, action: createService, target: web}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
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
`

// TestViaDNS: a via-dns flow's clients look the name up in the real
// dnsserver the nodes serve on the cluster DNS address: the lookups
// made agree with the simulator's DNS queries (one per client per TTL,
// so about 3 clients × 24 s / 5 s, plus the failed ones repeated: within
// 30 %, the TTL boundaries falling differently on the wall clock), the
// servers answered at least one query per lookup (the search path's
// first candidate, web.default.svc.cluster.local, answers), and the
// failures come in the same classes as predicted: DNS failures while
// the Service is gone, unreachable while a stale answer is cached, each
// within 40 % (or 5) of the prediction, Poisson noise on counts of
// ~10-100 and the DNS sync mirrored up to a nft apply late.
func TestViaDNS(t *testing.T) {
	t.Parallel()
	pred, meas, st := compareScenario(t, viaDNS)
	p, m := pred.Connections, meas.Connections
	t.Logf("predicted %+v, %d DNS queries; measured %+v, %d lookups (%+v)", p, pred.Cluster.DNSQueries, m, meas.Cluster.DNSQueries, st)
	require.Positive(t, p.DNSFailure, "the simulator predicts no DNS failure")
	require.Positive(t, m.DNSFailure, "no lookup failed while the Service was gone")
	require.InDelta(t, float64(p.DNSFailure), float64(m.DNSFailure), max(5, 0.4*float64(p.DNSFailure)))
	require.InDelta(t, float64(p.Unreachable), float64(m.Unreachable), max(5, 0.4*float64(p.Unreachable)))
	require.Zero(t, m.Refused+m.Reset, "nothing refused or reset: %+v", m)
	require.InDelta(t, float64(p.Served), float64(m.Served), 0.1*float64(p.Served))
	require.Positive(t, pred.Cluster.DNSQueries)
	require.InDelta(t, float64(pred.Cluster.DNSQueries), float64(meas.Cluster.DNSQueries), 0.3*float64(pred.Cluster.DNSQueries))
	require.GreaterOrEqual(t, st.DNSAnswered, st.DNSLookups, "a lookup that reached no server")
	require.Positive(t, meas.Cluster.DNSSyncs)
}

// nodeDies: node-1 dies at 10 s and boots again at 30 s. Until the node
// lifecycle controller notices (a 6 s grace period here) and the nodes'
// rules drop its pods, a third of the connections go to pods that are
// gone with their node; those open through it break. Off-cluster
// clients reach the Service's NodePort through a node Ready in the API:
// until it is marked NotReady the dead node is one of them, and their
// SYNs to it go unanswered; after, they pick among the two others.
const nodeDies = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: node-dies}
seed: 11
duration: 36s
cluster:
  nodes: 3
  delays: {nodeMonitorGracePeriod: 6s}
traffic:
- {service: web, via: clusterIP, rate: 40, clients: 4, length: {kind: constant, mean: 300ms}}
- {service: web, from: external, via: nodePort, rate: 20, clients: 4, length: {kind: constant, mean: 300ms}}
timeline:
- {at: 10s, action: killNode, target: node-1, for: 20s}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
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
`

// TestNodeDies: a killed node (off the underlay, its pods' sandboxes
// and its DNS server gone, its agent no longer syncing) fails
// connections on the real kernel within 40 % of the simulator's
// prediction for the same seed, for the pods' flow and for the
// off-cluster one alike (each ~90 failures: Poisson σ ≈ √(2·90) ≈ 13,
// 15 %; the rest is the nft apply lag at the end of the window, as in
// TestRollingUpdate). The off-cluster flow tells the node picks apart:
// clients that kept picking the dead node after it turned NotReady
// (6 s into its 20) would fail about 14 s × 20/s × 1/3 ≈ 93 connections
// more, twice the prediction. The classes differ, and the simulator's
// doc says why: the simulator refuses a connection sent to a pod whose
// node is dead, where the real SYN gets no answer and times out.
//
// The band of PredictBand is no help here: which pods the scheduler
// puts on node-1 depends on the seed (the failed share over 20 seeds
// spans 0.004-0.11), so the seed's own prediction is the sharper test.
func TestNodeDies(t *testing.T) {
	t.Parallel()
	pred, meas, st := compareScenario(t, nodeDies)
	p, m := pred.Connections, meas.Connections
	t.Logf("predicted %+v; measured %+v (%+v)", p, m, st)
	require.Len(t, meas.Flows, 2)
	for i, name := range []string{"pods", "off-cluster"} {
		pf, mf := pred.Flows[i].Connections, meas.Flows[i].Connections
		t.Logf("%s: predicted %d of %d failed (%+v); measured %d of %d (%+v)", name, pf.Failed(), pf.Total, pf, mf.Failed(), mf.Total, mf)
		require.Positive(t, pf.Failed(), "%s: the simulator predicts no failure", name)
		require.Positive(t, mf.Failed(), "%s: nothing failed on the real kernel", name)
		require.InDelta(t, float64(pf.Failed()), float64(mf.Failed()), 0.4*float64(pf.Failed()),
			"%s: measured %d failed, predicted %d", name, mf.Failed(), pf.Failed())
		require.InDelta(t, float64(pf.Total), float64(mf.Total), 5*math.Sqrt(float64(pf.Total)), name)
	}
	require.Positive(t, pred.Flows[1].Connections.Unreachable, "the simulator sends no off-cluster client to the dead node")
}

// TestUDPApp: a pod's application echoes datagrams on its UDP container
// ports while it serves, and once it is down the port is closed: the
// kernel's ICMP port unreachable makes the next exchange on a connected
// socket fail with ECONNREFUSED.
func TestUDPApp(t *testing.T) {
	h := netns.New(t)
	ns := h.Namespace("udp")
	h.Run(ns, "ip", "addr", "add", "10.9.0.2/32", "dev", "lo")
	addr := netip.MustParseAddr("10.9.0.2")
	a, err := startApp(ns, addr, nil, []int32{5353})
	require.NoError(t, err)
	var c net.Conn
	require.NoError(t, h.Do(ns, func() (err error) {
		c, err = net.Dial("udp4", "10.9.0.2:5353")
		return err
	}))
	defer c.Close()
	exchange := func(msg string) (string, error) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		b := make([]byte, 64)
		n, err := c.Read(b)
		return string(b[:n]), err
	}
	got, err := exchange("hello")
	require.NoError(t, err)
	require.Equal(t, "hello", got)
	a.stop()
	_, err = exchange("again")
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "a stopped app's UDP port is closed")
}
