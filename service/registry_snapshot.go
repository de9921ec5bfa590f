package service

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/svcnet/svcnet/internal/sealed"
	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// snapshotVersion is the version of the registry snapshot format. A
// snapshot is sealed (internal/sealed): an envelope of kind
// "svcnet.registry", this version and the SHA-256 of its content, so that
// corruption is an error. Version 2's content is a JSON object:
//
//	{
//	  "resourceVersion": "42",          // the last resourceVersion handed out
//	  "services": [ {Service}, ... ],   // Kubernetes JSON, by namespace and name
//	  "clusterIPs": {"IPv4": "<base64>", "IPv6": "<base64>"}, // ipam snapshots
//	  "nodePorts": "<base64>"           // portalloc snapshot
//	}
//
// The allocators are saved as they are, not recomputed from the Services,
// so that a snapshot taken after a crash between an allocation and the
// store write restores that state for Repair to find.
const snapshotVersion = 2

// snapshotKind names registry snapshots in their envelope.
const snapshotKind = "svcnet.registry"

type registrySnapshot struct {
	ResourceVersion string              `json:"resourceVersion"`
	Services        []*Service          `json:"services"`
	ClusterIPs      map[IPFamily][]byte `json:"clusterIPs"`
	NodePorts       []byte              `json:"nodePorts"`
}

// Snapshot returns the whole registry state — every Service, the last
// resourceVersion and the allocators — in the versioned JSON format above,
// for Restore. It costs O(n) time and memory for n Services.
func (r *Registry) Snapshot() ([]byte, error) {
	snap := registrySnapshot{
		ResourceVersion: strconv.FormatUint(r.rv, 10),
		Services:        make([]*Service, 0, r.items.Len()),
		ClusterIPs:      map[IPFamily][]byte{},
	}
	r.items.Ascend(func(e entry) bool {
		snap.Services = append(snap.Services, e.svc)
		return true
	})
	for _, f := range r.families {
		b, err := r.ips[f].Snapshot()
		if err != nil {
			return nil, &RegistryError{Op: "snapshot", Err: err}
		}
		snap.ClusterIPs[f] = b
	}
	b, err := r.ports.Snapshot()
	if err != nil {
		return nil, &RegistryError{Op: "snapshot", Err: err}
	}
	snap.NodePorts = b
	data, err := sealed.Seal(snapshotKind, snapshotVersion, snap)
	if err != nil {
		return nil, &RegistryError{Op: "snapshot", Err: err}
	}
	return data, nil
}

// Restore replaces the whole registry state with a Snapshot. It checks
// everything before it replaces anything: the envelope (kind, version and
// the content's SHA-256, so a flipped bit or a truncation is an error),
// every Service
// (valid, with a uid and a resourceVersion no later than the snapshot's,
// no two with one key), and the allocator states, which must have been
// taken with this registry's ranges. If the provider is a
// LoadBalancerSyncer, it is rebuilt from the restored Services last. On
// any failure Restore returns an error wrapping ErrSnapshot (or the
// provider's ErrProvider) and the registry is unchanged.
//
// Restore checks, before it accepts anything, that the allocators agree
// with the Services, as Check does. A Snapshot always agrees; one taken
// after a crash between an allocation and the store write, or
// hand-edited, may not. By default such a snapshot is accepted as it is
// and what the check found is kept for Restored, so that Repair then
// fixes it (as kube-apiserver's repair controllers run at start-up);
// with RegistryConfig.StrictRestore it is rejected with a
// *DisagreementError naming each Service and IP or port, and the
// registry is unchanged.
func (r *Registry) Restore(data []byte) error {
	fail := func(format string, args ...any) error {
		return &RegistryError{Op: "restore", Err: fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, args...)...)}
	}
	var snap registrySnapshot
	if err := sealed.Open(data, snapshotKind, snapshotVersion, &snap); err != nil {
		return fail("%v", err)
	}
	rv, err := strconv.ParseUint(snap.ResourceVersion, 10, 64)
	if err != nil {
		return fail("resourceVersion %q: not a number", snap.ResourceVersion)
	}
	items := newServiceIndex()
	for i, svc := range snap.Services {
		if svc == nil {
			return fail("services[%d]: null", i)
		}
		key := svc.Key()
		if err := svc.Validate(); err != nil {
			return fail("services[%d]: %w", i, err)
		}
		if svc.UID == "" {
			return fail("services[%d] %s: no uid", i, key)
		}
		if v, err := strconv.ParseUint(svc.ResourceVersion, 10, 64); err != nil || v > rv {
			return fail("services[%d] %s: resourceVersion %q is not a number up to %d", i, key, svc.ResourceVersion, rv)
		}
		if _, dup := items.ReplaceOrInsert(entry{key, svc}); dup {
			return fail("services[%d]: %s appears twice", i, key)
		}
	}
	for f := range snap.ClusterIPs {
		if r.ips[f] == nil {
			return fail("clusterIPs: %s is not configured on this cluster", f)
		}
	}
	ips, ports, err := r.newAllocators()
	if err != nil {
		return fail("%v", err)
	}
	for _, f := range r.families {
		b, ok := snap.ClusterIPs[f]
		if !ok {
			return fail("clusterIPs: no %s allocator", f)
		}
		if err := ips[f].Restore(b); err != nil {
			return fail("clusterIPs %s: %w", f, err)
		}
	}
	if err := ports.Restore(snap.NodePorts); err != nil {
		return fail("nodePorts: %w", err)
	}
	// What Repair would find, checked before anything is accepted, as
	// kube-apiserver's repair controllers check the allocations against
	// the stored Services when it starts
	// (pkg/registry/core/service/ipallocator/controller/repair.go,
	// portallocator/controller/repair.go: leaks, values not allocated,
	// duplicates, values outside the range).
	found := r.check(items, ips, ports)
	if len(found) > 0 && r.strictRestore {
		return &RegistryError{Op: "restore", Err: &DisagreementError{Disagreements: found}}
	}
	if err := r.syncProvider(items); err != nil {
		return &RegistryError{Op: "restore", Err: err}
	}
	r.items, r.ips, r.ports, r.rv, r.restored = items, ips, ports, rv, found
	return nil
}

