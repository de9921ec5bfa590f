package nftables

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
)

// Renderer programs one node repeatedly, as kube-proxy's sync loop does:
// its first Sync (or one after the node's addresses changed) returns the
// full ruleset, every later one only the transaction for the Services
// whose entries changed since the Table it last rendered. It finds them
// by comparing the two Tables' shared entries (proxy.ChangedServices),
// renders each changed Service from both Tables and diffs the two
// renderings, so a sync costs what changed plus a walk of pointer
// comparisons, not a render of every Service.
//
// It assumes no two Services claim the same address and port, which the
// Registry's allocators guarantee; Render and Diff do not need that. A
// Renderer is not safe for concurrent use.
type Renderer struct {
	cfg     Config
	m       int
	view    *proxy.Proxy
	table   *proxy.Table
	node    string // fingerprint of the node's addresses and prefixes
	hasIP6  bool
	v6Ports int
	// hairpin counts the Service ports that need each hairpin-connections
	// element (per family), since a pod behind two Services shares one.
	hairpin [2]map[string]int
	// staleUDP are the UDP endpoints the last Sync stopped using.
	staleUDP []netip.Addr
}

// StaleUDPEndpoints returns the addresses of the UDP endpoints that the
// last Sync's transaction stops sending traffic to, sorted. Once the
// transaction is applied, their conntrack entries should go
// (Exec.ClearUDP), as kube-proxy clears them: a UDP client keeps its
// flow, and so its old endpoint, for as long as it keeps sending. A
// full Sync reports none.
func (r *Renderer) StaleUDPEndpoints() []netip.Addr { return r.staleUDP }

// NewRenderer returns a Renderer for cfg; an invalid Config is an
// ErrInvalidConfig, as for Render.
func NewRenderer(cfg Config) (*Renderer, error) {
	p, err := proxy.NewProxy(proxy.ProxyConfig{})
	if err != nil {
		return nil, err
	}
	if _, err := Render(p, cfg); err != nil {
		return nil, err
	}
	m := cfg.MaglevTableSize
	if m == 0 {
		m = DefaultMaglevTableSize
	}
	return &Renderer{cfg: cfg, m: m}, nil
}

func nodeFingerprint(c proxy.ProxyConfig) string {
	return fmt.Sprint(c.NodeName, c.NodeZone, c.NodeAddresses, c.ClusterPrefixes)
}

