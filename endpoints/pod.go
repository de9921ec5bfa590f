package endpoints

import (
	"maps"
	"net/netip"

	"github.com/svcnet/svcnet/service"
)

// podState is what the controller keeps of a pod: the fields endpoints
// are made of, in forms that can be shared with published slices
// (addresses and the target reference are immutable once built).
type podState struct {
	ns     *namespace
	name   string
	labels service.Labels // owned copy

	uid                           string
	nodeName, hostname, subdomain string
	serving, terminating          bool
	terminal                      bool // Succeeded or Failed
	gone                          bool // deleted

	ipStrs []string         // the IPs as given, to notice changes
	addrs  [2][]netip.Addr  // by family: IPv4, IPv6; shared with endpoints
	skip   *SkippedPodError // non-nil when an IP may not be an endpoint
	ref    *ObjectReference // shared with endpoints
	ports  []namedPort      // named container ports, containers then sidecars

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

// update copies what endpoints need from pod, reusing what did not
// change so that a readiness flip allocates nothing here. It reports
// whether the labels changed, and returns the pod's *SkippedPodError, if
// any.
func (p *podState) update(pod *service.Pod) (labelsChanged bool, err error) {
	if !maps.Equal(p.labels, pod.Labels) {
		p.labels = maps.Clone(pod.Labels)
		labelsChanged = true
	}
	if p.ref == nil || p.uid != pod.UID {
		p.uid = pod.UID
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
		p.ports = p.ports[:0:0]
		each := func(c *service.Container) {
			for _, cp := range c.Ports {
				if cp.Name != "" {
					p.ports = append(p.ports, namedPort{cp.Name, protocolOrTCP(cp.Protocol), cp.ContainerPort})
				}
			}
		}
		forEachPortContainer(pod, each)
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

func (p *podState) samePorts(pod *service.Pod) bool {
	i, same := 0, true
	forEachPortContainer(pod, func(c *service.Container) {
		for _, cp := range c.Ports {
			if cp.Name == "" || !same {
				continue
			}
			if i >= len(p.ports) || p.ports[i] != (namedPort{cp.Name, protocolOrTCP(cp.Protocol), cp.ContainerPort}) {
				same = false
			}
			i++
		}
	})
	return same && i == len(p.ports)
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
