package dnsserver

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/svcnet/svcnet/dnsname"
)

// Defaults for the zero fields of Config.
const (
	// DefaultUDPSize is the EDNS0 buffer size the server advertises and
	// the most it sends over UDP: 1232 octets, the DNS flag day 2020
	// value, which fits an IPv6 packet in a 1280-octet MTU.
	DefaultUDPSize = 1232
	// DefaultUpstreamTimeout bounds one upstream exchange, as CoreDNS's
	// forward plugin gives up on a server after its dial and read
	// timeouts (plugin/forward, "expire"/read timeout about 2 s).
	DefaultUpstreamTimeout = 2 * time.Second
	// DefaultCacheSize is the number of forwarded answers kept, as
	// CoreDNS's cache plugin's default capacity (plugin/cache: 9984).
	DefaultCacheSize = 9984
	// DefaultTCPIdleTimeout closes a TCP connection with no query for
	// that long (miekg/dns's default idle timeout for pipelined TCP).
	DefaultTCPIdleTimeout = 8 * time.Second
	// DefaultMaxTCPConns bounds the TCP connections open at once.
	DefaultMaxTCPConns = 1024
	// maxCacheTTL caps how long a forwarded answer is cached, as CoreDNS's
	// cache does for successes (3600 s); denials are capped at 1800 s.
	maxCacheTTL    = 3600
	maxDenialTTL   = 1800
	minimumUDPSize = 512
)

// ErrInvalidConfig is wrapped by every error New returns for a bad Config.
var ErrInvalidConfig = errors.New("dnsserver: invalid config")

// Config configures a Server. Only Resolver is required; the zero value
// of every other field is CoreDNS's kubernetes plugin alone: no
// forwarding (names outside the cluster's zones are REFUSED), no
// autopath, a 1232-octet EDNS0 buffer.
type Config struct {
	// Resolver answers the cluster's names: its zone, and the reverse
	// zones in-addr.arpa and ip6.arpa, as kubeadm's Corefile gives them
	// to the kubernetes plugin. Required.
	Resolver *dnsname.Resolver
	// NSAddrs are the server's own addresses, the A and AAAA records of
	// ns.dns.<zone>, the name the zone's NS and SOA records point at.
	// CoreDNS uses the addresses it listens on when its own Service is
	// not found (plugin/kubernetes/ns.go, nsAddrs). Nil gives the NS
	// name no address (NODATA).
	NSAddrs []netip.Addr
	// Upstreams are the servers that names outside the cluster's zones
	// are forwarded to, tried in order, as CoreDNS's forward plugin.
	// Reverse names the resolver does not know are forwarded too (the
	// "fallthrough in-addr.arpa ip6.arpa" of kubeadm's Corefile). Nil
	// forwards nowhere: such names are REFUSED.
	Upstreams []netip.AddrPort
	// UpstreamTimeout bounds one exchange with one upstream; 0 means
	// DefaultUpstreamTimeout. When every upstream fails the answer is
	// SERVFAIL.
	UpstreamTimeout time.Duration
	// CacheSize bounds the forwarded answers kept (by TTL, as CoreDNS's
	// cache plugin); 0 means DefaultCacheSize, negative disables the
	// cache.
	CacheSize int
	// UDPSize is the EDNS0 buffer size advertised and the cap on UDP
	// answers, 512–4096; 0 means DefaultUDPSize.
	UDPSize uint16
	// Autopath, when set, answers a query for <name>.<ns>.svc.<zone>
	// from a pod it knows with a CNAME to the first name of the pod's
	// search path that exists, as CoreDNS's autopath plugin with "pods
	// verified". It returns the namespace of the pod with the client's
	// address. Nil turns autopath off.
	Autopath func(client netip.Addr) (namespace string, ok bool)
	// AutopathSearch are the search domains after the cluster's three
	// (the node's, as kubelet appends them); used with Autopath.
	AutopathSearch []string
	// TCPIdleTimeout closes an idle TCP connection; 0 means
	// DefaultTCPIdleTimeout.
	TCPIdleTimeout time.Duration
	// MaxTCPConns bounds the open TCP connections; a connection over
	// the bound is closed at once. 0 means DefaultMaxTCPConns.
	MaxTCPConns int
	// Now is the clock of the forward cache; nil means time.Now.
	Now func() time.Time
}

// validate checks c and returns it with its defaults filled in.
func (c Config) validate() (Config, error) {
	if c.Resolver == nil {
		return c, fmt.Errorf("%w: resolver is nil", ErrInvalidConfig)
	}
	if c.UDPSize == 0 {
		c.UDPSize = DefaultUDPSize
	}
	if c.UDPSize < minimumUDPSize || c.UDPSize > 4096 {
		return c, fmt.Errorf("%w: udp size %d is out of range 512-4096", ErrInvalidConfig, c.UDPSize)
	}
	for i, a := range c.NSAddrs {
		if !a.IsValid() {
			return c, fmt.Errorf("%w: ns addr %d is invalid", ErrInvalidConfig, i)
		}
	}
	for i, u := range c.Upstreams {
		if !u.IsValid() || u.Port() == 0 {
			return c, fmt.Errorf("%w: upstream %d %q is not an address and port", ErrInvalidConfig, i, u.String())
		}
	}
	if c.UpstreamTimeout < 0 {
		return c, fmt.Errorf("%w: upstream timeout %v is negative", ErrInvalidConfig, c.UpstreamTimeout)
	}
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.TCPIdleTimeout < 0 {
		return c, fmt.Errorf("%w: tcp idle timeout %v is negative", ErrInvalidConfig, c.TCPIdleTimeout)
	}
	if c.TCPIdleTimeout == 0 {
		c.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if c.MaxTCPConns < 0 {
		return c, fmt.Errorf("%w: max tcp conns %d is negative", ErrInvalidConfig, c.MaxTCPConns)
	}
	if c.MaxTCPConns == 0 {
		c.MaxTCPConns = DefaultMaxTCPConns
	}
	for i, d := range c.AutopathSearch {
		if _, ok := dnsNameOK(d); !ok {
			return c, fmt.Errorf("%w: autopath search %d %q is not a DNS name", ErrInvalidConfig, i, d)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
