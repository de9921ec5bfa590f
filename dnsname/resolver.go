package dnsname

import (
	"sync"
	"sync/atomic"

	"github.com/svcnet/svcnet/service"
)

// maxCNAMEChain bounds how many CNAMEs the resolver follows for one
// query, as CoreDNS stops after 8.
const maxCNAMEChain = 8

// Resolver answers cluster DNS queries from Services, EndpointSlices and
// pods, with the records of the Kubernetes DNS specification 1.1.0 and,
// where the specification is silent, the answers of CoreDNS's kubernetes
// plugin (see the package documentation for the differences).
//
// Changes go in through Apply (a Batch) or the one-change helpers; each
// call publishes a new immutable snapshot. Resolve reads the current
// snapshot with one atomic load: it is safe to call from any number of
// goroutines while changes are applied, never blocks, and sees each
// Apply entirely or not at all. The writing methods serialize on a
// mutex; the resolver is meant to have one writer, the loop that feeds it
// the Registry's Services and the endpoints controller's changes.
//
// A Resolver must be made with New or NewResolver; the zero value is
// unusable.
type Resolver struct {
	zone     string // lowercase, no trailing dot
	ttl      uint32
	pods     PodMode
	upstream Upstream
	// wideRows and scanRows are the consts of those names; tests
	// lower them.
	wideRows, scanRows int

	snap atomic.Pointer[snapshot]

	mu sync.Mutex
	w  writer
}

// snapshot is one immutable version of the resolver's state, from which
// queries make their answers. Names of the zone are held relative to it,
// lowercase, without the trailing dot.
type snapshot struct {
	gen uint64
	// svcs maps "<svc>.<ns>" to the Service's node, which answers its
	// name and those below it (SRV and endpoint names). The node of a
	// Service that does not exist but has slices waiting for it answers
	// nothing.
	svcs pmap[string, *svcNode]
	// names holds every other name of the zone: the apex (""), "svc",
	// "pod", "dns-version", "<ns>.svc" and "<ns>.pod".
	names *shards[string, *entry]
	// rev holds the PTR claims on each address.
	rev revIndex
	// pods holds the pod addresses per namespace (PodsVerified).
	pods pmap[podKey, struct{}]
}

// entry is the answer set of a name of snapshot.names: none (the apex,
// svc.<zone>, <ns>.svc.<zone>: emptyEntry), or the one TXT record of
// dns-version.<zone>.
type entry struct {
	recs []Record
}

var emptyEntry = &entry{}

// New returns a Resolver with no Services, or the *ConfigError that
// c.Validate returns (errors.Is(err, ErrInvalidConfig)) and no Resolver.
func New(c Config) (*Resolver, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := &Resolver{zone: normalizeZone(c.Zone), ttl: DefaultTTL, pods: c.Pods, upstream: c.Upstream, wideRows: wideRows, scanRows: scanRows}
	if c.TTL != nil {
		r.ttl = *c.TTL
	}
	r.w.init()
	names := newShardWriter[string, *entry](nil)
	for _, k := range []string{"", "svc", "pod"} { // apex, svc.<zone> and pod.<zone>: NODATA (CoreDNS parse.go)
		names.set(hashString(k), k, emptyEntry)
	}
	names.set(hashString("dns-version"), "dns-version", &entry{recs: []Record{{
		Name: VersionName(r.zone), Type: TypeTXT, TTL: versionTTL, Text: SchemaVersion,
	}}})
	r.snap.Store(&snapshot{names: names.cur()})
	return r, nil
}

// NewResolver is like New but panics with the *ConfigError when c is
// invalid, as regexp.MustCompile does: it is meant for Configs written in
// code (the zero Config always works), where an invalid one is a
// programmer error. Use New for a Config that comes from a user.
func NewResolver(c Config) *Resolver {
	r, err := New(c)
	if err != nil {
		panic(err)
	}
	return r
}

// Zone returns the cluster zone, lowercase and without the trailing dot.
func (r *Resolver) Zone() string { return r.zone }

// TTL returns the TTL of the resolver's records (all but dns-version's),
// in seconds: Config.TTL, or DefaultTTL.
func (r *Resolver) TTL() uint32 { return r.ttl }

