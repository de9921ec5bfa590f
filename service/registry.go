package service

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// RegistryConfig configures a Registry. Only ServiceCIDRs is required.
type RegistryConfig struct {
	// ServiceCIDRs are the prefixes ClusterIPs come from, like
	// kube-apiserver's --service-cluster-ip-range plus the ServiceCIDR
	// objects of KEP-1880: one or two families, any number of prefixes per
	// family. The family of the first prefix is the cluster's primary
	// family; a cluster with both families is dual-stack. Within a family,
	// ClusterIPs come from the first prefix with room.
	ServiceCIDRs []netip.Prefix
	// NodePortRange is --service-node-port-range; the zero Range means
	// Kubernetes' default, 30000-32767.
	NodePortRange portalloc.Range
	// LoadBalancer provisions LoadBalancer Services; nil leaves every
	// LoadBalancer Service <pending> until a controller writes its status
	// through UpdateStatus. PoolProvider is the embedded one.
	LoadBalancer LoadBalancerProvider
	// ExternalIPs decides which spec.externalIPs are accepted; the zero
	// policy denies every new one (DenyServiceExternalIPs).
	ExternalIPs ExternalIPPolicy
	// Rand is the source of every random choice: ClusterIPs, NodePorts,
	// UIDs, generated names. The Registry owns it from then on and derives
	// one stream per allocator from it, so a given seed and call sequence
	// always give the same Services. nil means a fixed seed.
	Rand *rand.Rand
	// Clock gives metadata.creationTimestamp; nil leaves timestamps zero
	// (kubectl prints their AGE as <unknown>). The Registry never reads the
	// wall clock.
	Clock func() time.Time
	// StrictRestore makes Restore reject a snapshot whose allocators and
	// Services disagree (a leaked or unallocated IP or port, a duplicate,
	// a value out of range) with a *DisagreementError, instead of
	// accepting it for Repair to fix.
	StrictRestore bool
}

// ChangeType says what a Change did to a Service, as a Kubernetes watch
// event type does.
type ChangeType uint8

// The change types.
const (
	// Added: a Service was created; Change.New is it.
	Added ChangeType = iota + 1
	// Modified: a Service was updated; Change.Old is what it was, Change.New
	// what it is.
	Modified
	// Deleted: a Service is gone; Change.Old is what it was.
	Deleted
)

// String returns "added", "modified" or "deleted".
func (t ChangeType) String() string {
	switch t {
	case Added:
		return "added"
	case Modified:
		return "modified"
	case Deleted:
		return "deleted"
	}
	return "ChangeType(" + strconv.Itoa(int(t)) + ")"
}

// Change is what one successful mutating call did, so that controllers
// downstream (endpoints, DNS, proxies) can follow the Registry without
// polling. Old and New are the caller's own copies.
type Change struct {
	Type ChangeType
	// Old is the Service before the call; nil for Added.
	Old *Service
	// New is the Service after the call; nil for Deleted.
	New *Service
}

// Registry is the Service lifecycle of kube-apiserver's Service storage
// (pkg/registry/core/service/storage) as an embeddable state machine: it
// defaults and validates Services, allocates their ClusterIPs, NodePorts
// and health-check NodePort, asks a LoadBalancerProvider for their
// ingress, applies the external-IP policy, and stores them keyed by
// namespace and name, each with a uid, a creationTimestamp and a
// monotonic resourceVersion.
//
// Every call either succeeds completely or changes nothing: whatever a
// failing call allocated is released before it returns (see Create).
// Objects passed in are copied, never retained, and objects handed out are
// copies: mutating them changes nothing inside.
//
// A Registry is single-writer: it is not safe for concurrent use, reads
// included; serialize every call, or give readers the Services of the
// Changes it returns. The allocators inside it are safe for concurrent use
// on their own. The zero Registry is not usable; build one with
// NewRegistry.
type Registry struct {
	families []IPFamily // configured families, primary first
	ips      map[IPFamily]*ipam.Allocator
	ports    *portalloc.Allocator
	cidrs    map[IPFamily][]netip.Prefix
	portRng  portalloc.Range
	provider LoadBalancerProvider
	policy   ExternalIPPolicy
	rand     *rand.Rand
	clock    func() time.Time
	items    *serviceIndex
	rv       uint64
	// spareIPs and sparePorts are the emptied undo-log slices of the
	// last txn (see begin).
	spareIPs   []netip.Addr
	sparePorts []int
	// strictRestore is RegistryConfig.StrictRestore; restored is what
	// the last Restore's check found.
	strictRestore bool
	restored      []RepairProblem
}

