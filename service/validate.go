package service

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/internal/k8sname"
)

// The rules below are Kubernetes' own, from validateService,
// validateServicePort, ValidateServiceClusterIPsRelatedFields,
// validateServiceExternalTrafficPolicy and ValidateEndpointIP in
// pkg/apis/core/validation/validation.go (v1.37). Where svcnet is
// stricter it says so next to the rule.

// validator collects field errors.
type validator struct{ errs ErrorList }

func (v *validator) invalid(path string, value any, rule string) {
	v.errs = append(v.errs, Invalid(path, value, rule))
}

func (v *validator) required(path, rule string) { v.errs = append(v.errs, Required(path, rule)) }

func (v *validator) check(path string, value string, msg string) {
	if msg != "" {
		v.invalid(path, value, msg)
	}
}

const maxAnnotationsBytes = 256 * 1024 // TotalAnnotationSizeLimitB

func (v *validator) meta(m *ObjectMeta, nameRule func(string) string) {
	if m.Name == "" {
		v.required("metadata.name", "name is required")
	} else {
		v.check("metadata.name", m.Name, nameRule(m.Name))
	}
	if m.Namespace == "" {
		v.required("metadata.namespace", "namespace is required")
	} else {
		v.check("metadata.namespace", m.Namespace, k8sname.DNS1123Label(m.Namespace))
	}
	v.labels(m.Labels, "metadata.labels")
	size := 0
	for k, val := range m.Annotations {
		v.check("metadata.annotations", k, k8sname.QualifiedName(strings.ToLower(k)))
		size += len(k) + len(val)
	}
	if size > maxAnnotationsBytes {
		v.invalid("metadata.annotations", fmt.Sprintf("%d bytes", size), "must have at most 262144 bytes")
	}
}

func (v *validator) labels(ls Labels, path string) {
	if err := ValidateLabels(ls, path); err != nil {
		v.errs = append(v.errs, err.(*ValidationError).Errors...)
	}
}

// parseIP parses an IP strictly, as Kubernetes does with the
// StrictIPCIDRValidation feature: no leading zeros, no zone, no
// IPv4-mapped IPv6.
func parseIP(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, "must be a valid IP address"
	}
	if a.Zone() != "" {
		return netip.Addr{}, "must not have a zone"
	}
	if a.Is4In6() {
		return netip.Addr{}, "must not be an IPv4-mapped IPv6 address"
	}
	return a, ""
}

// EndpointIPRule returns "" when s may be an endpoint (a pod IP or an
// external IP) and the rule it breaks otherwise: a valid IP that is not
// unspecified, loopback, link-local or link-local multicast
// (ValidateEndpointIP; the loopback and link-local rules close
// CVE-2021-25737).
func EndpointIPRule(s string) string {
	a, msg := parseIP(s)
	if msg != "" {
		return msg
	}
	switch {
	case a.IsUnspecified():
		return "may not be unspecified (" + s + ")"
	case a.IsLoopback():
		return "may not be in the loopback range (127.0.0.0/8, ::1/128)"
	case a.IsLinkLocalUnicast():
		return "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
	case a.IsLinkLocalMulticast():
		return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
	}
	return ""
}

func familyOf(a netip.Addr) IPFamily {
	if a.Is4() {
		return IPv4Protocol
	}
	return IPv6Protocol
}

func portRule(n int32) string {
	if n < 1 || n > 65535 {
		return "must be between 1 and 65535, inclusive"
	}
	return ""
}

func notSupported(values ...string) string {
	return "supported values: \"" + strings.Join(values, "\", \"") + "\""
}

// Validate reports every problem with s at once as a *ValidationError
// (errors.Is(err, ErrInvalid)), each with its field path, value and rule.
// It judges a defaulted Service, as Kubernetes does: call Default first.
// It returns nil when s is valid.
func (s *Service) Validate() error {
	var v validator
	v.meta(&s.ObjectMeta, k8sname.DNS1035Label)
	v.serviceSpec(s)
	if len(v.errs) == 0 {
		return nil
	}
	return named(v.errs.Err(), "Service", s.Namespace+"/"+s.Name)
}

