package dnsname

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// Batch collects changes for Resolver.Apply, which publishes them as one
// snapshot. Each method takes what it needs from its argument at once, so
// the caller may reuse or modify the object afterwards. Invalid input is
// recorded and reported by Apply, which then applies nothing. The zero
// Batch is empty and ready to use; a Batch is not safe for concurrent use.
type Batch struct {
	ops  []op
	errs []error
}

type opKind uint8

const (
	opUpsertService opKind = iota + 1
	opDeleteService
	opSlice
	opUpsertPod
	opDeletePod
	opUpsertNamespace
	opDeleteNamespace
)

type op struct {
	kind  opKind
	key   service.NamespacedName // Service or pod; Namespace alone for namespaces
	svc   *svcSpec
	slice endpoints.Change
	ips   []netip.Addr
}

// Len returns the number of changes in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// UpsertService adds svc, or replaces the Service of the same namespace
// and name. The resolver reads the name and namespace, type, clusterIPs
// (clusterIP when clusterIPs is empty), ports, externalName and
// publishNotReadyAddresses. A name that is not a DNS-1035 label, a
// namespace that is not a DNS-1123 label, an unparsable clusterIP, a port
// name that is not a DNS-1123 label, an unknown protocol or an
// externalName that is not a DNS-1123 subdomain makes Apply fail.
func (b *Batch) UpsertService(svc *service.Service) {
	spec, err := specOf(svc)
	if err != nil {
		b.errs = append(b.errs, err)
		return
	}
	b.ops = append(b.ops, op{kind: opUpsertService, key: keyOf(spec.ns, spec.name), svc: spec})
}

// DeleteService removes a Service and, with it, every record it had. The
// Service's slices are kept until they are deleted: if the Service comes
// back, they answer again. Deleting an unknown Service does nothing.
func (b *Batch) DeleteService(key service.NamespacedName) {
	b.ops = append(b.ops, op{kind: opDeleteService, key: key})
}

// Services adds the changes a service.Registry returns from Create,
// Update, UpdateStatus and Delete: an added or modified Service is
// upserted, a deleted one deleted.
func (b *Batch) Services(changes ...service.Change) {
	for _, c := range changes {
		switch {
		case c.Type == service.Deleted && c.Old != nil:
			b.DeleteService(c.Old.Key())
		case (c.Type == service.Added || c.Type == service.Modified) && c.New != nil:
			b.UpsertService(c.New)
		default:
			b.errs = append(b.errs, fmt.Errorf("%w: service change %s without its Service", ErrInvalidObject, c.Type))
		}
	}
}

// Slices adds slice changes as the endpoints controller emits them.
// Slices may arrive before their Service; they give records once the
// Service exists. The resolver keeps the *endpoints.Slice pointers, which
// the endpoints package promises are immutable, and finds what an update
// changed by comparing the slice it kept with the new one (Change.Old is
// not read): modifying a slice after passing it in is a programming
// error, which leaves wrong answers or makes a later Apply panic.
func (b *Batch) Slices(changes ...endpoints.Change) {
	for _, c := range changes {
		key, err := checkSliceChange(c)
		if err != nil {
			b.errs = append(b.errs, err)
			continue
		}
		b.ops = append(b.ops, op{kind: opSlice, key: key, slice: c})
	}
}

// UpsertPod records the addresses of a pod (status.podIPs, or status.podIP)
// for the PodsVerified mode, and that its namespace exists. An unparsable
// address makes Apply fail.
func (b *Batch) UpsertPod(pod *service.Pod) {
	if pod.Name == "" || ValidateDNS1123Label(pod.Namespace) != nil {
		b.errs = append(b.errs, fmt.Errorf("%w: pod %q: needs a name and a namespace that is a DNS-1123 label", ErrInvalidObject, pod.Namespace+"/"+pod.Name))
		return
	}
	var raw []string
	for _, ip := range pod.Status.PodIPs {
		raw = append(raw, ip.IP)
	}
	if len(raw) == 0 && pod.Status.PodIP != "" {
		raw = []string{pod.Status.PodIP}
	}
	ips := make([]netip.Addr, 0, len(raw))
	for _, s := range raw {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			b.errs = append(b.errs, fmt.Errorf("%w: pod %q: status.podIPs: %q is not an IP address", ErrInvalidObject, pod.Namespace+"/"+pod.Name, s))
			return
		}
		ips = append(ips, a)
	}
	b.ops = append(b.ops, op{kind: opUpsertPod, key: keyOf(pod.Namespace, pod.Name), ips: ips})
}

