package svcnet

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/internal/k8sname"
	"github.com/svcnet/svcnet/service"
)

// Applied EndpointSlices: slices that something other than svcnet's
// endpoints controller computes, given to the Cluster with
// ApplyEndpointSlice and taken back with DeleteEndpointSlice. One set of
// rules, one store, one snapshot:
//
//   - By default the controller computes the slices of every Service
//     with a selector, and an applied slice is one beside them that
//     Kubernetes' EndpointSlice controller would not own: the slices of a
//     Service without a selector (the API server's own for
//     default/kubernetes, or a user's pointing at a database outside the
//     cluster), or those of a controller with its own
//     endpointslice.kubernetes.io/managed-by value (KEP-4770). Kubernetes'
//     controller ignores a slice whose managed-by label is not its own
//     (pkg/controller/endpointslice: managedByController), so a slice
//     labelled endpoints.DefaultManagedBy is refused: the controller
//     computes those itself.
//   - With Config.ExternalSlices the controller does not run, Services,
//     pods and nodes change no slices, and every slice is applied — a
//     real cluster's, whoever manages them (kube/informer's Follow mode).
//
// Either way kube-proxy and CoreDNS consume every slice with a
// kubernetes.io/service-name label (kube-proxy's EndpointSliceCache,
// CoreDNS's kubernetes plugin watch all of them), so the Cluster feeds
// the applied slices to the proxy tables and the DNS like the
// controller's. The ctl* methods below are the only calls of the
// controller.

// ApplyEndpointSlice creates or replaces an applied EndpointSlice
// (discovery.k8s.io/v1) and feeds it to the proxy tables and the DNS,
// also when its Service does not exist yet (they use it once it does). A
// slice whose Service label changed moves to the other Service: the
// Changes hold its deletion from the first, then its creation.
//
// The slice must name its Service with the kubernetes.io/service-name
// label, must have addressType IPv4 or IPv6 (kube-proxy ignores FQDN
// slices) and a valid name, every address must be of that family and
// neither loopback, link-local nor unspecified, a hostname must be a
// DNS-1123 label, a port between 0 and 65535 with protocol TCP, UDP or
// SCTP. Without Config.ExternalSlices it must also not carry the
// controller's managed-by value (endpoints.DefaultManagedBy) nor the name
// of one of the controller's slices. A namespace left empty is "default",
// a port's protocol left empty TCP, as the API server defaults them. A
// bad slice is a *service.ValidationError naming each field and value,
// and changes nothing.
//
// The slice is copied; its TypeMeta is set to discovery.k8s.io/v1
// EndpointSlice. It stays until DeleteEndpointSlice, also when its
// Service is deleted (Kubernetes' garbage collector deletes it only
// through an owner reference, which svcnet does not follow), and
// Snapshot keeps it.
func (c *Cluster) ApplyEndpointSlice(sl *endpoints.Slice) (Changes, error) {
	if sl == nil {
		return Changes{}, nilSliceError()
	}
	s := copySlice(sl)
	defaultSlice(s)
	if err := validateSlice(s, c.cfg.ExternalSlices); err != nil {
		return Changes{}, err
	}
	key := s.Key()
	if _, born := c.sliceBorn[key]; born && c.applied[key] == nil {
		// Only the controller's slices are born and not applied.
		return Changes{}, &service.ValidationError{Kind: "EndpointSlice", Name: key.String(), Errors: service.ErrorList{
			service.Invalid("metadata.name", s.Name, "is the name of a slice the endpoints controller manages")}}
	}
	svc := service.NamespacedName{Namespace: s.Namespace, Name: s.ServiceName()}
	ch := endpoints.Change{Kind: endpoints.Created, Service: svc, Slice: s}
	var out Changes
	if old := c.applied[key]; old != nil {
		if oldSvc := old.ServiceName(); oldSvc != s.ServiceName() {
			// The slice moved to another Service: gone from the first.
			out.Slices = append(out.Slices, endpoints.Change{Kind: endpoints.Deleted,
				Service: service.NamespacedName{Namespace: s.Namespace, Name: oldSvc}, Old: old})
		} else {
			ch = endpoints.Change{Kind: endpoints.Updated, Service: svc, Old: old, Slice: s}
		}
		c.dropApplied(old)
	}
	out.Slices = append(out.Slices, ch)
	c.storeApplied(s)
	return out, c.publish(out)
}

