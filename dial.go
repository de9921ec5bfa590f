package svcnet

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// Source is where a connection starts: a pod of the cluster, or an
// address outside it.
type Source struct {
	// Pod is the client pod; when set, Addr is ignored and the pod's own
	// IP and node are used.
	Pod service.NamespacedName
	// Addr is an external client's address.
	Addr netip.Addr
	// Port is the source port; 0 picks the next ephemeral port
	// (32768–60999, Linux's default range).
	Port uint16
}

// FromPod returns the Source of a pod.
func FromPod(namespace, name string) Source {
	return Source{Pod: service.NamespacedName{Namespace: namespace, Name: name}}
}

// FromAddr returns the Source of a client outside the cluster.
func FromAddr(a netip.Addr) Source { return Source{Addr: a} }

// Trace is every step a connection took: name resolution through the
// client's search path, the proxy of the node it entered by, and the
// backend pod — the flow Client → Service IP:Port → Pod IP:TargetPort.
type Trace struct {
	// Steps describe the path, one line each.
	Steps []string
	// Lookup is the DNS search, when the target was a name.
	Lookup *dnsname.SearchResult
	// DNSFailure: the name did not resolve to an address in the cluster.
	DNSFailure bool
	// Node is the node whose proxy handled the packet.
	Node string
	// Src and Dst are the connection's addresses as the proxy saw them.
	Src, Dst netip.AddrPort
	// Route is the proxy's decision.
	Route proxy.Route
	// Pod is the backend pod, when Routed to a known pod or Direct.
	Pod service.NamespacedName
	// Direct: the destination was a pod's own address (a headless
	// Service's record, a StatefulSet pod's name, a pod IP) and the
	// connection from inside the cluster went to that pod without a
	// Service frontend; Route says NotServiceAddress.
	Direct bool
}

// Served reports whether the connection reached a backend: a Service
// routed it, or it went to a pod directly.
func (t Trace) Served() bool { return t.Route.Verdict == proxy.Routed || t.Direct }

// String returns the steps, one per line.
func (t Trace) String() string { return strings.Join(t.Steps, "\n") }

func (t *Trace) step(format string, args ...any) {
	t.Steps = append(t.Steps, fmt.Sprintf(format, args...))
}

// Resolve resolves name as the pod from.Pod would: through its
// resolv.conf search path (ClusterFirst: <ns>.svc.<zone>, svc.<zone>,
// <zone>, ndots:5), returning every query made. The client is named as
// Dial names it (FromPod); a Source without a pod (an external client)
// has no search path: an ErrInvalidTarget, ask DNS() for a full name
// instead.
func (c *Cluster) Resolve(from Source, name string, qtype dnsname.Type) (dnsname.SearchResult, error) {
	if from.Pod == (service.NamespacedName{}) {
		return dnsname.SearchResult{}, fmt.Errorf("%w: resolving %q needs a client pod (an external client has no cluster search path; use DNS())", ErrInvalidTarget, name)
	}
	pod, ok := c.pods[from.Pod]
	if !ok {
		return dnsname.SearchResult{}, fmt.Errorf("%w: pod %s", ErrNotFound, from.Pod)
	}
	conf, err := c.resolvConf(pod)
	if err != nil {
		return dnsname.SearchResult{}, err
	}
	return c.dns.ResolveSearch(conf, name, qtype), nil
}

// Kubelet returns how the cluster's kubelets write a pod's resolv.conf
// (the cluster domain, the cluster DNS address, the node's search list),
// as Resolve uses it: a real client (package testbed's) resolves with the
// same search path.
// The slices are copies.
func (c *Cluster) Kubelet() dnsname.Kubelet {
	k := c.kubelet
	k.ClusterDNS = slices.Clone(k.ClusterDNS)
	k.Host.Nameservers = slices.Clone(k.Host.Nameservers)
	k.Host.Search = slices.Clone(k.Host.Search)
	k.Host.Options = slices.Clone(k.Host.Options)
	k.Host.Omitted = slices.Clone(k.Host.Omitted)
	return k
}

func (c *Cluster) now() time.Time {
	if c.cfg.Clock != nil {
		return c.cfg.Clock()
	}
	return time.Time{}
}

