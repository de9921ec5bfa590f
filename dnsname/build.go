package dnsname

import (
	"cmp"
	"iter"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/google/btree"
)

// item is one (address, port, target) a name answers with, the unit of
// CoreDNS's msg.Service: A and AAAA records come from the addresses, SRV
// records from the ports, pointing at the target. Port -1 stands for "no
// port" (a Service or slice without ports): it gives addresses but no SRV.
type item struct {
	addr   netip.Addr
	port   int32
	target string
}

// agg is the multiset of items of one name, kept as the sorted, counted
// lists its records are made of: adding or removing an item is a binary
// search in each, and making the records (entry) is one pass with no
// sorting. The records follow CoreDNS's plugin.A, AAAA and SRV
// (plugin/backend_lookup.go): addresses deduplicated; SRV records
// deduplicated by target and port, with priority 0 and weight
// floor(100/n) for the n items (at least 1); additional address records
// for the SRV targets, deduplicated by target and address. Everything is
// sorted, so answers are deterministic where CoreDNS's follow its caches'
// order.
//
// An agg belongs to the writer; the entries it makes are immutable.
type agg struct {
	owner string // the name, canonical
	n     int    // items, with repeats and port-less ones
	addrs []counted[netip.Addr]
	srv   []counted[srvKey]   // items with a port in 0–65535
	extra []counted[extraKey] // items with a port in 0–65535
}

type counted[T any] struct {
	v T
	n int32
}

type srvKey struct {
	target string
	port   uint16
}

type extraKey struct {
	target string
	addr   netip.Addr
}

func compareSRV(x, y srvKey) int {
	return cmp.Or(strings.Compare(x.target, y.target), cmp.Compare(x.port, y.port))
}

func compareExtra(x, y extraKey) int {
	return cmp.Or(strings.Compare(x.target, y.target), x.addr.Compare(y.addr))
}

// bump adds d to the count of v in the sorted list s, inserting v or
// removing it when its count reaches zero. Removing what is not there is
// a programming error of the index, and panics.
func bump[T any](s []counted[T], v T, d int32, compare func(T, T) int) []counted[T] {
	i, ok := slices.BinarySearchFunc(s, v, func(c counted[T], v T) int { return compare(c.v, v) })
	if !ok {
		if d < 0 {
			panic("dnsname: internal error: removing an item that is not there")
		}
		return slices.Insert(s, i, counted[T]{v, d})
	}
	if s[i].n += d; s[i].n == 0 {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// add adds d (1 or -1) copies of it.
func (a *agg) add(it item, d int32) {
	a.n += int(d)
	a.addrs = bump(a.addrs, it.addr, d, netip.Addr.Compare)
	if it.port < 0 || it.port > 0xffff {
		return
	}
	a.srv = bump(a.srv, srvKey{it.target, uint16(it.port)}, d, compareSRV)
	a.extra = bump(a.extra, extraKey{it.target, it.addr}, d, compareExtra)
}

// entry makes the records of the name.
func (a *agg) entry(ttl uint32) *entry {
	shared := a.extraIsAddrs()
	size := len(a.addrs) + len(a.srv)
	if !shared {
		size += len(a.extra)
	}
	return makeRecords(a.owner, ttl, a.n, size, shared, values(a.addrs), values(a.srv), values(a.extra))
}

// extraIsAddrs reports whether the SRV additional records of the name
// are its own address records: every SRV target is the name itself, as
// for an endpoint name and a ClusterIP Service's name, and every address
// has a port.
func (a *agg) extraIsAddrs() bool {
	if len(a.extra) == 0 || len(a.extra) != len(a.addrs) {
		return false
	}
	for i, x := range a.extra {
		if x.v.target != a.owner || x.v.addr != a.addrs[i].v {
			return false
		}
	}
	return true
}

// values yields the values of a counted list, in order.
func values[T any](s []counted[T]) iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, c := range s {
			if !yield(c.v) {
				return
			}
		}
	}
}

// makeRecords makes the entry of owner, for n items, from its sorted,
// distinct addresses, SRV (target, port) pairs and additional (target,
// address) pairs, size records in all: A then AAAA, SRV, additional
// records, in one array. shared says that the additional records are the
// address records, which are then not repeated (extra is not read).
func makeRecords(owner string, ttl uint32, n, size int, shared bool, addrs iter.Seq[netip.Addr], srv iter.Seq[srvKey], extra iter.Seq[extraKey]) *entry {
	e, recs := newEntry(size)
	recs = e.appendAddrs(recs, owner, ttl, addrs)
	if shared {
		extra = nil
	}
	e.appendSRV(recs, owner, ttl, n, srv, extra)
	e.sharedExtra = shared && e.srvEnd > e.aaaaEnd
	return e
}

