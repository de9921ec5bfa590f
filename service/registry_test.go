package service

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/internal/sealed"
	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

const webYAML = `
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443}]
`

func TestNewRegistryErrors(t *testing.T) {
	for name, cfg := range map[string]RegistryConfig{
		"no CIDR":         {},
		"invalid CIDR":    {ServiceCIDRs: []netip.Prefix{{}}},
		"overlap":         {ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("10.0.1.0/24")}},
		"short IPv6":      {ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00::/48")}},
		"bad port range":  {ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}, NodePortRange: portalloc.Range{Base: 65000, Size: 1000}},
		"zero size range": {ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}, NodePortRange: portalloc.Range{Base: 30000}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewRegistry(cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
}

func TestCreateClusterIP(t *testing.T) {
	r := newTestRegistry(t)
	in := svcYAML(t, webYAML)
	in.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{IP: "192.0.2.1"}} // ignored
	in.UID = "caller-set"                                                     // ignored
	ch, err := r.Create(in)
	require.NoError(t, err)
	require.Equal(t, Added, ch.Type)
	require.Nil(t, ch.Old)
	got := ch.New
	require.Equal(t, "default", got.Namespace)
	require.Len(t, got.UID, 36)
	require.NotEqual(t, "caller-set", got.UID)
	require.Equal(t, "1", got.ResourceVersion)
	require.Equal(t, t0, got.CreationTimestamp)
	require.Equal(t, ServiceTypeClusterIP, got.Spec.Type)
	require.Equal(t, []IPFamily{IPv4Protocol}, got.Spec.IPFamilies)
	require.Equal(t, IPFamilyPolicySingleStack, *got.Spec.IPFamilyPolicy)
	require.Len(t, got.Spec.ClusterIPs, 1)
	require.Equal(t, got.Spec.ClusterIP, got.Spec.ClusterIPs[0])
	require.True(t, netip.MustParsePrefix("10.0.0.0/24").Contains(netip.MustParseAddr(got.Spec.ClusterIP)))
	require.Empty(t, got.Status.LoadBalancer.Ingress)
	for _, p := range got.Spec.Ports {
		require.Zero(t, p.NodePort)
	}
	require.NoError(t, checkConsistent(r))

	// The caller's object is untouched; what was handed out is a copy.
	require.Empty(t, in.Spec.ClusterIP)
	got.Spec.Ports[0].Port = 1
	got.Labels["app"] = "changed"
	stored, err := r.Get("default", "web")
	require.NoError(t, err)
	require.Equal(t, int32(80), stored.Spec.Ports[0].Port)
	require.Equal(t, "web", stored.Labels["app"])

	_, err = r.Create(svcYAML(t, webYAML))
	require.ErrorIs(t, err, ErrAlreadyExists)
	require.EqualError(t, err, `service: create "default/web": already exists`)
	_, err = r.Get("default", "nope")
	require.ErrorIs(t, err, ErrNotFound)

	in = svcYAML(t, webYAML)
	in.Name, in.ResourceVersion = "other", "7"
	_, err = r.Create(in)
	require.Equal(t, []string{"metadata.resourceVersion: must not be set on create"}, fieldRules(err))
}

func TestCreateRequestedClusterIP(t *testing.T) {
	r := newTestRegistry(t)
	a := svcYAML(t, webYAML)
	a.Spec.ClusterIP = "10.0.0.10"
	require.Equal(t, []string{"10.0.0.10"}, mustCreate(t, r, a).Spec.ClusterIPs)

	b := svcYAML(t, webYAML)
	b.Name, b.Spec.ClusterIP = "b", "10.0.0.10"
	_, err := r.Create(b)
	require.ErrorIs(t, err, ErrInvalid)
	require.EqualError(t, err, `service: invalid Service "default/b": spec.clusterIPs[0]: invalid value "10.0.0.10": provided IP is already allocated`)

	b.Spec.ClusterIP = "10.1.0.10"
	_, err = r.Create(b)
	require.Equal(t, []string{"spec.clusterIPs[0]: the provided IP (10.1.0.10) is not in the valid range. The range of valid IPs is 10.0.0.0/24"}, fieldRules(err))

	b.Spec.ClusterIP = "fd00::1"
	_, err = r.Create(b)
	require.Equal(t, []string{"spec.clusterIPs[0]: IPv6 is not configured on this cluster"}, fieldRules(err))
	require.NoError(t, checkConsistent(r))
	require.Equal(t, 1, r.Len())
}

