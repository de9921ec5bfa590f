package dnsserver

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// forwarder sends queries for names outside the cluster to the
// upstreams, in order, as CoreDNS's forward plugin (with policy
// "sequential"), and keeps their answers in a bounded cache that honours
// TTLs, as CoreDNS's cache plugin.
type forwarder struct {
	ups     []netip.AddrPort
	timeout time.Duration
	now     func() time.Time
	udp     *dns.Client
	tcp     *dns.Client
	cache   *answerCache // nil: no cache
}

func newForwarder(c Config) *forwarder {
	f := &forwarder{
		ups:     c.Upstreams,
		timeout: c.UpstreamTimeout,
		now:     c.Now,
		udp:     &dns.Client{Net: "udp", Timeout: c.UpstreamTimeout, UDPSize: c.UDPSize},
		tcp:     &dns.Client{Net: "tcp", Timeout: c.UpstreamTimeout},
	}
	if c.CacheSize > 0 {
		f.cache = &answerCache{max: c.CacheSize, m: make(map[cacheKey]cacheEntry)}
	}
	return f
}

// forward answers req from the cache or the upstreams; SERVFAIL when no
// upstream answers within the timeout.
func (f *forwarder) forward(req *dns.Msg, st *counters) *dns.Msg {
	q := req.Question[0]
	key := cacheKey{name: strings.ToLower(q.Name), qtype: q.Qtype, qclass: q.Qclass}
	if opt := req.IsEdns0(); opt != nil {
		key.do = opt.Do()
	}
	now := f.now()
	if f.cache != nil {
		if m, ok := f.cache.get(key, now); ok {
			st.cacheHits.Add(1)
			m.Id = req.Id
			m.Question = []dns.Question{q}
			return m
		}
		st.cacheMisses.Add(1)
	}
	up := req.Copy()
	up.Id = dns.Id()
	for _, addr := range f.ups {
		st.forwarded.Add(1)
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		m, _, err := f.udp.ExchangeContext(ctx, up, addr.String())
		if err == nil && m.Truncated {
			m, _, err = f.tcp.ExchangeContext(ctx, up, addr.String())
		}
		cancel()
		if err != nil || m.Id != up.Id {
			st.forwardErrors.Add(1)
			continue
		}
		if f.cache != nil {
			f.cache.put(key, m, now)
		}
		m = m.Copy()
		m.Id = req.Id
		m.Question = []dns.Question{q}
		return m
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	return m
}

type cacheKey struct {
	name          string
	qtype, qclass uint16
	do            bool
}

type cacheEntry struct {
	msg    *dns.Msg // never handed out; copies are
	stored time.Time
	expire time.Time
}

// answerCache holds up to max answers until their TTL runs out. When
// full, an arbitrary entry makes room (map order), as CoreDNS's cache
// evicts a random one.
type answerCache struct {
	mu  sync.Mutex
	max int
	m   map[cacheKey]cacheEntry
}

// get returns a copy of the cached answer with its TTLs counted down.
func (c *answerCache) get(k cacheKey, now time.Time) (*dns.Msg, bool) {
	c.mu.Lock()
	e, ok := c.m[k]
	if ok && !now.Before(e.expire) {
		delete(c.m, k)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	m := e.msg.Copy()
	age := uint32(now.Sub(e.stored) / time.Second)
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT {
				h.Ttl -= min(age, h.Ttl)
			}
		}
	}
	return m, true
}

// put caches a NOERROR or NXDOMAIN answer for the smallest TTL in it,
// capped at 3600 s (1800 s for a negative answer, whose TTL is its SOA's
// minimum, RFC 2308 §5). Answers with TTL 0 are not kept.
func (c *answerCache) put(k cacheKey, m *dns.Msg, now time.Time) {
	if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError || m.Truncated {
		return
	}
	ttl := uint32(maxCacheTTL)
	negative := m.Rcode == dns.RcodeNameError || len(m.Answer) == 0
	if negative {
		ttl = maxDenialTTL
		soa := false
		for _, rr := range m.Ns {
			if s, ok := rr.(*dns.SOA); ok {
				ttl = min(ttl, s.Hdr.Ttl, s.Minttl)
				soa = true
			}
		}
		if !soa {
			return // no SOA: RFC 2308 §5 says do not cache
		}
	}
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT {
				ttl = min(ttl, h.Ttl)
			}
		}
	}
	if ttl == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = cacheEntry{msg: m.Copy(), stored: now, expire: now.Add(time.Duration(ttl) * time.Second)}
}