// newEntry returns an empty entry and an empty array for size records.
// Up to three records (an endpoint's or a ClusterIP Service's name) come
// in one allocation with the entry, so that a query reads one object
// where it would read two, in the same memory.
func newEntry(size int) (*entry, []Record) {
	switch size {
	case 1:
		c := new(struct {
			e entry
			r [1]Record
		})
		return &c.e, c.r[:0:1]
	case 2:
		c := new(struct {
			e entry
			r [2]Record
		})
		return &c.e, c.r[:0:2]
	case 3:
		c := new(struct {
			e entry
			r [3]Record
		})
		return &c.e, c.r[:0:3]
	}
	return &entry{}, make([]Record, 0, size)
}

// appendAddrs appends the A and AAAA records of owner to recs, which
// must be empty and have room for them, and sets e.recs, e.aEnd and
// e.aaaaEnd.
func (e *entry) appendAddrs(recs []Record, owner string, ttl uint32, addrs iter.Seq[netip.Addr]) []Record {
	v6 := -1
	for a := range addrs {
		t := TypeA
		if a.Is6() {
			t = TypeAAAA
			if v6 < 0 {
				v6 = len(recs)
			}
		}
		recs = append(recs, Record{Name: owner, Type: t, TTL: ttl, Addr: a})
	}
	if v6 < 0 {
		v6 = len(recs)
	}
	e.aEnd, e.aaaaEnd, e.srvEnd = uint32(v6), uint32(len(recs)), uint32(len(recs))
	e.recs = recs
	return recs
}

// appendSRV appends the SRV records of owner and their additional
// records (none when extra is nil) to recs, which must hold e's address
// records and have room for them, and sets e.recs and e.srvEnd.
func (e *entry) appendSRV(recs []Record, owner string, ttl uint32, n int, srv iter.Seq[srvKey], extra iter.Seq[extraKey]) []Record {
	start := len(recs)
	weight := uint16(max(100/max(n, 1), 1))
	for s := range srv {
		recs = append(recs, Record{Name: owner, Type: TypeSRV, TTL: ttl, Weight: weight, Port: s.port, Target: s.target})
	}
	e.srvEnd = uint32(len(recs))
	if len(recs) > start && extra != nil {
		for x := range extra {
			t := TypeA
			if x.addr.Is6() {
				t = TypeAAAA
			}
			recs = append(recs, Record{Name: x.target, Type: t, TTL: ttl, Addr: x.addr})
		}
	}
	e.recs = recs
	return recs
}

// wideAgg is an agg for a name that lists every ready endpoint of a
// Service: a headless Service's own name and its SRV names. Its lists are
// B-trees, so that adding or removing an item costs O(log n) and a
// snapshot takes them in O(1) (btree.Clone). Its records, up to
// eagerRecords of them (fewer in tests, see Resolver.apply), are made at
// once; more are made by the first query that needs them (lazyEntry), so
// that a change of one endpoint of a large Service does not copy the
// records of all the others.
type wideAgg struct {
	owner string
	n     int
	addrs *btree.BTreeG[counted[netip.Addr]]
	srv   *btree.BTreeG[counted[srvKey]]
	extra *btree.BTreeG[counted[extraKey]]
}

// eagerRecords is the most records a wideAgg makes at Apply time (about
// 11 KiB); beyond it, making them all again for each change would cost
// more than the change (an allocation of some 130 KiB for 250 endpoints).
const eagerRecords = 128

// wideDegree is the degree of a wideAgg's B-trees: nodes of up to 15
// items, so that a write after a Clone copies about 1 KiB per tree.
const wideDegree = 8

func newWideAgg(owner string) *wideAgg {
	return &wideAgg{
		owner: owner,
		addrs: btree.NewG(wideDegree, lessBy(netip.Addr.Compare)),
		srv:   btree.NewG(wideDegree, lessBy(compareSRV)),
		extra: btree.NewG(wideDegree, lessBy(compareExtra)),
	}
}

func lessBy[T any](compare func(T, T) int) btree.LessFunc[counted[T]] {
	return func(x, y counted[T]) bool { return compare(x.v, y.v) < 0 }
}

// bumpTree is bump for a B-tree.
func bumpTree[T any](t *btree.BTreeG[counted[T]], v T, d int32) {
	c, ok := t.Get(counted[T]{v: v})
	if !ok {
		if d < 0 {
			panic("dnsname: internal error: removing an item that is not there")
		}
		c = counted[T]{v: v}
	}
	if c.n += d; c.n == 0 {
		t.Delete(c)
	} else {
		t.ReplaceOrInsert(c)
	}
}

