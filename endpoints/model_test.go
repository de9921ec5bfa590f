package endpoints

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/svcnet/svcnet/service"
)

// This file is the naive model the controller is checked against: from
// all Services, Pods and Nodes, it recomputes every Service's endpoints
// from scratch, straight from Kubernetes' rules, sharing no code with
// the controller.

type model struct {
	cfg      Config
	services map[service.NamespacedName]*service.Service
	pods     map[service.NamespacedName]*service.Pod
	zones    map[string]string // node → zone; the known nodes
	// frozen holds what the slices of a Service that lost its selector
	// (or became ExternalName) held then: syncService no longer touches
	// them.
	frozen map[service.NamespacedName]frozenSlices
}

type frozenSlices struct {
	families  []AddressType
	endpoints map[string]flatEndpoint
}

func newModel(cfg Config) *model {
	return &model{
		cfg:      cfg,
		services: map[service.NamespacedName]*service.Service{},
		pods:     map[service.NamespacedName]*service.Pod{},
		zones:    map[string]string{},
		frozen:   map[service.NamespacedName]frozenSlices{},
	}
}

// upsertService records svc; a Service that stops being managed with
// the same UID freezes its endpoints as they are.
func (m *model) upsertService(svc *service.Service) {
	key := svc.Key()
	old := m.services[key]
	switch {
	case old == nil || old.UID != svc.UID || modelManaged(svc):
		delete(m.frozen, key)
	case modelManaged(old):
		m.frozen[key] = frozenSlices{families: modelFamilies(old), endpoints: m.endpoints(key)}
	}
	m.services[key] = svc
}

func (m *model) deleteService(key service.NamespacedName) {
	delete(m.services, key)
	delete(m.frozen, key)
}

// eligible reports whether Kubernetes' reconciler counts p for svc
// (ShouldPodBeInEndpoints), and svcnet's endpoint-IP rule keeps it.
func (m *model) eligible(svc *service.Service, p *service.Pod) bool {
	if p.Namespace != svc.Namespace || !modelSelects(svc.Spec.Selector, p.Labels) {
		return false
	}
	if p.Status.Phase == service.PodSucceeded || p.Status.Phase == service.PodFailed {
		return false
	}
	ips, ok := modelPodIPs(p)
	return ok && len(ips) > 0
}

// skipped reports whether p is left out of svc for its unknown node.
func (m *model) skipped(svc *service.Service, p *service.Pod) bool {
	_, known := m.zones[p.Spec.NodeName]
	return modelManaged(svc) && m.eligible(svc, p) && !known && !svc.Spec.PublishNotReadyAddresses
}

// wantsEmptyPorts reports whether a pod counted for svc has the empty
// port set: the reconciler then keeps an endpoint-less placeholder.
func (m *model) wantsEmptyPorts(svc *service.Service) bool {
	for _, p := range m.pods {
		if m.eligible(svc, p) && modelPorts(svc, p) == "" {
			return true
		}
	}
	return false
}

// flatEndpoint is an endpoint with the ports of its slice, in a form
// that compares with ==.
type flatEndpoint struct {
	AddressType AddressType
	Pod         string
	Addresses   string
	Ports       string
	Ready       bool
	Serving     bool
	Terminating bool
	Hostname    string
	NodeName    string
	Zone        string
	Hints       string
}

func modelManaged(svc *service.Service) bool {
	return svc.Spec.Type != service.ServiceTypeExternalName && svc.Spec.Selector != nil
}

func modelFamilies(svc *service.Service) []AddressType {
	var out []AddressType
	for _, f := range svc.Spec.IPFamilies {
		if !slices.Contains(out, AddressType(f)) {
			out = append(out, AddressType(f))
		}
	}
	if len(out) > 0 {
		return out
	}
	switch ip := svc.Spec.ClusterIP; {
	case ip == "" || ip == "None":
		return []AddressType{AddressTypeIPv4, AddressTypeIPv6}
	case strings.Contains(ip, ":"):
		return []AddressType{AddressTypeIPv6}
	}
	return []AddressType{AddressTypeIPv4}
}

// modelPodIPs returns the pod's IPs, and false when one of them may not
// be an endpoint.
func modelPodIPs(p *service.Pod) ([]string, bool) {
	var ips []string
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = []string{p.Status.PodIP}
	}
	for _, ip := range ips {
		if service.EndpointIPRule(ip) != "" {
			return ips, false
		}
	}
	return ips, true
}