// Generation returns the number of snapshots published since NewResolver:
// it grows by one with every Apply that changed something.
func (r *Resolver) Generation() uint64 { return r.snap.Load().gen }

// Resolve answers a query for name (case-insensitive, trailing dot
// optional) and record type qtype from the current snapshot:
//
//   - NOERROR with the records when the name has some of that type;
//   - NOERROR with no answers (NODATA) when the name exists without any:
//     AAAA of an IPv4-only Service, the zone apex, svc.<zone>, an existing
//     namespace's <ns>.svc.<zone>;
//   - NXDOMAIN when it does not: an unknown Service or namespace, a
//     headless Service without ready endpoints, an unnamed port;
//   - FORMERR for a name that cannot be a DNS name;
//   - for names outside the zone, the Upstream's answer, or REFUSED.
//
// Records are sorted; their names are canonical (lowercase, with the
// trailing dot) whatever the case of the query. The records are made for
// the query, from the snapshot's compact Services (see ResolveInto, which
// makes them in reusable buffers and allocates nothing).
func (r *Resolver) Resolve(name string, qtype Type) Response {
	return r.resolve(r.snap.Load(), name, qtype, 0)
}

// ResolveBytes is Resolve for a name given as bytes, as a server reads it
// from a query: it does not keep name.
func (r *Resolver) ResolveBytes(name []byte, qtype Type) Response {
	return r.ResolveInto(new(Scratch), name, qtype)
}

// ResolveInto is ResolveBytes making the answer in sc: the records, and
// the names they hold that the snapshot does not (an endpoint's name, a
// PTR name), are written in sc's buffers, reused from one call to the
// next, so that a query allocates nothing once they are large enough
// (it makes a string only to hand an out-of-zone name to the Upstream).
// The Response is valid until the next call with sc.
func (r *Resolver) ResolveInto(sc *Scratch, name []byte, qtype Type) Response {
	sc.reset()
	s := r.snap.Load()
	var buf [MaxNameLength]byte
	n, ok := lowerName(&buf, name)
	if !ok {
		return Response{Rcode: RcodeFormErr}
	}
	if resp, in := r.inZone(sc, s, buf[:n], qtype, 0); in {
		return resp
	}
	return r.outOfZone(sc, s, buf[:n], "", name, qtype)
}

// resolve answers name from snapshot s, making its records in a new
// Scratch: the strings they hold are then never written again.
func (r *Resolver) resolve(s *snapshot, name string, qtype Type, depth int) Response {
	return r.resolveIn(new(Scratch), s, name, qtype, depth)
}

func (r *Resolver) resolveIn(sc *Scratch, s *snapshot, name string, qtype Type, depth int) Response {
	var buf [MaxNameLength]byte
	n, ok := lowerName(&buf, name)
	if !ok {
		return Response{Rcode: RcodeFormErr}
	}
	if resp, in := r.inZone(sc, s, buf[:n], qtype, depth); in {
		return resp
	}
	return r.outOfZone(sc, s, buf[:n], name, nil, qtype)
}

// inZone answers b, a lowercase name without its trailing dot, when it
// is in the cluster zone; in is false when it is not.
func (r *Resolver) inZone(sc *Scratch, s *snapshot, b []byte, qtype Type, depth int) (resp Response, in bool) {
	n := len(b)
	z := r.zone
	var rel []byte
	switch {
	case n > len(z) && b[n-len(z)-1] == '.' && string(b[n-len(z):]) == z:
		rel = b[:n-len(z)-1]
	case n == len(z) && string(b) == z:
		rel = b[:0]
	default:
		return Response{}, false
	}
	return r.inZoneRel(sc, s, b, rel, qtype, depth), true
}

