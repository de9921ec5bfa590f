package service

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/ipam"
)

// t0 is the fake clock's time in the Registry tests.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type regOption func(*RegistryConfig)

// dualStack adds an IPv6 service CIDR.
func dualStack(c *RegistryConfig) {
	c.ServiceCIDRs = append(c.ServiceCIDRs, netip.MustParsePrefix("fd00:10::/112"))
}

func withPool(t testing.TB, ranges ...string) regOption {
	return func(c *RegistryConfig) {
		var rs []ipam.Range
		for _, s := range ranges {
			rs = append(rs, ipam.MustParseRange(s))
		}
		p, err := NewPoolProvider(PoolProviderConfig{Ranges: rs})
		require.NoError(t, err)
		c.LoadBalancer = p
	}
}

func newTestRegistry(t testing.TB, opts ...regOption) *Registry {
	t.Helper()
	cfg := RegistryConfig{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
		Rand:         rand.New(rand.NewPCG(1, 2)),
		Clock:        func() time.Time { return t0 },
	}
	for _, o := range opts {
		o(&cfg)
	}
	r, err := NewRegistry(cfg)
	require.NoError(t, err)
	return r
}

// svcYAML decodes one Service manifest.
func svcYAML(t testing.TB, y string) *Service {
	t.Helper()
	obj, err := Decode([]byte(y))
	require.NoError(t, err)
	return obj.(*Service)
}

func mustCreate(t testing.TB, r *Registry, svc *Service) *Service {
	t.Helper()
	ch, err := r.Create(svc)
	require.NoError(t, err)
	require.NoError(t, checkConsistent(r))
	return ch.New
}

func mustUpdate(t testing.TB, r *Registry, svc *Service) *Service {
	t.Helper()
	ch, err := r.Update(svc)
	require.NoError(t, err)
	require.NoError(t, checkConsistent(r))
	return ch.New
}

// fieldError returns the FieldErrors of err as "path: rule" strings.
func fieldRules(err error) []string {
	var out []string
	for _, fe := range fieldErrors(err) {
		out = append(out, fe.Path+": "+fe.Rule)
	}
	return out
}

// holdings is what a set of Services holds, or what the allocators hold.
type holdings struct {
	ips   []netip.Addr
	ports []int
	lbIPs []netip.Addr
}

func (h *holdings) sort() {
	slices.SortFunc(h.ips, netip.Addr.Compare)
	slices.Sort(h.ports)
	slices.SortFunc(h.lbIPs, netip.Addr.Compare)
}

// allocated returns what r's allocators (and a PoolProvider) hold.
func allocated(r *Registry) holdings {
	var h holdings
	for _, f := range r.families {
		for a := range r.ips[f].All() {
			h.ips = append(h.ips, a)
		}
	}
	for p := range r.ports.All() {
		h.ports = append(h.ports, p)
	}
	if p, ok := unwrapProvider(r.provider).(*PoolProvider); ok {
		h.lbIPs = p.Allocated()
	}
	h.sort()
	return h
}

func unwrapProvider(p LoadBalancerProvider) LoadBalancerProvider {
	if f, ok := p.(*faultyProvider); ok {
		return f.LoadBalancerProvider
	}
	return p
}

// checkConsistent checks the Registry's central invariant: the allocators
// hold exactly the IPs and ports the stored Services reference, no two
// Services share one, every stored Service is valid, and a PoolProvider
// holds exactly the ingress IPs of the Services it handles.
func checkConsistent(r *Registry) error {
	var want holdings
	owner := map[string]NamespacedName{}
	claim := func(kind, v string, key NamespacedName) error {
		k := kind + " " + v
		if o, ok := owner[k]; ok {
			return fmt.Errorf("%s held by both %s and %s", k, o, key)
		}
		owner[k] = key
		return nil
	}
	var err error
	r.items.Ascend(func(e entry) bool {
		svc := e.svc
		if err = svc.Validate(); err != nil {
			return false
		}
		if svc.Spec.Type != ServiceTypeExternalName && !isHeadlessIPs(svc) {
			if len(svc.Spec.ClusterIPs) != len(svc.Spec.IPFamilies) || len(svc.Spec.ClusterIPs) == 0 {
				err = fmt.Errorf("%s: clusterIPs %v for families %v", e.key, svc.Spec.ClusterIPs, svc.Spec.IPFamilies)
				return false
			}
			for _, s := range svc.Spec.ClusterIPs {
				a := netip.MustParseAddr(s)
				if err = claim("clusterIP", s, e.key); err != nil {
					return false
				}
				want.ips = append(want.ips, a)
			}
		}
		ports := heldNodePorts(svc)
		if svc.Spec.HealthCheckNodePort != 0 {
			ports = append(ports, svc.Spec.HealthCheckNodePort)
		}
		for _, np := range ports {
			if err = claim("nodePort", fmt.Sprint(np), e.key); err != nil {
				return false
			}
			want.ports = append(want.ports, int(np))
		}
		if svc.UsesNodePorts() {
			for _, p := range svc.Spec.Ports {
				if p.NodePort == 0 {
					err = fmt.Errorf("%s: port %d has no nodePort", e.key, p.Port)
					return false
				}
			}
		}
		if svc.NeedsHealthCheck() != (svc.Spec.HealthCheckNodePort != 0) {
			err = fmt.Errorf("%s: healthCheckNodePort %d", e.key, svc.Spec.HealthCheckNodePort)
			return false
		}
		if svc.Spec.Type != ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) > 0 {
			err = fmt.Errorf("%s: %s with ingress", e.key, svc.Spec.Type)
			return false
		}
		if r.providerHandles(svc) {
			for _, in := range svc.Status.LoadBalancer.Ingress {
				if err = claim("lbIP", in.IP, e.key); err != nil {
					return false
				}
				want.lbIPs = append(want.lbIPs, netip.MustParseAddr(in.IP))
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if _, ok := unwrapProvider(r.provider).(*PoolProvider); !ok {
		want.lbIPs = nil
	}
	want.sort()
	got := allocated(r)
	if !slices.Equal(got.ips, want.ips) {
		return fmt.Errorf("clusterIP allocators hold %v, Services hold %v", got.ips, want.ips)
	}
	if !slices.Equal(got.ports, want.ports) {
		return fmt.Errorf("nodePort allocator holds %v, Services hold %v", got.ports, want.ports)
	}
	if !slices.Equal(got.lbIPs, want.lbIPs) {
		return fmt.Errorf("provider holds %v, Services show %v", got.lbIPs, want.lbIPs)
	}
	return nil
}

// faultyProvider fails every call while fail is set, without touching the
// provider it wraps.
type faultyProvider struct {
	LoadBalancerProvider
	fail bool
}

var errInjected = fmt.Errorf("injected provider failure")

func (f *faultyProvider) EnsureLoadBalancer(svc *Service) (LoadBalancerStatus, error) {
	if f.fail {
		return LoadBalancerStatus{}, errInjected
	}
	return f.LoadBalancerProvider.EnsureLoadBalancer(svc)
}

func (f *faultyProvider) EnsureLoadBalancerDeleted(svc *Service) error {
	if f.fail {
		return errInjected
	}
	return f.LoadBalancerProvider.EnsureLoadBalancerDeleted(svc)
}

func (f *faultyProvider) SyncLoadBalancers(svcs []*Service) error {
	if f.fail {
		return errInjected
	}
	return f.LoadBalancerProvider.(LoadBalancerSyncer).SyncLoadBalancers(svcs)
}
