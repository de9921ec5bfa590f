package svcnet

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// User-managed EndpointSlices: slices that something other than
// Kubernetes' EndpointSlice controller writes, such as the slices of a
// Service without a selector (the API server's own for
// default/kubernetes, or a user's pointing at a database outside the
// cluster), or those of a controller with its own
// endpointslice.kubernetes.io/managed-by value (KEP-4770). The endpoints
// controller never touches them, as Kubernetes' ignores a slice whose
// managed-by label is not its own; kube-proxy and CoreDNS consume every
// slice with a kubernetes.io/service-name label, so the Cluster feeds
// them to the proxy table and the DNS like the controller's.

// ApplyEndpointSlice creates or replaces a user-managed EndpointSlice
// (discovery.k8s.io/v1) and feeds it to the proxy table and the DNS. The
// slice must name its Service with the kubernetes.io/service-name label,
// must not carry the controller's managed-by value
// (endpoints.DefaultManagedBy: the controller computes those slices
// itself), must have addressType IPv4 or IPv6 (kube-proxy ignores FQDN
// slices), and every address must be of that family. A namespace left
// empty is "default", a port's protocol left empty TCP, as the API
// server defaults them. A bad slice is a *service.ValidationError naming
// each field and value, and changes nothing.
//
// The slice is copied; its TypeMeta is set to discovery.k8s.io/v1
// EndpointSlice. It stays until DeleteEndpointSlice, also when its
// Service is deleted (Kubernetes' garbage collector deletes it only
// through an owner reference, which svcnet does not follow).
func (c *Cluster) ApplyEndpointSlice(sl *endpoints.Slice) (Changes, error) {
	if sl == nil {
		return Changes{}, &service.ValidationError{Kind: "EndpointSlice", Errors: service.ErrorList{service.Required("", "must not be nil")}}
	}
	s := copySlice(sl)
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	for i := range s.Ports {
		if s.Ports[i].Protocol == "" {
			// The API server's default (SetDefaults_EndpointPort).
			s.Ports[i].Protocol = service.ProtocolTCP
		}
	}
	if err := validateUserSlice(s); err != nil {
		return Changes{}, err
	}
	key := service.NamespacedName{Namespace: s.Namespace, Name: s.Name}
	svc := service.NamespacedName{Namespace: s.Namespace, Name: s.ServiceName()}
	old := c.userSlices[key]
	ch := endpoints.Change{Kind: endpoints.Created, Service: svc, Slice: s}
	var out Changes
	if old != nil {
		if oldSvc := old.ServiceName(); oldSvc != s.ServiceName() {
			// The slice moved to another Service: gone from the first.
			out.Slices = append(out.Slices, endpoints.Change{Kind: endpoints.Deleted,
				Service: service.NamespacedName{Namespace: s.Namespace, Name: oldSvc}, Old: old})
		} else {
			ch = endpoints.Change{Kind: endpoints.Updated, Service: svc, Old: old, Slice: s}
		}
	}
	out.Slices = append(out.Slices, ch)
	if c.userSlices == nil {
		c.userSlices = map[service.NamespacedName]*endpoints.Slice{}
	}
	c.userSlices[key] = s
	return out, c.publish(out)
}

// DeleteEndpointSlice deletes a user-managed EndpointSlice by namespace
// and name; an unknown one is ErrNotFound.
func (c *Cluster) DeleteEndpointSlice(key service.NamespacedName) (Changes, error) {
	if key.Namespace == "" {
		key.Namespace = "default"
	}
	old, ok := c.userSlices[key]
	if !ok {
		return Changes{}, fmt.Errorf("%w: endpointslice %s", ErrNotFound, key)
	}
	delete(c.userSlices, key)
	out := Changes{Slices: []endpoints.Change{{Kind: endpoints.Deleted,
		Service: service.NamespacedName{Namespace: key.Namespace, Name: old.ServiceName()}, Old: old}}}
	return out, c.publish(out)
}

