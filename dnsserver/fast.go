package dnsserver

import (
	"encoding/binary"
	"strings"

	"github.com/svcnet/svcnet/dnsname"
)

// The fast path answers the common UDP query — one question of class IN
// for a name of a served zone, at most an EDNS0 OPT record of version 0,
// no compression in the question — by writing the answer's wire form
// directly from the records the resolver makes in a pooled
// dnsname.Scratch, without building miekg messages. Anything else (and any answer that would need truncation)
// takes the miekg/dns path; TestFastPathMatches checks that both give the
// same message for every query kind.

// fastQuery is what the fast path reads from a query.
type fastQuery struct {
	id, flags uint16
	// The question's name in presentation form, fully qualified, in
	// nameBuf[:nameLen]: a query costs no allocation.
	nameBuf  [dnsname.MaxNameLength + 2]byte
	nameLen  int
	qtype    uint16
	qend     int // end of the question section
	edns     bool
	do       bool
	ednsSize uint16
}

func (q *fastQuery) name() []byte { return q.nameBuf[:q.nameLen] }

// parseFast parses b into q if it is a query the fast path answers.
func parseFast(q *fastQuery, b []byte) bool {
	if len(b) < 12 {
		return false
	}
	be := binary.BigEndian
	q.id, q.flags = be.Uint16(b), be.Uint16(b[2:])
	// QR clear, opcode QUERY; one question, no answer or authority, at
	// most one additional (the OPT).
	if q.flags&0xF800 != 0 || be.Uint16(b[4:]) != 1 || be.Uint16(b[6:]) != 0 || be.Uint16(b[8:]) != 0 {
		return false
	}
	ar := be.Uint16(b[10:])
	if ar > 1 {
		return false
	}
	buf := &q.nameBuf
	n, off := 0, 12
	for {
		if off >= len(b) {
			return false
		}
		l := int(b[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(b) || n+l+1 > dnsname.MaxNameLength+1 {
			return false // a pointer, an extended label, or too long
		}
		for _, c := range b[off : off+l] {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false // would need escaping
			}
		}
		n += copy(buf[n:], b[off:off+l])
		buf[n] = '.'
		n++
		off += l
	}
	if n == 0 || off+4 > len(b) {
		return false
	}
	q.nameLen = n
	q.qtype = be.Uint16(b[off:])
	if be.Uint16(b[off+2:]) != 1 { // class IN
		return false
	}
	off += 4
	q.qend = off
	if ar == 1 {
		// OPT: root owner, type 41, class = size, TTL = ext-rcode,
		// version, flags; options skipped.
		if off+11 > len(b) || b[off] != 0 || be.Uint16(b[off+1:]) != 41 {
			return false
		}
		q.edns = true
		q.ednsSize = be.Uint16(b[off+3:])
		if b[off+6] != 0 { // version
			return false
		}
		q.do = b[off+7]&0x80 != 0
		rdlen := int(be.Uint16(b[off+9:]))
		off += 11 + rdlen
	}
	if off != len(b) {
		return false
	}
	return true
}

// fastAnswer appends the answer to q to dst, or returns ok false when the
// query needs the general path.
func (s *Server) fastAnswer(dst, b []byte, q *fastQuery) ([]byte, int, bool) {
	if s.cfg.Autopath != nil {
		return nil, 0, false
	}
	name := q.name()
	zone, ok := zoneOf(s, name)
	if !ok {
		return nil, 0, false
	}
	switch q.qtype {
	case typeSOA, typeNS, typeAXFR, typeIXFR:
		return nil, 0, false
	}
	if len(name) == len(zone)+7 && equalFoldASCII(name[:len(name)-len(zone)], "ns.dns.") {
		return nil, 0, false
	}
	// The records are made in sc, which is not reused before the answer
	// is written.
	sc := s.scratch.Get().(*dnsname.Scratch)
	defer s.scratch.Put(sc)
	resp := s.res.Load().ResolveInto(sc, name, dnsname.Type(q.qtype))
	switch resp.Rcode {
	case dnsname.RcodeNoError:
	case dnsname.RcodeNXDomain:
		if zone != s.zone && s.fwd != nil {
			return nil, 0, false
		}
	default:
		return nil, 0, false
	}
	negative := len(resp.Answer) == 0
	be := binary.BigEndian
	start := len(dst)
	// Header: QR, AA, RD and CD copied, the rcode.
	flags := uint16(0x8400) | q.flags&0x0100 | q.flags&0x0010 | uint16(resp.Rcode)
	var nsCount, arCount uint16
	if negative {
		nsCount = 1
	}
	arCount = uint16(len(resp.Additional))
	if q.edns {
		arCount++
	}
	dst = be.AppendUint16(dst, q.id)
	dst = be.AppendUint16(dst, flags)
	dst = be.AppendUint16(dst, 1)
	dst = be.AppendUint16(dst, uint16(len(resp.Answer)))
	dst = be.AppendUint16(dst, nsCount)
	dst = be.AppendUint16(dst, arCount)
	dst = append(dst, b[12:q.qend]...)
	for _, r := range resp.Answer {
		if dst, ok = appendRecord(dst, r, name); !ok {
			return nil, 0, false
		}
	}
	if negative {
		dst = s.appendSOA(dst, zone)
	}
	for _, r := range resp.Additional {
		if dst, ok = appendRecord(dst, r, name); !ok {
			return nil, 0, false
		}
	}
	if q.edns {
		dst = append(dst, 0, 0, 41)
		dst = be.AppendUint16(dst, s.cfg.UDPSize)
		var do byte
		if q.do {
			do = 0x80
		}
		dst = append(dst, 0, 0, do, 0, 0, 0)
	}
	limit := minimumUDPSize
	if q.edns {
		limit = max(minimumUDPSize, min(int(q.ednsSize), int(s.cfg.UDPSize)))
	}
	if len(dst)-start > limit {
		return nil, 0, false // truncation: the general path
	}
	return dst, int(resp.Rcode), true
}

const (
	typeNS   = 2
	typeSOA  = 6
	typeIXFR = 251
	typeAXFR = 252
)

// equalFoldASCII reports whether a and b are equal ignoring ASCII case,
// which is DNS's (RFC 4343).
func equalFoldASCII[S ~string | ~[]byte](a S, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := a[i], b[i]
		if x-'A' < 26 {
			x += 'a' - 'A'
		}
		if y-'A' < 26 {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// appendName writes a presentation-form name (lowercase labels, trailing
// dot) uncompressed, or as a pointer to the question when it is the
// question's name exactly (qname, nil for none).
func appendName(dst []byte, name string, qname []byte) ([]byte, bool) {
	if qname != nil && name == string(qname) {
		return append(dst, 0xC0, 12), true
	}
	if name == "." {
		return append(dst, 0), true
	}
	for name != "" {
		i := strings.IndexByte(name, '.')
		if i <= 0 || i > 63 {
			return dst, false
		}
		dst = append(dst, byte(i))
		dst = append(dst, name[:i]...)
		name = name[i+1:]
	}
	return append(dst, 0), true
}

func appendRecord(dst []byte, r dnsname.Record, qname []byte) ([]byte, bool) {
	be := binary.BigEndian
	var ok bool
	if dst, ok = appendName(dst, r.Name, qname); !ok {
		return dst, false
	}
	dst = be.AppendUint16(dst, uint16(r.Type))
	dst = be.AppendUint16(dst, 1)
	dst = be.AppendUint32(dst, r.TTL)
	lenAt := len(dst)
	dst = append(dst, 0, 0)
	switch r.Type {
	case dnsname.TypeA:
		a := r.Addr.Unmap().As4()
		dst = append(dst, a[:]...)
	case dnsname.TypeAAAA:
		a := r.Addr.As16()
		dst = append(dst, a[:]...)
	case dnsname.TypeCNAME, dnsname.TypePTR:
		if dst, ok = appendName(dst, r.Target, nil); !ok {
			return dst, false
		}
	case dnsname.TypeSRV:
		dst = be.AppendUint16(dst, r.Priority)
		dst = be.AppendUint16(dst, r.Weight)
		dst = be.AppendUint16(dst, r.Port)
		if dst, ok = appendName(dst, r.Target, nil); !ok {
			return dst, false
		}
	case dnsname.TypeTXT:
		if len(r.Text) > 255 {
			return dst, false
		}
		dst = append(dst, byte(len(r.Text)))
		dst = append(dst, r.Text...)
	default:
		return dst, false
	}
	be.PutUint16(dst[lenAt:], uint16(len(dst)-lenAt-2))
	return dst, true
}

// appendSOA writes the zone's SOA record, as soa makes it.
func (s *Server) appendSOA(dst []byte, zone string) []byte {
	be := binary.BigEndian
	dst, _ = appendName(dst, zone, nil)
	dst = be.AppendUint16(dst, typeSOA)
	dst = be.AppendUint16(dst, 1)
	dst = be.AppendUint32(dst, min(s.ttl, soaMaxTTL))
	lenAt := len(dst)
	dst = append(dst, 0, 0)
	dst = appendLabels(dst, "ns", "dns", zone)
	dst = appendLabels(dst, "hostmaster", zone)
	dst = be.AppendUint32(dst, uint32(s.res.Load().Generation()))
	dst = be.AppendUint32(dst, soaRefresh)
	dst = be.AppendUint32(dst, soaRetry)
	dst = be.AppendUint32(dst, soaExpire)
	dst = be.AppendUint32(dst, s.ttl)
	be.PutUint16(dst[lenAt:], uint16(len(dst)-lenAt-2))
	return dst
}

// appendLabels writes labels followed by a fully qualified name.
func appendLabels(dst []byte, parts ...string) []byte {
	for _, p := range parts[:len(parts)-1] {
		dst = append(dst, byte(len(p)))
		dst = append(dst, p...)
	}
	dst, _ = appendName(dst, parts[len(parts)-1], nil)
	return dst
}
