//go:build linux

package testbed

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/svcnet/svcnet/internal/netns"
	"github.com/svcnet/svcnet/service"
	"github.com/svcnet/svcnet/sim"
)

// outcome is what a client saw of one connection.
type outcome uint8

const (
	outServed outcome = iota
	// outRefused: the connect failed with ECONNREFUSED (an RST to the
	// SYN, or the ICMP port unreachable of a reject rule).
	outRefused
	// outReset: the connection broke before the server's ok: ECONNRESET,
	// or EOF before it.
	outReset
	// outTimeout: the connect or the closing exchange timed out.
	outTimeout
	// outUnreachable: EHOSTUNREACH or ENETUNREACH (an ICMP error).
	outUnreachable
	// outDNS: the flow's name did not resolve (NXDOMAIN or NODATA on
	// every candidate of the search path, or the lookup failed).
	outDNS
	outKinds
)

var outNames = [outKinds]string{"served", "refused", "reset", "timed out", "unreachable", "dns failure"}

// classifyDial maps a failed connect to an outcome.
func classifyDial(err error) outcome {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return outRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return outUnreachable
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return outTimeout
	}
	return outUnreachable
}

// flowRun is one TrafficSpec as the testbed runs it.
type flowRun struct {
	idx    int
	spec   sim.TrafficSpec
	target netip.AddrPort
	// external flows connect from srcs in the outside namespace.
	external bool
	srcs     []netip.Addr
	outside  string
	// nodePort: the flow connects to a node's address (pickNode) at
	// target's port.
	nodePort bool
	// lb: an external via-loadBalancer flow reaches target (the
	// LoadBalancer IP) through the node lb picks.
	lb *cloudLB
	// dns flows resolve host through the cluster DNS (from each client
	// pod, cached per pod) and connect to the answer at target's port;
	// direct ones to a pod's address, at targetPort (ports).
	dns        bool
	host       string
	direct     bool
	targetPort service.IntOrString
	ports      *podPorts

	mu      sync.Mutex
	clients []*podRun
	cache   map[*podRun]*dnsCache
}

func (f *flowRun) addClient(p *podRun) {
	f.mu.Lock()
	f.clients = append(f.clients, p)
	f.mu.Unlock()
}

func (f *flowRun) removeClient(p *podRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.clients {
		if c == p {
			f.clients = append(f.clients[:i], f.clients[i+1:]...)
			return
		}
	}
}

func (f *flowRun) pick(r *rand.Rand) *podRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.clients) == 0 {
		return nil
	}
	// As sim's pickClient: eight tries at a client whose node is up.
	for range 8 {
		if c := f.clients[r.IntN(len(f.clients))]; !c.node.isDown() {
			return c
		}
	}
	return nil
}

// maxInFlight bounds the connections open at once.
const maxInFlight = 4096

// tally counts outcomes, in total, per flow and per bucket of start
// time.
type tally struct {
	mu      sync.Mutex
	total   [outKinds]int64
	flows   [][outKinds]int64
	buckets [][outKinds]int64
	skipped int64
	// lookups counts the DNS lookups clients made (cache misses).
	lookups int64
}

func (t *tally) add(flow, bucket int, k outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total[k]++
	t.flows[flow][k]++
	if bucket >= 0 && bucket < len(t.buckets) {
		t.buckets[bucket][k]++
	}
}

// toOutcomes maps the socket outcomes to sim's kinds: a timeout counts
// as Unreachable (the client times out, as sim's Unreachable says);
// Rejected (ICMP port unreachable from a reject rule) cannot be told
// from Refused at the socket and is counted there.
func toOutcomes(c [outKinds]int64) sim.Outcomes {
	o := sim.Outcomes{Served: c[outServed], Refused: c[outRefused], Reset: c[outReset], Unreachable: c[outTimeout] + c[outUnreachable],
		DNSFailure: c[outDNS]}
	for _, n := range c {
		o.Total += n
	}
	return o
}

