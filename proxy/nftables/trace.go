package nftables

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
)

// Packet is the first packet of a connection as Trace sees it.
type Packet struct {
	Src, Dst netip.AddrPort
	Proto    lb.Protocol
	// Local marks a packet the node itself sends (the output hooks);
	// otherwise the packet arrives on an interface (prerouting).
	Local bool
	// Random is what "numgen random mod N" draws, reduced mod N; Hash is
	// what "jhash ... mod M" yields, reduced mod M. The kernel draws and
	// hashes; a test chooses.
	Random, Hash uint32
}

// Action is what the rules did with a packet.
type Action uint8

// The actions.
const (
	// Accept: the packet passes with its destination unchanged.
	Accept Action = iota + 1
	// DNAT: the packet goes to Verdict.DNAT.
	DNAT
	// Drop: the packet is discarded silently.
	Drop
	// Reject: the packet is refused (ICMP unreachable or a TCP reset).
	Reject
)

// String returns "accept", "dnat", "drop" or "reject".
func (a Action) String() string {
	return [...]string{"none", "accept", "dnat", "drop", "reject"}[min(int(a), 4)]
}

// Verdict is the outcome of tracing a packet through a Ruleset.
type Verdict struct {
	Action Action
	// DNAT is the new destination when Action is DNAT.
	DNAT netip.AddrPort
	// Masquerade reports that the packet leaves with the node's address
	// as its source (mark 0x4000 set, then masquerade in postrouting).
	Masquerade bool
	// Chains lists the chains the packet went through, in order.
	Chains []string
	// Err is set when a rule could not be interpreted; the other fields
	// are then zero.
	Err error
}

type traceError string

func hexValue(s string) uint32 {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
	if err != nil {
		panic(traceError("bad mark " + s))
	}
	return uint32(v)
}

// Tracer walks packets through a Ruleset as the kernel's netfilter
// hooks would, keeping the dynamic sets ("update @affinity-…") that the
// walks fill, so that a later packet from the same source sees them, as
// ClientIP affinity needs. Set timeouts are not modelled. A Tracer is
// not safe for concurrent use.
type Tracer struct {
	r   *Ruleset
	dyn map[string]map[netip.Addr]bool // per "family/set"
}

// NewTracer returns a Tracer over r with empty dynamic sets.
func NewTracer(r *Ruleset) *Tracer {
	return &Tracer{r: r, dyn: map[string]map[netip.Addr]bool{}}
}

// Trace walks one packet through r with empty dynamic sets.
func Trace(r *Ruleset, p Packet) Verdict { return NewTracer(r).Trace(p) }

// walk is one packet's state.
type walk struct {
	tr      *Tracer
	t       *table
	p       Packet
	dst     netip.AddrPort
	mark    uint32
	natDone bool
	v       Verdict
	steps   int
}

