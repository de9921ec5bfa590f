package endpoints

import (
	"encoding/binary"
	"maps"
	"net/netip"
	"slices"

	"github.com/svcnet/svcnet/service"
)

// podState is what the controller keeps of a pod: the fields endpoints
// are made of, in forms that can be shared with published slices
// (addresses and the target reference are immutable once built).
type podState struct {
	ns     *namespace
	name   string
	labels *labelSet // shared with the pods of the same labels; nil: none

	nodeName, hostname, subdomain string
	serving, terminating          bool
	terminal                      bool  // Succeeded or Failed
	gone                          bool  // deleted
	nodeIdx                       int32 // index in Controller.nodePods[nodeName]

	ipStrs []string         // the IPs as given, to notice changes
	addrs  [2][]netip.Addr  // by family: IPv4, IPv6; shared with endpoints
	skip   *SkippedPodError // non-nil when an IP may not be an endpoint
	ref    *ObjectReference // shared with endpoints
	// ports are the named container ports, containers then sidecars;
	// shared by the pods with the same (see internPorts); nil: none.
	ports *portSet

	services []*svcState // the Services that select the pod
}

// namedPort is a named container port a named targetPort resolves to.
type namedPort struct {
	name     string
	protocol service.Protocol
	port     int32
}

// eligible reports whether the pod may have endpoints at all:
// ShouldPodBeInEndpoints(pod, includeTerminating=true) in
// k8s.io/endpointslice/util (not terminal, has an IP), and svcnet's
// endpoint-IP rule.
func (p *podState) eligible() bool {
	return !p.gone && !p.terminal && len(p.ipStrs) > 0 && p.skip == nil
}

// leave removes s from the pod's Services.
func (p *podState) leave(s *svcState) {
	for i, x := range p.services {
		if x == s {
			last := len(p.services) - 1
			p.services[i] = p.services[last]
			p.services[last] = nil
			p.services = p.services[:last]
			return
		}
	}
}

// labelMap returns the pod's labels, nil when it has none. The map is
// shared and must not be changed.
func (p *podState) labelMap() service.Labels {
	if p.labels == nil {
		return nil
	}
	return p.labels.m
}

// update copies what endpoints need from pod, reusing what did not
// change so that a readiness flip allocates nothing here. It reports
// whether the labels changed, and returns the pod's *SkippedPodError, if
// any. Labels come from c's table of label sets, shared by every pod
// with the same ones.
func (p *podState) update(c *Controller, pod *service.Pod) (labelsChanged bool, err error) {
	if !maps.Equal(p.labelMap(), pod.Labels) {
		next := c.internLabels(pod.Labels)
		c.releaseLabels(p.labels)
		p.labels = next
		labelsChanged = true
	}
	if p.ref == nil || p.ref.UID != pod.UID {
		p.ref = &ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	}
	p.nodeName = pod.Spec.NodeName
	p.hostname = pod.Spec.Hostname
	p.subdomain = pod.Spec.Subdomain
	p.serving = pod.IsReady()
	p.terminating = pod.IsTerminating()
	p.terminal = pod.Status.Phase == service.PodSucceeded || pod.Status.Phase == service.PodFailed
	p.gone = false
	p.updateIPs(pod)
	if !p.samePorts(pod) {
		next := c.internPorts(pod)
		c.releasePorts(p.ports)
		p.ports = next
	}
	if p.skip != nil {
		return labelsChanged, p.skip
	}
	return labelsChanged, nil
}