// syncProvider rebuilds a LoadBalancerSyncer from items.
func (r *Registry) syncProvider(items *serviceIndex) error {
	s, ok := r.provider.(LoadBalancerSyncer)
	if !ok {
		return nil
	}
	var svcs []*Service
	items.Ascend(func(e entry) bool {
		if r.providerHandles(e.svc) {
			svcs = append(svcs, e.svc.DeepCopy())
		}
		return true
	})
	if err := s.SyncLoadBalancers(svcs); err != nil {
		return fmt.Errorf("%w: %w", ErrProvider, err)
	}
	return nil
}

// RepairReport is what Registry.Repair found and did.
type RepairReport struct {
	// ClusterIPs is the report of each family's allocator: leaks released,
	// missing IPs allocated, duplicates and out-of-range IPs found.
	ClusterIPs map[IPFamily]ipam.RepairReport
	// NodePorts is the report of the NodePort allocator, health-check
	// NodePorts included.
	NodePorts portalloc.RepairReport
	// Problems names the Services behind every value Repair cannot fix: an
	// IP or port held by several Services, or outside the ranges (for
	// example after the ranges changed). Nothing but recreating the
	// Services involved fixes them, as Kubernetes' repair loops warn.
	Problems []RepairProblem
}

// RepairProblem is one value Repair cannot fix.
type RepairProblem struct {
	// Field is "clusterIP" or "nodePort" (health-check NodePorts included).
	Field string
	// Value is the IP or port.
	Value string
	// Reason is "duplicate", "out of range" or "family not configured".
	Reason string
	// Services holds the value, by namespace and name.
	Services []NamespacedName
}

// String formats the problem as `nodePort 30080: duplicate: default/a, default/b`.
func (p RepairProblem) String() string {
	s := p.Field + " " + p.Value + ": " + p.Reason + ":"
	for i, k := range p.Services {
		if i > 0 {
			s += ","
		}
		s += " " + k.String()
	}
	return s
}

// Clean reports whether Repair found nothing at all.
func (rep RepairReport) Clean() bool {
	for _, c := range rep.ClusterIPs {
		if !c.Clean() {
			return false
		}
	}
	return rep.NodePorts.Clean() && len(rep.Problems) == 0
}

