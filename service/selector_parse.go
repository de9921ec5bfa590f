package service

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/svcnet/svcnet/internal/k8sname"
)

// SelectorError is a selector that does not parse: it quotes the input,
// says at which byte offset parsing stopped, what it found there and what
// it expected. It wraps ErrInvalid.
type SelectorError struct {
	// Input is the whole selector string.
	Input string
	// Offset is the byte offset of the offending token (len(Input) at the end).
	Offset int
	// Found is the offending token, or "end of input".
	Found string
	// Expected says what would have been accepted there, or which rule
	// the token breaks.
	Expected string
}

// maxQuoted is how much of a selector an error message quotes: a
// selector of megabytes makes a message of a few hundred bytes.
const maxQuoted = 256

// Error formats as `service: invalid selector "x y": offset 2: found "y", expected ...`.
// An input longer than 256 bytes is quoted up to there, followed by
// "... (N bytes)"; Input keeps all of it.
func (e *SelectorError) Error() string {
	return "service: invalid selector " + quoteBounded(e.Input) + ": offset " + strconv.Itoa(e.Offset) +
		": found " + e.Found + ", " + e.Expected
}

// quoteBounded quotes s, or its first maxQuoted bytes (cut at a rune
// boundary) and its length when it is longer.
func quoteBounded(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// Unwrap makes errors.Is(e, ErrInvalid) true.
func (e *SelectorError) Unwrap() error { return ErrInvalid }

// ParseSelector parses a label selector in Kubernetes' string grammar
// (k8s.io/apimachinery/pkg/labels.Parse):
//
//	selector    = "" | requirement { "," requirement }
//	requirement = [ "!" ] KEY
//	            | KEY ( "=" | "==" | "!=" ) VALUE
//	            | KEY ( "in" | "notin" ) "(" [ VALUE ] { "," [ VALUE ] } ")"
//	            | KEY ( ">" | "<" ) INTEGER
//
// KEY is a qualified name, VALUE a label value (possibly empty), INTEGER
// a label value that strconv.ParseInt reads as a decimal int64 (leading
// zeros allowed). Spaces, tabs, CR and LF separate tokens anywhere. The
// verdicts are Kubernetes', corner cases included: "a in ()" requires a
// to exist with the empty value, "a in (,b)" allows "" and "b", "in" and
// "notin" are keys or values wherever an operator cannot stand, "a=" is
// a=”. The string "<none>" parses as Nothing().
//
// One deliberate difference: Kubernetes' lexer takes a NUL byte for the
// end of input and silently drops what follows; ParseSelector rejects NUL
// and every other control character except tab, CR and LF.
//
// The result's values share memory with s. On success ParseSelector makes
// at most three allocations.
func ParseSelector(s string) (Selector, error) {
	if s == nothingString {
		return Nothing(), nil
	}
	p := parser{in: s}
	// Each requirement after the first, and each value beyond one per
	// requirement, needs a comma, so commas+1 bounds both counts.
	n := strings.Count(s, ",") + 1
	p.reqs = make([]Requirement, 0, n)
	p.vals = make([]string, 0, n)
	if err := p.parse(); err != nil {
		return Selector{}, err
	}
	if len(p.reqs) == 0 {
		return Selector{}, nil
	}
	return Selector{reqs: canonical(p.reqs)}, nil
}

// MustParseSelector is ParseSelector for selectors known to be valid
// (constants in code and tests); it panics when s does not parse.
func MustParseSelector(s string) Selector {
	sel, err := ParseSelector(s)
	if err != nil {
		panic(err)
	}
	return sel
}

type tokKind uint8

const (
	tokEnd tokKind = iota
	tokIdent
	tokBang
	tokEq
	tokDoubleEq
	tokNotEq
	tokGt
	tokLt
	tokOpen
	tokClose
	tokComma
	tokBad // a control character
)

type token struct {
	kind tokKind
	pos  int
	lit  string
}

func (t token) describe() string {
	switch t.kind {
	case tokEnd:
		return "end of input"
	case tokBad:
		return "control character " + strconv.QuoteRune(rune(t.lit[0]))
	}
	return quoteBounded(t.lit)
}

type parser struct {
	in     string
	pos    int
	peeked bool
	tok    token
	reqs   []Requirement
	vals   []string
}

// isSeparator reports whether c ends an identifier: whitespace as
// Kubernetes' lexer defines it (space, tab, CR, LF) or a special symbol.
func isSeparator(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '=', '!', '(', ')', ',', '>', '<':
		return true
	}
	return false
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

func (p *parser) lex() token {
	in := p.in
	i := p.pos
	for i < len(in) && (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n') {
		i++
	}
	if i == len(in) {
		p.pos = i
		return token{kind: tokEnd, pos: i}
	}
	start := i
	c := in[i]
	kind := tokIdent
	switch c {
	case '=':
		kind = tokEq
		if i+1 < len(in) && in[i+1] == '=' {
			kind, i = tokDoubleEq, i+1
		}
	case '!':
		kind = tokBang
		if i+1 < len(in) && in[i+1] == '=' {
			kind, i = tokNotEq, i+1
		}
	case '>':
		kind = tokGt
	case '<':
		kind = tokLt
	case '(':
		kind = tokOpen
	case ')':
		kind = tokClose
	case ',':
		kind = tokComma
	default:
		if isControl(c) {
			p.pos = i + 1
			return token{kind: tokBad, pos: i, lit: in[i : i+1]}
		}
		for i < len(in) && !isSeparator(in[i]) {
			if isControl(in[i]) {
				// The identifier ends here; the control character is
				// reported as the next token.
				break
			}
			i++
		}
		p.pos = i
		return token{kind: tokIdent, pos: start, lit: in[start:i]}
	}
	p.pos = i + 1
	return token{kind: kind, pos: start, lit: in[start : i+1]}
}

func (p *parser) peek() token {
	if !p.peeked {
		p.tok = p.lex()
		p.peeked = true
	}
	return p.tok
}

func (p *parser) next() token {
	t := p.peek()
	p.peeked = false
	return t
}

func (p *parser) fail(t token, expected string) error {
	return &SelectorError{Input: p.in, Offset: t.pos, Found: t.describe(), Expected: expected}
}

func (p *parser) parse() error {
	for {
		t := p.peek()
		switch t.kind {
		case tokEnd:
			return nil
		case tokIdent, tokBang:
			if err := p.requirement(); err != nil {
				return err
			}
			t = p.next()
			switch t.kind {
			case tokEnd:
				return nil
			case tokComma:
				if t2 := p.peek(); t2.kind != tokIdent && t2.kind != tokBang {
					return p.fail(t2, "expected a key or '!' after ','")
				}
			default:
				return p.fail(t, "expected ',' or end of input")
			}
		default:
			return p.fail(t, "expected a key, '!' or end of input")
		}
	}
}

func (p *parser) requirement() error {
	t := p.next()
	negated := t.kind == tokBang
	if negated {
		t = p.next()
	}
	if t.kind != tokIdent {
		return p.fail(t, "expected a key")
	}
	key := t.lit
	if msg := k8sname.QualifiedName(key); msg != "" {
		return p.fail(t, "expected a valid label key: "+msg)
	}
	if nt := p.peek(); nt.kind == tokEnd || nt.kind == tokComma || negated {
		// Kubernetes infers Exists (or DoesNotExist after '!') when the
		// key stands alone; "!key" followed by anything else is then
		// rejected by the caller, which expects ',' or the end.
		op := Exists
		if negated {
			op = DoesNotExist
		}
		p.reqs = append(p.reqs, Requirement{key: key, op: op})
		return nil
	}
	t = p.next()
	var op Operator
	switch t.kind {
	case tokEq, tokDoubleEq:
		op = Equals
	case tokNotEq:
		op = NotEquals
	case tokGt:
		op = GreaterThan
	case tokLt:
		op = LessThan
	case tokIdent:
		switch t.lit {
		case "in":
			op = In
		case "notin":
			op = NotIn
		}
	}
	if op == 0 {
		return p.fail(t, "expected one of =, ==, !=, in, notin, >, <")
	}
	first := len(p.vals)
	if op == In || op == NotIn {
		if err := p.valueSet(); err != nil {
			return err
		}
	} else if err := p.exactValue(op); err != nil {
		return err
	}
	vals := p.vals[first:len(p.vals):len(p.vals)]
	sortSmall(vals)
	vals = slices.Compact(vals)
	r := Requirement{key: key, op: op, values: vals}
	if op == GreaterThan || op == LessThan {
		r.num, _ = parseInt64(vals[0]) // checked by exactValue
	}
	p.reqs = append(p.reqs, r)
	return nil
}

// exactValue reads the single value of =, ==, !=, > and <. A missing
// value (the end, or a comma) is the empty value, as in Kubernetes.
func (p *parser) exactValue(op Operator) error {
	t := p.peek()
	if t.kind == tokEnd || t.kind == tokComma {
		if op == GreaterThan || op == LessThan {
			return p.fail(t, "expected an integer after "+op.String())
		}
		p.vals = append(p.vals, "")
		return nil
	}
	t = p.next()
	if t.kind != tokIdent {
		return p.fail(t, "expected a value")
	}
	if err := p.checkValue(t); err != nil {
		return err
	}
	if op == GreaterThan || op == LessThan {
		if _, ok := parseInt64(t.lit); !ok {
			return p.fail(t, "expected a decimal integer within int64 after "+op.String())
		}
	}
	p.vals = append(p.vals, t.lit)
	return nil
}

func (p *parser) checkValue(t token) error {
	if msg := k8sname.LabelValue(t.lit); msg != "" {
		return p.fail(t, "expected a valid label value: "+msg)
	}
	return nil
}

// valueSet reads "(" values ")" after in and notin. Empty entries are the
// empty value: "()" is {""}, "(,b)" is {"", "b"}, "(a,)" is {"a", ""}.
func (p *parser) valueSet() error {
	if t := p.next(); t.kind != tokOpen {
		return p.fail(t, "expected '('")
	}
	switch t := p.peek(); t.kind {
	case tokClose:
		p.next()
		p.vals = append(p.vals, "")
		return nil
	case tokIdent, tokComma:
	default:
		return p.fail(t, "expected a value, ',' or ')'")
	}
	first := len(p.vals)
	for {
		t := p.next()
		switch t.kind {
		case tokIdent:
			if err := p.checkValue(t); err != nil {
				return err
			}
			p.vals = append(p.vals, t.lit)
			switch t2 := p.peek(); t2.kind {
			case tokComma:
			case tokClose:
				p.next()
				return nil
			default:
				return p.fail(t2, "expected ',' or ')'")
			}
		case tokComma:
			// A comma with nothing before it, or before ',' or ')',
			// stands for the empty value.
			if len(p.vals) == first {
				p.vals = append(p.vals, "")
			}
			switch t2 := p.peek(); t2.kind {
			case tokClose:
				p.next()
				p.vals = append(p.vals, "")
				return nil
			case tokComma:
				p.vals = append(p.vals, "")
			}
		default:
			return p.fail(t, "expected a value or ','")
		}
	}
}

// sortSmall sorts a handful of values in place without the overhead of
// a general sort.
func sortSmall(v []string) {
	if len(v) > smallSort {
		slices.Sort(v)
		return
	}
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// smallSort is the length up to which an insertion sort beats a general
// sort; above it the general sort keeps canonicalisation O(n log n), so a
// selector with tens of thousands of requirements costs milliseconds.
const smallSort = 12

// canonical sorts requirements by key, operator and values and drops
// exact duplicates, in place.
func canonical(r []Requirement) []Requirement {
	return canonicalBy(r, compareRequirementPtrs)
}

// canonicalBy is canonical with the comparison as a parameter, so that a
// test can count the comparisons it makes.
func canonicalBy(r []Requirement, cmp func(a, b *Requirement) int) []Requirement {
	if len(r) > smallSort {
		slices.SortFunc(r, func(a, b Requirement) int { return cmp(&a, &b) })
	} else {
		for i := 1; i < len(r); i++ {
			for j := i; j > 0 && cmp(&r[j], &r[j-1]) < 0; j-- {
				r[j], r[j-1] = r[j-1], r[j]
			}
		}
	}
	out := r[:min(len(r), 1)]
	for i := 1; i < len(r); i++ {
		if r[i].key != out[len(out)-1].key || cmp(&r[i], &out[len(out)-1]) != 0 {
			out = append(out, r[i])
		}
	}
	return out
}
