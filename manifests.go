package svcnet

import (
	"encoding/json"
	"fmt"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
	"sigs.k8s.io/yaml"
)

// The kinds ObjectList writes, in Kubernetes' spelling.
const (
	KindNode          = "Node"
	KindService       = "Service"
	KindEndpointSlice = "EndpointSlice"
	KindPod           = "Pod"
)

// ObjectKinds are the kinds ObjectList writes, in the order it writes
// them when ListOptions.Kinds is empty.
var ObjectKinds = []string{KindNode, KindService, KindEndpointSlice, KindPod}

// ListOptions choose what ObjectList writes.
type ListOptions struct {
	// Kinds are the kinds to write (ObjectKinds' values), in this
	// order; empty means all of ObjectKinds.
	Kinds []string
	// Namespace restricts the namespaced kinds to one namespace; ""
	// means all. Nodes are written whatever it says.
	Namespace string
}

// List is a Kubernetes `v1 List`, as `kubectl get -o yaml` writes one:
// its Items are *service.Node, *service.Service, *endpoints.Slice and
// *service.Pod, each with apiVersion and kind set.
type List struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []any  `json:"items"`
}

// ObjectList returns the cluster's objects as Kubernetes objects that
// `kubectl apply` accepts: Nodes, Services with their status (allocated
// clusterIPs and nodePorts in the spec, load balancer ingress in the
// status), EndpointSlices as discovery.k8s.io/v1 objects (the
// controller's, with the kubernetes.io/service-name and
// endpointslice.kubernetes.io/managed-by labels and the Service as
// controlling owner, as Kubernetes' controller writes them, and the
// user-managed ones as given) and Pods. Each kind is sorted by namespace
// and name. The fields only an API server sets on create (service.ClearSystemFields:
// uid, resourceVersion, generation, creationTimestamp, managedFields, the
// deletion fields, selfLink) are left out, as `kubectl apply` would send them; everything else is written
// under Kubernetes' field names. The objects are copies.
//
// An unknown kind in opts.Kinds is an error naming it.
func (c *Cluster) ObjectList(opts ListOptions) (List, error) {
	kinds := opts.Kinds
	if len(kinds) == 0 {
		kinds = ObjectKinds
	}
	l := List{APIVersion: "v1", Kind: "List", Items: []any{}}
	for i, k := range kinds {
		switch k {
		case KindNode:
			for _, n := range c.Nodes() {
				n.TypeMeta = service.TypeMeta{APIVersion: "v1", Kind: KindNode}
				service.ClearSystemFields(n)
				l.Items = append(l.Items, n)
			}
		case KindService:
			for _, s := range c.Services(opts.Namespace) {
				s.TypeMeta = service.TypeMeta{APIVersion: "v1", Kind: KindService}
				service.ClearSystemFields(s)
				l.Items = append(l.Items, s)
			}
		case KindEndpointSlice:
			for _, svc := range c.Services(opts.Namespace) {
				for _, sl := range c.Slices(svc.Key()) {
					l.Items = append(l.Items, sliceObject(sl))
				}
			}
			// Applied slices of Services that do not exist (yet):
			// kube-proxy keeps them too.
			for _, sl := range c.allApplied() {
				if opts.Namespace != "" && sl.Namespace != opts.Namespace {
					continue
				}
				if _, err := c.reg.Get(sl.Namespace, sl.ServiceName()); err != nil {
					l.Items = append(l.Items, sliceObject(sl))
				}
			}
		case KindPod:
			for _, p := range c.Pods(opts.Namespace) {
				p.TypeMeta = service.TypeMeta{APIVersion: "v1", Kind: KindPod}
				service.ClearSystemFields(p)
				l.Items = append(l.Items, p)
			}
		default:
			return List{}, fmt.Errorf("%w: kinds[%d] %q: want one of %v", ErrInvalidConfig, i, k, ObjectKinds)
		}
	}
	return l, nil
}

// sliceObject is a slice as written: a copy, TypeMeta set, the fields
// the API server sets cleared.
func sliceObject(sl *endpoints.Slice) *endpoints.Slice {
	s := copySlice(sl)
	service.ClearSystemFields(s)
	if s.Endpoints == nil {
		// discovery.k8s.io/v1 requires the list; an empty one is written
		// as [] (the controller's placeholder slice has none).
		s.Endpoints = []*endpoints.Endpoint{}
	}
	if s.Ports == nil {
		s.Ports = []endpoints.Port{}
	}
	return s
}

// JSON returns the List as indented JSON, ending in a newline.
func (l List) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// YAML returns the List as YAML, keys sorted, as kubectl writes it.
func (l List) YAML() ([]byte, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(b)
}