// entry is one stored Service. Stored Services are never mutated: a write
// replaces the entry, so the Service it replaced can be handed out as
// Change.Old without a copy.
type entry struct {
	key NamespacedName
	svc *Service
}

// NewRegistry returns an empty Registry. It returns an error wrapping
// ErrInvalidConfig when ServiceCIDRs is empty, holds an invalid or
// overlapping prefix, or an IPv6 prefix shorter than /64, or when
// NodePortRange is invalid.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	fail := func(format string, args ...any) (*Registry, error) {
		return nil, &RegistryError{Op: "new registry", Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)}
	}
	if len(cfg.ServiceCIDRs) == 0 {
		return fail("no service CIDR")
	}
	r := &Registry{
		cidrs:    map[IPFamily][]netip.Prefix{},
		portRng:  cfg.NodePortRange,
		provider: cfg.LoadBalancer,
		policy:   cfg.ExternalIPs,
		clock:    cfg.Clock,
		items:    newServiceIndex(),

		strictRestore: cfg.StrictRestore,
	}
	if r.portRng == (portalloc.Range{}) {
		r.portRng = portalloc.DefaultRange
	}
	if err := r.portRng.Validate(); err != nil {
		return fail("node port range: %w", err)
	}
	for _, p := range cfg.ServiceCIDRs {
		if !p.IsValid() {
			return fail("invalid service CIDR %s", p)
		}
		f := familyOf(p.Addr())
		if _, ok := r.cidrs[f]; !ok {
			r.families = append(r.families, f)
		}
		r.cidrs[f] = append(r.cidrs[f], p)
	}
	seed := cfg.Rand
	if seed == nil {
		seed = rand.New(rand.NewPCG(0x5eed, 0x5e7c))
	}
	// One stream per consumer, drawn in a fixed order, so that the
	// allocators never share a source and a seed fixes everything.
	r.rand = rand.New(rand.NewPCG(seed.Uint64(), seed.Uint64()))
	ips, ports, err := r.newAllocators()
	if err != nil {
		return fail("%w", err)
	}
	r.ips, r.ports = ips, ports
	return r, nil
}

// newAllocators returns empty allocators for the configured ranges, each
// with its own random stream drawn from r.rand.
func (r *Registry) newAllocators() (map[IPFamily]*ipam.Allocator, *portalloc.Allocator, error) {
	ips := make(map[IPFamily]*ipam.Allocator, len(r.families))
	for _, f := range r.families {
		a, err := ipam.NewPool(r.cidrs[f], ipam.WithRand(r.stream()))
		if err != nil {
			return nil, nil, err
		}
		ips[f] = a
	}
	ports, err := portalloc.New(r.portRng, portalloc.WithRand(r.stream()))
	if err != nil {
		return nil, nil, err
	}
	return ips, ports, nil
}

func (r *Registry) stream() *rand.Rand {
	return rand.New(rand.NewPCG(r.rand.Uint64(), r.rand.Uint64()))
}

// Families returns the cluster's IP families, primary first.
func (r *Registry) Families() []IPFamily { return append([]IPFamily(nil), r.families...) }

// NodePortRange returns the NodePort range.
func (r *Registry) NodePortRange() portalloc.Range { return r.portRng }

// Len returns the number of Services stored.
func (r *Registry) Len() int { return r.items.Len() }

func (r *Registry) lookup(key NamespacedName) (*Service, bool) {
	e, ok := r.items.Get(entry{key: key})
	return e.svc, ok
}

// Get returns a copy of the Service namespace/name, or an error wrapping
// ErrNotFound. An empty namespace means "default".
func (r *Registry) Get(namespace, name string) (*Service, error) {
	key := NamespacedName{defaultNamespace(namespace), name}
	svc, ok := r.lookup(key)
	if !ok {
		return nil, &RegistryError{Op: "get", Key: key, Err: ErrNotFound}
	}
	return svc.DeepCopy(), nil
}

// List returns copies of the Services of namespace ("" for every
// namespace) whose labels sel matches, ordered by namespace and name. The
// zero Selector matches every Service. It costs O(log n + k) lookups for k
// Services in the namespace, plus the copies.
func (r *Registry) List(namespace string, sel Selector) []*Service {
	var out []*Service
	visit := func(e entry) bool {
		if namespace != "" && e.key.Namespace != namespace {
			return false
		}
		if sel.Matches(e.svc.Labels) {
			out = append(out, e.svc.DeepCopy())
		}
		return true
	}
	if namespace == "" {
		r.items.Ascend(visit)
	} else {
		r.items.AscendGreaterOrEqual(entry{key: NamespacedName{Namespace: namespace}}, visit)
	}
	return out
}

func defaultNamespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// nextResourceVersion returns the resourceVersion of the next write.
func (r *Registry) nextResourceVersion() string {
	r.rv++
	return strconv.FormatUint(r.rv, 10)
}

func (r *Registry) now() time.Time {
	if r.clock == nil {
		return time.Time{}
	}
	return r.clock()
}

// newUID draws a random (version 4) UUID from the Registry's source, as
// Kubernetes' uuid.NewUUID gives each object, in its text form.
func (r *Registry) newUID() [36]byte {
	var b [16]byte
	hi, lo := r.rand.Uint64(), r.rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return out
}

// generateName returns prefix plus five random characters, as Kubernetes'
// names.SimpleNameGenerator does for metadata.generateName (the prefix cut
// to 58 characters so the name fits 63).
func (r *Registry) generateName(prefix string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789" // utilrand's: no vowels, no look-alikes
	if len(prefix) > 58 {
		prefix = prefix[:58]
	}
	b := []byte(prefix)
	for range 5 {
		b = append(b, alphabet[r.rand.IntN(len(alphabet))])
	}
	return string(b)
}

// Create stores a new Service built from svc, which it does not retain or
// modify, as kube-apiserver's Service storage does: status and system
// metadata from the caller are ignored, except a resourceVersion, which
// is refused ("must not be set on create", as the API server's etcd3
// store refuses it: a Service read back from a cluster or a dump goes
// through ClearSystemFields first, as Cluster.Apply does); what the
// Service carries beside its modelled fields (Carried) is stored with
// it; the Service is defaulted (Default)
// and validated (Validate, plus the dual-stack rules of KEP-563 against
// the cluster's families); its externalIPs must pass the policy; then
// ClusterIPs are allocated per family (the requested ones exactly, the
// others next; none for headless or ExternalName), NodePorts for NodePort
// and LoadBalancer ports (one shared by the ports of one port number, as
// Kubernetes does for TCP and UDP 53), a healthCheckNodePort for a
// LoadBalancer with externalTrafficPolicy Local, and the provider's
// ingress for a LoadBalancer it handles.
//
// If any step fails, Create releases everything it allocated and returns
// the error, changing nothing: a *ValidationError for a rule broken or a
// requested IP or port taken or out of range (spec.clusterIPs[0]: "provided
// IP is already allocated"), an error wrapping ErrForbidden for a policy
// denial, ErrAlreadyExists, ErrProvider, or an allocator's ErrFull.
func (r *Registry) Create(in *Service) (Change, error) {
	if in == nil {
		return Change{}, &RegistryError{Op: "create", Err: fmt.Errorf("%w: nil Service", ErrInvalid)}
	}
	// svc is the working copy, stored in the end; its pack's unused room
	// takes what Create defaults and allocates (see servicePack).
	room := in.deepCopyPack()
	svc := &room.svc
	svc.Status = ServiceStatus{}
	if svc.Name == "" && svc.GenerateName != "" {
		svc.Name = r.generateName(svc.GenerateName)
	}
	var errs ErrorList
	if svc.ResourceVersion != "" {
		errs = append(errs, Invalid("metadata.resourceVersion", svc.ResourceVersion, "must not be set on create"))
	}
	svc.UID, svc.ResourceVersion, svc.Generation = "", "", 0
	svc.CreationTimestamp, svc.DeletionTimestamp, svc.DeletionGracePeriodSeconds = time.Time{}, nil, nil
	defaults(svc, room)
	key := svc.Key()

	prepareIPFamilyPolicy(svc, nil, room)
	errs = append(errs, fieldErrors(svc.Validate())...)
	if len(errs) == 0 {
		errs = r.initIPFamilyFields(svc, nil, room)
	}
	if err := errs.Err(); err != nil {
		return Change{}, named(err, "Service", key.String())
	}
	if err := r.checkPolicy(svc, nil); err != nil {
		return Change{}, err
	}
	at := r.items.Locate(key)
	if at.found {
		return Change{}, &RegistryError{Op: "create", Key: key, Err: ErrAlreadyExists}
	}

	uid := r.newUID()
	svc.CreationTimestamp = r.now()
	tx := r.begin("create", svc)
	tx.room, tx.uid, tx.hasUID = room, uid, true
	if err := tx.allocate(svc, nil); err != nil {
		tx.revert()
		return Change{}, err
	}
	r.rv++
	tx.stamp(svc, r.rv)
	r.items.ReplaceOrInsertAt(at, entry{key, svc})
	tx.commit()
	return Change{Type: Added, New: svc.DeepCopy()}, nil
}