// Trace walks p through the hooks a packet meets: from an interface,
// filter-prerouting, nat-prerouting, then filter-input when its
// (translated) destination is a node address or filter-forward
// otherwise, then nat-postrouting; sent by the node, filter-output,
// nat-output, filter-output-post-dnat and nat-postrouting, then
// filter-input when it is addressed to the node itself (loopback). A packet of a
// family without a table is accepted.
//
// Trace interprets the grammar Render writes; a rule outside it (in a
// ruleset read with Parse) ends the walk with Verdict.Err set, an
// ErrSyntax naming the rule.
func (tr *Tracer) Trace(p Packet) (v Verdict) {
	defer func() {
		if e := recover(); e != nil {
			v = Verdict{Err: fmt.Errorf("%w: trace: %v", ErrSyntax, e)}
		}
	}()
	fam := "ip"
	if p.Dst.Addr().Unmap().Is6() {
		fam = "ip6"
	}
	t := tr.r.table(fam)
	w := &walk{tr: tr, t: t, p: p, dst: netip.AddrPortFrom(p.Dst.Addr().Unmap(), p.Dst.Port())}
	w.p.Src = netip.AddrPortFrom(p.Src.Addr().Unmap(), p.Src.Port())
	if t == nil {
		return Verdict{Action: Accept}
	}
	hooks := []string{chainFilterOutput, chainNatOutput, chainFilterOutputPost}
	if !p.Local {
		hooks = []string{chainFilterPrerouting, chainNatPrerouting, ""}
	}
	for _, h := range hooks {
		if h == "" {
			h = chainFilterForward
			for _, a := range t.local {
				if a == w.dst.Addr() {
					h = chainFilterInput
				}
			}
		}
		if a, stop := w.base(h); stop {
			w.v.Action = a
			return w.v
		}
	}
	if a, stop := w.base(chainNatPostrouting); stop {
		w.v.Action = a
		return w.v
	}
	// A packet the node sends to itself comes back in on loopback and
	// meets the input hook too.
	if p.Local && slices.Contains(t.local, w.dst.Addr()) {
		if a, stop := w.base(chainFilterInput); stop {
			w.v.Action = a
			return w.v
		}
	}
	w.v.Action = Accept
	if w.dst != netip.AddrPortFrom(p.Dst.Addr().Unmap(), p.Dst.Port()) {
		w.v.Action, w.v.DNAT = DNAT, w.dst
	}
	return w.v
}

// base runs a base chain; stop reports a drop or reject.
func (w *walk) base(name string) (Action, bool) {
	if _, ok := w.t.chains[name]; !ok {
		return 0, false
	}
	_, a := w.run(name)
	if a == Drop || a == Reject {
		return a, true
	}
	return 0, false
}

// flow results of a rule.
const (
	flowNext = iota
	flowReturn
	flowDone // a final verdict for this hook (accept, drop, reject, nat)
)

// run runs a chain; it returns flowReturn when the chain ended or
// returned, flowDone with the action when a verdict ended the hook.
func (w *walk) run(name string) (int, Action) {
	c := w.t.chains[name]
	w.v.Chains = append(w.v.Chains, name)
	if c == nil {
		return flowReturn, 0
	}
	for _, r := range c.rules {
		w.steps++
		if w.steps > 10000 {
			return flowDone, Drop // a loop in the rules; the kernel forbids them
		}
		f, a := w.rule(r)
		switch f {
		case flowReturn:
			return flowReturn, 0
		case flowDone:
			return flowDone, a
		}
	}
	return flowReturn, 0
}

