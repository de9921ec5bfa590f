package dnsserver

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseUpstreams(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "resolv.conf")
	require.NoError(t, os.WriteFile(rc, []byte("search example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:2\n"), 0o644))

	got, err := ParseUpstreams("", rc)
	require.NoError(t, err)
	require.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53"), netip.MustParseAddrPort("[2001:db8::53]:53")}, got)

	got, err = ParseUpstreams("", filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.Empty(t, got, "no resolv.conf: no upstreams")

	got, err = ParseUpstreams("none", rc)
	require.NoError(t, err)
	require.Empty(t, got)

	got, err = ParseUpstreams("127.0.0.1:5300, [::1]:53", rc)
	require.NoError(t, err)
	require.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:5300"), netip.MustParseAddrPort("[::1]:53")}, got)

	_, err = ParseUpstreams("127.0.0.1", rc)
	require.ErrorContains(t, err, "-upstreams")

	bad := filepath.Join(dir, "bad.conf")
	require.NoError(t, os.WriteFile(bad, []byte("nameserver not-an-ip\n"), 0o644))
	_, err = ParseUpstreams("", bad)
	require.ErrorContains(t, err, bad)
}

func TestNSAddrs(t *testing.T) {
	require.Equal(t, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, NSAddrs(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 53}))
	require.Empty(t, NSAddrs(&net.UDPAddr{IP: net.IPv4zero, Port: 53}), "listening on every address: none known")
	require.Empty(t, NSAddrs(&net.UDPAddr{IP: net.IPv6unspecified, Port: 53}))
}
