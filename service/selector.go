package service

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Operator relates a label's value to a Requirement's values.
type Operator uint8

// The operators of Kubernetes' label selector grammar. "==" parses as
// Equals: the two are the same relation.
const (
	// Equals (key=value, key==value): the label exists and has the value.
	Equals Operator = iota + 1
	// NotEquals (key!=value): the label is absent or has another value.
	NotEquals
	// In (key in (a,b)): the label exists and has one of the values.
	In
	// NotIn (key notin (a,b)): the label is absent or has none of the values.
	NotIn
	// Exists (key): the label exists, whatever its value.
	Exists
	// DoesNotExist (!key): the label is absent.
	DoesNotExist
	// GreaterThan (key>5): the label's value is an integer greater than the value.
	GreaterThan
	// LessThan (key<5): the label's value is an integer less than the value.
	LessThan
)

var operatorNames = [...]string{"", "=", "!=", "in", "notin", "exists", "!", ">", "<"}

// String returns the operator as the grammar writes it ("exists" for Exists).
func (o Operator) String() string {
	if int(o) < len(operatorNames) && o != 0 {
		return operatorNames[o]
	}
	return "Operator(" + strconv.Itoa(int(o)) + ")"
}

// Requirement is one comma-separated term of a selector: a key, an
// operator and its values. The zero Requirement is invalid; requirements
// come from ParseSelector, SelectorFromSet or LabelSelector.Selector.
type Requirement struct {
	key    string
	op     Operator
	values []string // sorted and without duplicates; shared, never mutated
	num    int64    // the integer of GreaterThan and LessThan
}

// Key returns the label key the requirement tests.
func (r Requirement) Key() string { return r.key }

// Operator returns the requirement's operator.
func (r Requirement) Operator() Operator { return r.op }

// Values returns a copy of the requirement's values, sorted: one for
// Equals, NotEquals, GreaterThan and LessThan, one or more for In and
// NotIn, none for Exists and DoesNotExist.
func (r Requirement) Values() []string { return slices.Clone(r.values) }