// Update replaces the stored Service of svc's namespace and name with one
// built from svc, as kube-apiserver's Service storage does for a PUT: the
// status and system metadata are kept from the stored Service; values the
// Registry allocated and svc leaves empty (clusterIPs, nodePorts,
// healthCheckNodePort) are kept (patchAllocatedValues); fields that no
// longer apply to a new type are dropped when svc did not change them
// (dropTypeDependentFields). If svc has a resourceVersion or uid, it must
// be the stored one (ErrConflict otherwise).
//
// Beyond Validate, Kubernetes' update rules hold: clusterIPs are immutable
// except when moving to or from ExternalName, or adding or releasing the
// secondary family (SingleStack → PreferDualStack and back, KEP-563);
// healthCheckNodePort and loadBalancerClass are immutable while they
// apply; new externalIPs must pass the policy. Allocation follows the
// change of type exactly as Kubernetes: ClusterIP → NodePort allocates
// nodePorts, NodePort → ClusterIP releases them, → ExternalName releases
// the IPs and ports, ExternalName → ClusterIP allocates; added ports get
// nodePorts, removed ports release theirs; healthCheckNodePort follows the
// traffic policy. Releases happen only once everything else succeeded, and
// a failure rolls back whatever the call allocated, so a failing Update
// changes nothing.
func (r *Registry) Update(in *Service) (Change, error) {
	if in == nil {
		return Change{}, &RegistryError{Op: "update", Err: fmt.Errorf("%w: nil Service", ErrInvalid)}
	}
	key := NamespacedName{defaultNamespace(in.Namespace), in.Name}
	old, ok := r.lookup(key)
	if !ok {
		return Change{}, &RegistryError{Op: "update", Key: key, Err: ErrNotFound}
	}
	if err := checkPreconditions("update", key, in, old); err != nil {
		return Change{}, err
	}
	svc := in.DeepCopy()
	svc.Namespace = key.Namespace
	keepSystemFields(svc, old)
	svc.Status = old.Status.DeepCopy()

	patchAllocatedValues(svc, old)
	normalizeClusterIPs(svc, old)
	Default(svc)
	dropTypeDependentFields(svc, old)

	prepareIPFamilyPolicy(svc, old, nil)
	errs := fieldErrors(svc.Validate())
	if len(errs) == 0 {
		errs = r.initIPFamilyFields(svc, old, nil)
	}
	if len(errs) == 0 {
		errs = validateUpdate(svc, old)
	}
	if err := errs.Err(); err != nil {
		return Change{}, named(err, "Service", key.String())
	}
	if err := r.checkPolicy(svc, old); err != nil {
		return Change{}, err
	}

	tx := r.begin("update", svc)
	if err := tx.allocate(svc, old); err != nil {
		tx.revert()
		return Change{}, err
	}
	svc.ResourceVersion = r.nextResourceVersion()
	r.items.ReplaceOrInsert(entry{key, svc})
	tx.commit()
	return Change{Type: Modified, Old: old, New: svc.DeepCopy()}, nil
}

// checkPreconditions returns ErrConflict when in names a resourceVersion
// or uid other than the stored one's.
func checkPreconditions(op string, key NamespacedName, in, old *Service) error {
	if in.ResourceVersion != "" && in.ResourceVersion != old.ResourceVersion {
		return &RegistryError{Op: op, Key: key, Err: fmt.Errorf("%w: resourceVersion %s is not the stored %s; get the Service again and retry", ErrConflict, in.ResourceVersion, old.ResourceVersion)}
	}
	if in.UID != "" && in.UID != old.UID {
		return &RegistryError{Op: op, Key: key, Err: fmt.Errorf("%w: uid %s is not the stored %s", ErrConflict, in.UID, old.UID)}
	}
	return nil
}

// keepSystemFields copies the metadata only the Registry sets from old,
// as Kubernetes' rest.BeforeUpdate does.
func keepSystemFields(svc, old *Service) {
	svc.UID, svc.ResourceVersion, svc.Generation = old.UID, old.ResourceVersion, old.Generation
	svc.CreationTimestamp = old.CreationTimestamp
	svc.DeletionTimestamp = cloneTime(old.DeletionTimestamp)
	svc.DeletionGracePeriodSeconds = clonePtr(old.DeletionGracePeriodSeconds)
	svc.GenerateName = old.GenerateName
}

