package lb

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// MaxWeight is the largest Backend.Weight accepted. It is the bound the
// Gateway API puts on a backendRef weight (0..1,000,000), so every weight a
// Kubernetes API can express fits, and weight products stay far inside
// uint64 in the schedulers' exact integer arithmetic.
const MaxWeight = 1_000_000

// Backend is one endpoint a picker may choose: an address and port with the
// attributes of a Kubernetes endpoint (EndpointSlice endpoint conditions,
// zone and node name) and a weight.
//
// Backend is a small comparable value. It is independent of svcnet's
// Service and EndpointSlice model: callers translate their endpoints into
// Backends.
//
// The zero Backend is invalid (no address). Note the zero conditions: a
// Backend that does not say Ready is not ready, unlike a Kubernetes
// endpoint whose nil ready condition means ready; callers translating from
// an EndpointSlice apply that defaulting themselves.
type Backend struct {
	// Addr is the backend's IP address and port (PodIP:targetPort). It must
	// be valid, without an IPv6 zone, and the port non-zero.
	Addr netip.AddrPort
	// Weight is the backend's relative share for weighted algorithms. Zero
	// means 1 (Kubernetes endpoints carry no weight); at most MaxWeight.
	// Random, RoundRobin and LeastConn without Weighted ignore it.
	Weight uint32
	// Zone is the topology zone of the backend (topology.kubernetes.io/zone),
	// carried for the caller; the algorithms do not use it.
	Zone string
	// Node is the name of the node the backend runs on, carried for the
	// caller; the algorithms do not use it.
	Node string
	// Ready, Serving and Terminating are the EndpointSlice endpoint
	// conditions. Every algorithm picks only among the Ready backends of its
	// last Update; when none is Ready it falls back to those both Serving and
	// Terminating, as kube-proxy does (KEP-1669, ProxyTerminatingEndpoints).
	Ready, Serving, Terminating bool
}

// weight returns the effective weight: Weight, or 1 when Weight is zero.
func (b Backend) weight() uint64 {
	if b.Weight == 0 {
		return 1
	}
	return uint64(b.Weight)
}

// Protocol is an IP protocol number (IANA). The zero value means
// unspecified.
type Protocol uint8

// The protocols a Kubernetes Service port can use.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

// String returns the Kubernetes name of the protocol ("TCP", "UDP",
// "SCTP"), or its number for others.
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return strconv.Itoa(int(p))
}

// Key is what a picker hashes to choose a backend for a connection: the
// client's address and port and the protocol, or a caller-supplied hash
// (for example of an HTTP header, or of the full 5-tuple).
//
// The zero Key is valid: every zero key hashes alike.
type Key struct {
	// Src is the client's address and port. Session affinity and
	// SourceHash use only its address.
	Src netip.AddrPort
	// Proto is the connection's protocol.
	Proto Protocol
	// Hash, when non-zero, replaces Src and Proto as the hash input. It is
	// mixed before use, so small or consecutive values spread well. A
	// caller whose own hash is zero gets Src and Proto hashed instead.
	Hash uint64
	// Now, when not zero, is the time of the pick. Only pickers that keep
	// time read it (Affinity advances its clock to it); the others ignore
	// it, so a caller can pass the time to any Picker without knowing which
	// algorithm it holds.
	Now time.Time
}

// Picker chooses a backend for a key from the backends of its last Update.
//
// Pick reports false when there is no usable backend. Pick does not
// allocate (except Affinity's first pick for a new client). Update replaces
// the backend list; on error the picker keeps its previous backends. Update
// copies what it keeps, so the caller may reuse the slice.
//
// No Picker in this package is safe for concurrent use: one goroutine owns
// it, as one proxy owns its tables.
type Picker interface {
	Pick(k Key) (Backend, bool)
	Update(backends []Backend) error
}

// ConnPicker is a Picker that counts the connections it hands out: every
// Pick opens one on the chosen backend, and Done closes one. Done for a
// backend that is no longer in the list, or has no open connection, is a
// no-op.
type ConnPicker interface {
	Picker
	Done(b Backend)
}

// opener is implemented by the package's connection-aware pickers, so that
// Affinity can count a connection that it sends to a sticky backend without
// asking the inner picker to choose.
type opener interface {
	open(addr netip.AddrPort)
}

// prepare validates backends, keeps the usable ones and sorts them by their
// frozen key (which is AddrPort.Compare order), so every algorithm is
// deterministic whatever the input order. It returns a new slice.
//
// Usable means Ready; when no backend is Ready, Serving and Terminating
// (KEP-1669: kube-proxy falls back to terminating endpoints that still serve
// rather than drop traffic).
func prepare(backends []Backend) ([]Backend, error) {
	ready := 0
	for _, b := range backends {
		if !b.Addr.IsValid() || b.Addr.Port() == 0 || b.Addr.Addr().Zone() != "" {
			return nil, fmt.Errorf("%w: address %q", ErrInvalidBackend, b.Addr.String())
		}
		if b.Weight > MaxWeight {
			return nil, fmt.Errorf("%w: %d for %v exceeds %d", ErrInvalidWeight, b.Weight, b.Addr, MaxWeight)
		}
		if b.Ready {
			ready++
		}
	}
	use := func(b Backend) bool { return b.Ready }
	if ready == 0 {
		use = func(b Backend) bool { return b.Serving && b.Terminating }
	}
	out := make([]Backend, 0, len(backends))
	for _, b := range backends {
		if use(b) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Backend) int { return a.Addr.Compare(b.Addr) })
	for i := 1; i < len(out); i++ {
		if out[i].Addr == out[i-1].Addr {
			return nil, fmt.Errorf("%w: %v", ErrDuplicateBackend, out[i].Addr)
		}
	}
	// Duplicates among unusable backends are errors too: the same input
	// must not turn invalid when a condition flips.
	if len(out) != len(backends) {
		seen := make(map[netip.AddrPort]struct{}, len(backends))
		for _, b := range backends {
			if _, dup := seen[b.Addr]; dup {
				return nil, fmt.Errorf("%w: %v", ErrDuplicateBackend, b.Addr)
			}
			seen[b.Addr] = struct{}{}
		}
	}
	return out, nil
}

// index maps each backend address to its position in bs.
func index(bs []Backend) map[netip.AddrPort]int32 {
	m := make(map[netip.AddrPort]int32, len(bs))
	for i, b := range bs {
		m[b.Addr] = int32(i)
	}
	return m
}

// uniform reports whether all backends have the same effective weight.
func uniform(bs []Backend) bool {
	for _, b := range bs[min(1, len(bs)):] {
		if b.weight() != bs[0].weight() {
			return false
		}
	}
	return true
}