func modelSelects(sel, labels service.Labels) bool {
	for k, v := range sel {
		if w, ok := labels[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func modelPorts(svc *service.Service, p *service.Pod) string {
	var out []string
	for _, sp := range svc.Spec.Ports {
		proto := sp.Protocol
		if proto == "" {
			proto = service.ProtocolTCP
		}
		port, ok := int32(0), false
		switch t := sp.TargetPort; {
		case t.IsZero():
			port, ok = sp.Port, true
		case !t.IsString:
			port, ok = t.IntVal, true
		default:
			search := func(cs []service.Container, sidecarsOnly bool) {
				for _, c := range cs {
					if sidecarsOnly && (c.RestartPolicy == nil || *c.RestartPolicy != "Always") {
						continue
					}
					for _, cp := range c.Ports {
						cproto := cp.Protocol
						if cproto == "" {
							cproto = service.ProtocolTCP
						}
						if !ok && cp.Name == t.StrVal && cproto == proto {
							port, ok = cp.ContainerPort, true
						}
					}
				}
			}
			search(p.Spec.Containers, false)
			search(p.Spec.InitContainers, true)
		}
		if ok {
			app := "-"
			if sp.AppProtocol != nil {
				app = *sp.AppProtocol
			}
			out = append(out, fmt.Sprintf("%s/%s/%d/%s", sp.Name, proto, port, app))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func formatPorts(ps []Port) string {
	var out []string
	for _, p := range ps {
		app := "-"
		if p.AppProtocol != nil {
			app = *p.AppProtocol
		}
		out = append(out, fmt.Sprintf("%s/%s/%d/%s", p.Name, p.Protocol, p.Port, app))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func formatHints(h *Hints) string {
	if h == nil {
		return ""
	}
	var b strings.Builder
	for _, z := range h.ForZones {
		b.WriteString("zone:" + z.Name + ";")
	}
	for _, n := range h.ForNodes {
		b.WriteString("node:" + n.Name + ";")
	}
	return b.String()
}

// endpoints returns what the Service's slices must hold, by
// address type and pod name.
func (m *model) endpoints(key service.NamespacedName) map[string]flatEndpoint {
	if f, ok := m.frozen[key]; ok {
		return f.endpoints
	}
	svc := m.services[key]
	if svc == nil || !modelManaged(svc) {
		return nil
	}
	mode := ""
	if td := svc.Spec.TrafficDistribution; td != nil && !m.cfg.Topology.IgnoreTrafficDistribution {
		switch *td {
		case "PreferClose":
			mode = "zone"
		case "PreferSameZone":
			if !m.cfg.Topology.PreferCloseOnly {
				mode = "zone"
			}
		case "PreferSameNode":
			if !m.cfg.Topology.PreferCloseOnly {
				mode = "node"
			}
		}
	}
	out := map[string]flatEndpoint{}
	for _, p := range m.pods {
		if !m.eligible(svc, p) || m.skipped(svc, p) {
			continue
		}
		ips, _ := modelPodIPs(p)
		for _, fam := range modelFamilies(svc) {
			var addrs []string
			for _, ip := range ips {
				a := netip.MustParseAddr(ip)
				if a.Is6() == (fam == AddressTypeIPv6) {
					addrs = append(addrs, a.String())
				}
			}
			if len(addrs) == 0 {
				continue
			}
			serving := p.IsReady()
			term := p.DeletionTimestamp != nil
			e := flatEndpoint{
				AddressType: fam,
				Pod:         p.Name,
				Addresses:   strings.Join(addrs, ","),
				Ports:       modelPorts(svc, p),
				Serving:     serving,
				Terminating: term,
				Ready:       svc.Spec.PublishNotReadyAddresses || serving && !term,
				NodeName:    p.Spec.NodeName,
				Zone:        m.zones[p.Spec.NodeName],
			}
			if p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name {
				e.Hostname = p.Spec.Hostname
			}
			if e.Ready && mode != "" {
				if e.Zone != "" {
					e.Hints += "zone:" + e.Zone + ";"
				}
				if mode == "node" && e.NodeName != "" {
					e.Hints += "node:" + e.NodeName + ";"
				}
			}
			out[string(fam)+"/"+p.Name] = e
		}
	}
	return out
}

// flatten returns the endpoints of slices by address type and pod name,
// and an error when one appears twice.
func flatten(ss []*Slice) (map[string]flatEndpoint, error) {
	out := map[string]flatEndpoint{}
	for _, s := range ss {
		ports := formatPorts(s.Ports)
		for _, ep := range s.Endpoints {
			var addrs []string
			for _, a := range ep.Addresses {
				addrs = append(addrs, a.String())
			}
			e := flatEndpoint{
				AddressType: s.AddressType,
				Pod:         ep.TargetRef.Name,
				Addresses:   strings.Join(addrs, ","),
				Ports:       ports,
				Ready:       ep.Conditions.Ready,
				Serving:     ep.Conditions.Serving,
				Terminating: ep.Conditions.Terminating,
				Hostname:    ep.Hostname,
				NodeName:    ep.NodeName,
				Zone:        ep.Zone,
				Hints:       formatHints(ep.Hints),
			}
			k := string(s.AddressType) + "/" + ep.TargetRef.Name
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("endpoint %s appears twice (slice %s)", k, s.Name)
			}
			out[k] = e
		}
	}
	return out, nil
}
