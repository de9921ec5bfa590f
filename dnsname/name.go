package dnsname

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/service"
)

// DefaultZone is the cluster domain used when none is configured, as in
// kubeadm's and CoreDNS's defaults.
const DefaultZone = "cluster.local"

// SchemaVersion is the version of the Kubernetes DNS-Based Service
// Discovery specification implemented here (kubernetes/dns
// docs/specification.md), published as the TXT record of dns-version.<zone>.
const SchemaVersion = "1.1.0"

// The reverse-mapping zones (RFC 1035 §3.5, RFC 3596 §2.5).
const (
	reverse4 = "in-addr.arpa"
	reverse6 = "ip6.arpa"
)

// Kind says which name of the DNS specification a Name is. The zero Kind
// is invalid.
type Kind uint8

// The kinds of name. The first six are the names the specification
// defines records for; the rest are the structural names above them,
// which exist (the resolver answers them NODATA) but hold no records.
const (
	// KindService is <svc>.<ns>.svc.<zone> (spec §2.3.1, §2.4.1, §2.5).
	KindService Kind = iota + 1
	// KindEndpoint is <hostname>.<svc>.<ns>.svc.<zone> (spec §2.4.1).
	KindEndpoint
	// KindPort is _<port>._<proto>.<svc>.<ns>.svc.<zone>, the SRV name of
	// a named port (spec §2.3.2, §2.4.2).
	KindPort
	// KindPTR is the reverse name of an address: <d>.<c>.<b>.<a>.in-addr.arpa,
	// or the 32 nibbles of an IPv6 address, reversed, under ip6.arpa
	// (spec §2.3.3, §2.4.3).
	KindPTR
	// KindVersion is dns-version.<zone> (spec §2.2).
	KindVersion
	// KindPod is <a-b-c-d>.<ns>.pod.<zone>, an IPv6 address written with
	// '-' for ':' (spec §2.6, deprecated but required).
	KindPod
	// KindApex is the zone itself.
	KindApex
	// KindServices is svc.<zone>.
	KindServices
	// KindNamespace is <ns>.svc.<zone>.
	KindNamespace
	// KindPods is pod.<zone>.
	KindPods
	// KindPodNamespace is <ns>.pod.<zone>.
	KindPodNamespace
)

var kindNames = [...]string{
	KindService:      "service",
	KindEndpoint:     "endpoint",
	KindPort:         "port",
	KindPTR:          "ptr",
	KindVersion:      "version",
	KindPod:          "pod",
	KindApex:         "apex",
	KindServices:     "services",
	KindNamespace:    "namespace",
	KindPods:         "pods",
	KindPodNamespace: "pod-namespace",
}