// Matches reports whether ls satisfies the requirement. It never
// allocates.
func (r *Requirement) Matches(ls Labels) bool {
	v, ok := ls[r.key]
	switch r.op {
	case Equals:
		return ok && v == r.values[0]
	case NotEquals:
		return !ok || v != r.values[0]
	case In:
		return ok && r.has(v)
	case NotIn:
		return !ok || !r.has(v)
	case Exists:
		return ok
	case DoesNotExist:
		return !ok
	case GreaterThan, LessThan:
		if !ok {
			return false
		}
		// Kubernetes parses the label's value with strconv.ParseInt(v,
		// 10, 64) and fails the requirement when that fails;
		// parseInt64 accepts exactly the same strings without
		// allocating an error.
		n, ok := parseInt64(v)
		if !ok {
			return false
		}
		if r.op == GreaterThan {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

func (r *Requirement) has(v string) bool {
	if len(r.values) <= 8 {
		for _, x := range r.values {
			if x == v {
				return true
			}
		}
		return false
	}
	_, found := slices.BinarySearch(r.values, v)
	return found
}

// String returns the requirement in the grammar ParseSelector reads.
func (r Requirement) String() string {
	var b strings.Builder
	r.write(&b)
	return b.String()
}

func (r *Requirement) write(b *strings.Builder) {
	switch r.op {
	case Exists:
		b.WriteString(r.key)
	case DoesNotExist:
		b.WriteByte('!')
		b.WriteString(r.key)
	case In, NotIn:
		b.WriteString(r.key)
		b.WriteByte(' ')
		b.WriteString(operatorNames[r.op])
		b.WriteString(" (")
		for i, v := range r.values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
		b.WriteByte(')')
	default:
		b.WriteString(r.key)
		b.WriteString(operatorNames[r.op])
		b.WriteString(r.values[0])
	}
}

func (r *Requirement) size() int {
	n := len(r.key) + 8
	for _, v := range r.values {
		n += len(v) + 1
	}
	return n
}

func compareRequirements(a, b Requirement) int { return compareRequirementPtrs(&a, &b) }

func compareRequirementPtrs(a, b *Requirement) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	if c := cmp.Compare(a.op, b.op); c != 0 {
		return c
	}
	return slices.Compare(a.values, b.values)
}

// Selector selects objects by their labels: the conjunction of its
// requirements. It is a small immutable value, safe to copy and to use
// from many goroutines.
//
// The zero Selector, like Everything(), has no requirements and matches
// every label set. Nothing() matches none; the two are distinct and each
// round-trips through String and ParseSelector ("" and "<none>").
type Selector struct {
	reqs    []Requirement // sorted by compareRequirements, no duplicates; never mutated
	nothing bool
}

// nothingString is how Nothing prints. kubectl prints a Service without a
// selector as "<none>"; Kubernetes' own parser rejects the string (it
// starts with '<'), so it never collides with a selector Kubernetes
// accepts.
const nothingString = "<none>"

// Everything returns the selector that matches every label set.
func Everything() Selector { return Selector{} }

// Nothing returns the selector that matches no label set, as a nil
// metav1.LabelSelector does in Kubernetes.
func Nothing() Selector { return Selector{nothing: true} }

// SelectorFromSet returns the selector that requires each key of ls to
// have its value (key=value for every entry). A nil or empty set gives
// Everything, as in Kubernetes. Keys and values are not validated (see
// ValidateLabels); a selector built from an invalid set still matches
// exactly, but its String does not parse.
func SelectorFromSet(ls Labels) Selector {
	if len(ls) == 0 {
		return Selector{}
	}
	reqs := make([]Requirement, 0, len(ls))
	vals := make([]string, 0, len(ls))
	for k, v := range ls {
		vals = append(vals, v)
		reqs = append(reqs, Requirement{key: k, op: Equals, values: vals[len(vals)-1 : len(vals) : len(vals)]})
	}
	slices.SortFunc(reqs, compareRequirements)
	return Selector{reqs: reqs}
}

// Matches reports whether ls satisfies every requirement of s. It never
// allocates and has no side effects.
func (s Selector) Matches(ls Labels) bool {
	if s.nothing {
		return false
	}
	for i := range s.reqs {
		if !s.reqs[i].Matches(ls) {
			return false
		}
	}
	return true
}

// Empty reports whether s matches everything (it has no requirements and
// is not Nothing).
func (s Selector) Empty() bool { return !s.nothing && len(s.reqs) == 0 }

// MatchesNothing reports whether s is Nothing.
func (s Selector) MatchesNothing() bool { return s.nothing }

// Requirements returns a copy of s's requirements in canonical order (by
// key, then operator, then values).
func (s Selector) Requirements() []Requirement { return slices.Clone(s.reqs) }

// Len returns the number of requirements.
func (s Selector) Len() int { return len(s.reqs) }

// Equal reports whether s and t have the same requirements (and so print
// the same).
func (s Selector) Equal(t Selector) bool {
	return s.nothing == t.nothing && slices.EqualFunc(s.reqs, t.reqs, func(a, b Requirement) bool {
		return compareRequirements(a, b) == 0
	})
}

// String returns the canonical form of s, which ParseSelector reads back
// into an equal Selector: requirements sorted by key, then operator, then
// values; values sorted; "==" written as "=". Everything prints as "" and
// Nothing as "<none>".
func (s Selector) String() string {
	if s.nothing {
		return nothingString
	}
	if len(s.reqs) == 0 {
		return ""
	}
	n := 0
	for i := range s.reqs {
		n += s.reqs[i].size()
	}
	var b strings.Builder
	b.Grow(n)
	for i := range s.reqs {
		if i > 0 {
			b.WriteByte(',')
		}
		s.reqs[i].write(&b)
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler with String.
func (s Selector) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseSelector.
func (s *Selector) UnmarshalText(text []byte) error {
	sel, err := ParseSelector(string(text))
	if err != nil {
		return err
	}
	*s = sel
	return nil
}

// parseInt64 parses s exactly as strconv.ParseInt(s, 10, 64) does (an
// optional sign, then one or more decimal digits, within int64), without
// allocating an error.
func parseInt64(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '+', '-':
		neg = s[0] == '-'
		s = s[1:]
		if s == "" {
			return 0, false
		}
	}
	const cutoff = 1 << 63 // |MinInt64|
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > cutoff/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > cutoff {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true // n == 1<<63 wraps to MinInt64, as wanted
	}
	if n > cutoff-1 {
		return 0, false
	}
	return int64(n), true
}
