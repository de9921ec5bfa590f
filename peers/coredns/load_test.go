package coredns

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// TestPeerLoad is not a test: run with PEER_LOAD=<udp address> (as
// bench.sh does, pinned to the core the server is not on), it is a load
// generator in the manner of dnsperf's: PEER_LOAD_FILE holds queries in
// dnsperf's format ("name TYPE" a line), sent in order and over again,
// PEER_LOAD_CLIENTS sockets (default 4) keep PEER_LOAD_INFLIGHT queries
// in flight between them (default 64, dnsperf's -q), for
// PEER_LOAD_SECS seconds (default 10). It prints "qps <n> p50-ms <x>
// p99-ms <y> lost <n>".
//
// Where dnsperf makes two system calls per query, this one sends and
// receives up to 64 datagrams per call (sendmmsg, recvmmsg), so that the
// generator's own core is not what limits the rate: on this machine
// dnsperf saturates its core at about 130 000 queries per second. Every
// query's latency is measured, from the batch that sent it to the
// batch that received its answer, with the queries at full rate (dnsperf
// -v, which the p99 otherwise needs, slows dnsperf itself).
func TestPeerLoad(t *testing.T) {
	addr := os.Getenv("PEER_LOAD")
	if addr == "" {
		t.Skip("a load generator for bench.sh (PEER_LOAD unset)")
	}
	env := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
		return def
	}
	clients, inflight, secs := env("PEER_LOAD_CLIENTS", 4), env("PEER_LOAD_INFLIGHT", 64), env("PEER_LOAD_SECS", 10)
	qs, err := readQueries(os.Getenv("PEER_LOAD_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total loadStats
	)
	for c := range clients {
		per := inflight / clients
		if c < inflight%clients {
			per++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := loadClient(addr, qs, c*len(qs)/clients, per, deadline)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			total.add(st)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := float64(secs)
	fmt.Printf("qps %.0f p50-ms %.3f p99-ms %.3f lost %d\n", float64(total.n)/elapsed,
		total.quantile(0.50), total.quantile(0.99), total.lost)
}

// readQueries packs the queries of a dnsperf data file.
func readQueries(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 {
			continue
		}
		qt, ok := dns.StringToType[fs[1]]
		if !ok {
			return nil, fmt.Errorf("%s: unknown type %q", path, fs[1])
		}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(fs[0]), qt)
		b, err := m.Pack()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no queries", path)
	}
	return out, sc.Err()
}

// loadStats is a latency histogram in microseconds.
type loadStats struct {
	n, lost int
	hist    [100000]uint32 // [i]: latency i µs; the last bucket holds the rest
}

func (s *loadStats) record(d time.Duration) {
	us := min(int(d/time.Microsecond), len(s.hist)-1)
	s.hist[us]++
	s.n++
}

func (s *loadStats) add(o *loadStats) {
	s.n += o.n
	s.lost += o.lost
	for i, c := range o.hist {
		s.hist[i] += c
	}
}

// quantile returns the latency below which q of the answers came, in ms.
func (s *loadStats) quantile(q float64) float64 {
	want := int(float64(s.n) * q)
	seen := 0
	for i, c := range s.hist {
		seen += int(c)
		if seen > want {
			return float64(i) / 1000
		}
	}
	return float64(len(s.hist)) / 1000
}

// loadClient keeps per queries in flight on one connected socket until
// deadline, starting at query start of qs. A query unanswered after a
// second counts as lost and its slot is reused.
func loadClient(addr string, qs [][]byte, start, per int, deadline time.Time) (*loadStats, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	pc := ipv4.NewPacketConn(conn.(*net.UDPConn))
	st := new(loadStats)
	const batch = 64
	// Slot i of the in-flight window sends with ID i + 4096*gen, so
	// that a late answer to a resent query is told from the new one.
	type slot struct {
		gen  uint16
		sent time.Time
	}
	slots := make([]slot, per)
	next := start
	sendBufs := make([][]byte, per)
	holders := make([][][]byte, per)
	for i := range holders {
		holders[i] = make([][]byte, 1)
	}
	out := make([]ipv4.Message, 0, batch)
	send := func(ids []int, now time.Time) error {
		for len(ids) > 0 {
			out = out[:0]
			for _, i := range ids[:min(len(ids), batch)] {
				q := qs[next%len(qs)]
				next++
				b := append(sendBufs[i][:0], q...)
				slots[i].gen = (slots[i].gen + 1) & 0xf
				binary.BigEndian.PutUint16(b, uint16(i)|slots[i].gen<<12)
				slots[i].sent = now
				sendBufs[i] = b
				holders[i][0] = b
				out = append(out, ipv4.Message{Buffers: holders[i]})
			}
			ids = ids[min(len(ids), batch):]
			for sent := 0; sent < len(out); {
				k, err := pc.WriteBatch(out[sent:], 0)
				if err != nil {
					return err
				}
				sent += k
			}
		}
		return nil
	}
	if per > 4096 {
		return nil, fmt.Errorf("at most 4096 queries in flight per client, not %d", per)
	}
	all := make([]int, per)
	for i := range all {
		all[i] = i
	}
	if err := send(all, time.Now()); err != nil {
		return nil, err
	}
	in := make([]ipv4.Message, batch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, 4096)}
	}
	var resend []int
	errs := 0
	lastScan := time.Now()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := pc.ReadBatch(in, 0)
		now := time.Now()
		if now.After(deadline) {
			return st, nil
		}
		if err != nil {
			// A timeout, or the ICMP error of a query sent before the
			// server read its socket: the scan below resends.
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				if errs++; errs > 1000 {
					return nil, err
				}
			}
			n = 0
		}
		resend = resend[:0]
		for _, m := range in[:n] {
			if m.N < 12 {
				continue
			}
			id := binary.BigEndian.Uint16(m.Buffers[0])
			i := int(id & 0xfff)
			if i >= per || id>>12 != slots[i].gen || slots[i].sent.IsZero() {
				continue // an answer to a query given up on
			}
			st.record(now.Sub(slots[i].sent))
			slots[i].sent = time.Time{}
			resend = append(resend, i)
		}
		if now.Sub(lastScan) > 100*time.Millisecond {
			lastScan = now
			for i := range slots {
				if !slots[i].sent.IsZero() && now.Sub(slots[i].sent) > time.Second {
					st.lost++
					resend = append(resend, i)
				}
			}
		}
		if err := send(resend, now); err != nil {
			return nil, err
		}
	}
}
