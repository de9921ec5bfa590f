//go:build linux

// Package netns makes throwaway Linux network namespaces for kernel
// tests: named namespaces, veth pairs, bridges and addresses, commands
// and Go code run inside them, all removed when the test ends, also when
// it fails. It never touches the host's own namespace: every link and
// address it makes lives in a namespace it created.
//
//	h := netns.New(t)               // skips without root, ip or nft
//	node := h.Namespace("node")
//	pod := h.Namespace("pod")
//	h.Veth(node, "p0", "10.244.1.1/30", pod, "eth0", "10.244.1.2/30")
//	h.Run(pod, "ip", "route", "add", "default", "via", "10.244.1.1")
//	h.Do(pod, func() error { ln, err = net.Listen("tcp", ":80"); return err })
//
// When the environment variable SVCNET_REQUIRE_NETNS is 1 (as in CI), a
// missing prerequisite fails the test instead of skipping it.
package netns

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Harness makes namespaces for one test and removes them in t.Cleanup.
type Harness struct {
	t      testing.TB
	prefix string
	made   []string
}

var seq atomic.Uint64

// New returns a Harness, or skips the test (fails it when
// SVCNET_REQUIRE_NETNS=1) when not running as root on Linux or when one
// of tools is not on PATH; "ip" is always required.
func New(t testing.TB, tools ...string) *Harness {
	t.Helper()
	miss := func(why string) {
		if os.Getenv("SVCNET_REQUIRE_NETNS") == "1" {
			t.Fatalf("netns: %s (SVCNET_REQUIRE_NETNS=1)", why)
		}
		t.Skipf("netns: %s; kernel tests need root and %v", why, append([]string{"ip"}, tools...))
	}
	if runtime.GOOS != "linux" {
		miss("not Linux")
	}
	if os.Geteuid() != 0 {
		miss("not root")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			miss(tool + " not found")
		}
	}
	h := &Harness{t: t, prefix: fmt.Sprintf("svcnet-%d-%d-", os.Getpid(), seq.Add(1))}
	t.Cleanup(h.cleanup)
	return h
}

// Namespace creates a network namespace with loopback up and returns its
// full name. It is deleted, with every link in it, at cleanup.
func (h *Harness) Namespace(name string) string {
	h.t.Helper()
	full := h.prefix + name
	h.must("ip", "netns", "add", full)
	h.made = append(h.made, full)
	h.Run(full, "ip", "link", "set", "lo", "up")
	// No duplicate address detection: addresses are usable at once.
	for _, s := range []string{"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
		"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"} {
		h.Run(full, "sysctl", "-q", "-w", s)
	}
	return full
}

// Veth connects namespaces a and b with a veth pair named ifA and ifB,
// gives each end its address ("" for none) and brings both up.
func (h *Harness) Veth(a, ifA, addrA, b, ifB, addrB string) {
	h.t.Helper()
	h.Run(a, "ip", "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b)
	for _, e := range [][3]string{{a, ifA, addrA}, {b, ifB, addrB}} {
		if e[2] != "" {
			h.Run(e[0], "ip", "addr", "add", e[2], "dev", e[1])
		}
		h.Run(e[0], "ip", "link", "set", e[1], "up")
	}
}

// Run runs a command inside namespace ns and fails the test if it fails.
func (h *Harness) Run(ns string, args ...string) string {
	h.t.Helper()
	out, err := h.Exec(ns, "", args...)
	if err != nil {
		h.t.Fatalf("netns: in %s: %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return out
}

// Exec runs a command inside namespace ns with stdin, bounded to 20 s,
// and returns its combined output.
func (h *Harness) Exec(ns, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (h *Harness) must(args ...string) {
	h.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		h.t.Fatalf("netns: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Do runs fn on a thread switched into namespace ns, so that sockets fn
// opens belong to ns (they keep working from any goroutine after Do
// returns). fn must not start goroutines that open sockets.
func (h *Harness) Do(ns string, fn func() error) error { return Enter(ns, fn) }

// Enter runs fn on the calling goroutine's thread switched into the
// named namespace ns (/run/netns/ns), then switches it back: sockets fn
// opens belong to ns and keep working from any goroutine afterwards. fn
// must not start goroutines that open sockets. Enter is safe for
// concurrent use; it needs CAP_SYS_ADMIN. If the thread cannot be
// switched back it stays locked and dies with its goroutine, rather than
// run other code in the wrong namespace.
func Enter(ns string, fn func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := setns(target.Fd()); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: setns %s: %w", ns, err)
	}
	ferr := fn()
	if err := setns(self.Fd()); err != nil {
		return fmt.Errorf("netns: restoring namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func setns(fd uintptr) error {
	if sysSetns == 0 {
		return syscall.ENOSYS
	}
	if _, _, e := syscall.RawSyscall(sysSetns, fd, syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

func (h *Harness) cleanup() {
	for i := len(h.made) - 1; i >= 0; i-- {
		if out, err := exec.Command("ip", "netns", "del", h.made[i]).CombinedOutput(); err != nil {
			h.t.Errorf("netns: deleting %s: %v\n%s", h.made[i], err, out)
		}
	}
}
