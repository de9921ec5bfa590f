package service

// Default fills in what Kubernetes fills in for a Service that omits it
// (SetDefaults_Service in pkg/apis/core/v1/defaults.go, plus the
// clusterIPs normalisation of the Service REST strategy):
//
//   - metadata.namespace "default" when empty (what kubectl sends);
//   - spec.type ClusterIP;
//   - each port's protocol TCP and targetPort = port when unset;
//   - sessionAffinity None (which clears sessionAffinityConfig), and a
//     10800 s timeout for ClientIP when none is given;
//   - externalTrafficPolicy Cluster for externally-accessible Services
//     (NodePort, LoadBalancer, or ClusterIP with externalIPs);
//   - internalTrafficPolicy Cluster for every type but ExternalName;
//   - allocateLoadBalancerNodePorts true for LoadBalancer;
//   - ipMode VIP on LoadBalancer ingress IPs (KEP-1860);
//   - clusterIPs = [clusterIP] when only clusterIP is set.
//
// Default is idempotent and never fails; Validate judges the result.
func Default(s *Service) { defaults(s, nil) }

// defaults is Default; a non-nil room (the pack s lives in) receives the
// defaulted internalTrafficPolicy instead of a new allocation.
func defaults(s *Service, room *servicePack) {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	sp := &s.Spec
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = ServiceAffinityNone
	}
	if sp.SessionAffinity == ServiceAffinityNone {
		sp.SessionAffinityConfig = nil
	}
	if sp.SessionAffinity == ServiceAffinityClientIP {
		if c := sp.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			t := DefaultClientIPServiceAffinitySeconds
			sp.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: &t}}
		}
	}
	if sp.Type == "" {
		sp.Type = ServiceTypeClusterIP
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if p.TargetPort.IsZero() || p.TargetPort == FromString("") {
			p.TargetPort = FromInt(p.Port)
		}
	}
	if s.ExternallyAccessible() && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = TrafficPolicyCluster
	}
	if sp.InternalTrafficPolicy == nil && (sp.Type == ServiceTypeClusterIP || sp.Type == ServiceTypeNodePort || sp.Type == ServiceTypeLoadBalancer) {
		if room != nil {
			room.internalTP = TrafficPolicyCluster
			sp.InternalTrafficPolicy = &room.internalTP
		} else {
			p := TrafficPolicyCluster
			sp.InternalTrafficPolicy = &p
		}
	}
	if sp.Type == ServiceTypeLoadBalancer {
		if sp.AllocateLoadBalancerNodePorts == nil {
			t := true
			sp.AllocateLoadBalancerNodePorts = &t
		}
		for i, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" && in.IPMode == nil {
				m := "VIP"
				s.Status.LoadBalancer.Ingress[i].IPMode = &m
			}
		}
	}
	if sp.Type != ServiceTypeExternalName && sp.ClusterIP != "" && len(sp.ClusterIPs) == 0 {
		sp.ClusterIPs = []string{sp.ClusterIP}
	}
}

// ExternallyAccessible reports whether the Service is reachable from
// outside the cluster: NodePort, LoadBalancer, or ClusterIP with
// externalIPs (apiservice.ExternallyAccessible in Kubernetes).
func (s *Service) ExternallyAccessible() bool {
	switch s.Spec.Type {
	case ServiceTypeNodePort, ServiceTypeLoadBalancer:
		return true
	case ServiceTypeClusterIP:
		return len(s.Spec.ExternalIPs) > 0
	}
	return false
}

// NeedsHealthCheck reports whether the Service needs a healthCheckNodePort:
// a LoadBalancer with externalTrafficPolicy Local.
func (s *Service) NeedsHealthCheck() bool {
	return s.Spec.Type == ServiceTypeLoadBalancer && s.Spec.ExternalTrafficPolicy == TrafficPolicyLocal
}

// IsHeadless reports whether the Service's clusterIP is "None".
func (s *Service) IsHeadless() bool {
	return s.Spec.ClusterIP == ClusterIPNone || len(s.Spec.ClusterIPs) > 0 && s.Spec.ClusterIPs[0] == ClusterIPNone
}

// UsesNodePorts reports whether the Service's ports get nodePorts
// allocated: NodePort always, LoadBalancer unless
// allocateLoadBalancerNodePorts is false.
func (s *Service) UsesNodePorts() bool {
	switch s.Spec.Type {
	case ServiceTypeNodePort:
		return true
	case ServiceTypeLoadBalancer:
		return s.Spec.AllocateLoadBalancerNodePorts == nil || *s.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}
