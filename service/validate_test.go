package service

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

func validService() *Service {
	s := &Service{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: ServiceSpec{
			Selector: Labels{"app": "web"},
			Ports:    []ServicePort{{Name: "http", Port: 80, TargetPort: FromString("http")}, {Name: "dns", Port: 53, Protocol: ProtocolUDP}},
		},
	}
	Default(s)
	return s
}

// fieldPaths returns the paths of err's field errors, in order.
func fieldPaths(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "want a *ValidationError, got %v", err)
	require.ErrorIs(t, err, ErrInvalid)
	var out []string
	for _, fe := range ve.Errors {
		out = append(out, fe.Path)
	}
	return out
}

func TestValidateServiceOK(t *testing.T) {
	require.NoError(t, validService().Validate())
	for _, typ := range []ServiceType{ServiceTypeNodePort, ServiceTypeLoadBalancer} {
		s := validService()
		s.Spec.Type = typ
		s.Spec.InternalTrafficPolicy = nil
		Default(s)
		require.NoError(t, s.Validate(), typ)
	}
	s := &Service{ObjectMeta: ObjectMeta{Name: "db"}, Spec: ServiceSpec{ClusterIP: "None"}}
	Default(s)
	require.NoError(t, s.Validate(), "headless without ports")
	s = &Service{ObjectMeta: ObjectMeta{Name: "ext"}, Spec: ServiceSpec{Type: ServiceTypeExternalName, ExternalName: "db.example.com."}}
	Default(s)
	require.NoError(t, s.Validate())
	s = validService()
	s.Spec.ClusterIP = "10.0.0.10"
	s.Spec.IPFamilyPolicy = ptr(IPFamilyPolicyPreferDualStack)
	s.Spec.ClusterIPs = []string{"10.0.0.10", "fd00::10"}
	s.Spec.IPFamilies = []IPFamily{IPv4Protocol, IPv6Protocol}
	require.NoError(t, s.Validate())
}

func TestValidateServiceRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Service)
		paths  []string
	}{
		{"name not DNS-1035", func(s *Service) { s.Name = "1web" }, []string{"metadata.name"}},
		{"name too long", func(s *Service) { s.Name = "a234567890123456789012345678901234567890123456789012345678901234" }, []string{"metadata.name"}},
		{"namespace", func(s *Service) { s.Namespace = "Default" }, []string{"metadata.namespace"}},
		{"no ports", func(s *Service) { s.Spec.Ports = nil }, []string{"spec.ports"}},
		{"port name missing", func(s *Service) { s.Spec.Ports[1].Name = "" }, []string{"spec.ports[1].name"}},
		{"port name bad", func(s *Service) { s.Spec.Ports[1].Name = "DNS" }, []string{"spec.ports[1].name"}},
		{"port name duplicate", func(s *Service) { s.Spec.Ports[1].Name = "http" }, []string{"spec.ports[1].name"}},
		{"port zero", func(s *Service) { s.Spec.Ports[0].Port = 0 }, []string{"spec.ports[0].port"}},
		{"port too big", func(s *Service) { s.Spec.Ports[0].Port = 65536 }, []string{"spec.ports[0].port"}},
		{"duplicate protocol+port", func(s *Service) { s.Spec.Ports[1].Port = 80; s.Spec.Ports[1].Protocol = ProtocolTCP }, []string{"spec.ports[1]"}},
		{"protocol", func(s *Service) { s.Spec.Ports[0].Protocol = "HTTP" }, []string{"spec.ports[0].protocol"}},
		{"targetPort name", func(s *Service) { s.Spec.Ports[0].TargetPort = FromString("my--port") }, []string{"spec.ports[0].targetPort"}},
		{"targetPort name no letter", func(s *Service) { s.Spec.Ports[0].TargetPort = FromString("8080") }, []string{"spec.ports[0].targetPort"}},
		{"targetPort number", func(s *Service) { s.Spec.Ports[0].TargetPort = FromInt(70000) }, []string{"spec.ports[0].targetPort"}},
		{"appProtocol", func(s *Service) { s.Spec.Ports[0].AppProtocol = ptr("not valid") }, []string{"spec.ports[0].appProtocol"}},
		{"nodePort on ClusterIP", func(s *Service) { s.Spec.Ports[0].NodePort = 30080 }, []string{"spec.ports[0].nodePort"}},
		{"clusterIPs > 2", func(s *Service) {
			s.Spec.ClusterIP = "10.0.0.1"
			s.Spec.ClusterIPs = []string{"10.0.0.1", "fd00::1", "10.0.0.2"}
		}, []string{"spec.clusterIPs"}},
		{"two IPv4 clusterIPs", func(s *Service) {
			s.Spec.ClusterIP = "10.0.0.1"
			s.Spec.ClusterIPs = []string{"10.0.0.1", "10.0.0.2"}
		}, []string{"spec.clusterIPs"}},
		{"None not alone", func(s *Service) {
			s.Spec.ClusterIP = "None"
			s.Spec.ClusterIPs = []string{"None", "10.0.0.2"}
		}, []string{"spec.clusterIPs"}},
		{"clusterIP mismatch", func(s *Service) {
			s.Spec.ClusterIP = "10.0.0.1"
			s.Spec.ClusterIPs = []string{"10.0.0.2"}
		}, []string{"spec.clusterIPs"}},
		{"clusterIP bad", func(s *Service) {
			s.Spec.ClusterIP = "10.0.0.256"
			s.Spec.ClusterIPs = []string{"10.0.0.256"}
		}, []string{"spec.clusterIPs[0]"}},
		{"family mismatch", func(s *Service) {
			s.Spec.ClusterIP = "10.0.0.1"
			s.Spec.ClusterIPs = []string{"10.0.0.1"}
			s.Spec.IPFamilies = []IPFamily{IPv6Protocol}
		}, []string{"spec.clusterIPs[0]"}},
		{"family bad and duplicate", func(s *Service) { s.Spec.IPFamilies = []IPFamily{"IPv5", IPv4Protocol, IPv4Protocol} }, []string{"spec.ipFamilies[0]", "spec.ipFamilies[2]"}},
		{"single stack with two families", func(s *Service) {
			s.Spec.IPFamilyPolicy = ptr(IPFamilyPolicySingleStack)
			s.Spec.IPFamilies = []IPFamily{IPv4Protocol, IPv6Protocol}
		}, []string{"spec.ipFamilies"}},
		{"headless NodePort", func(s *Service) {
			s.Spec.Type = ServiceTypeNodePort
			s.Spec.ExternalTrafficPolicy = TrafficPolicyCluster
			s.Spec.ClusterIP = "None"
			s.Spec.ClusterIPs = []string{"None"}
		}, []string{"spec.clusterIPs[0]"}},
		{"ExternalName forbids IPs", func(s *Service) {
			s.Spec.Type = ServiceTypeExternalName
			s.Spec.InternalTrafficPolicy = nil
			s.Spec.ExternalName = "example.com"
			s.Spec.ClusterIP = "10.0.0.1"
			s.Spec.ClusterIPs = []string{"10.0.0.1"}
			s.Spec.IPFamilies = []IPFamily{IPv4Protocol}
			s.Spec.IPFamilyPolicy = ptr(IPFamilyPolicySingleStack)
		}, []string{"spec.clusterIPs", "spec.ipFamilies", "spec.ipFamilyPolicy"}},
		{"ExternalName needs a name", func(s *Service) {
			s.Spec.Type = ServiceTypeExternalName
			s.Spec.InternalTrafficPolicy = nil
		}, []string{"spec.externalName"}},
		{"ExternalName bad name", func(s *Service) {
			s.Spec.Type = ServiceTypeExternalName
			s.Spec.InternalTrafficPolicy = nil
			s.Spec.ExternalName = "Example_com"
		}, []string{"spec.externalName"}},
		{"affinity timeout", func(s *Service) {
			s.Spec.SessionAffinity = ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: ptr[int32](86401)}}
		}, []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds"}},
		{"affinity config with None", func(s *Service) {
			s.Spec.SessionAffinityConfig = &SessionAffinityConfig{}
		}, []string{"spec.sessionAffinityConfig"}},
		{"affinity unknown", func(s *Service) { s.Spec.SessionAffinity = "Cookie" }, []string{"spec.sessionAffinity"}},
		{"externalTrafficPolicy on ClusterIP", func(s *Service) { s.Spec.ExternalTrafficPolicy = TrafficPolicyLocal }, []string{"spec.externalTrafficPolicy"}},
		{"healthCheckNodePort on NodePort", func(s *Service) {
			s.Spec.Type = ServiceTypeNodePort
			s.Spec.ExternalTrafficPolicy = TrafficPolicyLocal
			s.Spec.HealthCheckNodePort = 30000
		}, []string{"spec.healthCheckNodePort"}},
		{"loadBalancer fields on ClusterIP", func(s *Service) {
			s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8", "nope"}
			s.Spec.AllocateLoadBalancerNodePorts = ptr(false)
			s.Spec.LoadBalancerClass = ptr("example.com/lb")
		}, []string{"spec.loadBalancerSourceRanges", "spec.loadBalancerSourceRanges[1]", "spec.allocateLoadBalancerNodePorts", "spec.loadBalancerClass"}},
		{"externalIPs", func(s *Service) { s.Spec.ExternalIPs = []string{"127.0.0.1", "1.2.3.4", "169.254.1.1"} }, []string{"spec.externalIPs[0]", "spec.externalIPs[2]", "spec.externalTrafficPolicy"}},
		{"selector", func(s *Service) { s.Spec.Selector = Labels{"app": "-web"} }, []string{"spec.selector[app]"}},
		{"internalTrafficPolicy", func(s *Service) { s.Spec.InternalTrafficPolicy = ptr[TrafficPolicy]("Node") }, []string{"spec.internalTrafficPolicy"}},
		{"trafficDistribution", func(s *Service) { s.Spec.TrafficDistribution = ptr("Anywhere") }, []string{"spec.trafficDistribution"}},
		{"type", func(s *Service) { s.Spec.Type = "Ingress" }, []string{"spec.type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validService()
			tt.mutate(s)
			require.Equal(t, tt.paths, fieldPaths(t, s.Validate()))
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	s := validService()
	s.Name = "Web"
	s.Spec.Ports[0].Port = 0
	s.Spec.Ports[1].Protocol = "ICMP"
	err := s.Validate()
	require.Equal(t, []string{"metadata.name", "spec.ports[0].port", "spec.ports[1].protocol"}, fieldPaths(t, err))
	require.Contains(t, err.Error(), `metadata.name: invalid value "Web"`)
	require.Contains(t, err.Error(), `service: invalid Service "default/Web"`)
}

func TestDefault(t *testing.T) {
	s := &Service{ObjectMeta: ObjectMeta{Name: "web"}, Spec: ServiceSpec{
		Type:            ServiceTypeLoadBalancer,
		SessionAffinity: ServiceAffinityClientIP,
		ClusterIP:       "10.0.0.5",
		Ports:           []ServicePort{{Port: 80}},
	}}
	Default(s)
	require.Equal(t, "default", s.Namespace)
	require.Equal(t, ProtocolTCP, s.Spec.Ports[0].Protocol)
	require.Equal(t, FromInt(80), s.Spec.Ports[0].TargetPort)
	require.Equal(t, int32(10800), *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds)
	require.Equal(t, TrafficPolicyCluster, s.Spec.ExternalTrafficPolicy)
	require.Equal(t, TrafficPolicyCluster, *s.Spec.InternalTrafficPolicy)
	require.True(t, *s.Spec.AllocateLoadBalancerNodePorts)
	require.Equal(t, []string{"10.0.0.5"}, s.Spec.ClusterIPs)
	before := s.DeepCopy()
	Default(s)
	require.Equal(t, before, s, "Default is idempotent")

	e := &Service{ObjectMeta: ObjectMeta{Name: "e"}, Spec: ServiceSpec{Type: ServiceTypeExternalName, ExternalName: "x.example"}}
	Default(e)
	require.Nil(t, e.Spec.InternalTrafficPolicy)
	require.Empty(t, e.Spec.ExternalTrafficPolicy)
	require.Equal(t, ServiceAffinityNone, e.Spec.SessionAffinity)

	c := &Service{ObjectMeta: ObjectMeta{Name: "c"}, Spec: ServiceSpec{ExternalIPs: []string{"1.2.3.4"}, Ports: []ServicePort{{Port: 80}}}}
	Default(c)
	require.Equal(t, TrafficPolicyCluster, c.Spec.ExternalTrafficPolicy, "ClusterIP with externalIPs is externally accessible")
}

func validPod() *Pod {
	return &Pod{
		ObjectMeta: ObjectMeta{Name: "web-1", Namespace: "default", Labels: Labels{"app": "web"}},
		Spec:       PodSpec{NodeName: "node-a", Containers: []Container{{Name: "app", Ports: []ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status:     PodStatus{Phase: PodRunning, PodIP: "10.244.1.5", PodIPs: []PodIP{{IP: "10.244.1.5"}, {IP: "fd00:244::5"}}},
	}
}

func TestValidatePod(t *testing.T) {
	require.NoError(t, validPod().Validate())
	tests := []struct {
		name   string
		mutate func(*Pod)
		paths  []string
	}{
		{"loopback IP", func(p *Pod) { p.Status.PodIP = "127.0.0.1"; p.Status.PodIPs = []PodIP{{IP: "127.0.0.1"}} }, []string{"status.podIPs[0].ip"}},
		{"unspecified IP", func(p *Pod) { p.Status.PodIP = "::"; p.Status.PodIPs = []PodIP{{IP: "::"}} }, []string{"status.podIPs[0].ip"}},
		{"link-local IP", func(p *Pod) { p.Status.PodIP = "fe80::1"; p.Status.PodIPs = []PodIP{{IP: "fe80::1"}} }, []string{"status.podIPs[0].ip"}},
		{"link-local multicast IP", func(p *Pod) { p.Status.PodIP = "224.0.0.1"; p.Status.PodIPs = []PodIP{{IP: "224.0.0.1"}} }, []string{"status.podIPs[0].ip"}},
		{"leading zeros", func(p *Pod) { p.Status.PodIP = "010.0.0.1"; p.Status.PodIPs = []PodIP{{IP: "010.0.0.1"}} }, []string{"status.podIPs[0].ip"}},
		{"two of a family", func(p *Pod) { p.Status.PodIPs[1].IP = "10.244.1.6" }, []string{"status.podIPs"}},
		{"podIP mismatch", func(p *Pod) { p.Status.PodIP = "10.244.1.9" }, []string{"status.podIPs[0].ip"}},
		{"port name too long", func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "abcdefghijklmnop" }, []string{"spec.containers[0].ports[0].name"}},
		{"port name no letter", func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "8080" }, []string{"spec.containers[0].ports[0].name"}},
		{"port name hyphens", func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "a--b" }, []string{"spec.containers[0].ports[0].name"}},
		{"no containers", func(p *Pod) { p.Spec.Containers = nil }, []string{"spec.containers"}},
		{"hostname", func(p *Pod) { p.Spec.Hostname = "Web.1" }, []string{"spec.hostname"}},
		{"phase", func(p *Pod) { p.Status.Phase = "Sleeping" }, []string{"status.phase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			require.Equal(t, tt.paths, fieldPaths(t, p.Validate()))
		})
	}
}

func TestValidateNode(t *testing.T) {
	n := &Node{ObjectMeta: ObjectMeta{Name: "node-a", Labels: Labels{LabelTopologyZone: "zone-a"}},
		Status: NodeStatus{Addresses: []NodeAddress{{Type: NodeInternalIP, Address: "192.168.0.10"}}}}
	require.NoError(t, n.Validate())
	require.Equal(t, "zone-a", n.Zone())
	n.Status.Addresses[0].Address = "nope"
	n.Labels[LabelTopologyZone] = "bad zone"
	require.Equal(t, []string{"metadata.labels[topology.kubernetes.io/zone]", "status.addresses[0].address"}, fieldPaths(t, n.Validate()))
}

func TestDeepCopyShares(t *testing.T) {
	s := validService()
	s.Spec.SessionAffinity = ServiceAffinityClientIP
	Default(s)
	c := s.DeepCopy()
	require.Equal(t, s, c)
	c.Spec.Ports[0].Port = 1
	c.Spec.Selector["app"] = "x"
	*c.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds = 1
	*c.Spec.InternalTrafficPolicy = TrafficPolicyLocal
	require.Equal(t, int32(80), s.Spec.Ports[0].Port)
	require.Equal(t, "web", s.Spec.Selector["app"])
	require.Equal(t, int32(10800), *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds)
	require.Equal(t, TrafficPolicyCluster, *s.Spec.InternalTrafficPolicy)

	// The packed copy of a two-port dual-stack Service: each slice is its
	// own, with no room to append into a neighbour.
	d := validService()
	d.Spec.Ports = []ServicePort{d.Spec.Ports[0], {Name: "b", Port: 81}}
	d.Spec.ClusterIPs = []string{"10.96.0.10", "fd00::10"}
	d.Spec.IPFamilies = []IPFamily{IPv4Protocol, IPv6Protocol}
	pol := IPFamilyPolicyPreferDualStack
	d.Spec.IPFamilyPolicy = &pol
	dc := d.DeepCopy()
	require.Equal(t, d, dc)
	require.Equal(t, len(dc.Spec.Ports), cap(dc.Spec.Ports))
	require.Equal(t, 2, cap(dc.Spec.ClusterIPs))
	require.Equal(t, 2, cap(dc.Spec.IPFamilies))
	dc.Spec.Ports[1].Port = 1
	dc.Spec.ClusterIPs[1] = "x"
	dc.Spec.IPFamilies[1] = "y"
	*dc.Spec.IPFamilyPolicy = IPFamilyPolicySingleStack
	require.Equal(t, int32(81), d.Spec.Ports[1].Port)
	require.Equal(t, []string{"10.96.0.10", "fd00::10"}, d.Spec.ClusterIPs)
	require.Equal(t, []IPFamily{IPv4Protocol, IPv6Protocol}, d.Spec.IPFamilies)
	require.Equal(t, IPFamilyPolicyPreferDualStack, pol)
	require.Nil(t, (&Service{}).DeepCopy().Spec.Ports)
	require.NotNil(t, (&Service{Spec: ServiceSpec{ClusterIPs: []string{}}}).DeepCopy().Spec.ClusterIPs)

	p := validPod()
	pc := p.DeepCopy()
	require.Equal(t, p, pc)
	pc.Status.PodIPs[0].IP = "x"
	pc.Spec.Containers[0].Ports[0].Name = "y"
	require.Equal(t, "10.244.1.5", p.Status.PodIPs[0].IP)
	require.Equal(t, "http", p.Spec.Containers[0].Ports[0].Name)
}

// Duplicate ports are found the same way by the scan (up to
// smallPortCount ports) and by the maps (more).
func TestValidateDuplicatePortsManyPorts(t *testing.T) {
	for _, n := range []int{4, smallPortCount, smallPortCount + 1, 40} {
		s := validService()
		s.Spec.Type = ServiceTypeNodePort
		s.Spec.Ports = nil
		for i := range n {
			s.Spec.Ports = append(s.Spec.Ports, ServicePort{Name: "p" + strconv.Itoa(i), Protocol: ProtocolTCP,
				Port: int32(1000 + i), TargetPort: FromInt(int32(1000 + i)), NodePort: int32(30000 + i)})
		}
		Default(s)
		require.NoError(t, s.Validate(), "n=%d", n)
		last := &s.Spec.Ports[n-1]
		last.Name, last.Port, last.NodePort = "p1", 1001, 30001
		s.Spec.Ports[n-2].Protocol = ProtocolUDP // same numbers, other protocol: no duplicate
		s.Spec.Ports[n-2].Name = "u"
		s.Spec.Ports[n-2].Port, s.Spec.Ports[n-2].NodePort = 1001, 30001
		i := strconv.Itoa(n - 1)
		require.Equal(t, []string{"spec.ports[" + i + "].name", "spec.ports[" + i + "].nodePort", "spec.ports[" + i + "]"},
			fieldPaths(t, s.Validate()), "n=%d", n)
	}
}
