// Package iptables renders a node's proxy.Proxy view as kube-proxy's
// iptables-mode rules (pkg/proxy/iptables/proxier.go, Kubernetes v1.37):
// iptables-restore input for the filter and nat tables with
// KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES,
// KUBE-PROXY-FIREWALL, KUBE-POSTROUTING, KUBE-MARK-MASQ and the hashed
// per-Service chains KUBE-SVC-*, KUBE-SVL-*, KUBE-EXT-*, KUBE-FW-* and
// KUBE-SEP-*, endpoint choice by "-m statistic --mode random
// --probability" with kube-proxy's rounding, and ClientIP affinity with
// "-m recent".
//
//	rs, _ := iptables.Render(view, iptables.Config{PodCIDRs: pods})
//	exec := iptables.Exec{Netns: "node-a"}
//	exec.EnsureJumps(ctx, rs)           // the jumps from the built-in chains
//	exec.Run(ctx, rs.String())          // iptables-restore --noflush
//	exec.Run(ctx, next.Update(rs))      // later: refill, delete stale chains
//
// Like package proxy/nftables it follows svcnet's model where the model
// is stricter than kube-proxy: a ClusterIP answers only sources inside
// the cluster (the pod and node prefixes of proxy.ProxyConfig), which
// this package enforces with a KUBE-CLUSTER-ONLY chain that marks other
// sources for dropping (0x8000, dropped in KUBE-PROXY-FIREWALL), and
// pods' and the node's traffic to an externalTrafficPolicy Local
// address uses the cluster endpoints. Two more places follow Route
// rather than kube-proxy: a LoadBalancer IP with source ranges and no
// endpoints rejects allowed sources (kube-proxy's KUBE-PROXY-FIREWALL
// drops them), and KUBE-EXTERNAL-SERVICES is also jumped to from OUTPUT,
// so the node's own connection to an external address without endpoints
// is rejected. Trace walks these rules in pure Go; package
// proxy/nftables's tests check it with rapid against proxy.Route and
// apply the rules to a kernel. Maglev is not rendered here (the
// statistic match cannot express a lookup table): a maglev Service gets
// kube-proxy's random choice, which package proxy/nftables improves on.
package iptables

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
)

// ErrApply is returned by Exec for a command that failed.
var ErrApply = errors.New("iptables: apply failed")

// ErrInvalidConfig is returned by Render for a Config it cannot use.
var ErrInvalidConfig = errors.New("iptables: invalid config")

// Config holds what kube-proxy knows about its node beyond the view.
type Config struct {
	// PodCIDRs are kube-proxy's --cluster-cidr: traffic to a ClusterIP
	// from outside them is marked for masquerade.
	PodCIDRs []netip.Prefix
	// MasqueradeAll masquerades all traffic to ClusterIPs.
	MasqueradeAll bool
}

const (
	masqMark = "0x4000"
	dropMark = "0x8000"
)

// Ruleset is one node's rules in both families: iptables-restore input
// for IPv4 (String) and ip6tables-restore input for IPv6 (IPv6String),
// and the jumps from the built-in chains (Jumps). It is immutable.
type Ruleset struct {
	fam [2]*family
}

type family struct {
	filter, nat *tableRules
}

type tableRules struct {
	name   string
	chains []string            // declaration order
	rules  map[string][]string // chain → rules ("-A chain ..." without the -A chain)
}

func newTableRules(name string, fixed ...string) *tableRules {
	t := &tableRules{name: name, rules: map[string][]string{}}
	for _, c := range fixed {
		t.chain(c)
	}
	return t
}

func (t *tableRules) chain(c string) {
	if _, ok := t.rules[c]; !ok {
		t.chains = append(t.chains, c)
		t.rules[c] = nil
	}
}

func (t *tableRules) add(c string, args ...string) {
	t.chain(c)
	t.rules[c] = append(t.rules[c], strings.Join(args, " "))
}

// Jump is one rule kube-proxy inserts into a built-in chain
// (iptablesJumpChains in proxier.go).
type Jump struct {
	Table, Chain string
	Args         []string
}

