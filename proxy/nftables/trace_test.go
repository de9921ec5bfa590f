package nftables

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/proxy/iptables"
	"github.com/svcnet/svcnet/service"
)

// TestTraceFlows walks kube-proxy's packet-flow cases through the
// rendered rules and checks both the tracer and the model.
func TestTraceFlows(t *testing.T) {
	p := nodeA.proxy(t, flowServices...)
	r := render(t, p, testCfg)
	type flow struct {
		name     string
		src, dst string
		proto    lb.Protocol
		local    bool
		action   Action
		dnat     []string // any of these
		masq     bool
		verdict  proxy.Verdict
	}
	pod := "10.244.0.2:40000"
	outside := "203.0.113.7:40000"
	flows := []flow{
		{name: "pod to ClusterIP", src: pod, dst: "10.96.0.10:80", action: DNAT, dnat: []string{"10.244.0.5:8080", "10.244.1.5:8080"}, verdict: proxy.Routed},
		{name: "hairpin to ClusterIP masquerades", src: "10.244.0.5:40000", dst: "10.96.0.10:80", action: DNAT, dnat: []string{"10.244.0.5:8080", "10.244.1.5:8080"}, masq: true, verdict: proxy.Routed},
		{name: "node to ClusterIP masquerades (not a pod)", src: "192.168.0.1:40000", dst: "10.96.0.10:80", local: true, action: DNAT, dnat: []string{"10.244.0.5:8080", "10.244.1.5:8080"}, masq: true, verdict: proxy.Routed},
		{name: "IPv6 pod to ClusterIP", src: "[fd00:244::2]:40000", dst: "[fd00:96::10]:80", action: DNAT, dnat: []string{"[fd00:244::5]:8080"}, verdict: proxy.Routed},
		{name: "outside to ClusterIP dropped", src: outside, dst: "10.96.0.10:80", action: Drop, verdict: proxy.Unreachable},
		{name: "unallocated ClusterIP dropped", src: pod, dst: "10.96.0.99:80", action: Drop, verdict: proxy.NotServiceAddress},
		{name: "TCP-only port hit with UDP rejected", src: pod, dst: "10.96.0.10:80", proto: lb.UDP, action: Reject, verdict: proxy.NotServiceAddress},
		{name: "wrong port of a ClusterIP rejected", src: pod, dst: "10.96.0.10:81", action: Reject, verdict: proxy.NotServiceAddress},
		{name: "no endpoints rejected", src: pod, dst: "10.96.0.20:80", action: Reject, verdict: proxy.NoEndpoints},
		{name: "not a service passes", src: pod, dst: "10.1.2.3:80", action: Accept, verdict: proxy.NotServiceAddress},
		{name: "NodePort from outside masquerades", src: outside, dst: "192.168.0.1:30080", action: DNAT, dnat: []string{"10.244.0.5:8080", "10.244.1.5:8080"}, masq: true, verdict: proxy.Routed},
		{name: "NodePort Local without local endpoint drops", src: outside, dst: "192.168.0.1:30081", action: Drop, verdict: proxy.DroppedByPolicy},
		{name: "NodePort Local from a pod short-circuits", src: pod, dst: "192.168.0.1:30081", action: DNAT, dnat: []string{"10.244.1.6:80"}, verdict: proxy.Routed},
		{name: "NodePort Local from the node masquerades", src: "192.168.0.1:40000", dst: "192.168.0.1:30081", local: true, action: DNAT, dnat: []string{"10.244.1.6:80"}, masq: true, verdict: proxy.Routed},
		{name: "LB IP from an allowed range", src: "198.51.100.9:40000", dst: "203.0.113.40:443", action: DNAT, dnat: []string{"10.244.0.7:443"}, masq: true, verdict: proxy.Routed},
		{name: "LB IP from a denied source", src: outside, dst: "203.0.113.40:443", action: Drop, verdict: proxy.BlockedBySourceRange},
		{name: "LB NodePort ignores source ranges", src: outside, dst: "192.168.0.1:30443", action: DNAT, dnat: []string{"10.244.0.7:443"}, masq: true, verdict: proxy.Routed},
		{name: "external IP", src: outside, dst: "192.0.2.50:80", action: DNAT, dnat: []string{"10.244.1.8:80"}, masq: true, verdict: proxy.Routed},
		{name: "internalTrafficPolicy Local without local endpoint drops", src: pod, dst: "10.96.0.70:53", proto: lb.UDP, action: Drop, verdict: proxy.DroppedByPolicy},
		{name: "maglev", src: pod, dst: "10.96.0.80:80", action: DNAT, dnat: []string{"10.244.0.11:80", "10.244.1.11:80", "10.244.2.11:80"}, verdict: proxy.Routed},
	}
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			proto := f.proto
			if proto == 0 {
				proto = lb.TCP
			}
			pkt := Packet{Src: netip.MustParseAddrPort(f.src), Dst: netip.MustParseAddrPort(f.dst), Proto: proto, Local: f.local}
			v := Trace(r, pkt)
			require.NoError(t, v.Err)
			require.Equal(t, f.action, v.Action, "chains %v", v.Chains)
			require.Equal(t, f.masq, v.Masquerade, "chains %v", v.Chains)
			if f.action == DNAT {
				require.Contains(t, f.dnat, v.DNAT.String())
			}
			rt := p.Route(proxy.Packet{Src: pkt.Src, Dst: pkt.Dst, Proto: proto}, time.Time{})
			require.Equal(t, f.verdict, rt.Verdict)
			if rt.Verdict == proxy.Routed {
				require.Contains(t, f.dnat, rt.Backend.Addr.String())
			}
		})
	}
}

