package nftables

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Transaction is nft -f input that turns one Ruleset into another, as
// kube-proxy's partial syncs do (proxier.go, syncProxyRules with
// tryPartialSync): only the chains whose rules changed are flushed and
// refilled, only changed map and set elements are deleted or added, and
// stale chains are flushed, then deleted. The zero Transaction is empty.
type Transaction struct {
	lines []string
}

// String returns the transaction as nft -f input; an empty transaction
// is "".
func (tx *Transaction) String() string {
	if len(tx.lines) == 0 {
		return ""
	}
	return strings.Join(tx.lines, "\n") + "\n"
}

// Len returns the number of commands (lines) in the transaction.
func (tx *Transaction) Len() int { return len(tx.lines) }

// Diff returns the transaction that turns prev's rules into r's. With a
// nil prev, or for a family whose base chains or fixed sets prev
// declares differently, it replaces the whole table as String does. Stale
// chains are deleted in the same transaction, after the elements and
// rules that referred to them: kernels before 6.2 may refuse that
// (kube-proxy waits a second for them), svcnet targets newer ones.
func (r *Ruleset) Diff(prev *Ruleset) *Transaction {
	tx := &Transaction{}
	if prev == nil {
		prev = &Ruleset{}
	}
	for _, old := range prev.tables {
		if r.table(old.family) == nil {
			tx.add("delete table %s %s", old.family, TableName)
		}
	}
	for _, t := range r.tables {
		old := prev.table(t.family)
		if old == nil || !compatible(old, t) {
			var b strings.Builder
			(&Ruleset{tables: []*table{t}}).writeTo(&b)
			tx.lines = append(tx.lines, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")...)
			continue
		}
		tx.incremental(old, t)
	}
	return tx
}

func (r *Ruleset) writeTo(b *strings.Builder) { b.WriteString(r.String()) }

func (tx *Transaction) add(format string, args ...any) {
	tx.lines = append(tx.lines, fmt.Sprintf(format, args...))
}

// compatible reports whether old can be patched into t: every chain and
// set in both is declared the same.
func compatible(old, t *table) bool {
	for n, c := range t.chains {
		if o, ok := old.chains[n]; ok && o.decl != c.decl {
			return false
		}
	}
	for n, s := range t.sets {
		if o, ok := old.sets[n]; ok && (o.decl != s.decl || o.kind != s.kind) {
			return false
		}
	}
	return true
}

func (tx *Transaction) incremental(old, t *table) {
	f := t.family
	var b strings.Builder
	emit := func() {
		if b.Len() > 0 {
			tx.lines = append(tx.lines, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")...)
			b.Reset()
		}
	}
	setNames := slices.Sorted(maps.Keys(t.sets))
	chainNames := t.chainNames()
	// 1. New sets and chains, so that rules and elements can name them.
	for _, n := range setNames {
		if _, ok := old.sets[n]; !ok {
			t.writeSet(&b, n)
		}
	}
	for _, n := range chainNames {
		if _, ok := old.chains[n]; !ok {
			t.writeChain(&b, n)
		}
	}
	// 2. Rules of new and changed chains.
	for _, n := range chainNames {
		o, ok := old.chains[n]
		if ok && slices.Equal(o.rules, t.chains[n].rules) {
			continue
		}
		if ok && len(o.rules) > 0 {
			fmt.Fprintf(&b, "flush chain %s %s %s\n", f, TableName, n)
		}
		t.writeRules(&b, n)
	}
	// 3. Elements: stale and changed ones out, new and changed ones in.
	for _, n := range setNames {
		s := t.sets[n]
		o := old.sets[n]
		if o != nil {
			for _, k := range slices.Sorted(maps.Keys(o.elems)) {
				if e, ok := s.elems[k]; !ok || e != o.elems[k] {
					fmt.Fprintf(&b, "delete element %s %s %s { %s }\n", f, TableName, n, k)
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(s.elems)) {
			if o != nil {
				if e, ok := o.elems[k]; ok && e == s.elems[k] {
					continue
				}
			}
			t.writeElement(&b, n, k, s.elems[k])
		}
	}
	// 4. Stale chains: flush them all, delete stale sets, then the chains.
	stale := []string{}
	for _, n := range old.chainNames() {
		if _, ok := t.chains[n]; !ok {
			stale = append(stale, n)
			if len(old.chains[n].rules) > 0 {
				fmt.Fprintf(&b, "flush chain %s %s %s\n", f, TableName, n)
			}
		}
	}
	// Stale maps go before stale chains: their elements may name them.
	for _, n := range slices.Sorted(maps.Keys(old.sets)) {
		if _, ok := t.sets[n]; !ok {
			fmt.Fprintf(&b, "delete %s %s %s %s\n", old.sets[n].kind, f, TableName, n)
		}
	}
	for _, n := range stale {
		fmt.Fprintf(&b, "delete chain %s %s %s\n", f, TableName, n)
	}
	emit()
}