func (r *Resolver) inZoneRel(sc *Scratch, s *snapshot, b, rel []byte, qtype Type, depth int) Response {
	if qtype == TypeAXFR || qtype == TypeIXFR {
		// CoreDNS's "transfer" plugin is not configured by default, and
		// the kubernetes plugin refuses zone transfers itself
		// (plugin/kubernetes/handler.go).
		return Response{Rcode: RcodeRefused}
	}
	node, prefix, isSvc := lookupSvc(s, rel)
	switch {
	case node != nil:
		if resp, ok := r.svcAnswer(sc, s, node, prefix, qtype, depth); ok {
			return resp
		}
	case !isSvc:
		if e := s.names[hashBytes(rel)&shardMask][string(rel)]; e != nil {
			return answerEntry(e, qtype)
		}
		if r.pods != PodsDisabled {
			if resp, ok := r.pod(sc, s, b, rel, qtype); ok {
				return resp
			}
		}
	}
	return Response{Rcode: RcodeNXDomain}
}

// lookupSvc finds the Service of rel, a lowercase name relative to the
// zone, when it is a name under svc below a namespace: isSvc is then
// true, and "_http._tcp.web.default.svc" is prefix "_http._tcp" below
// the node of "web.default" (nil: none).
func lookupSvc(s *snapshot, rel []byte) (node *svcNode, prefix []byte, isSvc bool) {
	n := len(rel)
	if n <= 4 || string(rel[n-4:]) != ".svc" {
		return nil, nil, false
	}
	r := rel[:n-4] // [prefix.]svc.ns
	ns := lastDot(r)
	if ns < 0 {
		return nil, nil, false
	}
	i := lastDot(r[:ns])
	key := r[i+1:]
	node, _ = pmapGetBytes(&s.svcs, hashBytes(key), key)
	if i < 0 {
		return node, nil, true
	}
	return node, r[:i], true
}

func lastDot(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '.' {
			return i
		}
	}
	return -1
}

// lowerName copies name into buf in lowercase, without its trailing dot,
// and checks the limits every DNS name obeys: labels of 1–63 octets, at
// most 253 octets. The root name "." gives length 0.
func lowerName[S ~string | ~[]byte](buf *[MaxNameLength]byte, name S) (int, bool) {
	if len(name) == 1 && name[0] == '.' {
		return 0, true
	}
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	if len(name) == 0 || len(name) > MaxNameLength {
		return 0, false
	}
	b := buf[:len(name)]
	start := 0 // of the current label
	for i := 0; i < len(b); i++ {
		c := name[i]
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		b[i] = c
		if c == '.' {
			if l := i - start; l == 0 || l > MaxLabelLength {
				return 0, false
			}
			start = i + 1
		}
	}
	if l := len(b) - start; l == 0 || l > MaxLabelLength {
		return 0, false
	}
	return len(b), true
}

// answerEntry picks the records of qtype from a name of snapshot.names.
func answerEntry(e *entry, qtype Type) Response {
	switch {
	case e == emptyEntry && qtype == TypeTXT:
		// A name that exists but holds no record of any type (the apex,
		// svc.<zone>, <ns>.svc.<zone>) is NXDOMAIN for TXT, as in
		// CoreDNS, whose TXT path answers NODATA only when the name has
		// records of another type (plugin/kubernetes/kubernetes.go,
		// Services).
		return Response{Rcode: RcodeNXDomain}
	case qtype == TypeTXT:
		return Response{Answer: e.recs}
	}
	return Response{}
}

// chase follows an ExternalName's CNAME, as CoreDNS does for A and AAAA:
// inside the zone from the same snapshot, outside through Upstream. The
// CNAME is always in the answer, followed by what the target gave.
func (r *Resolver) chase(sc *Scratch, s *snapshot, cname Record, qtype Type, depth int) Response {
	if depth+1 >= maxCNAMEChain || cname.Target == cname.Name {
		start := len(sc.recs)
		sc.recs = append(sc.recs, cname)
		return Response{Answer: sc.section(start)}
	}
	next := r.resolveIn(sc, s, cname.Target, qtype, depth+1)
	start := len(sc.recs)
	sc.recs = append(sc.recs, cname)
	sc.recs = append(sc.recs, next.Answer...)
	return Response{Answer: sc.section(start), Additional: next.Additional}
}

