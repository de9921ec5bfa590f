package proxy

import (
	"net/netip"
	"slices"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// ServicePort is one Service port in one IP family as a node programs it:
// what a renderer of kernel rules (package proxy/nftables) needs, already
// categorized for the node as Route would use it.
type ServicePort struct {
	Service  service.NamespacedName
	PortName string
	Proto    lb.Protocol
	IPv6     bool
	// Algorithm is the Service's load-balancing algorithm name.
	Algorithm string
	// AffinitySeconds is the ClientIP session affinity timeout, zero
	// without affinity.
	AffinitySeconds int32
	// HasEndpoints reports whether the port has a usable endpoint
	// anywhere (ready, or serving and terminating): without one, every
	// frontend rejects (kube-proxy's hasEndpoints).
	HasEndpoints bool
	// Cluster and Local are kube-proxy's clusterEndpoints and
	// localEndpoints for this node (CategorizeEndpoints), sorted by
	// address.
	Cluster, Local []lb.Backend
	// InternalLocal and ExternalLocal report an internal or external
	// traffic policy of Local.
	InternalLocal, ExternalLocal bool
	// Frontends are the port's addresses in the table, VIPs sorted by
	// address, then the NodePort if any.
	Frontends []Frontend
}

// Frontend is one address a ServicePort answers on.
type Frontend struct {
	Kind FrontendKind
	// Addr is the virtual address; invalid for a NodePort, which answers
	// on every node address.
	Addr netip.Addr
	Port uint16
	// SourceRanges are the loadBalancerSourceRanges of a LoadBalancer
	// frontend; empty means every source.
	SourceRanges []netip.Prefix
}

// Config returns the configuration the proxy was made with; its slices
// are the proxy's own and must not be modified.
func (p *Proxy) Config() ProxyConfig { return p.cfg }

// ServicePorts lists every Service port of the proxy's table that has a
// frontend, in Service key order, then port order, IPv4 before IPv6,
// with endpoints categorized for this node. It walks the whole table
// (O(frontends + endpoints)) and allocates the result; the proxy's
// pickers are not touched, so routing state is unchanged.
func (p *Proxy) ServicePorts() []ServicePort {
	t := p.table
	byPort := map[*tablePort][]Frontend{}
	t.frontends.Ascend(func(f tableFrontend) bool {
		byPort[f.tp] = append(byPort[f.tp], Frontend{Kind: f.kind, Addr: f.addr, Port: f.port, SourceRanges: f.sourceRanges()})
		return true
	})
	t.nodePorts.Ascend(func(f tableFrontend) bool {
		byPort[f.tp] = append(byPort[f.tp], Frontend{Kind: FrontendNodePort, Port: f.port})
		return true
	})
	var out []ServicePort
	t.services.Ascend(func(ts *tableService) bool {
		for _, tp := range ts.ports {
			fs := byPort[tp]
			if len(fs) == 0 {
				continue
			}
			out = append(out, p.servicePort(tp, fs))
		}
		return true
	})
	return out
}

// ChangedServices returns the keys of the Services whose entries differ
// between prev and the proxy's table (added, removed or changed, their
// slices included), sorted. When the proxy's table was built from prev
// within its last few builds (a Cluster's generations a node moves
// through), it costs what those builds changed, O(changed × log
// Services); otherwise Tables share unchanged entries, so it is a walk
// of pointer comparisons, O(Services) with no allocation beyond the
// result. A nil prev reports every Service.
func (p *Proxy) ChangedServices(prev *Table) []service.NamespacedName {
	var out []service.NamespacedName
	if prev != nil {
		if steps, n, ok := p.table.stepsSince(prev); ok {
			keys := make([]service.NamespacedName, 0, n)
			for _, st := range steps {
				keys = append(keys, st.keys...)
			}
			if len(steps) > 1 {
				slices.SortFunc(keys, compareKeys)
				keys = slices.Compact(keys)
			}
			for _, k := range keys {
				if prev.lookup(&p.probe, k) != p.table.lookup(&p.probe, k) {
					out = append(out, k)
				}
			}
			return out
		}
	}
	return p.changedByWalk(prev)
}

// changedByWalk is ChangedServices by a walk of both tables.
func (p *Proxy) changedByWalk(prev *Table) []service.NamespacedName {
	var out []service.NamespacedName
	var olds []*tableService
	if prev != nil {
		olds = make([]*tableService, 0, prev.services.Len())
		prev.services.Ascend(func(ts *tableService) bool { olds = append(olds, ts); return true })
	}
	i := 0
	p.table.services.Ascend(func(ts *tableService) bool {
		for i < len(olds) && compareKeys(olds[i].key, ts.key) < 0 {
			out = append(out, olds[i].key)
			i++
		}
		if i < len(olds) && olds[i].key == ts.key {
			if olds[i] != ts {
				out = append(out, ts.key)
			}
			i++
			return true
		}
		out = append(out, ts.key)
		return true
	})
	for ; i < len(olds); i++ {
		out = append(out, olds[i].key)
	}
	return out
}

// ServicePortsOf returns the ServicePorts of one Service, as
// ServicePorts would list them, in O(its ports × frontends × log
// frontends); none for an unknown Service.
func (p *Proxy) ServicePortsOf(key service.NamespacedName) []ServicePort {
	return p.ServicePortsIn(p.table, key)
}

// ServicePortsIn is ServicePortsOf for another Table seen from this
// node, such as the one the node programmed last: endpoints are
// categorized with this proxy's configuration.
func (p *Proxy) ServicePortsIn(t *Table, key service.NamespacedName) []ServicePort {
	ts, ok := t.services.Get(&tableService{key: key})
	if !ok {
		return nil
	}
	var out []ServicePort
	for _, tp := range ts.ports {
		var fs []Frontend
		for _, sp := range tp.svc.Spec.Ports {
			if sp.Name != tp.key.name || toProtocol(sp.Protocol) != tp.key.proto {
				continue
			}
			for _, v := range serviceVIPs(tp.svc) {
				f, ok := t.frontends.Get(tableFrontend{addr: v.addr, port: uint16(sp.Port), proto: tp.key.proto, ipv6: tp.key.ipv6})
				if ok && f.tp == tp {
					fs = append(fs, Frontend{Kind: f.kind, Addr: f.addr, Port: f.port, SourceRanges: f.sourceRanges()})
				}
			}
			if sp.NodePort != 0 {
				f, ok := t.nodePorts.Get(tableFrontend{port: uint16(sp.NodePort), proto: tp.key.proto, ipv6: tp.key.ipv6})
				if ok && f.tp == tp {
					fs = append(fs, Frontend{Kind: FrontendNodePort, Port: f.port})
				}
			}
		}
		if len(fs) == 0 {
			continue
		}
		slices.SortFunc(fs, func(a, b Frontend) int {
			if (a.Kind == FrontendNodePort) != (b.Kind == FrontendNodePort) {
				if a.Kind == FrontendNodePort {
					return 1
				}
				return -1
			}
			return a.Addr.Compare(b.Addr)
		})
		out = append(out, p.servicePort(tp, fs))
	}
	return out
}

// servicePort categorizes tp's endpoints for this node.
func (p *Proxy) servicePort(tp *tablePort, fs []Frontend) ServicePort {
	svc := tp.svc
	sp := ServicePort{
		Service: tp.key.svc, PortName: tp.key.name, Proto: tp.key.proto, IPv6: tp.key.ipv6,
		Algorithm: tp.alg, HasEndpoints: tp.hasAny, Frontends: fs,
		InternalLocal: svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == service.TrafficPolicyLocal,
		ExternalLocal: svc.Spec.ExternalTrafficPolicy == service.TrafficPolicyLocal,
	}
	if svc.Spec.SessionAffinity == service.ServiceAffinityClientIP {
		sp.AffinitySeconds = service.DefaultClientIPServiceAffinitySeconds
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil && *c.ClientIP.TimeoutSeconds > 0 {
			sp.AffinitySeconds = *c.ClientIP.TimeoutSeconds
		}
	}
	sp.Cluster, sp.Local = p.categorize(svc, tp.eps)
	byAddr := func(a, b lb.Backend) int { return a.Addr.Compare(b.Addr) }
	slices.SortFunc(sp.Cluster, byAddr)
	slices.SortFunc(sp.Local, byAddr)
	return sp
}

// PortPolicy is how kube-proxy's syncProxyRules routes one service port
// (pkg/proxy/nftables/proxier.go and pkg/proxy/iptables/proxier.go alike):
// which of its per-port policy chains it writes, and whether internal and
// external traffic find an endpoint under their traffic policies. Both
// renderers read it; which chain internal or external traffic jumps to
// is the Local one when InternalLocal or ExternalLocal is set, else the
// Cluster one.
type PortPolicy struct {
	// External reports a frontend other than a ClusterIP (NodePort,
	// external IP, LoadBalancer).
	External bool
	// UsesCluster and UsesLocal report that the cluster-policy and the
	// local-policy chains are written (they have endpoints and some
	// traffic goes to them).
	UsesCluster, UsesLocal bool
	// HasInternal and HasExternal report that internal and external
	// traffic have an endpoint under their policy.
	HasInternal, HasExternal bool
	// UsesExternal reports that the external chain is written.
	UsesExternal bool
}

// Policy works out the port's PortPolicy.
func (sp *ServicePort) Policy() PortPolicy {
	var p PortPolicy
	for _, f := range sp.Frontends {
		p.External = p.External || f.Kind != FrontendClusterIP
	}
	p.UsesCluster = len(sp.Cluster) > 0 && (!sp.InternalLocal || p.External)
	p.UsesLocal = len(sp.Local) > 0 && (sp.InternalLocal || sp.ExternalLocal && p.External)
	local := sp.HasEndpoints && len(sp.Local) > 0
	p.HasInternal, p.HasExternal = sp.HasEndpoints, sp.HasEndpoints
	if sp.InternalLocal {
		p.HasInternal = local
	}
	if sp.ExternalLocal {
		p.HasExternal = local
	}
	p.UsesExternal = sp.HasEndpoints && p.External
	return p
}

// Name is the service port's name as kube-proxy writes it in rule
// comments and hashes into chain names: "<namespace>/<name>", then
// ":<port name>" when the port has one (ServicePortName.String in
// pkg/proxy/types.go).
func (sp *ServicePort) Name() string {
	name := sp.Service.Namespace + "/" + sp.Service.Name
	if sp.PortName != "" {
		name += ":" + sp.PortName
	}
	return name
}

// PolicyChains returns the chains internal and external traffic jump
// to, given the port's cluster-policy and local-policy chains: the local
// one under a Local traffic policy, else the cluster one.
func (sp *ServicePort) PolicyChains(cluster, local string) (internal, external string) {
	internal, external = cluster, cluster
	if sp.InternalLocal {
		internal = local
	}
	if sp.ExternalLocal {
		external = local
	}
	return internal, external
}

// ProtocolName returns the lower-case protocol name the kernel's rule
// languages use ("tcp", "udp", "sctp"); anything else is "tcp", a
// Service port's default.
func ProtocolName(p lb.Protocol) string {
	switch p {
	case lb.UDP:
		return "udp"
	case lb.SCTP:
		return "sctp"
	}
	return "tcp"
}
