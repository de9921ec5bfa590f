//go:build linux

package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/proxy/nftables"
)

// applied is one sync an agent applied: the table generation and the
// wall-clock time nft returned.
type applied struct {
	gen uint64
	at  time.Time
	// lag is how long after the simulated sync (wall clock) nft returned.
	lag time.Duration
}

// agent is a node's kube-proxy: it applies the tables the simulator's
// propagation model says the node syncs to, one at a time, newest first
// (a sync that finds a newer table waiting skips the older one, as
// kube-proxy's loop does), as the incremental transaction of
// nftables.Renderer piped to nft -f in the node's namespace.
type agent struct {
	node *nodeNet
	view *proxy.Proxy
	r    *nftables.Renderer
	run  nftables.Exec
	log  func(string, ...any)
	// stateless flushes the node's conntrack table after every change,
	// so that the next packet of every open connection meets the rules
	// again, as on sim's DataplaneStateless (kernel TCP picks a
	// mid-stream connection up, net.netfilter.nf_conntrack_tcp_loose).
	stateless bool

	mu      sync.Mutex
	next    *proxy.Table
	nextGen uint64
	nextDue time.Time
	applied []applied
	err     error
	lines   int

	kick chan struct{}
	once sync.Once
	quit chan struct{}
	done chan struct{}
}

func newAgent(n *nodeNet, svcCIDRs []netip.Prefix, cluster []netip.Prefix, log func(string, ...any)) (*agent, error) {
	view, err := proxy.NewProxy(proxy.ProxyConfig{NodeName: n.name, NodeAddresses: []netip.Addr{n.addr}, ClusterPrefixes: cluster})
	if err != nil {
		return nil, err
	}
	var pods []netip.Prefix
	if len(cluster) > 0 {
		pods = cluster[:1]
	}
	r, err := nftables.NewRenderer(nftables.Config{ServiceCIDRs: svcCIDRs, PodCIDRs: pods})
	if err != nil {
		return nil, err
	}
	return &agent{node: n, view: view, r: r, run: nftables.Exec{Netns: n.ns}, log: log,
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}, nil
}

// apply programs the node with table t (generation gen) now, for a
// sync the simulator made at wall-clock time due.
func (a *agent) apply(t *proxy.Table, gen uint64, due time.Time) error {
	a.view.Sync(t)
	tx, err := a.r.Sync(a.view)
	if err != nil {
		return fmt.Errorf("testbed: node %s: rendering generation %d: %w", a.node.name, gen, err)
	}
	if tx.Len() > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		err = a.run.Run(ctx, tx.String())
		cancel()
		if err != nil {
			return fmt.Errorf("testbed: node %s: applying generation %d: %w", a.node.name, gen, err)
		}
		if a.stateless {
			if err := command("", "ip", "netns", "exec", a.node.ns, "conntrack", "-F"); err != nil {
				return fmt.Errorf("testbed: node %s: flushing conntrack: %w", a.node.name, err)
			}
		}
	}
	a.mu.Lock()
	a.log("node %s: generation %d applied, %d lines", a.node.name, gen, tx.Len())
	now := time.Now()
	a.applied = append(a.applied, applied{gen: gen, at: now, lag: now.Sub(due)})
	a.lines += tx.Len()
	a.mu.Unlock()
	return nil
}

// sync asks the agent's loop to apply t.
func (a *agent) sync(t *proxy.Table, gen uint64, due time.Time) {
	a.mu.Lock()
	a.next, a.nextGen, a.nextDue = t, gen, due
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// loop applies what sync asks for until stop.
func (a *agent) loop() {
	defer close(a.done)
	for {
		select {
		case <-a.quit:
			return
		case <-a.kick:
		}
		a.mu.Lock()
		t, gen, due := a.next, a.nextGen, a.nextDue
		a.next = nil
		a.mu.Unlock()
		if t == nil {
			continue
		}
		if err := a.apply(t, gen, due); err != nil {
			a.mu.Lock()
			if a.err == nil {
				a.err = err
			}
			a.mu.Unlock()
			a.log("%v", err)
		}
	}
}

// stop ends the loop (once; later calls only wait) and returns the
// first error it met.
func (a *agent) stop() error {
	a.once.Do(func() { close(a.quit) })
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// lags returns the longest an applied sync took past its time, their
// sum and their count.
func (a *agent) lags() (longest, sum time.Duration, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.applied {
		longest = max(longest, r.lag)
		sum += r.lag
	}
	return longest, sum, len(a.applied)
}

// reached returns when the agent first applied generation gen or a
// later one, and whether it did.
func (a *agent) reached(gen uint64) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.applied {
		if r.gen >= gen {
			return r.at, true
		}
	}
	return time.Time{}, false
}
