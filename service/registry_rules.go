package service

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/svcnet/svcnet/internal/k8sname"
)

// This file holds the rules of kube-apiserver's Service storage that are
// not allocation: the IP-family initialisation of KEP-563
// (initIPFamilyFields in pkg/registry/core/service/storage/alloc.go), the
// update fix-ups of storage.go (patchAllocatedValues, normalizeClusterIPs)
// and of the REST strategy (dropTypeDependentFields in
// pkg/registry/core/service/strategy.go), and the update-only validation
// of pkg/apis/core/validation (ValidateServiceUpdate,
// ValidateLoadBalancerStatus). They are written afresh from those sources.

// fieldErrors returns the FieldErrors of a *ValidationError, or nil.
func fieldErrors(err error) ErrorList {
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Errors
	}
	return nil
}

func otherFamily(f IPFamily) IPFamily {
	if f == IPv4Protocol {
		return IPv6Protocol
	}
	return IPv4Protocol
}

func policyOf(svc *Service) IPFamilyPolicy {
	if svc.Spec.IPFamilyPolicy == nil {
		return ""
	}
	return *svc.Spec.IPFamilyPolicy
}

// setPolicy sets svc's ipFamilyPolicy, in room (the pack svc lives in,
// whose policy is free while svc has none) when it is not nil.
func setPolicy(svc *Service, p IPFamilyPolicy, room *servicePack) {
	if room != nil {
		room.policy = p
		svc.Spec.IPFamilyPolicy = &room.policy
		return
	}
	v := p // not &p: that would move p to the heap on both paths
	svc.Spec.IPFamilyPolicy = &v
}

func sameClusterIPs(a, b *Service) bool { return slices.Equal(a.Spec.ClusterIPs, b.Spec.ClusterIPs) }

func sameIPFamilies(a, b *Service) bool { return slices.Equal(a.Spec.IPFamilies, b.Spec.IPFamilies) }

// needsClusterIP reports whether svc's type gets clusterIPs (even "None").
func needsClusterIP(svc *Service) bool { return svc.Spec.Type != ServiceTypeExternalName }

// isMatchingPreferDualStack reports whether an update leaves a
// PreferDualStack Service's cluster-IP fields as they were: such a Service
// is never upgraded or downgraded behind the user's back when the cluster
// gains or loses a family (alloc.go, isMatchingPreferDualStackClusterIPFields).
func isMatchingPreferDualStack(svc, old *Service) bool {
	if old == nil || svc.Spec.IPFamilyPolicy == nil || old.Spec.Type != svc.Spec.Type || !needsClusterIP(svc) {
		return false
	}
	return policyOf(svc) == IPFamilyPolicyPreferDualStack && policyOf(old) == IPFamilyPolicyPreferDualStack &&
		sameClusterIPs(old, svc) && sameIPFamilies(old, svc)
}

// prepareIPFamilyPolicy is the part of Kubernetes' initIPFamilyFields
// that must precede validation: a missing ipFamilyPolicy becomes the
// stored one on update, RequireDualStack for a headless Service without
// selector, SingleStack otherwise; and, on update, switching to
// SingleStack with unchanged clusterIPs and ipFamilies drops the secondary
// ones (the downgrade; the primary is immutable, so keeping it is safe).
func prepareIPFamilyPolicy(svc, old *Service, room *servicePack) {
	sp := &svc.Spec
	if sp.Type == ServiceTypeExternalName || isMatchingPreferDualStack(svc, old) {
		return
	}
	if sp.IPFamilyPolicy == nil {
		switch {
		case old != nil && old.Spec.IPFamilyPolicy != nil:
			setPolicy(svc, *old.Spec.IPFamilyPolicy, room)
		case sp.ClusterIP == ClusterIPNone && len(sp.Selector) == 0:
			setPolicy(svc, IPFamilyPolicyRequireDualStack, room)
		default:
			setPolicy(svc, IPFamilyPolicySingleStack, room)
		}
	}
	if old != nil && policyOf(svc) == IPFamilyPolicySingleStack {
		if sameClusterIPs(old, svc) && len(sp.ClusterIPs) > 1 {
			sp.ClusterIPs = sp.ClusterIPs[:1]
		}
		if sameIPFamilies(old, svc) && len(sp.IPFamilies) > 1 {
			sp.IPFamilies = sp.IPFamilies[:1]
		}
	}
}

