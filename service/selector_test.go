package service

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in   string
		want string // canonical String(); "ERR" when the input must be rejected
	}{
		{"", ""},
		{"   \t\r\n", ""},
		{"<none>", "<none>"},
		{"a=b", "a=b"},
		{"a==b", "a=b"},
		{"a!=b", "a!=b"},
		{" a = b ", "a=b"},
		{"a", "a"},
		{"!a", "!a"},
		{"! a", "!a"},
		{"a=", "a="},     // missing value is the empty value
		{"a=,b", "a=,b"}, // ... also before a comma
		{"a!=", "a!="},   //
		{"a in (x,y)", "a in (x,y)"},
		{"a in (y,x,y)", "a in (x,y)"}, // values sorted, deduplicated
		{"a in ()", "a in ()"},         // () is the set holding ""
		{"a in (,b)", "a in (,b)"},     // a leading comma adds ""
		{"a in (b,)", "a in (,b)"},     // so does a trailing one
		{"a in (b,,c)", "a in (,b,c)"}, // and a double one
		{"a in (,)", "a in ()"},
		{"a notin (x)", "a notin (x)"},
		{"a in(x)", "a in (x)"},
		{"in=x", "in=x"},                         // in is a key where no operator can stand
		{"in in (in,notin)", "in in (in,notin)"}, // and a value in a set
		{"a=in", "a=in"},
		{"a>1", "a>1"},
		{"a<-1", "ERR"},  // a negative number is not a label value
		{"a>+1", "ERR"},  // nor is a signed one
		{"a>01", "a>01"}, // strconv.ParseInt accepts leading zeros
		{"a>9223372036854775807", "a>9223372036854775807"},
		{"a>9223372036854775808", "ERR"}, // overflow
		{"a>", "ERR"},
		{"a>x", "ERR"},
		{"b=1,a=2", "a=2,b=1"}, // requirements sorted by key
		{"a,a", "a"},           // identical requirements collapse
		{"a=1,a=2", "a=1,a=2"}, // contradictory ones do not
		{"example.com/a=b", "example.com/a=b"},
		{"a,", "ERR"},
		{",a", "ERR"},
		{"a b", "ERR"},
		{"a=b c", "ERR"},
		{"a=b=c", "ERR"},
		{"!a=b", "ERR"},
		{"!a in (b)", "ERR"},
		{"!", "ERR"},
		{"!!a", "ERR"},
		{"a in", "ERR"},
		{"a in (", "ERR"},
		{"a in (b", "ERR"},
		{"a in (b c)", "ERR"},
		{"a in ((b))", "ERR"},
		{"a=(b)", "ERR"},
		{"a>=1", "ERR"},
		{"a = = b", "ERR"},
		{"a in b", "ERR"},
		{"A-", "ERR"},       // a key ends with an alphanumeric
		{"a=-b", "ERR"},     // so does a value
		{"a/b/c", "ERR"},    // one slash at most
		{"/a", "ERR"},       // the prefix is not empty
		{"Ex.com/a", "ERR"}, // the prefix is lowercase
		{strings.Repeat("k", 63), strings.Repeat("k", 63)},
		{strings.Repeat("k", 64), "ERR"},
		{"a=" + strings.Repeat("v", 64), "ERR"},
		{"a\x00", "ERR"}, // Kubernetes stops at NUL; svcnet rejects it
		{"a=b\x00,c", "ERR"},
		{"a\x01", "ERR"},
		{"a\vb", "ERR"},
		{"a=é", "ERR"},
		{"<none>,a", "ERR"},
		{" <none>", "ERR"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			sel, err := ParseSelector(tt.in)
			if tt.want == "ERR" {
				require.Error(t, err)
				require.ErrorIs(t, err, ErrInvalid)
				var se *SelectorError
				require.True(t, errors.As(err, &se))
				require.Equal(t, tt.in, se.Input)
				require.GreaterOrEqual(t, se.Offset, 0)
				require.LessOrEqual(t, se.Offset, len(tt.in))
				require.Contains(t, err.Error(), strconv.Quote(tt.in))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, sel.String())
			again, err := ParseSelector(sel.String())
			require.NoError(t, err)
			require.True(t, sel.Equal(again), "%q round-trips to %q", sel.String(), again.String())
		})
	}
}

