package dnsname

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
)

// svcNode is one Service in a snapshot, immutable once published: its
// spec and what DNS reads of each of its slices. The answers of its names
// are made from it at query time (see answerItems), so that a Service
// costs what its inputs weigh, not what its records would: for 10 000
// Services of five endpoints, some 11 MiB where precomputed records took
// 77 MiB.
//
// A change of one slice makes a new node that shares every other slice's
// sliceRec with the previous one, so that a slice update costs the slice
// and the node's array of slice pointers, whatever the size of the
// Service.
//
// A node lives while its Service or one of its slices exists; the node of
// a missing Service (spec nil) answers nothing and holds the slices that
// wait for it.
type svcNode struct {
	fqdn string // "<svc>.<ns>.svc.<zone>."
	klen int    // fqdn[:klen] is "<svc>.<ns>", the node's key in snapshot.svcs
	spec *svcSpec
	// slices are sorted by name.
	slices []*sliceRec
	// wide is set for a headless Service of wideRows endpoint addresses
	// or more: it memoizes the answers that list them all.
	wide *wideCache
}

// key returns "<svc>.<ns>", the node's key in snapshot.svcs.
func (n *svcNode) key() string { return n.fqdn[:n.klen] }

// sliceRec is what DNS keeps of one EndpointSlice, immutable once
// published: its ports and one row per endpoint address, instead of the
// slice itself, which holds much that DNS never reads (object metadata,
// conditions, topology, a map of labels) and is the caller's to keep or
// drop.
type sliceRec struct {
	name  string
	ports []slicePort
	// rows are sorted by label, in the order of the names they make
	// (cmpLabel), then by address and readiness (compareRow); endpoints
	// without an address have none.
	rows []epRow
	// byAddr indexes rows by address (rows[byAddr[i]] sorted by addr)
	// in a slice of more than scanRows rows, so that finding an
	// address's rows (a PTR query, a claim) costs O(log n) there; a
	// smaller slice is scanned.
	byAddr []int32
}

// scanRows is the most rows of a slice without a byAddr index: below
// it, a scan is as fast as a binary search.
const scanRows = 16

// addrRows calls f for each row of s with address a, until f returns
// false.
func (s *sliceRec) addrRows(a netip.Addr, f func(*epRow) bool) {
	if s.byAddr == nil {
		for i := range s.rows {
			if s.rows[i].addr == a && !f(&s.rows[i]) {
				return
			}
		}
		return
	}
	i, j := 0, len(s.byAddr)
	for i < j {
		h := int(uint(i+j) >> 1)
		if s.rows[s.byAddr[h]].addr.Compare(a) < 0 {
			i = h + 1
		} else {
			j = h
		}
	}
	for ; i < len(s.byAddr) && s.rows[s.byAddr[i]].addr == a; i++ {
		if !f(&s.rows[s.byAddr[i]]) {
			return
		}
	}
}

// epRow is one address of an endpoint.
type epRow struct {
	// label is the endpoint's name in front of the Service's: its
	// hostname field, lowercase, or its address with dashes.
	label string
	addr  netip.Addr // unmapped
	ready bool
}

// published reports whether DNS publishes row: it is ready, or the
// Service publishes not-ready addresses (spec §2.1, "ready"; the
// endpoints controller already marks them ready then, which this
// repeats for slices fed directly).
func (sp *svcSpec) published(row *epRow) bool { return row.ready || sp.publishNotReady }

func compareRow(x, y epRow) int {
	if c := compareLabels(x.label, y.label); c != 0 {
		return c
	}
	if c := x.addr.Compare(y.addr); c != 0 {
		return c
	}
	return compareBool(x.ready, y.ready)
}

func compareBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

// compareLabels is cmpLabel for strings, comparing their common prefix
// with strings.Compare, which is faster than a loop: sorting calls it
// O(n log n) times.
func compareLabels(x, y string) int {
	n := min(len(x), len(y))
	if c := strings.Compare(x[:n], y[:n]); c != 0 {
		return c
	}
	switch {
	case len(x) == len(y):
		return 0
	case len(x) < len(y):
		return cmp.Compare('.', y[n])
	}
	return cmp.Compare(x[n], '.')
}