// TestTraceAffinity: the first connection fills the affinity set, and
// every later one from the same client, whatever numgen draws, goes to
// the same endpoint; another client is free.
func TestTraceAffinity(t *testing.T) {
	r := render(t, nodeA.proxy(t, flowServices...), testCfg)
	tr := NewTracer(r)
	first := tr.Trace(Packet{Src: netip.MustParseAddrPort("10.244.0.2:1000"), Dst: netip.MustParseAddrPort("10.96.0.60:80"), Proto: lb.TCP, Random: 1})
	require.Equal(t, DNAT, first.Action)
	require.Equal(t, "10.244.1.9:80", first.DNAT.String())
	for rnd := range uint32(4) {
		v := tr.Trace(Packet{Src: netip.MustParseAddrPort("10.244.0.2:2000"), Dst: netip.MustParseAddrPort("10.96.0.60:80"), Proto: lb.TCP, Random: rnd})
		require.Equal(t, first.DNAT, v.DNAT)
	}
	other := tr.Trace(Packet{Src: netip.MustParseAddrPort("10.244.0.3:1000"), Dst: netip.MustParseAddrPort("10.96.0.60:80"), Proto: lb.TCP, Random: 0})
	require.Equal(t, "10.244.0.9:80", other.DNAT.String())
}

// TestTraceMaglevTable: the kernel's slot table is svcnet's Maglev table
// for the same backends, so every node picks the same backend per slot.
func TestTraceMaglevTable(t *testing.T) {
	const m = 251
	nodeB := nodeView{name: "node-b", addrs: []string{"192.168.0.2"}, cluster: nodeA.cluster}
	ra := render(t, nodeA.proxy(t, flowServices...), Config{MaglevTableSize: m})
	rb := render(t, nodeB.proxy(t, flowServices...), Config{MaglevTableSize: m})
	mg, err := lb.NewMaglev(lb.MaglevConfig{TableSize: m})
	require.NoError(t, err)
	var bs []lb.Backend
	for _, a := range []string{"10.244.0.11:80", "10.244.1.11:80", "10.244.2.11:80"} {
		bs = append(bs, lb.Backend{Addr: netip.MustParseAddrPort(a), Ready: true})
	}
	require.NoError(t, mg.Update(bs))
	want := mg.AppendTable(nil)
	for h := range uint32(m) {
		pkt := Packet{Src: netip.MustParseAddrPort("10.244.5.5:1234"), Dst: netip.MustParseAddrPort("10.96.0.80:80"), Proto: lb.TCP, Hash: h}
		va, vb := Trace(ra, pkt), Trace(rb, pkt)
		require.Equal(t, want[h], va.DNAT, "slot %d", h)
		require.Equal(t, va.DNAT, vb.DNAT)
	}
}

func TestTraceErrorOnForeignRule(t *testing.T) {
	r, err := Parse("add table ip kube-proxy\nadd chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }\nadd rule ip kube-proxy nat-prerouting counter")
	require.NoError(t, err)
	v := Trace(r, Packet{Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Proto: lb.TCP})
	require.ErrorIs(t, v.Err, ErrSyntax)
}

