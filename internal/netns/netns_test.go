//go:build linux

package netns

import (
	"net"
	"os/exec"
	"strings"
	"testing"
)

// TestHarness makes two namespaces joined by a veth pair, serves TCP in
// one and dials from the other, then checks that cleanup removed both.
func TestHarness(t *testing.T) {
	var made []string
	t.Run("use", func(t *testing.T) {
		h := New(t)
		a, b := h.Namespace("a"), h.Namespace("b")
		made = []string{a, b}
		h.Veth(a, "va", "10.200.0.1/30", b, "vb", "10.200.0.2/30")
		var ln net.Listener
		if err := h.Do(b, func() (err error) { ln, err = net.Listen("tcp4", "10.200.0.2:7000"); return }); err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Write([]byte("ok"))
				c.Close()
			}
		}()
		var conn net.Conn
		if err := h.Do(a, func() (err error) { conn, err = net.Dial("tcp4", "10.200.0.2:7000"); return }); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2)
		if _, err := conn.Read(buf); err != nil || string(buf) != "ok" {
			t.Fatalf("read %q, %v", buf, err)
		}
		conn.Close()
		// The host's namespace has no such address.
		if out, _ := exec.Command("ip", "-o", "addr").CombinedOutput(); strings.Contains(string(out), "10.200.0.") {
			t.Fatalf("the host has a test address:\n%s", out)
		}
	})
	if len(made) == 0 {
		return // skipped
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range made {
		if strings.Contains(string(out), ns) {
			t.Errorf("namespace %s left behind", ns)
		}
	}
}