// Jumps returns the jumps from the built-in chains, in the order they
// must end up (first rule first).
func (r *Ruleset) Jumps() []Jump {
	ct := []string{"-m", "conntrack", "--ctstate", "NEW"}
	j := func(table, chain, target string, extra ...string) Jump {
		return Jump{table, chain, append(slices.Clone(extra), "-j", target)}
	}
	return []Jump{
		j("filter", "INPUT", "KUBE-PROXY-FIREWALL", ct...),
		j("filter", "INPUT", "KUBE-NODEPORTS"),
		j("filter", "INPUT", "KUBE-EXTERNAL-SERVICES", ct...),
		j("filter", "FORWARD", "KUBE-PROXY-FIREWALL", ct...),
		j("filter", "FORWARD", "KUBE-FORWARD"),
		j("filter", "FORWARD", "KUBE-SERVICES", ct...),
		j("filter", "FORWARD", "KUBE-EXTERNAL-SERVICES", ct...),
		j("filter", "OUTPUT", "KUBE-PROXY-FIREWALL", ct...),
		j("filter", "OUTPUT", "KUBE-SERVICES", ct...),
		// Not in kube-proxy: the node's own connections to an external
		// address without endpoints are rejected too, as Route says.
		j("filter", "OUTPUT", "KUBE-EXTERNAL-SERVICES", ct...),
		j("nat", "PREROUTING", "KUBE-SERVICES"),
		j("nat", "OUTPUT", "KUBE-SERVICES"),
		j("nat", "POSTROUTING", "KUBE-POSTROUTING"),
	}
}

// String returns the IPv4 iptables-restore input: both tables, every
// chain declared (which flushes it under --noflush) and refilled.
func (r *Ruleset) String() string { return r.fam[0].text(nil) }

// IPv6String returns the ip6tables-restore input.
func (r *Ruleset) IPv6String() string { return r.fam[1].text(nil) }

// Update returns the IPv4 iptables-restore input that moves a kernel
// holding prev to r: every current chain flushed and refilled, and the
// chains only prev has flushed and deleted, as kube-proxy deletes stale
// chains.
func (r *Ruleset) Update(prev *Ruleset) string { return r.fam[0].text(prev.fam[0]) }

// Lines returns the number of lines of String.
func (r *Ruleset) Lines() int { return strings.Count(r.String(), "\n") }

