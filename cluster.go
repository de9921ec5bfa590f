package svcnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/portalloc"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// Sentinel errors of the root package; every error it returns wraps one
// of them or an error of the package it comes from.
var (
	// ErrInvalidConfig: a Config that cannot make a Cluster.
	ErrInvalidConfig = errors.New("svcnet: invalid config")
	// ErrNotFound: a node, pod or Service that the cluster does not hold.
	ErrNotFound = errors.New("svcnet: not found")
	// ErrInvalidTarget: a Dial target that is not host:port.
	ErrInvalidTarget = errors.New("svcnet: invalid dial target")
)

// DNSConfig configures the cluster DNS.
type DNSConfig struct {
	// TTL of answers in seconds, 0–3600; nil means CoreDNS's 5.
	TTL *uint32
	// Pods is the pod-record mode (disabled, insecure, verified).
	Pods dnsname.PodMode
	// ServiceIP is the cluster DNS Service's address, written into every
	// pod's resolv.conf; the zero Addr means the tenth address of the
	// first Service CIDR, as kubeadm chooses.
	ServiceIP netip.Addr
	// HostSearch is the nodes' own search path, appended to pods'.
	HostSearch []string
}

// Config configures a Cluster. ServiceCIDRs is required; every other zero
// value means Kubernetes' default.
type Config struct {
	// Domain is the cluster domain; "" means cluster.local.
	Domain string
	// ServiceCIDRs are the ClusterIP ranges, one or two families; the
	// first prefix's family is the primary.
	ServiceCIDRs []netip.Prefix
	// PodCIDRs are the pod address ranges. Sources inside them (and node
	// addresses) are inside the cluster and may reach ClusterIPs.
	PodCIDRs []netip.Prefix
	// NodeCIDRs are the ranges node addresses come from; sources inside
	// them are inside the cluster too (a node reaching a ClusterIP).
	NodeCIDRs []netip.Prefix
	// NodePortRange; the zero Range means 30000-32767.
	NodePortRange portalloc.Range
	// LoadBalancer provisions LoadBalancer Services; nil leaves them
	// <pending>. service.NewPoolProvider hands out IPs from a pool.
	LoadBalancer service.LoadBalancerProvider
	// ExternalIPs is the external-IP policy; the zero value denies new
	// external IPs (CVE-2020-8554).
	ExternalIPs service.ExternalIPPolicy
	// DNS configures the cluster DNS.
	DNS DNSConfig
	// Algorithm is the default load-balancing algorithm (lb.Algorithms);
	// "" means kube-proxy's random. A Service chooses its own with the
	// lb.svcnet.dev/algorithm annotation.
	Algorithm string
	// MaxEndpointsPerSlice is 1–1000; 0 means 100.
	MaxEndpointsPerSlice int
	// Rand drives every random choice (IPs, ports, picks); nil means a
	// fixed seed. The same seed and calls give the same cluster.
	Rand *rand.Rand
	// Clock stamps creation times (of Services, pods and nodes given
	// without one, as the API server does) and is the "now" of AGE in
	// the Print methods; nil leaves them zero, which AGE shows as
	// <unknown>, as kubectl does. The cluster never reads the wall clock.
	Clock func() time.Time
	// ImmediateSync applies every control-plane change to every node's
	// proxy and to the DNS at once. Without it they change only on
	// SyncNode, SyncNodeTo, SyncAllNodes and SyncDNS, so that an embedder
	// (and the simulator) can model programming delay and stale nodes.
	ImmediateSync bool
	// TableRetention is how long a superseded proxy-table generation
	// stays available to SyncNodeTo: the history keeps every generation
	// that was the newest at some moment of the last TableRetention, by
	// Clock. Zero keeps only the newest. Whatever it says, a generation a
	// node's proxy has applied stays available while the node has it, and
	// a generation superseded at the instant it was published (Clock
	// unchanged, or nil) is released at once, since no moment saw it
	// newest. Negative is an ErrInvalidConfig.
	TableRetention time.Duration
	// StrictRestore makes Restore reject a snapshot whose allocators and
	// Services disagree (service.RegistryConfig.StrictRestore) instead of
	// accepting it for Repair to fix.
	StrictRestore bool
	// KubernetesService creates the default/kubernetes Service every
	// cluster has, as the API server's kubernetesservice controller
	// does (pkg/controlplane/controller/kubernetesservice): ClusterIP the
	// first address of ServiceCIDRs[0], port https 443/TCP to 6443, the
	// labels component=apiserver and provider=kubernetes, no selector.
	// svcnet runs no API server, so the Service has no endpoints: its
	// name resolves, it is listed and printed, and a connection to it is
	// rejected (NoEndpoints). Off by default, so that a cluster's
	// Services, ClusterIPs and counts are only those it was given.
	KubernetesService bool
	// ExternalSlices makes the Cluster follow EndpointSlices computed
	// elsewhere (a real cluster's: kube/informer's follow mode) instead
	// of computing them: its endpoints controller does not run, Services,
	// pods and nodes change no slices, and ApplyEndpointSlice and
	// DeleteEndpointSlice give every slice that the proxy tables and the
	// DNS use, whoever manages it (endpointslices.go). Snapshot keeps
	// them, and only a Cluster with ExternalSlices restores such a
	// snapshot.
	ExternalSlices bool
}

