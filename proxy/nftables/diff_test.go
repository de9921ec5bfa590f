package nftables

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// genSpecs draws a small set of Services with endpoints.
func genSpecs(t *rapid.T, label string) []svcSpec {
	n := rapid.IntRange(0, 6).Draw(t, label+"-services")
	var specs []svcSpec
	for range n {
		// Addresses and ports follow the name: two Services never claim
		// the same one, as the Registry guarantees.
		i := rapid.IntRange(0, 8).Draw(t, label+"-name")
		s := svcSpec{
			name:       fmt.Sprintf("s%d", i),
			clusterIPs: []string{fmt.Sprintf("10.96.0.%d", 10+i)},
			port:       80,
			typ:        rapid.SampledFrom([]service.ServiceType{service.ServiceTypeClusterIP, service.ServiceTypeNodePort, service.ServiceTypeLoadBalancer}).Draw(t, label+"-type"),
			etpLocal:   rapid.Bool().Draw(t, label+"-etp"),
			alg:        rapid.SampledFrom([]string{"", lb.AlgorithmMaglev}).Draw(t, label+"-alg"),
		}
		if rapid.Bool().Draw(t, label+"-affinity") {
			s.affinity = 30
		}
		if s.typ != service.ServiceTypeClusterIP {
			s.nodePort = int32(30000 + i)
		} else {
			s.etpLocal = false
		}
		if s.typ == service.ServiceTypeLoadBalancer {
			s.lbIPs = []string{fmt.Sprintf("203.0.113.%d", 10+i)}
			if rapid.Bool().Draw(t, label+"-ranges") {
				s.ranges = []string{"198.51.100.0/24"}
			}
		}
		for j := range rapid.IntRange(0, 4).Draw(t, label+"-eps") {
			s.eps = append(s.eps, tep{addr: fmt.Sprintf("10.244.%d.%d", j%2, 10+j+10*rapid.IntRange(0, 3).Draw(t, label+"-ep")),
				node: rapid.SampledFrom([]string{"node-a", "node-b"}).Draw(t, label+"-node"), ready: rapid.Bool().Draw(t, label+"-ready")})
		}
		if !slicesContainName(specs, s.name) {
			specs = append(specs, s)
		}
	}
	return specs
}

func slicesContainName(specs []svcSpec, name string) bool {
	for _, s := range specs {
		if s.name == name {
			return true
		}
	}
	return false
}

// TestDiffAppliesExactly: applying Diff(a→b) to a's rules yields exactly
// b's, and a ruleset's diff against itself is empty.
func TestDiffAppliesExactly(t *testing.T) {
	node := nodeView{name: "node-a", addrs: []string{"192.168.0.1"}, cluster: []string{"10.244.0.0/16"}}
	cfg := Config{ServiceCIDRs: testCfg.ServiceCIDRs, MaglevTableSize: 13}
	rapid.Check(t, func(rt *rapid.T) {
		a := render(rt, node.proxy(rt, genSpecs(rt, "a")...), cfg)
		b := render(rt, node.proxy(rt, genSpecs(rt, "b")...), cfg)
		tx := b.Diff(a)
		got, err := Parse(a.String())
		require.NoError(rt, err)
		got, err = got.Apply(tx.String())
		require.NoError(rt, err, "%s", tx)
		require.Equal(rt, b.String(), got.String())
		require.Zero(rt, b.Diff(b).Len())

		var f Fake
		require.NoError(rt, f.Run(context.Background(), a.String()))
		require.NoError(rt, f.Run(context.Background(), tx.String()))
		require.Equal(rt, b.String(), f.State().String())
	})
}

func TestDiffFromNothingIsFull(t *testing.T) {
	r := render(t, nodeA.proxy(t, flowServices...), testCfg)
	require.Equal(t, r.String(), r.Diff(nil).String())
	require.Equal(t, "delete table ip kube-proxy\ndelete table ip6 kube-proxy\n", (&Ruleset{}).Diff(r).String())
}

// TestDiffOneEndpoint: one endpoint leaving one Service of many touches
// that Service's chains and elements only.
func TestDiffOneEndpoint(t *testing.T) {
	specs := manyServices(200, 3)
	a := render(t, nodeA.proxy(t, specs...), testCfg)
	specs[17].eps = specs[17].eps[1:]
	b := render(t, nodeA.proxy(t, specs...), testCfg)
	tx := b.Diff(a)
	// The policy chain flushed and its one rule (dnat through a numgen
	// map) rewritten; kube-proxy v1.37 also re-adds the chain (3 lines).
	require.Equal(t, 2, tx.Len(), "%s", tx)
	require.Contains(t, tx.String(), "flush chain ip kube-proxy service-")
}

// manyServices returns n Services with eps endpoints each; the first
// 2 000 are NodePort Services (distinct NodePorts), the others ClusterIP.
func manyServices(n, eps int) []svcSpec {
	specs := make([]svcSpec, n)
	for i := range specs {
		s := svcSpec{name: fmt.Sprintf("svc-%d", i), typ: service.ServiceTypeClusterIP,
			clusterIPs: []string{fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)}, port: 80, targetPort: 8080}
		if i < 2000 {
			s.typ, s.nodePort = service.ServiceTypeNodePort, int32(30000+i)
		}
		for j := range eps {
			k := i*eps + j
			s.eps = append(s.eps, tep{addr: fmt.Sprintf("10.%d.%d.%d", 100+k/65536, k/256%256, k%256), node: fmt.Sprintf("node-%d", k%7), ready: true})
		}
		specs[i] = s
	}
	return specs
}