// cmpLabel compares two labels as the names "<label>.<rest>" they
// begin compare, for one rest: as x+"." and y+".", so that "a-b" comes
// before "a" as "a-b.web..." before "a.web...".
func cmpLabel[X, Y ~string | ~[]byte](x X, y Y) int {
	n := min(len(x), len(y))
	for i := 0; i < n; i++ {
		if x[i] != y[i] {
			return cmp.Compare(x[i], y[i])
		}
	}
	switch {
	case len(x) == len(y):
		return 0
	case len(x) < len(y):
		return cmp.Compare('.', y[n])
	}
	return cmp.Compare(x[n], '.')
}

// slicePort is a port of a slice as the names use it: the port, and the
// label of its SRV name ("" for an unnamed port).
type slicePort struct {
	port  int32
	label string
}

// noSlicePorts stands for a slice without ports: its endpoints have
// addresses but no SRV records.
var noSlicePorts = []slicePort{{port: -1}}

// portsOf returns the slicePorts of ports, or prev's when they are the
// same, so that an unchanged slice's ports are not made again.
func portsOf(ports []endpoints.Port, prev []slicePort) []slicePort {
	if len(ports) == 0 {
		return noSlicePorts
	}
	if samePorts(ports, prev) {
		return prev
	}
	ps := make([]slicePort, len(ports))
	for i, p := range ports {
		ps[i].port = p.Port
		if p.Name != "" && p.Port >= 0 {
			proto, _ := protoLabel(p.Protocol) // checked by Batch.Slices
			ps[i].label = portLabel(strings.ToLower(p.Name), proto)
		}
	}
	return ps
}