// Repair rebuilds the allocators from the stored Services, as Kubernetes'
// ClusterIP and NodePort repair controllers do after a crash
// (pkg/registry/core/service/ipallocator/controller/repair.go and
// portallocator/controller/repair.go), with the allocators' own repair:
// every IP and port a Service holds is allocated, every allocation no
// Service holds is released at once (the Registry is the only writer, so
// there is no in-flight create to wait for), and duplicates and
// out-of-range values are reported with the Services holding them rather
// than hidden. A LoadBalancerSyncer provider is rebuilt too; its error,
// if any, is returned after the allocators have been repaired.
//
// It costs O(n + allocated) time for n Services.
func (r *Registry) Repair() (RepairReport, error) {
	rep, _, err := r.repairPass(r.items, r.ips, r.ports, false)
	if perr := r.syncProvider(r.items); perr != nil {
		err = errors.Join(err, perr)
	}
	if err != nil {
		return rep, &RegistryError{Op: "repair", Err: err}
	}
	return rep, nil
}

// usage is what the Services of one store hold: each IP and NodePort
// with its holders, and the values in use per allocator, once per
// holder (so that a duplicate shows).
type usage struct {
	ipUsers   map[netip.Addr][]NamespacedName
	inUse     map[IPFamily][]netip.Addr
	portUsers map[int][]NamespacedName
	ports     []int
}

// scan collects what items' Services hold, in key order.
func (r *Registry) scan(items *serviceIndex, ips map[IPFamily]*ipam.Allocator) usage {
	u := usage{ipUsers: map[netip.Addr][]NamespacedName{}, inUse: map[IPFamily][]netip.Addr{}, portUsers: map[int][]NamespacedName{}}
	items.Ascend(func(e entry) bool {
		svc := e.svc
		if svc.Spec.Type != ServiceTypeExternalName {
			for _, s := range svc.Spec.ClusterIPs {
				a, err := netip.ParseAddr(s)
				if err != nil {
					continue // "None"
				}
				u.ipUsers[a] = append(u.ipUsers[a], e.key)
				if ips[familyOf(a)] == nil {
					continue
				}
				u.inUse[familyOf(a)] = append(u.inUse[familyOf(a)], a)
			}
		}
		held := heldNodePorts(svc)
		if svc.Spec.HealthCheckNodePort != 0 {
			held = append(held, svc.Spec.HealthCheckNodePort)
		}
		for _, np := range held {
			u.portUsers[int(np)] = append(u.portUsers[int(np)], e.key)
			u.ports = append(u.ports, int(np))
		}
		return true
	})
	return u
}

// repairPass is one pass of the allocators' repair over items: a dry
// run changes nothing and reports what a real pass would do.
func (r *Registry) repairPass(items *serviceIndex, ips map[IPFamily]*ipam.Allocator, ports *portalloc.Allocator, dryRun bool) (RepairReport, usage, error) {
	u := r.scan(items, ips)
	rep := RepairReport{ClusterIPs: map[IPFamily]ipam.RepairReport{}}
	var errs []error
	for _, f := range r.families {
		fr, err := ipam.NewRepair(ips[f], ipam.RepairConfig{LeakPasses: 1, DryRun: dryRun}).Pass(u.inUse[f])
		if err != nil {
			errs = append(errs, err)
		}
		rep.ClusterIPs[f] = fr
		for _, a := range fr.Duplicate {
			rep.Problems = append(rep.Problems, RepairProblem{"clusterIP", a.String(), "duplicate", u.ipUsers[a]})
		}
		for _, a := range fr.OutOfRange {
			rep.Problems = append(rep.Problems, RepairProblem{"clusterIP", a.String(), "out of range", u.ipUsers[a]})
		}
	}
	var unconfigured []netip.Addr
	for a := range u.ipUsers {
		if ips[familyOf(a)] == nil {
			unconfigured = append(unconfigured, a)
		}
	}
	slices.SortFunc(unconfigured, netip.Addr.Compare)
	for _, a := range unconfigured {
		rep.Problems = append(rep.Problems, RepairProblem{"clusterIP", a.String(), "family not configured", u.ipUsers[a]})
	}
	pr, err := portalloc.NewRepair(ports, portalloc.RepairConfig{LeakPasses: 1, DryRun: dryRun}).Pass(u.ports)
	if err != nil {
		errs = append(errs, err)
	}
	rep.NodePorts = pr
	for _, p := range pr.Duplicate {
		rep.Problems = append(rep.Problems, RepairProblem{"nodePort", strconv.Itoa(p), "duplicate", u.portUsers[p]})
	}
	for _, p := range pr.OutOfRange {
		rep.Problems = append(rep.Problems, RepairProblem{"nodePort", strconv.Itoa(p), "out of range", u.portUsers[p]})
	}
	return rep, u, errors.Join(errs...)
}