// initIPFamilyFields settles ipFamilies against the cluster's families
// for a Service that prepareIPFamilyPolicy prepared and Validate accepted,
// as Kubernetes does before it allocates (alloc.go, initIPFamilyFields):
//
//   - families are inferred from clusterIPs, must be configured on the
//     cluster, and default to the primary family;
//   - PreferDualStack and RequireDualStack get both families on a
//     dual-stack cluster; RequireDualStack is an error on a single-stack one;
//   - on update, dropping the secondary clusterIP or family under a
//     policy other than SingleStack is an error.
//
// Headless Services without selector may have both families even on a
// single-stack cluster (their endpoints are the user's). It returns the
// problems as FieldErrors.
func (r *Registry) initIPFamilyFields(svc, old *Service, room *servicePack) ErrorList {
	sp := &svc.Spec
	if sp.Type == ServiceTypeExternalName || isMatchingPreferDualStack(svc, old) {
		return nil
	}
	headlessSelectorless := sp.ClusterIP == ClusterIPNone && len(sp.Selector) == 0
	policy := policyOf(svc)
	var errs ErrorList
	if old != nil && policy != IPFamilyPolicySingleStack {
		if len(sp.ClusterIPs) != 0 && len(sp.ClusterIPs) < len(old.Spec.ClusterIPs) {
			errs = append(errs, Invalid("spec.ipFamilyPolicy", string(policy), "must be 'SingleStack' to release the secondary cluster IP"))
		}
		if len(sp.IPFamilies) != 0 && len(sp.IPFamilies) < len(old.Spec.IPFamilies) {
			errs = append(errs, Invalid("spec.ipFamilyPolicy", string(policy), "must be 'SingleStack' to release the secondary IP family"))
		}
	}
	for i, s := range sp.ClusterIPs {
		if s == ClusterIPNone {
			break
		}
		a, msg := parseIP(s)
		if msg != "" {
			break // Validate reports it
		}
		if i < len(sp.IPFamilies) {
			continue
		}
		f := familyOf(a)
		if r.ips[f] == nil {
			errs = append(errs, Invalid(fmt.Sprintf("spec.clusterIPs[%d]", i), s, string(f)+" is not configured on this cluster"))
		} else {
			sp.IPFamilies = append(sp.IPFamilies, f)
		}
	}
	if len(errs) > 0 {
		return errs
	}

	if headlessSelectorless {
		if len(sp.IPFamilies) == 0 {
			sp.IPFamilies = primaryFamily(r.families[0], room)
		}
		if len(sp.IPFamilies) == 1 && policy != IPFamilyPolicySingleStack {
			sp.IPFamilies = append(sp.IPFamilies, otherFamily(sp.IPFamilies[0]))
		}
		return nil
	}
	if policy == IPFamilyPolicyRequireDualStack && len(r.families) < 2 {
		errs = append(errs, Invalid("spec.ipFamilyPolicy", string(policy), "this cluster is not configured for dual-stack services"))
	}
	for i, f := range sp.IPFamilies {
		if r.ips[f] == nil && (f == IPv4Protocol || f == IPv6Protocol) {
			errs = append(errs, Invalid(fmt.Sprintf("spec.ipFamilies[%d]", i), string(f), "not configured on this cluster"))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if len(sp.IPFamilies) == 0 {
		sp.IPFamilies = primaryFamily(r.families[0], room)
	}
	if policy != IPFamilyPolicySingleStack && len(sp.IPFamilies) == 1 && len(r.families) == 2 {
		if f := sp.IPFamilies[0]; f == IPv4Protocol || f == IPv6Protocol {
			sp.IPFamilies = append(sp.IPFamilies, otherFamily(f))
		}
	}
	return nil
}

// patchAllocatedValues keeps, on update, the values the Registry
// allocated and svc leaves empty, so that resubmitting the manifest a
// Service was created from succeeds (storage.go, patchAllocatedValues):
// clusterIP(s), nodePorts matched by port name (unless the value is in use
// by another port of svc), and healthCheckNodePort.
func patchAllocatedValues(svc, old *Service) {
	if needsClusterIP(old) && needsClusterIP(svc) {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = old.Spec.ClusterIP
		}
		if len(svc.Spec.ClusterIPs) == 0 && len(old.Spec.ClusterIPs) > 0 {
			svc.Spec.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
		}
	}
	if old.UsesNodePorts() && svc.UsesNodePorts() {
		used := map[int32]bool{}
		oldUsed := map[int32]bool{}
		for _, p := range old.Spec.Ports {
			oldUsed[p.NodePort] = p.NodePort != 0
		}
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 && oldUsed[p.NodePort] {
				used[p.NodePort] = true
			}
		}
		byName := map[string]int32{}
		for _, p := range old.Spec.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if v := byName[p.Name]; p.NodePort == 0 && !used[v] {
				p.NodePort = v
			}
		}
	}
	if old.NeedsHealthCheck() && svc.Spec.Type == ServiceTypeLoadBalancer &&
		(svc.Spec.ExternalTrafficPolicy == TrafficPolicyLocal) && svc.Spec.HealthCheckNodePort == 0 {
		svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
	}
}

