//go:build !linux

// Package netns makes throwaway Linux network namespaces for kernel
// tests; it is empty on other systems.
package netns
