//go:build race

package svcnet

// raceEnabled reports whether the race detector is on, to size the
// quality test's sample down: it slows memory access about tenfold.
const raceEnabled = true