// normalizeClusterIPs reconciles clusterIP and clusterIPs on update the
// way Kubernetes does for clients that know only the singular field
// (storage.go, normalizeClusterIPs). On create, Default does it.
func normalizeClusterIPs(svc, old *Service) {
	sp := &svc.Spec
	if len(old.Spec.ClusterIPs) > 0 && len(sp.ClusterIPs) == 0 && old.Spec.ClusterIP == sp.ClusterIP {
		sp.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
	}
	if old.Spec.ClusterIP != sp.ClusterIP {
		switch {
		case old.Spec.ClusterIP != "" && sp.ClusterIP == "":
			if sameClusterIPs(old, svc) {
				sp.ClusterIPs = nil
			}
		case sameClusterIPs(old, svc):
			sp.ClusterIPs = []string{sp.ClusterIP}
		}
	}
}

// dropTypeDependentFields clears, on a change of type, the fields that no
// longer apply and that svc did not change from the stored Service, so
// that they are released rather than rejected (strategy.go,
// dropTypeDependentFields): clusterIPs, families and policy when leaving
// for ExternalName; nodePorts, healthCheckNodePort,
// allocateLoadBalancerNodePorts, loadBalancerClass and
// externalTrafficPolicy when they stop applying; the load-balancer status
// of a Service that is no longer a LoadBalancer. svcnet also drops
// internalTrafficPolicy from ExternalName Services, which Kubernetes drops
// on every read.
func dropTypeDependentFields(svc, old *Service) {
	sp, op := &svc.Spec, &old.Spec
	if needsClusterIP(old) && !needsClusterIP(svc) {
		if sp.ClusterIP == op.ClusterIP && sameClusterIPs(old, svc) {
			sp.ClusterIP, sp.ClusterIPs = "", nil
		}
		if sameIPFamilies(old, svc) {
			sp.IPFamilies = nil
		}
		if policyOf(old) == policyOf(svc) {
			sp.IPFamilyPolicy = nil
		}
	}
	hasNodePortType := func(s *Service) bool {
		return s.Spec.Type == ServiceTypeNodePort || s.Spec.Type == ServiceTypeLoadBalancer
	}
	if hasNodePortType(old) && !hasNodePortType(svc) {
		oldPorts := map[int32]bool{}
		for _, p := range op.Ports {
			oldPorts[p.NodePort] = true
		}
		same := true // svc adds no nodePort of its own
		for _, p := range sp.Ports {
			if p.NodePort != 0 && !oldPorts[p.NodePort] {
				same = false
			}
		}
		if same {
			for i := range sp.Ports {
				sp.Ports[i].NodePort = 0
			}
		}
	}
	if old.NeedsHealthCheck() && !svc.NeedsHealthCheck() && sp.HealthCheckNodePort == op.HealthCheckNodePort {
		sp.HealthCheckNodePort = 0
	}
	if op.Type == ServiceTypeLoadBalancer && sp.Type != ServiceTypeLoadBalancer {
		if a, b := op.AllocateLoadBalancerNodePorts, sp.AllocateLoadBalancerNodePorts; a != nil && b != nil && *a == *b {
			sp.AllocateLoadBalancerNodePorts = nil
		}
		if a, b := op.LoadBalancerClass, sp.LoadBalancerClass; a == nil && b == nil || a != nil && b != nil && *a == *b {
			sp.LoadBalancerClass = nil
		}
	}
	if old.ExternallyAccessible() && !svc.ExternallyAccessible() && sp.ExternalTrafficPolicy == op.ExternalTrafficPolicy {
		sp.ExternalTrafficPolicy = ""
	}
	if sp.Type != ServiceTypeLoadBalancer {
		svc.Status.LoadBalancer = LoadBalancerStatus{}
	}
	if sp.Type == ServiceTypeExternalName {
		sp.InternalTrafficPolicy = nil
	}
}

