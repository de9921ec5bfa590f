//go:build linux

package testbed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/dnsserver"
	"github.com/svcnet/svcnet/internal/netns"
)

// dnsNode is the cluster DNS as a node serves it: the node namespace's
// loopback holds the DNS address (the kubelets' clusterDNS, the
// kube-dns ClusterIP; NodeLocal DNSCache puts it on a dummy link, which
// needs a kernel module containers often lack), and a dnsserver listens
// on it, on UDP and TCP port 53, answering from the simulator's
// resolver, as NodeLocal DNSCache binds the kube-dns address on every
// node. A pod's query
// reaches it through the pod's gateway and the node's input hook, which
// kube-proxy's cluster-ips-check (forward and output only) does not
// filter.
type dnsNode struct {
	srv    *dnsserver.Server
	cancel context.CancelFunc
	done   chan error
}

// startDNS serves res at addr on node n.
func startDNS(b *bed, n *nodeNet, addr netip.Addr, res *dnsname.Resolver) (*dnsNode, error) {
	if err := b.ip(n.ns, fmt.Sprintf("addr add %s/32 dev lo", addr)); err != nil {
		return nil, err
	}
	srv, err := dnsserver.New(dnsserver.Config{Resolver: res, NSAddrs: []netip.Addr{addr}})
	if err != nil {
		return nil, err
	}
	var udp net.PacketConn
	var tcp net.Listener
	at := netip.AddrPortFrom(addr, 53).String()
	err = netns.Enter(n.ns, func() (err error) {
		if udp, err = net.ListenPacket("udp4", at); err != nil {
			return err
		}
		tcp, err = net.Listen("tcp4", at)
		return err
	})
	if err != nil {
		if udp != nil {
			udp.Close()
		}
		return nil, fmt.Errorf("testbed: dns on %s at %s: %w", n.name, at, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &dnsNode{srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := srv.Serve(ctx, udp, tcp)
		udp.Close()
		tcp.Close()
		d.done <- err
	}()
	return d, nil
}

// stop ends the server and waits for it.
func (d *dnsNode) stop() error {
	d.cancel()
	return <-d.done
}

// answered is the queries the server answered, whatever the rcode.
func (d *dnsNode) answered() uint64 {
	var n uint64
	for _, c := range d.srv.Stats().Responses {
		n += c
	}
	return n
}

// dnsCache is one client pod's cached answer for its flow's name, as
// the simulator keeps one (sim/traffic.go): a lookup when it expired.
type dnsCache struct {
	mu      sync.Mutex
	addr    netip.Addr
	expires time.Time
}

// errNoAddress: every candidate of the search path was NXDOMAIN or
// NODATA.
var errNoAddress = errors.New("testbed: the name has no address")

// resolve returns the address the flow's name has for client c: its
// cached answer, or a lookup through the cluster DNS, one candidate of
// its resolv.conf's search path after the other (a not-found moves on,
// as the stub resolver does; any other failure ends the lookup). A
// lookup counts in the tally; its answer is kept for the resolver's
// TTL, scaled to wall-clock time.
func (r *runner) resolve(f *flowRun, c *podRun) (netip.Addr, error) {
	f.mu.Lock()
	e := f.cache[c]
	if e == nil {
		e = &dnsCache{}
		f.cache[c] = e
	}
	f.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.addr.IsValid() && time.Now().Before(e.expires) {
		return e.addr, nil
	}
	r.tally.mu.Lock()
	r.tally.lookups++
	r.tally.mu.Unlock()
	e.addr = netip.Addr{}
	server := netip.AddrPortFrom(r.dnsAddr, 53).String()
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (conn net.Conn, err error) {
		// The pod's resolv.conf names the server; the host's is not read
		// for it (a rooted name is not searched either).
		var d net.Dialer
		err = netns.Enter(c.ns, func() (err error) {
			conn, err = d.DialContext(ctx, network, server)
			return err
		})
		return conn, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), r.connectTimeout)
	defer cancel()
	for _, name := range c.conf.Candidates(f.host) {
		addrs, err := res.LookupNetIP(ctx, "ip4", name)
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			continue
		}
		if err != nil {
			return netip.Addr{}, err
		}
		if len(addrs) == 0 {
			continue
		}
		e.addr = addrs[0].Unmap()
		if f.direct {
			// A headless name has an address per ready pod, which
			// CoreDNS's loadbalance plugin shuffles and the client takes
			// the first of; Go's resolver sorts them (RFC 6724), so take
			// one at random, as sim does.
			e.addr = addrs[rand.IntN(len(addrs))].Unmap()
		}
		e.expires = time.Now().Add(time.Duration(float64(r.dnsTTL) * float64(time.Second) * r.scale))
		return e.addr, nil
	}
	return netip.Addr{}, errNoAddress
}