// Changes is what one call changed in the control plane: Service objects
// (from the Registry) and EndpointSlices (from the endpoints controller).
type Changes struct {
	Services []service.Change
	Slices   []endpoints.Change
	// SkippedPods are the pods the endpoints controller left out of a
	// Service's slices because their node is unknown (not added yet, or
	// removed), one per pod and Service, as Kubernetes' reconciler skips
	// them until the node object exists. They are not errors of the call.
	SkippedPods []*endpoints.NodeNotFoundError
}

func (c *Changes) add(o Changes) {
	c.Services = append(c.Services, o.Services...)
	c.Slices = append(c.Slices, o.Slices...)
	c.SkippedPods = append(c.SkippedPods, o.SkippedPods...)
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool { return len(c.Services) == 0 && len(c.Slices) == 0 }

// Cluster is the whole Service path in one embeddable object: a Registry
// for Services, an endpoints controller for slices, the cluster DNS, and a
// kube-proxy per node. Nodes, pods and Services go in; what changed in the
// control plane comes out; names resolve and connections route as in a
// cluster.
//
// Propagation is explicit unless Config.ImmediateSync: the control plane
// publishes one immutable proxy.Table per change, numbered by its
// generation; a node's proxy applies the newest when SyncNode is called,
// or any generation the Cluster keeps with SyncNodeTo (a node whose watch
// lags applies GenerationAt(now - lag)); the DNS applies its pending
// changes on SyncDNS. Nodes in sync share one table; a stale node keeps the
// table it last applied, which shares all but what changed since.
// Connections route through a node's proxy with Route, and through a
// cloud load balancer's choice of node with LoadBalance.
//
// A Cluster is single-writer, like its parts, and not safe for concurrent
// use; wrap it in Concurrent to call it from many goroutines.
type Cluster struct {
	cfg     Config
	rng     *rand.Rand
	reg     *service.Registry
	ctl     *endpoints.Controller
	dns     *dnsname.Resolver
	kubelet dnsname.Kubelet
	table   *proxy.Table
	pending *dnsname.Batch
	nodes   map[string]*nodeState
	// names are the nodes' names, sorted: the load balancer's list.
	names []string
	// nodeByAddr indexes the nodes by their addresses (Node.Addrs).
	nodeByAddr map[netip.Addr]string
	pods       map[service.NamespacedName]*podState
	podByIP    map[netip.Addr]service.NamespacedName
	// sliceBorn holds each slice's creation time by namespace and name:
	// the endpoints controller reads no clock, the cluster does.
	sliceBorn map[service.NamespacedName]time.Time
	// applied are the applied EndpointSlices (endpointslices.go) by
	// namespace and name; appliedBy the same by Service, then name.
	applied   map[service.NamespacedName]*endpoints.Slice
	appliedBy map[service.NamespacedName]map[string]*endpoints.Slice
	// ephemeral counts source ports handed out by Dial.
	ephemeral uint64

	// gen is the newest table generation; hist the recent ones, oldest
	// first, the newest last; held those older that nodes have applied;
	// zero the empty generation 0 a new node starts with; loose the held
	// ones a Restore carried over, released at the next publish unless a
	// node went back to them.
	gen   uint64
	hist  []*generation
	held  map[uint64]*generation
	zero  *generation
	loose []uint64
}

type nodeState struct {
	node  *service.Node
	addrs []netip.Addr
	proxy *proxy.Proxy
	gen   *generation
	// routed: something has routed through proxy, so it has pickers to
	// keep up with each table; until then syncTo only moves gen, and
	// view syncs proxy when it is read (a node no traffic enters by
	// then costs nothing per table, which at thousands of nodes is
	// most of a sync's cost).
	routed bool
}

// view returns the node's proxy with the table of the generation it has
// applied.
func (ns *nodeState) view() *proxy.Proxy {
	if t := ns.gen.table; ns.proxy.Table() != t {
		ns.proxy.Sync(t)
	}
	return ns.proxy
}

// route is view for routing: the proxy keeps up with every table from
// now on.
func (ns *nodeState) route() *proxy.Proxy {
	ns.routed = true
	return ns.view()
}

// podState is a pod as the Cluster stores it, with its addresses parsed
// once when it was applied, and its resolv.conf worked out at its first
// lookup (only clients need one).
type podState struct {
	pod     *service.Pod
	ips     []netip.Addr
	conf    *dnsname.ResolvConf
	confErr error
}

// resolvConf returns the pod's resolv.conf, as the kubelet writes it.
func (c *Cluster) resolvConf(p *podState) (dnsname.ResolvConf, error) {
	if p.conf == nil {
		conf, err := c.kubelet.PodResolvConf(p.pod)
		p.conf, p.confErr = &conf, err
	}
	return *p.conf, p.confErr
}

// NewCluster returns an empty cluster.
func NewCluster(cfg Config) (*Cluster, error) {
	if len(cfg.ServiceCIDRs) == 0 {
		return nil, fmt.Errorf("%w: no ServiceCIDRs", ErrInvalidConfig)
	}
	if cfg.TableRetention < 0 {
		return nil, fmt.Errorf("%w: TableRetention %v: must not be negative", ErrInvalidConfig, cfg.TableRetention)
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = lb.AlgorithmRandom
	}
	table, err := proxy.NewTableWithAlgorithm(cfg.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	rng := cfg.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	c := &Cluster{
		cfg:        cfg,
		rng:        rng,
		nodes:      map[string]*nodeState{},
		nodeByAddr: map[netip.Addr]string{},
		pods:       map[service.NamespacedName]*podState{},
		podByIP:    map[netip.Addr]service.NamespacedName{},
		sliceBorn:  map[service.NamespacedName]time.Time{},
		applied:    map[service.NamespacedName]*endpoints.Slice{},
		appliedBy:  map[service.NamespacedName]map[string]*endpoints.Slice{},
		table:      table,
		pending:    &dnsname.Batch{},
		held:       map[uint64]*generation{},
	}
	c.zero = &generation{table: table, at: c.now()}
	c.hist = []*generation{c.zero}
	c.reg, err = service.NewRegistry(service.RegistryConfig{
		ServiceCIDRs:  cfg.ServiceCIDRs,
		NodePortRange: cfg.NodePortRange,
		LoadBalancer:  cfg.LoadBalancer,
		ExternalIPs:   cfg.ExternalIPs,
		Rand:          rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())),
		Clock:         cfg.Clock,
		StrictRestore: cfg.StrictRestore,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	c.ctl, err = endpoints.New(endpoints.Config{MaxEndpointsPerSlice: cfg.MaxEndpointsPerSlice})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	c.dns, err = dnsname.New(dnsname.Config{Zone: cfg.Domain, TTL: cfg.DNS.TTL, Pods: cfg.DNS.Pods})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	dnsIP := cfg.DNS.ServiceIP
	if !dnsIP.IsValid() {
		a := cfg.ServiceCIDRs[0].Masked().Addr()
		for range 10 {
			a = a.Next()
		}
		dnsIP = a
	}
	c.kubelet = dnsname.Kubelet{ClusterDomain: c.dns.Zone(), ClusterDNS: []netip.Addr{dnsIP},
		Host: dnsname.ResolvConf{Search: cfg.DNS.HostSearch}}
	if cfg.KubernetesService {
		if _, err := c.CreateService(kubernetesService(cfg.ServiceCIDRs[0])); err != nil {
			return nil, fmt.Errorf("%w: the kubernetes Service: %w", ErrInvalidConfig, err)
		}
	}
	return c, nil
}

// kubernetesService is default/kubernetes as the API server makes it:
// the first address of the primary Service range (GetIndexedIP(cidr, 1)),
// port https 443 to the API server's 6443.
func kubernetesService(cidr netip.Prefix) *service.Service {
	return &service.Service{
		ObjectMeta: service.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: service.Labels{"component": "apiserver", "provider": "kubernetes"}},
		Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, ClusterIP: cidr.Masked().Addr().Next().String(),
			Ports: []service.ServicePort{{Name: "https", Port: 443, Protocol: service.ProtocolTCP, TargetPort: service.FromInt(6443)}}},
	}
}