func TestCreateIPFamilies(t *testing.T) {
	single, dual := []regOption{}, []regOption{dualStack}
	tests := []struct {
		name     string
		opts     []regOption
		spec     string
		families []IPFamily
		policy   IPFamilyPolicy
		ips      int
		err      string
	}{
		{"single default", single, ``, []IPFamily{IPv4Protocol}, IPFamilyPolicySingleStack, 1, ""},
		{"single prefer", single, `ipFamilyPolicy: PreferDualStack`, []IPFamily{IPv4Protocol}, IPFamilyPolicyPreferDualStack, 1, ""},
		{"single require", single, `ipFamilyPolicy: RequireDualStack`, nil, "", 0, "spec.ipFamilyPolicy: this cluster is not configured for dual-stack services"},
		{"single v6", single, `ipFamilies: [IPv6]`, nil, "", 0, "spec.ipFamilies[0]: not configured on this cluster"},
		{"dual default", dual, ``, []IPFamily{IPv4Protocol}, IPFamilyPolicySingleStack, 1, ""},
		{"dual prefer", dual, `ipFamilyPolicy: PreferDualStack`, []IPFamily{IPv4Protocol, IPv6Protocol}, IPFamilyPolicyPreferDualStack, 2, ""},
		{"dual require v6 first", dual, "ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv6]", []IPFamily{IPv6Protocol, IPv4Protocol}, IPFamilyPolicyRequireDualStack, 2, ""},
		{"dual single v6", dual, `ipFamilies: [IPv6]`, []IPFamily{IPv6Protocol}, IPFamilyPolicySingleStack, 1, ""},
		{"dual two IPs no policy", dual, "clusterIP: 10.0.0.5\n  clusterIPs: [\"10.0.0.5\", \"fd00:10::5\"]", nil, "", 0, "spec.clusterIPs: must hold one value when ipFamilyPolicy is SingleStack"},
		{"dual two IPs", dual, "clusterIP: fd00:10::5\n  clusterIPs: [\"fd00:10::5\", \"10.0.0.5\"]\n  ipFamilyPolicy: PreferDualStack", []IPFamily{IPv6Protocol, IPv4Protocol}, IPFamilyPolicyPreferDualStack, 2, ""},
		{"headless", single, `clusterIP: None`, []IPFamily{IPv4Protocol}, IPFamilyPolicySingleStack, 0, ""},
		// A headless Service without selector gets both families, even on a
		// single-stack cluster: its endpoints are the user's.
		{"headless selectorless", single, "clusterIP: None\n  selector: null", []IPFamily{IPv4Protocol, IPv6Protocol}, IPFamilyPolicyRequireDualStack, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRegistry(t, tt.opts...)
			sel := "\n  selector: {app: s}" // unless the case sets its own: keys are unique
			if strings.Contains(tt.spec, "selector:") {
				sel = ""
			}
			svc := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: s}
spec:`+sel+`
  ports: [{port: 53, protocol: UDP}]
  `+tt.spec)
			ch, err := r.Create(svc)
			if tt.err != "" {
				require.Equal(t, []string{tt.err}, fieldRules(err))
				require.NoError(t, checkConsistent(r))
				require.Zero(t, r.Len())
				return
			}
			require.NoError(t, err)
			got := ch.New.Spec
			require.Equal(t, tt.families, got.IPFamilies)
			require.Equal(t, tt.policy, *got.IPFamilyPolicy)
			if tt.ips == 0 {
				require.Equal(t, []string{ClusterIPNone}, got.ClusterIPs)
			} else {
				require.Len(t, got.ClusterIPs, tt.ips)
				for i, s := range got.ClusterIPs {
					require.Equal(t, tt.families[i], familyOf(netip.MustParseAddr(s)))
				}
			}
			require.NoError(t, checkConsistent(r))
		})
	}
}

const nodePortYAML = `
apiVersion: v1
kind: Service
metadata: {name: np}
spec:
  type: NodePort
  selector: {app: np}
  ports: [{name: http, port: 80}, {name: https, port: 443}]
`

func TestCreateNodePorts(t *testing.T) {
	r := newTestRegistry(t)
	got := mustCreate(t, r, svcYAML(t, nodePortYAML)).Spec.Ports
	require.NotEqual(t, got[0].NodePort, got[1].NodePort)
	for _, p := range got {
		require.True(t, portalloc.DefaultRange.Contains(int(p.NodePort)), p.NodePort)
	}

	// TCP and UDP 53 share one nodePort, requested or not (initNodePorts).
	dns := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: dns}
spec:
  type: NodePort
  ports: [{name: dns-tcp, port: 53}, {name: dns-udp, port: 53, protocol: UDP}, {name: metrics, port: 9153, nodePort: 30153}]
`)
	got = mustCreate(t, r, dns).Spec.Ports
	require.Equal(t, got[0].NodePort, got[1].NodePort)
	require.Equal(t, int32(30153), got[2].NodePort)

	dns.Name = "dns2"
	dns.Spec.Ports[0].NodePort, dns.Spec.Ports[1].NodePort, dns.Spec.Ports[2].NodePort = 0, 30053, 30154
	got = mustCreate(t, r, dns).Spec.Ports
	require.Equal(t, []int32{30053, 30053, 30154}, []int32{got[0].NodePort, got[1].NodePort, got[2].NodePort})

	// Requested ports that cannot be had are all reported, and nothing the
	// call allocated stays allocated.
	before := allocated(r)
	bad := svcYAML(t, nodePortYAML)
	bad.Name = "bad"
	bad.Spec.Ports[0].NodePort, bad.Spec.Ports[1].NodePort = 30153, 40000
	_, err := r.Create(bad)
	require.Equal(t, []string{
		"spec.ports[0].nodePort: provided port is already allocated",
		"spec.ports[1].nodePort: provided port is not in the valid range. The range of valid ports is 30000-32767",
	}, fieldRules(err))
	require.Equal(t, before, allocated(r))
	require.NoError(t, checkConsistent(r))
}

