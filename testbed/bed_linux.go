//go:build linux

package testbed

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// cmdTimeout bounds every command the testbed runs.
const cmdTimeout = 20 * time.Second

// gateway is the address every pod routes through: each pod's veth on
// its node holds it, as Calico's routed veths do (no bridge, so that
// replies between two pods of one node pass the node's conntrack and are
// un-DNATed, which a plain bridge would skip without br_netfilter).
var gateway = netip.MustParseAddr("169.254.1.1")

// bed makes, tracks and removes the namespaces of one run. Every
// namespace is named prefix+name and deleted by Close, in reverse order
// of creation; links live in them and die with them. It only ever runs
// commands inside namespaces it made: the host's namespace is never
// changed. A bed is safe for concurrent use.
type bed struct {
	prefix string
	log    func(string, ...any)
	mu     sync.Mutex
	made   []string
	closed bool
}

func newBed(prefix string, log func(string, ...any)) (*bed, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: the testbed makes network namespaces: run as root", ErrUnsupported)
	}
	for _, tool := range []string{"ip", "nft", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%w: %s not found (apt-get install -y iproute2 nftables procps)", ErrUnsupported, tool)
		}
	}
	if prefix == "" {
		prefix = fmt.Sprintf("svctb-%d-", os.Getpid())
	}
	if log == nil {
		log = func(string, ...any) {}
	}
	return &bed{prefix: prefix, log: log}, nil
}

