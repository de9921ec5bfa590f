package service

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPodIPs(t *testing.T) {
	a := netip.MustParseAddr
	for _, c := range []struct {
		name   string
		status PodStatus
		want   []netip.Addr
	}{
		{"none", PodStatus{}, nil},
		{"podIPs in order", PodStatus{PodIP: "10.0.0.1", PodIPs: []PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}}}, []netip.Addr{a("10.0.0.1"), a("fd00::1")}},
		{"podIP alone", PodStatus{PodIP: "10.0.0.2"}, []netip.Addr{a("10.0.0.2")}},
		{"mapped is unmapped", PodStatus{PodIPs: []PodIP{{IP: "::ffff:10.0.0.3"}}}, []netip.Addr{a("10.0.0.3")}},
		{"garbage left out", PodStatus{PodIPs: []PodIP{{IP: "nope"}, {IP: "10.0.0.4"}}}, []netip.Addr{a("10.0.0.4")}},
		{"podIPs win over podIP", PodStatus{PodIP: "10.0.0.5", PodIPs: []PodIP{{IP: "nope"}}}, nil},
	} {
		p := &Pod{Status: c.status}
		require.Equal(t, c.want, p.IPs(), c.name)
	}
}

func TestNodeAddrs(t *testing.T) {
	n := &Node{Status: NodeStatus{Addresses: []NodeAddress{
		{Type: NodeHostName, Address: "node-a"},
		{Type: NodeInternalIP, Address: "192.168.0.10"},
		{Type: "InternalDNS", Address: "10.9.9.9"},
		{Type: NodeExternalIP, Address: "::ffff:203.0.113.9"},
		{Type: NodeInternalIP, Address: "bad"},
	}}}
	require.Equal(t, []netip.Addr{netip.MustParseAddr("192.168.0.10"), netip.MustParseAddr("203.0.113.9")}, n.Addrs())
	require.Nil(t, (&Node{}).Addrs())
}
