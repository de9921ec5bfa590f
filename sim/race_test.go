//go:build race

package sim

// raceEnabled reports whether the race detector is on: the cohort tests
// run fewer variants under it.
const raceEnabled = true
