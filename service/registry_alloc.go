package service

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// txn is the undo log of one Registry call, in the spirit of Kubernetes'
// metaTransaction (pkg/registry/core/service/storage/transaction.go) and
// its deferred releases (portallocator.PortAllocationOperation): what the
// call allocated is released by revert; what it frees is released only by
// commit, once nothing can fail any more, so that a failed call never
// loses an address or port the stored Service still holds.
type txn struct {
	r   *Registry
	op  string
	key NamespacedName

	ips   []netip.Addr // allocated by this call: released on revert
	ports []int

	freeIPs   []netip.Addr // released on commit
	freePorts []int

	errs ErrorList // requested values that could not be had

	// room is the pack of the Service being created, whose clusterIPs
	// are free while it has none (see servicePack); nil on update.
	room *servicePack
	// uid is the uid of the Service being created when hasUID (not on
	// update), and
	// firstIP its first clusterIP when this call allocated it into room;
	// both are written into the Service as strings by stamp (see there).
	uid     [36]byte
	hasUID  bool
	firstIP netip.Addr
}

// stamp writes the system strings of a Service being created: the uid,
// the first clusterIP when this call allocated it, and, when rv is not
// zero, resourceVersion rv. They are substrings of one string, so that the
// three cost one allocation instead of three (strings are immutable, so
// sharing one is invisible). stamp runs once before the provider is
// asked, with rv zero (a provider sees the uid and the clusterIPs, never
// the resourceVersion, which is only set once nothing can fail), and once
// after allocate; what the first call wrote the second leaves.
func (t *txn) stamp(svc *Service, rv uint64) {
	var buf [36 + 20 + 45]byte // a uid, a uint64, an IPv6 address
	b := buf[:0]
	if t.hasUID {
		b = append(b, t.uid[:]...)
	}
	nUID := len(b)
	if rv != 0 {
		b = strconv.AppendUint(b, rv, 10)
	}
	nRV := len(b)
	if t.firstIP.IsValid() {
		b = t.firstIP.AppendTo(b)
	}
	if len(b) == 0 {
		return
	}
	s := string(b)
	if t.hasUID {
		svc.UID = s[:nUID]
	}
	if rv != 0 {
		svc.ResourceVersion = s[nUID:nRV]
	}
	if t.firstIP.IsValid() {
		svc.Spec.ClusterIPs[0] = s[nRV:]
		svc.Spec.ClusterIP = svc.Spec.ClusterIPs[0]
	}
	t.hasUID, t.firstIP = false, netip.Addr{}
}

// begin starts a txn. Its ips and ports reuse the Registry's spare
// slices, which revert and commit hand back, so that a call logs what it
// allocates without the heap; the spares are taken, not shared, so a
// provider that called back into the Registry would only get new ones.
func (r *Registry) begin(op string, svc *Service) txn {
	t := txn{r: r, op: op, key: svc.Key(), ips: r.spareIPs[:0], ports: r.sparePorts[:0]}
	r.spareIPs, r.sparePorts = nil, nil
	return t
}

// end hands t's slices back to the Registry, emptied.
func (t *txn) end() {
	t.r.spareIPs, t.r.sparePorts = t.ips[:0], t.ports[:0]
	t.ips, t.ports = nil, nil
}

// revert releases what the call allocated, newest first.
func (t *txn) revert() {
	for i := len(t.ips) - 1; i >= 0; i-- {
		_ = t.r.ips[familyOf(t.ips[i])].Release(t.ips[i]) // allocated by us: cannot fail
	}
	for i := len(t.ports) - 1; i >= 0; i-- {
		_ = t.r.ports.Release(t.ports[i])
	}
	t.end()
}

// commit performs the deferred releases. A value outside the allocators'
// ranges (possible only for a Service restored from a snapshot, which
// Repair reports) was never held and is skipped.
func (t *txn) commit() {
	for _, a := range t.freeIPs {
		if al := t.r.ips[familyOf(a)]; al != nil {
			_ = al.Release(a)
		}
	}
	for _, p := range t.freePorts {
		_ = t.r.ports.Release(p)
	}
	t.end()
}