// DeletePod forgets a pod. Deleting an unknown pod does nothing.
func (b *Batch) DeletePod(key service.NamespacedName) {
	b.ops = append(b.ops, op{kind: opDeletePod, key: key})
}

// UpsertNamespace declares that a namespace exists even without Services
// or pods in it, so that <ns>.svc.<zone> is NODATA rather than NXDOMAIN
// (CoreDNS answers from the Namespace objects it watches). A namespace
// that is not a DNS-1123 label makes Apply fail.
func (b *Batch) UpsertNamespace(name string) {
	if err := ValidateDNS1123Label(name); err != nil {
		b.errs = append(b.errs, fmt.Errorf("%w: namespace: %w", ErrInvalidObject, err))
		return
	}
	b.ops = append(b.ops, op{kind: opUpsertNamespace, key: keyOf(name, "")})
}

// DeleteNamespace withdraws UpsertNamespace; the namespace still exists
// while it holds Services or pods.
func (b *Batch) DeleteNamespace(name string) {
	b.ops = append(b.ops, op{kind: opDeleteNamespace, key: keyOf(name, "")})
}

// svcSpec is what the resolver keeps of a Service.
type svcSpec struct {
	name, ns        string
	external        bool
	externalName    string // canonical FQDN; "" when the externalName is an IP address
	headless        bool
	clusterIPs      []netip.Addr
	ports           []portSpec
	publishNotReady bool
	// byLabel maps each named port's SRV label ("_http._tcp") to its
	// index in ports; of two with one label, the last. It lets a port's
	// name be published in O(1), so a Service of P ports costs O(P). A
	// Service of at most byLabelMin ports has none (a map for each of
	// 10 000 Services of one port is 2 MB): its ports are scanned.
	byLabel map[string]int
}

const byLabelMin = 8

// portByLabel returns the index in ports of the named port whose SRV
// label is label (of two, the last).
func (sp *svcSpec) portByLabel(label []byte) (int, bool) {
	if sp.byLabel != nil {
		i, ok := sp.byLabel[string(label)]
		return i, ok
	}
	for i := len(sp.ports) - 1; i >= 0; i-- {
		if p := &sp.ports[i]; p.name != "" && p.hasLabel(label) {
			return i, true
		}
	}
	return 0, false
}

// hasPortLabel reports whether a named port of the Service has the SRV
// label label.
func (sp *svcSpec) hasPortLabel(label []byte) bool {
	_, ok := sp.portByLabel(label)
	return ok
}

// hasLabel reports whether label is portLabel(p.name, p.proto).
func (p *portSpec) hasLabel(label []byte) bool {
	n := len(p.name)
	return len(label) == n+len(p.proto)+3 && label[0] == '_' && string(label[1:n+1]) == p.name &&
		string(label[n+1:n+3]) == "._" && string(label[n+3:]) == p.proto
}

type portSpec struct {
	name  string
	proto string // lowercase: "tcp"
	port  int32
}

