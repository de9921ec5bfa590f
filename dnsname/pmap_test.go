package dnsname

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestPmap checks pmap against a Go map through random writes in
// successive epochs, and that every earlier version still holds what it
// held when its epoch ended. The hash functions squeeze the keys into a
// few hashes, or into hashes that agree on their low bits, so that
// collision lists and deep paths are common.
func TestPmap(t *testing.T) {
	hashes := map[string]func(int) uint64{
		"good":      func(k int) uint64 { return hashString(string(rune('a' + k))) },
		"collide":   func(k int) uint64 { return uint64(k%3) * 0x9e3779b97f4a7c15 },
		"high-bits": func(k int) uint64 { return uint64(k%5) << 58 },
		"low-bits":  func(k int) uint64 { return uint64(k % 40) },
	}
	rapid.Check(t, func(t *rapid.T) {
		hash := hashes[rapid.SampledFrom([]string{"good", "collide", "high-bits", "low-bits"}).Draw(t, "hash")]
		var m pmap[int, int]
		want := map[int]int{}
		type version struct {
			m    pmap[int, int]
			want map[int]int
		}
		var versions []version
		for e := uint64(1); e <= uint64(rapid.IntRange(1, 8).Draw(t, "epochs")); e++ {
			for range rapid.IntRange(0, 30).Draw(t, "writes") {
				k := rapid.IntRange(0, 60).Draw(t, "k")
				if rapid.IntRange(0, 2).Draw(t, "del") == 0 {
					m.del(e, hash(k), k)
					delete(want, k)
				} else {
					v := rapid.Int().Draw(t, "v")
					m.set(e, hash(k), k, v)
					want[k] = v
				}
			}
			checkPmap(t, &m, want, hash)
			versions = append(versions, version{m, maps.Clone(want)})
			for i, v := range versions {
				require.Equal(t, v.want, pmapContents(&v.m), "version %d after epoch %d", i, e)
			}
		}
	})
}

func checkPmap(t *rapid.T, m *pmap[int, int], want map[int]int, hash func(int) uint64) {
	require.Equal(t, len(want), m.len())
	require.Equal(t, want, pmapContents(m))
	for k := range 61 {
		v, ok := m.get(hash(k), k)
		w, wok := want[k]
		require.Equal(t, wok, ok, "key %d", k)
		require.Equal(t, w, v, "key %d", k)
	}
	// Canonical shape: a subtree holds two entries or more.
	var walk func(n *pnode[int, int], root bool) int
	walk = func(n *pnode[int, int], root bool) int {
		total := len(n.entries)
		for _, c := range n.kids {
			total += walk(c, false)
		}
		if !root {
			require.GreaterOrEqual(t, total, 2, "a subtree of one entry")
		}
		return total
	}
	if m.root != nil {
		require.Equal(t, len(want), walk(m.root, true))
	} else {
		require.Empty(t, want)
	}
}

func pmapContents(m *pmap[int, int]) map[int]int {
	got := map[int]int{}
	m.all(func(k, v int) bool {
		got[k] = v
		return true
	})
	return got
}

func TestPmapGetBytes(t *testing.T) {
	var m pmap[string, int]
	for i, k := range []string{"web-0", "_http._tcp", "10-0-0-1"} {
		m.set(1, hashString(k), k, i)
	}
	for i, k := range []string{"web-0", "_http._tcp", "10-0-0-1"} {
		v, ok := pmapGetBytes(&m, hashString(k), []byte(k))
		require.True(t, ok)
		require.Equal(t, i, v)
	}
	_, ok := pmapGetBytes(&m, hashString("web-1"), []byte("web-1"))
	require.False(t, ok)
	allocs := testing.AllocsPerRun(100, func() { pmapGetBytes(&m, hashString("web-0"), []byte("web-0")) })
	require.Zero(t, allocs)
}