// DeleteEndpointSlice deletes an applied EndpointSlice by namespace ("" is
// default) and name; an unknown one, or one of the controller's, is
// ErrNotFound.
func (c *Cluster) DeleteEndpointSlice(key service.NamespacedName) (Changes, error) {
	if key.Namespace == "" {
		key.Namespace = "default"
	}
	old, ok := c.applied[key]
	if !ok {
		return Changes{}, fmt.Errorf("%w: endpointslice %s", ErrNotFound, key)
	}
	c.dropApplied(old)
	out := Changes{Slices: []endpoints.Change{{Kind: endpoints.Deleted,
		Service: service.NamespacedName{Namespace: key.Namespace, Name: old.ServiceName()}, Old: old}}}
	return out, c.publish(out)
}

// AppliedSlices returns the applied EndpointSlices of a Service
// (ApplyEndpointSlice), sorted by name. Slices returns them too, after
// the controller's.
func (c *Cluster) AppliedSlices(key service.NamespacedName) []*endpoints.Slice {
	m := c.appliedBy[key]
	out := make([]*endpoints.Slice, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[name])
	}
	return out
}

// storeApplied and dropApplied keep the two indexes of the applied
// slices: by namespace and name, and by Service then name.
func (c *Cluster) storeApplied(s *endpoints.Slice) {
	svc := service.NamespacedName{Namespace: s.Namespace, Name: s.ServiceName()}
	if c.appliedBy[svc] == nil {
		c.appliedBy[svc] = map[string]*endpoints.Slice{}
	}
	c.appliedBy[svc][s.Name] = s
	c.applied[s.Key()] = s
}

func (c *Cluster) dropApplied(s *endpoints.Slice) {
	svc := service.NamespacedName{Namespace: s.Namespace, Name: s.ServiceName()}
	delete(c.appliedBy[svc], s.Name)
	if len(c.appliedBy[svc]) == 0 {
		delete(c.appliedBy, svc)
	}
	delete(c.applied, s.Key())
}

