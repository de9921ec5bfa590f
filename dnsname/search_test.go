package dnsname

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResolveSearch(t *testing.T) {
	var upstreamAsked []string
	r := NewResolver(Config{Upstream: func(name string, qtype Type) Response {
		upstreamAsked = append(upstreamAsked, name)
		if name == "www.example.com." && qtype == TypeA {
			return Response{Answer: []Record{{Name: name, Type: TypeA, TTL: 60, Addr: netip.MustParseAddr("192.0.2.80")}}}
		}
		return Response{Rcode: RcodeNXDomain}
	}})
	require.NoError(t, r.UpsertService(newSvc("default", "kubernetes", clusterIPs("10.96.0.1"), ports(tcp("https", 443)))))
	require.NoError(t, r.UpsertService(newSvc("shop", "cart", clusterIPs("10.96.3.3"))))
	require.NoError(t, r.UpsertService(newSvc("shop", "empty", headless())))
	conf := Kubelet{ClusterDNS: []netip.Addr{kubeDNS}, Host: ResolvConf{Search: []string{"ec2.internal"}}}.ClusterFirst("shop")

	queries := func(res SearchResult) []string {
		var qs []string
		for _, q := range res.Queries {
			qs = append(qs, q.String())
		}
		return qs
	}

	// Same namespace: the first candidate.
	res := r.ResolveSearch(conf, "cart", TypeA)
	require.Equal(t, "cart.shop.svc.cluster.local.", res.Name)
	require.Equal(t, []string{"cart.shop.svc.cluster.local. A: NOERROR, 1 answer"}, queries(res))
	require.Equal(t, "10.96.3.3", res.Response.Answer[0].Addr.String())

	// Another namespace: <svc>.<ns> is found at the second.
	res = r.ResolveSearch(conf, "kubernetes.default", TypeA)
	require.Equal(t, "kubernetes.default.svc.cluster.local.", res.Name)
	require.Equal(t, []string{
		"kubernetes.default.shop.svc.cluster.local. A: NXDOMAIN",
		"kubernetes.default.svc.cluster.local. A: NOERROR, 1 answer",
	}, queries(res))

	// An external name pays for ndots:5: four misses, then the name.
	upstreamAsked = nil
	res = r.ResolveSearch(conf, "www.example.com", TypeA)
	require.Equal(t, "www.example.com.", res.Name)
	require.Equal(t, []string{
		"www.example.com.shop.svc.cluster.local. A: NXDOMAIN",
		"www.example.com.svc.cluster.local. A: NXDOMAIN",
		"www.example.com.cluster.local. A: NXDOMAIN",
		"www.example.com.ec2.internal. A: NXDOMAIN",
		"www.example.com. A: NOERROR, 1 answer",
	}, queries(res))
	require.Equal(t, []string{"www.example.com.ec2.internal.", "www.example.com."}, upstreamAsked)

	// A trailing dot: one query.
	res = r.ResolveSearch(conf, "www.example.com.", TypeA)
	require.Len(t, res.Queries, 1)

	// NODATA and NXDOMAIN both move on; nothing found: the last response.
	res = r.ResolveSearch(conf, "cart", TypeAAAA)
	require.Equal(t, "", res.Name)
	require.Equal(t, []string{
		"cart.shop.svc.cluster.local. AAAA: NOERROR, no answers",
		"cart.svc.cluster.local. AAAA: NXDOMAIN",
		"cart.cluster.local. AAAA: NXDOMAIN",
		"cart.ec2.internal. AAAA: NXDOMAIN",
		"cart. AAAA: NXDOMAIN",
	}, queries(res))
	require.Equal(t, RcodeNXDomain, res.Response.Rcode)
	res = r.ResolveSearch(conf, "empty", TypeA)
	require.Equal(t, "empty.shop.svc.cluster.local. A: NXDOMAIN", res.Queries[0].String())
	require.Len(t, res.Queries, 5)

	require.Empty(t, r.ResolveSearch(conf, "", TypeA).Queries)
	require.Equal(t, "x. A: NOERROR, 3 answers", Query{Name: "x.", Type: TypeA, Answers: 3}.String())
}
