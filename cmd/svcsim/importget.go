package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"text/tabwriter"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/proxy/nftables"
	"github.com/svcnet/svcnet/sim"
)

// importDump makes a scenario from kubectl get -A -o yaml dumps: the
// scenario on stdout or in -o FILE, the report on stderr.
func (c cli) importDump(args []string) error {
	fs := c.flagSet("import")
	out := fs.String("o", "", "write the scenario to FILE (default: stdout)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return badInput("%w", err)
	}
	if len(files) == 0 {
		return badInput("import needs a dump (kubectl get svc,endpointslices,pods,nodes,deploy,sts,ds,rs -A -o yaml > dump.yaml)")
	}
	srcs := make([]sim.ScenarioSource, len(files))
	for i, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return badInput("%w", err)
		}
		srcs[i] = sim.ScenarioSource{Name: p, Data: b}
	}
	res, err := sim.Import(srcs...)
	if err != nil {
		return err
	}
	y, err := res.YAML()
	if err != nil {
		return fmt.Errorf("%w: %w", errInternal, err)
	}
	// What import writes, run reads: a scenario that does not decode is
	// svcsim's bug, said before the user meets it.
	if _, err := sim.DecodeScenario(y); err != nil {
		return fmt.Errorf("%w: the imported scenario does not decode: %w", errInternal, err)
	}
	fmt.Fprint(c.stderr, res.Report.String())
	if *out == "" {
		_, err := c.stdout.Write(y)
		return err
	}
	if err := os.WriteFile(*out, y, 0o644); err != nil {
		return badInput("-o %q: %v", *out, err)
	}
	fmt.Fprintln(c.stderr, "wrote", *out)
	return nil
}

// getKinds maps kubectl's names of a kind (plural, singular, short) to
// the kind svcsim get prints.
var getKinds = map[string]string{
	"services": svcnet.KindService, "service": svcnet.KindService, "svc": svcnet.KindService,
	"endpointslices": svcnet.KindEndpointSlice, "endpointslice": svcnet.KindEndpointSlice,
	"pods": svcnet.KindPod, "pod": svcnet.KindPod, "po": svcnet.KindPod,
	"nodes": svcnet.KindNode, "node": svcnet.KindNode, "no": svcnet.KindNode,
	"proxy": "proxy", "proxies": "proxies",
}

// get prints the objects of one kind of the scenario's cluster at a
// simulated time, as kubectl get prints them, or a node's nftables rules.
func (c cli) get(args []string) error {
	fs := c.flagSet("get")
	ns := fs.String("n", "", "namespace")
	all := fs.Bool("A", false, "all namespaces")
	format := fs.String("o", "", "output: wide, yaml or json")
	at := fs.String("at", "0s", "simulated time")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return badInput("%w", err)
	}
	if len(pos) == 0 {
		return badInput("get needs a kind (services, endpointslices, pods, nodes, proxies or proxy NODE) and scenario files")
	}
	kind, ok := getKinds[pos[0]]
	if !ok {
		return badInput("get: unknown kind %q (services, endpointslices, pods, nodes, proxies or proxy NODE)", pos[0])
	}
	pos = pos[1:]
	var node string
	if kind == "proxies" && (*format == "yaml" || *format == "json") {
		return badInput("-o %q: get proxies prints a table; -o yaml and json are for Kubernetes objects", *format)
	}
	if kind == "proxy" {
		if len(pos) == 0 {
			return badInput("get proxy needs a node name, then the scenario files")
		}
		node, pos = pos[0], pos[1:]
		if *format != "" {
			return badInput("-o %q: get proxy prints the node's nftables ruleset (nft -f input); -o does not apply", *format)
		}
	}
	switch *format {
	case "", "wide", "yaml", "json":
	default:
		return badInput("-o %q: want wide, yaml or json", *format)
	}
	if *all && *ns != "" {
		return badInput("-n %q and -A: give one", *ns)
	}
	if len(pos) == 0 {
		return badInput("get needs scenario files")
	}
	d, err := sim.ParseDuration(*at)
	switch {
	case errors.Is(err, sim.ErrDurationOverflow):
		return badInput("--at %q: too long (at most %v)", *at, time.Duration(math.MaxInt64))
	case err != nil || d < 0:
		return badInput("--at %q: want a duration such as 0s, 30s or 10m", *at)
	}
	s, err := sim.ReadScenarioFiles(pos...)
	if err != nil {
		return err
	}
	if d.D() > s.Duration.D() {
		return badInput("--at %v: after the scenario's end (its duration is %v)", d.D(), s.Duration.D())
	}
	if len(s.Variants) > 0 {
		s = s.Variants[0].Apply(s)
	}
	st, runErr := sim.StateAt(s, d.D())
	if runErr != nil && !errors.Is(runErr, sim.ErrViolation) {
		return runErr
	}
	namespace := "default"
	switch {
	case *all:
		namespace = ""
	case *ns != "":
		namespace = *ns
	}
	if err := c.print(st, kind, node, namespace, *format); err != nil {
		return err
	}
	if runErr != nil {
		fmt.Fprintf(c.stderr, "svcsim: the run stopped at %v: %v\n", st.At, runErr)
		return errViolated
	}
	return nil
}

// print writes one kind of a State.
func (c cli) print(st sim.State, kind, node, namespace, format string) error {
	cl := st.Cluster
	if kind == "proxy" {
		view, err := cl.NodeView(node)
		if err != nil {
			return badInput("get proxy %q: %v", node, err)
		}
		cfg := cl.Config()
		rs, err := nftables.Render(view, nftables.Config{ServiceCIDRs: cfg.ServiceCIDRs, PodCIDRs: cfg.PodCIDRs})
		if err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		_, err = fmt.Fprint(c.stdout, rs.String())
		return err
	}
	if kind == "proxies" {
		return printProxies(c.stdout, cl)
	}
	if format == "yaml" || format == "json" {
		l, err := cl.ObjectList(svcnet.ListOptions{Kinds: []string{kind}, Namespace: namespace})
		if err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		var b []byte
		if format == "yaml" {
			b, err = l.YAML()
		} else {
			b, err = l.JSON()
		}
		if err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		_, err = c.stdout.Write(b)
		return err
	}
	opts := svcnet.PrintOptions{Wide: format == "wide", AllNamespaces: namespace == ""}
	switch kind {
	case svcnet.KindService:
		return svcnet.PrintServices(c.stdout, cl.Services(namespace), st.Now, opts)
	case svcnet.KindEndpointSlice:
		return cl.PrintEndpointSlices(c.stdout, namespace)
	case svcnet.KindPod:
		return cl.PrintPodsWith(c.stdout, namespace, opts)
	default:
		return cl.PrintNodesWith(c.stdout, opts)
	}
}

// printProxies writes a table of the nodes' kube-proxies: the table
// generation each has applied, how many generations it is behind the
// control plane's newest, and its frontends.
func printProxies(w io.Writer, cl *svcnet.Cluster) error {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0) // kubectl's table layout
	fmt.Fprintln(tw, "NODE\tGENERATION\tBEHIND\tFRONTENDS")
	for _, n := range cl.Nodes() {
		p, err := cl.Proxy(n.Name)
		if err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		behind, err := cl.NodeStale(n.Name)
		if err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", n.Name, p.Generation(), behind, p.Frontends())
	}
	return tw.Flush()
}