func (t *txn) fail(what string, err error) error {
	return &RegistryError{Op: t.op, Key: t.key, Err: fmt.Errorf("allocate %s: %w", what, err)}
}

// allocate takes everything svc needs that old (nil on create) did not
// hold, schedules the release of what old held and svc does not, and
// asks the provider for the load balancer, in that order: the provider
// comes last because it is the one step that cannot be undone by the
// Registry itself. On error the caller must revert.
func (t *txn) allocate(svc, old *Service) error {
	if err := t.clusterIPs(svc, old); err != nil {
		return err
	}
	if err := t.nodePorts(svc, old); err != nil {
		return err
	}
	if err := t.healthCheckNodePort(svc, old); err != nil {
		return err
	}
	if len(t.errs) > 0 {
		return named(t.errs.Err(), "Service", t.key.String())
	}
	return t.loadBalancer(svc, old)
}

// ipRule words an allocator's refusal of a requested IP as Kubernetes'
// ipallocator does.
func (t *txn) ipRule(err error, ip string, f IPFamily) string {
	switch {
	case errors.Is(err, ipam.ErrAllocated):
		return "provided IP is already allocated"
	case errors.Is(err, ipam.ErrNotInRange):
		cidrs := make([]string, len(t.r.cidrs[f]))
		for i, p := range t.r.cidrs[f] {
			cidrs[i] = p.String()
		}
		return fmt.Sprintf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, strings.Join(cidrs, ","))
	}
	return "failed to allocate IP " + ip + ": " + err.Error()
}

// portRule words an allocator's refusal of a requested port as
// Kubernetes' portallocator does.
func (t *txn) portRule(err error) string {
	switch {
	case errors.Is(err, portalloc.ErrAllocated):
		return "provided port is already allocated"
	case errors.Is(err, portalloc.ErrNotInRange):
		return "provided port is not in the valid range. The range of valid ports is " + t.r.portRng.String()
	}
	return "failed to allocate port: " + err.Error()
}

// clusterIPs follows Kubernetes' allocClusterIPs and updateClusterIPs: a
// new Service, or one leaving ExternalName, gets an IP per family; one
// moving to ExternalName releases its IPs; an upgrade to dual-stack
// allocates the secondary IP and a downgrade releases it; nothing else
// changes clusterIPs (validation forbids it).
func (t *txn) clusterIPs(svc, old *Service) error {
	switch {
	case old == nil:
		return t.allocClusterIPs(svc, 0)
	case isMatchingPreferDualStack(svc, old):
		return nil
	case old.Spec.Type == ServiceTypeExternalName && svc.Spec.Type != ServiceTypeExternalName:
		return t.allocClusterIPs(svc, 0)
	case isHeadlessIPs(old) || old.Spec.Type == ServiceTypeExternalName:
		return nil
	case svc.Spec.Type == ServiceTypeExternalName:
		t.freeClusterIPs(old)
		return nil
	case len(old.Spec.IPFamilies) == 1 && len(svc.Spec.IPFamilies) == 2:
		return t.allocClusterIPs(svc, 1)
	case len(old.Spec.IPFamilies) == 2 && len(svc.Spec.IPFamilies) == 1 && len(old.Spec.ClusterIPs) == 2:
		if a, err := netip.ParseAddr(old.Spec.ClusterIPs[1]); err == nil {
			t.freeIPs = append(t.freeIPs, a)
		}
	}
	return nil
}