// pod answers <label>.<ns>.pod (relative to the zone) in the insecure and
// verified modes, following CoreDNS's findPods: the namespace must exist,
// the label must spell an address, and in verified mode a pod with that
// address must exist in that namespace. ok is false for other names.
func (r *Resolver) pod(sc *Scratch, s *snapshot, b, rel []byte, qtype Type) (Response, bool) {
	dot := -1
	for i, c := range rel {
		if c == '.' {
			dot = i
			break
		}
	}
	if dot < 0 || len(rel) < dot+5 || string(rel[len(rel)-4:]) != ".pod" {
		return Response{}, false
	}
	nsRel := rel[dot+1:]
	for _, c := range nsRel[:len(nsRel)-4] {
		if c == '.' {
			return Response{}, false
		}
	}
	if _, ok := s.names[hashBytes(nsRel)&shardMask][string(nsRel)]; !ok {
		return Response{}, false // no such namespace
	}
	addr, ok := parsePodLabel(string(rel[:dot]))
	if !ok {
		return Response{}, false
	}
	if r.pods == PodsVerified {
		k := podKey{ns: string(nsRel[:len(nsRel)-4]), addr: addr}
		if _, ok := s.pods.get(hashPod(k), k); !ok {
			return Response{}, false
		}
	}
	t := TypeA
	if addr.Is6() {
		t = TypeAAAA
	}
	if qtype != t && qtype != TypeSRV {
		return Response{}, true
	}
	start := len(sc.names)
	sc.names = append(append(sc.names, b...), '.')
	name := sc.str(start)
	addrRec := Record{Name: name, Type: t, TTL: r.ttl, Addr: addr}
	start = len(sc.recs)
	if qtype == t {
		sc.recs = append(sc.recs, addrRec)
		return Response{Answer: sc.section(start)}, true
	}
	// CoreDNS turns the pod's address record into "SRV 0 100 0
	// <podname>" with the address as additional
	// (plugin/backend_lookup.go, SRV, the TypeA/TypeAAAA case).
	sc.recs = append(sc.recs, Record{Name: name, Type: TypeSRV, TTL: r.ttl, Priority: 0, Weight: 100, Port: 0, Target: name})
	answer := sc.section(start)
	start = len(sc.recs)
	sc.recs = append(sc.recs, addrRec)
	return Response{Answer: answer, Additional: sc.section(start)}, true
}

// outOfZone answers a name outside the cluster zone: PTR names of known
// addresses from the snapshot, the rest from Upstream (REFUSED without
// one, NXDOMAIN for an unknown reverse name).
//
// The name as asked is name, or nameBytes when that is not nil.
func (r *Resolver) outOfZone(sc *Scratch, s *snapshot, b []byte, name string, nameBytes []byte, qtype Type) Response {
	reverse := hasSuffixLabel(b, reverse4) || hasSuffixLabel(b, reverse6)
	if reverse {
		// The reverse zones are served as kubeadm's Corefile does
		// ("kubernetes cluster.local in-addr.arpa ip6.arpa"): zone
		// transfers are refused, the apex exists with no records, and a
		// known address has a PTR and nothing else. CoreDNS answers
		// NXDOMAIN for the other types of a reverse name, because its
		// Records rejects reverse names (plugin/kubernetes/kubernetes.go).
		if qtype == TypeAXFR || qtype == TypeIXFR {
			return Response{Rcode: RcodeRefused}
		}
		if string(b) == reverse4 || string(b) == reverse6 {
			if qtype == TypeTXT {
				return Response{Rcode: RcodeNXDomain} // as the cluster apex
			}
			return Response{}
		}
		if qtype == TypePTR {
			if addr, ok := parseReverse(b); ok {
				if resp, ok := r.ptrAnswer(sc, s, addr); ok {
					return resp
				}
			}
		}
	}
	if r.upstream != nil {
		if nameBytes != nil {
			name = string(nameBytes)
		}
		return r.upstream(name, qtype)
	}
	if reverse {
		return Response{Rcode: RcodeNXDomain}
	}
	return Response{Rcode: RcodeRefused}
}

// hasSuffixLabel reports whether b is zone or ends with "."+zone.
func hasSuffixLabel(b []byte, zone string) bool {
	n := len(b) - len(zone)
	return n >= 0 && string(b[n:]) == zone && (n == 0 || b[n-1] == '.')
}

// keyOf returns the namespace and name of a Service as a map key.
func keyOf(ns, name string) service.NamespacedName {
	return service.NamespacedName{Namespace: ns, Name: name}
}