// samePorts reports whether portsOf(ports, nil) would equal prev,
// without making its labels.
func samePorts(ports []endpoints.Port, prev []slicePort) bool {
	if len(ports) != len(prev) {
		return false
	}
	var buf [64]byte
	for i, p := range ports {
		if prev[i].port != p.Port {
			return false
		}
		if p.Name == "" || p.Port < 0 {
			if prev[i].label != "" {
				return false
			}
			continue
		}
		proto, _ := protoLabel(p.Protocol)
		b := append(buf[:0], '_')
		for j := 0; j < len(p.Name); j++ { // strings.ToLower of an ASCII name
			c := p.Name[j]
			if c >= 0x80 {
				return false // not worth the trouble: make them
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		b = append(b, "._"...)
		b = append(b, proto...)
		if string(b) != prev[i].label {
			return false
		}
	}
	return true
}

// holdSlice keeps what DNS reads of s, indexing its rows by address
// when it has more than minIndex. prev (nil: none) is what DNS holds of
// the slice's previous version: its labels are reused for the addresses
// that keep them, and prev itself is returned when s makes the same
// record, so that an unchanged endpoint costs no allocation. buf is
// scratch space for the rows; holdSlice returns it, grown, for the next
// call.
func holdSlice(s *endpoints.Slice, minIndex int, prev *sliceRec, buf []epRow) (*sliceRec, []epRow) {
	var prevPorts []slicePort
	if prev != nil {
		prevPorts = prev.ports
	}
	ports := portsOf(s.Ports, prevPorts)
	rows := buf[:0]
	var lb [64]byte
	for _, ep := range s.Endpoints {
		if ep == nil {
			continue
		}
		for _, a := range ep.Addresses {
			if !a.IsValid() {
				continue
			}
			a = a.Unmap()
			rows = append(rows, epRow{label: hostLabel(ep.Hostname, a, prev, lb[:0]), addr: a, ready: ep.Conditions.Ready})
		}
	}
	slices.SortFunc(rows, compareRow)
	if prev != nil && prev.name == s.Name && len(ports) == len(prev.ports) && &ports[0] == &prev.ports[0] &&
		slices.Equal(rows, prev.rows) && (len(rows) > minIndex) == (prev.byAddr != nil) {
		return prev, rows
	}
	rec := &sliceRec{name: s.Name, ports: ports, rows: slices.Clone(rows)}
	if len(rows) == 0 {
		rec.rows = make([]epRow, 0) // as before: empty, not nil
	}
	if len(rec.rows) > minIndex {
		rec.byAddr = make([]int32, len(rec.rows))
		for i := range rec.byAddr {
			rec.byAddr[i] = int32(i)
		}
		slices.SortFunc(rec.byAddr, func(x, y int32) int { return rec.rows[x].addr.Compare(rec.rows[y].addr) })
	}
	return rec, rows
}

// hostLabel is the spec's hostname of an endpoint: its hostname field,
// lowercase, else a name made from its address as CoreDNS's
// endpointHostname does ("10-0-0-1", "fd00--1"). It is taken from a row
// of prev with address a when one has it, so that an address that keeps its label
// costs no new string. b is scratch space.
func hostLabel(hostname string, a netip.Addr, prev *sliceRec, b []byte) string {
	if hostname != "" {
		b = appendLower(b, hostname)
	} else {
		b = appendPodLabel(b, a)
	}
	label := ""
	if prev != nil {
		prev.addrRows(a, func(row *epRow) bool {
			if row.label == string(b) {
				label = row.label
				return false
			}
			return true
		})
	}
	if label == "" && len(b) > 0 {
		if hostname != "" {
			label = strings.ToLower(hostname) // hostname itself when it is lowercase
		} else {
			label = string(b)
		}
	}
	return label
}

// appendLower appends s in lowercase as strings.ToLower makes it.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// hostRows returns the rows of s whose label is label.
func (s *sliceRec) hostRows(label []byte) []epRow {
	// A binary search written out: slices.BinarySearchFunc would make
	// label escape, and the query's name with it.
	i, j := 0, len(s.rows)
	for i < j {
		h := int(uint(i+j) >> 1)
		if cmpLabel(s.rows[h].label, label) < 0 {
			i = h + 1
		} else {
			j = h
		}
	}
	for j < len(s.rows) && s.rows[j].label == string(label) {
		j++
	}
	return s.rows[i:j]
}

// hasPortLabel reports whether a port of s has the SRV label label.
func (s *sliceRec) hasPortLabel(label []byte) bool {
	for _, p := range s.ports {
		if p.label == string(label) {
			return true
		}
	}
	return false
}

// claims reports whether the Service has a PTR claim on a: a is one of
// its ClusterIPs (spec §2.3.3), or the address of one of its published
// endpoints (§2.4.3; CoreDNS answers these for ClusterIP Services too).
func (n *svcNode) claims(a netip.Addr) bool {
	sp := n.spec
	if sp == nil || sp.external {
		return false
	}
	if !sp.headless && slices.Contains(sp.clusterIPs, a) {
		return true
	}
	claimed := false
	for _, s := range n.slices {
		s.addrRows(a, func(row *epRow) bool {
			claimed = sp.published(row)
			return !claimed
		})
		if claimed {
			return true
		}
	}
	return false
}

// addrChanges appends to addrs the addresses whose claim a change of a
// slice from old to next (either may be nil) may change: those of the
// rows that are in one and not in the other, found in one merge of the
// two sorted row lists. (A row whose label alone changed adds its
// address needlessly: the claim is the Service's, and PTR targets are
// made at query time.)
func addrChanges(addrs []netip.Addr, old, next *sliceRec) []netip.Addr {
	var o, n []epRow
	if old != nil {
		o = old.rows
	}
	if next != nil {
		n = next.rows
	}
	for len(o) > 0 || len(n) > 0 {
		c := 0 // <0: o[0] is gone; >0: n[0] is new
		switch {
		case len(n) == 0:
			c = -1
		case len(o) == 0:
			c = 1
		default:
			c = compareRow(o[0], n[0])
		}
		switch {
		case c == 0:
			o, n = o[1:], n[1:]
		case c < 0:
			addrs, o = append(addrs, o[0].addr), o[1:]
		default:
			addrs, n = append(addrs, n[0].addr), n[1:]
		}
	}
	return addrs
}

// rows returns the number of rows of n's slices.
func (n *svcNode) rows() int {
	k := 0
	for _, s := range n.slices {
		k += len(s.rows)
	}
	return k
}

// allAddrs appends the addresses of every row of n's slices.
func (n *svcNode) allAddrs(addrs []netip.Addr) []netip.Addr {
	for _, s := range n.slices {
		for _, r := range s.rows {
			addrs = append(addrs, r.addr)
		}
	}
	return addrs
}

func sameSpec(x, y *svcSpec) bool {
	return x.name == y.name && x.ns == y.ns && x.external == y.external && x.externalName == y.externalName &&
		x.headless == y.headless && x.publishNotReady == y.publishNotReady &&
		slices.Equal(x.clusterIPs, y.clusterIPs) && slices.Equal(x.ports, y.ports)
}

// portLabel is the label in front of a Service name that names the SRV
// records of a port: "_http._tcp".
func portLabel(name, proto string) string { return "_" + name + "._" + proto }