func TestCreateLoadBalancer(t *testing.T) {
	r := newTestRegistry(t, withPool(t, "192.0.2.10-192.0.2.11"))
	lb := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  selector: {app: lb}
  externalTrafficPolicy: Local
  ports: [{port: 80}]
`)
	got := mustCreate(t, r, lb)
	require.Equal(t, []string{"192.0.2.10"}, ingressIPs(got))
	require.Equal(t, "VIP", *got.Status.LoadBalancer.Ingress[0].IPMode)
	require.NotZero(t, got.Spec.Ports[0].NodePort)
	require.NotZero(t, got.Spec.HealthCheckNodePort)
	require.NotEqual(t, got.Spec.HealthCheckNodePort, got.Spec.Ports[0].NodePort)
	require.True(t, *got.Spec.AllocateLoadBalancerNodePorts)

	// allocateLoadBalancerNodePorts: false allocates none but keeps the
	// explicit ones; loadBalancerIP is honoured.
	lb2 := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: lb2}
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: false
  loadBalancerIP: 192.0.2.11
  ports: [{name: a, port: 80}, {name: b, port: 81, nodePort: 31000}]
`)
	got = mustCreate(t, r, lb2)
	require.Zero(t, got.Spec.Ports[0].NodePort)
	require.Equal(t, int32(31000), got.Spec.Ports[1].NodePort)
	require.Equal(t, []string{"192.0.2.11"}, ingressIPs(got))

	// The pool is empty now: the provider fails and nothing is left
	// allocated.
	before := allocated(r)
	lb2.Name, lb2.Spec.LoadBalancerIP, lb2.Spec.Ports[1].NodePort = "lb3", "", 0
	_, err := r.Create(lb2)
	require.ErrorIs(t, err, ErrProvider)
	require.ErrorIs(t, err, ipam.ErrFull)
	require.Equal(t, before, allocated(r))

	// A class the provider does not own stays pending; its controller
	// reports through UpdateStatus.
	class := "example.com/other"
	lb2.Spec.LoadBalancerClass = &class
	got = mustCreate(t, r, lb2)
	require.Empty(t, got.Status.LoadBalancer.Ingress)
	got.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{IP: "203.0.113.7"}}
	ch, err := r.UpdateStatus(got)
	require.NoError(t, err)
	require.Equal(t, []string{"203.0.113.7"}, ingressIPs(ch.New))
	require.Equal(t, "VIP", *ch.New.Status.LoadBalancer.Ingress[0].IPMode)

	// The provider's own ingress is only ever set by the provider.
	mine, err := r.Get("default", "lb")
	require.NoError(t, err)
	mine.Status.LoadBalancer.Ingress[0].IP = "192.0.2.99"
	_, err = r.UpdateStatus(mine)
	require.Equal(t, []string{"status.loadBalancer.ingress: may only be set by the load-balancer provider that handles this Service"}, fieldRules(err))
	require.NoError(t, checkConsistent(r))
}

func TestLoadBalancerWithoutProvider(t *testing.T) {
	r := newTestRegistry(t)
	got := mustCreate(t, r, svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: lb}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`))
	// No ingress: kubectl prints EXTERNAL-IP <pending> (svcnet's
	// TestPrintServiceList prints such a Service).
	require.Empty(t, got.Status.LoadBalancer.Ingress)

	np, err := r.Get("default", "lb")
	require.NoError(t, err)
	np.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{IP: "10.9.9.9"}}
	_, err = r.UpdateStatus(np)
	require.NoError(t, err)
	_, err = r.UpdateStatus(np)
	require.ErrorIs(t, err, ErrConflict) // np is stale now
	np.ResourceVersion = ""
	proxy := "Tunnel"
	np.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{Hostname: "1.2.3.4"}, {IP: "bad"}, {IP: "10.9.9.8", IPMode: &proxy}}
	np.Status.Conditions = []Condition{{Type: "Ready", Status: "Maybe"}}
	_, err = r.UpdateStatus(np)
	require.Equal(t, []string{
		"status.loadBalancer.ingress[0].hostname: must be a DNS name, not an IP address",
		"status.loadBalancer.ingress[1].ip: must be a valid IP address",
		`status.loadBalancer.ingress[2].ipMode: supported values: "Proxy", "VIP"`,
		`status.conditions[0].status: supported values: "False", "True", "Unknown"`,
	}, fieldRules(err))

	// Status may not claim ingress for a Service that is no LoadBalancer.
	cip := mustCreate(t, r, svcYAML(t, webYAML))
	cip.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{Hostname: "lb.example.com"}}
	_, err = r.UpdateStatus(cip)
	require.Equal(t, []string{"status.loadBalancer.ingress: may only be used when `spec.type` is 'LoadBalancer'"}, fieldRules(err))
}

func ingressIPs(svc *Service) []string {
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		out = append(out, in.IP)
	}
	return out
}

func TestCreateExternalName(t *testing.T) {
	r := newTestRegistry(t)
	got := mustCreate(t, r, svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: db, namespace: prod}
spec: {type: ExternalName, externalName: my.database.example.com}
`))
	require.Empty(t, got.Spec.ClusterIPs)
	require.Nil(t, got.Spec.IPFamilyPolicy)
	require.Empty(t, got.Spec.IPFamilies)
	require.Equal(t, holdings{}, allocated(r))
}