// String returns the kind's lowercase name ("service", "ptr", ...).
func (k Kind) String() string {
	if k == 0 || int(k) >= len(kindNames) {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Name is a parsed cluster DNS name: its kind and the parts it is made
// of. It is a small comparable value; the zero Name is invalid. Which
// fields are set depends on Kind:
//
//	KindService       Zone, Namespace, Service
//	KindEndpoint      Zone, Namespace, Service, Hostname
//	KindPort          Zone, Namespace, Service, Port, Protocol
//	KindPTR           Zone (the zone it was parsed against), Addr
//	KindVersion       Zone
//	KindPod           Zone, Namespace, Addr
//	KindApex          Zone
//	KindServices      Zone
//	KindNamespace     Zone, Namespace
//	KindPods          Zone
//	KindPodNamespace  Zone, Namespace
//
// All strings are lowercase and carry no dots (Zone excepted) and no
// underscores: Port is "http" for the label "_http".
type Name struct {
	Kind Kind
	// Zone is the cluster domain without a trailing dot ("cluster.local").
	Zone      string
	Namespace string
	Service   string
	// Hostname is an endpoint's hostname: its hostname field, or the
	// name generated from its address ("10-0-0-1", "fd00--1").
	Hostname string
	// Port is the name of a Service port.
	Port string
	// Protocol is the port's protocol: ProtocolTCP for "_tcp".
	Protocol service.Protocol
	// Addr is the address of a PTR or pod name.
	Addr netip.Addr
}

// String returns the name in canonical form: lowercase and fully
// qualified, with the trailing dot ("web.default.svc.cluster.local.").
// For a valid Name, Parse(n.String(), n.Zone) returns n. An empty Zone
// is taken as DefaultZone. The zero Name prints as "invalid Name".
func (n Name) String() string {
	zone := n.Zone
	if zone == "" {
		zone = DefaultZone
	}
	switch n.Kind {
	case KindService:
		return n.Service + "." + n.Namespace + ".svc." + zone + "."
	case KindEndpoint:
		return n.Hostname + "." + n.Service + "." + n.Namespace + ".svc." + zone + "."
	case KindPort:
		return "_" + n.Port + "._" + strings.ToLower(string(n.Protocol)) + "." + n.Service + "." + n.Namespace + ".svc." + zone + "."
	case KindPTR:
		return PTRName(n.Addr)
	case KindVersion:
		return "dns-version." + zone + "."
	case KindPod:
		return podLabel(n.Addr) + "." + n.Namespace + ".pod." + zone + "."
	case KindApex:
		return zone + "."
	case KindServices:
		return "svc." + zone + "."
	case KindNamespace:
		return n.Namespace + ".svc." + zone + "."
	case KindPods:
		return "pod." + zone + "."
	case KindPodNamespace:
		return n.Namespace + ".pod." + zone + "."
	}
	return "invalid Name"
}

// Validate returns nil when n is a valid name of its kind: every part its
// kind uses is set and follows Kubernetes' rule for it (a Service name is
// a DNS-1035 label, a namespace and a port name DNS-1123 labels, a
// hostname at most 63 of [-a-z0-9] as CoreDNS accepts, a protocol TCP,
// UDP or SCTP), parts its kind does not use are empty, and the whole name
// fits in 253 octets. Otherwise it returns a *NameError.
func (n Name) Validate() error {
	if n.Kind == 0 || int(n.Kind) >= len(kindNames) {
		return nameErr(ErrInvalidName, n.Kind.String(), "is not a name kind")
	}
	if err := validateZone(n.Zone); err != nil {
		return err
	}
	uses := kindFields[n.Kind]
	fields := [...]struct {
		bit   uint8
		set   bool
		name  string
		value string
	}{
		{fNamespace, n.Namespace != "", "namespace", n.Namespace},
		{fService, n.Service != "", "service", n.Service},
		{fHostname, n.Hostname != "", "hostname", n.Hostname},
		{fPort, n.Port != "", "port", n.Port},
		{fProtocol, n.Protocol != "", "protocol", string(n.Protocol)},
		{fAddr, n.Addr.IsValid(), "address", n.Addr.String()},
	}
	for _, f := range fields {
		switch {
		case uses&f.bit != 0 && !f.set:
			return nameErr(ErrInvalidName, n.Kind.String(), "name has no "+f.name)
		case uses&f.bit == 0 && f.set:
			return nameErr(ErrInvalidName, f.value, "is a "+f.name+", which a "+n.Kind.String()+" name does not have")
		}
	}
	if uses&fNamespace != 0 {
		if err := ValidateDNS1123Label(n.Namespace); err != nil {
			return err
		}
	}
	if uses&fService != 0 {
		if err := ValidateDNS1035Label(n.Service); err != nil {
			return err
		}
	}
	if uses&fHostname != 0 && !isHostname(n.Hostname) {
		return nameErr(ErrInvalidName, n.Hostname, "is not a valid hostname: must be 1-63 of [-a-z0-9]")
	}
	if uses&fPort != 0 {
		if err := ValidateDNS1123Label(n.Port); err != nil {
			return err
		}
	}
	if uses&fProtocol != 0 {
		if _, ok := protocolOf(strings.ToLower(string(n.Protocol))); !ok || strings.ToUpper(string(n.Protocol)) != string(n.Protocol) {
			return nameErr(ErrInvalidName, string(n.Protocol), "is not a protocol: must be TCP, UDP or SCTP")
		}
	}
	if uses&fAddr != 0 && (n.Addr.Zone() != "" || n.Addr.Is4In6()) {
		return nameErr(ErrInvalidName, n.Addr.String(), "cannot be named: an address with a zone or an IPv4-mapped IPv6 address has no canonical name")
	}
	if s := n.String(); len(s)-1 > MaxNameLength {
		return nameErr(ErrInvalidName, s, "is longer than 253 octets")
	}
	return nil
}

const (
	fNamespace uint8 = 1 << iota
	fService
	fHostname
	fPort
	fProtocol
	fAddr
)

var kindFields = [...]uint8{
	KindService:      fNamespace | fService,
	KindEndpoint:     fNamespace | fService | fHostname,
	KindPort:         fNamespace | fService | fPort | fProtocol,
	KindPTR:          fAddr,
	KindVersion:      0,
	KindPod:          fNamespace | fAddr,
	KindApex:         0,
	KindServices:     0,
	KindNamespace:    fNamespace,
	KindPods:         0,
	KindPodNamespace: fNamespace,
}

// ServiceName returns <svc>.<ns>.svc.<zone>., the name of a Service.
// In every builder an empty zone means DefaultZone and the zone may carry
// a trailing dot. The parts are not validated: build a Name and call
// Validate for that.
func ServiceName(svc, ns, zone string) string {
	return Name{Kind: KindService, Service: svc, Namespace: ns, Zone: normalizeZone(zone)}.String()
}

// EndpointName returns <hostname>.<svc>.<ns>.svc.<zone>., the name of one
// endpoint of a Service (a StatefulSet pod's stable name when hostname is
// its spec.hostname and the Service is its spec.subdomain).
func EndpointName(hostname, svc, ns, zone string) string {
	return Name{Kind: KindEndpoint, Hostname: hostname, Service: svc, Namespace: ns, Zone: normalizeZone(zone)}.String()
}

// SRVName returns _<port>._<proto>.<svc>.<ns>.svc.<zone>., the SRV name of
// a named Service port; proto is lowercased ("_tcp").
func SRVName(port string, proto service.Protocol, svc, ns, zone string) string {
	return Name{Kind: KindPort, Port: port, Protocol: proto, Service: svc, Namespace: ns, Zone: normalizeZone(zone)}.String()
}

// VersionName returns dns-version.<zone>., which holds the schema version TXT record.
func VersionName(zone string) string {
	return Name{Kind: KindVersion, Zone: normalizeZone(zone)}.String()
}

// PodName returns <a-b-c-d>.<ns>.pod.<zone>. for a pod address, an IPv6
// address written with '-' for each ':' ("fd00--1").
func PodName(addr netip.Addr, ns, zone string) string {
	return Name{Kind: KindPod, Addr: addr, Namespace: ns, Zone: normalizeZone(zone)}.String()
}

// PTRName returns the reverse name of addr: 1.0.96.10.in-addr.arpa. for
// 10.96.0.1, and for an IPv6 address its 32 nibbles, lowest first, under
// ip6.arpa. (RFC 3596 §2.5). An IPv4-mapped IPv6 address is named as the
// IPv6 address it is. The invalid Addr gives "".
func PTRName(addr netip.Addr) string {
	var buf [73]byte // 32 nibbles and dots, "ip6.arpa."
	return string(appendPTRName(buf[:0], addr))
}

func appendPTRName(b []byte, addr netip.Addr) []byte {
	switch {
	case addr.Is4():
		a := addr.As4()
		for i := 3; i >= 0; i-- {
			b = strconv.AppendUint(b, uint64(a[i]), 10)
			b = append(b, '.')
		}
		return append(b, reverse4+"."...)
	case addr.Is6():
		a := addr.As16()
		const hex = "0123456789abcdef"
		for i := 15; i >= 0; i-- {
			b = append(b, hex[a[i]&0xf], '.', hex[a[i]>>4], '.')
		}
		return append(b, reverse6+"."...)
	}
	return b
}

// podLabel writes an address as one label: dots or colons become dashes
// (CoreDNS plugin/kubernetes, findPods and endpointHostname).
func podLabel(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	// "ffff:...:ffff%zone" fits, but for a long zone; one allocation:
	// endpoint names make one per address.
	var buf [64]byte
	return string(appendPodLabel(buf[:0], addr))
}

// appendPodLabel appends podLabel(addr) to b.
func appendPodLabel(b []byte, addr netip.Addr) []byte {
	if !addr.IsValid() {
		return b
	}
	n := len(b)
	b = addr.AppendTo(b)
	sep := byte(':')
	if addr.Is4() {
		sep = '.'
	}
	for i := n; i < len(b); i++ {
		if b[i] == sep {
			b[i] = '-'
		}
	}
	return b
}

// parsePodLabel reverses podLabel as CoreDNS does: exactly three dashes
// and no "--" make an IPv4 address, anything else an IPv6 one. Addresses
// with a zone and IPv4-mapped IPv6 addresses are rejected.
func parsePodLabel(l string) (netip.Addr, bool) {
	var s string
	if strings.Count(l, "-") == 3 && !strings.Contains(l, "--") {
		s = strings.ReplaceAll(l, "-", ".")
	} else {
		s = strings.ReplaceAll(l, "-", ":")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return netip.Addr{}, false
	}
	return a, true
}

// isHostname reports whether s can be an endpoint label: 1-63 of
// [-a-z0-9], CoreDNS's rule, which admits the names it generates from
// IPv6 addresses ("fd00--1").
func isHostname(s string) bool {
	if s == "" || len(s) > MaxLabelLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func protocolOf(label string) (service.Protocol, bool) {
	switch label {
	case "tcp":
		return service.ProtocolTCP, true
	case "udp":
		return service.ProtocolUDP, true
	case "sctp":
		return service.ProtocolSCTP, true
	}
	return "", false
}

// normalizeZone returns zone lowercased, without a trailing dot, and
// DefaultZone for "".
func normalizeZone(zone string) string {
	zone = strings.ToLower(strings.TrimSuffix(zone, "."))
	if zone == "" {
		return DefaultZone
	}
	return zone
}

func validateZone(zone string) error {
	if zone == "" {
		return nameErr(ErrInvalidName, zone, "is not a zone: the zone is empty")
	}
	if err := ValidateDNS1123Subdomain(zone); err != nil {
		return err
	}
	if msg := syntax(zone); msg != "" {
		return nameErr(ErrInvalidName, zone, msg)
	}
	// The reverse zones are answered beside the cluster zone; a cluster
	// zone inside them would make PTR names ambiguous.
	if zone == "arpa" || strings.HasSuffix(zone, ".arpa") {
		return nameErr(ErrInvalidName, zone, "is not a cluster zone: it is under arpa, where the reverse zones are")
	}
	return nil
}

// syntax checks what every DNS name in presentation form must satisfy
// (RFC 1035 §2.3.4): s, without its trailing dot, is at most 253 octets
// of non-empty labels of at most 63 octets. Beyond DNS, the labels may
// hold only letters, digits, '-' and '_', which covers every name the
// specification defines. It returns "" or the problem.
func syntax(s string) string {
	if s == "" {
		return "is empty"
	}
	if len(s) > MaxNameLength {
		return "is longer than 253 octets"
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			switch n := i - start; {
			case n == 0:
				return "has an empty label at byte " + strconv.Itoa(i)
			case n > MaxLabelLength:
				return "has a label longer than 63 octets at byte " + strconv.Itoa(start)
			}
			start = i + 1
			continue
		}
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "has the character " + strconv.QuoteRune(rune(c)) + " at byte " + strconv.Itoa(i)
		}
	}
	return ""
}

// Parse reads a name of the cluster zone (an empty zone means
// DefaultZone) or a reverse name. Matching is case-insensitive and a
// trailing dot is accepted; the Name returned is lowercase. Parse checks
// the DNS limits (labels of 1–63 octets, names of at most 253) and the
// Kubernetes rule of each part (see Name.Validate), so that every Name it
// returns is valid and Parse(n.String(), zone) == n.
//
// Errors are *NameError wrapping ErrInvalidName (bad syntax or a part
// that breaks its rule), ErrNotInZone, or ErrUndefinedName (a name in the
// zone that the specification does not define). Parse never panics.
func Parse(name, zone string) (Name, error) {
	zone = normalizeZone(zone)
	if err := validateZone(zone); err != nil {
		return Name{}, err
	}
	s := strings.TrimSuffix(name, ".")
	if msg := syntax(s); msg != "" {
		return Name{}, nameErr(ErrInvalidName, name, msg)
	}
	s = strings.ToLower(s)
	switch {
	case s == zone:
		return Name{Kind: KindApex, Zone: zone}, nil
	case len(s) > len(zone) && s[len(s)-len(zone)-1] == '.' && s[len(s)-len(zone):] == zone:
		return parseInZone(name, s[:len(s)-len(zone)-1], zone)
	case strings.HasSuffix(s, "."+reverse4), strings.HasSuffix(s, "."+reverse6), s == reverse4, s == reverse6:
		addr, ok := parseReverse([]byte(s))
		if !ok {
			return Name{}, nameErr(ErrUndefinedName, name, "is not the reverse name of one address")
		}
		return Name{Kind: KindPTR, Zone: zone, Addr: addr}, nil
	}
	return Name{}, nameErr(ErrNotInZone, name, "is not in zone "+strconv.Quote(zone))
}

// parseInZone parses rel, the lowercase labels in front of the zone. The
// grammar follows CoreDNS's parseRequest (plugin/kubernetes/parse.go),
// restricted to the specification's shapes: the SRV labels must carry
// their underscores, and a pod name has no labels in front.
func parseInZone(orig, rel, zone string) (Name, error) {
	if rel == "dns-version" {
		return Name{Kind: KindVersion, Zone: zone}, nil
	}
	labels := splitFromRight(rel)
	undefined := func() (Name, error) {
		return Name{}, nameErr(ErrUndefinedName, orig, "is not a name the Kubernetes DNS specification defines in zone "+strconv.Quote(zone))
	}
	var n Name
	n.Zone = zone
	switch labels[0] {
	case "svc":
		n.Kind = KindServices
	case "pod":
		n.Kind = KindPods
	default:
		return undefined()
	}
	if len(labels) == 1 {
		return n, nil
	}
	n.Namespace = labels[1]
	if err := ValidateDNS1123Label(n.Namespace); err != nil {
		return Name{}, err
	}
	if n.Kind == KindPods {
		n.Kind = KindPodNamespace
		switch len(labels) {
		case 2:
			return n, nil
		case 3:
			addr, ok := parsePodLabel(labels[2])
			if !ok {
				return Name{}, nameErr(ErrInvalidName, labels[2], "is not a pod address label (a-b-c-d, or IPv6 with '-' for ':')")
			}
			n.Kind, n.Addr = KindPod, addr
			return n, nil
		}
		return undefined()
	}
	n.Kind = KindNamespace
	if len(labels) == 2 {
		return n, nil
	}
	n.Kind, n.Service = KindService, labels[2]
	if err := ValidateDNS1035Label(n.Service); err != nil {
		return Name{}, err
	}
	switch len(labels) {
	case 3:
		return n, nil
	case 4:
		if !isHostname(labels[3]) {
			return Name{}, nameErr(ErrInvalidName, labels[3], "is not a valid hostname: must be 1-63 of [-a-z0-9]")
		}
		n.Kind, n.Hostname = KindEndpoint, labels[3]
		return n, nil
	case 5:
		proto, port := labels[3], labels[4]
		if !strings.HasPrefix(proto, "_") || !strings.HasPrefix(port, "_") {
			return undefined()
		}
		p, ok := protocolOf(proto[1:])
		if !ok {
			return Name{}, nameErr(ErrInvalidName, proto, "is not a protocol label: must be _tcp, _udp or _sctp")
		}
		if err := ValidateDNS1123Label(port[1:]); err != nil {
			return Name{}, err
		}
		n.Kind, n.Port, n.Protocol = KindPort, port[1:], p
		return n, nil
	}
	return undefined()
}

// splitFromRight returns the labels of s, last label first.
func splitFromRight(s string) []string {
	labels := make([]string, 0, 5)
	for {
		i := strings.LastIndexByte(s, '.')
		labels = append(labels, s[i+1:])
		if i < 0 {
			return labels
		}
		s = s[:i]
	}
}

// parseReverse reads the address of a complete lowercase reverse name
// without its trailing dot: four canonical decimal octets under
// in-addr.arpa, or 32 single hex nibbles under ip6.arpa. It works on
// bytes so that the resolver can call it without allocating.
func parseReverse(s []byte) (netip.Addr, bool) {
	if rel, ok := bytes.CutSuffix(s, []byte("."+reverse4)); ok {
		var a [4]byte
		for i := 0; i < 4; i++ {
			j := bytes.LastIndexByte(rel, '.')
			if (j < 0) != (i == 3) {
				return netip.Addr{}, false
			}
			v, ok := parseOctet(rel[j+1:])
			if !ok {
				return netip.Addr{}, false
			}
			a[i] = v
			if j >= 0 {
				rel = rel[:j]
			}
		}
		return netip.AddrFrom4(a), true
	}
	if rel, ok := bytes.CutSuffix(s, []byte("."+reverse6)); ok {
		if len(rel) != 63 {
			return netip.Addr{}, false
		}
		var a [16]byte
		for i := 0; i < 32; i++ {
			if i > 0 && rel[2*i-1] != '.' {
				return netip.Addr{}, false
			}
			v, ok := nibble(rel[2*i])
			if !ok {
				return netip.Addr{}, false
			}
			// Label i is nibble i counting from the low end.
			b := 15 - i/2
			if i%2 == 0 {
				a[b] |= v
			} else {
				a[b] |= v << 4
			}
		}
		return netip.AddrFrom16(a), true
	}
	return netip.Addr{}, false
}

func parseOctet(s []byte) (byte, bool) {
	if len(s) == 0 || len(s) > 3 || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	if v > 255 {
		return 0, false
	}
	return byte(v), true
}

func nibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
