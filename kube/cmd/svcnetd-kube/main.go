// Command svcnetd-kube is svcnetd, svcnet's node agent, for a real
// cluster: its dns command serves cluster DNS for the Services, pods and
// EndpointSlices of a Kubernetes API, fed by kube/informer, answering as
// CoreDNS's kubernetes plugin does.
//
//	svcnetd-kube dns -kubeconfig ~/.kube/config -listen 127.0.0.1:5353 -service-cidr 10.96.0.0/12
//	dig @127.0.0.1 -p 5353 kubernetes.default.svc.cluster.local
//
// Run in a pod with no -kubeconfig, it uses the pod's service account
// (in-cluster config, found through KUBERNETES_SERVICE_HOST). It is a
// separate binary, built from the kube module, because the core module
// (and cmd/svcnetd, which serves a directory of manifests) does not
// import client-go; the two share their flags where they overlap.
//
// The -mode flag says where EndpointSlices come from: follow (the
// default) reads the cluster's own, as CoreDNS does; compute has svcnet
// compute them from the Services and Pods; controller also writes
// svcnet's slices back (see kube/informer). -service-cidr and
// -node-port-range must contain the cluster's, since Services keep the
// clusterIPs and nodePorts the API server gave them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/dnsserver"
	"github.com/svcnet/svcnet/kube/informer"
	"github.com/svcnet/svcnet/portalloc"
	"github.com/svcnet/svcnet/service"
)

const usage = `svcnetd-kube is svcnetd for a Kubernetes API.

Usage:
  svcnetd-kube dns [flags]    serve cluster DNS for the cluster of -kubeconfig
                              (or of the pod it runs in)

Run "svcnetd-kube dns -h" for its flags.
`

// The exit codes, as svcnetd's.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{getenv: os.Getenv, stderr: os.Stderr, client: newClient})
	stop()
	os.Exit(code)
}

// env is what run takes from the process: tests replace each part.
type env struct {
	getenv func(string) string
	stderr io.Writer
	// client makes the API client of a config source.
	client func(src source) (kubernetes.Interface, error)
	// ready, when set, is told the address DNS is served on once the
	// driver synced.
	ready func(addr string)
}

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "dns":
		o, code, ok := parseDNS(args[1:], e)
		if !ok {
			return code
		}
		if err := serve(ctx, o, e); err != nil {
			fmt.Fprintf(e.stderr, "svcnetd-kube dns: %v\n", err)
			return exitError
		}
		return exitOK
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stderr, usage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "svcnetd-kube: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// options are the flags of dns, parsed.
type options struct {
	src           source
	listen        string
	mode          informer.Mode
	upstreams     []netip.AddrPort
	domain        string
	pods          dnsname.PodMode
	serviceCIDRs  []netip.Prefix
	nodePortRange portalloc.Range
	resync        time.Duration
}

// source is where the API's address and credentials come from: a
// kubeconfig file, or the pod's service account.
type source struct {
	kubeconfig string // "" means in-cluster
}

// String returns "kubeconfig PATH" or "in-cluster config".
func (s source) String() string {
	if s.kubeconfig == "" {
		return "in-cluster config"
	}
	return "kubeconfig " + s.kubeconfig
}