func TestTypeTransitions(t *testing.T) {
	r := newTestRegistry(t)
	svc := mustCreate(t, r, svcYAML(t, webYAML))
	ip := svc.Spec.ClusterIP

	// ClusterIP → NodePort allocates nodePorts and keeps the IP.
	svc.Spec.Type = ServiceTypeNodePort
	svc = mustUpdate(t, r, svc)
	require.Equal(t, ip, svc.Spec.ClusterIP)
	np0, np1 := svc.Spec.Ports[0].NodePort, svc.Spec.Ports[1].NodePort
	require.NotZero(t, np0)
	require.NotZero(t, np1)
	require.Equal(t, "2", svc.ResourceVersion)

	// Removing a port releases its nodePort; adding one allocates.
	svc.Spec.Ports = svc.Spec.Ports[:1]
	svc = mustUpdate(t, r, svc)
	require.False(t, r.ports.Has(int(np1)))
	svc.Spec.Ports = append(svc.Spec.Ports, ServicePort{Name: "metrics", Port: 9090, NodePort: np1})
	svc = mustUpdate(t, r, svc)
	require.Equal(t, np1, svc.Spec.Ports[1].NodePort)

	// Resubmitting the manifest without the allocated values keeps them.
	again := svcYAML(t, webYAML)
	again.Spec.Type = ServiceTypeNodePort
	again.Spec.Ports[1] = ServicePort{Name: "metrics", Port: 9090}
	svc = mustUpdate(t, r, again)
	require.Equal(t, ip, svc.Spec.ClusterIP)
	require.Equal(t, []int32{np0, np1}, []int32{svc.Spec.Ports[0].NodePort, svc.Spec.Ports[1].NodePort})

	// NodePort → ClusterIP releases them.
	svc.Spec.Type = ServiceTypeClusterIP
	svc.ResourceVersion = ""
	svc = mustUpdate(t, r, svc)
	require.Zero(t, svc.Spec.Ports[0].NodePort)
	require.Zero(t, r.ports.Used())
	require.Empty(t, svc.Spec.ExternalTrafficPolicy)

	// → LoadBalancer with Local gets nodePorts and a health check port;
	// Local → Cluster releases the latter.
	svc.Spec.Type, svc.Spec.ExternalTrafficPolicy = ServiceTypeLoadBalancer, TrafficPolicyLocal
	svc = mustUpdate(t, r, svc)
	hc := svc.Spec.HealthCheckNodePort
	require.NotZero(t, hc)
	require.Equal(t, 3, r.ports.Used())
	svc.Spec.HealthCheckNodePort = hc + 1
	_, err := r.Update(svc)
	require.Equal(t, []string{"spec.healthCheckNodePort: field is immutable"}, fieldRules(err))
	svc.Spec.HealthCheckNodePort = hc
	svc.Spec.ExternalTrafficPolicy = TrafficPolicyCluster
	svc = mustUpdate(t, r, svc)
	require.Zero(t, svc.Spec.HealthCheckNodePort)
	require.False(t, r.ports.Has(int(hc)))

	// → ExternalName releases IPs and ports.
	svc.Spec.Type, svc.Spec.ExternalName = ServiceTypeExternalName, "web.example.com"
	svc = mustUpdate(t, r, svc)
	require.Empty(t, svc.Spec.ClusterIPs)
	require.Nil(t, svc.Spec.InternalTrafficPolicy)
	require.Equal(t, holdings{}, allocated(r))

	// ExternalName → ClusterIP allocates again.
	svc.Spec.Type, svc.Spec.ExternalName = ServiceTypeClusterIP, ""
	svc = mustUpdate(t, r, svc)
	require.Len(t, svc.Spec.ClusterIPs, 1)
	require.Equal(t, uint64(1), r.ips[IPv4Protocol].Used())

	// clusterIP is immutable otherwise.
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.0.0.99", []string{"10.0.0.99"}
	_, err = r.Update(svc)
	require.Equal(t, []string{"spec.clusterIPs[0]: may not change once set"}, fieldRules(err))
	require.NoError(t, checkConsistent(r))
}

