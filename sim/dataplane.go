package sim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// The kinds of DataPlaneEvent.
const (
	// DataPlaneNode: a node, with its address and pod range (every node,
	// at time 0, before anything else).
	DataPlaneNode = "node"
	// DataPlaneFlow: a traffic flow, with the address and port its
	// clients connect to (every flow, at time 0).
	DataPlaneFlow = "flow"
	// DataPlanePodStart: a pod's sandbox runs with its address on its
	// node (its application does not listen yet); a client pod of a flow
	// has Flow set.
	DataPlanePodStart = "pod-start"
	// DataPlaneAppUp: the pod's application listens on its container
	// ports; DataPlaneAppDown: it exited (SIGTERM, a crash, its node
	// down), closing its listeners and its open connections.
	DataPlaneAppUp   = "app-up"
	DataPlaneAppDown = "app-down"
	// DataPlanePodGone: the pod is deleted for good; its address may be
	// given to another pod later.
	DataPlanePodGone = "pod-gone"
	// DataPlaneSync: a node's kube-proxy applied Table (Generation).
	DataPlaneSync = "sync"
	// DataPlaneChange: a change made in the API at Since is in table
	// Generation and later ones: the start of an endpoint programming
	// latency sample.
	DataPlaneChange = "change"
	// DataPlaneDNS: the cluster DNS, DNS, served at DNSAddr (the address
	// the kubelets write in resolv.conf), at time 0 after the nodes; and
	// again at each DNS sync, just before the resolver applies the
	// changes it has not seen: a real server of DNS sees them when the
	// callback returns (DNS is safe to query from any goroutine).
	DataPlaneDNS = "dns"
	// DataPlaneNodeDown: the node died (killNode, zoneDown): it forwards
	// nothing and its pods and clients are gone with it (their
	// DataPlaneAppDown follow); DataPlaneNodeUp: it booted again. A node
	// cut off from the control plane has no event: it just stops
	// syncing.
	DataPlaneNodeDown = "node-down"
	DataPlaneNodeUp   = "node-up"
	// DataPlaneNodeReady: the node's Ready condition in the API changed
	// to Ready (the node lifecycle controller marks a silent node
	// NotReady after its grace period; the kubelet of a node back marks
	// it Ready; a node deleted from the API is NotReady). It is what an
	// off-cluster client's pick of a node follows (a NodePort flow picks
	// among the Ready nodes, traffic.go's arrival): a dead node stays
	// Ready, and picked, until it is noticed. Every node is Ready at
	// time 0.
	DataPlaneNodeReady = "node-ready"
)

// DataPlaneEvent is one change a real data plane must follow to mirror a
// run (package testbed does, in network namespaces). Fields that do not
// apply to the Kind are zero.
type DataPlaneEvent struct {
	// At is the simulated time of the change.
	At   time.Duration
	Kind string
	// Node names the node; NodeAddr and PodCIDR are its (DataPlaneNode).
	Node     string
	NodeAddr netip.Addr
	PodCIDR  netip.Prefix
	// ServiceCIDRs are the cluster's ClusterIP ranges (one per family) and
	// ClusterCIDRs its pod and node ranges (DataPlaneNode), as a node's
	// rules need them.
	ServiceCIDRs []netip.Prefix
	ClusterCIDRs []netip.Prefix
	// Pod, PodAddr and Ports are the pod's key, address and container
	// ports (DataPlanePodStart, DataPlaneAppUp).
	Pod     service.NamespacedName
	PodAddr netip.Addr
	Ports   []service.ContainerPort
	// Flow is the index of the flow in Scenario.Traffic (DataPlaneFlow,
	// and DataPlanePodStart of a flow's client: the first of Flows); -1
	// elsewhere.
	Flow int
	// Flows are the flows whose client the pod is (DataPlanePodStart):
	// a flow's own client pod, or a pod its clientSelector chose (a pod
	// may be the client of several flows, and a backend too).
	Flows []int
	// Target is where a flow's clients connect (DataPlaneFlow): the
	// ClusterIP and port, a node's address and the NodePort when Via
	// is ViaNodePort (the address of no node in particular: zero), or
	// the LoadBalancer IP (the Service's status.loadBalancer.ingress)
	// and port when Via is ViaLoadBalancer.
	Target netip.AddrPort
	Via    string
	// TargetPort is the Service port's targetPort, where a Direct flow's
	// clients connect on the pod DNS named (DataPlaneFlow): a number, or
	// a container port's name (endpoints.FindPort).
	TargetPort service.IntOrString
	// Clients are an external flow's client addresses (DataPlaneFlow).
	Clients []netip.Addr
	// Table and Generation are what a node applied (DataPlaneSync);
	// Generation is also a DataPlaneChange's.
	Table      *proxy.Table
	Generation uint64
	// Since is when a DataPlaneChange was made in the API.
	Since time.Duration
	// Host is the name a flow's clients resolve when Via is ViaDNS
	// (DataPlaneFlow); Direct says it resolves to pod addresses (a
	// headless Service or a pod's hostname), not to Target's address.
	Host   string
	Direct bool
	// ResolvConf is a client pod's resolv.conf (DataPlanePodStart of a
	// flow's client), as its kubelet writes it.
	ResolvConf *dnsname.ResolvConf
	// DNS and DNSAddr are the cluster DNS and its address (DataPlaneDNS).
	DNS     *dnsname.Resolver
	DNSAddr netip.Addr
	// Ready is the node's new Ready condition (DataPlaneNodeReady).
	Ready bool
}