func (f *family) text(prev *family) string {
	var b strings.Builder
	for i, t := range []*tableRules{f.filter, f.nat} {
		b.WriteString("*" + t.name + "\n")
		for _, c := range t.chains {
			b.WriteString(":" + c + " - [0:0]\n")
		}
		var stale []string
		if prev != nil {
			pt := []*tableRules{prev.filter, prev.nat}[i]
			for _, c := range pt.chains {
				if _, ok := t.rules[c]; !ok {
					stale = append(stale, c)
					b.WriteString(":" + c + " - [0:0]\n")
				}
			}
		}
		for _, c := range t.chains {
			for _, rl := range t.rules[c] {
				b.WriteString("-A " + c + " " + rl + "\n")
			}
		}
		for _, c := range stale {
			b.WriteString("-X " + c + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}

// portProtoHash is kube-proxy's: the first 16 characters of the base32
// of SHA-256 of the service port name and protocol.
func portProtoHash(name, proto string) string {
	sum := sha256.Sum256([]byte(name + proto))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}

// endpointChain is kube-proxy's servicePortEndpointChainName.
func endpointChain(name, proto, ep string) string {
	sum := sha256.Sum256([]byte(name + proto + ep))
	return "KUBE-SEP-" + base32.StdEncoding.EncodeToString(sum[:])[:16]
}

// probability is kube-proxy's computeProbability: 1/n to ten places.
func probability(n int) string { return fmt.Sprintf("%0.10f", 1.0/float64(n)) }

// Render writes a node's view as kube-proxy's iptables rules. It reads
// the view and does not change it; an invalid Config is an
// ErrInvalidConfig naming the field.
func Render(view *proxy.Proxy, cfg Config) (*Ruleset, error) {
	for _, p := range cfg.PodCIDRs {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: PodCIDRs: %v is not a valid prefix", ErrInvalidConfig, p)
		}
	}
	pc := view.Config()
	r := &Ruleset{}
	ports := view.ServicePorts()
	for i, v6 := range []bool{false, true} {
		f := &family{
			filter: newTableRules("filter", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-FORWARD", "KUBE-PROXY-FIREWALL"),
			nat:    newTableRules("nat", "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-MARK-DROP", "KUBE-CLUSTER-ONLY"),
		}
		w := &writer{f: f, cfg: cfg, v6: v6}
		w.setup(pc)
		for j := range ports {
			if ports[j].IPv6 == v6 {
				w.servicePort(&ports[j])
			}
		}
		f.nat.add("KUBE-SERVICES", "-m comment --comment", `"kubernetes service nodeports; NOTE: this must be the last rule in this chain"`,
			"-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
		r.fam[i] = f
	}
	return r, nil
}

type writer struct {
	f              *family
	cfg            Config
	v6             bool
	clusterSources []string
}

func (w *writer) prefixes(ps []netip.Prefix) []string {
	var out []string
	for _, p := range ps {
		if p.IsValid() && p.Addr().Is6() == w.v6 {
			out = append(out, p.Masked().String())
		}
	}
	return out
}

func (w *writer) setup(pc proxy.ProxyConfig) {
	f := w.f
	f.filter.add("KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP")
	f.filter.add("KUBE-FORWARD", "-m comment --comment", `"kubernetes forwarding rules"`, "-m mark --mark", masqMark+"/"+masqMark, "-j ACCEPT")
	f.filter.add("KUBE-FORWARD", "-m comment --comment", `"kubernetes forwarding conntrack rule"`, "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
	f.filter.add("KUBE-PROXY-FIREWALL", "-m comment --comment", `"ClusterIPs are reachable from inside the cluster only"`, "-m mark --mark", dropMark+"/"+dropMark, "-j DROP")
	f.nat.add("KUBE-POSTROUTING", "-m mark ! --mark", masqMark+"/"+masqMark, "-j RETURN")
	f.nat.add("KUBE-POSTROUTING", "-j MARK --xor-mark", masqMark)
	f.nat.add("KUBE-POSTROUTING", "-m comment --comment", `"kubernetes service traffic requiring SNAT"`, "-j MASQUERADE --random-fully")
	f.nat.add("KUBE-MARK-MASQ", "-j MARK --or-mark", masqMark)
	f.nat.add("KUBE-MARK-DROP", "-j MARK --or-mark", dropMark)
	srcs := w.prefixes(pc.ClusterPrefixes)
	for _, a := range pc.NodeAddresses {
		if a = a.Unmap(); a.Is6() == w.v6 {
			srcs = append(srcs, netip.PrefixFrom(a, a.BitLen()).String())
		}
	}
	w.clusterSources = srcs
	for _, s := range srcs {
		f.nat.add("KUBE-CLUSTER-ONLY", "-s", s, "-j RETURN")
	}
	f.nat.add("KUBE-CLUSTER-ONLY", "-j KUBE-MARK-DROP")
}

// servicePort writes one Service port, following syncProxyRules in
// kube-proxy's iptables proxier.
func (w *writer) servicePort(sp *proxy.ServicePort) {
	f := w.f
	proto := proxy.ProtocolName(sp.Proto)
	name := sp.Name()
	h := portProtoHash(name, proto)
	clusterChain, localChain, extChain, fwChain := "KUBE-SVC-"+h, "KUBE-SVL-"+h, "KUBE-EXT-"+h, "KUBE-FW-"+h
	match := []string{"-m", proto, "-p", proto}

	pol := sp.Policy()
	usesCluster, usesLocal := pol.UsesCluster, pol.UsesLocal
	hasInternal, hasExternal, usesExt := pol.HasInternal, pol.HasExternal, pol.UsesExternal
	internalChain, externalPolicy := sp.PolicyChains(clusterChain, localChain)
	noEP := func(what string) (string, string) {
		if !sp.HasEndpoints {
			return `"` + name + ` has no endpoints"`, "REJECT"
		}
		return `"` + name + ` has no local endpoints"`, "DROP"
	}

	for _, fe := range sp.Frontends {
		dport := strconv.Itoa(int(fe.Port))
		switch fe.Kind {
		case proxy.FrontendClusterIP:
			d := fe.Addr.String()
			f.nat.add("KUBE-SERVICES", append(append([]string{"-m comment --comment", `"` + name + ` cluster IP"`}, match...), "-d", d, "--dport", dport, "-j KUBE-CLUSTER-ONLY")...)
			if hasInternal {
				f.nat.add("KUBE-SERVICES", append(append([]string{"-m comment --comment", `"` + name + ` cluster IP"`}, match...), "-d", d, "--dport", dport, "-j", internalChain)...)
				args := append(append([]string{"-m comment --comment", `"` + name + ` cluster IP"`}, match...), "-d", d, "--dport", dport)
				switch {
				case w.cfg.MasqueradeAll:
					f.nat.add(internalChain, append(args, "-j KUBE-MARK-MASQ")...)
				default:
					if pods := w.prefixes(w.cfg.PodCIDRs); len(pods) == 1 {
						f.nat.add(internalChain, append(args, "!", "-s", pods[0], "-j KUBE-MARK-MASQ")...)
					}
				}
			} else {
				c, target := noEP("")
				f.filter.add("KUBE-SERVICES", append(append([]string{"-m comment --comment", c}, match...), "-d", d, "--dport", dport, "-j", target)...)
			}
		case proxy.FrontendExternalIP, proxy.FrontendLoadBalancer:
			d := fe.Addr.String()
			kind := "external IP"
			target := extChain
			if fe.Kind == proxy.FrontendLoadBalancer {
				kind = "loadbalancer IP"
				if len(fe.SourceRanges) > 0 {
					target = fwChain
				}
			}
			if sp.HasEndpoints {
				f.nat.add("KUBE-SERVICES", append(append([]string{"-m comment --comment", `"` + name + " " + kind + `"`}, match...), "-d", d, "--dport", dport, "-j", target)...)
			}
			if target == fwChain {
				if !sp.HasEndpoints {
					// Without endpoints the nat rules never see the packet;
					// allowed sources go on to be rejected (kube-proxy drops
					// them too, svcnet's model rejects).
					for _, r := range fe.SourceRanges {
						f.filter.add("KUBE-PROXY-FIREWALL", append(append([]string{"-m comment --comment", `"` + name + ` loadbalancer IP"`}, match...),
							"-d", d, "--dport", dport, "-s", r.Masked().String(), "-j RETURN")...)
					}
				}
				f.filter.add("KUBE-PROXY-FIREWALL", append(append([]string{"-m comment --comment", `"` + name + " traffic not accepted by " + fwChain + `"`}, match...), "-d", d, "--dport", dport, "-j DROP")...)
				if _, ok := f.nat.rules[fwChain]; !ok && sp.HasEndpoints {
					for _, r := range fe.SourceRanges {
						f.nat.add(fwChain, "-m comment --comment", `"`+name+` loadbalancer IP"`, "-s", r.Masked().String(), "-j", extChain)
					}
					f.nat.add(fwChain, "-m comment --comment", `"other traffic to `+name+` will be dropped by KUBE-PROXY-FIREWALL"`)
				}
			}
			if !hasExternal {
				c, t := noEP("")
				f.filter.add("KUBE-EXTERNAL-SERVICES", append(append([]string{"-m comment --comment", c}, match...), "-d", d, "--dport", dport, "-j", t)...)
			}
		case proxy.FrontendNodePort:
			if sp.HasEndpoints {
				f.nat.add("KUBE-NODEPORTS", append(append([]string{"-m comment --comment", name}, match...), "--dport", dport, "-j", extChain)...)
			}
			if !hasExternal {
				c, t := noEP("")
				f.filter.add("KUBE-EXTERNAL-SERVICES", append(append([]string{"-m comment --comment", c, "-m addrtype --dst-type LOCAL"}, match...), "--dport", dport, "-j", t)...)
			}
		}
	}

	if usesExt {
		if !sp.ExternalLocal {
			f.nat.add(extChain, "-m comment --comment", `"masquerade traffic for `+name+` external destinations"`, "-j KUBE-MARK-MASQ")
		} else {
			f.nat.add(extChain, "-m comment --comment", `"masquerade LOCAL traffic for `+name+` external destinations"`, "-m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
			f.nat.add(extChain, "-m comment --comment", `"route LOCAL traffic for `+name+` external destinations"`, "-m addrtype --src-type LOCAL -j", clusterChain)
			for _, s := range w.clusterSources {
				f.nat.add(extChain, "-m comment --comment", `"cluster traffic for `+name+` external destinations"`, "-s", s, "-j", clusterChain)
			}
		}
		if hasExternal {
			f.nat.add(extChain, "-j", externalPolicy)
		}
	}

	epName := func(b lb.Backend) string { return endpointChain(name, proto, b.Addr.String()) }
	dispatch := func(chain string, eps []lb.Backend) {
		f.nat.chain(chain)
		if sp.AffinitySeconds > 0 {
			for _, b := range eps {
				f.nat.add(chain, "-m comment --comment", `"`+name+" -> "+b.Addr.String()+`"`, "-m recent --name", epName(b),
					"--mask", maskFor(w.v6), "--rsource --rcheck --seconds", strconv.Itoa(int(sp.AffinitySeconds)), "--reap -j", epName(b))
			}
		}
		for i, b := range eps {
			args := []string{"-m comment --comment", `"` + name + " -> " + b.Addr.String() + `"`}
			if i < len(eps)-1 {
				args = append(args, "-m statistic --mode random --probability", probability(len(eps)-i))
			}
			f.nat.add(chain, append(args, "-j", epName(b))...)
		}
	}
	var reachable []lb.Backend
	if usesCluster {
		dispatch(clusterChain, sp.Cluster)
		reachable = append(reachable, sp.Cluster...)
	}
	if usesLocal {
		dispatch(localChain, sp.Local)
		for _, b := range sp.Local {
			if !slices.ContainsFunc(reachable, func(x lb.Backend) bool { return x.Addr == b.Addr }) {
				reachable = append(reachable, b)
			}
		}
	}
	for _, b := range reachable {
		c := epName(b)
		f.nat.add(c, "-m comment --comment", name, "-s", b.Addr.Addr().String(), "-j KUBE-MARK-MASQ")
		args := []string{"-m comment --comment", name}
		if sp.AffinitySeconds > 0 {
			args = append(args, "-m recent --name", c, "--mask", maskFor(w.v6), "--rsource --set")
		}
		f.nat.add(c, append(append(args, match...), "-j DNAT --to-destination", b.Addr.String())...)
	}
}

func maskFor(v6 bool) string {
	if v6 {
		return "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
	}
	return "255.255.255.255"
}

// Exec applies rules with iptables-restore and iptables (or their IPv6
// twins), optionally inside a named network namespace.
type Exec struct {
	// Netns, when set, is the network namespace to run in.
	Netns string
	// IPv6 selects ip6tables and ip6tables-restore.
	IPv6 bool
}

func (e Exec) run(ctx context.Context, stdin string, args ...string) error {
	if e.Netns != "" {
		args = append([]string{"ip", "netns", "exec", e.Netns}, args...)
	}
	c := exec.CommandContext(ctx, args[0], args[1:]...)
	c.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return fmt.Errorf("%w: %s: %v: %s", ErrApply, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Run pipes restore input to iptables-restore --noflush, which applies
// each table atomically.
func (e Exec) Run(ctx context.Context, input string) error {
	cmd := "iptables-restore"
	if e.IPv6 {
		cmd = "ip6tables-restore"
	}
	return e.run(ctx, input, cmd, "--noflush")
}

// EnsureJumps inserts r's jumps from the built-in chains that are not
// there yet, keeping their order, as kube-proxy's EnsureRule does. Run it
// after the chains exist (after Run).
func (e Exec) EnsureJumps(ctx context.Context, r *Ruleset) error {
	cmd := "iptables"
	if e.IPv6 {
		cmd = "ip6tables"
	}
	jumps := r.Jumps()
	for i := len(jumps) - 1; i >= 0; i-- {
		j := jumps[i]
		args := append([]string{cmd, "-w", "-t", j.Table, "-C", j.Chain}, j.Args...)
		if e.run(ctx, "", args...) == nil {
			continue
		}
		args[4] = "-I"
		if err := e.run(ctx, "", args...); err != nil {
			return err
		}
	}
	return nil
}