// add adds d (1 or -1) copies of it.
func (a *wideAgg) add(it item, d int32) {
	a.n += int(d)
	bumpTree(a.addrs, it.addr, d)
	if it.port < 0 || it.port > 0xffff {
		return
	}
	bumpTree(a.srv, srvKey{it.target, uint16(it.port)}, d)
	bumpTree(a.extra, extraKey{it.target, it.addr}, d)
}

func (a *wideAgg) size() int { return a.addrs.Len() + a.srv.Len() + a.extra.Len() }

// entry returns the entry of the name: made now, or, above eager
// records, made by its first query from clones of the lists.
func (a *wideAgg) entry(ttl uint32, eager int) *entry {
	if a.size() <= eager {
		// Its SRV targets are the endpoints, never the name itself.
		return makeRecords(a.owner, ttl, a.n, a.size(), false, treeValues(a.addrs), treeValues(a.srv), treeValues(a.extra))
	}
	return &entry{lazy: &lazyEntry{
		owner: a.owner, ttl: ttl, n: a.n,
		addrs: a.addrs.Clone(), srv: a.srv.Clone(), extra: a.extra.Clone(),
	}}
}

// treeValues yields the values of a counted B-tree, in order.
func treeValues[T any](t *btree.BTreeG[counted[T]]) iter.Seq[T] {
	return func(yield func(T) bool) {
		t.Ascend(func(c counted[T]) bool { return yield(c.v) })
	}
}

// lazyEntry makes the records of a wideAgg when they are first asked
// for, from clones of its lists that no one writes: the addresses for an
// A or AAAA query, the SRV and additional records for an SRV query.
// Concurrent first queries may each make them; one result is kept, and
// every query after it reads that one without allocating.
type lazyEntry struct {
	addrRecs, srvRecs atomic.Pointer[entry]
	owner             string
	ttl               uint32
	n                 int
	addrs             *btree.BTreeG[counted[netip.Addr]]
	srv               *btree.BTreeG[counted[srvKey]]
	extra             *btree.BTreeG[counted[extraKey]]
}

// get returns an entry with the records of qtype.
func (l *lazyEntry) get(qtype Type) *entry {
	switch qtype {
	case TypeA, TypeAAAA:
		if e := l.addrRecs.Load(); e != nil {
			return e
		}
		e := &entry{}
		e.appendAddrs(make([]Record, 0, l.addrs.Len()), l.owner, l.ttl, treeValues(l.addrs))
		if !l.addrRecs.CompareAndSwap(nil, e) {
			e = l.addrRecs.Load()
		}
		return e
	case TypeSRV:
		if e := l.srvRecs.Load(); e != nil {
			return e
		}
		e := &entry{}
		e.appendSRV(make([]Record, 0, l.srv.Len()+l.extra.Len()), l.owner, l.ttl, l.n, treeValues(l.srv), treeValues(l.extra))
		if !l.srvRecs.CompareAndSwap(nil, e) {
			e = l.srvRecs.Load()
		}
		return e
	}
	return emptyEntry
}

// makeEntry makes the records of owner from its items (see agg).
func (r *Resolver) makeEntry(owner string, items []item) *entry {
	a := agg{owner: owner}
	for _, it := range items {
		a.add(it, 1)
	}
	return a.entry(r.ttl)
}

// clusterIPEntry makes the records of a ClusterIP Service's name (port
// nil) or of one of its named ports. Spec §2.3: A/AAAA for the
// ClusterIPs, SRV per named port with the Service as target. CoreDNS also
// answers SRV on the Service name itself, one per port (named or not),
// and A/AAAA on the port names.
func (r *Resolver) clusterIPEntry(st *svcState, owner string, port *portSpec) *entry {
	sp := st.spec
	var ps []portSpec
	switch {
	case port != nil:
		ps = []portSpec{*port}
	case len(sp.ports) > 0:
		ps = sp.ports
	default:
		ps = []portSpec{{port: -1}}
	}
	items := make([]item, 0, len(ps)*len(sp.clusterIPs))
	for _, p := range ps {
		for _, a := range sp.clusterIPs {
			items = append(items, item{a, p.port, st.fqdn})
		}
	}
	return r.makeEntry(owner, items)
}

// portLabel is the label in front of a Service name that names the SRV
// records of a port: "_http._tcp".
func portLabel(name, proto string) string { return "_" + name + "._" + proto }

// endpointHostname is the spec's hostname of an endpoint: its hostname
// field, else a name made from its address as CoreDNS's endpointHostname
// does ("10-0-0-1", "fd00--1").
func endpointHostname(hostname string, a netip.Addr) string {
	if hostname != "" {
		return strings.ToLower(hostname)
	}
	return podLabel(a)
}
