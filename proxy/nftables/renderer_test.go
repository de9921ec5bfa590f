package nftables

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// resync moves p's table from the old specs to the new ones, touching
// only the Services whose spec changed, as a controller would.
func resync(t tb, p *proxy.Proxy, old, new []svcSpec) {
	t.Helper()
	b := p.Table().Builder()
	prev := map[string]string{}
	for _, s := range old {
		prev[s.name] = fmt.Sprintf("%+v", s)
	}
	seen := map[string]bool{}
	for _, s := range new {
		seen[s.name] = true
		if prev[s.name] == fmt.Sprintf("%+v", s) {
			continue
		}
		b.DeleteService(service.NamespacedName{Namespace: "default", Name: s.name})
		require.NoError(t, b.UpsertService(s.service()))
		b.ApplySlices(s.slices())
	}
	for _, s := range old {
		if !seen[s.name] {
			b.DeleteService(service.NamespacedName{Namespace: "default", Name: s.name})
		}
	}
	p.Sync(b.Build())
}

// TestRendererMatchesRender: after every step of a random sequence of
// changes, the Renderer's transactions applied one after another leave
// exactly what a full Render of the current view gives.
func TestRendererMatchesRender(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		node := nodeView{name: "node-a", addrs: []string{"192.168.0.1"}, cluster: []string{"10.244.0.0/16"}}
		if rapid.Bool().Draw(rt, "dual") {
			node.addrs = append(node.addrs, "fd00::1")
		}
		cfg := Config{ServiceCIDRs: testCfg.ServiceCIDRs, MaglevTableSize: 13}
		p := node.proxy(rt)
		rr, err := NewRenderer(cfg)
		require.NoError(rt, err)
		var f Fake
		var specs []svcSpec
		for step := range rapid.IntRange(1, 6).Draw(rt, "steps") {
			next := genSpecs(rt, fmt.Sprint("step", step))
			// Keep some Services as they were, so that steps are partial.
			for _, s := range specs {
				if rapid.Bool().Draw(rt, "keep") && !slicesContainName(next, s.name) {
					next = append(next, s)
				}
			}
			resync(rt, p, specs, next)
			specs = next
			tx, err := rr.Sync(p)
			require.NoError(rt, err)
			require.NoError(rt, f.Run(context.Background(), tx.String()), "step %d:\n%s", step, tx)
			require.Equal(rt, render(rt, p, cfg).String(), f.State().String(), "step %d", step)
		}
	})
}

func TestRendererOneEndpoint(t *testing.T) {
	specs := manyServices(2000, 10)
	p := nodeA.proxy(t, specs...)
	rr, err := NewRenderer(testCfg)
	require.NoError(t, err)
	full, err := rr.Sync(p)
	require.NoError(t, err)
	require.Equal(t, render(t, p, testCfg).String(), full.String())
	next := append([]svcSpec(nil), specs...)
	next[1234].eps = next[1234].eps[1:]
	resync(t, p, specs, next)
	tx, err := rr.Sync(p)
	require.NoError(t, err)
	require.Equal(t, render(t, p, testCfg).Diff(render(t, nodeA.proxy(t, specs...), testCfg)).String(), tx.String())
	require.Equal(t, 2, tx.Len())
	empty, err := rr.Sync(p)
	require.NoError(t, err)
	require.Zero(t, empty.Len())
}
