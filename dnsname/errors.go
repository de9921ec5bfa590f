package dnsname

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error the package returns wraps one of them, so
// errors.Is tells the kind of failure apart.
var (
	// ErrInvalidName: a name, or one part of it, breaks a DNS or
	// Kubernetes naming rule (empty label, label over 63 octets, name
	// over 253, a character that cannot appear, a Service name that is
	// not a DNS-1035 label, ...).
	ErrInvalidName = errors.New("dnsname: invalid name")
	// ErrNotInZone: the name is neither under the cluster zone nor a
	// reverse (in-addr.arpa, ip6.arpa) name.
	ErrNotInZone = errors.New("dnsname: name not in zone")
	// ErrUndefinedName: the name is in the zone but has no shape the
	// Kubernetes DNS specification defines (foo.cluster.local,
	// a.b.c.svc.ns.svc.cluster.local, 0.10.in-addr.arpa).
	ErrUndefinedName = errors.New("dnsname: undefined name")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("dnsname: invalid config")
	// ErrInvalidObject: a Service, slice change or Pod handed to the
	// resolver cannot be turned into DNS records.
	ErrInvalidObject = errors.New("dnsname: invalid object")
	// ErrInvalidResolvConf: a resolv.conf text cannot be parsed.
	ErrInvalidResolvConf = errors.New("dnsname: invalid resolv.conf")
)

// NameError reports a name that Parse or a Validate function rejects.
type NameError struct {
	// Name is the offending name or part, as it was given.
	Name string
	// Problem says what is wrong, as a phrase that follows the quoted
	// name: `is not a valid DNS-1123 label: ...`, `has an empty label at byte 4`.
	Problem string
	// Err is the sentinel: ErrInvalidName, ErrNotInZone or ErrUndefinedName.
	Err error
}

// Error formats as `dnsname: "a..b" has an empty label at byte 2`.
func (e *NameError) Error() string {
	return "dnsname: " + strconv.Quote(e.Name) + " " + e.Problem
}

// Unwrap returns the sentinel, so errors.Is(err, ErrInvalidName) works.
func (e *NameError) Unwrap() error { return e.Err }

func nameErr(sentinel error, name, problem string) *NameError {
	return &NameError{Name: name, Problem: problem, Err: sentinel}
}

// ConfigError says which Config field is invalid, with its value and the
// rule it breaks. It wraps ErrInvalidConfig and, for the zone, the
// *NameError that explains it.
type ConfigError struct {
	Field string // "zone", "ttl" or "pods"
	Value string // the value as given, formatted (`"bad_zone"`, "3601")
	Rule  string // what is wrong with it, as a phrase that follows the value
	Err   error  // the cause, or nil
}

// Error formats the problem as
// `dnsname: invalid config: ttl 3601 is out of range 0-3600`.
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + " " + e.Value + " " + e.Rule
}

// Unwrap returns ErrInvalidConfig and the cause, if any, so that both
// errors.Is(err, ErrInvalidConfig) and, for a bad zone,
// errors.Is(err, ErrInvalidName) hold.
func (e *ConfigError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidConfig}
	}
	return []error{ErrInvalidConfig, e.Err}
}