// Dial routes a TCP connection from a pod or an external address to
// target, "host:port" where host is a Service name (resolved through the
// pod's search path), a ClusterIP, a node address (NodePort), an external
// IP or a LoadBalancer IP — or, from inside, a pod's own address (as a
// headless Service's name resolves), which the pod network delivers
// without a Service frontend (Trace.Direct). A pod's connection goes
// through its node's proxy, a node's own through the node's proxy, an
// external client's through the node that owns the destination or else
// one its load balancer picks. It returns every step taken. An unresolvable
// name or an unroutable packet is an outcome in the Trace, not an error;
// errors are for bad input (unknown pod, malformed target).
func (c *Cluster) Dial(from Source, target string) (Trace, error) {
	var t Trace
	host, portStr, err := net.SplitHostPort(target)
	if err != nil {
		return t, fmt.Errorf("%w: %q: %v", ErrInvalidTarget, target, err)
	}
	if host == "" {
		return t, fmt.Errorf("%w: %q: no host", ErrInvalidTarget, target)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return t, fmt.Errorf("%w: %q: port %q", ErrInvalidTarget, target, portStr)
	}

	var src netip.Addr
	var pod *podState
	if from.Pod != (service.NamespacedName{}) {
		p, ok := c.pods[from.Pod]
		if !ok {
			return t, fmt.Errorf("%w: pod %s", ErrNotFound, from.Pod)
		}
		pod = p
	} else if !from.Addr.IsValid() {
		return t, fmt.Errorf("%w: a Source needs a pod or an address", ErrInvalidTarget)
	}

	dst, err := netip.ParseAddr(host)
	if err != nil {
		if pod == nil {
			return t, fmt.Errorf("%w: %q: only pods resolve cluster names; dial an address from outside", ErrInvalidTarget, target)
		}
		// The client asks for the families it has addresses in, its
		// primary family first, as a resolver that only asks for
		// addresses it can reach (getaddrinfo's AI_ADDRCONFIG).
		var res dnsname.SearchResult
		for i, qtype := range podQueryTypes(pod.ips) {
			r, err := c.Resolve(from, host, qtype)
			if err != nil {
				return t, err
			}
			if a, ok := firstAddr(r); ok {
				dst, res = a, r
				break
			}
			if i == 0 {
				res = r
			}
		}
		t.Lookup = &res
		if !dst.IsValid() {
			t.DNSFailure = true
			t.step("DNS: %s did not resolve to a cluster address (%s after %d %s)", host, res.Response.Rcode,
				len(res.Queries), plural(len(res.Queries), "query", "queries"))
			if cn := cname(res); cn != "" {
				t.step("  it is a CNAME to %s, outside the cluster: the client's upstream resolver takes it from here", cn)
			}
			return t, nil
		}
		t.step("DNS: %s → %s %s (%d %s)", host, res.Name, dst, len(res.Queries), plural(len(res.Queries), "query", "queries"))
	}
	dst = dst.Unmap()

	if pod != nil {
		for _, a := range pod.ips {
			if a.Is4() == dst.Is4() {
				src = a
				break
			}
		}
		if !src.IsValid() {
			return t, fmt.Errorf("%w: pod %s has no %s address", ErrInvalidTarget, from.Pod, family(dst))
		}
		t.Node = pod.pod.Spec.NodeName
	} else {
		src = from.Addr.Unmap()
	}
	sport := from.Port
	if sport == 0 {
		c.ephemeral++
		sport = EphemeralPort(c.ephemeral)
	}
	t.Src = netip.AddrPortFrom(src, sport)
	t.Dst = netip.AddrPortFrom(dst, uint16(port))
	if pod != nil {
		t.step("client pod %s (%s) on node %s", from.Pod, t.Src, t.Node)
	} else {
		t.step("client %s outside the cluster", t.Src)
	}

	pkt := proxy.Packet{Src: t.Src, Dst: t.Dst, Proto: lb.TCP}
	if !c.enter(&t, pod, pkt) {
		t.Route = proxy.Route{Verdict: proxy.NotServiceAddress}
		t.step("no node to enter the cluster by")
		return t, nil
	}
	r := t.Route
	if r.Verdict == proxy.NotServiceAddress && pod != nil {
		// Pod to pod: no Service frontend, the pod network delivers it.
		if key, ok := c.podByIP[dst]; ok {
			t.Direct, t.Pod = true, key
			t.step("node %s kube-proxy: %s is not a Service address; the pod network delivers it", t.Node, t.Dst)
			t.step("pod %s on node %s, directly", key, c.pods[key].pod.Spec.NodeName)
			return t, nil
		}
	}
	switch r.Verdict {
	case proxy.Routed:
		t.Pod = c.podByIP[r.Backend.Addr.Addr()]
		t.step("node %s kube-proxy: %s %s (Service %s, port %s) → %s", t.Node, r.Kind, t.Dst, r.Service, portName(r.PortName), r.Backend.Addr)
		if t.Pod != (service.NamespacedName{}) {
			t.step("backend pod %s on node %s", t.Pod, r.Backend.Node)
		}
	case proxy.NotServiceAddress:
		t.step("node %s kube-proxy: %s is not a Service address", t.Node, t.Dst)
	default:
		t.step("node %s kube-proxy: %s %s (Service %s): %s", t.Node, r.Kind, t.Dst, r.Service, r.Verdict)
	}
	return t, nil
}