func TestDualStackUpgradeDowngrade(t *testing.T) {
	r := newTestRegistry(t, dualStack)
	svc := mustCreate(t, r, svcYAML(t, webYAML))
	require.Len(t, svc.Spec.ClusterIPs, 1)

	prefer := IPFamilyPolicyPreferDualStack
	svc.Spec.IPFamilyPolicy = &prefer
	svc = mustUpdate(t, r, svc)
	require.Equal(t, []IPFamily{IPv4Protocol, IPv6Protocol}, svc.Spec.IPFamilies)
	require.Len(t, svc.Spec.ClusterIPs, 2)
	v6 := netip.MustParseAddr(svc.Spec.ClusterIPs[1])
	require.True(t, r.ips[IPv6Protocol].Has(v6))

	// An update that leaves a PreferDualStack Service alone does nothing.
	svc.Labels["tier"] = "front"
	svc = mustUpdate(t, r, svc)
	require.Len(t, svc.Spec.ClusterIPs, 2)

	// Dropping the secondary IP needs SingleStack.
	svc.Spec.ClusterIPs = svc.Spec.ClusterIPs[:1]
	_, err := r.Update(svc)
	require.Contains(t, fieldRules(err), "spec.ipFamilyPolicy: must be 'SingleStack' to release the secondary cluster IP")

	single := IPFamilyPolicySingleStack
	svc, err = r.Get("default", "web")
	require.NoError(t, err)
	svc.Spec.IPFamilyPolicy = &single
	svc = mustUpdate(t, r, svc)
	require.Len(t, svc.Spec.ClusterIPs, 1)
	require.Equal(t, []IPFamily{IPv4Protocol}, svc.Spec.IPFamilies)
	require.False(t, r.ips[IPv6Protocol].Has(v6))
}

func TestUpdateErrors(t *testing.T) {
	r := newTestRegistry(t, withPool(t, "192.0.2.10-192.0.2.20"))
	svc := mustCreate(t, r, svcYAML(t, webYAML))

	_, err := r.Update(&Service{ObjectMeta: ObjectMeta{Name: "nope"}})
	require.ErrorIs(t, err, ErrNotFound)

	stale := svc.DeepCopy()
	svc.Labels["v"] = "2"
	mustUpdate(t, r, svc)
	stale.Labels["v"] = "3"
	_, err = r.Update(stale)
	require.ErrorIs(t, err, ErrConflict)
	require.EqualError(t, err, `service: update "default/web": conflict: resourceVersion 1 is not the stored 2; get the Service again and retry`)
	stale.ResourceVersion, stale.UID = "", "other"
	_, err = r.Update(stale)
	require.ErrorIs(t, err, ErrConflict)

	// loadBalancerClass is immutable while a LoadBalancer.
	lb := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: lb}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`)
	lb = mustCreate(t, r, lb)
	class := "example.com/x"
	lb.Spec.LoadBalancerClass = &class
	_, err = r.Update(lb)
	require.Equal(t, []string{"spec.loadBalancerClass: may not change once set"}, fieldRules(err))
}

func TestUpdateFailureChangesNothing(t *testing.T) {
	r := newTestRegistry(t, withPool(t, "192.0.2.10-192.0.2.20"))
	fp := &faultyProvider{LoadBalancerProvider: r.provider}
	r.provider = fp
	taken := mustCreate(t, r, svcYAML(t, nodePortYAML))

	svc := mustCreate(t, r, svcYAML(t, webYAML))
	before, err := r.Snapshot()
	require.NoError(t, err)

	// The second requested nodePort is taken: the first, claimed by this
	// call, must be released.
	svc.Spec.Type = ServiceTypeNodePort
	svc.Spec.Ports[0].NodePort = 31111
	svc.Spec.Ports[1].NodePort = taken.Spec.Ports[0].NodePort
	_, err = r.Update(svc)
	require.Equal(t, []string{"spec.ports[1].nodePort: provided port is already allocated"}, fieldRules(err))
	after, err := r.Snapshot()
	require.NoError(t, err)
	require.JSONEq(t, string(before), string(after))

	// The provider fails: the nodePorts and health check port allocated
	// for the new LoadBalancer are released.
	svc.Spec.Type, svc.Spec.ExternalTrafficPolicy = ServiceTypeLoadBalancer, TrafficPolicyLocal
	svc.Spec.Ports[1].NodePort = 0
	fp.fail = true
	_, err = r.Update(svc)
	require.ErrorIs(t, err, ErrProvider)
	require.ErrorIs(t, err, errInjected)
	after, err = r.Snapshot()
	require.NoError(t, err)
	require.JSONEq(t, string(before), string(after))
	fp.fail = false
	lb := mustUpdate(t, r, svc)
	require.Len(t, lb.Status.LoadBalancer.Ingress, 1)

	// Deleting needs the provider too.
	fp.fail = true
	_, err = r.Delete("default", "web")
	require.ErrorIs(t, err, ErrProvider)
	require.Equal(t, 2, r.Len())
	fp.fail = false
	ch, err := r.Delete("default", "web")
	require.NoError(t, err)
	require.Equal(t, Deleted, ch.Type)
	require.Equal(t, lb.UID, ch.Old.UID)
	require.Nil(t, ch.New)
	require.NoError(t, checkConsistent(r))
	_, err = r.Delete("default", "web")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestDeleteReleasesEverything(t *testing.T) {
	r := newTestRegistry(t, dualStack, withPool(t, "192.0.2.10-192.0.2.20", "2001:db8::10-2001:db8::20"))
	svc := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  externalTrafficPolicy: Local
  ports: [{name: a, port: 53}, {name: b, port: 53, protocol: UDP}]
`)
	got := mustCreate(t, r, svc)
	require.Equal(t, []string{"192.0.2.10", "2001:db8::10"}, ingressIPs(got))
	require.Len(t, allocated(r).ports, 2) // one shared nodePort and the health check
	_, err := r.Delete("", "lb")
	require.NoError(t, err)
	require.Equal(t, holdings{}, allocated(r))
}

