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
		byPort[f.tp] = append(byPort[f.tp], Frontend{Kind: f.kind, Addr: f.addr, Port: f.port, SourceRanges: f.ranges})
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
			out = append(out, sp)
		}
		return true
	})
	return out
}
