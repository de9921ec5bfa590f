package endpoints

import (
	"cmp"
	"encoding/binary"
	"maps"
	"net/netip"
	"slices"

	"github.com/google/btree"
	"github.com/svcnet/svcnet/service"
)

// svcState is a Service as the controller tracks it: its selector and
// where it is filed, its members, and per address family its slices.
type svcState struct {
	id     uint64 // creation order: Services are processed in this order
	ns     *namespace
	key    service.NamespacedName
	uid    string
	owners []service.OwnerReference // shared by all its slices

	managed bool // has a selector and is not ExternalName
	// paused: lost its selector or became ExternalName, and keeps the
	// slices it had unsynced, as Kubernetes' syncService leaves them.
	paused   bool
	selector service.Labels // owned copy, non-nil when managed
	sel      service.Selector
	pair     labelPair // where the index files it
	idxPos   int       // its position in that bucket
	mark     uint64    // candidate dedup, Controller.epoch

	members map[string]*podState // pods it selects, by name
	// emptyPorts holds, by name, the members that may have endpoints
	// (ShouldPodBeInEndpoints) and whose port set is empty: they keep an
	// endpoint-less placeholder alive next to other slices (see
	// syncFamily).
	emptyPorts map[string]struct{}
	cfg        svcConfig
	labels     map[string]string // of its slices; shared by them, immutable
	families   []*family
	nextSeq    uint64 // numbers its slices, for their names (sliceName)
}

// join makes p a member of s (the caller files s in p.services).
func (s *svcState) join(p *podState) {
	if s.members == nil {
		s.members = map[string]*podState{}
	}
	s.members[p.name] = p
}

func (s *svcState) family(t AddressType) *family {
	for _, f := range s.families {
		if f.typ == t {
			return f
		}
	}
	return nil
}

// hintMode is which hints ready endpoints get (trafficdist's
// preferCloseHeuristic).
type hintMode uint8

const (
	hintsNone     hintMode = iota
	hintsZone              // PreferClose, PreferSameZone: a hint for the endpoint's zone
	hintsZoneNode          // PreferSameNode: and one for its node
)

// svcConfig is what a Service's endpoints depend on, besides its name.
type svcConfig struct {
	// ports sorted by name and protocol, so that a port set's key does
	// not depend on the order of spec.ports (Kubernetes' PortMapKey
	// hashes the set, sorted).
	ports           []svcPort
	allNumeric      bool   // no named targetPort: every pod has the same port set
	numericKey      string // the port-set key when allNumeric
	publishNotReady bool
	hints           hintMode
	families        []AddressType
}

type svcPort struct {
	name        string
	protocol    service.Protocol
	target      service.IntOrString
	appProtocol *string // owned copy, shared by the slices' ports
}

func (a *svcConfig) equal(b *svcConfig) bool {
	return a.publishNotReady == b.publishNotReady && a.hints == b.hints &&
		slices.Equal(a.families, b.families) &&
		slices.EqualFunc(a.ports, b.ports, func(x, y svcPort) bool {
			return x.name == y.name && x.protocol == y.protocol && x.target == y.target &&
				(x.appProtocol == nil) == (y.appProtocol == nil) &&
				(x.appProtocol == nil || *x.appProtocol == *y.appProtocol)
		})
}

// The annotations that turn on topology-aware hints (KEP-2433), which
// take precedence over trafficDistribution in Kubernetes (hintsEnabled in
// k8s.io/endpointslice).
const (
	annotationTopologyMode        = "service.kubernetes.io/topology-mode"
	annotationTopologyAwareHints  = "service.kubernetes.io/topology-aware-hints"
	trafficDistributionCloseValue = service.TrafficDistributionPreferClose
)

func topologyAnnotated(ann map[string]string) bool {
	v, ok := ann[annotationTopologyAwareHints]
	if !ok {
		v, ok = ann[annotationTopologyMode]
	}
	return ok && (v == "Auto" || v == "auto")
}

