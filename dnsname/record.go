package dnsname

import (
	"net/netip"
	"strconv"
	"strings"
)

// Type is a DNS record type (RFC 1035 §3.2.2 and later). The resolver
// answers A, AAAA, SRV, PTR, CNAME and TXT; every other type is answered
// by existence only (NODATA or NXDOMAIN).
type Type uint16

// The record types the resolver knows by name.
const (
	TypeA     Type = 1
	TypeNS    Type = 2
	TypeCNAME Type = 5
	TypeSOA   Type = 6
	TypePTR   Type = 12
	TypeMX    Type = 15
	TypeTXT   Type = 16
	TypeAAAA  Type = 28
	TypeSRV   Type = 33
	TypeIXFR  Type = 251
	TypeAXFR  Type = 252
	TypeANY   Type = 255
)

// String returns the mnemonic ("AAAA"), or "TYPE<n>" (RFC 3597) for
// types without one here.
func (t Type) String() string {
	switch t {
	case TypeA:
		return "A"
	case TypeNS:
		return "NS"
	case TypeCNAME:
		return "CNAME"
	case TypeSOA:
		return "SOA"
	case TypePTR:
		return "PTR"
	case TypeMX:
		return "MX"
	case TypeTXT:
		return "TXT"
	case TypeAAAA:
		return "AAAA"
	case TypeSRV:
		return "SRV"
	case TypeIXFR:
		return "IXFR"
	case TypeAXFR:
		return "AXFR"
	case TypeANY:
		return "ANY"
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// Rcode is a DNS response code (RFC 1035 §4.1.1).
type Rcode uint8

// The response codes the resolver gives.
const (
	// RcodeNoError: the name exists. With no answers, this is NODATA: the
	// name has no record of the asked type.
	RcodeNoError Rcode = 0
	// RcodeFormErr: the query name is not a DNS name (an empty label, a
	// label over 63 octets, a name over 253).
	RcodeFormErr Rcode = 1
	// RcodeServFail is not produced by the resolver; an Upstream may.
	RcodeServFail Rcode = 2
	// RcodeNXDomain: the name does not exist.
	RcodeNXDomain Rcode = 3
	// RcodeNotImp is not produced by the resolver.
	RcodeNotImp Rcode = 4
	// RcodeRefused: the name is outside the cluster zone and there is no
	// Upstream to ask, or the query is a zone transfer (AXFR, IXFR).
	RcodeRefused Rcode = 5
)

// String returns the mnemonic ("NXDOMAIN"), or "RCODE<n>".
func (c Rcode) String() string {
	switch c {
	case RcodeNoError:
		return "NOERROR"
	case RcodeFormErr:
		return "FORMERR"
	case RcodeServFail:
		return "SERVFAIL"
	case RcodeNXDomain:
		return "NXDOMAIN"
	case RcodeNotImp:
		return "NOTIMP"
	case RcodeRefused:
		return "REFUSED"
	}
	return "RCODE" + strconv.Itoa(int(c))
}

// Record is one resource record, class IN. Which data fields are set
// depends on Type: Addr for A and AAAA; Target for CNAME and PTR;
// Priority, Weight, Port and Target for SRV; Text for TXT (one string).
// Names are lowercase and fully qualified, with the trailing dot.
type Record struct {
	Name     string
	Type     Type
	TTL      uint32
	Addr     netip.Addr
	Target   string
	Priority uint16
	Weight   uint16
	Port     uint16
	Text     string
}

// String formats the record in zone-file presentation, fields separated
// by single spaces: "web.default.svc.cluster.local. 5 IN A 10.96.0.10".
func (r Record) String() string {
	s := r.Name + " " + strconv.FormatUint(uint64(r.TTL), 10) + " IN " + r.Type.String() + " "
	switch r.Type {
	case TypeA, TypeAAAA:
		return s + r.Addr.String()
	case TypeSRV:
		return s + strconv.Itoa(int(r.Priority)) + " " + strconv.Itoa(int(r.Weight)) + " " + strconv.Itoa(int(r.Port)) + " " + r.Target
	case TypeTXT:
		return s + strconv.Quote(r.Text)
	}
	return s + r.Target
}

// Response is the resolver's answer to one query. Its record slices may
// be shared with the resolver's snapshot and with other callers: they
// must not be modified.
type Response struct {
	Rcode Rcode
	// Answer holds the records that answer the question, sorted.
	Answer []Record
	// Additional holds the address records of SRV targets, sorted.
	Additional []Record
}

// NoData reports whether the response says the name exists but has no
// record of the asked type (NOERROR with no answers).
func (r Response) NoData() bool { return r.Rcode == RcodeNoError && len(r.Answer) == 0 }

// String prints the rcode on a ";; " line, then one record per line, the
// additional section after a ";; ADDITIONAL" line.
func (r Response) String() string {
	var b strings.Builder
	b.WriteString(";; " + r.Rcode.String() + "\n")
	for _, rr := range r.Answer {
		b.WriteString(rr.String() + "\n")
	}
	if len(r.Additional) > 0 {
		b.WriteString(";; ADDITIONAL\n")
		for _, rr := range r.Additional {
			b.WriteString(rr.String() + "\n")
		}
	}
	return b.String()
}