// DNS returns the cluster DNS resolver, safe to query from any goroutine.
// Restore replaces it: get it again after a Restore.
func (c *Cluster) DNS() *dnsname.Resolver { return c.dns }

// Table returns the control plane's newest proxy table.
func (c *Cluster) Table() *proxy.Table { return c.table }

// Slices returns the current EndpointSlices of a Service: the endpoints
// controller's (none with Config.ExternalSlices), then the applied ones
// (ApplyEndpointSlice) sorted by name.
func (c *Cluster) Slices(key service.NamespacedName) []*endpoints.Slice {
	out := c.ctlSlices(key)
	if len(c.appliedBy[key]) == 0 {
		return out
	}
	return append(slices.Clip(out), c.AppliedSlices(key)...)
}

// Nodes returns the nodes, sorted by name (copies).
func (c *Cluster) Nodes() []*service.Node {
	out := make([]*service.Node, 0, len(c.nodes))
	for _, name := range c.names {
		out = append(out, c.nodes[name].node.DeepCopy())
	}
	return out
}

// Pods returns the pods of namespace ("" for all), sorted by namespace and
// name (copies).
func (c *Cluster) Pods(namespace string) []*service.Pod {
	var out []*service.Pod
	for k, p := range c.pods {
		if namespace == "" || k.Namespace == namespace {
			out = append(out, p.pod.DeepCopy())
		}
	}
	slices.SortFunc(out, func(a, b *service.Pod) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Pod returns a copy of a pod.
func (c *Cluster) Pod(key service.NamespacedName) (*service.Pod, error) {
	p, ok := c.pods[key]
	if !ok {
		return nil, fmt.Errorf("%w: pod %s", ErrNotFound, key)
	}
	return p.pod.DeepCopy(), nil
}

// Service returns a copy of a Service.
func (c *Cluster) Service(key service.NamespacedName) (*service.Service, error) {
	return c.reg.Get(key.Namespace, key.Name)
}

// Services returns the Services of namespace ("" for all), sorted.
func (c *Cluster) Services(namespace string) []*service.Service {
	return c.reg.List(namespace, service.Everything())
}