// rule evaluates one rule of the grammar Render writes.
func (w *walk) rule(r string) (int, Action) {
	if i := strings.Index(r, ` comment "`); i >= 0 {
		r = r[:i]
	}
	tok := strings.Fields(r)
	for i := 0; i < len(tok); {
		switch tok[i] {
		case "ct":
			// ct state new: Trace sees first packets only; ct status dnat:
			// the packet was DNATed.
			if tok[i+1] == "status" && !w.natDone {
				return flowNext, 0
			}
			i += 3
		case "ip", "ip6", "meta", "th", "jhash":
			if tok[i] == "jhash" || i+2 < len(tok) && tok[i+2] == "." {
				key, n, mod := w.concat(tok[i:])
				i += n
				if mod > 0 { // jhash ... mod M seed S
					key = strconv.Itoa(int(w.p.Hash % uint32(mod)))
				}
				if strings.HasPrefix(tok[i], "@") { // a . b . c @set
					if !w.inSet(strings.TrimPrefix(tok[i], "@"), key) {
						return flowNext, 0
					}
					i++
					continue
				}
				if tok[i] != "vmap" {
					panic(traceError(fmt.Sprintf("%q: want vmap", r)))
				}
				v, ok := w.lookup(tok[i+1:], key)
				if !ok {
					return flowNext, 0
				}
				return w.verdict(strings.Fields(v))
			}
			if tok[i] == "meta" { // meta l4proto tcp
				if tok[i+2] != proxy.ProtocolName(w.p.Proto) {
					return flowNext, 0
				}
				i += 3
				continue
			}
			ok, n := w.match(tok[i:])
			if !ok {
				return flowNext, 0
			}
			i += n
		case "tcp", "udp", "sctp": // tcp dport 80
			if tok[i] != proxy.ProtocolName(w.p.Proto) || tok[i+2] != strconv.Itoa(int(w.dst.Port())) {
				return flowNext, 0
			}
			i += 3
		case "fib": // fib saddr type local
			local := false
			for _, a := range w.t.local {
				local = local || a == w.p.Src.Addr()
			}
			if !local {
				return flowNext, 0
			}
			i += 4
		case "mark": // mark and V == 0, or mark set mark or|xor V
			if tok[i+1] == "and" { // mark and V ==|!= 0
				if set := w.mark&hexValue(tok[i+2]) != 0; set != (tok[i+3] == "!=") {
					return flowNext, 0
				}
				i += 5
				continue
			}
			if tok[i+3] == "or" {
				w.mark |= hexValue(tok[i+4])
			} else {
				w.mark ^= hexValue(tok[i+4])
			}
			i += 5
		case "numgen": // numgen random mod N vmap { ... }
			n, _ := strconv.Atoi(tok[i+3])
			v, ok := w.lookup(tok[i+5:], strconv.Itoa(int(w.p.Random%uint32(n))))
			if !ok {
				return flowNext, 0
			}
			return w.verdict(strings.Fields(v))
		case "update": // update @set { ip saddr }
			k := w.t.family + "/" + strings.TrimPrefix(tok[i+1], "@")
			if w.tr.dyn[k] == nil {
				w.tr.dyn[k] = map[netip.Addr]bool{}
			}
			w.tr.dyn[k][w.p.Src.Addr()] = true
			i += 6
		case "dnat":
			if tok[i+1] != "to" {
				// dnat ip addr . port to numgen random mod N map { k : a . p, ... }
				// dnat ip addr . port to jhash ip saddr . th sport mod M seed S map @m
				j, key := i+6, ""
				if tok[j] == "numgen" {
					n, _ := strconv.Atoi(tok[j+3])
					key, j = strconv.Itoa(int(w.p.Random%uint32(n))), j+4
				} else {
					_, n, mod := w.concat(tok[j:])
					key, j = strconv.Itoa(int(w.p.Hash%uint32(mod))), j+n
				}
				if tok[j] != "map" {
					panic(traceError(fmt.Sprintf("%q: want map", r)))
				}
				v, ok := w.lookup(tok[j+1:], key)
				if !ok {
					return flowNext, 0 // the kernel drops a packet whose map misses
				}
				a, p, _ := strings.Cut(v, " . ")
				ap, err := netip.ParseAddrPort(netip.MustParseAddr(a).String() + ":" + p)
				if v6 := strings.Contains(a, ":"); v6 {
					ap, err = netip.ParseAddrPort("[" + a + "]:" + p)
				}
				if err != nil {
					panic(traceError(fmt.Sprintf("%q: %v", r, err)))
				}
				w.dst, w.natDone = ap, true
				return flowDone, Accept
			}
			ap, err := netip.ParseAddrPort(tok[i+2])
			if err != nil {
				panic(traceError(fmt.Sprintf("%q: %v", r, err)))
			}
			w.dst, w.natDone = ap, true
			return flowDone, Accept
		case "masquerade":
			w.v.Masquerade = true
			return flowDone, Accept
		default:
			return w.verdict(tok[i:])
		}
	}
	return flowNext, 0
}

