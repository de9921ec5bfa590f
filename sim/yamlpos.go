package sim

import (
	"bytes"
	"strconv"
	"strings"
)

// yamlLine returns the line, from 1, of a field in a YAML document, by
// its path as DecodeError.Field gives it (items[1].spec.replicas), or of
// the deepest part of the path it finds; 0 when it finds none.
//
// It reads the document's indentation, as YAML's block style (the one
// kubectl get -o yaml writes) lays it out, and does not parse values: a
// field inside a flow collection ({a: 1}) or a multi-line scalar is
// located at the line of the enclosing key it finds. A JSON document
// gives 0 beyond its first line. The line is for an error message; the
// decoding itself is sigs.k8s.io/yaml's.
func yamlLine(doc []byte, path string) int {
	toks := yamlTokens(doc)
	segs := pathSegments(path)
	lo, hi := 0, len(toks)
	line := 0
	for _, seg := range segs {
		if lo >= hi {
			break
		}
		indent := toks[lo].indent
		found := -1
		if seg.index >= 0 {
			n := 0
			for i := lo; i < hi; i++ {
				if t := toks[i]; t.dash && t.indent == indent {
					if n == seg.index {
						found = i
						break
					}
					n++
				}
			}
		} else {
			for i := lo; i < hi; i++ {
				if t := toks[i]; !t.dash && t.indent == indent && t.key == seg.key {
					found = i
					break
				}
			}
		}
		if found < 0 {
			break
		}
		t := toks[found]
		line = t.line
		// The value is the tokens after it that are indented more, and,
		// for a key, a sequence at the key's own indentation
		// ("items:\n- a"), as kubectl writes lists.
		end := found + 1
		for end < hi {
			u := toks[end]
			if u.indent < t.indent || u.indent == t.indent && (t.dash || !u.dash) {
				break
			}
			end++
		}
		lo, hi = found+1, end
	}
	return line
}

// yamlToken is one key or sequence dash of a YAML document's block
// structure.
type yamlToken struct {
	line   int
	indent int
	dash   bool
	key    string
}

// yamlTokens lists the block keys and dashes of a document, in order.
// A line "  - name: a" gives a dash at indentation 2 and the key name at
// 4, the column of its text.
func yamlTokens(doc []byte) []yamlToken {
	var out []yamlToken
	for i, raw := range bytes.Split(doc, []byte("\n")) {
		s := strings.TrimRight(string(raw), " \t\r")
		text := strings.TrimLeft(s, " ")
		if text == "" || text[0] == '#' {
			continue
		}
		col := len(s) - len(text)
		for text == "-" || strings.HasPrefix(text, "- ") {
			out = append(out, yamlToken{line: i + 1, indent: col, dash: true})
			rest := strings.TrimLeft(text[1:], " ")
			col += len(text) - len(rest)
			text = rest
		}
		if k, ok := yamlKey(text); ok {
			out = append(out, yamlToken{line: i + 1, indent: col, key: k})
		}
	}
	return out
}

// yamlKey returns the key of a "key: value" or "key:" line, unquoted.
func yamlKey(text string) (string, bool) {
	if text == "" || strings.ContainsRune("{[&*!|>%@`", rune(text[0])) {
		return "", false
	}
	if q := text[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(text[1:], q)
		if end < 0 || !strings.HasPrefix(text[end+2:], ":") {
			return "", false
		}
		return text[1 : end+1], true
	}
	k, _, ok := strings.Cut(text, ":")
	if !ok || strings.Contains(k, " #") {
		return "", false
	}
	rest := text[len(k)+1:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false // a:b is a scalar, not a key
	}
	return strings.TrimSpace(k), true
}

// pathSegment is a key, or an index (key "" and index >= 0).
type pathSegment struct {
	key   string
	index int
}

// pathSegments splits items[1].spec.ports[0].port into its keys and
// indexes.
func pathSegments(path string) []pathSegment {
	var out []pathSegment
	for part := range strings.SplitSeq(path, ".") {
		key, idx, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, pathSegment{key: key, index: -1})
		}
		for idx != "" {
			n, rest, _ := strings.Cut(idx, "]")
			i, err := strconv.Atoi(n)
			if err != nil || i < 0 {
				return out
			}
			out = append(out, pathSegment{index: i})
			idx = strings.TrimPrefix(rest, "[")
		}
	}
	return out
}
