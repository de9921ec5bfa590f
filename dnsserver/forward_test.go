package dnsserver

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/dnsname"
)

// fakeUpstream is a DNS server on loopback that answers www.example.com.
// A 1.2.3.4 (TTL 60), NXDOMAIN with an SOA (minimum 30) for other names,
// and counts the queries it gets. With silent set it answers nothing.
type fakeUpstream struct {
	addr    netip.AddrPort
	queries atomic.Int64
	silent  atomic.Bool
	mu      sync.Mutex
	names   []string
}

func startUpstream(t *testing.T) *fakeUpstream {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	u := &fakeUpstream{addr: pc.LocalAddr().(*net.UDPAddr).AddrPort()}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		u.queries.Add(1)
		u.mu.Lock()
		u.names = append(u.names, r.Question[0].Name)
		u.mu.Unlock()
		if u.silent.Load() {
			return
		}
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		if r.Question[0].Name == "www.example.com." && r.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR("www.example.com. 60 IN A 1.2.3.4")
			m.Answer = []dns.RR{rr}
		} else {
			m.Rcode = dns.RcodeNameError
			soa, _ := dns.NewRR("example.com. 30 IN SOA ns.example.com. h.example.com. 1 2 3 4 30")
			m.Ns = []dns.RR{soa}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown(); pc.Close() })
	return u
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestForwardAndCache(t *testing.T) {
	up := startUpstream(t)
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	srv, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{}), Upstreams: []netip.AddrPort{up.addr}, Now: clock.Now})

	m := exchange(t, addr, "udp", "www.example.com.", dns.TypeA, 0)
	require.Equal(t, dns.RcodeSuccess, m.Rcode)
	require.Equal(t, "www.example.com.\t60\tIN\tA\t1.2.3.4", m.Answer[0].String())
	require.True(t, m.RecursionAvailable)
	require.False(t, m.Authoritative)
	require.EqualValues(t, 1, up.queries.Load())

	// From the cache, TTL counted down, the query's case echoed.
	clock.add(20 * time.Second)
	m = exchange(t, addr, "udp", "WWW.example.com.", dns.TypeA, 0)
	require.Equal(t, "WWW.example.com.", m.Question[0].Name)
	require.EqualValues(t, 40, m.Answer[0].Header().Ttl)
	require.EqualValues(t, 1, up.queries.Load())

	// Expired: asked again.
	clock.add(41 * time.Second)
	exchange(t, addr, "udp", "www.example.com.", dns.TypeA, 0)
	require.EqualValues(t, 2, up.queries.Load())

	// A negative answer is cached for its SOA minimum (30 s).
	m = exchange(t, addr, "udp", "nope.example.com.", dns.TypeA, 0)
	require.Equal(t, dns.RcodeNameError, m.Rcode)
	exchange(t, addr, "udp", "nope.example.com.", dns.TypeA, 0)
	require.EqualValues(t, 3, up.queries.Load())
	clock.add(31 * time.Second)
	exchange(t, addr, "udp", "nope.example.com.", dns.TypeA, 0)
	require.EqualValues(t, 4, up.queries.Load())

	// Unknown reverse names fall through to the upstream.
	m = exchange(t, addr, "udp", "9.9.9.9.in-addr.arpa.", dns.TypePTR, 0)
	require.Equal(t, dns.RcodeNameError, m.Rcode)
	require.EqualValues(t, 5, up.queries.Load())
	// Cluster names never leave.
	exchange(t, addr, "udp", "nope.default.svc.cluster.local.", dns.TypeA, 0)
	require.EqualValues(t, 5, up.queries.Load())

	st := srv.Stats()
	require.EqualValues(t, 5, st.Forwarded)
	require.EqualValues(t, 2, st.CacheHits)
}

