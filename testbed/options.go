package testbed

import (
	"errors"
	"fmt"
	"time"

	"github.com/svcnet/svcnet/sim"
)

// Errors of Run.
var (
	// ErrUnsupported: not Linux, not root, or a tool (ip, nft) missing.
	ErrUnsupported = errors.New("testbed: unsupported here")
	// ErrTooLarge: a scenario beyond the testbed's size bound (MaxNodes,
	// MaxPods, MaxNodePods, MaxRate), refused before anything is made.
	ErrTooLarge = errors.New("testbed: scenario too large")
	// ErrInvalid: an Options field or a scenario feature the testbed
	// cannot run.
	ErrInvalid = errors.New("testbed: invalid")
	// ErrInterrupted: Options.Stop was closed; the Result holds what was
	// measured until then.
	ErrInterrupted = errors.New("testbed: interrupted")
)

// The size bound: one machine runs every node and pod as a network
// namespace and every connection as a real socket, so a scenario must
// stay small. MaxNodePods bounds nodes × pods, the cost of the rules
// every node renders for every pod.
const (
	MaxNodes    = 10
	MaxPods     = 60
	MaxNodePods = 300
	// MaxRate is the wall-clock connection rate of all flows together
	// (each flow's rate divided by the time scale).
	MaxRate = 500
)

// Options are how the testbed runs a scenario. The zero Options run it
// in real time.
type Options struct {
	// TimeScale is wall-clock seconds per simulated second: 0.5 runs a
	// 2-minute scenario in 1 minute, its delays (watch, sync, batch,
	// preStop, probes) and connection lengths halved and its rates
	// doubled. Kernel timings (SYN retransmits, connect timeouts) are
	// not scaled. 0 means 1; it must be in (0, 10].
	TimeScale float64
	// ConnectTimeout bounds a client's connect, in wall-clock time;
	// 0 means 2 s (one SYN retransmission, at 1 s, fits in it).
	ConnectTimeout time.Duration
	// Prefix starts the name of every namespace the testbed makes;
	// "" means "svctb-<pid>-".
	Prefix string
	// Stop, when closed, ends the run early (a SIGINT in the CLI):
	// everything is torn down and Run returns ErrInterrupted.
	Stop <-chan struct{}
	// Stats, if not nil, is filled with how well the testbed kept up
	// when Compare returns.
	Stats *Stats
	// Log, if not nil, gets a line per step (namespaces made, rules
	// applied, pods up and down).
	Log func(format string, args ...any)
}

func (o Options) scale() float64 {
	if o.TimeScale == 0 {
		return 1
	}
	return o.TimeScale
}

func (o Options) check() error {
	if s := o.scale(); !(s > 0 && s <= 10) {
		return fmt.Errorf("%w: Options.TimeScale %v: want a value in (0, 10]", ErrInvalid, o.TimeScale)
	}
	if o.ConnectTimeout < 0 {
		return fmt.Errorf("%w: Options.ConnectTimeout %v: must not be negative", ErrInvalid, o.ConnectTimeout)
	}
	return nil
}

// Stats say how well the testbed kept to the simulated timeline (in
// simulated time), and what the measured Result folds together. A
// measurement is only comparable with the prediction when the lags are
// small beside the scenario's own delays (a preStop sleep, a sync).
type Stats struct {
	// MaxApplyLag is the longest a node's rules took, after the
	// simulated sync, to hold the table (nft returned); MeanApplyLag the
	// mean over every sync (at time 0: how long nft took).
	MaxApplyLag, MeanApplyLag time.Duration
	// MaxEventLate is the most a pod change was mirrored after its time.
	MaxEventLate time.Duration
	// MaxStall is the longest the testbed's process could not run on
	// time: a heartbeat every 50 ms (wall clock) woke that much late at
	// most. A stall of a good part of the connect timeout turns a
	// connection that was served into one that timed out (a machine so
	// loaded the process does not run, as on the shared 2-core machines
	// at a load of 10).
	MaxStall time.Duration
	// TimedOut and Unreachable split the measured Unreachable.
	TimedOut, Unreachable int64
	// Skipped counts arrivals not opened because too many connections
	// were in flight.
	Skipped int64
	// DNSLookups counts the lookups clients of via-dns flows made
	// through the cluster DNS (each a walk of the pod's search path);
	// DNSAnswered the queries the DNS servers answered.
	DNSLookups, DNSAnswered int64
}

// Size is a scenario's size as the bound counts it.
type Size struct {
	Nodes int
	// Pods counts the Deployments' replicas with their surge, the
	// StatefulSets' and ReplicaSets' replicas (a StatefulSet replaces a
	// pod after deleting it), two pods a node for each DaemonSet (its
	// maxSurge at most doubles one node's), the scenario's bare pods and
	// the flows' client pods.
	Pods int
	// Rate is the connections per wall-clock second of all flows.
	Rate float64
}

// SizeOf returns the size of s run at timeScale (0 means 1).
func SizeOf(s sim.Scenario, timeScale float64) Size {
	if timeScale == 0 {
		timeScale = 1
	}
	z := Size{Nodes: s.Cluster.Nodes + len(s.Nodes), Pods: len(s.Pods)}
	for _, d := range s.Deployments {
		if d == nil {
			continue
		}
		// maxSurge at most doubles a Deployment during a rollout.
		z.Pods += 2 * int(d.ReplicaCount())
	}
	for _, st := range s.StatefulSets {
		if st != nil {
			z.Pods += int(st.ReplicaCount())
		}
	}
	for _, rs := range s.ReplicaSets {
		if rs != nil {
			z.Pods += int(rs.ReplicaCount())
		}
	}
	for _, ds := range s.DaemonSets {
		if ds != nil {
			z.Pods += 2 * z.Nodes
		}
	}
	z.Pods += 2 * s.Workload.Services * int(s.Workload.Replicas)
	for _, f := range s.Traffic {
		c := f.Clients
		if c == 0 {
			c = 10
		}
		if f.From != sim.FromExternal && f.ClientSelector == "" {
			z.Pods += c
		}
		z.Rate += f.Rate / timeScale
	}
	return z
}

// checkSize refuses a scenario beyond the bound.
func checkSize(s sim.Scenario, timeScale float64) error {
	z := SizeOf(s, timeScale)
	switch {
	case z.Nodes > MaxNodes:
		return fmt.Errorf("%w: %d nodes: at most %d", ErrTooLarge, z.Nodes, MaxNodes)
	case z.Pods > MaxPods:
		return fmt.Errorf("%w: up to %d pods (replicas with surge and client pods): at most %d", ErrTooLarge, z.Pods, MaxPods)
	case z.Nodes*z.Pods > MaxNodePods:
		return fmt.Errorf("%w: %d nodes × %d pods = %d: at most %d", ErrTooLarge, z.Nodes, z.Pods, z.Nodes*z.Pods, MaxNodePods)
	case z.Rate > MaxRate:
		return fmt.Errorf("%w: %.0f connections per wall-clock second (rates over the time scale): at most %d", ErrTooLarge, z.Rate, MaxRate)
	}
	return nil
}

// checkFeatures refuses what the testbed does not mirror yet. Every kind
// of traffic the simulator runs is mirrored (ClusterIP, DNS, a headless
// Service's or a pod's name, NodePort and LoadBalancer, from pods, from
// pods a clientSelector chooses, or from outside); only one variant runs
// at a time.
func checkFeatures(s sim.Scenario) error {
	if len(s.Variants) > 0 {
		return fmt.Errorf("%w: variants: %d of them: run one variant at a time (Variant.Apply)", ErrInvalid, len(s.Variants))
	}
	return nil
}