// serviceConfig extracts svc's svcConfig, filling in Kubernetes' defaults
// where svc leaves them unset (protocol TCP, targetPort = port).
func (c *Controller) serviceConfig(svc *service.Service) svcConfig {
	var cfg svcConfig
	cfg.publishNotReady = svc.Spec.PublishNotReadyAddresses
	cfg.families = addressTypes(svc)

	// Reconciler.validTrafficDistribution, and trafficdist's heuristics.
	if td := svc.Spec.TrafficDistribution; td != nil && !c.cfg.Topology.IgnoreTrafficDistribution && !topologyAnnotated(svc.Annotations) {
		switch *td {
		case trafficDistributionCloseValue:
			cfg.hints = hintsZone
		case service.TrafficDistributionPreferSameZone:
			if !c.cfg.Topology.PreferCloseOnly {
				cfg.hints = hintsZone
			}
		case service.TrafficDistributionPreferSameNode:
			if !c.cfg.Topology.PreferCloseOnly {
				cfg.hints = hintsZoneNode
			}
		}
	}

	cfg.ports = make([]svcPort, len(svc.Spec.Ports))
	cfg.allNumeric = true
	for i, sp := range svc.Spec.Ports {
		p := svcPort{name: sp.Name, protocol: protocolOrTCP(sp.Protocol), target: sp.TargetPort}
		if p.target.IsZero() || p.target == service.FromString("") {
			p.target = service.FromInt(sp.Port)
		}
		if sp.AppProtocol != nil {
			p.appProtocol = ptrTo(*sp.AppProtocol)
		}
		cfg.allNumeric = cfg.allNumeric && !p.target.IsString
		cfg.ports[i] = p
	}
	slices.SortStableFunc(cfg.ports, func(a, b svcPort) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.protocol, b.protocol))
	})
	if cfg.allNumeric {
		var b []byte
		for i := range cfg.ports {
			b = appendPortKey(b, &cfg.ports[i], cfg.ports[i].target.IntVal)
		}
		cfg.numericKey = string(b)
	}
	return cfg
}

