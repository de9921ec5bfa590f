package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
)

// Packet is the first packet of a connection as Trace sees it.
type Packet struct {
	Src, Dst netip.AddrPort
	Proto    lb.Protocol
	// Local marks a packet the node itself sends (the OUTPUT chains).
	Local bool
	// Random picks the endpoint among a chain's "-m statistic --mode
	// random" rules: the one at index Random mod N, as the kernel's draws
	// do with probability 1/N each.
	Random uint32
	// LocalAddrs are the node's addresses ("-m addrtype --*-type LOCAL").
	LocalAddrs []netip.Addr
}

// Action is what the rules did with a packet.
type Action uint8

// The actions, as in package proxy/nftables.
const (
	Accept Action = iota + 1
	DNAT
	Drop
	Reject
)

// String returns "accept", "dnat", "drop" or "reject".
func (a Action) String() string {
	return [...]string{"none", "accept", "dnat", "drop", "reject"}[min(int(a), 4)]
}

// Verdict is the outcome of tracing a packet.
type Verdict struct {
	Action     Action
	DNAT       netip.AddrPort
	Masquerade bool
	// Err is set when a rule is outside the grammar Render writes.
	Err error
}

// Tracer walks packets through a Ruleset's IPv4 or IPv6 rules as the
// kernel's iptables hooks would, keeping the "-m recent" lists the walks
// fill (timeouts are not modelled). Not safe for concurrent use.
type Tracer struct {
	r      *Ruleset
	recent map[string]map[netip.Addr]bool
}

// NewTracer returns a Tracer over r with empty recent lists.
func NewTracer(r *Ruleset) *Tracer { return &Tracer{r: r, recent: map[string]map[netip.Addr]bool{}} }

// Trace walks one packet with empty recent lists.
func Trace(r *Ruleset, p Packet) Verdict { return NewTracer(r).Trace(p) }

type traceError string

type walk struct {
	tr    *Tracer
	f     *family
	p     Packet
	dst   netip.AddrPort
	mark  uint32
	nat   bool
	masq  bool
	steps int
	// statN is the N of the first statistic rule met in the current
	// chain walk, to turn Random into an index.
	statN int
}

// Trace walks p: from an interface, nat PREROUTING, then filter INPUT
// (to a node address) or FORWARD, then nat POSTROUTING; sent by the
// node, nat OUTPUT, filter OUTPUT, nat POSTROUTING, then filter INPUT
// when addressed to the node. The built-in chains hold r.Jumps().
func (tr *Tracer) Trace(p Packet) (v Verdict) {
	defer func() {
		if e := recover(); e != nil {
			v = Verdict{Err: fmt.Errorf("iptables: trace: %v", e)}
		}
	}()
	fi := 0
	if p.Dst.Addr().Unmap().Is6() {
		fi = 1
	}
	w := &walk{tr: tr, f: tr.r.fam[fi], p: p, dst: netip.AddrPortFrom(p.Dst.Addr().Unmap(), p.Dst.Port())}
	w.p.Src = netip.AddrPortFrom(p.Src.Addr().Unmap(), p.Src.Port())
	isLocal := func(a netip.Addr) bool {
		for _, l := range p.LocalAddrs {
			if l.Unmap() == a {
				return true
			}
		}
		return false
	}
	var hooks [][2]string
	if p.Local {
		hooks = [][2]string{{"nat", "OUTPUT"}, {"filter", "OUTPUT"}, {"nat", "POSTROUTING"}, {"filter", "INPUT?"}}
	} else {
		hooks = [][2]string{{"nat", "PREROUTING"}, {"filter", "INPUT|FORWARD"}, {"nat", "POSTROUTING"}}
	}
	for _, h := range hooks {
		chain := h[1]
		switch chain {
		case "INPUT|FORWARD":
			chain = "FORWARD"
			if isLocal(w.dst.Addr()) {
				chain = "INPUT"
			}
		case "INPUT?":
			if !isLocal(w.dst.Addr()) {
				continue
			}
			chain = "INPUT"
		}
		for _, j := range tr.r.Jumps() {
			if j.Table != h[0] || j.Chain != chain {
				continue
			}
			a, done := w.rule(h[0], strings.Join(j.Args, " "))
			if done && (a == Drop || a == Reject) {
				return Verdict{Action: a}
			}
			if done {
				break
			}
		}
	}
	v = Verdict{Action: Accept, Masquerade: w.masq}
	if w.nat {
		v.Action, v.DNAT = DNAT, w.dst
	}
	return v
}

func (w *walk) table(name string) *tableRules {
	if name == "nat" {
		return w.f.nat
	}
	return w.f.filter
}

// run runs a user chain; done reports a final verdict for the hook.
func (w *walk) run(table, chain string) (Action, bool) {
	rules, ok := w.table(table).rules[chain]
	if !ok {
		panic(traceError("no chain " + chain))
	}
	saved := w.statN
	w.statN = 0
	defer func() { w.statN = saved }()
	for _, r := range rules {
		w.steps++
		if w.steps > 10000 {
			return Drop, true
		}
		if a, done := w.rule(table, r); done {
			return a, true
		} else if a == returnAction {
			return 0, false
		}
	}
	return 0, false
}

