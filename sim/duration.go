package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that marshals to JSON (and so to YAML
// through sigs.k8s.io/yaml) as a Go duration string, "30s" or "1h0m0s",
// as Kubernetes' metav1.Duration does. It unmarshals from such a string
// or from a number, read as seconds ("30" and 30 both mean 30 s). The
// zero Duration is 0 s.
type Duration time.Duration

// D returns a pointer to d as a Duration, for the optional fields of a
// Scenario written in Go: Delays{MinSyncPeriod: sim.D(2 * time.Second)}.
func D(d time.Duration) *Duration { v := Duration(d); return &v }

// ErrDurationOverflow is wrapped by ParseDuration's error for a duration
// that is well formed but does not fit in a time.Duration (about 292
// years), such as "3000000h" or "1e9h".
var ErrDurationOverflow = errors.New("sim: duration too long")

// ParseDuration parses a Go duration string ("1m30s") or a number of
// seconds ("90", "0.5"). A duration too long for a time.Duration is an
// ErrDurationOverflow.
func ParseDuration(s string) (Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return Duration(d), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && f == f && math.Abs(f) <= maxSeconds {
		return Duration(f * 1e9), nil
	}
	if durationOverflows(s) {
		return 0, fmt.Errorf("%w: %q is more than %v", ErrDurationOverflow, s, time.Duration(math.MaxInt64))
	}
	return 0, fmt.Errorf("sim: invalid duration %q: want a Go duration such as \"30s\" or a number of seconds", s)
}

// maxSeconds is the longest time.Duration, in seconds.
const maxSeconds = float64(math.MaxInt64) / 1e9

// durationOverflows reports whether s is a number of seconds, or a number
// with a single unit ("1e9h"), whose value is beyond maxSeconds.
func durationOverflows(s string) bool {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"h", 3600}, {"m", 60}, {"ms", 1e-3}, {"s", 1}, {"", 1}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			if f, err := strconv.ParseFloat(num, 64); err == nil {
				return math.Abs(f*u.scale) > maxSeconds
			}
		}
	}
	return false
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the duration as time.Duration prints it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// or returns *p, or def when p is nil.
func or(p *Duration, def time.Duration) time.Duration {
	if p == nil {
		return def
	}
	return time.Duration(*p)
}
