package dnsserver

import (
	"sync/atomic"
	"time"
)

// DurationBounds are the upper bounds, in seconds, of the request
// duration histogram's buckets: CoreDNS's (plugin.TimeBuckets, 0.25 ms
// doubling to 8.192 s), so coredns_dns_request_duration_seconds reads
// the same.
var DurationBounds = [16]float64{0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192}

// Stats are the server's counters since New, as plain data. Every field
// only grows.
type Stats struct {
	// RequestsUDP and RequestsTCP count the messages of 12 octets or
	// more received (those dropped included).
	RequestsUDP, RequestsTCP uint64
	// Dropped counts messages not answered (the QR bit set).
	Dropped uint64
	// Responses counts the answers sent, by rcode (index: the rcode,
	// 0–15).
	Responses [16]uint64
	// Truncated counts UDP answers sent with the tc bit.
	Truncated uint64
	// Forwarded counts exchanges with upstreams, ForwardErrors those that
	// failed; CacheHits and CacheMisses the forward cache's lookups.
	Forwarded, ForwardErrors, CacheHits, CacheMisses uint64
	// Autopath counts queries answered through autopath.
	Autopath uint64
	// Duration is the histogram of the time from reading a query to
	// having its answer (for the queries a UDP reader reads in one
	// batch, from reading the batch to having all its answers):
	// Buckets[i] counts those of at most
	// DurationBounds[i] seconds (not cumulative), Buckets[16] the rest.
	Duration struct {
		Buckets [17]uint64
		Count   uint64
		Sum     time.Duration
	}
}

type counters struct {
	udp, tcp, dropped                atomic.Uint64
	rcode                            [16]atomic.Uint64
	truncated                        atomic.Uint64
	forwarded, forwardErrors         atomic.Uint64
	cacheHits, cacheMisses, autopath atomic.Uint64
	buckets                          [17]atomic.Uint64
	count                            atomic.Uint64
	sum                              atomic.Int64
}

func (c *counters) request(udp bool) {
	if udp {
		c.udp.Add(1)
	} else {
		c.tcp.Add(1)
	}
}

// response counts n responses of rcode that took d each.
func (c *counters) response(rcode int, d time.Duration, n uint64) {
	c.rcode[rcode&0xF].Add(n)
	c.durations(d, n)
}

// durations counts n responses that took d each in the histogram.
func (c *counters) durations(d time.Duration, n uint64) {
	sec := d.Seconds()
	i := 0
	for i < len(DurationBounds) && sec > DurationBounds[i] {
		i++
	}
	c.buckets[i].Add(n)
	c.count.Add(n)
	c.sum.Add(int64(d) * int64(n))
}

// Stats returns the counters, each read atomically (the set is not one
// instant's).
func (s *Server) Stats() Stats {
	c := &s.stats
	var st Stats
	st.RequestsUDP, st.RequestsTCP, st.Dropped = c.udp.Load(), c.tcp.Load(), c.dropped.Load()
	for i := range c.rcode {
		st.Responses[i] = c.rcode[i].Load()
	}
	st.Truncated = c.truncated.Load()
	st.Forwarded, st.ForwardErrors = c.forwarded.Load(), c.forwardErrors.Load()
	st.CacheHits, st.CacheMisses, st.Autopath = c.cacheHits.Load(), c.cacheMisses.Load(), c.autopath.Load()
	for i := range c.buckets {
		st.Duration.Buckets[i] = c.buckets[i].Load()
	}
	st.Duration.Count = c.count.Load()
	st.Duration.Sum = time.Duration(c.sum.Load())
	return st
}
