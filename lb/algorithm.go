package lb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// The algorithm names NewPicker accepts (and proxy.AlgorithmAnnotation).
const (
	AlgorithmRandom             = "random"
	AlgorithmRoundRobin         = "roundrobin"
	AlgorithmWeightedRoundRobin = "wrr"
	AlgorithmLeastConn          = "leastconn"
	AlgorithmLeastRequest       = "p2c"
	AlgorithmSourceHash         = "sourcehash"
	AlgorithmMaglev             = "maglev"
	AlgorithmRingHash           = "ringhash"
	AlgorithmBoundedLoad        = "boundedload"
	AlgorithmRendezvous         = "rendezvous"
)

// Algorithms lists the algorithm names, sorted.
func Algorithms() []string {
	return []string{AlgorithmBoundedLoad, AlgorithmLeastConn, AlgorithmMaglev, AlgorithmLeastRequest, AlgorithmRandom,
		AlgorithmRendezvous, AlgorithmRingHash, AlgorithmRoundRobin, AlgorithmSourceHash, AlgorithmWeightedRoundRobin}
}

// ValidateAlgorithm returns nil when name is one of Algorithms, and an
// ErrInvalidConfig naming it and the known ones otherwise.
func ValidateAlgorithm(name string) error {
	if slices.Contains(Algorithms(), name) {
		return nil
	}
	return fmt.Errorf("%w: unknown algorithm %q (known: %s)", ErrInvalidConfig, name, strings.Join(Algorithms(), ", "))
}

// NewPicker returns a new picker of the named algorithm with default
// settings, drawing its randomness from rng (nil means a fixed seed). An
// unknown name is an ErrInvalidConfig.
func NewPicker(name string, rng *rand.Rand) (Picker, error) {
	switch name {
	case AlgorithmRandom:
		return NewRandom(RandomConfig{Rand: rng}), nil
	case AlgorithmRoundRobin:
		return NewRoundRobin(RoundRobinConfig{Rand: rng}), nil
	case AlgorithmWeightedRoundRobin:
		return NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: rng}), nil
	case AlgorithmLeastConn:
		return NewLeastConn(LeastConnConfig{}), nil
	case AlgorithmLeastRequest:
		return NewLeastRequest(LeastRequestConfig{Rand: rng})
	case AlgorithmSourceHash:
		return NewSourceHash(), nil
	case AlgorithmMaglev:
		return NewMaglev(MaglevConfig{})
	case AlgorithmRingHash:
		return NewRingHash(RingHashConfig{})
	case AlgorithmBoundedLoad:
		return NewBoundedLoad(BoundedLoadConfig{})
	case AlgorithmRendezvous:
		return NewRendezvous(), nil
	}
	return nil, ValidateAlgorithm(name)
}