func (w *walk) verdict(tok []string) (int, Action) {
	switch tok[0] {
	case "accept":
		return flowDone, Accept
	case "drop":
		return flowDone, Drop
	case "reject":
		return flowDone, Reject
	case "return":
		return flowReturn, 0
	case "jump":
		if f, a := w.run(tok[1]); f == flowDone {
			return f, a
		}
		return flowNext, 0
	case "goto":
		f, a := w.run(tok[1])
		if f == flowDone {
			return f, a
		}
		return flowReturn, 0
	}
	panic(traceError(fmt.Sprintf("unknown statement %q", strings.Join(tok, " "))))
}

// field returns the value of one selector for the packet.
func (w *walk) field(a, b string) string {
	switch a + " " + b {
	case "ip daddr", "ip6 daddr":
		return w.dst.Addr().String()
	case "ip saddr", "ip6 saddr":
		return w.p.Src.Addr().String()
	case "meta l4proto":
		return proxy.ProtocolName(w.p.Proto)
	case "th dport":
		return strconv.Itoa(int(w.dst.Port()))
	case "th sport":
		return strconv.Itoa(int(w.p.Src.Port()))
	}
	panic(traceError("unknown selector " + a + " " + b))
}

// concat reads "sel . sel . sel" (or "jhash sel . sel mod M seed S") and
// returns the key, the tokens read and the modulus of a jhash.
func (w *walk) concat(tok []string) (string, int, int) {
	i, mod := 0, 0
	if tok[0] == "jhash" {
		i = 1
	}
	var parts []string
	for {
		parts = append(parts, w.field(tok[i], tok[i+1]))
		i += 2
		if i < len(tok) && tok[i] == "." {
			i++
			continue
		}
		break
	}
	if tok[0] == "jhash" { // mod M seed S
		mod, _ = strconv.Atoi(tok[i+1])
		i += 4
	}
	return strings.Join(parts, " . "), i, mod
}

// match evaluates "ip daddr|saddr [!=] value" and returns the tokens read.
func (w *walk) match(tok []string) (bool, int) {
	val := w.field(tok[0], tok[1])
	i, neg := 2, false
	if tok[i] == "!=" {
		neg, i = true, i+1
	}
	var in bool
	switch {
	case strings.HasPrefix(tok[i], "@"):
		in = w.inSet(strings.TrimPrefix(tok[i], "@"), val)
		i++
	case tok[i] == "{":
		j := i + 1
		for ; tok[j] != "}"; j++ {
			in = in || matchAddr(strings.TrimSuffix(tok[j], ","), val)
		}
		i = j + 1
	default:
		in = matchAddr(tok[i], val)
		i++
	}
	return in != neg, i
}

func matchAddr(pattern, val string) bool {
	a, err := netip.ParseAddr(val)
	if err != nil {
		return false
	}
	if p, err := netip.ParsePrefix(pattern); err == nil {
		return p.Contains(a)
	}
	b, err := netip.ParseAddr(pattern)
	return err == nil && a == b
}

func (w *walk) inSet(name, val string) bool {
	if d := w.tr.dyn[w.t.family+"/"+name]; d != nil {
		if a, err := netip.ParseAddr(val); err == nil && d[a] {
			return true
		}
	}
	s := w.t.sets[name]
	if s == nil {
		return false
	}
	if _, ok := s.elems[val]; ok {
		return true
	}
	if strings.Contains(s.decl, "interval") {
		for k := range s.elems {
			if matchAddr(k, val) {
				return true
			}
		}
	}
	return false
}

// lookup finds key in "@map" or an inline "{ k : v, ... }".
func (w *walk) lookup(tok []string, key string) (string, bool) {
	if strings.HasPrefix(tok[0], "@") {
		s := w.t.sets[strings.TrimPrefix(tok[0], "@")]
		if s == nil {
			return "", false
		}
		e, ok := s.elems[key]
		return e.value, ok
	}
	body := strings.Join(tok[1:len(tok)-1], " ")
	for _, kv := range strings.Split(body, ", ") {
		if k, v, ok := strings.Cut(kv, " : "); ok && k == key {
			return v, true
		}
	}
	return "", false
}
