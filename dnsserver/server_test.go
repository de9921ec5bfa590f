package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/dnsname"
)

// goResolver is Go's own stub resolver, asking only addr.
func goResolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

func TestGoResolver(t *testing.T) {
	_, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{})})
	r := goResolver(addr)
	ctx := context.Background()

	ips, err := r.LookupHost(ctx, "web.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Equal(t, []string{"10.96.0.10"}, ips)

	ips, err = r.LookupHost(ctx, "db.default.svc.cluster.local.")
	require.NoError(t, err)
	sort.Strings(ips)
	require.Equal(t, []string{"10.244.1.1", "10.244.1.2", "10.244.1.3"}, ips)

	// The 100-endpoint headless Service: truncated over UDP, whole over
	// TCP, which Go's resolver retries by itself.
	ips, err = r.LookupHost(ctx, "big.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Len(t, ips, 100)

	cname, srvs, err := r.LookupSRV(ctx, "http", "tcp", "web.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Equal(t, "_http._tcp.web.default.svc.cluster.local.", cname)
	require.Equal(t, []*net.SRV{{Target: "web.default.svc.cluster.local.", Port: 80, Priority: 0, Weight: 100}}, srvs)

	names, err := r.LookupAddr(ctx, "10.96.0.10")
	require.NoError(t, err)
	require.Equal(t, []string{"web.default.svc.cluster.local."}, names)

	ips, err = r.LookupHost(ctx, "ext.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Equal(t, []string{"10.96.0.10"}, ips)

	_, err = r.LookupHost(ctx, "nope.default.svc.cluster.local.")
	var dnsErr *net.DNSError
	require.ErrorAs(t, err, &dnsErr)
	require.True(t, dnsErr.IsNotFound, "%v", err)
}

func TestNegativeAnswersCarrySOA(t *testing.T) {
	_, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{})})
	for _, c := range []struct {
		name  string
		qtype uint16
		rcode int
		zone  string
	}{
		{"nope.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, "cluster.local."},
		{"web.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess, "cluster.local."},
		{"default.svc.cluster.local.", dns.TypeTXT, dns.RcodeNameError, "cluster.local."},
		{"cluster.local.", dns.TypeA, dns.RcodeSuccess, "cluster.local."},
		{"9.9.9.9.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, "in-addr.arpa."},
		{"10.0.96.10.in-addr.arpa.", dns.TypeA, dns.RcodeNameError, "in-addr.arpa."},
		{"ip6.arpa.", dns.TypePTR, dns.RcodeSuccess, "ip6.arpa."},
	} {
		m := exchange(t, addr, "udp", c.name, c.qtype, 0)
		require.Equal(t, c.rcode, m.Rcode, c.name)
		require.True(t, m.Authoritative, c.name)
		require.Empty(t, m.Answer, c.name)
		require.Len(t, m.Ns, 1, c.name)
		soa := m.Ns[0].(*dns.SOA)
		require.Equal(t, c.zone, soa.Hdr.Name)
		require.Equal(t, "ns.dns."+c.zone, soa.Ns)
		require.Equal(t, "hostmaster."+c.zone, soa.Mbox)
		require.Equal(t, []uint32{5, 5, 7200, 1800, 86400}, []uint32{soa.Hdr.Ttl, soa.Minttl, soa.Refresh, soa.Retry, soa.Expire})
	}
	// A positive answer has no authority section.
	m := exchange(t, addr, "udp", "web.default.svc.cluster.local.", dns.TypeA, 0)
	require.True(t, m.Authoritative)
	require.Empty(t, m.Ns)
	require.Len(t, m.Answer, 1)
}

func TestApexSOAAndNS(t *testing.T) {
	ns := netip.MustParseAddr("10.96.0.53")
	_, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{}), NSAddrs: []netip.Addr{ns}})
	m := exchange(t, addr, "udp", "Cluster.Local.", dns.TypeSOA, 0)
	require.Equal(t, dns.RcodeSuccess, m.Rcode)
	require.Len(t, m.Answer, 1)
	require.Equal(t, "ns.dns.cluster.local.", m.Answer[0].(*dns.SOA).Ns)
	// SOA below the apex: NODATA, as CoreDNS.
	m = exchange(t, addr, "udp", "web.default.svc.cluster.local.", dns.TypeSOA, 0)
	require.Equal(t, dns.RcodeSuccess, m.Rcode)
	require.Empty(t, m.Answer)
	require.Len(t, m.Ns, 1)

	m = exchange(t, addr, "udp", "cluster.local.", dns.TypeNS, 0)
	require.Equal(t, "cluster.local.\t5\tIN\tNS\tns.dns.cluster.local.", m.Answer[0].String())
	require.Equal(t, "ns.dns.cluster.local.\t5\tIN\tA\t10.96.0.53", m.Extra[0].String())
	m = exchange(t, addr, "udp", "in-addr.arpa.", dns.TypeNS, 0)
	require.Equal(t, "in-addr.arpa.\t5\tIN\tNS\tns.dns.in-addr.arpa.", m.Answer[0].String())

	m = exchange(t, addr, "udp", "ns.dns.cluster.local.", dns.TypeA, 0)
	require.Equal(t, "ns.dns.cluster.local.\t5\tIN\tA\t10.96.0.53", m.Answer[0].String())
	m = exchange(t, addr, "udp", "ns.dns.cluster.local.", dns.TypeAAAA, 0)
	require.Equal(t, dns.RcodeSuccess, m.Rcode)
	require.Empty(t, m.Answer)

	m = exchange(t, addr, "tcp", "cluster.local.", dns.TypeAXFR, 0)
	require.Equal(t, dns.RcodeRefused, m.Rcode)
	// Outside the zones, nothing to forward to: REFUSED.
	m = exchange(t, addr, "udp", "example.org.", dns.TypeA, 0)
	require.Equal(t, dns.RcodeRefused, m.Rcode)
	require.False(t, m.Authoritative)
}