// allocClusterIPs allocates the clusterIPs of svc's families from index
// from on: the requested ones exactly, the missing ones next.
func (t *txn) allocClusterIPs(svc *Service, from int) error {
	sp := &svc.Spec
	if sp.Type == ServiceTypeExternalName || len(sp.ClusterIPs) > 0 && sp.ClusterIPs[0] == ClusterIPNone {
		return nil
	}
	for i := from; i < len(sp.IPFamilies); i++ {
		f := sp.IPFamilies[i]
		al := t.r.ips[f]
		if i < len(sp.ClusterIPs) && sp.ClusterIPs[i] != "" {
			a, _ := parseIP(sp.ClusterIPs[i]) // validated
			if err := al.Allocate(a); err != nil {
				t.errs = append(t.errs, Invalid(fmt.Sprintf("spec.clusterIPs[%d]", i), sp.ClusterIPs[i], t.ipRule(err, sp.ClusterIPs[i], f)))
				continue
			}
			t.ips = append(t.ips, a)
			continue
		}
		a, err := al.AllocateNext()
		if err != nil {
			return t.fail("a "+string(f)+" clusterIP", err)
		}
		t.ips = append(t.ips, a)
		if i < len(sp.ClusterIPs) {
			sp.ClusterIPs[i] = a.String()
		} else if i == 0 && t.room != nil {
			t.firstIP = a // its string is written by stamp
			sp.ClusterIPs = t.room.clusterIPs[:1:1]
		} else {
			sp.ClusterIPs = append(sp.ClusterIPs, a.String())
		}
	}
	if len(sp.ClusterIPs) > 0 {
		sp.ClusterIP = sp.ClusterIPs[0]
	}
	return nil
}

// freeClusterIPs schedules the release of every clusterIP old holds.
func (t *txn) freeClusterIPs(old *Service) {
	if old.Spec.Type == ServiceTypeExternalName {
		return
	}
	for _, s := range old.Spec.ClusterIPs {
		if a, err := netip.ParseAddr(s); err == nil {
			t.freeIPs = append(t.freeIPs, a)
		}
	}
}

// heldNodePorts returns the distinct nodePorts of svc's ports, in port
// order (not the healthCheckNodePort).
func heldNodePorts(svc *Service) []int32 {
	var out []int32
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 && !containsInt32(out, p.NodePort) {
			out = append(out, p.NodePort)
		}
	}
	return out
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// nodePorts gives every port of svc its nodePort, as Kubernetes'
// initNodePorts (create) and updateNodePorts (update) do: a requested
// nodePort is claimed unless old already holds it; a port without one
// gets one when the type allocates them (NodePort, LoadBalancer unless
// allocateLoadBalancerNodePorts is false), shared with the other ports of
// the same port number (TCP and UDP 53 share one nodePort), else the next
// free one. old's nodePorts that svc no longer uses are released on
// commit.
//
// Two deliberate differences: svcnet claims every requested nodePort
// before it allocates any, so that a port's random pick never takes the
// value a sibling port asks for (Kubernetes then rejects the request as
// "already allocated"); and it shares a nodePort between protocols on
// update too (Kubernetes' updateNodePorts has no such lookup, so a
// ClusterIP Service with TCP and UDP 53 turned NodePort gets two), so
// that a Service's nodePorts do not depend on its history.
func (t *txn) nodePorts(svc, old *Service) error {
	ports := svc.Spec.Ports
	var oldHeld []int32
	if old != nil {
		oldHeld = heldNodePorts(old)
	}
	var buf [8]int32
	held := buf[:0]
	for i := range ports {
		np := ports[i].NodePort
		if np == 0 || containsInt32(held, np) {
			continue
		}
		if !containsInt32(oldHeld, np) {
			if err := t.r.ports.Allocate(int(np)); err != nil {
				t.errs = append(t.errs, Invalid(fmt.Sprintf("spec.ports[%d].nodePort", i), np, t.portRule(err)))
				continue
			}
			t.ports = append(t.ports, int(np))
		}
		held = append(held, np)
	}
	if svc.UsesNodePorts() { // else: allocate none, but honour explicit requests
		for i := range ports {
			p := &ports[i]
			if p.NodePort != 0 {
				continue
			}
			if np := sharedNodePort(ports, i); np != 0 {
				p.NodePort = np
				continue
			}
			n, err := t.r.ports.AllocateNext()
			if err != nil {
				return t.fail("a nodePort", err)
			}
			t.ports = append(t.ports, n)
			p.NodePort = int32(n)
			held = append(held, p.NodePort)
		}
	}
	for _, np := range oldHeld {
		if !containsInt32(held, np) {
			t.freePorts = append(t.freePorts, int(np))
		}
	}
	return nil
}