func TestExternalIPPolicy(t *testing.T) {
	svc := func() *Service {
		s := svcYAML(t, webYAML)
		s.Spec.ExternalIPs = []string{"198.51.100.7"}
		return s
	}
	r := newTestRegistry(t)
	_, err := r.Create(svc())
	require.ErrorIs(t, err, ErrForbidden)
	require.NotErrorIs(t, err, ErrInvalid)
	require.EqualError(t, err, `service: forbidden Service "default/web": spec.externalIPs[0]: invalid value "198.51.100.7": use of external IPs is denied by policy (DenyServiceExternalIPs, CVE-2020-8554)`)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "spec.externalIPs[0]", ve.Errors[0].Path)

	allow := ExternalIPPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	r = newTestRegistry(t, func(c *RegistryConfig) { c.ExternalIPs = allow })
	got := mustCreate(t, r, svc())
	require.Equal(t, TrafficPolicyCluster, got.Spec.ExternalTrafficPolicy) // ClusterIP with externalIPs is externally accessible

	// An update may keep what is there, never add outside the allow-list.
	r.policy = ExternalIPPolicy{}
	got.Labels["v"] = "2"
	got = mustUpdate(t, r, got)
	got.Spec.ExternalIPs = append(got.Spec.ExternalIPs, "203.0.113.1")
	_, err = r.Update(got)
	require.Equal(t, []string{"spec.externalIPs[1]: use of external IPs is denied by policy (DenyServiceExternalIPs, CVE-2020-8554)"}, fieldRules(err))
	r.policy = allow
	_, err = r.Update(got)
	require.Equal(t, []string{"spec.externalIPs[1]: must be in one of the allowed prefixes 198.51.100.0/24"}, fieldRules(err))

	// loadBalancerSourceRanges are CIDRs.
	lb := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: lb}
spec: {type: LoadBalancer, ports: [{port: 80}], loadBalancerSourceRanges: ["10.0.0.0/8", "10.1.2.3"]}
`)
	_, err = r.Create(lb)
	require.Equal(t, []string{"spec.loadBalancerSourceRanges[1]: must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"}, fieldRules(err))
}

func TestListAndGenerateName(t *testing.T) {
	r := newTestRegistry(t)
	for _, ns := range []string{"b", "a", "default"} {
		for _, name := range []string{"y", "x"} {
			s := svcYAML(t, webYAML)
			s.Namespace, s.Name = ns, name
			s.Labels["name"] = name
			mustCreate(t, r, s)
		}
	}
	keys := func(svcs []*Service) []string {
		var out []string
		for _, s := range svcs {
			out = append(out, s.Key().String())
		}
		return out
	}
	require.Equal(t, []string{"a/x", "a/y", "b/x", "b/y", "default/x", "default/y"}, keys(r.List("", Everything())))
	require.Equal(t, []string{"b/x", "b/y"}, keys(r.List("b", Selector{})))
	sel, err := ParseSelector("name=y")
	require.NoError(t, err)
	require.Equal(t, []string{"a/y", "b/y", "default/y"}, keys(r.List("", sel)))
	require.Empty(t, r.List("c", Everything()))

	g := svcYAML(t, webYAML)
	g.Name, g.GenerateName = "", "web-"
	got := mustCreate(t, r, g)
	require.Regexp(t, `^web-[bcdfghjklmnpqrstvwxz2456789]{5}$`, got.Name)
}

func TestSnapshotRestore(t *testing.T) {
	r := newTestRegistry(t, dualStack, withPool(t, "192.0.2.10-192.0.2.20"))
	mustCreate(t, r, svcYAML(t, webYAML))
	mustCreate(t, r, svcYAML(t, nodePortYAML))
	lb := svcYAML(t, `