func TestSelectorErrorPosition(t *testing.T) {
	_, err := ParseSelector("app=web, tier in (a b)")
	var se *SelectorError
	require.True(t, errors.As(err, &se))
	require.Equal(t, 20, se.Offset)
	require.Equal(t, `"b"`, se.Found)
	require.Equal(t, `service: invalid selector "app=web, tier in (a b)": offset 20: found "b", expected ',' or ')'`, err.Error())

	_, err = ParseSelector("app=web,")
	require.True(t, errors.As(err, &se))
	require.Equal(t, 8, se.Offset)
	require.Equal(t, "end of input", se.Found)
}

func TestSelectorMatches(t *testing.T) {
	ls := Labels{"app": "web", "tier": "edge", "n": "10", "neg": "-3", "empty": ""}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"<none>", false},
		{"app=web", true},
		{"app=db", false},
		{"app!=db", true},
		{"missing!=x", true},
		{"app in (db,web)", true},
		{"app notin (db,web)", false},
		{"missing notin (x)", true},
		{"missing in (x)", false},
		{"app", true},
		{"!app", false},
		{"!missing", true},
		{"empty in ()", true},
		{"empty=", true},
		{"missing in ()", false},
		{"n>9", true},
		{"n>10", false},
		{"n<11", true},
		{"neg<0", true},  // a label may hold a negative number
		{"app>1", false}, // a non-number never compares
		{"missing<5", false},
		{"app=web,tier in (edge),!canary,n>1", true},
	}
	for _, tt := range tests {
		sel := MustParseSelector(tt.sel)
		require.Equal(t, tt.want, sel.Matches(ls), tt.sel)
		require.Equal(t, tt.want, naiveMatches(sel, ls), tt.sel)
	}
	require.True(t, Selector{}.Matches(nil))
	require.False(t, Nothing().Matches(nil))
}

func TestSelectorFromSet(t *testing.T) {
	sel := SelectorFromSet(Labels{"b": "2", "a": "1"})
	require.Equal(t, "a=1,b=2", sel.String())
	require.True(t, sel.Matches(Labels{"a": "1", "b": "2", "c": "3"}))
	require.False(t, sel.Matches(Labels{"a": "1"}))
	require.True(t, SelectorFromSet(nil).Empty())
	require.True(t, SelectorFromSet(nil).Matches(Labels{"x": "y"}))
}

func TestEverythingNothingDistinct(t *testing.T) {
	require.NotEqual(t, Everything().String(), Nothing().String())
	require.False(t, Everything().Equal(Nothing()))
	e, err := ParseSelector(Everything().String())
	require.NoError(t, err)
	require.True(t, e.Equal(Everything()))
	n, err := ParseSelector(Nothing().String())
	require.NoError(t, err)
	require.True(t, n.Equal(Nothing()))
	require.True(t, n.MatchesNothing())
}

func TestParseInt64MatchesStrconv(t *testing.T) {
	for _, s := range []string{"", "0", "-0", "+0", "007", "-9223372036854775808", "9223372036854775807",
		"9223372036854775808", "-9223372036854775809", "1_000", "0x10", "+", "-", "12a", " 1", "99999999999999999999"} {
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := parseInt64(s)
		require.Equal(t, err == nil, ok, s)
		if ok {
			require.Equal(t, want, got, s)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringMatching(`[+-]?[0-9]{0,21}`).Draw(t, "s")
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := parseInt64(s)
		if (err == nil) != ok || ok && want != got {
			t.Fatalf("%q: strconv %d %v, parseInt64 %d %v", s, want, err, got, ok)
		}
	})
}

