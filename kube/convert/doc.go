// Package convert converts between the Kubernetes API types of k8s.io/api
// (core/v1 Service, Pod, Node and Namespace; discovery/v1 EndpointSlice;
// apps/v1 Deployment) and svcnet's own (service.Service, service.Pod,
// service.Node, endpoints.Slice, sim.Deployment), both ways.
//
//	svc, err := convert.ServiceFromKube(kubeSvc) // *corev1.Service → *service.Service
//	_, err = cluster.CreateService(svc)
//	for _, s := range cluster.Slices(svc.Key()) {
//		kubeSlice := convert.SliceToKube(s) // *endpoints.Slice → *discoveryv1.EndpointSlice
//		_ = kubeSlice
//	}
//
// # How
//
// svcnet's object types use Kubernetes' field names and JSON tags (DESIGN:
// "a real manifest decodes into the model"), so Service, Pod, Node,
// Namespace and Deployment convert through their JSON form: what one side
// writes the other reads, field for field, and every field svcnet does not
// model (a pod's volumes, a container's terminationMessagePath, a node's
// status.daemonEndpoints, ...) is carried (service.Carried) and written
// back. The EndpointSlice is converted field by field, because svcnet's
// endpoints.Slice differs in form: addresses are netip.Addr values, and
// conditions, port names, protocols, hostnames, node names and zones are
// plain values, not pointers.
//
// # What is carried
//
// From svcnet to Kubernetes and back an object is unchanged, except that
// timestamps keep whole seconds, as metav1.Time does on the wire (RFC
// 3339, seconds), and that zero values Kubernetes' types always write
// (status: {}, a kubelet port of 0) come back carried. From Kubernetes to
// svcnet and back every field of Service, Pod, Node, Namespace and
// Deployment is kept. Only the EndpointSlice drops fields: the few its
// field-by-field conversion has no place for, listed in NotCarried as JSON
// paths ("endpoints[*].deprecatedTopology"); the package's tests check
// that exactly these change in a round trip of objects with every field
// set, and that each is absent from endpoints.Slice.
//
// For EndpointSlices, Kubernetes' pointer fields are read with the
// meanings discovery/v1's types.go gives nil (EndpointConditions: a nil
// ready or serving is true, a nil terminating false; EndpointPort: a nil
// name is "", a nil protocol TCP), and written back explicitly, as
// Kubernetes' EndpointSlice controller writes them
// (pkg/controller/endpointslice, getEndpointPorts sets name, protocol and
// port of every port). An endpoint's empty hostname, nodeName and zone
// are nil pointers; a port number 0 is a nil port (an EndpointSlice of
// all ports). Only IPv4 and IPv6 slices convert: an FQDN slice, or an
// address that is not an IP of the slice's family, is an *Error naming
// the field and the value.
//
// Conversions never panic on bad input and never return half a result:
// an error comes with a nil object.
package convert