apiVersion: v1
kind: Service
metadata: {name: lb}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]}
`)
	mustCreate(t, r, lb)
	data, err := r.Snapshot()
	require.NoError(t, err)

	// A fresh registry with the same config restores the same state.
	r2 := newTestRegistry(t, dualStack, withPool(t, "192.0.2.10-192.0.2.20"))
	require.NoError(t, r2.Restore(data))
	require.NoError(t, checkConsistent(r2))
	require.Equal(t, r.List("", Everything()), r2.List("", Everything()))
	data2, err := r2.Snapshot()
	require.NoError(t, err)
	require.Equal(t, data, data2)
	ch, err := r2.Create(svcYAML(t, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"next"},"spec":{"ports":[{"port":1}]}}`))
	require.NoError(t, err)
	require.Equal(t, "4", ch.New.ResourceVersion)

	// Corrupt or foreign snapshots change nothing.
	before, err := r2.Snapshot()
	require.NoError(t, err)
	for name, bad := range map[string]string{
		"not JSON":    "{",
		"not sealed":  `{"resourceVersion":"9","services":[]}`,
		"version":     `{"kind":"svcnet.registry","version":1,"sha256":"","content":{}}`,
		"rv":          sealContent(t, `{"resourceVersion":"x"}`),
		"invalid svc": sealContent(t, `{"resourceVersion":"9","services":[{"metadata":{"name":"Bad","namespace":"default","uid":"u","resourceVersion":"1"}}]}`),
		"no uid":      sealContent(t, `{"resourceVersion":"9","services":[`+string(mustJSON(t, stripUID(r.List("", Everything())[0])))+`]}`),
		"allocators":  sealContent(t, `{"resourceVersion":"9","services":[],"clusterIPs":{"IPv4":"AAAA"}}`),
		"flipped":     flipByte(mustSnapshot(t, r), 40),
		"wrong range": string(mustSnapshot(t, newTestRegistry(t))),
	} {
		t.Run(name, func(t *testing.T) {
			err := r2.Restore([]byte(bad))
			require.ErrorIs(t, err, ErrSnapshot)
			after, err := r2.Snapshot()
			require.NoError(t, err)
			require.Equal(t, before, after)
		})
	}
}

func stripUID(s *Service) *Service { s.UID = ""; return s }

func mustSnapshot(t *testing.T, r *Registry) []byte {
	b, err := r.Snapshot()
	require.NoError(t, err)
	return b
}

func TestRepairAfterCrash(t *testing.T) {
	r := newTestRegistry(t)
	mustCreate(t, r, svcYAML(t, webYAML))
	early := mustSnapshot(t, r)
	mustCreate(t, r, svcYAML(t, nodePortYAML))
	late := mustSnapshot(t, r)

	// A crash: the Services of the late snapshot with the allocators of
	// the early one, plus an address and a port allocated by a create that
	// never reached the store.
	crashed := spliceAllocators(t, late, early)
	r2 := newTestRegistry(t)
	require.NoError(t, r2.Restore(crashed))
	require.NoError(t, r2.ips[IPv4Protocol].Allocate(netip.MustParseAddr("10.0.0.200")))
	require.NoError(t, r2.ports.Allocate(32000))
	require.Error(t, checkConsistent(r2))

	rep, err := r2.Repair()
	require.NoError(t, err)
	np, _ := r2.Get("default", "np")
	require.Equal(t, []netip.Addr{netip.MustParseAddr(np.Spec.ClusterIP)}, rep.ClusterIPs[IPv4Protocol].Missing)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("10.0.0.200")}, rep.ClusterIPs[IPv4Protocol].Released)
	require.Equal(t, []int{32000}, rep.NodePorts.Released)
	require.Len(t, rep.NodePorts.Missing, 2)
	require.Empty(t, rep.Problems)
	require.False(t, rep.Clean())
	require.NoError(t, checkConsistent(r2))
	rep, err = r2.Repair()
	require.NoError(t, err)
	require.True(t, rep.Clean())
}

func TestRepairReportsDuplicates(t *testing.T) {
	r := newTestRegistry(t)
	a := mustCreate(t, r, svcYAML(t, nodePortYAML))
	b := svcYAML(t, nodePortYAML)
	b.Name = "np2"
	b = mustCreate(t, r, b)

	// Hand-edited data: b claims a's IP and first nodePort, and a port
	// outside the range.
	b.Spec.ClusterIP, b.Spec.ClusterIPs = a.Spec.ClusterIP, []string{a.Spec.ClusterIP}
	b.Spec.Ports[0].NodePort = a.Spec.Ports[0].NodePort
	b.Spec.Ports[1].NodePort = 40000
	r.items.ReplaceOrInsert(entry{b.Key(), b})
	rep, err := r.Repair()
	require.NoError(t, err)
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	require.Equal(t, []string{
		"clusterIP " + a.Spec.ClusterIP + ": duplicate: default/np, default/np2",
		"nodePort " + strconv.Itoa(int(a.Spec.Ports[0].NodePort)) + ": duplicate: default/np, default/np2",
		"nodePort 40000: out of range: default/np2",
	}, got)
}