// dataPlane passes e to the run's DataPlane, if any, stamped with the
// current time.
func (w *world) dataPlane(e DataPlaneEvent) {
	if w.dp == nil {
		return
	}
	e.At = w.now()
	if e.Kind != DataPlaneFlow && e.Kind != DataPlanePodStart {
		e.Flow = -1
	}
	w.dp(e)
}

// dpPod reports a pod's start or its application coming up.
func (w *world) dpPod(kind string, p *pod) {
	if w.dp == nil {
		return
	}
	e := DataPlaneEvent{Kind: kind, Pod: p.key, PodAddr: p.ip, Flow: -1}
	if p.node != nil {
		e.Node = p.node.name
	}
	for _, c := range p.spec.Containers {
		e.Ports = append(e.Ports, c.Ports...)
	}
	if kind == DataPlanePodStart {
		for _, f := range w.flows {
			if slices.Contains(f.clients, p) {
				e.Flows = append(e.Flows, f.idx)
			}
		}
		if len(e.Flows) > 0 {
			e.Flow = e.Flows[0]
			pod := &service.Pod{ObjectMeta: service.ObjectMeta{Name: p.key.Name, Namespace: p.key.Namespace}, Spec: *p.spec}
			if conf, err := w.c.Kubelet().PodResolvConf(pod); err == nil {
				e.ResolvConf = &conf
			}
		}
	}
	w.dataPlane(e)
}

// dpSync reports that node n's proxy applied generation g.
func (w *world) dpSync(n *node, g uint64) {
	if w.dp == nil {
		return
	}
	np, err := w.c.Proxy(n.name)
	if err != nil {
		return
	}
	w.dataPlane(DataPlaneEvent{Kind: DataPlaneSync, Node: n.name, Table: np.Table(), Generation: g})
}

// dpStart reports the world at time 0: its nodes, flows, running pods
// and every node's table.
func (w *world) dpStart() {
	if w.dp == nil {
		return
	}
	for _, n := range w.nodes {
		w.dataPlane(DataPlaneEvent{Kind: DataPlaneNode, Node: n.name, NodeAddr: n.addr, PodCIDR: n.podNet,
			ServiceCIDRs: w.cfg.serviceNets, ClusterCIDRs: []netip.Prefix{w.cfg.podNet, w.cfg.nodeNet}})
	}
	if k := w.c.Kubelet(); len(k.ClusterDNS) > 0 {
		w.dataPlane(DataPlaneEvent{Kind: DataPlaneDNS, DNS: w.c.DNS(), DNSAddr: k.ClusterDNS[0]})
	}
	for _, f := range w.flows {
		e := DataPlaneEvent{Kind: DataPlaneFlow, Flow: f.idx, Via: f.via, Target: netip.AddrPortFrom(f.vip, f.port), Clients: f.addrs,
			Host: f.host, Direct: f.direct}
		switch {
		case f.via == ViaNodePort:
			e.Target = netip.AddrPortFrom(netip.Addr{}, f.nodePort)
		case f.via == ViaLoadBalancer:
			e.Target = netip.AddrPortFrom(f.lbIP, f.port)
		case f.direct:
			e.TargetPort = f.target
		}
		w.dataPlane(e)
	}
	for _, p := range w.pods {
		if p.phase != phRunning {
			continue
		}
		w.dpPod(DataPlanePodStart, p)
		if p.appUp {
			w.dpPod(DataPlaneAppUp, p)
		}
	}
	for _, n := range w.nodes {
		if g, err := w.c.NodeGeneration(n.name); err == nil {
			w.dpSync(n, g)
		}
	}
}