func TestForwardFailureIsServFail(t *testing.T) {
	up := startUpstream(t)
	up.silent.Store(true)
	_, addr := startServer(t, Config{Resolver: testCluster(t, dnsname.Config{}), Upstreams: []netip.AddrPort{up.addr, up.addr}, UpstreamTimeout: 50 * time.Millisecond})
	m := exchange(t, addr, "udp", "www.example.com.", dns.TypeA, 0)
	require.Equal(t, dns.RcodeServerFailure, m.Rcode)
	require.EqualValues(t, 2, up.queries.Load(), "each upstream tried once")
}

func TestCacheBound(t *testing.T) {
	c := &answerCache{max: 3, m: map[cacheKey]cacheEntry{}}
	now := time.Unix(0, 0)
	for i := range 10 {
		m := new(dns.Msg)
		m.SetQuestion("x.example.", dns.TypeA)
		rr, _ := dns.NewRR("x.example. 60 IN A 1.2.3.4")
		m.Answer = []dns.RR{rr}
		c.put(cacheKey{name: string(rune('a' + i)), qtype: 1}, m, now)
		require.LessOrEqual(t, len(c.m), 3)
	}
	// TTL 0 and SERVFAIL are not kept.
	m := new(dns.Msg)
	m.Rcode = dns.RcodeServerFailure
	c.put(cacheKey{name: "s"}, m, now)
	_, ok := c.get(cacheKey{name: "s"}, now)
	require.False(t, ok)
}

// TestAutopath counts the queries a pod under ndots:5 sends for an
// external name and for a Service in another namespace, with and without
// autopath: with it, one query each.
func TestAutopath(t *testing.T) {
	up := startUpstream(t)
	pod := netip.MustParseAddr("127.0.0.1")
	res := testCluster(t, dnsname.Config{Pods: dnsname.PodsVerified})
	conf := dnsname.Kubelet{ClusterDNS: []netip.Addr{pod}}.ClusterFirst("shop")
	count := func(cfg Config, name string) (int, *dns.Msg) {
		_, addr := startServer(t, cfg)
		// What a stub resolver does: each candidate until one is not
		// NXDOMAIN.
		for i, cand := range conf.Candidates(name) {
			m := exchange(t, addr, "udp", cand, dns.TypeA, 0)
			if m.Rcode != dns.RcodeNameError {
				return i + 1, m
			}
		}
		return len(conf.Candidates(name)), nil
	}
	plain := Config{Resolver: res, Upstreams: []netip.AddrPort{up.addr}}
	n, m := count(plain, "www.example.com")
	require.Equal(t, 4, n)
	require.Equal(t, "www.example.com.\t60\tIN\tA\t1.2.3.4", m.Answer[0].String())
	n, _ = count(plain, "web.default")
	require.Equal(t, 2, n)

	auto := plain
	auto.Autopath = func(a netip.Addr) (string, bool) { return "shop", a == pod }
	n, m = count(auto, "www.example.com")
	require.Equal(t, 1, n)
	require.Equal(t, "www.example.com.shop.svc.cluster.local.", m.Question[0].Name)
	require.Len(t, m.Answer, 2)
	require.Equal(t, "www.example.com.shop.svc.cluster.local.\t60\tIN\tCNAME\twww.example.com.", m.Answer[0].String())
	require.Equal(t, "www.example.com.\t60\tIN\tA\t1.2.3.4", m.Answer[1].String())
	n, m = count(auto, "web.default")
	require.Equal(t, 1, n)
	require.Equal(t, "web.default.shop.svc.cluster.local.\t5\tIN\tCNAME\tweb.default.svc.cluster.local.", m.Answer[0].String())

	// Another client: no autopath; a name not under its first domain: none.
	other := auto
	other.Autopath = func(netip.Addr) (string, bool) { return "", false }
	n, _ = count(other, "web.default")
	require.Equal(t, 2, n)
	_, addr := startServer(t, auto)
	m = exchange(t, addr, "udp", "web.default.svc.cluster.local.", dns.TypeA, 0)
	require.Len(t, m.Answer, 1)
}