// allApplied returns every applied slice, sorted by namespace and name.
func (c *Cluster) allApplied() []*endpoints.Slice {
	keys := slices.SortedFunc(maps.Keys(c.applied), func(a, b service.NamespacedName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	out := make([]*endpoints.Slice, len(keys))
	for i, k := range keys {
		out[i] = c.applied[k]
	}
	return out
}

// appliedChanges returns the creation of a Service's applied slices, for
// a Service (re)created: the proxy table forgets a deleted Service's
// slices.
func (c *Cluster) appliedChanges(key service.NamespacedName) []endpoints.Change {
	var out []endpoints.Change
	for _, sl := range c.AppliedSlices(key) {
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

// defaultSlice sets what the API server defaults: the namespace, and a
// port's protocol (SetDefaults_EndpointPort).
func defaultSlice(s *endpoints.Slice) {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	for i := range s.Ports {
		if s.Ports[i].Protocol == "" {
			s.Ports[i].Protocol = service.ProtocolTCP
		}
	}
}

func nilSliceError() error {
	return &service.ValidationError{Kind: "EndpointSlice", Errors: service.ErrorList{service.Required("", "must not be nil")}}
}

// ValidateEndpointSlice reports whether ApplyEndpointSlice of a Cluster
// without Config.ExternalSlices takes sl (with ExternalSlices, a slice
// managed by endpoints.DefaultManagedBy is taken too), as a
// *service.ValidationError naming each field and value; nil when it
// does. An empty namespace counts as "default", an empty port protocol
// as TCP. It does not know the Cluster's slices, so it cannot check that
// the name is not one of the controller's.
func ValidateEndpointSlice(sl *endpoints.Slice) error {
	if sl == nil {
		return nilSliceError()
	}
	s := sl.DeepCopy()
	defaultSlice(s)
	return validateSlice(s, false)
}

// validateSlice checks a defaulted slice as the API server's
// EndpointSlice validation does for the fields svcnet reads
// (pkg/apis/discovery/validation: ValidateEndpointSlice, validateEndpoints,
// validatePorts; ValidateEndpointIP), and, unless external, that it is one
// the controller does not own.
func validateSlice(s *endpoints.Slice, external bool) error {
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
	if m := s.Labels[endpoints.LabelManagedBy]; m == endpoints.DefaultManagedBy && !external {
		errs = append(errs, service.Invalid("metadata.labels["+endpoints.LabelManagedBy+"]", m,
			"the endpoints controller manages these slices and computes them from the Service and its pods; an applied slice needs another value or none (or the Cluster Config.ExternalSlices)"))
	}
	switch s.AddressType {
	case endpoints.AddressTypeIPv4, endpoints.AddressTypeIPv6:
	case "":
		errs = append(errs, service.Required("addressType", "IPv4 or IPv6"))
	default:
		errs = append(errs, service.Invalid("addressType", string(s.AddressType), "must be IPv4 or IPv6 (kube-proxy ignores FQDN slices)"))
	}
	for i, e := range s.Endpoints {
		if e == nil {
			errs = append(errs, service.Required(fmt.Sprintf("endpoints[%d]", i), "an endpoint, not null"))
			continue
		}
		if len(e.Addresses) == 0 {
			errs = append(errs, service.Required(fmt.Sprintf("endpoints[%d].addresses", i), "at least one address"))
		}
		for j, a := range e.Addresses {
			path := fmt.Sprintf("endpoints[%d].addresses[%d]", i, j)
			switch {
			case !a.IsValid():
				errs = append(errs, service.Required(path, "an IP address"))
			case a.Zone() != "" || a.Is4In6(),
				s.AddressType == endpoints.AddressTypeIPv4 && !a.Is4(),
				s.AddressType == endpoints.AddressTypeIPv6 && !a.Is6():
				errs = append(errs, service.Invalid(path, a.String(), "must be an "+string(s.AddressType)+" address (the slice's addressType), without a zone"))
			case a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified():
				errs = append(errs, service.Invalid(path, a.String(), "may not be loopback, link-local or unspecified (ValidateEndpointIP)"))
			}
		}
		if e.Hostname != "" {
			if msg := k8sname.DNS1123Label(strings.ToLower(e.Hostname)); msg != "" {
				errs = append(errs, service.Invalid(fmt.Sprintf("endpoints[%d].hostname", i), e.Hostname, msg))
			}
		}
	}
	for i, p := range s.Ports {
		if p.Port < 0 || p.Port > 65535 {
			errs = append(errs, service.Invalid(fmt.Sprintf("ports[%d].port", i), p.Port, "must be between 0 and 65535"))
		}
		switch p.Protocol {
		case service.ProtocolTCP, service.ProtocolUDP, service.ProtocolSCTP:
		default:
			errs = append(errs, service.Invalid(fmt.Sprintf("ports[%d].protocol", i), string(p.Protocol), "must be TCP, UDP or SCTP"))
		}
	}
	if err := errs.Err(); err != nil {
		return &service.ValidationError{Kind: "EndpointSlice", Name: s.Namespace + "/" + s.Name, Errors: errs}
	}
	return nil
}

// ctlUpsertNode is the controller's UpsertNode, or nothing with
// Config.ExternalSlices.
func (c *Cluster) ctlUpsertNode(n *service.Node) ([]endpoints.Change, error) {
	if c.cfg.ExternalSlices {
		return nil, nil
	}
	return c.ctl.UpsertNode(n)
}

// ctlDeleteNode is the controller's DeleteNode, or nothing.
func (c *Cluster) ctlDeleteNode(name string) ([]endpoints.Change, error) {
	if c.cfg.ExternalSlices {
		return nil, nil
	}
	return c.ctl.DeleteNode(name)
}

// ctlUpsertPod is the controller's UpsertPod, or nothing.
func (c *Cluster) ctlUpsertPod(p *service.Pod) ([]endpoints.Change, error) {
	if c.cfg.ExternalSlices {
		return nil, nil
	}
	return c.ctl.UpsertPod(p)
}

// ctlDeletePod is the controller's DeletePod, or nothing.
func (c *Cluster) ctlDeletePod(key service.NamespacedName) []endpoints.Change {
	if c.cfg.ExternalSlices {
		return nil
	}
	return c.ctl.DeletePod(key)
}

// ctlUpsertService is the controller's UpsertService, or nothing.
func (c *Cluster) ctlUpsertService(svc *service.Service) ([]endpoints.Change, error) {
	if c.cfg.ExternalSlices {
		return nil, nil
	}
	return c.ctl.UpsertService(svc)
}

// ctlDeleteService is the controller's DeleteService, or nothing: applied
// slices stay until DeleteEndpointSlice, as a real cluster's stay until
// its garbage collector deletes them.
func (c *Cluster) ctlDeleteService(key service.NamespacedName) []endpoints.Change {
	if c.cfg.ExternalSlices {
		return nil
	}
	return c.ctl.DeleteService(key)
}

// ctlSlices is the controller's Slices of a Service, or none.
func (c *Cluster) ctlSlices(key service.NamespacedName) []*endpoints.Slice {
	if c.cfg.ExternalSlices {
		return nil
	}
	return c.ctl.Slices(key)
}