// addressTypes returns the address types of svc's slices
// (getAddressTypesForService): one per entry of spec.ipFamilies; without
// any, the family of spec.clusterIP, or both for a headless Service.
func addressTypes(svc *service.Service) []AddressType {
	var out []AddressType
	for _, f := range svc.Spec.IPFamilies {
		t := AddressTypeIPv4
		if f == service.IPv6Protocol {
			t = AddressTypeIPv6
		} else if f != service.IPv4Protocol {
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != service.ClusterIPNone {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
			return []AddressType{AddressTypeIPv6}
		}
		return []AddressType{AddressTypeIPv4}
	}
	return []AddressType{AddressTypeIPv4, AddressTypeIPv6}
}

// sliceLabels returns the labels of svc's slices (setEndpointSliceLabels):
// the Service's own labels but the reserved ones, the headless label when
// it has no cluster IP, the service name and the managing controller. It
// returns old when they are the same, so that unchanged labels keep the
// slices untouched.
func (c *Controller) sliceLabels(svc *service.Service, old map[string]string) map[string]string {
	m := make(map[string]string, len(svc.Labels)+2)
	for k, v := range svc.Labels {
		if k != LabelServiceName && k != LabelManagedBy && k != LabelHeadless {
			m[k] = v
		}
	}
	if ip := svc.Spec.ClusterIP; ip == "" || ip == service.ClusterIPNone {
		m[LabelHeadless] = ""
	}
	m[LabelServiceName] = svc.Name
	m[LabelManagedBy] = c.cfg.ManagedBy
	if old != nil && maps.Equal(m, old) {
		return old
	}
	return m
}

// resolve returns the pod port that service port sp targets on p
// (FindPort): a number as is; a name looked up by name and protocol in
// the pod's containers, then its sidecars. ok is false when the name
// does not resolve: the pod's endpoints then leave this port out.
func resolve(sp *svcPort, p *podState) (port int32, ok bool) {
	if !sp.target.IsString {
		return sp.target.IntVal, true
	}
	for _, np := range p.namedPorts() {
		if np.name == sp.target.StrVal && np.protocol == sp.protocol {
			return np.port, true
		}
	}
	return 0, false
}

// appendPortKey appends one resolved port to a port-set key. Keys are
// equal exactly when the slices' port sets are (name, protocol, port,
// appProtocol), like Kubernetes' PortMapKey.
func appendPortKey(b []byte, sp *svcPort, port int32) []byte {
	b = append(b, sp.name...)
	b = append(b, 0)
	b = append(b, sp.protocol...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(port))
	if sp.appProtocol != nil {
		b = append(b, 1)
		b = append(b, *sp.appProtocol...)
	}
	return append(b, 0)
}

// family is one address type of a Service: its slices, grouped by port
// set, and where each pod's endpoint is.
type family struct {
	typ         AddressType
	fi          int // index into podState.addrs
	groups      map[string]*group
	slices      []*sliceState // live slices, unordered; sliceState.fpos
	where       map[string]placement
	placeholder *sliceState // the endpoint-less slice, when there is one
}

func (f *family) addGroup(g *group) {
	if f.groups == nil {
		f.groups = map[string]*group{}
	}
	f.groups[g.key] = g
}

type placement struct {
	s   *sliceState
	pos int
}

func newFamily(t AddressType) *family {
	f := &family{typ: t}
	if t == AddressTypeIPv6 {
		f.fi = 1
	}
	return f
}

// group is the slices of a family with one port set, filed by length so
// that the slice closest to full with room for n more endpoints
// (getSliceToFill) is found fast: in a plain list while the group is
// small, where a scan beats any tree, then in a B-tree, O(log slices).
type group struct {
	key   string
	ports []Port // shared by its slices, immutable
	small []*sliceState
	fill  *btree.BTreeG[*sliceState] // non-nil once the group outgrew small
	n     int                        // live slices
	mark  uint64                     // Controller.syncEpoch of the sync that last saw it
	ord   int                        // its order of appearance in that sync
}

// smallGroup is the most slices a group files in its plain list
// (Controller.smallGroup; tests lower it to exercise the tree).
const smallGroup = 16

func newGroup(key string, ports []Port) *group {
	return &group{key: key, ports: ports}
}

// lessFill orders slices by length, then newest first, so that the
// greatest is the fullest, the oldest among equals.
func lessFill(a, b *sliceState) bool {
	if a.filedLen != b.filedLen {
		return a.filedLen < b.filedLen
	}
	return a.seq > b.seq
}

// file files sl in its group under its current length.
func (c *Controller) file(sl *sliceState) {
	g := sl.g
	sl.filedLen, sl.filed = len(sl.eps), true
	if g.fill == nil && len(g.small) < c.smallGroup {
		g.small = append(g.small, sl)
		return
	}
	if g.fill == nil {
		g.fill = btree.NewWithFreeListG(8, lessFill, c.freeNodes)
		for _, x := range g.small {
			g.fill.ReplaceOrInsert(x)
		}
		g.small = nil
	}
	g.fill.ReplaceOrInsert(sl)
}

// unfile takes sl out of its group's filing, before its length changes.
func (sl *sliceState) unfile() {
	if !sl.filed {
		return
	}
	sl.filed = false
	g := sl.g
	if g.fill != nil {
		g.fill.Delete(sl)
		return
	}
	for i, x := range g.small {
		if x == sl {
			last := len(g.small) - 1
			g.small[i] = g.small[last]
			g.small[last] = nil
			g.small = g.small[:last]
			return
		}
	}
}

// closestUntouched returns the untouched slice of g that n more
// endpoints bring closest to full without overflowing it
// (getSliceToFill), the oldest among equals, or nil.
func (c *Controller) closestUntouched(g *group, n int) *sliceState {
	var found *sliceState
	if g.fill == nil {
		for _, sl := range g.small {
			if !sl.touched && sl.filedLen <= c.max-n && (found == nil || lessFill(found, sl)) {
				found = sl
			}
		}
		return found
	}
	c.pivot.filedLen, c.pivot.seq = c.max-n, 0
	g.fill.DescendLessOrEqual(&c.pivot, func(sl *sliceState) bool {
		if sl.touched {
			return true
		}
		found = sl
		return false
	})
	return found
}

// sliceState is one slice: its last published version and, while a sync
// works on it, its endpoints being edited.
type sliceState struct {
	g    *group
	name string // "" until first published
	seq  uint64
	gen  int64
	pub  *Slice      // the last published version; nil before the first
	eps  []*Endpoint // the current endpoints; pub.Endpoints unless owned
	fpos int         // position in family.slices

	filedLen int  // the length it is filed under in its group
	filed    bool // filed in its group

	// State of the sync in progress.
	owned    bool // eps is a private copy
	touched  bool // will be written
	created  bool // new in this sync
	dead     bool // deleted
	startLen int  // endpoints when first touched
}
