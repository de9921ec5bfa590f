package svcnet

import (
	"encoding/json"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// CarriedSlice reports whether a decoded discovery.k8s.io/v1
// EndpointSlice (service.DecodeAll's *service.EndpointSlice) is one that
// Apply, and the simulator's scenarios, give to ApplyEndpointSlice. Those
// skipped are: one without a kubernetes.io/service-name label (no
// Service's: kube-proxy and CoreDNS ignore it), an FQDN slice (kube-proxy
// ignores it), and, unless external (Config.ExternalSlices), one managed
// by endpoints.DefaultManagedBy, as a `kubectl get -A -o yaml` dump's
// are: the Cluster's controller computes those itself. Any other slice is
// carried, and ApplyEndpointSlice checks it.
func CarriedSlice(in *service.EndpointSlice, external bool) bool {
	if in == nil || in.ServiceName() == "" || in.AddressType == "FQDN" {
		return false
	}
	return external || in.Labels[endpoints.LabelManagedBy] != endpoints.DefaultManagedBy
}

// SliceFromManifest converts a decoded discovery.k8s.io/v1 EndpointSlice
// to the endpoints.Slice ApplyEndpointSlice takes, with what the API
// leaves unset defaulted (DefaultSliceManifest). An address that is no IP
// is an error of the conversion.
func SliceFromManifest(in *service.EndpointSlice) (*endpoints.Slice, error) {
	var m map[string]any
	b, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return nil, err
	}
	DefaultSliceManifest(m)
	var sl endpoints.Slice
	if b, err = json.Marshal(m); err == nil {
		err = json.Unmarshal(b, &sl)
	}
	if err != nil {
		return nil, err
	}
	return &sl, nil
}

// DefaultSliceManifest fills, in the JSON form of a discovery.k8s.io/v1
// EndpointSlice, the endpoint conditions left unset (nil) with what they
// mean (EndpointConditions' API doc, KEP-1672): ready nil is true,
// serving nil is ready, terminating nil is false; and a port's protocol
// with TCP, the API server's default (SetDefaults_EndpointPort).
func DefaultSliceManifest(m map[string]any) {
	eps, _ := m["endpoints"].([]any)
	for _, e := range eps {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		c, ok := em["conditions"].(map[string]any)
		if !ok {
			if em["conditions"] != nil {
				continue // the decode reports it
			}
			c = map[string]any{}
			em["conditions"] = c
		}
		if c["ready"] == nil {
			c["ready"] = true
		}
		if c["serving"] == nil {
			c["serving"] = c["ready"]
		}
		if c["terminating"] == nil {
			c["terminating"] = false
		}
	}
	ports, _ := m["ports"].([]any)
	for _, p := range ports {
		if pm, ok := p.(map[string]any); ok && pm["protocol"] == nil {
			pm["protocol"] = "TCP" // SetDefaults_EndpointPort
		}
	}
}
