package service

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/ipam"
)

func lbService(name string, families ...IPFamily) *Service {
	return &Service{
		ObjectMeta: ObjectMeta{Namespace: "default", Name: name},
		Spec:       ServiceSpec{Type: ServiceTypeLoadBalancer, IPFamilies: families},
	}
}

func TestPoolProvider(t *testing.T) {
	_, err := NewPoolProvider(PoolProviderConfig{})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{ipam.MustParseRange("192.0.2.0-192.0.2.9"), ipam.MustParseRange("192.0.2.5-192.0.2.20")}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{{First: netip.MustParseAddr("192.0.2.9"), Last: netip.MustParseAddr("192.0.2.1")}}})
	require.ErrorIs(t, err, ErrInvalidConfig)

	p, err := NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{
		ipam.MustParseRange("192.0.2.10-192.0.2.12"),
		ipam.MustParseRange("2001:db8::a-2001:db8::b"),
	}})
	require.NoError(t, err)

	a := lbService("a", IPv4Protocol)
	st, err := p.EnsureLoadBalancer(a)
	require.NoError(t, err)
	require.Equal(t, "192.0.2.10", st.Ingress[0].IP)
	require.Equal(t, "VIP", *st.Ingress[0].IPMode)
	st, err = p.EnsureLoadBalancer(a) // idempotent
	require.NoError(t, err)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.10")}, p.Allocated())

	// Upgrading to dual-stack adds an IPv6 address and keeps the IPv4 one.
	a.Spec.IPFamilies = []IPFamily{IPv4Protocol, IPv6Protocol}
	st, err = p.EnsureLoadBalancer(a)
	require.NoError(t, err)
	require.Equal(t, []string{"192.0.2.10", "2001:db8::a"}, []string{st.Ingress[0].IP, st.Ingress[1].IP})

	// loadBalancerIP moves the Service to the requested address.
	a.Spec.LoadBalancerIP = "192.0.2.12"
	st, err = p.EnsureLoadBalancer(a)
	require.NoError(t, err)
	require.Equal(t, "192.0.2.12", st.Ingress[0].IP)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.12"), netip.MustParseAddr("2001:db8::a")}, p.Assigned(a.Key()))

	// Failures change nothing.
	before := p.Allocated()
	b := lbService("b", IPv4Protocol, IPv6Protocol)
	b.Spec.LoadBalancerIP = "192.0.2.12"
	_, err = p.EnsureLoadBalancer(b)
	require.ErrorIs(t, err, ipam.ErrAllocated)
	b.Spec.LoadBalancerIP = "198.51.100.1"
	_, err = p.EnsureLoadBalancer(b)
	require.ErrorIs(t, err, ipam.ErrNotInRange)
	b.Spec.LoadBalancerIP = "2001:db8::1"
	_, err = p.EnsureLoadBalancer(b)
	require.ErrorIs(t, err, ipam.ErrNotInRange)
	b.Spec.LoadBalancerIP = ""
	_, err = p.EnsureLoadBalancer(lbService("v6only", IPv6Protocol))
	require.NoError(t, err)
	require.NoError(t, p.EnsureLoadBalancerDeleted(lbService("v6only")))
	for _, name := range []string{"c", "d"} {
		_, err = p.EnsureLoadBalancer(lbService(name, IPv4Protocol))
		require.NoError(t, err)
	}
	_, err = p.EnsureLoadBalancer(lbService("e", IPv4Protocol)) // the IPv4 pool is full
	require.ErrorIs(t, err, ipam.ErrFull)
	require.NoError(t, p.EnsureLoadBalancerDeleted(lbService("c")))
	require.NoError(t, p.EnsureLoadBalancerDeleted(lbService("d")))
	require.Equal(t, before, p.Allocated())
	require.Nil(t, p.Assigned(NamespacedName{"default", "b"}))

	require.NoError(t, p.EnsureLoadBalancerDeleted(a))
	require.NoError(t, p.EnsureLoadBalancerDeleted(a)) // nothing held: no error
	require.Empty(t, p.Allocated())

	// Sync rebuilds from Services, or changes nothing.
	a.Status.LoadBalancer = ingressOf([]netip.Addr{netip.MustParseAddr("192.0.2.11")})
	require.NoError(t, p.SyncLoadBalancers([]*Service{a}))
	require.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.11")}, p.Allocated())
	dup := lbService("dup", IPv4Protocol)
	dup.Status = a.Status
	out := lbService("out", IPv4Protocol)
	out.Status.LoadBalancer = ingressOf([]netip.Addr{netip.MustParseAddr("203.0.113.1")})
	err = p.SyncLoadBalancers([]*Service{a, dup, out})
	require.ErrorIs(t, err, ipam.ErrAllocated)
	require.ErrorIs(t, err, ipam.ErrNotInRange)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.11")}, p.Allocated())
}

func TestPoolProviderClass(t *testing.T) {
	class := "svcnet.io/pool"
	other := "example.com/cloud"
	def, err := NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{ipam.MustParseRange("192.0.2.1-192.0.2.2")}})
	require.NoError(t, err)
	named, err := NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{ipam.MustParseRange("192.0.2.1-192.0.2.2")}, Class: class})
	require.NoError(t, err)
	for _, tc := range []struct {
		class     *string
		typ       ServiceType
		def, name bool
	}{
		{nil, ServiceTypeLoadBalancer, true, false},
		{&class, ServiceTypeLoadBalancer, false, true},
		{&other, ServiceTypeLoadBalancer, false, false},
		{nil, ServiceTypeNodePort, false, false},
	} {
		svc := lbService("x")
		svc.Spec.Type, svc.Spec.LoadBalancerClass = tc.typ, tc.class
		require.Equal(t, tc.def, def.Handles(svc))
		require.Equal(t, tc.name, named.Handles(svc))
	}
	_, err = def.EnsureLoadBalancer(lbService("v6", IPv6Protocol))
	require.EqualError(t, err, "service: pool provider: no address pool for the Service's families [IPv6]")
}

func TestExternalIPPolicyCheck(t *testing.T) {
	svc := &Service{Spec: ServiceSpec{ExternalIPs: []string{"198.51.100.1", "203.0.113.1", "bad"}}}
	old := &Service{Spec: ServiceSpec{ExternalIPs: []string{"203.0.113.1"}}}
	deny := ExternalIPPolicy{}
	require.Equal(t, "none", deny.String())
	require.Len(t, deny.Check(svc, nil), 2) // "bad" is Validate's to report
	errs := deny.Check(svc, old)
	require.Len(t, errs, 1)
	require.Equal(t, "spec.externalIPs[0]", errs[0].Path)

	allow := ExternalIPPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	require.Empty(t, allow.Check(svc, old))
	require.Len(t, allow.Check(svc, nil), 1)
	require.True(t, AllowAllExternalIPs().Allows(netip.MustParseAddr("2001:db8::1")))
	require.Equal(t, "0.0.0.0/0,::/0", AllowAllExternalIPs().String())
}
