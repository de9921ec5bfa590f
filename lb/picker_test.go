package lb

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var pickerNames = []string{
	"random", "roundrobin", "wrr", "leastconn", "wlc", "leastrequest", "sourcehash",
	"maglev", "ringhash", "boundedload", "rendezvous", "affinity",
}

// TestPickReturnsCurrentBackend: whatever the sequence of updates, picks
// and closes, every picker only returns a usable backend of its last
// successful update, and returns one whenever there is one.
func TestPickReturnsCurrentBackend(t *testing.T) {
	for _, name := range pickerNames {
		t.Run(name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				p := allPickers(rapid.Uint64().Draw(t, "seed"))[name]
				pool := testBackends(12)
				pool = append(pool, Backend{Addr: netip.MustParseAddrPort("[2001:db8::7]:443")})
				var usable []Backend
				now := epoch
				for range rapid.IntRange(1, 60).Draw(t, "steps") {
					switch rapid.IntRange(0, 4).Draw(t, "op") {
					case 0:
						var next []Backend
						for _, b := range pool {
							if !rapid.Bool().Draw(t, "in") {
								continue
							}
							b.Weight = rapid.Uint32Range(0, 4).Draw(t, "weight")
							b.Ready = rapid.Bool().Draw(t, "ready")
							b.Serving = rapid.Bool().Draw(t, "serving")
							b.Terminating = rapid.Bool().Draw(t, "terminating")
							next = append(next, b)
						}
						if err := p.Update(next); err != nil {
							t.Fatal(err)
						}
						usable, _ = prepare(next)
					case 1:
						if c, ok := p.(ConnPicker); ok {
							c.Done(pool[rapid.IntRange(0, len(pool)-1).Draw(t, "done")])
						}
					case 2:
						now = now.Add(time.Duration(rapid.IntRange(0, 20000).Draw(t, "dt")) * time.Second)
						if a, ok := p.(*Affinity); ok {
							a.Advance(now)
						}
					default:
						k := testKeys(1, rapid.Uint64().Draw(t, "key"))[0]
						if rapid.Bool().Draw(t, "hash") {
							k.Hash = rapid.Uint64().Draw(t, "h")
						}
						b, ok := p.Pick(k)
						if ok != (len(usable) > 0) {
							t.Fatalf("Pick ok=%v with %d usable backends", ok, len(usable))
						}
						if ok && !slices.Contains(usable, b) {
							t.Fatalf("picked %+v, not a usable backend of the last update", b)
						}
					}
				}
			})
		})
	}
}

// TestDeterministic: the same seed and inputs give the same picks.
func TestDeterministic(t *testing.T) {
	keys := testKeys(500, 8)
	run := func(name string) []netip.AddrPort {
		p := allPickers(77)[name]
		require.NoError(t, p.Update(goldenBackends()))
		var out []netip.AddrPort
		for i, k := range keys {
			b, _ := p.Pick(k)
			out = append(out, b.Addr)
			if c, ok := p.(ConnPicker); ok && i%3 == 0 {
				c.Done(b)
			}
		}
		return out
	}
	for _, name := range pickerNames {
		require.Equal(t, run(name), run(name), name)
	}
}

// TestNoAllocs: picks and closes allocate nothing.
func TestNoAllocs(t *testing.T) {
	keys := testKeys(64, 1)
	for _, name := range pickerNames {
		p := allPickers(1)[name]
		require.NoError(t, p.Update(goldenBackends()))
		// Affinity allocates for new clients; warm it with the keys first.
		for _, k := range keys {
			p.Pick(k)
		}
		i := 0
		allocs := testing.AllocsPerRun(200, func() {
			b, _ := p.Pick(keys[i%len(keys)])
			if c, ok := p.(ConnPicker); ok {
				c.Done(b)
			}
			i++
		})
		require.Zero(t, allocs, name)
	}
}
