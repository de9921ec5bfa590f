//go:build !race

package svcnet

const raceEnabled = false
