package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/dnsserver"
)

// statsCollector exposes a Server's counters with the names CoreDNS's
// prometheus plugin uses (plugin/metrics/vars), so that dashboards built
// for CoreDNS read svcnet too.
type statsCollector struct{ s *dnsserver.Server }

var (
	descRequests  = prometheus.NewDesc("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family.", []string{"proto"}, nil)
	descResponses = prometheus.NewDesc("coredns_dns_responses_total", "Counter of response status codes.", []string{"rcode"}, nil)
	descDuration  = prometheus.NewDesc("coredns_dns_request_duration_seconds", "Histogram of the time (in seconds) each request took.", nil, nil)
	descTrunc     = prometheus.NewDesc("svcnet_dns_truncated_total", "UDP answers sent with the TC bit.", nil, nil)
	descForward   = prometheus.NewDesc("coredns_forward_requests_total", "Counter of requests made to upstreams.", nil, nil)
	descCacheHits = prometheus.NewDesc("coredns_cache_hits_total", "The count of cache hits.", nil, nil)
	descCacheMiss = prometheus.NewDesc("coredns_cache_misses_total", "The count of cache misses.", nil, nil)
)

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descResponses, descDuration, descTrunc, descForward, descCacheHits, descCacheMiss} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(st.RequestsUDP), "udp")
	ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(st.RequestsTCP), "tcp")
	for rc, n := range st.Responses {
		if n > 0 {
			name := dnsname.Rcode(rc).String()
			ch <- prometheus.MustNewConstMetric(descResponses, prometheus.CounterValue, float64(n), name)
		}
	}
	buckets := map[float64]uint64{}
	var cum uint64
	for i, b := range dnsserver.DurationBounds {
		cum += st.Duration.Buckets[i]
		buckets[b] = cum
	}
	ch <- prometheus.MustNewConstHistogram(descDuration, st.Duration.Count, st.Duration.Sum.Seconds(), buckets)
	ch <- prometheus.MustNewConstMetric(descTrunc, prometheus.CounterValue, float64(st.Truncated))
	ch <- prometheus.MustNewConstMetric(descForward, prometheus.CounterValue, float64(st.Forwarded))
	ch <- prometheus.MustNewConstMetric(descCacheHits, prometheus.CounterValue, float64(st.CacheHits))
	ch <- prometheus.MustNewConstMetric(descCacheMiss, prometheus.CounterValue, float64(st.CacheMisses))
}
