//go:build race

package proxy

// raceEnabled reports whether the race detector is on: it makes
// sync.Pool drop items at random, so allocation counts of what reuses
// a pooled value are not asserted under it.
const raceEnabled = true
