package svcnet

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/internal/k8sname"
	"github.com/svcnet/svcnet/service"
)

// External EndpointSlices (Config.ExternalSlices): the Cluster follows
// slices computed elsewhere — a real cluster's, through kube/informer —
// instead of running its endpoints controller. The ctl* methods below are
// the only calls of the controller; with ExternalSlices they change no
// slices, and ApplySlice and DeleteSlice do.

// ctlUpsertNode is the controller's UpsertNode, or nothing.
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

// ctlUpsertService is the controller's UpsertService; with external
// slices, a Service just created gets the slices already applied for it
// (the proxy table drops a Service's slices with it), as Created changes.
func (c *Cluster) ctlUpsertService(svc *service.Service, created bool) ([]endpoints.Change, error) {
	if !c.cfg.ExternalSlices {
		return c.ctl.UpsertService(svc)
	}
	if !created {
		return nil, nil
	}
	key := svc.Key()
	var out []endpoints.Change
	for _, s := range c.Slices(key) {
		out = append(out, endpoints.Change{Kind: endpoints.Created, Service: key, Slice: s})
	}
	return out, nil
}

// ctlDeleteService is the controller's DeleteService; external slices
// stay until DeleteSlice, as a real cluster's stay until its garbage
// collector deletes them.
func (c *Cluster) ctlDeleteService(key service.NamespacedName) []endpoints.Change {
	if c.cfg.ExternalSlices {
		return nil
	}
	return c.ctl.DeleteService(key)
}

// ctlSlices is the controller's Slices, or the external slices of a
// Service sorted by name.
func (c *Cluster) ctlSlices(key service.NamespacedName) []*endpoints.Slice {
	if !c.cfg.ExternalSlices {
		return c.ctl.Slices(key)
	}
	m := c.ext[key]
	out := make([]*endpoints.Slice, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[name])
	}
	return out
}

// ApplySlice adds or replaces an EndpointSlice computed outside the
// Cluster (Config.ExternalSlices): its Service is its
// kubernetes.io/service-name label, in its namespace ("" means default).
// The Cluster keeps a copy; the proxy tables and the DNS follow it like
// a slice of the Cluster's own controller, also when the Service does not
// exist yet (they use it once it does). A slice that moves to another
// Service (its label changed) leaves the old one.
//
// A slice that svcnet cannot serve from is a *service.ValidationError
// naming each bad field, and changes nothing: no name, no Service label,
// an address type other than IPv4 or IPv6, an address that is not an IP
// of that family, a hostname that is not a DNS-1123 label, a port
// protocol other than TCP, UDP or SCTP. Without Config.ExternalSlices,
// ApplySlice is an ErrInvalidConfig.
func (c *Cluster) ApplySlice(s *endpoints.Slice) (Changes, error) {
	if !c.cfg.ExternalSlices {
		return Changes{}, fmt.Errorf("%w: ApplySlice needs Config.ExternalSlices", ErrInvalidConfig)
	}
	if s == nil {
		return Changes{}, &service.ValidationError{Kind: "EndpointSlice", Errors: service.ErrorList{service.Required("", "a slice")}}
	}
	n := s.DeepCopy()
	if n.Namespace == "" {
		n.Namespace = "default"
	}
	if err := validateExternal(n); err != nil {
		return Changes{}, err
	}
	key := service.NamespacedName{Namespace: n.Namespace, Name: n.ServiceName()}
	name := service.NamespacedName{Namespace: n.Namespace, Name: n.Name}
	var ch Changes
	old, had := c.extOwner[name]
	switch {
	case had && old == key:
		ch.Slices = append(ch.Slices, endpoints.Change{Kind: endpoints.Updated, Service: key, Old: c.ext[key][n.Name], Slice: n})
	case had:
		ch.Slices = append(ch.Slices, endpoints.Change{Kind: endpoints.Deleted, Service: old, Old: c.ext[old][n.Name]})
		c.dropExt(old, n.Name)
		fallthrough
	default:
		ch.Slices = append(ch.Slices, endpoints.Change{Kind: endpoints.Created, Service: key, Slice: n})
	}
	if c.ext[key] == nil {
		c.ext[key] = map[string]*endpoints.Slice{}
	}
	c.ext[key][n.Name] = n
	c.extOwner[name] = key
	return ch, c.publish(ch)
}

// DeleteSlice removes an external slice by its namespace and name; an
// unknown slice is an ErrNotFound. Without Config.ExternalSlices it is an
// ErrInvalidConfig.
func (c *Cluster) DeleteSlice(name service.NamespacedName) (Changes, error) {
	if !c.cfg.ExternalSlices {
		return Changes{}, fmt.Errorf("%w: DeleteSlice needs Config.ExternalSlices", ErrInvalidConfig)
	}
	if name.Namespace == "" {
		name.Namespace = "default"
	}
	key, ok := c.extOwner[name]
	if !ok {
		return Changes{}, fmt.Errorf("%w: EndpointSlice %s", ErrNotFound, name)
	}
	ch := Changes{Slices: []endpoints.Change{{Kind: endpoints.Deleted, Service: key, Old: c.ext[key][name.Name]}}}
	c.dropExt(key, name.Name)
	return ch, c.publish(ch)
}

func (c *Cluster) dropExt(key service.NamespacedName, name string) {
	delete(c.ext[key], name)
	if len(c.ext[key]) == 0 {
		delete(c.ext, key)
	}
	delete(c.extOwner, service.NamespacedName{Namespace: key.Namespace, Name: name})
}

// validateExternal checks what the proxy tables and the DNS rely on.
func validateExternal(s *endpoints.Slice) error {
	var errs service.ErrorList
	if s.Name == "" {
		errs = append(errs, service.Required("metadata.name", "a slice needs a name"))
	}
	if s.ServiceName() == "" {
		errs = append(errs, service.Required("metadata.labels["+endpoints.LabelServiceName+"]", "the slice's Service"))
	}
	var v6 bool
	switch s.AddressType {
	case endpoints.AddressTypeIPv4:
	case endpoints.AddressTypeIPv6:
		v6 = true
	default:
		errs = append(errs, service.Invalid("addressType", string(s.AddressType), "must be IPv4 or IPv6"))
	}
	for i, e := range s.Endpoints {
		for j, a := range e.Addresses {
			if !a.IsValid() || a.Zone() != "" || a.Is6() != v6 || a.Is4In6() {
				errs = append(errs, service.Invalid("endpoints["+strconv.Itoa(i)+"].addresses["+strconv.Itoa(j)+"]", addrString(a), "must be an address of the slice's address type"))
			}
		}
		if e.Hostname != "" {
			if msg := k8sname.DNS1123Label(strings.ToLower(e.Hostname)); msg != "" {
				errs = append(errs, service.Invalid("endpoints["+strconv.Itoa(i)+"].hostname", e.Hostname, msg))
			}
		}
	}
	for i, p := range s.Ports {
		switch p.Protocol {
		case service.ProtocolTCP, service.ProtocolUDP, service.ProtocolSCTP:
		default:
			errs = append(errs, service.Invalid("ports["+strconv.Itoa(i)+"].protocol", string(p.Protocol), "must be TCP, UDP or SCTP"))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &service.ValidationError{Kind: "EndpointSlice", Name: s.Namespace + "/" + s.Name, Errors: errs}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
