// Command svcsim runs svcnet's deterministic simulator on scenarios
// written as Kubernetes manifests, and reports what happened to the
// connections: a summary table on stdout, result.json (stable and
// reproducible: the same scenario and seeds give the same bytes) and
// report.html (one self-contained file of tables and SVG plots).
//
// Usage:
//
//	svcsim [flags]                   run the built-in scenario
//	svcsim run [flags] FILE...       run the scenario the files make up
//	svcsim merge [flags] PATH...     combine the shards of a sweep
//	svcsim scenario                  print the built-in scenario's YAML
//	svcsim version                   print svcsim's version
//	svcsim help                      print this help (also -h, --help)
//
// With no argument svcsim runs its built-in scenario: a rolling update
// of a Deployment behind a ClusterIP Service across three zones,
// compared across load-balancing algorithms (kube-proxy's random choice,
// round robin, power of two choices, Maglev), with and without a preStop
// sleep. It takes a second or two.
//
// A scenario is a YAML stream, in one file or several: one document of
// `apiVersion: sim.svcnet.dev/v1alpha1`, `kind: Scenario` (seed,
// duration, cluster shape and delays, traffic, a timeline of events,
// variants to compare) and any number of v1 Service, Pod and Node and
// apps/v1 Deployment manifests, as kubectl reads them. Decoding is
// strict; an error names the file, the document, the field and the
// value. docs/scenario.md is the reference; examples/scenarios holds
// scenarios to start from.
//
// Flags go before or after the files, with one dash or two (-seeds,
// --seeds, -out=DIR); "--" ends them. -h after any command prints the
// help on stdout and exits 0. Flags of run (and of svcsim without a
// command):
//
//	-seed N         the first seed (default: the scenario's)
//	-seeds N        run N seeds, seed..seed+N-1, for every variant (default 1)
//	-duration D     simulate D instead of the scenario's duration (e.g. 30s, 10m)
//	-variants A,B   run only these variants ("random, maglev": spaces are ignored)
//	-out DIR        write result.json and report.html to DIR (default svcsim-out; "" writes nothing)
//	-shard i/n      run shard i of n of the sweep and write DIR/shard-IIII-of-NNNN.json
//	                (-shard 5/8 writes shard-0005-of-0008.json)
//	-parallel N     run N simulations at a time (default: the number of CPUs)
//	-q              no progress bar
//	-runs           also write every run's whole Result to result.json
//	-metrics FILE   write every run's figures as OpenMetrics text
//	-events FILE    write every run's events as JSON lines
//	-real           also run on a real kernel (package testbed; Linux, root)
//	-timescale F    with -real: wall-clock seconds per simulated second
//
// -real runs each variant once more on network namespaces, in lockstep
// with the simulator and paced by the wall clock (package testbed), and
// prints the simulator's prediction beside what real sockets measured
// (failed, refused, reset, unreachable or timed out, endpoint programming
// latency p50/p99), then writes DIR/real.json and DIR/report.html: the
// usual report of the prediction with a section "Measured on a real
// kernel" after the summary, the two side by side and the measured
// timeline drawn over the predicted one. It refuses what the
// testbed cannot hold (testbed.MaxNodes and the rest) and -seeds,
// -shard, -metrics, -events, -runs and -parallel; SIGINT tears the
// testbed down.
//
// -metrics writes one series per run (labels scenario, variant, seed)
// in the OpenMetrics 1.0 text format, named as kube-proxy
// (pkg/proxy/metrics/metrics.go) and CoreDNS (plugin/metrics/vars) name
// them where the simulator measures the same thing:
// kubeproxy_network_programming_duration_seconds (with the simulator's
// buckets, ten a decade from 1 ms, not kube-proxy's),
// kubeproxy_sync_proxy_rules_duration_seconds (kube-proxy's buckets; a
// simulated sync takes no time, so it counts the syncs that applied a new
// table), coredns_dns_requests_total (the clients' A queries); and
// svcnet_connections_total{flow,service,outcome},
// svcnet_dns_programming_duration_seconds, svcnet_backend_connections_total
// and more for the rest. -events writes sim.RunOptions.Events' lines, each
// led by its run's variant and seed: pod writes and deletions, proxy
// tables, proxy and DNS syncs, node Ready changes, faults, the control
// plane going down and up, and failed connections (with the backend, the
// pod and the node that routed them), in time order within a run, the
// runs in the sweep's order; each run streams to a part file as it runs,
// joined at the end, so the file is the same bytes however many workers
// ran.
//
// -out DIR also gets ClusterLoader2's measurement files, so that a
// simulated run compares with a real cluster's: per variant
// NetworkProgrammingLatency_<scenario>_<variant>_<time>.json, CL2's
// PerfData (version v1, one data item: Perc50, Perc90, Perc99 in ms) and
// SvcsimSummary_<scenario>_<variant>_<time>.json in the same shape
// (programming latencies, connections by outcome, per flow, shares,
// disruption). The time is the end of the simulated run (from
// 2025-01-01T00:00:00Z), so the names are reproducible; with several
// seeds the percentiles are the worst run's.
//
// Checks for CI, of run and merge: -max-failed S (a variant's failed
// connections as a share of them, 0.1% or 0.001), -max-programming-p99 D
// and -max-dns-p99 D (a run's endpoint and DNS programming latency p99,
// the worst run of a variant), -max-disrupted-per-churn N. A variant
// over one exits 4, once the reports are written, with a line naming
// the variant and the figure. Warnings are printed on stderr: a named
// targetPort that matches no container port of the pods the Service
// selects (every connection to it is rejected), a flow that starts at or
// after the end, and after the run a flow whose every connection failed
// in a run. -strict makes them errors: exit 2 before the first run for
// the scenario's, 4 for the results'.
//
// A sweep is every variant times every seed, in that order; the runs go
// to a pool of -parallel workers (each run is single-threaded and shares
// nothing) and are folded into the aggregate as they finish, so that
// the output does not depend on which run finished first. -shard i/n keeps the runs whose position in
// the sweep is i modulo n. Run as a Kubernetes Indexed Job, give
// `-shard /n`: the index comes from $JOB_COMPLETION_INDEX. Then
//
//	svcsim merge -out DIR shards/
//
// reads every shard-*-of-*.json (files, or directories holding them),
// checks they are of one sweep (naming the file that is not), and writes the sweep's result.json and
// report.html as one run would have. It fails when runs are missing,
// unless -partial is given.
//
// result.json holds, per variant, the sweep's aggregate: a summary (sums
// of the runs' outcomes, flows and per-algorithm disruption, the merged
// latency histograms, per-run spreads, the worst run's latency
// quantiles), "perSeed", one row of headline figures per run (seed,
// events, failed, latency quantiles, imbalance, disruption, the flows
// whose every connection failed, the violation if any), and "sample",
// the whole Results of the variant's 20 lowest seeds, which the report's
// per-run views read. Each run is folded into it as it finishes and
// dropped unless it is one of the sample's, so a sweep's memory and
// result.json grow with the variants and a row per run, not with every
// run's detail; -runs adds every run's whole Result ("runs"), and
// -metrics keeps each run's series (not its Result) until the end. A
// shard's file names its shard; merge adds the shards' aggregates (the
// figures that are not sums are computed from the rows, in seed order,
// and the sample is the lowest seeds of the shards' samples, so sharded
// and unsharded sweeps give the same bytes), takes a shard given twice
// once when it is the same file, and refuses files of another sweep or
// sharding, rows whose seed is not the shard's, or a sample that is not
// of the file's lowest seeds. merge -metrics needs every run's Result:
// parts written with -runs.
//
// A progress bar (simulated time, events per second, time left) is drawn
// on stderr when it is a terminal, and never otherwise.
//
// Exit codes:
//
//	0  every run completed and every invariant held
//	1  an invariant was violated (the reports are still written, with the
//	   violation, its seed and event number to replay it)
//	2  bad input or usage: a flag, a file, a scenario that does not decode
//	   or cannot run, shards of different sweeps, missing runs, an -out
//	   that cannot be written (checked before the first run), more than
//	   10 000 -seeds, more pods than the nodes hold, a timeline event
//	   after the end; with -strict, a warning about the scenario
//	3  internal error: the simulator panicked, an output could not be written
//	4  a check failed: a variant over a -max-... threshold, or with -strict
//	   a warning about the results (the reports are written)
//	130  interrupted (SIGINT or SIGTERM): no run starts after the signal,
//	   the running ones finish, and what finished is written with
//	   "partial" in result.json (merge it with -partial); a second signal
//	   ends svcsim at once
package main
