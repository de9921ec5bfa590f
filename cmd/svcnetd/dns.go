package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/dnsserver"
)

// dnsOptions are the flags of svcnetd dns.
type dnsOptions struct {
	listen, manifests, metrics, upstreams, resolvConf string
	domain, pods, serviceCIDR                         string
	autopath                                          bool
	poll                                              time.Duration
}

// dnsReady, when set, is told the addresses the command serves on.
type dnsReady func(dns, metrics string)

func runDNS(ctx context.Context, args []string, stdout, stderr io.Writer, ready dnsReady) int {
	if wantsKube(args) {
		err := execKube(args, findKube, sysExec)
		fmt.Fprintf(stderr, "svcnetd dns: %v\n", err)
		return exitError
	}
	fs := flag.NewFlagSet("svcnetd dns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o dnsOptions
	fs.StringVar(&o.listen, "listen", "127.0.0.1:5353", "address to serve DNS on, UDP and TCP")
	fs.StringVar(&o.manifests, "manifests", "", "directory of Service, Pod and Node manifests (*.yaml, *.yml, *.json); required")
	fs.StringVar(&o.metrics, "metrics", "", "address to serve Prometheus metrics on (/metrics); empty for none")
	fs.StringVar(&o.upstreams, "upstreams", "", `comma-separated servers for names outside the cluster ("10.0.0.2:53"); empty for the nameservers of -resolv-conf, "none" for none`)
	fs.StringVar(&o.resolvConf, "resolv-conf", "/etc/resolv.conf", "resolv.conf whose nameservers are the default upstreams")
	fs.StringVar(&o.domain, "domain", "cluster.local", "cluster domain")
	fs.StringVar(&o.pods, "pods", "disabled", "pod names: disabled, insecure or verified")
	fs.StringVar(&o.serviceCIDR, "service-cidr", "10.96.0.0/12", "ClusterIP range for Services without a clusterIP")
	fs.BoolVar(&o.autopath, "autopath", false, "answer pods' search-path queries in one round trip (CoreDNS autopath)")
	fs.DurationVar(&o.poll, "poll", time.Second, "how often to check the manifests for changes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if o.manifests == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "svcnetd dns: -manifests DIR is required and there are no arguments")
		return exitUsage
	}
	if err := serveDNS(ctx, o, stderr, ready); err != nil {
		fmt.Fprintf(stderr, "svcnetd dns: %v\n", err)
		return exitError
	}
	return exitOK
}

// loaded is one load of the manifests: the cluster's resolver and the
// namespaces of its pods by address (for autopath).
type loaded struct {
	res   *dnsname.Resolver
	podNS map[netip.Addr]string
	stamp string
}

func serveDNS(ctx context.Context, o dnsOptions, logw io.Writer, ready dnsReady) error {
	mode, ok := map[string]dnsname.PodMode{"disabled": dnsname.PodsDisabled, "insecure": dnsname.PodsInsecure, "verified": dnsname.PodsVerified}[o.pods]
	if !ok {
		return fmt.Errorf("-pods %q is not disabled, insecure or verified", o.pods)
	}
	cidr, err := netip.ParsePrefix(o.serviceCIDR)
	if err != nil {
		return fmt.Errorf("-service-cidr: %w", err)
	}
	ups, err := dnsserver.ParseUpstreams(o.upstreams, o.resolvConf)
	if err != nil {
		return err
	}
	load := func() (*loaded, error) { return loadManifests(o.manifests, o.domain, cidr, mode) }
	cur, err := load()
	if err != nil {
		return err
	}
	var state atomic.Pointer[loaded]
	state.Store(cur)

	udp, tcp, err := dnsserver.Listen(ctx, o.listen)
	if err != nil {
		return err
	}
	defer udp.Close()
	defer tcp.Close()
	cfg := dnsserver.Config{Resolver: cur.res, Upstreams: ups, NSAddrs: dnsserver.NSAddrs(udp.LocalAddr())}
	if o.autopath {
		cfg.Autopath = func(a netip.Addr) (string, bool) {
			ns, ok := state.Load().podNS[a]
			return ns, ok
		}
	}
	srv, err := dnsserver.New(cfg)
	if err != nil {
		return err
	}

	metricsAddr := ""
	if o.metrics != "" {
		ml, err := net.Listen("tcp", o.metrics)
		if err != nil {
			return err
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(statsCollector{srv})
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = hs.Serve(ml) }()
		defer hs.Close()
		metricsAddr = ml.Addr().String()
	}
	fmt.Fprintf(logw, "svcnetd dns: serving %s on %s (%d upstreams)\n", o.domain, udp.LocalAddr(), len(ups))
	if ready != nil {
		ready(udp.LocalAddr().String(), metricsAddr)
	}

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, udp, tcp) }()
	tick := time.NewTicker(o.poll)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			stamp, err := dirStamp(o.manifests)
			if err != nil || stamp == state.Load().stamp {
				continue
			}
			next, err := load()
			if err != nil {
				// Keep serving the last good manifests.
				fmt.Fprintf(logw, "svcnetd dns: reload: %v\n", err)
				continue
			}
			if err := srv.SetResolver(next.res); err != nil {
				return err
			}
			state.Store(next)
			fmt.Fprintf(logw, "svcnetd dns: reloaded %s\n", o.manifests)
		}
	}
}

// upstreams returns the -upstreams servers, or the nameservers of the

// manifestFiles lists the manifest files of dir, sorted.
func manifestFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		switch filepath.Ext(e.Name()) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// dirStamp is the names, sizes and modification times of the manifest
// files: a change of any of them means reload.
func dirStamp(dir string) (string, error) {
	files, err := manifestFiles(dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s %d %d\n", f, st.Size(), st.ModTime().UnixNano())
	}
	return b.String(), nil
}

// loadManifests builds a cluster from the manifests of dir: nodes first,
// then pods and Services in file order, so that a pod's node exists.
func loadManifests(dir, domain string, cidr netip.Prefix, mode dnsname.PodMode) (*loaded, error) {
	stamp, err := dirStamp(dir)
	if err != nil {
		return nil, err
	}
	files, err := manifestFiles(dir)
	if err != nil {
		return nil, err
	}
	c, err := svcnet.NewCluster(svcnet.Config{Domain: domain, ServiceCIDRs: []netip.Prefix{cidr}, DNS: svcnet.DNSConfig{Pods: mode}, ImmediateSync: true})
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := c.Apply(b); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if err := c.SyncDNS(); err != nil {
		return nil, err
	}
	l := &loaded{res: c.DNS(), podNS: map[netip.Addr]string{}, stamp: stamp}
	for _, p := range c.Pods("") {
		for _, ip := range p.Status.PodIPs {
			if a, err := netip.ParseAddr(ip.IP); err == nil {
				l.podNS[a] = p.Namespace
			}
		}
	}
	return l, nil
}
