package lb

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestChainThreshold(t *testing.T) {
	// kube-proxy writes "--probability 0.5000000000" for the first of two
	// endpoints; iptables stores 0x80000000·0.5.
	require.Equal(t, uint32(1<<30), chainThreshold(0, 2))
	// "0.3333333333" for the first of three: 2^31·0.3333333333 truncated.
	require.Equal(t, uint32(715827882), chainThreshold(0, 3))
	// The second of three is the first of the remaining two.
	require.Equal(t, chainThreshold(0, 2), chainThreshold(1, 3))
	// Ten decimals: 1/1000 prints as 0.0010000000 exactly.
	require.Equal(t, uint32(2147483), chainThreshold(0, 1000))
}

// TestRandomChainUniform computes, from the integers the kernel compares,
// the exact probability that the chain ends at each endpoint, and shows it
// is 1/n to within the rounding kube-proxy and iptables introduce.
func TestRandomChainUniform(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10, 100, 1000, 5000} {
		r := NewRandom(RandomConfig{})
		require.NoError(t, r.Update(testBackends(n)))
		rest := 1.0 // probability of reaching rule i
		worst := 0.0
		for i := range n {
			p := rest // the last rule always jumps
			if i < n-1 {
				p = rest * float64(r.thresholds[i]) / (1 << 31)
			}
			rest -= p
			worst = math.Max(worst, math.Abs(p*float64(n)-1))
		}
		require.Less(t, worst, 1e-5, "n=%d", n)
		t.Logf("n=%d: worst relative deviation from 1/n %.2g", n, worst)
	}
}

// TestRandomEmpirical runs the modelled chain and checks the counts with a
// chi-square test (fixed seed, so the outcome is fixed too).
func TestRandomEmpirical(t *testing.T) {
	const n, picks = 7, 70000
	r := NewRandom(RandomConfig{Rand: seeded(42)})
	require.NoError(t, r.Update(testBackends(n)))
	counts := map[Backend]int{}
	for range picks {
		b, ok := r.Pick(Key{})
		require.True(t, ok)
		counts[b]++
	}
	require.Len(t, counts, n)
	chi2, e := 0.0, float64(picks)/n
	for _, c := range counts {
		chi2 += (float64(c) - e) * (float64(c) - e) / e
	}
	require.Less(t, chi2, 24.3) // 6 degrees of freedom, p = 0.0005
}
