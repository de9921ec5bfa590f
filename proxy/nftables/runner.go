package nftables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// ErrApply is returned by a Runner whose command failed.
var ErrApply = errors.New("nftables: apply failed")

// Runner applies nft -f input (a Ruleset's String, or a transaction) to
// a kernel, atomically as nft does.
type Runner interface {
	Run(ctx context.Context, input string) error
}

// Exec is a Runner that pipes the input to a command, by default
// "nft -f -", optionally inside a named network namespace (through
// "ip netns exec"). The zero Exec runs nft in the caller's namespace.
type Exec struct {
	// Command is the command and its arguments; nil means nft -f -.
	// For iptables-restore input, iptables-restore --noflush.
	Command []string
	// Netns, when set, is the name of the network namespace to run in.
	Netns string
}

func (e Exec) argv(cmd []string) []string {
	if e.Netns != "" {
		return append([]string{"ip", "netns", "exec", e.Netns}, cmd...)
	}
	return cmd
}

// Run pipes input to the command; a failure is an ErrApply with the
// command's output.
func (e Exec) Run(ctx context.Context, input string) error {
	cmd := e.Command
	if cmd == nil {
		cmd = []string{"nft", "-f", "-"}
	}
	argv := e.argv(cmd)
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Stdin = strings.NewReader(input)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return fmt.Errorf("%w: %s: %v: %s", ErrApply, strings.Join(argv, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// ClearUDP deletes the UDP conntrack entries whose connections were
// DNATed to endpoint, as kube-proxy does when a UDP endpoint goes away
// (pkg/proxy/conntrack): otherwise a client that keeps sending from the
// same port keeps reaching the removed endpoint. It runs
// "conntrack -D -p udp --dst-nat ADDR" in e's namespace; finding no entry
// is not an error.
func (e Exec) ClearUDP(ctx context.Context, endpoint netip.Addr) error {
	argv := e.argv([]string{"conntrack", "-D", "-p", "udp", "--dst-nat", endpoint.String()})
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := c.CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("0 flow entries have been deleted")) {
		return fmt.Errorf("%w: %s: %v: %s", ErrApply, strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Fake is a Runner for tests: it applies each input to its own Ruleset
// with Apply, so that an input the kernel would refuse for a missing
// chain, set or element fails here too, and records what it was given.
// The zero Fake starts with no tables.
type Fake struct {
	// Inputs are the inputs Run accepted, in order.
	Inputs []string
	state  *Ruleset
}

// Run applies input to the Fake's state, or returns the ErrSyntax that
// Apply gives and changes nothing.
func (f *Fake) Run(_ context.Context, input string) error {
	if f.state == nil {
		f.state = &Ruleset{}
	}
	next, err := f.state.Apply(input)
	if err != nil {
		return err
	}
	f.state, f.Inputs = next, append(f.Inputs, input)
	return nil
}

// State returns what the Fake's kernel holds now.
func (f *Fake) State() *Ruleset {
	if f.state == nil {
		return &Ruleset{}
	}
	return f.state
}
