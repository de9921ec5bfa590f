package portalloc

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxPort is the highest port number.
const MaxPort = 65535

// Range is the inclusive port range Base..Base+Size-1, like Kubernetes'
// k8s.io/apimachinery/pkg/util/net.PortRange behind the API server's
// --service-node-port-range (default 30000-32767). A valid Range has
// 1 <= Base and Base+Size-1 <= 65535 and Size >= 1; the zero Range is
// invalid. Range is a small comparable value.
type Range struct {
	Base int
	Size int
}

// DefaultRange is Kubernetes' default NodePort range, 30000-32767.
var DefaultRange = Range{Base: 30000, Size: 2768}

// ParseRange parses a port range in the notations of Kubernetes'
// PortRange.Set: "min-max" (inclusive), "min+offset" (min to min+offset) or
// a single "port". Surrounding spaces are ignored, as in Kubernetes. Ports
// are decimal, without sign; the result must be valid (see Validate): unlike
// Kubernetes, the empty string and port 0 are rejected, since a NodePort of
// 0 means "none".
func ParseRange(s string) (Range, error) {
	in := s
	s = strings.TrimSpace(s)
	fail := func(format string, args ...any) (Range, error) {
		return Range{}, &Error{Op: "parse range", Value: strconv.Quote(in), Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidRange}, args...)...)}
	}
	if s == "" {
		return fail("empty")
	}
	offset := strings.Index(in, s) // position of s in the input, for messages
	sep := strings.IndexAny(s, "-+")
	lowText, highText := s, ""
	if sep >= 0 {
		lowText, highText = s[:sep], s[sep+1:]
	}
	low, pos, err := parsePort(lowText)
	if err != "" {
		return fail("%s at offset %d", err, offset+pos)
	}
	high := low
	if sep >= 0 {
		n, pos, err := parsePort(highText)
		if err != "" {
			return fail("%s at offset %d", err, offset+sep+1+pos)
		}
		if s[sep] == '+' {
			high = low + n
		} else {
			high = n
		}
	}
	switch {
	case high > MaxPort:
		return fail("the port range cannot be greater than %d", MaxPort)
	case high < low:
		return fail("end port %d is less than start port %d", high, low)
	case low == 0:
		return fail("port 0 is not a valid port")
	}
	return Range{Base: low, Size: high - low + 1}, nil
}

// parsePort parses a decimal number of at most 65535 and returns an error
// message and its position in s on failure.
func parsePort(s string) (n, pos int, msg string) {
	if s == "" {
		return 0, 0, "missing port"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, i, fmt.Sprintf("unexpected character %q", c)
		}
		n = n*10 + int(c-'0')
		if n > MaxPort {
			return 0, 0, fmt.Sprintf("port %s is greater than %d", s, MaxPort)
		}
	}
	return n, 0, ""
}

// MustParseRange is like ParseRange but panics on error. It is meant for
// constants in tests and examples.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// String returns "base-last", which ParseRange parses back to r, or "" for
// a Range of Size 0 (as Kubernetes' PortRange.String).
func (r Range) String() string {
	if r.Size == 0 {
		return ""
	}
	return strconv.Itoa(r.Base) + "-" + strconv.Itoa(r.Base+r.Size-1)
}

// Last returns the last port of r.
func (r Range) Last() int { return r.Base + r.Size - 1 }

// Contains reports whether port is in r.
func (r Range) Contains(port int) bool {
	return port >= r.Base && port-r.Base < r.Size
}

// Validate reports why r cannot back an allocator, or nil.
func (r Range) Validate() error {
	if r.Base >= 1 && r.Size >= 1 && r.Size <= MaxPort && r.Base <= MaxPort-r.Size+1 {
		return nil
	}
	return &Error{Op: "new", Value: fmt.Sprintf("{Base:%d Size:%d}", r.Base, r.Size),
		Err: fmt.Errorf("%w: want 1 <= base <= last <= %d", ErrInvalidRange, MaxPort)}
}

// IsValid reports whether r can back an allocator.
func (r Range) IsValid() bool { return r.Validate() == nil }

// Band sizes of KEP-3668 ("Reserve NodePort ranges for dynamic and static
// allocation"): the lower band of min(max(16, size/32), 128) ports is left
// to static allocation; ranges of 16 ports or fewer have none. This is
// calculateRangeOffset in
// k8s.io/kubernetes/pkg/registry/core/service/portallocator/allocator.go.
const (
	staticMin  = 16
	staticMax  = 128
	staticStep = 32
)

// StaticBand returns the number of ports at the bottom of r that
// AllocateNext uses only when the rest of r is full (KEP-3668).
func (r Range) StaticBand() int {
	if r.Size <= staticMin {
		return 0
	}
	return min(max(staticMin, r.Size/staticStep), staticMax)
}
