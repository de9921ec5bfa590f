//go:build race

package scenarios

// raceEnabled reports whether the race detector is on: the shortened
// Kubernetes-scale run is shortened further under it.
const raceEnabled = true
