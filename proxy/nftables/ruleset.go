package nftables

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// ErrSyntax is returned by Parse and Apply for a line they cannot read.
var ErrSyntax = errors.New("nftables: syntax error")

// Ruleset is a rendered set of kube-proxy tables, one per IP family
// ("ip kube-proxy", "ip6 kube-proxy"): chains with their rules, sets and
// maps with their elements. String writes it as nft -f input; Diff
// computes the transaction from another Ruleset; Trace walks it for a
// packet. A Ruleset is immutable once rendered and safe for concurrent
// reads.
type Ruleset struct {
	tables []*table // "ip" before "ip6"
}

type table struct {
	family string // "ip" or "ip6"
	chains map[string]*chain
	sets   map[string]*set
	// local are the node's addresses, which "fib saddr type local" matches
	// when Trace walks the rules; not part of the text.
	local []netip.Addr
}

type chain struct {
	decl  string // "{ type nat hook prerouting priority -100 ; }" for a base chain, else ""
	rules []string
}

type set struct {
	kind  string // "set" or "map"
	decl  string // "{ type ipv4_addr ; comment \"...\" ; }"
	elems map[string]element
}

type element struct {
	value, comment string
}

func newTable(family string) *table {
	return &table{family: family, chains: map[string]*chain{}, sets: map[string]*set{}}
}

// baseChainOrder lists the base chains first, in kube-proxy's order, so
// that the text reads like kube-proxy's transaction.
var baseChainOrder = []string{chainFilterPrerouting, chainFilterInput, chainFilterForward, chainFilterOutput,
	chainFilterOutputPost, chainNatPrerouting, chainNatOutput, chainNatPostrouting}