const returnAction Action = 255

func (w *walk) local(a netip.Addr) bool {
	for _, l := range w.p.LocalAddrs {
		if l.Unmap() == a {
			return true
		}
	}
	return false
}

func matchPrefix(s string, a netip.Addr) bool {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Contains(a)
	}
	b, err := netip.ParseAddr(s)
	return err == nil && b == a
}

// rule evaluates one rule of the grammar Render writes.
func (w *walk) rule(table, r string) (Action, bool) {
	tok := fields(r)
	neg := false
	for i := 0; i < len(tok); i++ {
		t := tok[i]
		if t == "!" {
			neg = true
			continue
		}
		ok := true
		switch t {
		case "-m":
			switch tok[i+1] {
			case "comment":
				i += 3
				continue
			case "tcp", "udp", "sctp":
				i++
				continue
			case "conntrack": // --ctstate S: first packets are NEW
				ok = tok[i+3] == "NEW"
				i += 3
			case "addrtype": // --dst-type|--src-type LOCAL
				a := w.dst.Addr()
				if tok[i+2] == "--src-type" {
					a = w.p.Src.Addr()
				}
				ok = w.local(a)
				i += 3
			case "mark": // [!] --mark V/M
				if tok[i+2] == "!" {
					neg, i = true, i+1
				}
				vm := strings.Split(tok[i+3], "/")
				v, _ := strconv.ParseUint(strings.TrimPrefix(vm[0], "0x"), 16, 32)
				m, _ := strconv.ParseUint(strings.TrimPrefix(vm[1], "0x"), 16, 32)
				ok = w.mark&uint32(m) == uint32(v)
				i += 3
			case "statistic": // --mode random --probability P
				p, _ := strconv.ParseFloat(tok[i+5], 64)
				n := int(1/p + 0.5)
				if w.statN == 0 {
					w.statN = n
				}
				ok = int(w.p.Random%uint32(w.statN)) == w.statN-n
				i += 5
			case "recent": // --name N --mask M --rsource --rcheck|--set [--seconds S --reap]
				name := tok[i+3]
				j := i + 4
				for j < len(tok) && tok[j] != "--rcheck" && tok[j] != "--set" {
					j++
				}
				if tok[j] == "--set" {
					if w.tr.recent[name] == nil {
						w.tr.recent[name] = map[netip.Addr]bool{}
					}
					w.tr.recent[name][w.p.Src.Addr()] = true
				} else {
					ok = w.tr.recent[name][w.p.Src.Addr()]
				}
				for j+1 < len(tok) && tok[j+1] != "-j" && tok[j+1] != "-m" {
					j++
				}
				i = j
			default:
				panic(traceError("unknown match " + tok[i+1]))
			}
		case "-p":
			ok = tok[i+1] == proxy.ProtocolName(w.p.Proto)
			i++
		case "-d":
			ok = matchPrefix(tok[i+1], w.dst.Addr())
			i++
		case "-s":
			ok = matchPrefix(tok[i+1], w.p.Src.Addr())
			i++
		case "--dport":
			ok = tok[i+1] == strconv.Itoa(int(w.dst.Port()))
			i++
		case "-j":
			return w.target(table, tok[i+1:])
		default:
			panic(traceError("unknown token " + t + " in " + r))
		}
		if ok == neg {
			return 0, false
		}
		neg = false
	}
	return 0, false
}

func (w *walk) target(table string, tok []string) (Action, bool) {
	switch tok[0] {
	case "ACCEPT":
		return Accept, true
	case "DROP":
		return Drop, true
	case "REJECT":
		return Reject, true
	case "RETURN":
		return returnAction, false
	case "MARK":
		v, _ := strconv.ParseUint(strings.TrimPrefix(tok[2], "0x"), 16, 32)
		if tok[1] == "--or-mark" {
			w.mark |= uint32(v)
		} else {
			w.mark ^= uint32(v)
		}
		return 0, false
	case "DNAT": // --to-destination A:P
		ap, err := netip.ParseAddrPort(tok[2])
		if err != nil {
			panic(traceError(err.Error()))
		}
		w.dst, w.nat = ap, true
		return Accept, true
	case "MASQUERADE":
		w.masq = true
		return Accept, true
	}
	return w.run(table, tok[0])
}

// fields splits a rule into words, keeping quoted comments whole.
func fields(r string) []string {
	var out []string
	for r != "" {
		r = strings.TrimLeft(r, " ")
		if r == "" {
			break
		}
		if r[0] == '"' {
			j := strings.IndexByte(r[1:], '"')
			out = append(out, r[:j+2])
			r = r[j+2:]
			continue
		}
		j := strings.IndexByte(r, ' ')
		if j < 0 {
			j = len(r)
		}
		out = append(out, r[:j])
		r = r[j:]
	}
	return out
}