// validateUpdate holds the rules of ValidateServiceUpdate that compare
// with the stored Service: the primary clusterIP and family never change
// and the secondary ones are only added or released (outside moves to or
// from ExternalName and headless); healthCheckNodePort is immutable while
// needed; loadBalancerClass is immutable while a LoadBalancer.
func validateUpdate(svc, old *Service) ErrorList {
	var errs ErrorList
	sp, op := &svc.Spec, &old.Spec
	if sp.Type != ServiceTypeExternalName && op.Type != ServiceTypeExternalName {
		newHeadless, oldHeadless := isHeadlessIPs(svc), isHeadlessIPs(old)
		if !(newHeadless && oldHeadless) {
			switch {
			case len(op.ClusterIPs) == len(sp.ClusterIPs):
				for i, ip := range op.ClusterIPs {
					if ip != sp.ClusterIPs[i] {
						errs = append(errs, Invalid(fmt.Sprintf("spec.clusterIPs[%d]", i), sp.ClusterIPs[i], "may not change once set"))
					}
				}
			case len(op.ClusterIPs) > len(sp.ClusterIPs):
				if len(sp.ClusterIPs) == 0 {
					errs = append(errs, Invalid("spec.clusterIPs[0]", sp.ClusterIPs, "primary clusterIP can not be unset"))
				} else if sp.ClusterIPs[0] != op.ClusterIPs[0] {
					errs = append(errs, Invalid("spec.clusterIPs[0]", sp.ClusterIPs[0], "may not change once set"))
				}
				if len(sp.ClusterIPs) == 1 && policyOf(svc) != IPFamilyPolicySingleStack {
					errs = append(errs, Invalid("spec.ipFamilyPolicy", string(policyOf(svc)), "must be set to 'SingleStack' when releasing the secondary clusterIP"))
				}
			default:
				if len(op.ClusterIPs) > 0 && sp.ClusterIPs[0] != op.ClusterIPs[0] {
					errs = append(errs, Invalid("spec.clusterIPs[0]", sp.ClusterIPs[0], "may not change once set"))
				}
			}
		}
		if newHeadless == oldHeadless && !newHeadless {
			switch {
			case len(op.IPFamilies) == len(sp.IPFamilies):
				for i, f := range op.IPFamilies {
					if f != sp.IPFamilies[i] {
						errs = append(errs, Invalid(fmt.Sprintf("spec.ipFamilies[%d]", i), string(sp.IPFamilies[i]), "may not change once set"))
					}
				}
			case len(op.IPFamilies) > len(sp.IPFamilies):
				if len(sp.IPFamilies) > 0 && sp.IPFamilies[0] != op.IPFamilies[0] {
					errs = append(errs, Invalid("spec.ipFamilies[0]", string(sp.IPFamilies[0]), "may not change once set"))
				}
				if len(sp.IPFamilies) == 1 && policyOf(svc) != IPFamilyPolicySingleStack {
					errs = append(errs, Invalid("spec.ipFamilyPolicy", string(policyOf(svc)), "must be set to 'SingleStack' when releasing the secondary ipFamily"))
				}
			default:
				if len(op.IPFamilies) > 0 && len(sp.IPFamilies) > 0 && sp.IPFamilies[0] != op.IPFamilies[0] {
					errs = append(errs, Invalid("spec.ipFamilies[0]", string(sp.IPFamilies[0]), "may not change once set"))
				}
			}
		}
	}
	if old.NeedsHealthCheck() && svc.NeedsHealthCheck() && sp.HealthCheckNodePort != op.HealthCheckNodePort {
		errs = append(errs, Invalid("spec.healthCheckNodePort", sp.HealthCheckNodePort, "field is immutable"))
	}
	if op.Type == ServiceTypeLoadBalancer && sp.Type == ServiceTypeLoadBalancer {
		a, b := op.LoadBalancerClass, sp.LoadBalancerClass
		if (a == nil) != (b == nil) || a != nil && *a != *b {
			var v any
			if b != nil {
				v = *b
			} else {
				v = "<nil>"
			}
			errs = append(errs, Invalid("spec.loadBalancerClass", v, "may not change once set"))
		}
	}
	return errs
}