// forEachPortContainer calls f with each container whose named ports a
// targetPort may resolve to: the containers, then the sidecars (init
// containers with restartPolicy Always), as FindPort searches them.
func forEachPortContainer(pod *service.Pod, f func(*service.Container)) {
	for i := range pod.Spec.Containers {
		f(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == "Always" {
			f(c)
		}
	}
}

// namedPorts returns the pod's named container ports, shared: not to be
// changed.
func (p *podState) namedPorts() []namedPort {
	if p.ports == nil {
		return nil
	}
	return p.ports.ps
}

func (p *podState) samePorts(pod *service.Pod) bool {
	ports := p.namedPorts()
	i, same := 0, true
	forEachPortContainer(pod, func(c *service.Container) {
		for _, cp := range c.Ports {
			if cp.Name == "" || !same {
				continue
			}
			if i >= len(ports) || ports[i] != (namedPort{cp.Name, protocolOrTCP(cp.Protocol), cp.ContainerPort}) {
				same = false
			}
			i++
		}
	})
	return same && i == len(ports)
}

// podIPs returns the pod's IPs: status.podIPs, or status.podIP when
// podIPs is empty (the API server keeps podIPs[0] equal to podIP).
func podIPs(pod *service.Pod) (ips []service.PodIP, single string) {
	if len(pod.Status.PodIPs) > 0 {
		return pod.Status.PodIPs, ""
	}
	return nil, pod.Status.PodIP
}

func (p *podState) updateIPs(pod *service.Pod) {
	ips, single := podIPs(pod)
	n := len(ips)
	if single != "" {
		n = 1
	}
	ipAt := func(i int) string {
		if single != "" {
			return single
		}
		return ips[i].IP
	}
	if n == len(p.ipStrs) {
		same := true
		for i := range n {
			if ipAt(i) != p.ipStrs[i] {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	p.ipStrs = make([]string, n)
	p.addrs = [2][]netip.Addr{}
	p.skip = nil
	for i := range n {
		s := ipAt(i)
		p.ipStrs[i] = s
		if p.skip != nil {
			continue
		}
		// ValidateEndpointIP (pkg/apis/discovery/validation): the API
		// server rejects a slice holding such an address.
		if rule := service.EndpointIPRule(s); rule != "" {
			p.skip = &SkippedPodError{Pod: service.NamespacedName{Namespace: p.ns.name, Name: p.name}, IP: s, Rule: rule}
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil { // unreachable: EndpointIPRule parses strictly
			p.skip = &SkippedPodError{Pod: service.NamespacedName{Namespace: p.ns.name, Name: p.name}, IP: s, Rule: err.Error()}
			continue
		}
		fi := 0
		if a.Is6() {
			fi = 1
		}
		p.addrs[fi] = append(p.addrs[fi], a)
	}
	if p.skip != nil {
		p.addrs = [2][]netip.Addr{}
	}
	for i := range p.addrs {
		p.addrs[i] = p.addrs[i][:len(p.addrs[i]):len(p.addrs[i])]
	}
}

func protocolOrTCP(p service.Protocol) service.Protocol {
	if p == "" {
		return service.ProtocolTCP
	}
	return p
}

// labelSet is one set of pod labels, shared by every pod of the
// controller that has it: the pods of one ReplicaSet have the same, so
// that 150 000 pods hold a few thousand maps instead of 150 000 copies.
// Its map is an owned copy, never changed once made.
type labelSet struct {
	key  string // its key in Controller.labelSets
	m    service.Labels
	refs int // the pods that hold it
}

// internLabels returns the shared labelSet equal to ls, made if there is
// none, with one more reference; nil for no labels.
func (c *Controller) internLabels(ls service.Labels) *labelSet {
	if len(ls) == 0 {
		return nil
	}
	keys := c.labelKeys[:0]
	for k := range ls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// The key is each label as length-prefixed key and value, in key
	// order: unambiguous whatever bytes they hold.
	b := c.keyBuf[:0]
	for _, k := range keys {
		v := ls[k]
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	clear(keys)
	c.labelKeys, c.keyBuf = keys[:0], b[:0]
	if s := c.labelSets[string(b)]; s != nil {
		s.refs++
		return s
	}
	s := &labelSet{key: string(b), m: maps.Clone(ls), refs: 1}
	if c.labelSets == nil {
		c.labelSets = map[string]*labelSet{}
	}
	c.labelSets[s.key] = s
	return s
}

// releaseLabels drops a reference to s (nil: none), forgetting it when
// no pod holds it any more.
func (c *Controller) releaseLabels(s *labelSet) {
	if s == nil {
		return
	}
	if s.refs--; s.refs == 0 {
		delete(c.labelSets, s.key)
	}
}

// portSet is one list of named container ports, shared by every pod
// of the controller that has it, as labelSet is for labels.
type portSet struct {
	key  string // its key in Controller.portSets
	ps   []namedPort
	refs int
}

// internPorts returns the shared portSet of pod's named ports
// (containers, then sidecars), made if there is none, with one more
// reference; nil for none.
func (c *Controller) internPorts(pod *service.Pod) *portSet {
	b := c.keyBuf[:0]
	n := 0
	forEachPortContainer(pod, func(ct *service.Container) {
		for _, cp := range ct.Ports {
			if cp.Name == "" {
				continue
			}
			proto := protocolOrTCP(cp.Protocol)
			b = binary.AppendUvarint(b, uint64(len(cp.Name)))
			b = append(b, cp.Name...)
			b = binary.AppendUvarint(b, uint64(len(proto)))
			b = append(b, proto...)
			b = binary.BigEndian.AppendUint32(b, uint32(cp.ContainerPort))
			n++
		}
	})
	c.keyBuf = b[:0]
	if n == 0 {
		return nil
	}
	if s := c.portSets[string(b)]; s != nil {
		s.refs++
		return s
	}
	ps := make([]namedPort, 0, n)
	forEachPortContainer(pod, func(ct *service.Container) {
		for _, cp := range ct.Ports {
			if cp.Name != "" {
				ps = append(ps, namedPort{cp.Name, protocolOrTCP(cp.Protocol), cp.ContainerPort})
			}
		}
	})
	s := &portSet{key: string(b), ps: ps, refs: 1}
	if c.portSets == nil {
		c.portSets = map[string]*portSet{}
	}
	c.portSets[s.key] = s
	return s
}

// releasePorts drops a reference to s (nil: none), forgetting it when no
// pod holds it any more.
func (c *Controller) releasePorts(s *portSet) {
	if s == nil {
		return
	}
	if s.refs--; s.refs == 0 {
		delete(c.portSets, s.key)
	}
}