// generate opens the flow's connections, a Poisson stream at the
// flow's rate over the time scale, from random client pods, from its
// start to its stop (wall-clock times), and stops at end or quit.
func (r *runner) generate(f *flowRun, from, until time.Time, rng *rand.Rand) {
	defer r.gens.Done()
	rate := f.spec.Rate / r.scale
	if rate <= 0 {
		return
	}
	next := from
	for n := 0; ; n++ {
		next = next.Add(time.Duration(rng.ExpFloat64() / rate * 1e9))
		if !next.Before(until) {
			return
		}
		select {
		case <-r.end:
			return
		case <-time.After(time.Until(next)):
		}
		length := time.Duration(float64(f.spec.Length.Draw(rng)) * r.scale)
		ns, name, src, target, client := "", "", netip.Addr{}, f.target, (*podRun)(nil)
		var died <-chan struct{}
		mark := 0
		if f.external {
			src = f.srcs[rng.IntN(len(f.srcs))]
			ns, name = f.outside, src.String()
		} else {
			c := f.pick(rng)
			if c == nil {
				continue // no client running: sim skips the arrival too
			}
			ns, name, client, died = c.ns, c.key.Name, c, c.node.died()
		}
		if f.nodePort {
			node, ok := r.pickNode(rng)
			if !ok {
				r.tally.add(f.idx, r.bucketOf(time.Now()), outUnreachable) // sim: no node to pick
				continue
			}
			target = netip.AddrPortFrom(node, f.target.Port())
		}
		if f.lb != nil {
			m, ok, err := f.lb.pick(src, f.target)
			if err != nil {
				r.fail(err)
				return
			}
			if !ok {
				// No node runs: sim counts it unreachable.
				r.tally.add(f.idx, r.bucketOf(time.Now()), outUnreachable)
				continue
			}
			mark = m
		}
		select {
		case r.inflight <- struct{}{}:
		default:
			r.tally.mu.Lock()
			r.tally.skipped++
			r.tally.mu.Unlock()
			continue
		}
		r.conns.Add(1)
		go func() {
			defer r.conns.Done()
			defer func() { <-r.inflight }()
			start := time.Now()
			var k outcome
			var err error
			if f.dns {
				var a netip.Addr
				if a, err = r.resolve(f, client); err != nil {
					k = outDNS
				}
				port := f.target.Port()
				if f.direct {
					port = f.ports.port(a, f.targetPort, port)
				}
				target = netip.AddrPortFrom(a, port)
			}
			if err == nil {
				k, err = r.connect(ns, src, mark, target, length, died)
			}
			r.tally.add(f.idx, r.bucketOf(start), k)
			if k != outServed {
				to := target.String()
				if k == outDNS {
					to = f.host
				}
				r.log("%.3fs %s from %s to %s: %s: %v", r.simTime(start).Seconds(), outNames[k], name, to, time.Since(start).Round(time.Millisecond), err)
			}
		}()
	}
}

// connect opens one connection from namespace ns (from src, if valid,
// with the socket mark mark, if not 0) to target, holds it
// for length, then closes it with the bye/ok exchange, and says how it
// went. A connection still held when the run ends counts as served, as
// the simulator counts those still open.
//
// died (nil for an external client) closes when the client's node goes
// down: the client is gone and its connection with it (sim counts it
// reset).
func (r *runner) connect(ns string, src netip.Addr, mark int, target netip.AddrPort, length time.Duration, died <-chan struct{}) (outcome, error) {
	var conn net.Conn
	d := net.Dialer{Timeout: r.connectTimeout}
	if mark != 0 {
		d.Control = markControl(mark)
	}
	if src.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
	}
	err := netns.Enter(ns, func() (err error) {
		conn, err = d.Dial("tcp4", target.String())
		return err
	})
	if err != nil {
		return classifyDial(err), err
	}
	defer conn.Close()
	// Hold: nothing may arrive before bye; a byte, EOF or RST while
	// holding is a break. The reader's one Read gets either that or,
	// after bye, the server's answer.
	type read struct {
		b   byte
		err error
	}
	got := make(chan read, 1)
	go func() {
		var b [1]byte
		n, err := conn.Read(b[:])
		if n == 1 {
			err = nil
		} else if err == nil {
			err = errors.New("empty read")
		}
		got <- read{b[0], err}
	}()
	hold := time.NewTimer(length)
	defer hold.Stop()
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
held:
	for {
		select {
		case res := <-got:
			return outReset, res.err
		case <-r.end:
			return outServed, nil
		case <-died:
			return outReset, errors.New("the client's node went down")
		case <-ping.C:
			conn.SetWriteDeadline(time.Now().Add(r.connectTimeout))
			if _, err := conn.Write([]byte(msgPing)); err != nil {
				return outReset, err
			}
		case <-hold.C:
			break held
		}
	}
	conn.SetDeadline(time.Now().Add(r.connectTimeout))
	if _, err := conn.Write([]byte(msgBye)); err != nil {
		return outReset, err
	}
	res := <-got
	var ne net.Error
	switch {
	case res.err == nil && res.b == msgOK[0]:
		return outServed, nil
	case errors.As(res.err, &ne) && ne.Timeout():
		return outTimeout, res.err
	}
	return outReset, res.err
}
