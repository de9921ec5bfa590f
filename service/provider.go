package service

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/svcnet/svcnet/ipam"
)

// LoadBalancerProvider provisions the load balancers of LoadBalancer
// Services: the part a cloud provider's LoadBalancer interface
// (k8s.io/cloud-provider) plays for Kubernetes' service controller, called
// synchronously by the Registry inside the Create, Update or Delete that
// needs it, so that the Service is stored with its ingress already set.
//
// The Registry calls a provider from its single writer only, with copies it
// may keep. Both Ensure methods must be atomic: when they return an error
// they have changed nothing, which lets the Registry roll the whole call
// back (the error reaches the caller wrapped in ErrProvider).
type LoadBalancerProvider interface {
	// Handles reports whether the provider is responsible for svc, a
	// LoadBalancer Service. Kubernetes' default controller takes the
	// Services without spec.loadBalancerClass and leaves every other class
	// to the controller that owns it (KEP-1959); a Service the provider
	// does not handle keeps the status that controller writes through
	// UpdateStatus, and shows <pending> until it does.
	Handles(svc *Service) bool
	// EnsureLoadBalancer provisions or updates the load balancer of svc,
	// keyed by namespace and name, and returns its status.
	EnsureLoadBalancer(svc *Service) (LoadBalancerStatus, error)
	// EnsureLoadBalancerDeleted releases whatever the provider holds for
	// svc; holding nothing is not an error.
	EnsureLoadBalancerDeleted(svc *Service) error
}

// LoadBalancerSyncer is implemented by providers that can rebuild their
// state from the Services a Registry holds. Registry.Restore and
// Registry.Repair call it with every stored LoadBalancer Service the
// provider handles. It must be atomic: on error the provider is unchanged.
type LoadBalancerSyncer interface {
	SyncLoadBalancers(svcs []*Service) error
}

// PoolProviderConfig configures a PoolProvider.
type PoolProviderConfig struct {
	// Ranges are the addresses to hand out, IPv4, IPv6 or both, in MetalLB's
	// "first-last" notation (ipam.ParseRange). Within a family, addresses
	// are taken lowest first, from the first range with room.
	Ranges []ipam.Range
	// Class is the spec.loadBalancerClass the provider owns. Empty: the
	// Services without a class, as Kubernetes' default provider. Otherwise
	// only the Services of that class, like MetalLB started with --lb-class.
	Class string
}

// PoolProvider is the embedded LoadBalancerProvider: it gives each
// LoadBalancer Service it handles one address per IP family of the Service
// (ipFamilies, as far as the pool has that family) from its own ipam pool,
// as MetalLB does on a bare-metal cluster, so that LoadBalancer Services
// work without a cloud. spec.loadBalancerIP, when set, is honoured exactly
// (an error if it is taken or outside the pool). A Service keeps its
// addresses across updates.
//
// A PoolProvider is not safe for concurrent use: a Registry calls it from
// its single writer. Errors start "service: pool provider:" and wrap an
// ipam sentinel (ipam.ErrFull, ipam.ErrAllocated, ipam.ErrNotInRange) where
// one applies.
type PoolProvider struct {
	class    string
	ranges   map[IPFamily][]ipam.Range
	pools    map[IPFamily]*ipam.Allocator
	assigned map[NamespacedName][]netip.Addr
}

var (
	_ LoadBalancerProvider = (*PoolProvider)(nil)
	_ LoadBalancerSyncer   = (*PoolProvider)(nil)
)

// NewPoolProvider returns a PoolProvider over cfg.Ranges, which must be
// valid and not overlap within a family. It returns an error wrapping
// ErrInvalidConfig otherwise.
func NewPoolProvider(cfg PoolProviderConfig) (*PoolProvider, error) {
	if len(cfg.Ranges) == 0 {
		return nil, fmt.Errorf("%w: pool provider: no address range", ErrInvalidConfig)
	}
	p := &PoolProvider{class: cfg.Class, ranges: map[IPFamily][]ipam.Range{}}
	for _, rg := range cfg.Ranges {
		if err := rg.Validate(); err != nil {
			return nil, fmt.Errorf("%w: pool provider: %w", ErrInvalidConfig, err)
		}
		f := familyOf(rg.First)
		p.ranges[f] = append(p.ranges[f], rg)
	}
	pools, err := p.newPools()
	if err != nil {
		return nil, fmt.Errorf("%w: pool provider: %w", ErrInvalidConfig, err)
	}
	p.pools, p.assigned = pools, map[NamespacedName][]netip.Addr{}
	return p, nil
}

func (p *PoolProvider) newPools() (map[IPFamily]*ipam.Allocator, error) {
	pools := map[IPFamily]*ipam.Allocator{}
	for f, rs := range p.ranges {
		// Lowest free address first, as MetalLB assigns: no randomness, so
		// an embedder can predict the address a Service gets.
		a, err := ipam.NewRanges(rs, ipam.Sequential())
		if err != nil {
			return nil, err
		}
		pools[f] = a
	}
	return pools, nil
}

// Handles reports whether svc is a LoadBalancer Service of the provider's
// class (no class, when the provider's Class is empty).
func (p *PoolProvider) Handles(svc *Service) bool {
	if svc.Spec.Type != ServiceTypeLoadBalancer {
		return false
	}
	if c := svc.Spec.LoadBalancerClass; c != nil {
		return *c == p.class && p.class != ""
	}
	return p.class == ""
}

