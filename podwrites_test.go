package svcnet

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// TestApplyPodWritesEqualsOneByOne checks ApplyPodWrites against the
// obvious model: the same writes applied one by one with ApplyPod and
// DeletePod. Both clusters must end with the same pods, slices, proxy
// backends and DNS answers, and the same writes must fail.
func TestApplyPodWritesEqualsOneByOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		immediate := rapid.Bool().Draw(t, "immediate")
		mk := func() *Cluster {
			c, err := NewCluster(Config{
				ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
				PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
				Rand:          rand.New(rand.NewPCG(1, 2)),
				ImmediateSync: immediate,
				DNS:           DNSConfig{Pods: dnsname.PodsInsecure},
			})
			require.NoError(t, err)
			for i, z := range []string{"a", "b"} {
				_, err := c.AddNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: fmt.Sprintf("n%d", i),
					Labels: service.Labels{service.LabelTopologyZone: z}}})
				require.NoError(t, err)
			}
			for _, app := range []string{"a", "b"} {
				_, err := c.CreateService(&service.Service{ObjectMeta: service.ObjectMeta{Name: "s" + app, Namespace: "default"},
					Spec: service.ServiceSpec{Selector: service.Labels{"app": app},
						Ports: []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}}}})
				require.NoError(t, err)
			}
			return c
		}
		one, batch := mk(), mk()
		var writes []PodWrite
		for i := range rapid.IntRange(0, 40).Draw(t, "n") {
			name := fmt.Sprintf("p%d", rapid.IntRange(0, 5).Draw(t, fmt.Sprint("pod", i)))
			if rapid.IntRange(0, 3).Draw(t, fmt.Sprint("del", i)) == 0 {
				writes = append(writes, PodWrite{Delete: service.NamespacedName{Namespace: "default", Name: name}})
				continue
			}
			p := &service.Pod{ObjectMeta: service.ObjectMeta{Name: name, Namespace: "default",
				Labels: service.Labels{"app": rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, fmt.Sprint("app", i))}},
				Spec: service.PodSpec{NodeName: rapid.SampledFrom([]string{"n0", "n1", "gone"}).Draw(t, fmt.Sprint("node", i)),
					Containers: []service.Container{{Name: "c"}}}}
			switch rapid.IntRange(0, 3).Draw(t, fmt.Sprint("ip", i)) {
			case 0: // no IP yet
			case 1: // an address endpoints refuse
				p.Status.PodIP, p.Status.PodIPs = "127.0.0.1", []service.PodIP{{IP: "127.0.0.1"}}
			default:
				ip := fmt.Sprintf("10.244.0.%d", rapid.IntRange(1, 8).Draw(t, fmt.Sprint("addr", i)))
				p.Status.PodIP, p.Status.PodIPs = ip, []service.PodIP{{IP: ip}}
			}
			if rapid.Bool().Draw(t, fmt.Sprint("bad", i)) && rapid.Bool().Draw(t, fmt.Sprint("bad2", i)) {
				p.Name = "Not_A_Name"
			}
			p.SetReady(rapid.Bool().Draw(t, fmt.Sprint("ready", i)))
			writes = append(writes, PodWrite{Pod: p})
		}
		var wantFail []bool
		for _, w := range writes {
			var err error
			if w.Pod != nil {
				_, err = one.ApplyPod(w.Pod)
			} else {
				_, err = one.DeletePod(w.Delete)
			}
			wantFail = append(wantFail, err != nil)
		}
		for start := 0; start < len(writes); {
			k := rapid.IntRange(1, len(writes)-start).Draw(t, "chunk")
			chs, err := batch.ApplyPodWrites(writes[start : start+k])
			require.Len(t, chs, k)
			anyFail := false
			for _, f := range wantFail[start : start+k] {
				anyFail = anyFail || f
			}
			require.Equal(t, anyFail, err != nil, "chunk %d+%d: %v", start, k, err)
			start += k
		}
		one.SyncAllNodes()
		batch.SyncAllNodes()
		require.NoError(t, one.SyncDNS())
		require.NoError(t, batch.SyncDNS())
		js := func(v any) string { b, err := json.Marshal(v); require.NoError(t, err); return string(b) }
		require.Equal(t, js(one.Pods("")), js(batch.Pods("")))
		for _, app := range []string{"a", "b"} {
			key := service.NamespacedName{Namespace: "default", Name: "s" + app}
			require.Equal(t, js(one.Slices(key)), js(batch.Slices(key)))
			require.Equal(t, one.Table().Backends(key, "http", service.ProtocolTCP, false),
				batch.Table().Backends(key, "http", service.ProtocolTCP, false))
			for _, n := range []string{"n0", "n1"} {
				po, _ := one.Proxy(n)
				pb, _ := batch.Proxy(n)
				require.Equal(t, po.Table().Backends(key, "http", service.ProtocolTCP, false),
					pb.Table().Backends(key, "http", service.ProtocolTCP, false))
			}
			name := "s" + app + ".default.svc.cluster.local."
			require.Equal(t, one.DNS().Resolve(name, dnsname.TypeA).String(), batch.DNS().Resolve(name, dnsname.TypeA).String())
		}
		for i := 1; i <= 8; i++ {
			name := fmt.Sprintf("10-244-0-%d.default.pod.cluster.local.", i)
			require.Equal(t, one.DNS().Resolve(name, dnsname.TypeA).String(), batch.DNS().Resolve(name, dnsname.TypeA).String())
		}
	})
}
