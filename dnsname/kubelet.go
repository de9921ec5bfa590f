package dnsname

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/svcnet/svcnet/service"
)

// Kubelet's limits on a pod's resolver configuration
// (pkg/apis/core/validation: MaxDNSNameservers, MaxDNSSearchPaths and
// MaxDNSSearchListChars, the last two as raised by KEP-2595
// ExpandedDNSConfig, GA in Kubernetes 1.28).
const (
	// MaxDNSNameservers is the most nameservers a pod gets (glibc's MAXNS).
	MaxDNSNameservers = 3
	// MaxDNSSearchPaths is the most search domains a pod gets.
	MaxDNSSearchPaths = 32
	// MaxDNSSearchListChars is the longest search line, domains joined by spaces.
	MaxDNSSearchListChars = 2048
)

// ClusterFirstNdots is the ndots kubelet gives ClusterFirst pods
// (defaultDNSOptions in pkg/kubelet/network/dns): enough that
// "svc.ns.svc" still goes through the search list.
const ClusterFirstNdots = 5

// The pod DNS policies (v1.DNSPolicy).
const (
	DNSClusterFirst            = "ClusterFirst"
	DNSClusterFirstWithHostNet = "ClusterFirstWithHostNet"
	DNSDefault                 = "Default"
	DNSNone                    = "None"
)

// Kubelet is the part of a kubelet's configuration that forms pods'
// resolv.conf: --cluster-domain, --cluster-dns and the node's own
// resolv.conf (--resolv-conf). The zero value has the default cluster
// domain, no cluster DNS server and an empty host configuration.
type Kubelet struct {
	// ClusterDomain is the cluster zone; "" means DefaultZone.
	ClusterDomain string
	// ClusterDNS are the cluster DNS Service's addresses. Without them a
	// ClusterFirst pod falls back to the Default policy, as in kubelet.
	ClusterDNS []netip.Addr
	// Host is the node's resolver configuration.
	Host ResolvConf
}

// ClusterFirst returns the resolv.conf of a pod in namespace with
// dnsPolicy ClusterFirst and no dnsConfig: the cluster DNS servers, the
// search list <ns>.svc.<zone> svc.<zone> <zone> followed by the host's
// search domains (duplicates dropped), and ndots:5, cut to kubelet's
// limits.
func (k Kubelet) ClusterFirst(namespace string) ResolvConf {
	c, _ := k.PodResolvConf(&service.Pod{ObjectMeta: service.ObjectMeta{Namespace: namespace}})
	return c
}

// PodResolvConf returns the resolv.conf kubelet writes for pod, following
// GetPodDNS in pkg/kubelet/network/dns:
//
//   - ClusterFirst (the default; also an unknown policy, as kubelet falls
//     back to it): the cluster DNS servers, the cluster search list and
//     ndots:5 — or, for a hostNetwork pod or without cluster DNS servers,
//     the Default policy;
//   - ClusterFirstWithHostNet: as ClusterFirst, hostNetwork or not;
//   - Default: the host's configuration;
//   - None: nothing but the pod's dnsConfig.
//
// The pod's spec.dnsConfig is then appended: nameservers and searches
// with duplicates dropped, options merged by name with the pod's winning.
// Kubelet emits merged options in Go map order; they are sorted by name
// here so that the result is deterministic. Finally kubelet's limits
// apply: at most 3 nameservers; at most 32 search domains, none longer
// than 253 characters, and domains cut from the end until the search line
// is at most 2048 characters (the cut ones go to Omitted).
//
// A dnsConfig nameserver that is not an IP address is an error wrapping
// ErrInvalidObject (Kubernetes' validation would have rejected the pod).
func (k Kubelet) PodResolvConf(pod *service.Pod) (ResolvConf, error) {
	zone := normalizeZone(k.ClusterDomain)
	ns := pod.Namespace
	if ns == "" {
		ns = "default"
	}
	var c ResolvConf
	host := ResolvConf{
		Nameservers: slices.Clone(k.Host.Nameservers),
		Search:      slices.Clone(k.Host.Search),
		Options:     slices.Clone(k.Host.Options),
	}
	policy := pod.Spec.DNSPolicy
	cluster := false
	switch policy {
	case DNSNone:
	case DNSDefault:
		c = host
	case DNSClusterFirstWithHostNet:
		cluster = true
	default: // ClusterFirst, "", or unknown
		cluster = !pod.Spec.HostNetwork
		if !cluster {
			c = host
		}
	}
	if cluster {
		if len(k.ClusterDNS) == 0 {
			c = host
		} else {
			c.Nameservers = slices.Clone(k.ClusterDNS)
			c.Search = omitDuplicates(append([]string{ns + ".svc." + zone, "svc." + zone, zone}, host.Search...))
			c.Options = []string{fmt.Sprintf("ndots:%d", ClusterFirstNdots)}
		}
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		for _, s := range dc.Nameservers {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return ResolvConf{}, fmt.Errorf("%w: pod %q: spec.dnsConfig.nameservers: %q is not an IP address", ErrInvalidObject, ns+"/"+pod.Name, s)
			}
			if !slices.Contains(c.Nameservers, a) {
				c.Nameservers = append(c.Nameservers, a)
			}
		}
		c.Search = omitDuplicates(append(c.Search, dc.Searches...))
		c.Options = mergeOptions(c.Options, dc.Options)
	}
	if len(c.Nameservers) > MaxDNSNameservers {
		c.Nameservers = c.Nameservers[:MaxDNSNameservers]
	}
	c.Search, c.Omitted = fitSearch(c.Search)
	return c, nil
}

func omitDuplicates(s []string) []string {
	out := s[:0]
	seen := make(map[string]bool, len(s))
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// mergeOptions merges the pod's options over the existing ones by name
// (mergeDNSOptions in kubelet), sorted by name.
func mergeOptions(existing []string, pod []service.PodDNSConfigOption) []string {
	m := make(map[string]string)
	for _, o := range existing {
		name, value, _ := strings.Cut(o, ":")
		m[name] = value
	}
	for _, o := range pod {
		m[o.Name] = ""
		if o.Value != nil {
			m[o.Name] = *o.Value
		}
	}
	out := make([]string, 0, len(m))
	for name, value := range m {
		if value != "" {
			name += ":" + value
		}
		out = append(out, name)
	}
	slices.SortFunc(out, func(a, b string) int {
		an, _, _ := strings.Cut(a, ":")
		bn, _, _ := strings.Cut(b, ":")
		return cmp.Compare(an, bn)
	})
	return out
}

// fitSearch applies kubelet's search limits (formDNSSearchFitsLimits):
// the first 32 domains, without any longer than 253 characters, then
// domains cut from the end until the line fits in 2048 characters.
func fitSearch(search []string) (kept, omitted []string) {
	if len(search) > MaxDNSSearchPaths {
		omitted = append(omitted, search[MaxDNSSearchPaths:]...)
		search = search[:MaxDNSSearchPaths]
	}
	kept = search[:0:0]
	for _, s := range search {
		if len(s) > MaxNameLength {
			omitted = append(omitted, s)
			continue
		}
		kept = append(kept, s)
	}
	line := len(strings.Join(kept, " "))
	cut := len(kept)
	for line > MaxDNSSearchListChars {
		cut--
		line -= len(kept[cut]) + 1
	}
	omitted = append(omitted, kept[cut:]...)
	return kept[:cut], omitted
}