// sharedNodePort returns the nodePort of another port with the same port
// number as port i (initNodePorts' svcPortToNodePort and
// findRequestedNodePort), unless a port of i's protocol already uses it;
// else 0.
func sharedNodePort(ports []ServicePort, i int) int32 {
	for j, q := range ports {
		if j == i || q.Port != ports[i].Port || q.NodePort == 0 {
			continue
		}
		taken := false
		for _, o := range ports {
			if o.Protocol == ports[i].Protocol && o.NodePort == q.NodePort {
				taken = true
			}
		}
		if !taken {
			return q.NodePort
		}
	}
	return 0
}

// healthCheckNodePort follows externalTrafficPolicy as Kubernetes'
// updateHealthCheckNodePort: a Service that starts needing one (a
// LoadBalancer with policy Local) gets the requested port or the next; one
// that stops releases it on commit. While needed it is immutable.
func (t *txn) healthCheckNodePort(svc, old *Service) error {
	oldNeeds := old != nil && old.NeedsHealthCheck()
	switch needs := svc.NeedsHealthCheck(); {
	case needs && !oldNeeds:
		if hc := svc.Spec.HealthCheckNodePort; hc != 0 {
			if err := t.r.ports.Allocate(int(hc)); err != nil {
				t.errs = append(t.errs, Invalid("spec.healthCheckNodePort", hc, t.portRule(err)))
				return nil
			}
			t.ports = append(t.ports, int(hc))
			return nil
		}
		n, err := t.r.ports.AllocateNext()
		if err != nil {
			return t.fail("a healthCheckNodePort", err)
		}
		t.ports = append(t.ports, n)
		svc.Spec.HealthCheckNodePort = int32(n)
	case oldNeeds && !needs && old.Spec.HealthCheckNodePort != 0:
		t.freePorts = append(t.freePorts, int(old.Spec.HealthCheckNodePort))
	}
	return nil
}

// loadBalancer asks the provider for svc's load balancer, or to delete
// old's when svc no longer has one the provider handles.
func (t *txn) loadBalancer(svc, old *Service) error {
	r := t.r
	switch {
	case r.providerHandles(svc):
		t.stamp(svc, 0)
		st, err := r.provider.EnsureLoadBalancer(svc.DeepCopy())
		if err != nil {
			return &RegistryError{Op: t.op, Key: t.key, Err: fmt.Errorf("%w: %w", ErrProvider, err)}
		}
		svc.Status.LoadBalancer = (&ServiceStatus{LoadBalancer: st}).DeepCopy().LoadBalancer
		for i, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" && in.IPMode == nil {
				m := "VIP"
				svc.Status.LoadBalancer.Ingress[i].IPMode = &m
			}
		}
	case old != nil && r.providerHandles(old):
		if err := r.provider.EnsureLoadBalancerDeleted(old.DeepCopy()); err != nil {
			return &RegistryError{Op: t.op, Key: t.key, Err: fmt.Errorf("%w: %w", ErrProvider, err)}
		}
	}
	return nil
}

// releaseAll releases everything svc holds, as Kubernetes'
// releaseAllocatedResources does after a delete. A value outside the
// allocators' ranges (only a Service restored from a snapshot can hold
// one, and Repair reports it) was never held and is skipped.
func (r *Registry) releaseAll(svc *Service) {
	if svc.Spec.Type != ServiceTypeExternalName {
		for _, s := range svc.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(s); err == nil {
				if al := r.ips[familyOf(a)]; al != nil {
					_ = al.Release(a)
				}
			}
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			_ = r.ports.Release(int(p.NodePort)) // releasing twice is harmless
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		_ = r.ports.Release(int(svc.Spec.HealthCheckNodePort))
	}
}
