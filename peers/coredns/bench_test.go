package coredns

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/svcnet/svcnet/dnsname"
	svcdns "github.com/svcnet/svcnet/dnsserver"
)

// benchServices is the benchmark cluster's size: 10 000 Services, 50 000
// endpoints.
const benchServices = 10000

// TestPeerServer is not a test: run with PEER_SERVE=svcnet or
// PEER_SERVE=coredns (as BenchmarkQPS does, pinned to a core), it builds
// the benchmark cluster, prints "addr <udp address> held <bytes>" and
// serves until its standard input closes.
func TestPeerServer(t *testing.T) {
	which := os.Getenv("PEER_SERVE")
	if which == "" {
		t.Skip("a helper process for BenchmarkQPS (PEER_SERVE unset)")
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	w := bigWorld(benchServices)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var keep any
	var serve func()
	switch which {
	case "svcnet":
		r, err := w.svcnetResolver(dnsname.PodsDisabled)
		if err != nil {
			t.Fatal(err)
		}
		s, err := svcdns.New(svcdns.Config{Resolver: r})
		if err != nil {
			t.Fatal(err)
		}
		keep = s
		serve = func() { _ = s.Serve(context.Background(), pc, nil) }
	case "coredns":
		s, err := coreDNS(w, "disabled")
		if err != nil {
			t.Fatal(err)
		}
		keep = s
		serve = func() { _ = s.ServePacket(pc) }
	default:
		t.Fatalf("PEER_SERVE=%q is not svcnet or coredns", which)
	}
	// What the server holds for the cluster: the heap after building
	// it, less the heap before, once the world's objects not kept by
	// the server are collected; measured before it serves, so that
	// neither server's read and write buffers (svcnet's batch reader
	// has 2 MiB of them) count, whatever its goroutines have allocated
	// by then.
	w = nil
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	go serve()
	fmt.Printf("addr %s held %d\n", pc.LocalAddr(), int64(after.HeapAlloc)-int64(before.HeapAlloc))
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.KeepAlive(keep)
}

// queryMix returns n queries of the benchmark cluster: "A" ClusterIP A
// queries only, or "mix": A, AAAA, SRV, PTR, NXDOMAIN and headless A in
// equal shares.
func queryMix(kind string, n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var out [][]byte
	for len(out) < n {
		i := rng.IntN(benchServices)
		if i%10 == 0 {
			i++ // a ClusterIP Service
		}
		name := fmt.Sprintf("svc-%d.ns-%d.svc.cluster.local.", i, i/100)
		qt := dns.TypeA
		if kind == "mix" {
			switch len(out) % 6 {
			case 1:
				qt = dns.TypeAAAA
			case 2:
				qt, name = dns.TypeSRV, "_http._tcp."+name
			case 3:
				ip := netip.MustParseAddr(fmt.Sprintf("10.%d.%d.%d", 96+i>>16, (i>>8)&0xff, i&0xff))
				qt, name = dns.TypePTR, dnsname.PTRName(ip)
			case 4:
				name = "nope-" + name
			case 5:
				h := i / 10 * 10
				name = fmt.Sprintf("svc-%d.ns-%d.svc.cluster.local.", h, h/100)
			}
		}
		m := new(dns.Msg)
		m.SetQuestion(name, qt)
		b, _ := m.Pack()
		out = append(out, b)
	}
	return out
}

// peerServer starts the helper process, on core 0 when taskset exists.
func peerServer(b *testing.B, which string) (addr string, held int64, pinned bool) {
	args := []string{os.Args[0], "-test.run=^TestPeerServer$"}
	if path, err := exec.LookPath("taskset"); err == nil {
		args = append([]string{path, "-c", "0"}, args...)
		pinned = true
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "PEER_SERVE="+which, "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "addr" {
			held, _ = strconv.ParseInt(f[3], 10, 64)
			go func() {
				for sc.Scan() {
				}
			}()
			return f[1], held, pinned
		}
	}
	b.Fatalf("%s helper exited without an address", which)
	return "", 0, false
}