func specOf(svc *service.Service) (*svcSpec, error) {
	id := svc.Namespace + "/" + svc.Name
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: service %q: "+format, append([]any{ErrInvalidObject, id}, args...)...)
	}
	if err := ValidateDNS1035Label(svc.Name); err != nil {
		return nil, bad("metadata.name: %w", err)
	}
	if err := ValidateDNS1123Label(svc.Namespace); err != nil {
		return nil, bad("metadata.namespace: %w", err)
	}
	sp := &svcSpec{
		name:            svc.Name,
		ns:              svc.Namespace,
		external:        svc.Spec.Type == service.ServiceTypeExternalName,
		headless:        svc.IsHeadless(),
		publishNotReady: svc.Spec.PublishNotReadyAddresses,
	}
	if sp.external {
		// Kubernetes accepts a trailing dot on externalName.
		ext := strings.TrimSuffix(strings.ToLower(svc.Spec.ExternalName), ".")
		if err := ValidateDNS1123Subdomain(ext); err != nil {
			return nil, bad("spec.externalName: %w", err)
		}
		// CoreDNS answers only an externalName that is not an IP address
		// (msg.Service.HostType must be CNAME); Kubernetes' subdomain
		// rule lets "10.0.0.1" through.
		if _, err := netip.ParseAddr(ext); err != nil {
			sp.externalName = ext + "."
		}
		return sp, nil
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for i, s := range ips {
		if s == "" || s == service.ClusterIPNone {
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, bad("spec.clusterIPs[%d]: %q is not an IP address", i, s)
		}
		sp.clusterIPs = append(sp.clusterIPs, a.Unmap())
	}
	for i, p := range svc.Spec.Ports {
		if p.Name != "" {
			if err := ValidateDNS1123Label(p.Name); err != nil {
				return nil, bad("spec.ports[%d].name: %w", i, err)
			}
		}
		proto, err := protoLabel(p.Protocol)
		if err != nil {
			return nil, bad("spec.ports[%d].protocol: %w", i, err)
		}
		sp.ports = append(sp.ports, portSpec{name: p.Name, proto: proto, port: p.Port})
		if p.Name != "" && len(svc.Spec.Ports) > byLabelMin {
			if sp.byLabel == nil {
				sp.byLabel = make(map[string]int, len(svc.Spec.Ports))
			}
			sp.byLabel[portLabel(p.Name, proto)] = len(sp.ports) - 1
		}
	}
	return sp, nil
}

// protoLabel returns the SRV protocol label of p; "" is TCP, Kubernetes'
// default.
func protoLabel(p service.Protocol) (string, error) {
	if p == "" {
		return "tcp", nil
	}
	l := strings.ToLower(string(p))
	if _, ok := protocolOf(l); !ok {
		return "", errors.New(`"` + string(p) + `" is not TCP, UDP or SCTP`)
	}
	return l, nil
}

func checkSliceChange(c endpoints.Change) (service.NamespacedName, error) {
	var s *endpoints.Slice
	switch c.Kind {
	case endpoints.Created, endpoints.Updated:
		s = c.Slice
	case endpoints.Deleted:
		s = c.Old
	default:
		return service.NamespacedName{}, fmt.Errorf("%w: slice change of %q: unknown kind %d", ErrInvalidObject, c.Service.String(), c.Kind)
	}
	if s == nil {
		return service.NamespacedName{}, fmt.Errorf("%w: slice change of %q: %s change without its slice", ErrInvalidObject, c.Service.String(), c.Kind)
	}
	key := c.Service
	if key.Name == "" {
		key = keyOf(s.Namespace, s.ServiceName())
	}
	if key.Name == "" || s.Name == "" {
		return service.NamespacedName{}, fmt.Errorf("%w: slice %q: no slice name or Service", ErrInvalidObject, s.Namespace+"/"+s.Name)
	}
	if c.Kind != endpoints.Deleted {
		for i, ep := range s.Endpoints {
			if ep == nil {
				return service.NamespacedName{}, fmt.Errorf("%w: slice %q: endpoints[%d]: null, want an endpoint", ErrInvalidObject, s.Namespace+"/"+s.Name, i)
			}
			if ep.Hostname != "" && !isHostname(strings.ToLower(ep.Hostname)) {
				return service.NamespacedName{}, fmt.Errorf("%w: slice %q: endpoints[%d].hostname: %q is not a DNS label", ErrInvalidObject, s.Namespace+"/"+s.Name, i, ep.Hostname)
			}
		}
		for i, p := range s.Ports {
			if _, err := protoLabel(p.Protocol); err != nil {
				return service.NamespacedName{}, fmt.Errorf("%w: slice %q: ports[%d].protocol: %w", ErrInvalidObject, s.Namespace+"/"+s.Name, i, err)
			}
		}
	}
	return key, nil
}
