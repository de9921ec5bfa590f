package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/svcnet/svcnet/sim"
)

// defaultScenario is the scenario svcsim runs without arguments.
//
//go:embed default.yaml
var defaultScenario []byte

// The exit codes.
const (
	exitOK        = 0
	exitViolation = 1
	exitUsage     = 2
	exitInternal  = 3
	// exitInterrupted is the shells' code for a command stopped by SIGINT
	// (128 + 2); svcsim uses it for SIGTERM too.
	exitInterrupted = 130
)

const usage = `svcsim runs svcnet's deterministic Service-networking simulator.

Usage:
  svcsim [flags]                   run the built-in scenario (a rolling update,
                                   compared across LB algorithms and preStop)
  svcsim run [flags] FILE...       run the scenario the files make up
  svcsim merge [flags] PATH...     combine the shards of a sweep
  svcsim import [-o FILE] DUMP...  make a scenario from a cluster's
                                   kubectl get svc,endpointslices,pods,nodes,
                                   deploy,sts,ds,rs -A -o yaml (report on stderr)
  svcsim get KIND [flags] FILE...  print the scenario's objects at a simulated
                                   time as kubectl get does: services (svc),
                                   endpointslices, pods, nodes, proxies (each
                                   node's table generation); or
                                   svcsim get proxy NODE FILE... for a node's
                                   nftables ruleset
  svcsim scenario                  print the built-in scenario's YAML
  svcsim version                   print svcsim's version
  svcsim help                      print this help (also -h, --help)

A scenario is a YAML stream: one "kind: Scenario" document
(apiVersion sim.svcnet.dev/v1alpha1) and v1 Service, Pod, Node,
apps/v1 Deployment and discovery.k8s.io/v1 EndpointSlice manifests, in one
file or several. See docs/scenario.md.
Flags go before or after the files (-seeds or --seeds, -q or --q);
"--" ends the flags.

Flags of run:
  -seed N        the first seed (default: the scenario's)
  -seeds N       run N seeds for every variant, seed..seed+N-1, in parallel
                 (default 1)
  -duration D    simulate D instead of the scenario's duration (30s, 10m)
  -variants A,B  run only these variants ("random, maglev" works too)
  -out DIR       write result.json and report.html to DIR (default svcsim-out;
                 -out "" writes nothing)
  -shard i/n     run shard i of n of the sweep, write DIR/shard-IIII-of-NNNN.json
                 (-shard 5/8 writes shard-0005-of-0008.json);
                 "-shard /n" takes i from $JOB_COMPLETION_INDEX (Indexed Jobs)
  -parallel N    simulations at a time (default: the number of CPUs)
  -q             no progress bar (it is drawn only on a terminal anyway)
  -runs          also write every run's whole Result to result.json (without
                 it a sweep keeps, and writes, its aggregate, a row per seed
                 and the Results of each variant's 20 lowest seeds)
  -metrics FILE  write every run's figures to FILE as OpenMetrics text, with
                 kube-proxy's and CoreDNS's names where they exist
                 (kubeproxy_network_programming_duration_seconds,
                 kubeproxy_sync_proxy_rules_duration_seconds,
                 coredns_dns_requests_total) and svcnet_* for the rest
  -real          also run the scenario on a real kernel (Linux, as root; the
                 apt packages nftables iproute2 conntrack): nodes and pods as
                 network namespaces, nft rules, real TCP clients; prints the
                 prediction beside what was measured, per variant, one seed,
                 and writes DIR/real.json (small scenarios only: see package
                 testbed's bound); Ctrl-C tears the testbed down (a second
                 Ctrl-C exits at once and may leave namespaces svctb-PID-*
                 for ip netns del)
  -timescale F   with -real: wall-clock seconds per simulated second (0.5 runs
                 a 60s scenario in 30s; kernel timings are not scaled)
  -events FILE   write every run's events to FILE as JSON lines, in time
                 order within each run: pod writes, proxy tables and syncs,
                 DNS syncs, node Ready, faults, the control plane down and
                 up, failed connections ({"variant":..,"seed":..,"at":..})

-out DIR also gets ClusterLoader2's measurement files, per variant:
NetworkProgrammingLatency_<scenario>_<variant>_<end time>.json (Perc50,
Perc90, Perc99 in ms, the worst run's) and SvcsimSummary_... in the same
PerfData shape (latencies, connections by outcome, per flow).

Checks, for CI (of run and merge; exit 4 when one fails, after writing the
reports; each line names the variant and the figure):
  -max-failed S             a variant's failed connections, as a share of
                            them: 0.1% or 0.001
  -max-programming-p99 D    a run's endpoint programming latency p99 (2s)
  -max-dns-p99 D            a run's DNS programming latency p99
  -max-disrupted-per-churn N  a run's disrupted connections per churn event
  -strict                   warnings are errors: those about the scenario
                            (a named targetPort no pod has, a flow that
                            starts after the end) exit 2 before any run,
                            those about the results (a flow whose every
                            connection failed in a run) exit 4

Flags of get (the scenario's first variant runs):
  --at D         the simulated time to print (default 0s, the start)
  -n NS          the namespace (default "default"); -A all of them
  -o FORMAT      wide, yaml or json (a v1 List, as kubectl get -o yaml)

Flags of merge:
  -out DIR       write the merged result.json and report.html (default svcsim-out)
  -partial       merge even when runs are missing
  -metrics FILE  as run's, from parts written with -runs; and the checks above

Exit codes:
  0  every run completed and every invariant held
  1  an invariant was violated (reports are written, with how to replay it)
  2  bad input or usage (with -strict: a warning about the scenario)
  3  internal error
  4  a -max-... threshold was exceeded (with -strict: a warning about the
     results); the reports are written
  130  interrupted by SIGINT or SIGTERM: no new run starts, the runs that
     finished are written as a partial result ("partial" in result.json)
`