// Sync returns the transaction that brings the node from what the last
// Sync returned to view's current Table. An empty transaction means
// nothing changed.
func (r *Renderer) Sync(view *proxy.Proxy) (*Transaction, error) {
	fp := nodeFingerprint(view.Config())
	if r.view != view || r.node != fp || r.table == nil {
		return r.full(view, fp)
	}
	changed := view.ChangedServices(r.table)
	if len(changed) == 0 {
		r.table = view.Table()
		return &Transaction{}, nil
	}
	r.staleUDP = nil
	v6 := r.v6Ports
	olds := make([][]proxy.ServicePort, len(changed))
	news := make([][]proxy.ServicePort, len(changed))
	for i, k := range changed {
		olds[i] = view.ServicePortsIn(r.table, k)
		news[i] = view.ServicePortsOf(k)
		v6 += countV6(news[i]) - countV6(olds[i])
	}
	if wantIP6 := v6 > 0 || len(familyAddrs(view.Config().NodeAddresses, true)) > 0; wantIP6 != r.hasIP6 {
		return r.full(view, fp)
	}
	tx := &Transaction{}
	for _, v6 := range []bool{false, true} {
		if v6 && !r.hasIP6 {
			continue
		}
		oldT, newT := r.fragment(v6), r.fragment(v6)
		for i := range changed {
			for j := range olds[i] {
				if olds[i][j].IPv6 == v6 {
					oldT.servicePort(&olds[i][j])
				}
			}
			for j := range news[i] {
				if news[i][j].IPv6 == v6 {
					newT.servicePort(&news[i][j])
				}
			}
		}
		// hairpin-connections elements are shared between Services:
		// counted here, not diffed per Service.
		fi := 0
		if v6 {
			fi = 1
		}
		clear(oldT.t.sets[setHairpin].elems)
		clear(newT.t.sets[setHairpin].elems)
		if !compatible(oldT.t, newT.t) {
			// A set or chain changed its declaration (an affinity
			// timeout): replace the whole table, as Diff would.
			return r.full(view, fp)
		}
		tx.incremental(oldT.t, newT.t)
		delta := map[string]int{}
		for i := range changed {
			for j := range olds[i] {
				if olds[i][j].IPv6 == v6 {
					for _, k := range hairpinKeys(&olds[i][j], view.Config().NodeName) {
						delta[k]--
					}
				}
			}
			for j := range news[i] {
				if news[i][j].IPv6 == v6 {
					for _, k := range hairpinKeys(&news[i][j], view.Config().NodeName) {
						delta[k]++
					}
				}
			}
		}
		fam := oldT.t.family
		for _, k := range slices.Sorted(maps.Keys(delta)) {
			before := r.hairpin[fi][k]
			after := before + delta[k]
			switch {
			case before > 0 && after == 0:
				tx.add("delete element %s %s %s { %s }", fam, TableName, setHairpin, k)
			case before == 0 && after > 0:
				tx.add("add element %s %s %s { %s }", fam, TableName, setHairpin, k)
			}
			if after == 0 {
				delete(r.hairpin[fi], k)
			} else {
				r.hairpin[fi][k] = after
			}
		}
	}
	r.table, r.v6Ports = view.Table(), v6
	r.staleUDP = staleUDP(olds, news)
	return tx, nil
}

// staleUDP returns the UDP endpoint addresses reachable in olds and not
// in news.
func staleUDP(olds, news [][]proxy.ServicePort) []netip.Addr {
	now := map[netip.AddrPort]bool{}
	for _, ps := range news {
		for i := range ps {
			if ps[i].Proto == lb.UDP {
				for _, b := range reachableEndpoints(&ps[i]) {
					now[b.Addr] = true
				}
			}
		}
	}
	var out []netip.Addr
	for _, ps := range olds {
		for i := range ps {
			if ps[i].Proto != lb.UDP {
				continue
			}
			for _, b := range reachableEndpoints(&ps[i]) {
				if !now[b.Addr] && !slices.Contains(out, b.Addr.Addr()) {
					out = append(out, b.Addr.Addr())
				}
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

func countV6(ps []proxy.ServicePort) int {
	n := 0
	for _, p := range ps {
		if p.IPv6 {
			n++
		}
	}
	return n
}

// fragment returns a writer over an empty table of one family holding
// only the fixed chains and sets (without node elements), into which
// some Services are rendered; two fragments diff to those Services'
// changes.
func (r *Renderer) fragment(v6 bool) *writer {
	w := &writer{t: newTable("ip"), cfg: r.cfg, maglevM: r.m, ip: "ip", addrType: "ipv4_addr"}
	if v6 {
		w.t, w.v6, w.ip, w.addrType = newTable("ip6"), true, "ip6", "ipv6_addr"
	}
	w.setup(nil, nil)
	return w
}

func (r *Renderer) full(view *proxy.Proxy, fp string) (*Transaction, error) {
	rs, err := Render(view, r.cfg)
	if err != nil {
		return nil, err
	}
	r.view, r.table, r.node, r.staleUDP = view, view.Table(), fp, nil
	r.hasIP6 = slices.Contains(rs.Families(), "ip6")
	ports := view.ServicePorts()
	r.v6Ports = countV6(ports)
	r.hairpin = [2]map[string]int{{}, {}}
	for i := range ports {
		fi := 0
		if ports[i].IPv6 {
			fi = 1
		}
		for _, k := range hairpinKeys(&ports[i], view.Config().NodeName) {
			r.hairpin[fi][k]++
		}
	}
	return rs.Diff(nil), nil
}