// UserSlices returns the user-managed EndpointSlices of a Service, sorted
// by name. Slices returns them too, after the controller's.
func (c *Cluster) UserSlices(key service.NamespacedName) []*endpoints.Slice {
	var out []*endpoints.Slice
	for k, sl := range c.userSlices {
		if k.Namespace == key.Namespace && sl.ServiceName() == key.Name {
			out = append(out, sl)
		}
	}
	slices.SortFunc(out, func(a, b *endpoints.Slice) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// allUserSlices returns every user-managed slice, sorted by namespace and
// name.
func (c *Cluster) allUserSlices() []*endpoints.Slice {
	keys := slices.SortedFunc(maps.Keys(c.userSlices), func(a, b service.NamespacedName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	out := make([]*endpoints.Slice, len(keys))
	for i, k := range keys {
		out[i] = c.userSlices[k]
	}
	return out
}

// userSliceChanges returns the creation of a Service's user-managed
// slices, for a Service (re)created: the proxy table forgets a deleted
// Service's slices.
func (c *Cluster) userSliceChanges(key service.NamespacedName) []endpoints.Change {
	var out []endpoints.Change
	for _, sl := range c.UserSlices(key) {
		out = append(out, endpoints.Change{Kind: endpoints.Created, Service: key, Slice: sl})
	}
	return out
}

var sliceTypeMeta = service.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"}

// copySlice returns a deep copy of sl, its TypeMeta set.
func copySlice(sl *endpoints.Slice) *endpoints.Slice {
	s := sl.DeepCopy()
	s.TypeMeta = sliceTypeMeta
	return s
}

// ValidateEndpointSlice reports whether sl may be a user-managed slice
// (ApplyEndpointSlice's rules), as a *service.ValidationError naming each
// field and value; nil when it may. An empty namespace counts as
// "default".
func ValidateEndpointSlice(sl *endpoints.Slice) error {
	if sl == nil {
		return &service.ValidationError{Kind: "EndpointSlice", Errors: service.ErrorList{service.Required("", "must not be nil")}}
	}
	s := *sl
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	return validateUserSlice(&s)
}

// validateUserSlice checks a user-managed slice as the API server's
// EndpointSlice validation does for the fields svcnet reads
// (pkg/apis/discovery/validation: ValidateEndpointSlice), and that it is
// one the controller does not own.
func validateUserSlice(s *endpoints.Slice) error {
	var errs service.ErrorList
	if s.Name == "" {
		errs = append(errs, service.Required("metadata.name", "name or generateName is required"))
	} else if err := service.ValidateName(service.DNS1123Subdomain, s.Name); err != nil {
		errs = append(errs, service.Invalid("metadata.name", s.Name, err.Error()))
	}
	if s.ServiceName() == "" {
		errs = append(errs, service.Required("metadata.labels["+endpoints.LabelServiceName+"]",
			"names the slice's Service; kube-proxy and CoreDNS ignore a slice without it"))
	}
	if m := s.Labels[endpoints.LabelManagedBy]; m == endpoints.DefaultManagedBy {
		errs = append(errs, service.Invalid("metadata.labels["+endpoints.LabelManagedBy+"]", m,
			"the endpoints controller manages these slices and computes them from the Service and its pods; a user-managed slice needs another value or none"))
	}
	switch s.AddressType {
	case endpoints.AddressTypeIPv4, endpoints.AddressTypeIPv6:
	case "":
		errs = append(errs, service.Required("addressType", "IPv4 or IPv6"))
	default:
		errs = append(errs, service.Invalid("addressType", string(s.AddressType), "must be IPv4 or IPv6 (kube-proxy ignores FQDN slices)"))
	}
	for i, e := range s.Endpoints {
		if len(e.Addresses) == 0 {
			errs = append(errs, service.Required(fmt.Sprintf("endpoints[%d].addresses", i), "at least one address"))
		}
		for j, a := range e.Addresses {
			path := fmt.Sprintf("endpoints[%d].addresses[%d]", i, j)
			switch {
			case !a.IsValid():
				errs = append(errs, service.Required(path, "an IP address"))
			case s.AddressType == endpoints.AddressTypeIPv4 && !a.Unmap().Is4(),
				s.AddressType == endpoints.AddressTypeIPv6 && !a.Is6():
				errs = append(errs, service.Invalid(path, a.String(), "must be an "+string(s.AddressType)+" address (the slice's addressType)"))
			case a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified():
				errs = append(errs, service.Invalid(path, a.String(), "may not be loopback, link-local or unspecified (ValidateEndpointIP)"))
			}
		}
	}
	for i, p := range s.Ports {
		if p.Port < 0 || p.Port > 65535 {
			errs = append(errs, service.Invalid(fmt.Sprintf("ports[%d].port", i), p.Port, "must be between 0 and 65535"))
		}
		switch p.Protocol {
		case "", service.ProtocolTCP, service.ProtocolUDP, service.ProtocolSCTP: // "" is TCP
		default:
			errs = append(errs, service.Invalid(fmt.Sprintf("ports[%d].protocol", i), string(p.Protocol), "must be TCP, UDP or SCTP"))
		}
	}
	if err := errs.Err(); err != nil {
		return &service.ValidationError{Kind: "EndpointSlice", Name: s.Namespace + "/" + s.Name, Errors: errs}
	}
	return nil
}