func main() {
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		signal.Stop(sigs) // a second signal ends the process at once
		close(stop)
	}()
	os.Exit(cli{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now, stop: stop}.main(os.Args[1:]))
}

// cli is the command with its environment, so that tests can run it.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// now is the wall clock, read by the progress bar only.
	now func() time.Time
	// stop is closed when the user interrupts: runs not started by then
	// are not started. nil never stops.
	stop <-chan struct{}
}

// usageError is bad input or usage: exit code 2.
type usageError struct{ error }

// Unwrap returns the error underneath, so that errors.Is finds
// flag.ErrHelp in a usageError.
func (e usageError) Unwrap() error { return e.error }

// badInput returns a usageError.
func badInput(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func (c cli) main(args []string) int {
	if len(args) > 0 && slices.Contains([]string{"help", "-h", "-help", "--help"}, args[0]) {
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	if len(args) > 0 && slices.Contains([]string{"version", "-version", "--version"}, args[0]) {
		if len(args) > 1 {
			return c.exit(badInput("version takes no argument"))
		}
		fmt.Fprintln(c.stdout, version())
		return exitOK
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return c.exit(c.run(args, false))
	}
	switch args[0] {
	case "run":
		return c.exit(c.run(args[1:], true))
	case "merge":
		return c.exit(c.merge(args[1:]))
	case "import":
		return c.exit(c.importDump(args[1:]))
	case "get":
		return c.exit(c.get(args[1:]))
	case "scenario":
		if len(args) > 1 {
			return c.exit(badInput("scenario takes no argument"))
		}
		_, err := c.stdout.Write(defaultScenario)
		return c.exit(err)
	}
	return c.exit(badInput("unknown command %q (run, merge, import, get, scenario, version or help)", args[0]))
}

// errViolated is returned when the reports were written but a run broke
// an invariant.
var errViolated = errors.New("an invariant was violated")

// errInterrupted marks the runs a SIGINT or SIGTERM kept from starting,
// and the run command's error after writing what finished.
var errInterrupted = errors.New("interrupted")

// exit prints err and maps it to an exit code.
func (c cli) exit(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(c.stderr, "svcsim:", err)
		return exitInterrupted
	case errors.Is(err, errViolated):
		fmt.Fprintln(c.stderr, "svcsim:", err)
		return exitViolation
	case errors.Is(err, errGate) && !errors.As(err, new(usageError)):
		fmt.Fprintln(c.stderr, "svcsim:", err)
		return exitGate
	case errors.Is(err, flag.ErrHelp):
		// -h or -help after a command: the usage, on stdout, as help.
		fmt.Fprint(c.stdout, usage)
		return exitOK
	case errors.As(err, new(usageError)), errors.Is(err, sim.ErrInvalidScenario):
		fmt.Fprintln(c.stderr, "svcsim:", err)
		return exitUsage
	}
	fmt.Fprintln(c.stderr, "svcsim:", err)
	return exitInternal
}

// runFlags are the flags of run.
type runFlags struct {
	seed     uint64
	seeds    int
	duration string
	variants string
	out      string
	shard    string
	parallel int
	quiet    bool
	runs     bool
	metrics  string
	events   string
	// real runs the scenario on the testbed too; timescale is its
	// wall-clock seconds per simulated second.
	real      bool
	timescale float64
}

func (cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package prints nothing: exit prints its error once, and
	// the usage on -h, on stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// run runs a scenario: the files', or the built-in one.
func (c cli) run(args []string, files bool) error {
	var f runFlags
	fs := c.flagSet("run")
	fs.Uint64Var(&f.seed, "seed", 0, "the first seed")
	fs.IntVar(&f.seeds, "seeds", 1, "seeds per variant")
	fs.StringVar(&f.duration, "duration", "", "simulated duration")
	fs.StringVar(&f.variants, "variants", "", "variants to run, comma-separated")
	fs.StringVar(&f.out, "out", "svcsim-out", "output directory")
	fs.StringVar(&f.shard, "shard", "", "i/n: run one shard of the sweep")
	fs.IntVar(&f.parallel, "parallel", runtime.NumCPU(), "simulations at a time")
	fs.BoolVar(&f.quiet, "q", false, "no progress bar")
	fs.BoolVar(&f.runs, "runs", false, "write every run's Result too")
	fs.StringVar(&f.metrics, "metrics", "", "write the runs' metrics to FILE (OpenMetrics text)")
	fs.StringVar(&f.events, "events", "", "write the runs' events to FILE (JSON lines)")
	fs.BoolVar(&f.real, "real", false, "run on a real kernel too (package testbed; Linux, root)")
	fs.Float64Var(&f.timescale, "timescale", 1, "with -real: wall-clock seconds per simulated second")
	var g gates
	g.register(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return badInput("%w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })

	var s sim.Scenario
	switch {
	case files && len(rest) == 0:
		return badInput("run needs a scenario file (svcsim scenario prints one to start from)")
	case files:
		s, err = sim.ReadScenarioFiles(rest...)
	case len(rest) > 0:
		return badInput("unexpected argument %q (to run files: svcsim run FILE...)", rest[0])
	default:
		s, err = sim.DecodeScenario(defaultScenario)
	}
	if err != nil {
		return err
	}
	if set["seed"] {
		s.Seed = f.seed
	}
	if f.duration != "" {
		d, err := sim.ParseDuration(f.duration)
		switch {
		case errors.Is(err, sim.ErrDurationOverflow):
			return badInput("-duration %q: too long (at most %v)", f.duration, time.Duration(math.MaxInt64))
		case err != nil || d <= 0:
			return badInput("-duration %q: want a positive duration such as 30s or 10m", f.duration)
		}
		s.Duration = d
	}
	if f.seeds < 1 || f.seeds > maxSeeds {
		return badInput("-seeds %d: want 1 to %d", f.seeds, maxSeeds)
	}
	if f.parallel < 1 {
		return badInput("-parallel %d: want at least 1", f.parallel)
	}
	if f.variants != "" {
		if s.Variants, err = pickVariants(s.Variants, f.variants); err != nil {
			return err
		}
	}
	if set["timescale"] && !f.real {
		return badInput("-timescale goes with -real")
	}
	if f.real {
		return c.runReal(s, f, set)
	}
	var sh *shard
	if f.shard != "" {
		v, err := parseShard(f.shard, c.getenv)
		if err != nil {
			return badInput("%w", err)
		}
		sh = &v
	}

	var lint []string
	for _, w := range sim.Lint(s) {
		lint = append(lint, w.String())
	}
	if err := warn(c.stderr, g.strict, lint); err != nil {
		return usageError{err}
	}
	if err := checkOut(f.out); err != nil {
		return err
	}
	if err := checkFile("-metrics", f.metrics); err != nil {
		return err
	}
	seeds := seedRange{First: s.Seed, Count: f.seeds}
	js := jobs(s, seeds, sh)
	var evs *eventFiles
	if f.events != "" {
		if evs, err = newEventFiles(f.events, js); err != nil {
			return err
		}
		for i := range js {
			js[i].events = evs.writer(js[i])
		}
	}
	var bar *progress
	if !f.quiet {
		bar = newProgress(c.stderr, js, c.now)
	}
	var onProgress func(job, sim.Progress)
	if bar != nil {
		onProgress = func(j job, p sim.Progress) { bar.update(j.index, p) }
	}
	agg := newSweep(s, seeds, sh, f.runs)
	var mets *runMetrics
	if f.metrics != "" {
		mets = newRunMetrics(s.Metadata.Name, js)
	}
	var evErr error
	var evMu sync.Mutex
	outs := runJobs(js, f.parallel, c.stop, onProgress, func(o outcome) {
		bar.add(o.job.index, o.res, o.job.s.Duration.D())
		if evs != nil {
			if err := evs.done(o.job); err != nil {
				evMu.Lock()
				evErr = errors.Join(evErr, err)
				evMu.Unlock()
			}
		}
		mets.add(o, variants(s)[o.job.variant].Name)
		agg.add(o) // folded as it finishes: the sweep keeps no Result
	})
	bar.finish()
	violated, interrupted := false, 0
	for _, o := range outs {
		switch {
		case o.err == nil:
		case errors.Is(o.err, errInterrupted):
			interrupted++
		case errors.Is(o.err, sim.ErrViolation):
			violated = true
		default:
			if evs != nil {
				evs.abandon()
			}
			// Every run of an invalid scenario fails alike: say it once.
			return fmt.Errorf("variant %q seed %d: %w", variants(s)[o.job.variant].Name, o.job.seed, o.err)
		}
	}
	if evs != nil {
		if evErr != nil {
			evs.abandon()
			return fmt.Errorf("%w: -events: %w", errInternal, evErr)
		}
		if err := evs.join(js, func(j job) string { return variants(s)[j.variant].Name }); err != nil {
			return err
		}
		fmt.Fprintln(c.stderr, "wrote", f.events)
	}
	r := agg.report()
	if interrupted > 0 {
		r.Partial = &partial{NotRun: interrupted}
	}
	if err := c.write(&r, f.out); err != nil {
		return err
	}
	if mets != nil {
		if err := c.writeMetrics(mets.text, f.metrics); err != nil {
			return err
		}
	}
	switch {
	case interrupted > 0:
		return fmt.Errorf("%w: %d of %d runs not run; the %d that finished are written as a partial result",
			errInterrupted, interrupted, len(outs), len(outs)-interrupted)
	case violated:
		return errViolated
	}
	return g.apply(c.stderr, &r)
}

// maxSeeds bounds -seeds. A sweep's memory is its aggregate (sweep.go's
// fold: sums, each variant's sample of maxViewRuns Results) and one row
// of headline figures per run; the bound keeps a
// sweep's time and result.json (and, with -runs, its memory) reasonable.
const maxSeeds = 10_000

// checkOut makes sure the output directory can be written before the
// first run, so that a sweep does not run for nothing: "" writes nothing.
func checkOut(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return badInput("-out %q: %v", dir, err)
	}
	f, err := os.CreateTemp(dir, ".svcsim-write-check-*")
	if err != nil {
		return badInput("-out %q: not writable: %v", dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return badInput("-out %q: %v", dir, err)
	}
	return nil
}

// checkFile makes sure a file a flag names can be written before the
// first run: it is created, empty, and written at the end. "" is none.
func checkFile(flagName, path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return badInput("%s %q: %v", flagName, path, err)
	}
	return f.Close()
}

// pickVariants keeps the named variants, in the scenario's order. A
// scenario without variants has one, baseline.
func pickVariants(vs []sim.Variant, names string) ([]sim.Variant, error) {
	var want []string
	for n := range strings.SplitSeq(names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want = append(want, n)
		}
	}
	if len(want) == 0 {
		return nil, badInput("-variants %q: no variant named", names)
	}
	if len(vs) == 0 && len(want) == 1 && want[0] == baseline {
		return nil, nil
	}
	var out []sim.Variant
	for _, n := range want {
		if !slices.ContainsFunc(vs, func(v sim.Variant) bool { return v.Name == n }) {
			have := []string{baseline}
			if len(vs) > 0 {
				have = have[:0]
				for _, v := range vs {
					have = append(have, v.Name)
				}
			}
			return nil, badInput("-variants: no variant %q (the scenario has: %s)", n, strings.Join(have, ", "))
		}
	}
	for _, v := range vs {
		if slices.Contains(want, v.Name) {
			out = append(out, v)
		}
	}
	return out, nil
}

// write writes the report's files to dir (none when dir is "") and its
// summary to stdout.
func (c cli) write(r *report, dir string) error {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		b = append(b, '\n')
		name := "result.json"
		if r.Shard != nil {
			name = shardFile(*r.Shard)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		fmt.Fprintln(c.stderr, "wrote", path)
		if r.Shard == nil {
			html, err := renderHTML(r)
			if err != nil {
				return fmt.Errorf("%w: report.html: %w", errInternal, err)
			}
			path := filepath.Join(dir, "report.html")
			if err := os.WriteFile(path, html, 0o644); err != nil {
				return fmt.Errorf("%w: %w", errInternal, err)
			}
			fmt.Fprintln(c.stderr, "wrote", path)
			if err := c.writeCL2(r, dir); err != nil {
				return err
			}
		}
	}
	if err := writeSummary(c.stdout, r); err != nil {
		return fmt.Errorf("%w: %w", errInternal, err)
	}
	return nil
}

// shardFile names a shard's result file so that shards sort in order.
func shardFile(s shard) string { return fmt.Sprintf("shard-%04d-of-%04d.json", s.Index, s.Count) }

// merge combines shard files into the sweep's report.
func (c cli) merge(args []string) error {
	fs := c.flagSet("merge")
	out := fs.String("out", "svcsim-out", "output directory")
	partial := fs.Bool("partial", false, "merge even when runs are missing")
	metricsPath := fs.String("metrics", "", "write the runs' metrics to FILE (OpenMetrics text)")
	var g gates
	g.register(fs)
	args, err := parseArgs(fs, args)
	if err != nil {
		return badInput("%w", err)
	}
	if len(args) == 0 {
		return badInput("merge needs shard files or directories")
	}
	var paths []string
	for _, p := range args {
		st, err := os.Stat(p)
		if err != nil {
			return badInput("%w", err)
		}
		if !st.IsDir() {
			paths = append(paths, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "shard-*-of-*.json"))
		if err != nil {
			return badInput("%w", err)
		}
		if len(m) == 0 {
			return badInput("%s: no shard-*-of-*.json in it", p)
		}
		paths = append(paths, m...)
	}
	parts := make([]report, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return badInput("%w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&parts[i]); err != nil {
			return badInput("%s: not a svcsim result: %w", p, err)
		}
	}
	if err := checkFile("-metrics", *metricsPath); err != nil {
		return err
	}
	r, missing, err := merge(parts, paths)
	if err != nil {
		return badInput("%w", err)
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%d of the sweep's runs are missing: %s", len(missing), strings.Join(firstN(missing, 5), ", "))
		if !*partial {
			return badInput("%s (merge them anyway with -partial)", msg)
		}
		fmt.Fprintln(c.stderr, "svcsim: warning:", msg)
	}
	if *metricsPath != "" {
		// A run's series need its whole Result: only parts written
		// with -runs hold every one.
		for _, vr := range r.Variants {
			if len(vr.Runs) != vr.Summary.Runs {
				return badInput("-metrics: variant %q: the parts hold %d of its %d runs' Results (write them with svcsim run -runs)", vr.Variant.Name, len(vr.Runs), vr.Summary.Runs)
			}
		}
	}
	if err := c.write(&r, *out); err != nil {
		return err
	}
	if *metricsPath != "" {
		if err := c.writeMetrics(func() ([]byte, error) { return metricsFile(&r) }, *metricsPath); err != nil {
			return err
		}
	}
	for _, vr := range r.Variants {
		if vr.Summary.Violations > 0 {
			return errViolated
		}
	}
	return g.apply(c.stderr, &r)
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}
