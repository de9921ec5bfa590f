package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/svcnet/svcnet/dnsname"
)

// needNetns skips (or, with SVCNET_REQUIRE_NETNS=1, fails) a test that
// needs root and the given tools.
func needNetns(t *testing.T, tools ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && why == "" {
			why = tool + " not found (Debian: apt-get install iproute2 bind9-dnsutils libc-bin)"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("SVCNET_REQUIRE_NETNS") == "1" {
		t.Fatalf("netns test cannot run: %s (SVCNET_REQUIRE_NETNS=1)", why)
	}
	t.Skipf("netns test skipped: %s", why)
}

// netns is a network namespace made for one test, with its own
// resolv.conf (ip netns exec bind-mounts /etc/netns/<name>/resolv.conf
// over /etc/resolv.conf), removed when the test ends.
type netns struct {
	name string
	t    *testing.T
}

func newNetns(t *testing.T, resolvConf string) *netns {
	n := &netns{name: fmt.Sprintf("svcnet-dns-%d", os.Getpid()), t: t}
	etc := filepath.Join("/etc/netns", n.name)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.name).Run()
		_ = os.RemoveAll(etc)
	})
	_ = exec.Command("ip", "netns", "del", n.name).Run() // a leftover of a killed run
	run(t, "ip", "netns", "add", n.name)
	require.NoError(t, os.MkdirAll(etc, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte(resolvConf), 0o644))
	// hosts: files dns, so that getent goes to the server; an empty
	// hosts file, so that nothing is answered before it.
	require.NoError(t, os.WriteFile(filepath.Join(etc, "nsswitch.conf"), []byte("hosts: files dns\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644))
	n.exec("ip", "link", "set", "lo", "up")
	// The pod's address, on the namespace's own loopback (no link
	// leaves the namespace, so nothing routes to it from the host).
	n.exec("ip", "addr", "add", "10.244.0.10/32", "dev", "lo")
	return n
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
	return string(out)
}

// exec runs a command inside the namespace, with its resolv.conf.
func (n *netns) exec(name string, args ...string) string {
	n.t.Helper()
	return run(n.t, "ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

// listen opens UDP and TCP sockets on addr inside the namespace: the
// thread enters it, makes the sockets (which stay in it) and goes back.
func (n *netns) listen(addr string) (net.PacketConn, net.Listener) {
	n.t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	require.NoError(n.t, err)
	defer self.Close()
	target, err := os.Open("/run/netns/" + n.name)
	require.NoError(n.t, err)
	defer target.Close()
	setns := func(f *os.File) error {
		return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
	}
	require.NoError(n.t, setns(target))
	udp, uerr := net.ListenPacket("udp", addr)
	tcp, terr := net.Listen("tcp", addr)
	require.NoError(n.t, setns(self), "back to the test's namespace")
	require.NoError(n.t, uerr)
	require.NoError(n.t, terr)
	return udp, tcp
}

// TestRealClients serves the test cluster on a pod-like address in a
// namespace whose resolv.conf is what kubelet writes for a pod in
// "default", and asks it with dig (UDP and TCP, every record kind) and
// glibc's getent (short names through the search path; a 100-address
// headless Service that comes back whole, over TCP after truncation).
func TestRealClients(t *testing.T) {
	needNetns(t, "ip", "dig", "getent")
	conf := "nameserver 10.244.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
	n := newNetns(t, conf)
	udp, tcp := n.listen("10.244.0.10:53")
	srv, err := New(Config{Resolver: testCluster(t, dnsname.Config{Pods: dnsname.PodsInsecure}), NSAddrs: []netip.Addr{netip.MustParseAddr("10.244.0.10")}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, udp, tcp) }()
	t.Cleanup(func() { cancel(); <-done; udp.Close(); tcp.Close() })

	dig := func(proto, name, qtype string) string {
		args := []string{"@10.244.0.10", name, qtype, "+noall", "+answer", "+comments", "+authority", "+time=2", "+tries=1"}
		if proto == "tcp" {
			args = append(args, "+tcp")
		}
		return n.exec("dig", args...)
	}
	for _, proto := range []string{"udp", "tcp"} {
		for _, c := range []struct {
			name, qtype string
			want        []string
		}{
			{"web.default.svc.cluster.local.", "A", []string{"status: NOERROR", "flags: qr aa rd;", "web.default.svc.cluster.local. 5 IN A 10.96.0.10"}},
			{"db.default.svc.cluster.local.", "A", []string{"10.244.1.1", "10.244.1.2", "10.244.1.3"}},
			{"web.default.svc.cluster.local.", "AAAA", []string{"status: NOERROR", "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local."}},
			{"_http._tcp.web.default.svc.cluster.local.", "SRV", []string{"IN SRV 0 100 80 web.default.svc.cluster.local."}},
			{"10.0.96.10.in-addr.arpa.", "PTR", []string{"IN PTR web.default.svc.cluster.local."}},
			{"ext.default.svc.cluster.local.", "CNAME", []string{"IN CNAME web.default.svc.cluster.local."}},
			{"dns-version.cluster.local.", "TXT", []string{`28800 IN TXT "1.1.0"`}},
			{"cluster.local.", "SOA", []string{"cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local."}},
			{"cluster.local.", "NS", []string{"cluster.local. 5 IN NS ns.dns.cluster.local."}},
			{"10-244-0-99.default.pod.cluster.local.", "A", []string{"IN A 10.244.0.99"}},
			{"nope.default.svc.cluster.local.", "A", []string{"status: NXDOMAIN", "IN SOA ns.dns.cluster.local."}},
			{"example.org.", "A", []string{"status: REFUSED"}},
		} {
			out := squeeze(dig(proto, c.name, c.qtype))
			for _, w := range c.want {
				require.Contains(t, out, w, "dig +%s %s %s", proto, c.name, c.qtype)
			}
		}
	}
	// The big headless Service over UDP: truncated; dig +tcp: whole.
	out := n.exec("dig", "@10.244.0.10", "big.default.svc.cluster.local.", "A", "+ignore", "+noedns", "+time=2", "+tries=1")
	require.Contains(t, out, "flags: qr aa tc rd")
	require.Contains(t, dig("udp", "big.default.svc.cluster.local.", "A"), "Truncated, retrying in TCP mode")
	require.Len(t, grepLines(dig("tcp", "big.default.svc.cluster.local.", "A"), "IN\tA"), 100)

	// glibc through the search path, short names.
	require.Equal(t, []string{"10.96.0.10", "web.default.svc.cluster.local"}, strings.Fields(n.exec("getent", "hosts", "web")))
	require.Contains(t, n.exec("getent", "hosts", "web.default"), "10.96.0.10")
	ah := n.exec("getent", "ahosts", "db")
	for _, ip := range []string{"10.244.1.1", "10.244.1.2", "10.244.1.3"} {
		require.Contains(t, ah, ip)
	}
	big := map[string]bool{}
	for _, l := range grepLines(n.exec("getent", "ahostsv4", "big"), "STREAM") {
		big[strings.Fields(l)[0]] = true
	}
	require.Len(t, big, 100, "every address of the 100-endpoint headless Service")
	st := srv.Stats()
	require.Positive(t, st.Truncated)
	require.Positive(t, st.RequestsTCP)
	require.Positive(t, st.Responses[3]) // NXDOMAIN on the search path
}

func squeeze(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func grepLines(s, sub string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return slices.Clip(out)
}
