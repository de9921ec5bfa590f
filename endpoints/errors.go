package endpoints

import (
	"errors"
	"strconv"

	"github.com/svcnet/svcnet/service"
)

// Sentinel errors, wrapped by the typed errors below: check them with
// errors.Is.
var (
	// ErrInvalidConfig: a Config field is out of range (see Config.Validate).
	ErrInvalidConfig = errors.New("endpoints: invalid config")
	// ErrInvalidObject: an input is nil or has no name; the controller
	// ignored it.
	ErrInvalidObject = errors.New("endpoints: invalid object")
	// ErrEndpointIP: a pod IP that Kubernetes' endpoint validation rejects
	// (unparsable, unspecified, loopback, link-local); the pod was left
	// out of every slice.
	ErrEndpointIP = errors.New("endpoints: invalid endpoint IP")
)

// ConfigError says which Config field is invalid, with its value and the
// rule it breaks. It wraps ErrInvalidConfig.
type ConfigError struct {
	Field string // "MaxEndpointsPerSlice"
	Value string // the value, formatted ("1001", `"bad value!"`)
	Rule  string
}

// Error formats the problem as
// `endpoints: invalid config: MaxEndpointsPerSlice 1001: must be between 1 and 1000, ...`.
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + " " + e.Value + ": " + e.Rule
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// ObjectError says an input object was rejected before it reached the
// controller's state. It wraps ErrInvalidObject.
type ObjectError struct {
	Kind string // "Service", "Pod" or "Node"
	Name string // namespace/name as given, possibly empty
	Rule string
}

// Error formats the problem as `endpoints: invalid object: Pod "default/": name is required`.
func (e *ObjectError) Error() string {
	return ErrInvalidObject.Error() + ": " + e.Kind + " " + strconv.Quote(e.Name) + ": " + e.Rule
}

// Unwrap returns ErrInvalidObject.
func (e *ObjectError) Unwrap() error { return ErrInvalidObject }

// SkippedPodError reports a pod left out of every slice because one of
// its IPs may not be an endpoint (Kubernetes' ValidateEndpointIP, the
// loopback and link-local rules closing CVE-2021-25737). Kubernetes'
// controller would write the address and have the whole slice rejected
// by the API server; svcnet leaves the pod out and says so. It wraps
// ErrEndpointIP.
type SkippedPodError struct {
	Pod  service.NamespacedName
	IP   string
	Rule string
}

// Error formats the problem as
// `endpoints: invalid endpoint IP: pod default/web-1 skipped: IP "127.0.0.1": may not be in the loopback range ...`.
func (e *SkippedPodError) Error() string {
	return ErrEndpointIP.Error() + ": pod " + e.Pod.String() + " skipped: IP " + strconv.Quote(e.IP) + ": " + e.Rule
}

// Unwrap returns ErrEndpointIP.
func (e *SkippedPodError) Unwrap() error { return ErrEndpointIP }