// enter routes the packet through the node it enters the cluster by,
// setting t.Node and t.Route; false when there is none. A pod's
// connection goes through its own node's proxy, and so does a node's own
// (kube-proxy's OUTPUT chain); when that proxy lets it pass and the
// destination is another node's address, the packet reaches that node,
// whose proxy answers its NodePorts (KUBE-NODEPORTS matches only local
// destinations). An external client enters by the node that owns the
// destination address, or else by the node a cloud load balancer picks
// (LoadBalance, over every node). It costs O(1) in the number of nodes
// but for the nodes a load balancer skips.
func (c *Cluster) enter(t *Trace, pod *podState, pkt proxy.Packet) bool {
	now := c.now()
	owner := c.nodeByAddr[pkt.Dst.Addr()]
	first := c.nodeByAddr[pkt.Src.Addr()]
	if pod != nil {
		if _, ok := c.nodes[pod.pod.Spec.NodeName]; !ok {
			return false
		}
		first = pod.pod.Spec.NodeName
	}
	if first == "" && owner == "" {
		if len(c.names) == 0 {
			return false
		}
		// LoadBalance fails only for an unknown node; these are the
		// Cluster's own.
		t.Node, t.Route, _ = c.loadBalance(nil, pkt, now, func(node string) {
			t.step("load balancer skips node %s: no local endpoint (health check fails)", node)
		})
		return true
	}
	if first == "" {
		first = owner
	}
	t.Node, t.Route = first, c.nodes[first].route().Route(pkt, now)
	if t.Route.Verdict == proxy.NotServiceAddress && owner != "" && owner != first {
		t.step("node %s kube-proxy: %s is not a Service address here; the packet goes on to node %s", first, t.Dst, owner)
		t.Node, t.Route = owner, c.nodes[owner].route().Route(pkt, now)
	}
	return true
}

// podQueryTypes returns the address types a pod's resolver asks for:
// those of the families it has an address in, its primary one first.
func podQueryTypes(ips []netip.Addr) []dnsname.Type {
	var out []dnsname.Type
	for _, ip := range ips {
		q := dnsname.TypeA
		if ip.Is6() {
			q = dnsname.TypeAAAA
		}
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	if len(out) == 0 {
		out = []dnsname.Type{dnsname.TypeA, dnsname.TypeAAAA}
	}
	return out
}

func firstAddr(res dnsname.SearchResult) (netip.Addr, bool) {
	for _, r := range res.Response.Answer {
		if r.Type == dnsname.TypeA || r.Type == dnsname.TypeAAAA {
			return r.Addr, true
		}
	}
	return netip.Addr{}, false
}

func cname(res dnsname.SearchResult) string {
	for _, r := range res.Response.Answer {
		if r.Type == dnsname.TypeCNAME {
			return r.Target
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

func portName(n string) string {
	if n == "" {
		return "(unnamed)"
	}
	return n
}