func TestTruncationAndEDNS(t *testing.T) {
	srv, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{})})
	// Without EDNS: at most 512 octets, tc set, some answers.
	m := exchange(t, addr, "udp", "big.default.svc.cluster.local.", dns.TypeA, 0)
	require.True(t, m.Truncated)
	require.Nil(t, m.IsEdns0())
	m.Compress = true
	packed, _ := m.Pack()
	require.LessOrEqual(t, len(packed), 512)
	// EDNS 4096 asked: capped at the server's 1232, OPT echoed with 1232.
	m = exchange(t, addr, "udp", "big.default.svc.cluster.local.", dns.TypeA, 4096)
	require.True(t, m.Truncated)
	require.NotNil(t, m.IsEdns0())
	require.Equal(t, uint16(DefaultUDPSize), m.IsEdns0().UDPSize())
	m.Compress = true
	packed, _ = m.Pack()
	require.LessOrEqual(t, len(packed), DefaultUDPSize)
	// Over TCP: whole.
	m = exchange(t, addr, "tcp", "big.default.svc.cluster.local.", dns.TypeA, 0)
	require.False(t, m.Truncated)
	require.Len(t, m.Answer, 100)
	// Small answers fit: no tc.
	m = exchange(t, addr, "udp", "db.default.svc.cluster.local.", dns.TypeA, 1232)
	require.False(t, m.Truncated)
	require.Len(t, m.Answer, 3)
	require.GreaterOrEqual(t, srv.Stats().Truncated, uint64(2))
}

func TestTCPPipelining(t *testing.T) {
	_, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{})})
	conn, err := dns.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	names := []string{"web.default.svc.cluster.local.", "db.default.svc.cluster.local.", "nope.default.svc.cluster.local.", "big.default.svc.cluster.local."}
	// All queries written before any answer is read.
	for i, n := range names {
		m := new(dns.Msg)
		m.SetQuestion(n, dns.TypeA)
		m.Id = uint16(100 + i)
		require.NoError(t, conn.WriteMsg(m))
	}
	got := map[uint16]int{}
	for range names {
		r, err := conn.ReadMsg()
		require.NoError(t, err)
		got[r.Id] = len(r.Answer)
	}
	require.Equal(t, map[uint16]int{100: 1, 101: 3, 102: 0, 103: 100}, got)
}

func TestBadPackets(t *testing.T) {
	srv, err := New(Config{Resolver: testCluster(t, dnsname.Config{})})
	require.NoError(t, err)
	client := netip.MustParseAddr("127.0.0.1")
	q := new(dns.Msg)
	q.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	good, _ := q.Pack()

	// Short: dropped.
	require.Nil(t, srv.Answer(good[:11], client, true))
	// QR set: dropped.
	resp := slices.Clone(good)
	resp[2] |= 0x80
	require.Nil(t, srv.Answer(resp, client, true))

	rcodeOf := func(b []byte) int {
		out := srv.Answer(b, client, true)
		require.NotNil(t, out)
		var m dns.Msg
		require.NoError(t, m.Unpack(out))
		require.Equal(t, q.Id, m.Id)
		return m.Rcode
	}
	// UPDATE opcode: NOTIMP.
	upd := slices.Clone(good)
	upd[2] = upd[2]&^0x78 | dns.OpcodeUpdate<<3
	require.Equal(t, dns.RcodeNotImplemented, rcodeOf(upd))
	// Two questions: FORMERR.
	two := slices.Clone(good)
	two[5] = 2
	require.Equal(t, dns.RcodeFormatError, rcodeOf(two))
	// Header fine, question cut: FORMERR.
	require.Equal(t, dns.RcodeFormatError, rcodeOf(good[:20]))
	// No question: FORMERR.
	none := slices.Clone(good[:12])
	none[5] = 0
	require.Equal(t, dns.RcodeFormatError, rcodeOf(none))
	// NOTIFY: accepted by the server, not implemented here.
	notify := slices.Clone(good)
	notify[2] = notify[2]&^0x78 | dns.OpcodeNotify<<3
	require.Equal(t, dns.RcodeNotImplemented, rcodeOf(notify))
	require.Equal(t, dns.RcodeSuccess, rcodeOf(good))
}

