package nftables

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/proxy"
)

// benchViews returns node-a's views of 10 000 NodePort Services with 10
// endpoints each, before and after one endpoint leaves one Service: the
// shape of kube-proxy's own large-cluster benchmarks and of
// peers/kubeproxy_nftables_test.go.
func benchRulesets(b *testing.B) (before, after *Ruleset) {
	specs := manyServices(10000, 10)
	before = render(b, nodeA.proxy(b, specs...), testCfg)
	specs[4321].eps = specs[4321].eps[1:]
	after = render(b, nodeA.proxy(b, specs...), testCfg)
	return before, after
}

// BenchmarkRender10kServices: a full render of 10 000 Services × 10
// endpoints, and its text.
func BenchmarkRender10kServices(b *testing.B) {
	specs := manyServices(10000, 10)
	p := nodeA.proxy(b, specs...)
	var lines int
	b.ReportAllocs()
	for b.Loop() {
		r, err := Render(p, testCfg)
		require.NoError(b, err)
		lines = len(r.String())
	}
	b.ReportMetric(float64(lines), "bytes")
}

// BenchmarkDiffOneEndpoint10kServices: the transaction after one
// endpoint change, from the two rendered rulesets.
func BenchmarkDiffOneEndpoint10kServices(b *testing.B) {
	before, after := benchRulesets(b)
	var n int
	b.ReportAllocs()
	for b.Loop() {
		n = after.Diff(before).Len()
	}
	b.ReportMetric(float64(n), "lines")
}

// BenchmarkString10kServices: writing the full ruleset as nft -f input.
func BenchmarkString10kServices(b *testing.B) {
	r, _ := benchRulesets(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = r.String()
	}
}

// BenchmarkRendererOneEndpoint10kServices: the incremental sync after
// one endpoint leaves one of 10 000 Services: finding what changed,
// rendering it from both Tables and diffing.
func BenchmarkRendererOneEndpoint10kServices(b *testing.B) {
	specs := manyServices(10000, 10)
	p := nodeA.proxy(b, specs...)
	a, c := p.Table(), (func() *proxy.Table {
		next := append([]svcSpec(nil), specs...)
		next[4321].eps = next[4321].eps[1:]
		resync(b, p, specs, next)
		return p.Table()
	})()
	rr, err := NewRenderer(testCfg)
	require.NoError(b, err)
	var n int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		p.Sync(a)
		_, err := rr.Sync(p)
		require.NoError(b, err)
		p.Sync(c)
		b.StartTimer()
		tx, err := rr.Sync(p)
		require.NoError(b, err)
		n = tx.Len()
	}
	b.ReportMetric(float64(n), "lines")
}
