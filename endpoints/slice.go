package endpoints

import (
	"net/netip"
	"slices"

	"github.com/svcnet/svcnet/service"
)

// AddressType is the IP family of a slice's addresses.
type AddressType string

// The address types svcnet produces. (Kubernetes also defines FQDN, which
// its controller never writes.)
const (
	AddressTypeIPv4 AddressType = "IPv4"
	AddressTypeIPv6 AddressType = "IPv6"
)

// Well-known slice labels (discovery.k8s.io/v1).
const (
	// LabelServiceName names the Service a slice belongs to.
	LabelServiceName = "kubernetes.io/service-name"
	// LabelManagedBy names the controller that manages a slice.
	LabelManagedBy = "endpointslice.kubernetes.io/managed-by"
	// DefaultManagedBy is the managed-by value of Kubernetes' own controller.
	DefaultManagedBy = "endpointslice-controller.k8s.io"
)

// Slice is an EndpointSlice (discovery.k8s.io/v1): a set of endpoints of
// one Service, one address family and one port set. Name, namespace,
// labels and generation live in the embedded metadata.
//
// A *Slice handed out by a Controller is immutable, and so is every
// *Endpoint it holds: an update produces a new Slice, so consumers may
// keep and share the pointers they receive without copying. Do not
// modify one, nor an endpoint of it.
//
// Endpoints holds pointers so that versions of a slice share what did
// not change: a new version has a new list (8 bytes per endpoint) but
// points at the same Endpoint values as the old one, except where an
// endpoint changed, was added or moved. A consumer comparing two
// versions may take an equal pointer at the same position for an
// unchanged endpoint (the converse does not hold: an endpoint made
// again can be equal to the old one at a new address). A nil element is
// invalid; the controller never writes one.
type Slice struct {
	service.TypeMeta   `json:",inline"`
	service.ObjectMeta `json:"metadata,omitempty"`
	AddressType        AddressType `json:"addressType"`
	Endpoints          []*Endpoint `json:"endpoints"`
	Ports              []Port      `json:"ports"`
}

// ServiceName returns the name of the Service the slice belongs to (its
// kubernetes.io/service-name label).
func (s *Slice) ServiceName() string { return s.Labels[LabelServiceName] }

// Meta returns the slice's metadata (service.Object).
func (s *Slice) Meta() *service.ObjectMeta { return &s.ObjectMeta }

// GroupVersionKind returns "discovery.k8s.io/v1", "EndpointSlice"
// (service.Object).
func (s *Slice) GroupVersionKind() (string, string) { return "discovery.k8s.io/v1", "EndpointSlice" }

// Endpoint is one backend of a slice: a pod's address for the slice's
// family, its conditions and where it runs.
type Endpoint struct {
	// Addresses holds the pod's IP of the slice's family (Kubernetes
	// allows several; consumers use the first).
	Addresses  []netip.Addr `json:"addresses"`
	Conditions Conditions   `json:"conditions"`
	// Hostname is set when the pod's spec.hostname is set and its
	// spec.subdomain equals the Service's name.
	Hostname  string           `json:"hostname,omitempty"`
	TargetRef *ObjectReference `json:"targetRef,omitempty"`
	NodeName  string           `json:"nodeName,omitempty"`
	// Zone is the topology.kubernetes.io/zone label of the pod's node.
	Zone  string `json:"zone,omitempty"`
	Hints *Hints `json:"hints,omitempty"`
}

// Address returns the endpoint's first address, or the zero Addr.
func (e *Endpoint) Address() netip.Addr {
	if len(e.Addresses) == 0 {
		return netip.Addr{}
	}
	return e.Addresses[0]
}

// Conditions are an endpoint's conditions (KEP-1672):
//
//   - Serving: the pod passes its readiness checks (its Ready condition),
//     whether or not it is terminating;
//   - Terminating: the pod has a deletion timestamp;
//   - Ready: Serving and not Terminating, or the Service publishes
//     not-ready addresses.
type Conditions struct {
	Ready       bool `json:"ready"`
	Serving     bool `json:"serving"`
	Terminating bool `json:"terminating"`
}

// ObjectReference points at the pod behind an endpoint.
type ObjectReference struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
}

// Hints tell consumers where an endpoint should preferably be used
// (topology-aware routing, KEP-2433 and KEP-4444).
type Hints struct {
	ForZones []ForZone `json:"forZones,omitempty"`
	ForNodes []ForNode `json:"forNodes,omitempty"`
}

// ForZone names a zone an endpoint is hinted for.
type ForZone struct {
	Name string `json:"name"`
}

// ForNode names a node an endpoint is hinted for.
type ForNode struct {
	Name string `json:"name"`
}

// Port is one port of a slice: the Service port's name and protocol, and
// the pod port the endpoints listen on (the resolved targetPort).
type Port struct {
	Name        string           `json:"name"`
	Protocol    service.Protocol `json:"protocol"`
	Port        int32            `json:"port"`
	AppProtocol *string          `json:"appProtocol,omitempty"`
}

// ChangeKind says what happened to a slice.
type ChangeKind uint8

// The kinds of slice change.
const (
	// Created: a new slice; Change.Slice is it.
	Created ChangeKind = iota + 1
	// Updated: a slice changed; Change.Old is what it was, Change.Slice what it is.
	Updated
	// Deleted: a slice is gone; Change.Old is what it was.
	Deleted
)

// String returns "created", "updated" or "deleted".
func (k ChangeKind) String() string {
	switch k {
	case Created:
		return "created"
	case Updated:
		return "updated"
	case Deleted:
		return "deleted"
	}
	return "ChangeKind(?)"
}

// Change is one slice write a controller input caused. Slice.Generation
// increases with every update of the same slice.
type Change struct {
	Kind ChangeKind
	// Service is the namespace and name of the slice's Service.
	Service service.NamespacedName
	// Old is the slice before the change (nil for Created).
	Old *Slice
	// Slice is the slice after the change (nil for Deleted).
	Slice *Slice
}

// DeepCopy returns a copy of s that shares nothing with it; nil lists
// stay nil.
func (s *Slice) DeepCopy() *Slice {
	n := &Slice{TypeMeta: s.TypeMeta, ObjectMeta: s.ObjectMeta.DeepCopy(), AddressType: s.AddressType}
	if s.Endpoints != nil {
		n.Endpoints = make([]*Endpoint, len(s.Endpoints))
	}
	for i, ep := range s.Endpoints {
		if ep == nil {
			continue
		}
		e := *ep
		e.Addresses = slices.Clone(e.Addresses)
		if e.TargetRef != nil {
			r := *e.TargetRef
			e.TargetRef = &r
		}
		if e.Hints != nil {
			e.Hints = &Hints{ForZones: slices.Clone(e.Hints.ForZones), ForNodes: slices.Clone(e.Hints.ForNodes)}
		}
		n.Endpoints[i] = &e
	}
	if s.Ports != nil {
		n.Ports = make([]Port, len(s.Ports))
	}
	for i, p := range s.Ports {
		if p.AppProtocol != nil {
			v := *p.AppProtocol
			p.AppProtocol = &v
		}
		n.Ports[i] = p
	}
	return n
}