func TestConfigErrors(t *testing.T) {
	r := dnsname.NewResolver(dnsname.Config{})
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "dnsserver: invalid config: resolver is nil"},
		{Config{Resolver: r, UDPSize: 100}, "dnsserver: invalid config: udp size 100 is out of range 512-4096"},
		{Config{Resolver: r, Upstreams: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:0")}}, `dnsserver: invalid config: upstream 0 "10.0.0.1:0" is not an address and port`},
		{Config{Resolver: r, AutopathSearch: []string{"a..b"}}, `dnsserver: invalid config: autopath search 0 "a..b" is not a DNS name`},
		{Config{Resolver: r, MaxTCPConns: -1}, "dnsserver: invalid config: max tcp conns -1 is negative"},
		{Config{Resolver: r, NSAddrs: []netip.Addr{{}}}, "dnsserver: invalid config: ns addr 0 is invalid"},
	} {
		_, err := New(c.cfg)
		require.ErrorIs(t, err, ErrInvalidConfig)
		require.EqualError(t, err, c.want)
	}
}

func TestSetResolver(t *testing.T) {
	srv, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{})})
	require.Len(t, exchange(t, addr, "udp", "web.default.svc.cluster.local.", dns.TypeA, 0).Answer, 1)
	empty := dnsname.NewResolver(dnsname.Config{})
	require.NoError(t, srv.SetResolver(empty))
	require.Equal(t, dns.RcodeNameError, exchange(t, addr, "udp", "web.default.svc.cluster.local.", dns.TypeA, 0).Rcode)
	err := srv.SetResolver(dnsname.NewResolver(dnsname.Config{Zone: "other.local"}))
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, `zone "other.local."`)
	require.Equal(t, dns.RcodeNameError, exchange(t, addr, "udp", "web.default.svc.cluster.local.", dns.TypeA, 0).Rcode)
}

// TestTCPBounds: a connection over MaxTCPConns is closed at once, and an
// idle one is closed after TCPIdleTimeout.
func TestTCPBounds(t *testing.T) {
	_, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{}), MaxTCPConns: 1, TCPIdleTimeout: 200 * time.Millisecond})
	first, err := dns.Dial("tcp", addr)
	require.NoError(t, err)
	defer first.Close()
	q := new(dns.Msg)
	q.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	require.NoError(t, first.WriteMsg(q))
	_, err = first.ReadMsg() // accepted and served: it holds the one slot
	require.NoError(t, err)

	second, err := dns.Dial("tcp", addr)
	require.NoError(t, err)
	defer second.Close()
	require.NoError(t, second.SetDeadline(time.Now().Add(5*time.Second)))
	_ = second.WriteMsg(q)
	_, err = second.ReadMsg()
	require.Error(t, err, "the connection over the bound is closed")
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed, not left hanging: %v", err)

	// The first, now idle, is closed by the server.
	require.NoError(t, first.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = first.ReadMsg()
	require.Error(t, err)
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed by the idle timeout: %v", err)
}

// TestUDPBatches sends bursts of queries from several sockets at once,
// over IPv4 and IPv6 loopback, so that the UDP reader reads several
// datagrams per call: every query gets its own answer, at the address
// it came from, and the counters count each.
func TestUDPBatches(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			host := "127.0.0.1"
			if network == "udp6" {
				host = "[::1]"
			}
			pc, err := net.ListenPacket(network, host+":0")
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			s, err := New(Config{Resolver: testCluster(t, dnsname.Config{})})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, pc, nil) }()
			t.Cleanup(func() { cancel(); require.NoError(t, <-done); pc.Close() })

			const clients, burst = 4, 64
			q := new(dns.Msg)
			q.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
			var conns []net.Conn
			for range clients {
				c, err := net.Dial(network, pc.LocalAddr().String())
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				conns = append(conns, c)
			}
			for ci, c := range conns {
				for i := range burst {
					q.Id = uint16(ci*burst + i)
					b, err := q.Pack()
					require.NoError(t, err)
					_, err = c.Write(b)
					require.NoError(t, err)
				}
			}
			buf := make([]byte, 1500)
			for ci, c := range conns {
				seen := map[uint16]bool{}
				require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
				for range burst {
					n, err := c.Read(buf)
					require.NoError(t, err)
					var m dns.Msg
					require.NoError(t, m.Unpack(buf[:n]))
					require.Equal(t, ci, int(m.Id)/burst, "an answer for another client")
					require.False(t, seen[m.Id], "answer %d twice", m.Id)
					seen[m.Id] = true
					require.Len(t, m.Answer, 1)
					require.Equal(t, "10.96.0.10", m.Answer[0].(*dns.A).A.String())
				}
			}
			require.Equal(t, uint64(clients*burst), s.Stats().Responses[dns.RcodeSuccess])
			require.Equal(t, uint64(clients*burst), s.Stats().Duration.Count)
		})
	}
}