// UpdateStatus replaces the status of the stored Service with svc's, as
// Kubernetes' status subresource: the spec and metadata of svc are
// ignored. status.loadBalancer may only be set on a LoadBalancer Service
// that the configured provider does not handle (it is how the controller
// of another loadBalancerClass reports its ingress); the provider's own
// ingress is only ever set by the provider. Ingress entries are validated
// as by Kubernetes' ValidateLoadBalancerStatus, and new ingress IPs
// against ExternalIPs.IngressAllow when it is set. A resourceVersion or
// uid in svc must be the stored one.
func (r *Registry) UpdateStatus(in *Service) (Change, error) {
	if in == nil {
		return Change{}, &RegistryError{Op: "update status", Err: fmt.Errorf("%w: nil Service", ErrInvalid)}
	}
	key := NamespacedName{defaultNamespace(in.Namespace), in.Name}
	old, ok := r.lookup(key)
	if !ok {
		return Change{}, &RegistryError{Op: "update status", Key: key, Err: ErrNotFound}
	}
	if err := checkPreconditions("update status", key, in, old); err != nil {
		return Change{}, err
	}
	svc := old.DeepCopy()
	svc.Status = in.Status.DeepCopy()
	if svc.Spec.Type == ServiceTypeLoadBalancer {
		for i, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP != "" && ing.IPMode == nil {
				m := "VIP" // Default's KEP-1860 rule
				svc.Status.LoadBalancer.Ingress[i].IPMode = &m
			}
		}
	}
	errs := validateStatus(svc)
	if r.providerHandles(svc) && !equalLoadBalancerStatus(svc.Status.LoadBalancer, old.Status.LoadBalancer) {
		errs = append(errs, Invalid("status.loadBalancer.ingress", ingressStrings(svc.Status.LoadBalancer), "may only be set by the load-balancer provider that handles this Service"))
	} else {
		errs = append(errs, r.policy.CheckIngress(svc, old)...)
	}
	if err := errs.Err(); err != nil {
		return Change{}, named(err, "Service", key.String())
	}
	svc.ResourceVersion = r.nextResourceVersion()
	r.items.ReplaceOrInsert(entry{key, svc})
	return Change{Type: Modified, Old: old, New: svc.DeepCopy()}, nil
}

// Delete removes the Service namespace/name and releases everything it
// held: its ClusterIPs, NodePorts, healthCheckNodePort and, through the
// provider, its load balancer. If the provider fails, nothing changes and
// the error wraps ErrProvider. An empty namespace means "default".
func (r *Registry) Delete(namespace, name string) (Change, error) {
	key := NamespacedName{defaultNamespace(namespace), name}
	at := r.items.Locate(key)
	if !at.found {
		return Change{}, &RegistryError{Op: "delete", Key: key, Err: ErrNotFound}
	}
	old := r.items.At(at).svc
	if r.providerHandles(old) {
		if err := r.provider.EnsureLoadBalancerDeleted(old.DeepCopy()); err != nil {
			return Change{}, &RegistryError{Op: "delete", Key: key, Err: fmt.Errorf("%w: %w", ErrProvider, err)}
		}
	}
	r.releaseAll(old)
	r.items.DeleteAt(at, key)
	r.rv++ // a delete is a write: later writes get later versions
	return Change{Type: Deleted, Old: old}, nil
}

func (r *Registry) providerHandles(svc *Service) bool {
	return r.provider != nil && svc.Spec.Type == ServiceTypeLoadBalancer && r.provider.Handles(svc)
}

// ingressStrings lists the IPs and hostnames of st, for messages.
func ingressStrings(st LoadBalancerStatus) []string {
	out := []string{}
	for _, in := range st.Ingress {
		if in.IP != "" {
			out = append(out, in.IP)
		} else {
			out = append(out, in.Hostname)
		}
	}
	return out
}

func equalLoadBalancerStatus(a, b LoadBalancerStatus) bool {
	if len(a.Ingress) != len(b.Ingress) {
		return false
	}
	for i := range a.Ingress {
		x, y := a.Ingress[i], b.Ingress[i]
		if x.IP != y.IP || x.Hostname != y.Hostname || (x.IPMode == nil) != (y.IPMode == nil) ||
			x.IPMode != nil && *x.IPMode != *y.IPMode || len(x.Ports) != len(y.Ports) {
			return false
		}
		for j := range x.Ports {
			p, q := x.Ports[j], y.Ports[j]
			if p.Port != q.Port || p.Protocol != q.Protocol || (p.Error == nil) != (q.Error == nil) || p.Error != nil && *p.Error != *q.Error {
				return false
			}
		}
	}
	return true
}
