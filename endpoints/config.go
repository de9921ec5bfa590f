package endpoints

import (
	"strconv"

	"github.com/svcnet/svcnet/internal/k8sname"
)

// Limits of Config.MaxEndpointsPerSlice, as kube-controller-manager
// enforces them on --max-endpoints-per-slice
// (EndpointSliceControllerOptions.Validate: between 1 and 1000), and its
// default.
const (
	DefaultMaxEndpointsPerSlice = 100
	MinMaxEndpointsPerSlice     = 1
	MaxMaxEndpointsPerSlice     = 1000
)

// Config configures a Controller. The zero Config is valid and behaves
// like kube-controller-manager 1.37 with its defaults: 100 endpoints per
// slice, slices managed by DefaultManagedBy, spec.trafficDistribution
// honoured for PreferClose, PreferSameZone and PreferSameNode.
type Config struct {
	// MaxEndpointsPerSlice caps the endpoints of one slice: 1 to 1000,
	// or 0 for DefaultMaxEndpointsPerSlice (100).
	MaxEndpointsPerSlice int
	// ManagedBy is the endpointslice.kubernetes.io/managed-by label of
	// every slice the controller writes: a valid label value, or "" for
	// DefaultManagedBy.
	ManagedBy string
	// Topology says which topology hints the controller writes.
	Topology Topology
}

// Topology configures the hints of endpoints (KEP-4444, traffic
// distribution). The zero value follows Kubernetes 1.37, where the
// PreferSameTrafficDistribution feature gate is GA and locked on.
type Topology struct {
	// IgnoreTrafficDistribution makes the controller write no hints at
	// all, whatever a Service's spec.trafficDistribution says (Kubernetes
	// before 1.31, without the ServiceTrafficDistribution gate).
	IgnoreTrafficDistribution bool
	// PreferCloseOnly honours only PreferClose, and writes no hints for
	// PreferSameZone and PreferSameNode: Kubernetes with the
	// PreferSameTrafficDistribution gate off (1.33 and earlier).
	PreferCloseOnly bool
}

// Validate reports whether c is usable: nil, or a *ConfigError naming the
// field, the bad value and the rule (errors.Is(err, ErrInvalidConfig)).
func (c Config) Validate() error {
	if n := c.MaxEndpointsPerSlice; n != 0 && (n < MinMaxEndpointsPerSlice || n > MaxMaxEndpointsPerSlice) {
		return &ConfigError{Field: "MaxEndpointsPerSlice", Value: strconv.Itoa(n),
			Rule: "must be between " + strconv.Itoa(MinMaxEndpointsPerSlice) + " and " + strconv.Itoa(MaxMaxEndpointsPerSlice) + ", inclusive (0 for the default 100)"}
	}
	if c.ManagedBy != "" {
		if msg := k8sname.LabelValue(c.ManagedBy); msg != "" {
			return &ConfigError{Field: "ManagedBy", Value: strconv.Quote(c.ManagedBy), Rule: "label value " + msg}
		}
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxEndpointsPerSlice == 0 {
		c.MaxEndpointsPerSlice = DefaultMaxEndpointsPerSlice
	}
	if c.ManagedBy == "" {
		c.ManagedBy = DefaultManagedBy
	}
	return c
}