func (t *table) chainNames() []string {
	var out []string
	for _, n := range baseChainOrder {
		if _, ok := t.chains[n]; ok {
			out = append(out, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(t.chains)) {
		if !slices.Contains(baseChainOrder, n) {
			out = append(out, n)
		}
	}
	return out
}

const tableComment = `{ comment "rules for kube-proxy" ; }`

// String returns the ruleset as a complete nft -f input: for each family
// it creates the table if missing, deletes it with everything in it, and
// creates it again with every chain, set, map, rule and element, so that
// one atomic nft transaction replaces whatever the table held. Objects
// come in a fixed order (base chains, then chains, sets and maps by name;
// elements by key), so equal rulesets have equal text.
func (r *Ruleset) String() string {
	var b strings.Builder
	b.Grow(r.size())
	for _, t := range r.tables {
		head := "add table " + t.family + " " + TableName + " " + tableComment + "\n"
		b.WriteString(head)
		b.WriteString("delete table " + t.family + " " + TableName + "\n")
		b.WriteString(head)
		t.writeBody(&b)
	}
	return b.String()
}

// size estimates the length of String, so that it writes into one
// buffer.
func (r *Ruleset) size() int {
	n := 0
	for _, t := range r.tables {
		for name, c := range t.chains {
			n += 2 * (32 + len(name))
			for _, rl := range c.rules {
				n += len(rl)
			}
			n += len(c.decl)
		}
		for name, s := range t.sets {
			n += 32 + len(name) + len(s.decl)
			for k, e := range s.elems {
				n += 40 + len(name) + len(k) + len(e.value) + len(e.comment)
			}
		}
	}
	return n
}

func (t *table) writeBody(b *strings.Builder) {
	chains := t.chainNames()
	sets := slices.Sorted(maps.Keys(t.sets))
	for _, n := range chains {
		t.writeChain(b, n)
	}
	for _, n := range sets {
		t.writeSet(b, n)
	}
	for _, n := range chains {
		t.writeRules(b, n)
	}
	for _, n := range sets {
		s := t.sets[n]
		for _, k := range slices.Sorted(maps.Keys(s.elems)) {
			t.writeElement(b, n, k, s.elems[k])
		}
	}
}

func (t *table) writeChain(b *strings.Builder, n string) {
	b.WriteString("add chain " + t.family + " " + TableName + " " + n)
	if d := t.chains[n].decl; d != "" {
		b.WriteString(" " + d)
	}
	b.WriteByte('\n')
}

func (t *table) writeSet(b *strings.Builder, n string) {
	s := t.sets[n]
	b.WriteString("add " + s.kind + " " + t.family + " " + TableName + " " + n + " " + s.decl + "\n")
}

func (t *table) writeRules(b *strings.Builder, n string) {
	for _, r := range t.chains[n].rules {
		b.WriteString("add rule ")
		b.WriteString(t.family)
		b.WriteString(" " + TableName + " ")
		b.WriteString(n)
		b.WriteByte(' ')
		b.WriteString(r)
		b.WriteByte('\n')
	}
}

func (t *table) writeElement(b *strings.Builder, n, k string, e element) {
	b.WriteString("add element ")
	b.WriteString(t.family)
	b.WriteString(" " + TableName + " ")
	b.WriteString(n)
	b.WriteString(" { ")
	b.WriteString(k)
	if e.comment != "" {
		b.WriteString(` comment "` + e.comment + `"`)
	}
	if e.value != "" {
		b.WriteString(" : ")
		b.WriteString(e.value)
	}
	b.WriteString(" }\n")
}

// Lines returns the number of lines of String.
func (r *Ruleset) Lines() int { return strings.Count(r.String(), "\n") }

// Families returns the families of the ruleset's tables, "ip" before
// "ip6".
func (r *Ruleset) Families() []string {
	out := make([]string, len(r.tables))
	for i, t := range r.tables {
		out[i] = t.family
	}
	return out
}

func (r *Ruleset) table(family string) *table {
	for _, t := range r.tables {
		if t.family == family {
			return t
		}
	}
	return nil
}

// Parse reads nft -f input of the forms String and Diff write (add,
// delete and flush of tables, chains, rules, sets, maps and elements,
// one element per line) into a Ruleset. It is the inverse of String and
// lets tests apply a transaction without a kernel. A line it cannot read
// is an ErrSyntax naming the line.
func Parse(text string) (*Ruleset, error) {
	r := &Ruleset{}
	if err := r.apply(text); err != nil {
		return nil, err
	}
	return r, nil
}

// Apply returns a copy of r with the nft -f commands of text applied, as
// the kernel would apply the transaction: on any error nothing changes
// and the error names the line.
func (r *Ruleset) Apply(text string) (*Ruleset, error) {
	c := r.clone()
	if err := c.apply(text); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *Ruleset) clone() *Ruleset {
	c := &Ruleset{}
	for _, t := range r.tables {
		nt := newTable(t.family)
		nt.local = t.local
		for n, ch := range t.chains {
			nt.chains[n] = &chain{decl: ch.decl, rules: slices.Clone(ch.rules)}
		}
		for n, s := range t.sets {
			nt.sets[n] = &set{kind: s.kind, decl: s.decl, elems: maps.Clone(s.elems)}
		}
		c.tables = append(c.tables, nt)
	}
	return c
}

func (r *Ruleset) apply(text string) error {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := r.applyLine(line); err != nil {
			return fmt.Errorf("%w: line %d %q: %v", ErrSyntax, i+1, line, err)
		}
	}
	return nil
}

func (r *Ruleset) applyLine(line string) error {
	f := strings.SplitN(line, " ", 5) // verb object family table rest
	if len(f) < 4 || f[3] != TableName || (f[2] != "ip" && f[2] != "ip6") {
		return errors.New("want <verb> <object> ip|ip6 kube-proxy <name>")
	}
	verb, obj, fam := f[0], f[1], f[2]
	rest := ""
	if len(f) == 5 {
		rest = f[4]
	}
	t := r.table(fam)
	if obj == "table" {
		switch verb {
		case "add":
			if t == nil {
				r.tables = append(r.tables, newTable(fam))
				slices.SortFunc(r.tables, func(a, b *table) int { return strings.Compare(a.family, b.family) })
			}
		case "delete":
			if t == nil {
				return errors.New("no such table")
			}
			r.tables = slices.DeleteFunc(r.tables, func(x *table) bool { return x == t })
		case "flush":
			if t == nil {
				return errors.New("no such table")
			}
			for _, ch := range t.chains {
				ch.rules = nil
			}
			for _, s := range t.sets {
				clear(s.elems)
			}
		default:
			return errors.New("unknown verb")
		}
		return nil
	}
	if t == nil {
		return errors.New("no such table")
	}
	name, tail, _ := strings.Cut(rest, " ")
	if name == "" {
		return errors.New("missing name")
	}
	switch obj {
	case "chain":
		ch := t.chains[name]
		switch verb {
		case "add":
			if ch == nil {
				t.chains[name] = &chain{decl: tail}
			} else if tail != "" && tail != ch.decl {
				return errors.New("chain exists with another declaration")
			}
		case "flush":
			if ch == nil {
				return errors.New("no such chain")
			}
			ch.rules = nil
		case "delete":
			if ch == nil {
				return errors.New("no such chain")
			}
			if len(ch.rules) > 0 {
				return errors.New("chain is not empty")
			}
			for _, o := range t.chains {
				for _, rl := range o.rules {
					if refersTo(rl, name) {
						return fmt.Errorf("chain is in use by rule %q", rl)
					}
				}
			}
			for _, s := range t.sets {
				for _, e := range s.elems {
					if refersTo(e.value, name) {
						return errors.New("chain is in use by a map element")
					}
				}
			}
			delete(t.chains, name)
		default:
			return errors.New("unknown verb")
		}
	case "rule":
		ch := t.chains[name]
		if verb != "add" || ch == nil || tail == "" {
			return errors.New("want add rule to an existing chain")
		}
		ch.rules = append(ch.rules, tail)
	case "set", "map":
		s := t.sets[name]
		switch verb {
		case "add":
			if s == nil {
				t.sets[name] = &set{kind: obj, decl: tail, elems: map[string]element{}}
			} else if s.kind != obj || tail != s.decl {
				return errors.New("set exists with another declaration")
			}
		case "flush":
			if s == nil {
				return errors.New("no such set")
			}
			clear(s.elems)
		case "delete":
			if s == nil {
				return errors.New("no such set")
			}
			delete(t.sets, name)
		default:
			return errors.New("unknown verb")
		}
	case "element":
		s := t.sets[name]
		if s == nil {
			return errors.New("no such set")
		}
		body, okPrefix := strings.CutPrefix(tail, "{ ")
		body, okSuffix := strings.CutSuffix(body, " }")
		if !okPrefix || !okSuffix {
			return errors.New("want { element }")
		}
		key, e := body, element{}
		if k, v, ok := strings.Cut(body, " : "); ok {
			key, e.value = k, v
		}
		if k, c, ok := strings.Cut(key, ` comment "`); ok {
			key, e.comment = k, strings.TrimSuffix(c, `"`)
		}
		switch verb {
		case "add":
			if old, ok := s.elems[key]; ok && old != e {
				return errors.New("element exists with another value")
			}
			if e.value != "" && t.chains[chainTarget(e.value)] == nil && chainTarget(e.value) != "" {
				return errors.New("element refers to a missing chain")
			}
			s.elems[key] = e
		case "delete":
			if _, ok := s.elems[key]; !ok {
				return errors.New("no such element")
			}
			delete(s.elems, key)
		default:
			return errors.New("unknown verb")
		}
	default:
		return errors.New("unknown object")
	}
	return nil
}

// chainTarget returns the chain a "goto X" or "jump X" verdict names.
func chainTarget(v string) string {
	if c, ok := strings.CutPrefix(v, "goto "); ok {
		return c
	}
	if c, ok := strings.CutPrefix(v, "jump "); ok {
		return c
	}
	return ""
}

func refersTo(text, chainName string) bool {
	for _, w := range strings.Fields(text) {
		if strings.TrimRight(w, ",") == chainName {
			return true
		}
	}
	return false
}
