package dnsname

import "strconv"

// TTL limits, as CoreDNS's kubernetes plugin has them (the "ttl" option:
// default 5 seconds, 0 to 3600).
const (
	DefaultTTL = 5
	MaxTTL     = 3600
)

// versionTTL is the TTL of the dns-version TXT record: CoreDNS fixes it
// at 28800 seconds whatever the configured TTL.
const versionTTL = 28800

// PodMode says how pod names (<a-b-c-d>.<ns>.pod.<zone>) are answered,
// as CoreDNS's "pods" option.
type PodMode uint8

// The pod modes.
const (
	// PodsDisabled answers every pod name NXDOMAIN (CoreDNS's default).
	PodsDisabled PodMode = iota
	// PodsInsecure answers any well-formed pod name in an existing
	// namespace with the address it spells, pod or no pod (kube-dns's
	// old behaviour, kubeadm's default Corefile).
	PodsInsecure
	// PodsVerified answers a pod name only if a pod with that address
	// exists in that namespace (see Batch.UpsertPod).
	PodsVerified
)

// String returns "disabled", "insecure" or "verified".
func (m PodMode) String() string {
	switch m {
	case PodsDisabled:
		return "disabled"
	case PodsInsecure:
		return "insecure"
	case PodsVerified:
		return "verified"
	}
	return "PodMode(" + strconv.Itoa(int(m)) + ")"
}

// Upstream answers a name outside the cluster zone, as CoreDNS hands such
// names to the next plugin (forward). The resolver asks it for those
// names, for reverse names of addresses it does not know (the
// "fallthrough in-addr.arpa ip6.arpa" of kubeadm's Corefile), and to
// follow an ExternalName's CNAME out of the zone. It is called from
// whatever goroutine calls Resolve, so it must be safe for concurrent use
// if Resolve is.
type Upstream func(name string, qtype Type) Response

// Config configures a Resolver. The zero value is CoreDNS's default
// kubernetes plugin: zone cluster.local, TTL 5 s, pod names disabled, no
// upstream.
type Config struct {
	// Zone is the cluster domain; "" means DefaultZone. Case and a
	// trailing dot do not matter.
	Zone string
	// TTL is the TTL of every record but dns-version's, in seconds,
	// 0–3600; nil means DefaultTTL.
	TTL *uint32
	// Pods is the pod-name mode.
	Pods PodMode
	// Upstream, when set, answers the names outside the zone; without
	// it those are REFUSED, and reverse names of unknown addresses are
	// NXDOMAIN.
	Upstream Upstream
}

// Validate returns nil for a usable Config, and otherwise a *ConfigError
// (wrapping ErrInvalidConfig) that names the bad field and value.
func (c Config) Validate() error {
	if err := validateZone(normalizeZone(c.Zone)); err != nil {
		ce := &ConfigError{Field: "zone", Value: strconv.Quote(c.Zone), Rule: err.Error(), Err: err}
		if ne, ok := err.(*NameError); ok {
			ce.Rule = ne.Problem
		}
		return ce
	}
	if c.TTL != nil && *c.TTL > MaxTTL {
		return &ConfigError{Field: "ttl", Value: strconv.FormatUint(uint64(*c.TTL), 10), Rule: "is out of range 0-" + strconv.Itoa(MaxTTL)}
	}
	if c.Pods > PodsVerified {
		return &ConfigError{Field: "pods", Value: strconv.Itoa(int(c.Pods)), Rule: "is not a pod mode"}
	}
	return nil
}