// BenchmarkQPS loads each server, a separate process pinned to core 0
// (GOMAXPROCS=1), from this one (run it under "taskset -c 1"), with 64
// queries in flight over loopback UDP. It reports queries per second,
// the p50 and p99 latency, and the heap the server holds for the
// cluster (held-MB).
func BenchmarkQPS(b *testing.B) {
	for _, kind := range []string{"A", "mix"} {
		qs := queryMix(kind, 6000)
		for _, which := range []string{"coredns", "svcnet"} {
			b.Run(kind+"/"+which, func(b *testing.B) {
				addr, held, pinned := peerServer(b, which)
				if !pinned {
					b.Log("taskset not found: the server is not pinned")
				}
				var mu sync.Mutex
				var lat []time.Duration
				b.SetParallelism(64 / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					c, err := net.Dial("udp", addr)
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Close()
					buf := make([]byte, 4096)
					var mine []time.Duration
					i := rand.IntN(len(qs))
					for pb.Next() {
						q := qs[i%len(qs)]
						i++
						t0 := time.Now()
						_ = c.SetDeadline(t0.Add(2 * time.Second))
						if _, err := c.Write(q); err != nil {
							b.Error(err)
							return
						}
						for {
							n, err := c.Read(buf)
							if err != nil {
								b.Error(err)
								return
							}
							if n >= 2 && buf[0] == q[0] && buf[1] == q[1] {
								break
							}
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
				elapsed := time.Since(start)
				b.StopTimer()
				slices.Sort(lat)
				if len(lat) > 0 {
					b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "qps")
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				}
				b.ReportMetric(float64(held)/(1<<20), "held-MB")
			})
		}
	}
}

// nullWriter is a dns.ResponseWriter that packs the answer and keeps
// nothing, for measuring CoreDNS's server path without the network.
type nullWriter struct{ local, remote net.Addr }

func (w *nullWriter) LocalAddr() net.Addr  { return w.local }
func (w *nullWriter) RemoteAddr() net.Addr { return w.remote }
func (w *nullWriter) WriteMsg(m *dns.Msg) error {
	_, err := m.Pack()
	return err
}
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) Close() error                { return nil }
func (w *nullWriter) TsigStatus() error           { return nil }
func (w *nullWriter) TsigTimersOnly(bool)         {}
func (w *nullWriter) Hijack()                     {}
func (w *nullWriter) Network() string             { return "udp" }

// BenchmarkServerPath is one UDP query from the packet read to the
// packet written, without the system calls: for CoreDNS, miekg/dns's
// unpack, CoreDNS's server and plugin and the pack; for svcnet,
// dnsserver.Server.AppendAnswer with a reused buffer, as its UDP
// readers call it. allocs/op is the figure of the issue's
// allocation goal.
func BenchmarkServerPath(b *testing.B) {
	w := bigWorld(benchServices)
	core, err := coreDNS(w, "disabled")
	if err != nil {
		b.Fatal(err)
	}
	r, err := w.svcnetResolver(dnsname.PodsDisabled)
	if err != nil {
		b.Fatal(err)
	}
	ours, err := svcdns.New(svcdns.Config{Resolver: r})
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"A", "mix"} {
		qs := queryMix(kind, 600)
		b.Run(kind+"/coredns", func(b *testing.B) {
			nw := &nullWriter{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m := new(dns.Msg)
				if err := m.Unpack(qs[i%len(qs)]); err != nil {
					b.Fatal(err)
				}
				core.ServeDNS(ctx, nw, m)
				i++
			}
		})
		b.Run(kind+"/svcnet", func(b *testing.B) {
			client := netip.MustParseAddr("127.0.0.1")
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if buf = ours.AppendAnswer(buf[:0], qs[i%len(qs)], client, true); buf == nil {
					b.Fatal("no answer")
				}
				i++
			}
		})
	}
}