// TestTraceAgreesWithRoute: for random Tables and packets, the rendered
// rules (nftables, and iptables through iptables.Trace) do what the
// model does: the same verdict and, when routed, the
// same set of endpoints over the draws (numgen values for random, slots
// for maglev) as the model picks over many connections.
func TestTraceAgreesWithRoute(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := []string{"node-a", "node-b"}
		n := rapid.IntRange(1, 5).Draw(rt, "services")
		var specs []svcSpec
		for i := range n {
			s := svcSpec{
				name:       fmt.Sprintf("s%d", i),
				clusterIPs: []string{fmt.Sprintf("10.96.0.%d", 10+i)},
				port:       int32(rapid.SampledFrom([]int{80, 443}).Draw(rt, "port")),
				proto:      rapid.SampledFrom([]service.Protocol{service.ProtocolTCP, service.ProtocolUDP}).Draw(rt, "proto"),
				typ:        rapid.SampledFrom([]service.ServiceType{service.ServiceTypeClusterIP, service.ServiceTypeNodePort, service.ServiceTypeLoadBalancer}).Draw(rt, "type"),
				etpLocal:   rapid.Bool().Draw(rt, "etpLocal"),
				itpLocal:   rapid.IntRange(0, 3).Draw(rt, "itp") == 0,
				alg:        rapid.SampledFrom([]string{"", lb.AlgorithmMaglev}).Draw(rt, "alg"),
			}
			if s.typ != service.ServiceTypeClusterIP {
				s.nodePort = int32(30000 + i)
			} else {
				s.etpLocal = false
			}
			if s.typ == service.ServiceTypeLoadBalancer {
				s.lbIPs = []string{fmt.Sprintf("203.0.113.%d", 10+i)}
				if rapid.Bool().Draw(rt, "ranges") {
					s.ranges = []string{"198.51.100.0/24"}
				}
			}
			if rapid.Bool().Draw(rt, "externalIP") {
				s.externalIPs = []string{fmt.Sprintf("192.0.2.%d", 10+i)}
			}
			for j := range rapid.IntRange(0, 4).Draw(rt, "endpoints") {
				s.eps = append(s.eps, tep{addr: fmt.Sprintf("10.244.%d.%d", j%2, 10+10*i+j), node: rapid.SampledFrom(nodes).Draw(rt, "node"),
					ready: rapid.IntRange(0, 3).Draw(rt, "ready") > 0, term: rapid.Bool().Draw(rt, "term")})
			}
			specs = append(specs, s)
		}
		node := nodeView{name: "node-a", addrs: []string{"192.168.0.1"}, cluster: []string{"10.244.0.0/16", "192.168.0.0/24"}}
		p := node.proxy(rt, specs...)
		const m = 31
		r, err := Render(p, Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}, MaglevTableSize: m})
		if err != nil {
			rt.Fatal(err)
		}
		// A destination: a frontend of a Service, or a wrong port, or an
		// address that is no Service.
		s := rapid.SampledFrom(specs).Draw(rt, "target")
		dsts := []string{s.clusterIPs[0] + fmt.Sprint(":", s.port), s.clusterIPs[0] + ":9", "10.96.1.1:80", "10.1.1.1:80"}
		if s.nodePort != 0 {
			dsts = append(dsts, fmt.Sprint("192.168.0.1:", s.nodePort))
		}
		for _, ip := range append(s.lbIPs, s.externalIPs...) {
			dsts = append(dsts, fmt.Sprint(ip, ":", s.port))
		}
		dst := netip.MustParseAddrPort(rapid.SampledFrom(dsts).Draw(rt, "dst"))
		srcAddr := rapid.SampledFrom([]string{"10.244.0.2", "10.244.1.3", "192.168.0.1", "192.168.0.7", "198.51.100.9", "203.0.113.200"}).Draw(rt, "src")
		proto := lb.TCP
		if s.proto == service.ProtocolUDP {
			proto = lb.UDP
		}
		if rapid.IntRange(0, 5).Draw(rt, "otherProto") == 0 {
			proto = lb.TCP + lb.UDP - proto
		}
		local := srcAddr == "192.168.0.1"

		// The model, over many connections from this source.
		picked := map[netip.AddrPort]bool{}
		var verdict proxy.Verdict
		for port := range 400 {
			rt2 := p.Route(proxy.Packet{Src: netip.AddrPortFrom(netip.MustParseAddr(srcAddr), uint16(20000+port)), Dst: dst, Proto: proto}, time.Time{})
			if port > 0 && rt2.Verdict != verdict {
				rt.Fatalf("model verdict changed between connections: %v, %v", verdict, rt2.Verdict)
			}
			verdict = rt2.Verdict
			if rt2.Verdict == proxy.Routed {
				picked[rt2.Backend.Addr] = true
			}
		}
		// The rules, over every draw.
		traced := map[netip.AddrPort]bool{}
		var action Action
		for d := range uint32(m) {
			v := Trace(r, Packet{Src: netip.AddrPortFrom(netip.MustParseAddr(srcAddr), 20000), Dst: dst, Proto: proto, Local: local, Random: d, Hash: d})
			if v.Err != nil {
				rt.Fatal(v.Err)
			}
			if d > 0 && v.Action != action {
				rt.Fatalf("trace action changed between draws: %v, %v", action, v.Action)
			}
			action = v.Action
			if v.Action == DNAT {
				traced[v.DNAT] = true
			}
		}
		want := map[proxy.Verdict][]Action{
			proxy.Routed:               {DNAT},
			proxy.Unreachable:          {Drop},
			proxy.NoEndpoints:          {Reject},
			proxy.DroppedByPolicy:      {Drop},
			proxy.BlockedBySourceRange: {Drop},
			// kube-proxy refines "no Service here": a wrong port of a
			// ClusterIP is rejected, an unallocated ClusterIP dropped.
			proxy.NotServiceAddress: {Accept, Reject, Drop},
		}[verdict]
		okAction := false
		for _, a := range want {
			okAction = okAction || a == action
		}
		if !okAction {
			rt.Fatalf("%s -> %v %v: model %v, trace %v\n%s", srcAddr, dst, proto, verdict, action, r)
		}
		if verdict == proxy.NotServiceAddress && action != Accept {
			inCIDR := netip.MustParsePrefix("10.96.0.0/16").Contains(dst.Addr())
			if !inCIDR {
				rt.Fatalf("%v outside the service CIDR was %v", dst, action)
			}
		}
		if verdict == proxy.Routed && fmt.Sprint(sortedKeys(picked)) != fmt.Sprint(sortedKeys(traced)) {
			rt.Fatalf("%s -> %v: model picks %v, rules pick %v", srcAddr, dst, sortedKeys(picked), sortedKeys(traced))
		}

		// The same for the iptables rendering, which has no Maglev (a
		// maglev Service is random there, over the same endpoints).
		ipt, err := iptables.Render(p, iptables.Config{})
		if err != nil {
			rt.Fatal(err)
		}
		itraced := map[netip.AddrPort]bool{}
		var iaction iptables.Action
		for d := range uint32(m) {
			v := iptables.Trace(ipt, iptables.Packet{Src: netip.AddrPortFrom(netip.MustParseAddr(srcAddr), 20000), Dst: dst, Proto: proto,
				Local: local, Random: d, LocalAddrs: []netip.Addr{netip.MustParseAddr("192.168.0.1")}})
			if v.Err != nil {
				rt.Fatal(v.Err)
			}
			if d > 0 && v.Action != iaction {
				rt.Fatalf("iptables trace action changed between draws: %v, %v", iaction, v.Action)
			}
			iaction = v.Action
			if v.Action == iptables.DNAT {
				itraced[v.DNAT] = true
			}
		}
		okAction = false
		for _, a := range want {
			okAction = okAction || a.String() == iaction.String()
		}
		if !okAction {
			rt.Fatalf("iptables: %s -> %v %v: model %v, trace %v\n%s", srcAddr, dst, proto, verdict, iaction, ipt)
		}
		if verdict == proxy.Routed && fmt.Sprint(sortedKeys(picked)) != fmt.Sprint(sortedKeys(itraced)) {
			rt.Fatalf("iptables: %s -> %v: model picks %v, rules pick %v", srcAddr, dst, sortedKeys(picked), sortedKeys(itraced))
		}
	})
}

func sortedKeys(m map[netip.AddrPort]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k.String())
	}
	return sortStrings(out)
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}
