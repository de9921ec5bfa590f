package lb

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// countingPicker counts how often the inner picker is asked.
type countingPicker struct {
	Picker
	picks int
}

func (c *countingPicker) Pick(k Key) (Backend, bool) {
	c.picks++
	return c.Picker.Pick(k)
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func client(i int) Key {
	return Key{Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(30000+i)), Proto: TCP}
}

// TestAffinityModel: the same client goes to the same backend until it has
// been idle for longer than the timeout, or its backend leaves; then, and
// only then, the inner picker chooses again.
func TestAffinityModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		timeout := rapid.Int32Range(1, 100).Draw(t, "timeout")
		inner := &countingPicker{Picker: NewRoundRobin(RoundRobinConfig{Rand: seeded(1)})}
		a, err := NewAffinity(inner, AffinityConfig{TimeoutSeconds: timeout})
		if err != nil {
			t.Fatal(err)
		}
		pool := testBackends(6)
		current := pool
		if err := a.Update(current); err != nil {
			t.Fatal(err)
		}
		type sticky struct {
			backend netip.AddrPort
			last    time.Time
		}
		model := map[netip.Addr]sticky{}
		now := epoch
		for range rapid.IntRange(1, 100).Draw(t, "steps") {
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0: // time passes
				now = now.Add(time.Duration(rapid.Int64Range(0, int64(2*timeout)*1e9).Draw(t, "dt")))
				a.Advance(now)
			case 1: // the backends change
				var next []Backend
				for _, b := range pool {
					if rapid.Bool().Draw(t, "keep") {
						next = append(next, b)
					}
				}
				current = next
				if err := a.Update(current); err != nil {
					t.Fatal(err)
				}
				// A backend that leaves breaks affinity, even if it returns.
				for c, s := range model {
					if slicesIndex(current, s.backend) < 0 {
						delete(model, c)
					}
				}
			default:
				k := client(rapid.IntRange(0, 4).Draw(t, "client"))
				// The port is not part of the affinity.
				k.Src = netip.AddrPortFrom(k.Src.Addr(), uint16(rapid.IntRange(1, 9).Draw(t, "port")))
				asked := inner.picks
				b, ok := a.PickAt(k, now)
				s, had := model[k.Src.Addr()]
				live := had && now.Sub(s.last) <= time.Duration(timeout)*time.Second && slicesIndex(current, s.backend) >= 0
				switch {
				case len(current) == 0:
					if ok {
						t.Fatal("picked from no backends")
					}
					delete(model, k.Src.Addr())
					continue
				case live:
					if b.Addr != s.backend || inner.picks != asked {
						t.Fatalf("client %v left %v for %v within the timeout", k.Src.Addr(), s.backend, b.Addr)
					}
				default:
					if inner.picks != asked+1 {
						t.Fatalf("client %v kept %v past its timeout or its backend", k.Src.Addr(), b.Addr)
					}
				}
				model[k.Src.Addr()] = sticky{b.Addr, now}
			}
		}
	})
}

func TestAffinityForgetsIdleClients(t *testing.T) {
	a, err := NewAffinity(NewRandom(RandomConfig{}), AffinityConfig{})
	require.NoError(t, err)
	require.Equal(t, 3*time.Hour, a.Timeout())
	require.NoError(t, a.Update(testBackends(3)))
	for i := range 100 {
		a.PickAt(client(i), epoch.Add(time.Duration(i)*time.Second))
	}
	require.Equal(t, 100, a.Len())
	a.Advance(epoch.Add(3*time.Hour + 50*time.Second))
	require.Equal(t, 50, a.Len()) // clients 50..99 idle for at most 3 h
	a.Advance(epoch)              // the clock does not go back
	require.Equal(t, 50, a.Len())
	a.Advance(epoch.Add(4 * time.Hour))
	require.Equal(t, 0, a.Len())
	// Entries are reused, not grown.
	for i := range 100 {
		a.PickAt(client(i), epoch.Add(5*time.Hour))
	}
	require.Len(t, a.entries, 100)
}

// TestAffinityCountsConnections: sticky connections count in the inner
// least-connection picker, and Done is passed on.
func TestAffinityCountsConnections(t *testing.T) {
	lc := NewLeastConn(LeastConnConfig{})
	a, err := NewAffinity(lc, AffinityConfig{TimeoutSeconds: 60})
	require.NoError(t, err)
	bs := testBackends(2)
	require.NoError(t, a.Update(bs))
	first, _ := a.PickAt(client(1), epoch)
	for range 4 {
		b, _ := a.PickAt(client(1), epoch)
		require.Equal(t, first, b)
	}
	require.Equal(t, uint64(5), lc.Conns(first))
	a.Done(first)
	require.Equal(t, uint64(4), lc.Conns(first))
	// A new client goes to the idle backend.
	other, _ := a.PickAt(client(2), epoch)
	require.NotEqual(t, first, other)
}

func ExampleAffinity() {
	rr := NewRoundRobin(RoundRobinConfig{})
	a, err := NewAffinity(rr, AffinityConfig{TimeoutSeconds: 10})
	if err != nil {
		panic(err)
	}
	err = a.Update([]Backend{
		{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Ready: true},
		{Addr: netip.MustParseAddrPort("10.0.0.2:80"), Ready: true},
	})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := Key{Src: netip.MustParseAddrPort("192.0.2.1:40000"), Proto: TCP}
	for _, after := range []time.Duration{0, 10 * time.Second, 20 * time.Second, 31 * time.Second} {
		b, _ := a.PickAt(c, t0.Add(after))
		fmt.Println(after, b.Addr)
	}
	// Output:
	// 0s 10.0.0.1:80
	// 10s 10.0.0.1:80
	// 20s 10.0.0.1:80
	// 31s 10.0.0.2:80
}