func TestSelectorNoAllocs(t *testing.T) {
	sel := MustParseSelector("app=web,tier in (frontend,edge),env!=dev,!canary,version,n>3")
	ls := Labels{"app": "web", "tier": "edge", "env": "prod", "version": "v2", "n": "x"}
	if n := testing.AllocsPerRun(100, func() { sel.Matches(ls) }); n != 0 {
		t.Fatalf("Matches allocates %v times", n)
	}
	in := "app=web,tier in (frontend,edge),env!=dev,!canary,version"
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseSelector(in) }); n > 3 {
		t.Fatalf("ParseSelector allocates %v times, want at most 3", n)
	}
}

// naiveMatches is the obviously-right model: every requirement, checked
// by its definition with strconv, no shortcuts.
func naiveMatches(s Selector, ls Labels) bool {
	if s.MatchesNothing() {
		return false
	}
	for _, r := range s.Requirements() {
		v, ok := ls[r.Key()]
		vals := r.Values()
		in := false
		for _, x := range vals {
			if x == v {
				in = true
			}
		}
		var good bool
		switch r.Operator() {
		case Equals, In:
			good = ok && in
		case NotEquals, NotIn:
			good = !ok || !in
		case Exists:
			good = ok
		case DoesNotExist:
			good = !ok
		case GreaterThan, LessThan:
			lv, err1 := strconv.ParseInt(v, 10, 64)
			rv, err2 := strconv.ParseInt(vals[0], 10, 64)
			good = ok && err1 == nil && err2 == nil &&
				(r.Operator() == GreaterThan && lv > rv || r.Operator() == LessThan && lv < rv)
		}
		if !good {
			return false
		}
	}
	return true
}

var (
	genKey   = rapid.SampledFrom([]string{"a", "b", "app", "in", "notin", "example.com/x", "k.8-s_z"})
	genValue = rapid.SampledFrom([]string{"", "x", "y", "web", "1", "10", "007", "in", "-5", "v1.2"})
	genNum   = rapid.SampledFrom([]string{"0", "1", "5", "10", "007", "9223372036854775807"})
)

// genSelectorString draws a valid selector in Kubernetes' grammar, with
// the spacing and spelling variants the grammar allows.
func genSelectorString(t *rapid.T) string {
	n := rapid.IntRange(0, 5).Draw(t, "n")
	parts := make([]string, n)
	sp := func() string { return rapid.SampledFrom([]string{"", " ", "\t", " \n "}).Draw(t, "sp") }
	for i := range parts {
		k := genKey.Draw(t, "key")
		v := genValue.Draw(t, "value")
		if v == "-5" {
			v = "x"
		}
		switch rapid.IntRange(0, 7).Draw(t, "op") {
		case 0:
			parts[i] = k + sp() + rapid.SampledFrom([]string{"=", "=="}).Draw(t, "eq") + sp() + v
		case 1:
			parts[i] = k + sp() + "!=" + sp() + v
		case 2, 3:
			op := []string{"in", "notin"}[rapid.IntRange(0, 1).Draw(t, "which")]
			vals := rapid.SliceOfN(genValue, 0, 4).Draw(t, "vals")
			for j := range vals {
				if vals[j] == "-5" {
					vals[j] = "y"
				}
			}
			parts[i] = k + " " + op + sp() + "(" + strings.Join(vals, ","+sp()) + ")"
		case 4:
			parts[i] = k
		case 5:
			parts[i] = "!" + sp() + k
		case 6:
			parts[i] = k + sp() + ">" + sp() + genNum.Draw(t, "num")
		case 7:
			parts[i] = k + sp() + "<" + sp() + genNum.Draw(t, "num")
		}
	}
	return sp() + strings.Join(parts, sp()+","+sp()) + sp()
}

func TestSelectorRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genSelectorString(t)
		sel, err := ParseSelector(in)
		if err != nil {
			t.Fatalf("ParseSelector(%q): %v", in, err)
		}
		again, err := ParseSelector(sel.String())
		if err != nil {
			t.Fatalf("ParseSelector(%q) (from %q): %v", sel.String(), in, err)
		}
		if !sel.Equal(again) || again.String() != sel.String() {
			t.Fatalf("%q -> %q -> %q", in, sel.String(), again.String())
		}
	})
}

func TestSelectorMatchesProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sel := MustParseSelector(genSelectorString(t))
		ls := rapid.MapOfN(genKey, genValue, 0, 6).Draw(t, "labels")
		if got, want := sel.Matches(ls), naiveMatches(sel, ls); got != want {
			t.Fatalf("%q on %v: Matches %v, model %v", sel.String(), ls, got, want)
		}
	})
}

// FuzzParseSelector checks that no input panics and that whatever parses
// prints to a string that parses back to an equal selector.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{
		"",                           // everything
		"<none>",                     // nothing
		"a=b,c!=d",                   // equality
		"a in (b,c),d notin ()",      // sets, the empty set holding ""
		"a in (,)",                   // empty entries
		"!a,b",                       // existence
		"a>01,b<9223372036854775807", // integers
		"in in (in)",                 // keywords as keys and values
		"example.com/k=v",            // prefixed key
		"a\x00b",                     // NUL
		"a in (b",                    // unterminated
		"a==,b!=",                    // empty exact values
		"\t a \n = \r b ",            // every whitespace
	} {
		f.Add(s)
	}
	f.Fuzz(fuzzParseSelector)
}

// FuzzParseSelectorLarge is FuzzParseSelector on large selectors
// (thousands of requirements, a long set, keys at their limits), apart so
// that their cost does not slow FuzzParseSelector's search of small ones.
func FuzzParseSelectorLarge(f *testing.F) {
	for _, s := range largeSelectors() {
		f.Add(s)
	}
	f.Fuzz(fuzzParseSelector)
}

// fuzzParseSelector: no input panics, and whatever parses prints to a
// string that parses back to an equal selector.
func fuzzParseSelector(t *testing.T, in string) {
	sel, err := ParseSelector(in)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%q: error %v does not wrap ErrInvalid", in, err)
		}
		return
	}
	again, err := ParseSelector(sel.String())
	if err != nil {
		t.Fatalf("%q printed as %q, which does not parse: %v", in, sel.String(), err)
	}
	if !sel.Equal(again) {
		t.Fatalf("%q -> %q -> %q", in, sel.String(), again.String())
	}
}

func TestLabelSelector(t *testing.T) {
	var nilSel *LabelSelector
	s, err := nilSel.Selector()
	require.NoError(t, err)
	require.True(t, s.MatchesNothing())

	s, err = (&LabelSelector{}).Selector()
	require.NoError(t, err)
	require.True(t, s.Empty())

	s, err = (&LabelSelector{
		MatchLabels: Labels{"app": "web"},
		MatchExpressions: []LabelSelectorRequirement{
			{Key: "tier", Operator: "In", Values: []string{"edge", "frontend"}},
			{Key: "canary", Operator: "DoesNotExist"},
		},
	}).Selector()
	require.NoError(t, err)
	require.Equal(t, "app=web,!canary,tier in (edge,frontend)", s.String())

	_, err = (&LabelSelector{
		MatchLabels: Labels{"bad key!": "v"},
		MatchExpressions: []LabelSelectorRequirement{
			{Key: "a", Operator: "In"},
			{Key: "b", Operator: "Exists", Values: []string{"x"}},
			{Key: "c", Operator: "Gt", Values: []string{"1"}},
		},
	}).Selector()
	var ve *ValidationError
	require.True(t, errors.As(err, &ve))
	var paths []string
	for _, fe := range ve.Errors {
		paths = append(paths, fe.Path)
	}
	require.Equal(t, []string{"matchLabels", "matchExpressions[0].values", "matchExpressions[1].values", "matchExpressions[2].operator"}, paths)
}

func BenchmarkParseSelector(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseSelector("app=web,tier in (frontend,edge),env!=dev,!canary,version")
	}
}

func BenchmarkSelectorMatches(b *testing.B) {
	sel := MustParseSelector("app=web,tier in (frontend,edge),env!=dev,!canary,version")
	ls := Labels{"app": "web", "tier": "edge", "env": "prod", "version": "v2", "pod-template-hash": "5d9c7b", "team": "a"}
	b.ReportAllocs()
	for b.Loop() {
		if !sel.Matches(ls) {
			b.Fatal("no match")
		}
	}
}