func TestCreateFull(t *testing.T) {
	r := newTestRegistry(t, func(c *RegistryConfig) {
		c.ServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/30")} // two usable addresses
		c.NodePortRange = portalloc.MustParseRange("30000-30002")
	})
	for _, name := range []string{"a", "b"} {
		s := svcYAML(t, webYAML)
		s.Name = name
		mustCreate(t, r, s)
	}
	_, err := r.Create(svcYAML(t, nodePortYAML))
	require.ErrorIs(t, err, ipam.ErrFull)
	require.EqualError(t, err, `service: create "default/np": allocate a IPv4 clusterIP: ipam: allocate next 10.0.0.0/30: range is full`)
	_, err = r.Delete("default", "a")
	require.NoError(t, err)
	require.NoError(t, r.ports.Allocate(30000))
	require.NoError(t, r.ports.Allocate(30001))
	before := allocated(r)
	_, err = r.Create(svcYAML(t, nodePortYAML)) // needs two ports, one is left
	require.True(t, errors.Is(err, portalloc.ErrFull), err)
	require.Equal(t, before, allocated(r))
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// spliceAllocators returns the snapshot services with the allocator
// states of the snapshot allocs.
func spliceAllocators(t *testing.T, services, allocs []byte) []byte {
	var s, a map[string]json.RawMessage
	require.NoError(t, sealed.Open(services, snapshotKind, snapshotVersion, &s))
	require.NoError(t, sealed.Open(allocs, snapshotKind, snapshotVersion, &a))
	s["clusterIPs"], s["nodePorts"] = a["clusterIPs"], a["nodePorts"]
	data, err := sealed.Seal(snapshotKind, snapshotVersion, s)
	require.NoError(t, err)
	return data
}

// sealContent seals hand-written snapshot content, so that a test
// reaches the checks behind the envelope.
func sealContent(t *testing.T, content string) string {
	data, err := sealed.Seal(snapshotKind, snapshotVersion, json.RawMessage(content))
	require.NoError(t, err)
	return string(data)
}

// flipByte returns data with the low bit of byte len(data)-from flipped.
func flipByte(data []byte, from int) string {
	bad := append([]byte(nil), data...)
	bad[len(bad)-from] ^= 1
	return string(bad)
}

// TestSnapshotCorruption flips every bit and truncates at every byte of a
// real snapshot: no corrupted snapshot is accepted with a different state,
// and every rejected one leaves the registry unchanged.
func TestSnapshotCorruption(t *testing.T) {
	r := newTestRegistry(t)
	mustCreate(t, r, svcYAML(t, webYAML))
	mustCreate(t, r, svcYAML(t, nodePortYAML))
	data := mustSnapshot(t, r)
	r2 := newTestRegistry(t)
	empty := mustSnapshot(t, r2)
	try := func(bad []byte, what string) {
		if err := r2.Restore(bad); err != nil {
			require.ErrorIs(t, err, ErrSnapshot, what)
			require.Equal(t, empty, mustSnapshot(t, r2), "%s: rejected, but the registry changed", what)
			return
		}
		require.Equal(t, data, mustSnapshot(t, r2), "%s: accepted with a different state", what)
		require.NoError(t, r2.Restore(empty))
	}
	for i := range data {
		for bit := range 8 {
			bad := append([]byte(nil), data...)
			bad[i] ^= 1 << bit
			try(bad, "byte "+strconv.Itoa(i)+" bit "+strconv.Itoa(bit))
		}
	}
	for n := range len(data) {
		try(data[:n], "truncated to "+strconv.Itoa(n))
	}
}

// TestIngressAllow: with IngressAllow set, UpdateStatus accepts new
// ingress IPs only from its prefixes, keeps the ones a Service already
// has, and ignores hostnames; unset, any valid IP goes (Kubernetes).
func TestIngressAllow(t *testing.T) {
	lbYAML := `
apiVersion: v1
kind: Service
metadata: {name: lb}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`
	open := newTestRegistry(t)
	mustCreate(t, open, svcYAML(t, lbYAML))
	np, err := open.Get("default", "lb")
	require.NoError(t, err)
	np.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{IP: "198.51.100.1"}}
	_, err = open.UpdateStatus(np)
	require.NoError(t, err, "no IngressAllow: any ingress IP")

	r := newTestRegistry(t, func(c *RegistryConfig) {
		c.ExternalIPs.IngressAllow = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	})
	mustCreate(t, r, svcYAML(t, lbYAML))
	np, err = r.Get("default", "lb")
	require.NoError(t, err)
	np.Status.LoadBalancer.Ingress = []LoadBalancerIngress{{IP: "203.0.113.5"}, {Hostname: "lb.example.com"}, {IP: "198.51.100.1"}}
	_, err = r.UpdateStatus(np)
	require.Equal(t, []string{"status.loadBalancer.ingress[2].ip: must be in one of the allowed ingress prefixes 203.0.113.0/24"}, fieldRules(err))
	got, err := r.Get("default", "lb")
	require.NoError(t, err)
	require.Empty(t, got.Status.LoadBalancer.Ingress, "a rejected status changes nothing")

	np.Status.LoadBalancer.Ingress = np.Status.LoadBalancer.Ingress[:2]
	ch, err := r.UpdateStatus(np)
	require.NoError(t, err)
	require.Equal(t, []string{"203.0.113.5", "lb.example.com"}, ingressStrings(ch.New.Status.LoadBalancer))

	// Narrowing the policy later does not evict what a Service holds.
	r.policy.IngressAllow = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	again := ch.New.DeepCopy()
	again.Status.Conditions = nil
	_, err = r.UpdateStatus(again)
	require.NoError(t, err)
}