// parseDNS parses dns's flags; when !ok, code is the exit code (a usage
// error, or 0 for -h) and the message is written.
func parseDNS(args []string, e env) (o options, code int, ok bool) {
	fs := flag.NewFlagSet("svcnetd-kube dns", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file of the cluster; empty in a pod: its service account (KUBERNETES_SERVICE_HOST)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:5353", "address to serve DNS on, UDP and TCP")
	mode := fs.String("mode", "follow", "where EndpointSlices come from: follow (the cluster's), compute (svcnet's), controller (svcnet's, written back)")
	ups := fs.String("upstreams", "", `comma-separated servers for names outside the cluster ("10.0.0.2:53"); empty for the nameservers of -resolv-conf, "none" for none`)
	resolvConf := fs.String("resolv-conf", "/etc/resolv.conf", "resolv.conf whose nameservers are the default upstreams")
	fs.StringVar(&o.domain, "domain", "cluster.local", "cluster domain")
	pods := fs.String("pods", "disabled", "pod names: disabled, insecure or verified")
	cidrs := fs.String("service-cidr", "10.96.0.0/12", "the cluster's ClusterIP ranges, comma-separated (two for dual-stack)")
	ports := fs.String("node-port-range", "30000-32767", "the cluster's NodePort range")
	fs.DurationVar(&o.resync, "resync", 10*time.Minute, "informer resync period (0 for none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, exitOK, false
		}
		return o, exitUsage, false
	}
	bad := func(format string, args ...any) (options, int, bool) {
		fmt.Fprintf(e.stderr, "svcnetd-kube dns: "+format+"\n", args...)
		return o, exitUsage, false
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *kubeconfig != "":
		o.src = source{kubeconfig: *kubeconfig}
	case e.getenv("KUBERNETES_SERVICE_HOST") != "":
		o.src = source{}
	default:
		return bad("-kubeconfig PATH is required outside a pod (KUBERNETES_SERVICE_HOST is not set)")
	}
	var err error
	if o.mode, err = informer.ParseMode(*mode); err != nil {
		return bad("-mode %q: want follow, compute or controller", *mode)
	}
	var found bool
	if o.pods, found = map[string]dnsname.PodMode{"disabled": dnsname.PodsDisabled, "insecure": dnsname.PodsInsecure, "verified": dnsname.PodsVerified}[*pods]; !found {
		return bad("-pods %q: want disabled, insecure or verified", *pods)
	}
	for _, s := range strings.Split(*cidrs, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return bad("-service-cidr: %v", err)
		}
		o.serviceCIDRs = append(o.serviceCIDRs, p)
	}
	if o.nodePortRange, err = portalloc.ParseRange(*ports); err != nil {
		return bad("-node-port-range: %v", err)
	}
	if o.resync < 0 {
		return bad("-resync %v: must not be negative", o.resync)
	}
	if o.upstreams, err = dnsserver.ParseUpstreams(*ups, *resolvConf); err != nil {
		return bad("%v", err)
	}
	return o, exitOK, true
}

// newClient makes the clientset of a config source.
func newClient(src source) (kubernetes.Interface, error) {
	var cfg *rest.Config
	var err error
	if src.kubeconfig == "" {
		cfg, err = rest.InClusterConfig()
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", src.kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %w", src, err)
	}
	cfg.UserAgent = "svcnetd-kube"
	return kubernetes.NewForConfig(cfg)
}

// serve runs the driver and the DNS server until ctx is done.
func serve(ctx context.Context, o options, e env) error {
	client, err := e.client(o.src)
	if err != nil {
		return err
	}
	c, err := svcnet.NewCluster(svcnet.Config{
		Domain: o.domain, ServiceCIDRs: o.serviceCIDRs, NodePortRange: o.nodePortRange,
		DNS: svcnet.DNSConfig{Pods: o.pods}, ImmediateSync: true,
		ExternalSlices: o.mode == informer.Follow,
		// The API server already applied the cluster's external-IP
		// policy to every Service it stores.
		ExternalIPs: service.AllowAllExternalIPs(),
	})
	if err != nil {
		return err
	}
	d, err := informer.New(informer.Config{Client: client, Cluster: c, Mode: o.mode, Resync: o.resync,
		Errors: func(err error) { fmt.Fprintf(e.stderr, "svcnetd-kube dns: %v\n", err) }})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	select {
	case <-d.Synced():
	case err := <-ran:
		return fmt.Errorf("%v: %w", o.src, err)
	}

	udp, tcp, err := dnsserver.Listen(ctx, o.listen)
	if err != nil {
		return err
	}
	defer udp.Close()
	defer tcp.Close()
	cfg := dnsserver.Config{Resolver: c.DNS(), Upstreams: o.upstreams, NSAddrs: dnsserver.NSAddrs(udp.LocalAddr())}
	srv, err := dnsserver.New(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "svcnetd-kube dns: serving %s from %v (%s mode) on %s (%d upstreams)\n", o.domain, o.src, o.mode, udp.LocalAddr(), len(o.upstreams))
	if e.ready != nil {
		e.ready(udp.LocalAddr().String())
	}
	err = srv.Serve(ctx, udp, tcp)
	cancel()
	if rerr := <-ran; err == nil && !errors.Is(rerr, context.Canceled) {
		err = rerr
	}
	return err
}
