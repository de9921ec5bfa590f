//go:build linux

package testbed

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/svcnet/svcnet/internal/netns"
)

// The little protocol of the testbed's connections: the client holds the
// connection open for its length, sends bye and reads ok; the server
// answers and closes. A connection that ends any other way broke.
const (
	msgPing = "p\n"
	msgBye  = "bye\n"
	msgOK   = "ok\n"
)

// pingEvery is how often a client sends a ping while it holds its
// connection (wall clock), as a long-lived flow sends data: a packet
// that a changed rule sends to another backend comes back as an RST.
const pingEvery = 250 * time.Millisecond

// app is a pod's application: a TCP server on each of its container
// ports, serving until down, which closes its listeners and resets its
// open connections (SO_LINGER 0: the kernel sends RST), as a process
// that exits on SIGTERM loses its sockets. It serves through a preStop
// sleep since the sleep is only the time before down is called.
//
// On its UDP container ports it echoes every datagram back (a DNS or
// statsd server's shape: a request, an answer); after down the ports are
// closed, so the kernel answers with ICMP port unreachable.
type app struct {
	mu    sync.Mutex
	lns   []net.Listener
	pcs   []net.PacketConn
	conns map[net.Conn]struct{}
	down  bool
	wg    sync.WaitGroup
}

// startApp listens on addr at the TCP ports and the UDP ports udp inside
// namespace ns.
func startApp(ns string, addr netip.Addr, ports, udp []int32) (*app, error) {
	a := &app{conns: map[net.Conn]struct{}{}}
	err := netns.Enter(ns, func() error {
		for _, p := range ports {
			ln, err := net.Listen("tcp4", netip.AddrPortFrom(addr, uint16(p)).String())
			if err != nil {
				return err
			}
			a.lns = append(a.lns, ln)
		}
		for _, p := range udp {
			pc, err := net.ListenPacket("udp4", netip.AddrPortFrom(addr, uint16(p)).String())
			if err != nil {
				return err
			}
			a.pcs = append(a.pcs, pc)
		}
		return nil
	})
	if err != nil {
		a.stop()
		return nil, fmt.Errorf("testbed: listening in %s: %w", ns, err)
	}
	for _, ln := range a.lns {
		a.wg.Add(1)
		go a.accept(ln)
	}
	for _, pc := range a.pcs {
		a.wg.Add(1)
		go a.echo(pc)
	}
	return a, nil
}

// maxDatagram is the largest datagram echoed whole.
const maxDatagram = 2048

// echo answers every datagram on pc with itself until stop closes pc.
func (a *app) echo(pc net.PacketConn) {
	defer a.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return // closed by stop
		}
		pc.WriteTo(buf[:n], from)
	}
}

func (a *app) accept(ln net.Listener) {
	defer a.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by stop
		}
		a.mu.Lock()
		if a.down {
			a.mu.Unlock()
			reset(c)
			continue
		}
		a.conns[c] = struct{}{}
		a.wg.Add(1)
		a.mu.Unlock()
		go a.serve(c)
	}
}

// maxLines bounds the lines one connection may send.
const maxLines = 1 << 20

// serve reads pings, answers bye with ok and closes; reading ends when the client
// closes or stop resets the connection.
func (a *app) serve(c net.Conn) {
	defer a.wg.Done()
	defer func() {
		a.mu.Lock()
		delete(a.conns, c)
		a.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	for range maxLines {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if line == msgBye {
			c.Write([]byte(msgOK))
			return
		}
	}
}

// reset closes c with an RST.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// stop closes the listeners and resets every open connection, then waits
// for the server's goroutines; a stopped app stays stopped.
func (a *app) stop() {
	a.mu.Lock()
	a.down = true
	lns, pcs := a.lns, a.pcs
	a.lns, a.pcs = nil, nil
	conns := make([]net.Conn, 0, len(a.conns))
	for c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	for _, pc := range pcs {
		pc.Close()
	}
	for _, c := range conns {
		reset(c)
	}
	a.wg.Wait()
}