// isHeadlessIPs is Kubernetes' isHeadlessService: clusterIPs is ["None"].
func isHeadlessIPs(svc *Service) bool {
	return len(svc.Spec.ClusterIPs) == 1 && svc.Spec.ClusterIPs[0] == ClusterIPNone
}

// validateStatus is Kubernetes' ValidateLoadBalancerStatus, plus the
// shape of conditions.
func validateStatus(svc *Service) ErrorList {
	var errs ErrorList
	ing := svc.Status.LoadBalancer.Ingress
	if svc.Spec.Type != ServiceTypeLoadBalancer && len(ing) != 0 {
		errs = append(errs, Invalid("status.loadBalancer.ingress", len(ing), "may only be used when `spec.type` is 'LoadBalancer'"))
	}
	for i, in := range ing {
		path := fmt.Sprintf("status.loadBalancer.ingress[%d]", i)
		if in.IP != "" {
			if _, msg := parseIP(in.IP); msg != "" {
				errs = append(errs, Invalid(path+".ip", in.IP, msg))
			}
		}
		switch {
		case in.IPMode == nil && in.IP != "":
			errs = append(errs, Required(path+".ipMode", "must be specified when `ip` is set"))
		case in.IPMode != nil && in.IP == "":
			errs = append(errs, Invalid(path+".ipMode", *in.IPMode, "may not be specified when `ip` is not set"))
		case in.IPMode != nil && *in.IPMode != "VIP" && *in.IPMode != "Proxy":
			errs = append(errs, Invalid(path+".ipMode", *in.IPMode, notSupported("Proxy", "VIP")))
		}
		if in.Hostname != "" {
			v := validator{}
			v.check(path+".hostname", in.Hostname, k8sname.DNS1123Subdomain(in.Hostname))
			errs = append(errs, v.errs...)
			if _, err := netip.ParseAddr(in.Hostname); err == nil {
				errs = append(errs, Invalid(path+".hostname", in.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	for i, c := range svc.Status.Conditions {
		path := fmt.Sprintf("status.conditions[%d]", i)
		if c.Type == "" {
			errs = append(errs, Required(path+".type", "type is required"))
		}
		switch c.Status {
		case ConditionTrue, ConditionFalse, "Unknown":
		default:
			errs = append(errs, Invalid(path+".status", c.Status, notSupported("False", "True", "Unknown")))
		}
	}
	return errs
}

// checkPolicy applies the external-IP policy; old is nil on create.
func (r *Registry) checkPolicy(svc, old *Service) error {
	if errs := r.policy.Check(svc, old); len(errs) > 0 {
		ve := errs.Err().(*ValidationError)
		ve.Kind, ve.Name = "Service", svc.Key().String()
		return &forbiddenError{ve: ve}
	}
	return nil
}

// primaryFamily returns the one-element ipFamilies [f], in room (see
// setPolicy; its families are free while the Service has none) when it is
// not nil.
func primaryFamily(f IPFamily, room *servicePack) []IPFamily {
	if room == nil {
		return []IPFamily{f}
	}
	room.families[0] = f
	return room.families[:1:1]
}