func (v *validator) serviceSpec(s *Service) {
	sp := &s.Spec
	headless := s.IsHeadless()

	switch sp.Type {
	case "":
		v.required("spec.type", "type is required")
	case ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeLoadBalancer, ServiceTypeExternalName:
	default:
		v.invalid("spec.type", string(sp.Type), notSupported("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"))
	}

	if len(sp.Ports) == 0 && !headless && sp.Type != ServiceTypeExternalName {
		v.required("spec.ports", "at least one port unless the Service is headless or ExternalName")
	}
	switch sp.Type {
	case ServiceTypeNodePort, ServiceTypeLoadBalancer:
		if headless {
			v.invalid("spec.clusterIPs[0]", ClusterIPNone, "may not be set to 'None' for "+string(sp.Type)+" services")
		}
	case ServiceTypeExternalName:
		if len(sp.ClusterIPs) > 0 || sp.ClusterIP != "" {
			v.invalid("spec.clusterIPs", sp.ClusterIPs, "may not be set for ExternalName services")
		}
		if len(sp.IPFamilies) > 0 {
			v.invalid("spec.ipFamilies", sp.IPFamilies, "may not be set for ExternalName services")
		}
		if sp.IPFamilyPolicy != nil {
			v.invalid("spec.ipFamilyPolicy", string(*sp.IPFamilyPolicy), "may not be set for ExternalName services")
		}
		// The value (a CNAME) may end in a dot to mark it fully qualified.
		if cname := strings.TrimSuffix(sp.ExternalName, "."); cname == "" {
			v.required("spec.externalName", "a DNS-1123 subdomain is required for ExternalName services")
		} else {
			v.check("spec.externalName", sp.ExternalName, k8sname.DNS1123Subdomain(cname))
		}
	}

	v.servicePorts(s)
	v.labels(sp.Selector, "spec.selector")

	switch sp.SessionAffinity {
	case "":
		v.required("spec.sessionAffinity", "sessionAffinity is required")
	case ServiceAffinityNone:
		if sp.SessionAffinityConfig != nil {
			v.invalid("spec.sessionAffinityConfig", "set", "must not be set when session affinity is None")
		}
	case ServiceAffinityClientIP:
		c := sp.SessionAffinityConfig
		switch {
		case c == nil:
			v.required("spec.sessionAffinityConfig", "when session affinity type is ClientIP")
		case c.ClientIP == nil:
			v.required("spec.sessionAffinityConfig.clientIP", "when session affinity type is ClientIP")
		case c.ClientIP.TimeoutSeconds == nil:
			v.required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", "when session affinity type is ClientIP")
		case *c.ClientIP.TimeoutSeconds < 1 || *c.ClientIP.TimeoutSeconds > MaxClientIPServiceAffinitySeconds:
			v.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", *c.ClientIP.TimeoutSeconds, "must be greater than 0 and less than or equal to 86400")
		}
	default:
		v.invalid("spec.sessionAffinity", string(sp.SessionAffinity), notSupported("ClientIP", "None"))
	}

	if sp.Type != ServiceTypeExternalName {
		v.clusterIPs(s)
	}

	for i, ip := range sp.ExternalIPs {
		v.check(fmt.Sprintf("spec.externalIPs[%d]", i), ip, EndpointIPRule(ip))
	}
	if sp.LoadBalancerIP != "" {
		if _, msg := parseIP(sp.LoadBalancerIP); msg != "" {
			v.invalid("spec.loadBalancerIP", sp.LoadBalancerIP, msg)
		}
	}

	if len(sp.LoadBalancerSourceRanges) > 0 {
		if sp.Type != ServiceTypeLoadBalancer {
			v.invalid("spec.loadBalancerSourceRanges", sp.LoadBalancerSourceRanges, "may only be used when `type` is 'LoadBalancer'")
		}
		for i, r := range sp.LoadBalancerSourceRanges {
			if _, err := ParseSourceRange(r); err != nil {
				v.invalid(fmt.Sprintf("spec.loadBalancerSourceRanges[%d]", i), r, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
			}
		}
	}

	if sp.AllocateLoadBalancerNodePorts != nil && sp.Type != ServiceTypeLoadBalancer {
		v.invalid("spec.allocateLoadBalancerNodePorts", *sp.AllocateLoadBalancerNodePorts, "may only be used when `type` is 'LoadBalancer'")
	}
	if sp.Type == ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		v.required("spec.allocateLoadBalancerNodePorts", "allocateLoadBalancerNodePorts is required for LoadBalancer services")
	}
	if c := sp.LoadBalancerClass; c != nil {
		if sp.Type != ServiceTypeLoadBalancer {
			v.invalid("spec.loadBalancerClass", *c, "may only be used when `type` is 'LoadBalancer'")
		} else {
			v.check("spec.loadBalancerClass", *c, k8sname.QualifiedName(*c))
		}
	}

	if !s.ExternallyAccessible() {
		if sp.ExternalTrafficPolicy != "" {
			v.invalid("spec.externalTrafficPolicy", string(sp.ExternalTrafficPolicy), "may only be set for externally-accessible services")
		}
	} else {
		switch sp.ExternalTrafficPolicy {
		case "":
			v.required("spec.externalTrafficPolicy", "externalTrafficPolicy is required for externally-accessible services")
		case TrafficPolicyCluster, TrafficPolicyLocal:
		default:
			v.invalid("spec.externalTrafficPolicy", string(sp.ExternalTrafficPolicy), notSupported("Cluster", "Local"))
		}
	}
	// A healthCheckNodePort of 0 on a Service that needs one is left for
	// the Registry to allocate.
	if sp.HealthCheckNodePort != 0 {
		if !s.NeedsHealthCheck() {
			v.invalid("spec.healthCheckNodePort", sp.HealthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")
		} else if msg := portRule(sp.HealthCheckNodePort); msg != "" {
			v.invalid("spec.healthCheckNodePort", sp.HealthCheckNodePort, msg)
		}
	}

	if sp.InternalTrafficPolicy == nil {
		if sp.Type != ServiceTypeExternalName {
			v.required("spec.internalTrafficPolicy", "internalTrafficPolicy is required")
		}
	} else if p := *sp.InternalTrafficPolicy; p != TrafficPolicyCluster && p != TrafficPolicyLocal {
		v.invalid("spec.internalTrafficPolicy", string(p), notSupported("Cluster", "Local"))
	}

	if td := sp.TrafficDistribution; td != nil {
		switch *td {
		case TrafficDistributionPreferClose, TrafficDistributionPreferSameZone, TrafficDistributionPreferSameNode:
		default:
			v.invalid("spec.trafficDistribution", *td, notSupported(TrafficDistributionPreferClose, TrafficDistributionPreferSameNode, TrafficDistributionPreferSameZone))
		}
	}
}

func (v *validator) servicePorts(s *Service) {
	sp := &s.Spec
	// Duplicates are found by scanning the earlier ports when there are
	// few (no heap allocation for the common Service), by maps otherwise
	// (linear time for a Service with very many ports).
	var idx *portIndex
	if len(sp.Ports) > smallPortCount {
		idx = newPortIndex(len(sp.Ports))
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		path := func(field string) string { return "spec.ports[" + strconv.Itoa(i) + "]" + field }
		switch {
		case p.Name == "" && len(sp.Ports) > 1:
			v.required(path(".name"), "a name is required when a Service has more than one port")
		case p.Name != "":
			if msg := k8sname.DNS1123Label(p.Name); msg != "" {
				v.invalid(path(".name"), p.Name, msg)
			}
			if idx.name(sp.Ports, i) {
				v.invalid(path(".name"), p.Name, "duplicate value")
			}
		}
		if msg := portRule(p.Port); msg != "" {
			v.invalid(path(".port"), p.Port, msg)
		}
		switch p.Protocol {
		case "":
			v.required(path(".protocol"), "protocol is required")
		case ProtocolTCP, ProtocolUDP, ProtocolSCTP:
		default:
			v.invalid(path(".protocol"), string(p.Protocol), notSupported("SCTP", "TCP", "UDP"))
		}
		if p.TargetPort.IsString {
			if msg := k8sname.PortName(p.TargetPort.StrVal); msg != "" {
				v.invalid(path(".targetPort"), p.TargetPort.StrVal, msg)
			}
		} else if msg := portRule(p.TargetPort.IntVal); msg != "" {
			v.invalid(path(".targetPort"), p.TargetPort.IntVal, msg)
		}
		if p.AppProtocol != nil {
			if msg := k8sname.QualifiedName(*p.AppProtocol); msg != "" {
				v.invalid(path(".appProtocol"), *p.AppProtocol, msg)
			}
		}
		if p.NodePort != 0 {
			// Kubernetes forbids nodePort for ClusterIP only; svcnet also
			// forbids it for ExternalName, which has no node ports either.
			if sp.Type == ServiceTypeClusterIP || sp.Type == ServiceTypeExternalName {
				v.invalid(path(".nodePort"), p.NodePort, "may not be used when `type` is '"+string(sp.Type)+"'")
			} else if msg := portRule(p.NodePort); msg != "" {
				v.invalid(path(".nodePort"), p.NodePort, msg)
			}
			if idx.nodePort(sp.Ports, i) {
				v.invalid(path(".nodePort"), p.NodePort, "duplicate value")
			}
		}
		if idx.port(sp.Ports, i) {
			v.invalid(path(""), fmt.Sprintf("%d/%s", p.Port, p.Protocol), "duplicate value: a Service may not repeat a (protocol, port) pair")
		}
	}
}

// smallPortCount is the number of ports up to which servicePorts finds
// duplicates by scanning instead of through a portIndex.
const smallPortCount = 16

type protoPort struct {
	proto Protocol
	port  int32
}

// portIndex records the names, (protocol, port) and (protocol, nodePort)
// pairs of the ports seen so far; a nil *portIndex scans instead.
type portIndex struct {
	names     map[string]bool
	ports     map[protoPort]bool
	nodePorts map[protoPort]bool
}

func newPortIndex(n int) *portIndex {
	return &portIndex{make(map[string]bool, n), make(map[protoPort]bool, n), make(map[protoPort]bool, n)}
}

// name reports whether a port before i has the (non-empty) name of port
// i, and records it.
func (x *portIndex) name(ports []ServicePort, i int) bool {
	if x == nil {
		for _, q := range ports[:i] {
			if q.Name == ports[i].Name {
				return true
			}
		}
		return false
	}
	dup := x.names[ports[i].Name]
	x.names[ports[i].Name] = true
	return dup
}

// port reports whether a port before i has the protocol and port of port
// i, and records it.
func (x *portIndex) port(ports []ServicePort, i int) bool {
	var m map[protoPort]bool
	if x != nil {
		m = x.ports
	}
	return seenPair(m, ports, i, func(p *ServicePort) int32 { return p.Port })
}

// nodePort reports whether a port before i has the protocol and (non-zero)
// nodePort of port i, and records it.
func (x *portIndex) nodePort(ports []ServicePort, i int) bool {
	var m map[protoPort]bool
	if x != nil {
		m = x.nodePorts
	}
	return seenPair(m, ports, i, func(p *ServicePort) int32 { return p.NodePort })
}

// seenPair reports whether a port before i has the protocol and number
// (as num reads it) of port i: through m, recording it, or, when m is
// nil, by scanning.
func seenPair(m map[protoPort]bool, ports []ServicePort, i int, num func(*ServicePort) int32) bool {
	k := protoPort{ports[i].Protocol, num(&ports[i])}
	if m == nil {
		for j := range ports[:i] {
			if ports[j].Protocol == k.proto && num(&ports[j]) == k.port {
				return true
			}
		}
		return false
	}
	dup := m[k]
	m[k] = true
	return dup
}

func (v *validator) clusterIPs(s *Service) {
	sp := &s.Spec
	if sp.ClusterIP != "" {
		if len(sp.ClusterIPs) == 0 {
			v.required("spec.clusterIPs", "must be set when clusterIP is (Default sets it)")
		} else if sp.ClusterIPs[0] != sp.ClusterIP {
			v.invalid("spec.clusterIPs", sp.ClusterIPs, "first value must match `clusterIP`")
		}
	} else if len(sp.ClusterIPs) != 0 {
		v.invalid("spec.clusterIPs", sp.ClusterIPs, "must be empty when `clusterIP` is not specified")
	}

	seen := map[IPFamily]bool{}
	for i, f := range sp.IPFamilies {
		path := fmt.Sprintf("spec.ipFamilies[%d]", i)
		if f != IPv4Protocol && f != IPv6Protocol {
			v.invalid(path, string(f), notSupported("IPv4", "IPv6"))
		}
		if seen[f] {
			v.invalid(path, string(f), "duplicate value")
		}
		seen[f] = true
	}
	if p := sp.IPFamilyPolicy; p != nil {
		switch *p {
		case IPFamilyPolicySingleStack:
			// Kubernetes rejects this in its REST layer; svcnet at once.
			if len(sp.IPFamilies) > 1 {
				v.invalid("spec.ipFamilies", sp.IPFamilies, "must hold one family when ipFamilyPolicy is SingleStack")
			}
			if len(sp.ClusterIPs) > 1 {
				v.invalid("spec.clusterIPs", sp.ClusterIPs, "must hold one value when ipFamilyPolicy is SingleStack")
			}
		case IPFamilyPolicyPreferDualStack, IPFamilyPolicyRequireDualStack:
		default:
			v.invalid("spec.ipFamilyPolicy", string(*p), notSupported("PreferDualStack", "RequireDualStack", "SingleStack"))
		}
	}

	bad := false
	var addrs []netip.Addr
	for i, ip := range sp.ClusterIPs {
		if i == 0 && ip == ClusterIPNone {
			if len(sp.ClusterIPs) > 1 {
				bad = true
				v.invalid("spec.clusterIPs", sp.ClusterIPs, "'None' must be the first and only value")
			}
			continue
		}
		a, msg := parseIP(ip)
		if msg != "" {
			bad = true
			v.invalid(fmt.Sprintf("spec.clusterIPs[%d]", i), ip, msg)
			continue
		}
		addrs = append(addrs, a)
	}
	if len(sp.ClusterIPs) > 2 {
		v.invalid("spec.clusterIPs", sp.ClusterIPs, "may only hold up to 2 values")
	}
	if bad {
		return
	}
	if len(addrs) == 2 && familyOf(addrs[0]) == familyOf(addrs[1]) {
		v.invalid("spec.clusterIPs", sp.ClusterIPs, "may specify no more than one IP for each IP family")
	}
	if len(addrs) == len(sp.ClusterIPs) {
		for i, a := range addrs {
			if i < len(sp.IPFamilies) && familyOf(a) != sp.IPFamilies[i] {
				v.invalid(fmt.Sprintf("spec.clusterIPs[%d]", i), sp.ClusterIPs[i],
					fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%d]`", sp.IPFamilies[i], i))
			}
		}
	}
}

// ParseSourceRange parses a loadBalancerSourceRanges entry: a CIDR,
// surrounding spaces allowed (Kubernetes trims them). The prefix is
// masked: "10.1.2.3/8" gives 10.0.0.0/8.
func ParseSourceRange(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: loadBalancerSourceRanges entry %q: %v", ErrInvalid, s, err)
	}
	if p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%w: loadBalancerSourceRanges entry %q: must be a plain IPv4 or IPv6 CIDR", ErrInvalid, s)
	}
	return p.Masked(), nil
}

// Validate reports every problem with p at once, like Service.Validate:
// names, labels, containers and their ports (IANA service names for port
// names), hostname and subdomain, and the pod's IPs. Pod IPs must be
// valid and not unspecified, loopback, link-local or link-local
// multicast: Kubernetes applies that rule when the IPs reach an endpoint
// (CVE-2021-25737); svcnet applies it to the pod itself.
func (p *Pod) Validate() error {
	var v validator
	v.meta(&p.ObjectMeta, k8sname.DNS1123Subdomain)
	if p.Spec.NodeName != "" {
		v.check("spec.nodeName", p.Spec.NodeName, k8sname.DNS1123Subdomain(p.Spec.NodeName))
	}
	if p.Spec.Hostname != "" {
		v.check("spec.hostname", p.Spec.Hostname, k8sname.DNS1123Label(p.Spec.Hostname))
	}
	if p.Spec.Subdomain != "" {
		v.check("spec.subdomain", p.Spec.Subdomain, k8sname.DNS1123Label(p.Spec.Subdomain))
	}
	if len(p.Spec.Containers) == 0 {
		v.required("spec.containers", "at least one container")
	}
	cnames := map[string]bool{}
	pnames := map[string]bool{}
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		path := fmt.Sprintf("spec.containers[%d]", i)
		if c.Name == "" {
			v.required(path+".name", "name is required")
		} else {
			v.check(path+".name", c.Name, k8sname.DNS1123Label(c.Name))
			if cnames[c.Name] {
				v.invalid(path+".name", c.Name, "duplicate value")
			}
			cnames[c.Name] = true
		}
		for j := range c.Ports {
			cp := &c.Ports[j]
			pp := fmt.Sprintf("%s.ports[%d]", path, j)
			if cp.Name != "" {
				v.check(pp+".name", cp.Name, k8sname.PortName(cp.Name))
				if pnames[cp.Name] {
					v.invalid(pp+".name", cp.Name, "duplicate value")
				}
				pnames[cp.Name] = true
			}
			if msg := portRule(cp.ContainerPort); msg != "" {
				v.invalid(pp+".containerPort", cp.ContainerPort, msg)
			}
			switch cp.Protocol {
			case "", ProtocolTCP, ProtocolUDP, ProtocolSCTP:
			default:
				v.invalid(pp+".protocol", string(cp.Protocol), notSupported("SCTP", "TCP", "UDP"))
			}
		}
	}
	switch p.Status.Phase {
	case "", PodPending, PodRunning, PodSucceeded, PodFailed, PodUnknown:
	default:
		v.invalid("status.phase", string(p.Status.Phase), notSupported("Failed", "Pending", "Running", "Succeeded", "Unknown"))
	}
	var fams []IPFamily
	for i, ip := range p.Status.PodIPs {
		path := fmt.Sprintf("status.podIPs[%d].ip", i)
		if msg := EndpointIPRule(ip.IP); msg != "" {
			v.invalid(path, ip.IP, msg)
			continue
		}
		a, _ := parseIP(ip.IP)
		fams = append(fams, familyOf(a))
	}
	if len(p.Status.PodIPs) > 2 || len(fams) == 2 && fams[0] == fams[1] {
		v.invalid("status.podIPs", len(p.Status.PodIPs), "may specify no more than one IP for each IP family")
	}
	switch hasIP, hasIPs := p.Status.PodIP != "", len(p.Status.PodIPs) > 0; {
	case hasIP != hasIPs:
		v.invalid("status.podIPs", len(p.Status.PodIPs), "podIP and podIPs must either both be set or both be unset")
	case hasIPs && p.Status.PodIP != p.Status.PodIPs[0].IP:
		v.invalid("status.podIPs[0].ip", p.Status.PodIPs[0].IP, "must be equal to `podIP`")
	}
	return named(v.errs.Err(), "Pod", p.Namespace+"/"+p.Name)
}

// Validate reports every problem with n at once: its name (a DNS-1123
// subdomain), labels (including the zone label's value) and addresses.
func (n *Node) Validate() error {
	var v validator
	if n.Name == "" {
		v.required("metadata.name", "name is required")
	} else {
		v.check("metadata.name", n.Name, k8sname.DNS1123Subdomain(n.Name))
	}
	if n.Namespace != "" {
		v.invalid("metadata.namespace", n.Namespace, "nodes are not namespaced")
	}
	v.labels(n.Labels, "metadata.labels")
	for i, a := range n.Status.Addresses {
		path := fmt.Sprintf("status.addresses[%d]", i)
		switch a.Type {
		case NodeInternalIP, NodeExternalIP:
			if _, msg := parseIP(a.Address); msg != "" {
				v.invalid(path+".address", a.Address, msg)
			}
		case NodeHostName, NodeInternalDNS, NodeExternalDNS:
		default:
			v.invalid(path+".type", a.Type, notSupported("ExternalDNS", "ExternalIP", "Hostname", "InternalDNS", "InternalIP"))
		}
	}
	return named(v.errs.Err(), "Node", n.Name)
}