// wantFamilies returns the families svc should get addresses of: its
// ipFamilies that the pool has, or every pool family, IPv4 first, when
// the Service names none.
func (p *PoolProvider) wantFamilies(svc *Service) []IPFamily {
	fams := svc.Spec.IPFamilies
	if len(fams) == 0 {
		fams = []IPFamily{IPv4Protocol, IPv6Protocol}
	}
	var out []IPFamily
	for _, f := range fams {
		if p.pools[f] != nil {
			out = append(out, f)
		}
	}
	return out
}

// EnsureLoadBalancer gives svc its addresses, keeping those it already
// has, and returns one ingress entry per address with ipMode VIP. On error
// nothing changes.
func (p *PoolProvider) EnsureLoadBalancer(svc *Service) (LoadBalancerStatus, error) {
	key := svc.Key()
	cur := p.assigned[key]
	var requested netip.Addr
	if s := svc.Spec.LoadBalancerIP; s != "" {
		a, msg := parseIP(s)
		if msg != "" {
			return LoadBalancerStatus{}, fmt.Errorf("service: pool provider: loadBalancerIP %q: %s", s, msg)
		}
		requested = a
	}
	fams := p.wantFamilies(svc)
	if requested.IsValid() && !slices.Contains(fams, familyOf(requested)) {
		return LoadBalancerStatus{}, fmt.Errorf("service: pool provider: loadBalancerIP %s: %w: no %s pool for this Service", requested, ipam.ErrNotInRange, familyOf(requested))
	}
	if len(fams) == 0 {
		return LoadBalancerStatus{}, fmt.Errorf("service: pool provider: no address pool for the Service's families %v", svc.Spec.IPFamilies)
	}
	var next, fresh []netip.Addr
	fail := func(err error) (LoadBalancerStatus, error) {
		for _, a := range fresh {
			_ = p.pools[familyOf(a)].Release(a) // allocated just now: cannot fail
		}
		return LoadBalancerStatus{}, fmt.Errorf("service: pool provider: %w", err)
	}
	for _, f := range fams {
		var keep netip.Addr
		for _, a := range cur {
			if familyOf(a) == f {
				keep = a
			}
		}
		switch {
		case requested.IsValid() && familyOf(requested) == f && keep != requested:
			if err := p.pools[f].Allocate(requested); err != nil {
				return fail(err)
			}
			fresh = append(fresh, requested)
			next = append(next, requested)
		case keep.IsValid():
			next = append(next, keep)
		default:
			a, err := p.pools[f].AllocateNext()
			if err != nil {
				return fail(err)
			}
			fresh = append(fresh, a)
			next = append(next, a)
		}
	}
	for _, a := range cur {
		if !slices.Contains(next, a) {
			_ = p.pools[familyOf(a)].Release(a) // held by us: cannot fail
		}
	}
	p.assigned[key] = next
	return ingressOf(next), nil
}

func ingressOf(addrs []netip.Addr) LoadBalancerStatus {
	st := LoadBalancerStatus{Ingress: make([]LoadBalancerIngress, len(addrs))}
	for i, a := range addrs {
		mode := "VIP"
		st.Ingress[i] = LoadBalancerIngress{IP: a.String(), IPMode: &mode}
	}
	return st
}

// EnsureLoadBalancerDeleted releases the addresses of svc.
func (p *PoolProvider) EnsureLoadBalancerDeleted(svc *Service) error {
	key := svc.Key()
	for _, a := range p.assigned[key] {
		_ = p.pools[familyOf(a)].Release(a) // held by us: cannot fail
	}
	delete(p.assigned, key)
	return nil
}

// SyncLoadBalancers rebuilds the pool from the ingress IPs of svcs, which
// must be Services the provider handles. It fails, changing nothing, if an
// address is outside the pool or held by two Services.
func (p *PoolProvider) SyncLoadBalancers(svcs []*Service) error {
	pools, err := p.newPools()
	if err != nil {
		return err
	}
	assigned := make(map[NamespacedName][]netip.Addr, len(svcs))
	var errs []error
	for _, svc := range svcs {
		key := svc.Key()
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP == "" {
				continue
			}
			a, msg := parseIP(in.IP)
			if msg != "" {
				errs = append(errs, fmt.Errorf("%s: ingress IP %q: %s", key, in.IP, msg))
				continue
			}
			pool := pools[familyOf(a)]
			if pool == nil {
				errs = append(errs, fmt.Errorf("%s: ingress IP %s: %w", key, a, ipam.ErrNotInRange))
				continue
			}
			if err := pool.Allocate(a); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				continue
			}
			assigned[key] = append(assigned[key], a)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("service: pool provider: sync: %w", err)
	}
	p.pools, p.assigned = pools, assigned
	return nil
}

// Allocated returns every address the provider has handed out, in
// increasing order.
func (p *PoolProvider) Allocated() []netip.Addr {
	var out []netip.Addr
	for _, f := range []IPFamily{IPv4Protocol, IPv6Protocol} {
		if a := p.pools[f]; a != nil {
			for addr := range a.All() {
				out = append(out, addr)
			}
		}
	}
	return out
}

// Assigned returns the addresses held for the Service key, or nil.
func (p *PoolProvider) Assigned(key NamespacedName) []netip.Addr {
	return slices.Clone(p.assigned[key])
}
