package service

import (
	"maps"
	"slices"
)

// Namespace is a Kubernetes v1 Namespace: its name, labels and phase
// matter to svcnet (a dump lists the namespaces its objects live in);
// everything else of a real Namespace is carried (see Carried).
type Namespace struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       NamespaceSpec   `json:"spec,omitzero"`
	Status     NamespaceStatus `json:"status,omitzero"`
}

// NamespaceSpec is a Namespace's spec: its finalizers.
type NamespaceSpec struct {
	Finalizers []string `json:"finalizers,omitempty"`
}

// NamespaceStatus is a Namespace's status: Active or Terminating; its
// conditions are carried.
type NamespaceStatus struct {
	Phase string `json:"phase,omitempty"`
}

// Meta returns the Namespace's metadata.
func (n *Namespace) Meta() *ObjectMeta { return &n.ObjectMeta }

// GroupVersionKind returns "v1", "Namespace".
func (n *Namespace) GroupVersionKind() (string, string) { return "v1", "Namespace" }

// EndpointSlice is a discovery.k8s.io/v1 EndpointSlice as a manifest or
// a dump holds it, with every field of the API type (addresses as the
// strings they are: an FQDN slice's are names). It is the input form:
// package endpoints' Slice is what svcnet's own controller computes, and
// a decoded EndpointSlice is compared with it, or carried as it is for a
// Service whose slices another controller (or a user) manages.
type EndpointSlice struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	// AddressType is IPv4, IPv6 or FQDN.
	AddressType string                  `json:"addressType"`
	Endpoints   []EndpointSliceEndpoint `json:"endpoints"`
	Ports       []EndpointSlicePort     `json:"ports"`
}

// EndpointSliceEndpoint is one endpoint of a slice.
type EndpointSliceEndpoint struct {
	Addresses          []string           `json:"addresses"`
	Conditions         EndpointConditions `json:"conditions,omitzero"`
	Hostname           *string            `json:"hostname,omitempty"`
	TargetRef          *ObjectReference   `json:"targetRef,omitempty"`
	DeprecatedTopology map[string]string  `json:"deprecatedTopology,omitempty"`
	NodeName           *string            `json:"nodeName,omitempty"`
	Zone               *string            `json:"zone,omitempty"`
	Hints              *EndpointHints     `json:"hints,omitempty"`
}

// EndpointConditions are an endpoint's ready, serving and terminating
// conditions; nil is unknown (KEP-1672).
type EndpointConditions struct {
	Ready       *bool `json:"ready,omitempty"`
	Serving     *bool `json:"serving,omitempty"`
	Terminating *bool `json:"terminating,omitempty"`
}

// EndpointHints are topology-aware routing hints (KEP-2433, KEP-3015).
type EndpointHints struct {
	ForZones []ForZone `json:"forZones,omitempty"`
	ForNodes []ForNode `json:"forNodes,omitempty"`
}

// ForZone names a zone an endpoint is a hint for.
type ForZone struct {
	Name string `json:"name"`
}

// ForNode names a node an endpoint is a hint for.
type ForNode struct {
	Name string `json:"name"`
}

// EndpointSlicePort is one port of a slice; nil name and port are
// "unset", as in discovery/v1.
type EndpointSlicePort struct {
	Name        *string   `json:"name,omitempty"`
	Protocol    *Protocol `json:"protocol,omitempty"`
	Port        *int32    `json:"port,omitempty"`
	AppProtocol *string   `json:"appProtocol,omitempty"`
}

// ObjectReference is a v1 ObjectReference: a slice endpoint's targetRef.
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}

// Meta returns the EndpointSlice's metadata.
func (s *EndpointSlice) Meta() *ObjectMeta { return &s.ObjectMeta }

// GroupVersionKind returns "discovery.k8s.io/v1", "EndpointSlice".
func (s *EndpointSlice) GroupVersionKind() (string, string) {
	return "discovery.k8s.io/v1", "EndpointSlice"
}

// ServiceName returns the slice's kubernetes.io/service-name label.
func (s *EndpointSlice) ServiceName() string { return s.Labels["kubernetes.io/service-name"] }

// DeepCopy returns a copy of s that shares no memory with it (what it
// carries is immutable and shared); nil gives nil.
func (s *EndpointSlice) DeepCopy() *EndpointSlice {
	if s == nil {
		return nil
	}
	c := *s
	c.ObjectMeta = s.ObjectMeta.DeepCopy()
	if s.Endpoints != nil {
		c.Endpoints = make([]EndpointSliceEndpoint, len(s.Endpoints))
		for i, e := range s.Endpoints {
			e.Addresses = slices.Clone(e.Addresses)
			e.Conditions = EndpointConditions{clonePtr(e.Conditions.Ready), clonePtr(e.Conditions.Serving), clonePtr(e.Conditions.Terminating)}
			e.Hostname = clonePtr(e.Hostname)
			e.TargetRef = clonePtr(e.TargetRef)
			e.DeprecatedTopology = maps.Clone(e.DeprecatedTopology)
			e.NodeName = clonePtr(e.NodeName)
			e.Zone = clonePtr(e.Zone)
			if e.Hints != nil {
				e.Hints = &EndpointHints{ForZones: slices.Clone(e.Hints.ForZones), ForNodes: slices.Clone(e.Hints.ForNodes)}
			}
			c.Endpoints[i] = e
		}
	}
	if s.Ports != nil {
		c.Ports = make([]EndpointSlicePort, len(s.Ports))
		for i, p := range s.Ports {
			c.Ports[i] = EndpointSlicePort{clonePtr(p.Name), clonePtr(p.Protocol), clonePtr(p.Port), clonePtr(p.AppProtocol)}
		}
	}
	return &c
}

// DeepCopy returns a copy of n that shares no memory with it; nil gives nil.
func (n *Namespace) DeepCopy() *Namespace {
	if n == nil {
		return nil
	}
	c := *n
	c.ObjectMeta = n.ObjectMeta.DeepCopy()
	c.Spec.Finalizers = slices.Clone(n.Spec.Finalizers)
	return &c
}
