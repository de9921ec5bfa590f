package service

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ExternalIPPolicy decides which spec.externalIPs a Registry accepts.
//
// spec.externalIPs lets anyone who may create a Service capture traffic to
// any address, including another tenant's (CVE-2020-8554). Kubernetes'
// mitigation is the DenyServiceExternalIPs admission plugin
// (plugin/pkg/admission/network/denyserviceexternalips): a Service may not
// gain an external IP, though an update may keep the ones it already has,
// so that enabling the plugin breaks no existing Service. The zero
// ExternalIPPolicy is exactly that plugin. Allow is the opt-in: external IPs
// inside one of its prefixes are accepted, like the allow-list of the
// externalip-webhook that Kubernetes suggests for clusters that need them.
//
// The other half of CVE-2020-8554 is status.loadBalancer.ingress: when no
// provider handles a LoadBalancer Service, UpdateStatus (the status
// subresource) accepts any valid ingress IP, as Kubernetes does, where
// only RBAC on services/status guards it. A Registry embedded in a
// program that lets less trusted code write status can restrict those
// addresses with IngressAllow: set, a new ingress IP written through
// UpdateStatus must lie in one of its prefixes (an update may keep the
// ones the Service already has). The provider's own ingress is not
// checked: the provider owns its pools.
//
// An ExternalIPPolicy is a plain value, safe to share once built.
type ExternalIPPolicy struct {
	// Allow lists the prefixes new external IPs may come from. Empty (the
	// zero value) denies every new external IP.
	Allow []netip.Prefix
	// IngressAllow, when not empty, lists the prefixes new
	// status.loadBalancer.ingress IPs written through UpdateStatus may
	// come from. Empty (the zero value) accepts any valid ingress IP, as
	// Kubernetes does.
	IngressAllow []netip.Prefix
}

// AllowAllExternalIPs returns the policy of a cluster without the
// DenyServiceExternalIPs plugin: every valid external IP is accepted.
// It reopens CVE-2020-8554; use it only where every Service author is
// trusted.
func AllowAllExternalIPs() ExternalIPPolicy {
	return ExternalIPPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}
}

// Allows reports whether ip may be added as an external IP.
func (p ExternalIPPolicy) Allows(ip netip.Addr) bool { return anyContains(p.Allow, ip) }

// anyContains reports whether one of ps holds ip.
func anyContains(ps []netip.Prefix, ip netip.Addr) bool {
	return slices.ContainsFunc(ps, func(pre netip.Prefix) bool { return pre.Contains(ip) })
}

// Check reports the externalIPs of svc that the policy denies, as a
// FieldError each. old is the stored Service on an update (nil on create):
// its externalIPs stay allowed, as in DenyServiceExternalIPs' isSubset.
// Entries that are not valid IPs are left to Validate.
func (p ExternalIPPolicy) Check(svc, old *Service) ErrorList {
	var errs ErrorList
	for i, s := range svc.Spec.ExternalIPs {
		if old != nil && slices.Contains(old.Spec.ExternalIPs, s) {
			continue
		}
		ip, msg := parseIP(s)
		if msg != "" || p.Allows(ip) {
			continue
		}
		rule := "use of external IPs is denied by policy (DenyServiceExternalIPs, CVE-2020-8554)"
		if len(p.Allow) > 0 {
			rule = "must be in one of the allowed prefixes " + p.String()
		}
		errs = append(errs, Invalid(fmt.Sprintf("spec.externalIPs[%d]", i), s, rule))
	}
	return errs
}

// CheckIngress reports the status.loadBalancer.ingress IPs of svc that
// IngressAllow denies, as a FieldError each; old is the stored Service,
// whose ingress IPs stay allowed. With IngressAllow empty it reports
// nothing. Entries that are not valid IPs are left to validation.
func (p ExternalIPPolicy) CheckIngress(svc, old *Service) ErrorList {
	if len(p.IngressAllow) == 0 {
		return nil
	}
	var errs ErrorList
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IP == "" || (old != nil && slices.ContainsFunc(old.Status.LoadBalancer.Ingress, func(o LoadBalancerIngress) bool { return o.IP == ing.IP })) {
			continue
		}
		ip, msg := parseIP(ing.IP)
		if msg != "" || anyContains(p.IngressAllow, ip) {
			continue
		}
		errs = append(errs, Invalid(fmt.Sprintf("status.loadBalancer.ingress[%d].ip", i), ing.IP,
			"must be in one of the allowed ingress prefixes "+prefixList(p.IngressAllow)))
	}
	return errs
}

// String lists the allowed prefixes, comma-separated, or "none".
func (p ExternalIPPolicy) String() string {
	if len(p.Allow) == 0 {
		return "none"
	}
	return prefixList(p.Allow)
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, pre := range ps {
		s[i] = pre.String()
	}
	return strings.Join(s, ",")
}
