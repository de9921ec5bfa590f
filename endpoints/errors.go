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
	// ErrNodeNotFound: a pod names a node the controller does not know;
	// it got no endpoint in a Service (see NodeNotFoundError).
	ErrNodeNotFound = errors.New("endpoints: node not found")
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

// NodeNotFoundError reports a pod left out of one Service's slices
// because the node its spec.nodeName names is not known to the
// controller (never upserted, or deleted). It is Kubernetes' rule: the
// reconciler skips such a pod and returns an error for the Service, so
// that syncService retries it, unless the Service has
// publishNotReadyAddresses, where the endpoint is kept without a zone
// (reconcileByAddressType in k8s.io/endpointslice reconciler.go). The
// pod's endpoint comes when its node is upserted, and goes when the node
// is deleted. It wraps ErrNodeNotFound.
type NodeNotFoundError struct {
	Pod     service.NamespacedName
	Node    string // the pod's spec.nodeName; "" for a pod not scheduled
	Service service.NamespacedName
}

// Error formats the problem as
// `endpoints: node not found: pod default/web-1 skipped for Service default/web: node "n1" not found`.
func (e *NodeNotFoundError) Error() string {
	return ErrNodeNotFound.Error() + ": pod " + e.Pod.String() + " skipped for Service " + e.Service.String() +
		": node " + strconv.Quote(e.Node) + " not found"
}

// Unwrap returns ErrNodeNotFound.
func (e *NodeNotFoundError) Unwrap() error { return ErrNodeNotFound }

// SplitSkips separates the *NodeNotFoundErrors in err (pods left out for
// their node, which the controller reports beside complete slices) from
// the other errors, walking errors.Join trees: skipped lists them in
// order, and rest is what remains (the one error itself when one
// remains, nil when none).
func SplitSkips(err error) (skipped []*NodeNotFoundError, rest error) {
	if err == nil {
		return nil, nil // no closure to allocate on the common path
	}
	var others []error
	var walk func(error)
	walk = func(err error) {
		var nf *NodeNotFoundError
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		default:
			if errors.As(err, &nf) {
				skipped = append(skipped, nf)
				return
			}
			others = append(others, err)
		}
	}
	walk(err)
	if len(others) == 1 {
		return skipped, others[0]
	}
	return skipped, errors.Join(others...)
}
