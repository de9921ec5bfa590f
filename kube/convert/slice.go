package convert

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// SliceFromKube returns svcnet's form of a discovery/v1 EndpointSlice.
// Nil pointers read as discovery/v1 says (a nil ready or serving is true,
// a nil terminating false, a nil port name "", a nil protocol TCP, a nil
// port 0). An FQDN slice, an address that is not an IP of the slice's
// family, or metadata that does not convert is an *Error.
func SliceFromKube(in *discoveryv1.EndpointSlice) (*endpoints.Slice, error) {
	if in == nil {
		return nil, &Error{Kind: "EndpointSlice", Reason: "nil EndpointSlice"}
	}
	name := key(in.Namespace, in.Name)
	bad := func(field, value, reason string) error {
		return &Error{Kind: "EndpointSlice", Name: name, Field: field, Value: value, Reason: reason}
	}
	out := &endpoints.Slice{TypeMeta: service.TypeMeta{APIVersion: in.APIVersion, Kind: in.Kind}}
	if err := viaJSON("EndpointSlice", name, &in.ObjectMeta, &out.ObjectMeta); err != nil {
		return nil, err
	}
	var v6 bool
	switch in.AddressType {
	case discoveryv1.AddressTypeIPv4:
	case discoveryv1.AddressTypeIPv6:
		v6 = true
	default:
		return nil, bad("addressType", string(in.AddressType), "svcnet takes IPv4 and IPv6 slices only")
	}
	out.AddressType = endpoints.AddressType(in.AddressType)
	if in.Endpoints != nil {
		out.Endpoints = make([]*endpoints.Endpoint, len(in.Endpoints))
	}
	// One array backs the slice's endpoints; Slice.Endpoints points into it.
	vals := make([]endpoints.Endpoint, len(in.Endpoints))
	for i, e := range in.Endpoints {
		o := &vals[i]
		out.Endpoints[i] = o
		if e.Addresses != nil {
			o.Addresses = make([]netip.Addr, len(e.Addresses))
		}
		for j, s := range e.Addresses {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" || a.Is6() != v6 {
				return nil, bad(fmt.Sprintf("endpoints[%d].addresses[%d]", i, j), s, "not an "+string(in.AddressType)+" address")
			}
			o.Addresses[j] = a
		}
		// discovery/v1 EndpointConditions: nil ready and serving are
		// true, nil terminating false.
		o.Conditions = endpoints.Conditions{
			Ready:       e.Conditions.Ready == nil || *e.Conditions.Ready,
			Serving:     e.Conditions.Serving == nil || *e.Conditions.Serving,
			Terminating: e.Conditions.Terminating != nil && *e.Conditions.Terminating,
		}
		o.Hostname, o.NodeName, o.Zone = deref(e.Hostname), deref(e.NodeName), deref(e.Zone)
		if r := e.TargetRef; r != nil {
			o.TargetRef = &endpoints.ObjectReference{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, UID: string(r.UID)}
		}
		if h := e.Hints; h != nil {
			o.Hints = &endpoints.Hints{}
			for _, z := range h.ForZones {
				o.Hints.ForZones = append(o.Hints.ForZones, endpoints.ForZone{Name: z.Name})
			}
			for _, n := range h.ForNodes {
				o.Hints.ForNodes = append(o.Hints.ForNodes, endpoints.ForNode{Name: n.Name})
			}
		}
	}
	if in.Ports != nil {
		out.Ports = make([]endpoints.Port, len(in.Ports))
	}
	for i, p := range in.Ports {
		o := &out.Ports[i]
		o.Name = deref(p.Name)
		o.Protocol = service.ProtocolTCP
		if p.Protocol != nil {
			o.Protocol = service.Protocol(*p.Protocol)
		}
		if p.Port != nil {
			o.Port = *p.Port
		}
		o.AppProtocol = clonePtr(p.AppProtocol)
	}
	return out, nil
}

// SliceToKube returns the discovery/v1 form of a svcnet slice, with
// apiVersion discovery.k8s.io/v1 and kind EndpointSlice set, every
// condition and every port's name, protocol and number written out
// (a port 0 as a nil port), and empty hostnames, node names and zones as
// nil. It cannot fail: metadata that does not encode (it always does)
// is left empty.
func SliceToKube(in *endpoints.Slice) *discoveryv1.EndpointSlice {
	if in == nil {
		return nil
	}
	out := &discoveryv1.EndpointSlice{
		TypeMeta:    metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		AddressType: discoveryv1.AddressType(in.AddressType),
	}
	// ObjectMeta has the same JSON on both sides; it encodes always.
	_ = viaJSON("EndpointSlice", key(in.Namespace, in.Name), &in.ObjectMeta, &out.ObjectMeta)
	if in.Endpoints != nil {
		out.Endpoints = make([]discoveryv1.Endpoint, len(in.Endpoints))
	}
	for i, e := range in.Endpoints {
		if e == nil {
			continue // invalid in a svcnet slice; written as an empty endpoint
		}
		o := &out.Endpoints[i]
		if e.Addresses != nil {
			o.Addresses = make([]string, len(e.Addresses))
		}
		for j, a := range e.Addresses {
			o.Addresses[j] = a.String()
		}
		o.Conditions = discoveryv1.EndpointConditions{
			Ready: ptr(e.Conditions.Ready), Serving: ptr(e.Conditions.Serving), Terminating: ptr(e.Conditions.Terminating),
		}
		o.Hostname, o.NodeName, o.Zone = nonEmpty(e.Hostname), nonEmpty(e.NodeName), nonEmpty(e.Zone)
		if r := e.TargetRef; r != nil {
			o.TargetRef = &corev1.ObjectReference{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, UID: types.UID(r.UID)}
		}
		if h := e.Hints; h != nil {
			o.Hints = &discoveryv1.EndpointHints{}
			for _, z := range h.ForZones {
				o.Hints.ForZones = append(o.Hints.ForZones, discoveryv1.ForZone{Name: z.Name})
			}
			for _, n := range h.ForNodes {
				o.Hints.ForNodes = append(o.Hints.ForNodes, discoveryv1.ForNode{Name: n.Name})
			}
		}
	}
	if in.Ports != nil {
		out.Ports = make([]discoveryv1.EndpointPort, len(in.Ports))
	}
	for i, p := range in.Ports {
		o := &out.Ports[i]
		o.Name = ptr(p.Name)
		proto := corev1.Protocol(p.Protocol)
		o.Protocol = &proto
		if p.Port != 0 {
			o.Port = ptr(p.Port)
		}
		o.AppProtocol = clonePtr(p.AppProtocol)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
