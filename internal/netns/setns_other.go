//go:build linux && !amd64 && !arm64

package netns

// sysSetns is unknown on this architecture; Do fails with ENOSYS.
const sysSetns = 0