// command runs argv (bounded by cmdTimeout) with stdin and returns an
// error with its output when it fails.
func command(stdin string, argv ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return fmt.Errorf("testbed: %s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// namespace makes the namespace prefix+name with loopback up, IPv4
// forwarding on (nodes forward for their pods) and no reverse-path
// filter, and returns its full name.
func (b *bed) namespace(name string) (string, error) {
	full := b.prefix + name
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return "", fmt.Errorf("testbed: closed")
	}
	b.mu.Unlock()
	if err := command("", "ip", "netns", "add", full); err != nil {
		return "", err
	}
	b.mu.Lock()
	b.made = append(b.made, full)
	b.mu.Unlock()
	if err := b.ip(full, "link set lo up"); err != nil {
		return "", err
	}
	err := command("", "ip", "netns", "exec", full, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
	return full, err
}

// ip runs ip commands (one a line, as "ip -batch" reads them) in ns.
func (b *bed) ip(ns string, lines ...string) error {
	return command(strings.Join(lines, "\n")+"\n", "ip", "-n", ns, "-batch", "-")
}

// remove deletes one namespace the bed made.
func (b *bed) remove(full string) error {
	b.mu.Lock()
	i := -1
	for j, n := range b.made {
		if n == full {
			i = j
		}
	}
	if i < 0 {
		b.mu.Unlock()
		return nil
	}
	b.made = append(b.made[:i], b.made[i+1:]...)
	b.mu.Unlock()
	return command("", "ip", "netns", "del", full)
}

// Close deletes every namespace left, newest first, and refuses new ones.
func (b *bed) Close() error {
	b.mu.Lock()
	b.closed = true
	made := b.made
	b.made = nil
	b.mu.Unlock()
	var first error
	for i := len(made) - 1; i >= 0; i-- {
		if err := command("", "ip", "netns", "del", made[i]); err != nil && first == nil {
			first = err
		}
	}
	b.log("removed %d namespaces", len(made))
	return first
}

// nodeNet is a node as the bed built it.
type nodeNet struct {
	name    string
	ns      string
	addr    netip.Addr
	podCIDR netip.Prefix
	veths   int
	// port is the node's port on the underlay bridge.
	port string

	// mu guards veths, dead and notReady; dead is closed while the node
	// is down (killed), so that its clients' connections end with it;
	// notReady is its Ready condition in the API, false (Ready) until
	// the simulator says otherwise.
	mu       sync.Mutex
	dead     chan struct{}
	notReady bool
}

// died returns a channel closed while the node is down.
func (n *nodeNet) died() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dead
}

// isDown reports whether the node is down.
func (n *nodeNet) isDown() bool {
	select {
	case <-n.died():
		return true
	default:
		return false
	}
}

// setDown takes the node off the underlay (its bridge port down: no
// packet reaches it or leaves it, as a dead machine's) or puts it back.
func (t *topology) setDown(n *nodeNet, down bool) error {
	n.mu.Lock()
	if down == (n.dead != nil && isClosed(n.dead)) {
		n.mu.Unlock()
		return nil
	}
	if down {
		if n.dead == nil {
			n.dead = make(chan struct{})
		}
		close(n.dead)
	} else {
		n.dead = make(chan struct{})
	}
	n.mu.Unlock()
	state := "up"
	if down {
		state = "down"
	}
	return t.b.ip(t.underlay, fmt.Sprintf("link set %s %s", n.port, state))
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// topology is the underlay and the nodes on it.
type topology struct {
	b        *bed
	underlay string
	nodes    map[string]*nodeNet
	order    []*nodeNet
	// outside is the off-cluster clients' namespace ("" until made).
	outside string
}

func newTopology(b *bed) (*topology, error) {
	u, err := b.namespace("underlay")
	if err != nil {
		return nil, err
	}
	if err := b.ip(u, "link add br0 type bridge", "link set br0 up"); err != nil {
		return nil, err
	}
	return &topology{b: b, underlay: u, nodes: map[string]*nodeNet{}}, nil
}

// addNode makes a node's namespace on the underlay bridge, with its
// address, a route to the Service range (so that what the rules do not
// DNAT is forwarded and meets their filter chains, as on a node with a
// default route) and routes to every other node and its pod range.
func (t *topology) addNode(name string, addr netip.Addr, podCIDR netip.Prefix, svcCIDRs []netip.Prefix) (*nodeNet, error) {
	i := len(t.order)
	ns, err := t.b.namespace(fmt.Sprintf("n%d", i))
	if err != nil {
		return nil, err
	}
	port := fmt.Sprintf("n%d", i)
	if err := t.b.ip(t.underlay, fmt.Sprintf("link add %s type veth peer name eth0 netns %s", port, ns),
		fmt.Sprintf("link set %s master br0", port), fmt.Sprintf("link set %s up", port)); err != nil {
		return nil, err
	}
	cmds := []string{fmt.Sprintf("addr add %s/32 dev eth0", addr), "link set eth0 up"}
	for _, p := range svcCIDRs {
		if p.Addr().Is4() == addr.Is4() { // the underlay is of the node address's family
			cmds = append(cmds, fmt.Sprintf("route add %s dev eth0", p))
		}
	}
	if err := t.b.ip(ns, cmds...); err != nil {
		return nil, err
	}
	n := &nodeNet{name: name, ns: ns, addr: addr, podCIDR: podCIDR, port: port, dead: make(chan struct{})}
	for _, o := range t.order {
		if err := t.b.ip(ns, fmt.Sprintf("route add %s/32 dev eth0", o.addr), fmt.Sprintf("route add %s via %s dev eth0", o.podCIDR, o.addr)); err != nil {
			return nil, err
		}
		if err := t.b.ip(o.ns, fmt.Sprintf("route add %s/32 dev eth0", addr), fmt.Sprintf("route add %s via %s dev eth0", podCIDR, addr)); err != nil {
			return nil, err
		}
	}
	t.nodes[name] = n
	t.order = append(t.order, n)
	t.b.log("node %s: namespace %s, %s, pods %s", name, ns, addr, podCIDR)
	return n, nil
}

// addPod makes a pod's namespace on node n: a veth whose node end holds
// the gateway address and a /32 route to the pod, whose pod end holds
// the pod's address and routes everything through the gateway.
func (t *topology) addPod(n *nodeNet, name string, addr netip.Addr) (string, error) {
	ns, err := t.b.namespace(name)
	if err != nil {
		return "", err
	}
	n.mu.Lock() // pods of one node start on their own goroutines
	n.veths++
	veth := fmt.Sprintf("p%d", n.veths)
	n.mu.Unlock()
	if err := t.b.ip(n.ns, fmt.Sprintf("link add %s type veth peer name eth0 netns %s", veth, ns),
		fmt.Sprintf("addr add %s/32 dev %s", gateway, veth), fmt.Sprintf("link set %s up", veth),
		fmt.Sprintf("route add %s/32 dev %s", addr, veth)); err != nil {
		return ns, err
	}
	if err := t.b.ip(ns, fmt.Sprintf("addr add %s/32 dev eth0", addr), "link set eth0 up",
		fmt.Sprintf("route add %s/32 dev eth0 scope link", gateway),
		fmt.Sprintf("route add default via %s dev eth0", gateway)); err != nil {
		return ns, err
	}
	return ns, nil
}

// addOutside makes the namespace of off-cluster clients on the underlay,
// holding addrs, with a route to every node; every node routes addrs
// back to it.
func (t *topology) addOutside(addrs []netip.Addr) (string, error) {
	ns, err := t.b.namespace("outside")
	if err != nil {
		return "", err
	}
	if err := t.b.ip(t.underlay, fmt.Sprintf("link add out type veth peer name eth0 netns %s", ns),
		"link set out master br0", "link set out up"); err != nil {
		return "", err
	}
	lines := []string{"link set eth0 up"}
	for _, a := range addrs {
		lines = append(lines, fmt.Sprintf("addr add %s/32 dev eth0", a))
	}
	for _, n := range t.order {
		lines = append(lines, fmt.Sprintf("route add %s/32 dev eth0", n.addr))
		var back []string
		for _, a := range addrs {
			back = append(back, fmt.Sprintf("route add %s/32 dev eth0", a))
		}
		if err := t.b.ip(n.ns, back...); err != nil {
			return "", err
		}
	}
	if err := t.b.ip(ns, lines...); err != nil {
		return "", err
	}
	t.outside = ns
	return ns, nil
}
