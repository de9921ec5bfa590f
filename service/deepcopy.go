package service

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return slices.Clone(r)
}

func cloneTime(t *time.Time) *time.Time { return clonePtr(t) }

// DeepCopy returns a copy of m that shares no memory with it.
func (m *ObjectMeta) DeepCopy() ObjectMeta {
	c := *m
	c.DeletionTimestamp = cloneTime(m.DeletionTimestamp)
	c.DeletionGracePeriodSeconds = clonePtr(m.DeletionGracePeriodSeconds)
	c.Labels = maps.Clone(m.Labels)
	c.Annotations = maps.Clone(m.Annotations)
	if m.OwnerReferences != nil {
		c.OwnerReferences = make([]OwnerReference, len(m.OwnerReferences))
		for i, o := range m.OwnerReferences {
			o.Controller = clonePtr(o.Controller)
			o.BlockOwnerDeletion = clonePtr(o.BlockOwnerDeletion)
			c.OwnerReferences[i] = o
		}
	}
	c.Finalizers = slices.Clone(m.Finalizers)
	c.ManagedFields = cloneRaw(m.ManagedFields)
	return c
}

// servicePack is a Service together with room for its small slices and
// its ipFamilyPolicy, so that DeepCopy of a typical Service (one or two
// families, one or two ports) takes one allocation for all of them
// instead of one each. The slices handed out have capacity equal to their
// length, so appending to them never writes into a neighbour.
//
// Create also writes the values it defaults or allocates (ipFamilyPolicy,
// ipFamilies, the first clusterIP, internalTrafficPolicy) into the room of
// its working copy when the input left them unset, so the room a copy did
// not use is free for that (see room).
type servicePack struct {
	svc        Service
	clusterIPs [2]string
	families   [2]IPFamily
	policy     IPFamilyPolicy
	internalTP TrafficPolicy
}

type servicePack1 struct {
	servicePack
	ports [1]ServicePort
}

type servicePack2 struct {
	servicePack
	ports [2]ServicePort
}

// packInto returns a copy of src in dst[:len(src):len(src)] when it fits,
// else a fresh copy; nil gives nil.
func packInto[T any](dst []T, src []T) []T {
	if src == nil {
		return nil
	}
	if len(src) > len(dst) {
		return slices.Clone(src)
	}
	n := copy(dst, src)
	return dst[:n:n]
}

// DeepCopy returns a copy of s that shares no memory with it; nil gives nil.
func (s *Service) DeepCopy() *Service {
	if s == nil {
		return nil
	}
	return &s.deepCopyPack().svc
}

// deepCopyPack is DeepCopy, returning the pack the copy lives in.
func (s *Service) deepCopyPack() *servicePack {
	var pk *servicePack
	var ports []ServicePort
	switch n := len(s.Spec.Ports); {
	case n == 1:
		p := new(servicePack1)
		pk, ports = &p.servicePack, p.ports[:]
	case n == 2:
		p := new(servicePack2)
		pk, ports = &p.servicePack, p.ports[:]
	default:
		pk = new(servicePack)
		if s.Spec.Ports != nil {
			ports = make([]ServicePort, n)
		}
	}
	pk.svc = *s
	c := &pk.svc
	c.ObjectMeta = s.ObjectMeta.DeepCopy()
	sp := &c.Spec
	sp.Selector = maps.Clone(s.Spec.Selector)
	sp.Ports = ports
	for i, p := range s.Spec.Ports {
		p.AppProtocol = clonePtr(p.AppProtocol)
		sp.Ports[i] = p
	}
	sp.ClusterIPs = packInto(pk.clusterIPs[:], s.Spec.ClusterIPs)
	sp.IPFamilies = packInto(pk.families[:], s.Spec.IPFamilies)
	if s.Spec.IPFamilyPolicy != nil {
		pk.policy = *s.Spec.IPFamilyPolicy
		sp.IPFamilyPolicy = &pk.policy
	}
	sp.ExternalIPs = slices.Clone(s.Spec.ExternalIPs)
	if s.Spec.SessionAffinityConfig != nil {
		sp.SessionAffinityConfig = &SessionAffinityConfig{}
		if ci := s.Spec.SessionAffinityConfig.ClientIP; ci != nil {
			sp.SessionAffinityConfig.ClientIP = &ClientIPConfig{TimeoutSeconds: clonePtr(ci.TimeoutSeconds)}
		}
	}
	if s.Spec.InternalTrafficPolicy != nil {
		pk.internalTP = *s.Spec.InternalTrafficPolicy
		sp.InternalTrafficPolicy = &pk.internalTP
	}
	sp.LoadBalancerClass = clonePtr(s.Spec.LoadBalancerClass)
	sp.LoadBalancerSourceRanges = slices.Clone(s.Spec.LoadBalancerSourceRanges)
	sp.AllocateLoadBalancerNodePorts = clonePtr(s.Spec.AllocateLoadBalancerNodePorts)
	sp.TrafficDistribution = clonePtr(s.Spec.TrafficDistribution)
	c.Status = s.Status.DeepCopy()
	return pk
}

// DeepCopy returns a copy of st that shares no memory with it.
func (st *ServiceStatus) DeepCopy() ServiceStatus {
	var c ServiceStatus
	if st.LoadBalancer.Ingress != nil {
		c.LoadBalancer.Ingress = make([]LoadBalancerIngress, len(st.LoadBalancer.Ingress))
		for i, in := range st.LoadBalancer.Ingress {
			in.IPMode = clonePtr(in.IPMode)
			if in.Ports != nil {
				ports := make([]PortStatus, len(in.Ports))
				for j, p := range in.Ports {
					p.Error = clonePtr(p.Error)
					ports[j] = p
				}
				in.Ports = ports
			}
			c.LoadBalancer.Ingress[i] = in
		}
	}
	c.Conditions = slices.Clone(st.Conditions)
	return c
}

func cloneProbe(p *Probe) *Probe {
	if p == nil {
		return nil
	}
	c := *p
	c.TerminationGracePeriodSeconds = clonePtr(p.TerminationGracePeriodSeconds)
	c.Exec, c.HTTPGet, c.TCPSocket, c.GRPC = cloneRaw(p.Exec), cloneRaw(p.HTTPGet), cloneRaw(p.TCPSocket), cloneRaw(p.GRPC)
	return &c
}

func cloneHandler(h *LifecycleHandler) *LifecycleHandler {
	if h == nil {
		return nil
	}
	return &LifecycleHandler{Sleep: clonePtr(h.Sleep), Exec: cloneRaw(h.Exec), HTTPGet: cloneRaw(h.HTTPGet), TCPSocket: cloneRaw(h.TCPSocket)}
}

func cloneContainers(cs []Container) []Container {
	if cs == nil {
		return nil
	}
	out := make([]Container, len(cs))
	for i, c := range cs {
		c.Command = slices.Clone(c.Command)
		c.Args = slices.Clone(c.Args)
		c.Ports = slices.Clone(c.Ports)
		c.ReadinessProbe = cloneProbe(c.ReadinessProbe)
		c.LivenessProbe = cloneProbe(c.LivenessProbe)
		c.StartupProbe = cloneProbe(c.StartupProbe)
		if c.Lifecycle != nil {
			c.Lifecycle = &Lifecycle{PostStart: cloneHandler(c.Lifecycle.PostStart), PreStop: cloneHandler(c.Lifecycle.PreStop)}
		}
		c.Env, c.EnvFrom, c.Resources = cloneRaw(c.Env), cloneRaw(c.EnvFrom), cloneRaw(c.Resources)
		c.VolumeMounts, c.SecurityContext = cloneRaw(c.VolumeMounts), cloneRaw(c.SecurityContext)
		c.RestartPolicy = clonePtr(c.RestartPolicy)
		out[i] = c
	}
	return out
}

// DeepCopy returns a copy of p that shares no memory with it; nil gives nil.
func (p *Pod) DeepCopy() *Pod {
	if p == nil {
		return nil
	}
	c := *p
	c.ObjectMeta = p.ObjectMeta.DeepCopy()
	s := &c.Spec
	s.Containers = cloneContainers(p.Spec.Containers)
	s.InitContainers = cloneContainers(p.Spec.InitContainers)
	s.TerminationGracePeriodSeconds = clonePtr(p.Spec.TerminationGracePeriodSeconds)
	if p.Spec.DNSConfig != nil {
		d := *p.Spec.DNSConfig
		d.Nameservers = slices.Clone(d.Nameservers)
		d.Searches = slices.Clone(d.Searches)
		if d.Options != nil {
			opts := make([]PodDNSConfigOption, len(d.Options))
			for i, o := range d.Options {
				o.Value = clonePtr(o.Value)
				opts[i] = o
			}
			d.Options = opts
		}
		s.DNSConfig = &d
	}
	s.NodeSelector = maps.Clone(p.Spec.NodeSelector)
	s.Volumes, s.Affinity, s.Tolerations = cloneRaw(s.Volumes), cloneRaw(s.Affinity), cloneRaw(s.Tolerations)
	s.TopologySpreadConstraints, s.SecurityContext, s.ImagePullSecrets = cloneRaw(s.TopologySpreadConstraints), cloneRaw(s.SecurityContext), cloneRaw(s.ImagePullSecrets)
	st := &c.Status
	if p.Status.Conditions != nil {
		st.Conditions = make([]PodCondition, len(p.Status.Conditions))
		for i, cd := range p.Status.Conditions {
			cd.LastProbeTime = cloneTime(cd.LastProbeTime)
			cd.LastTransitionTime = cloneTime(cd.LastTransitionTime)
			st.Conditions[i] = cd
		}
	}
	st.HostIPs = slices.Clone(p.Status.HostIPs)
	st.PodIPs = slices.Clone(p.Status.PodIPs)
	st.StartTime = cloneTime(p.Status.StartTime)
	st.ContainerStatuses = cloneRaw(p.Status.ContainerStatuses)
	return &c
}

// DeepCopy returns a copy of n that shares no memory with it; nil gives nil.
func (n *Node) DeepCopy() *Node {
	if n == nil {
		return nil
	}
	c := *n
	c.ObjectMeta = n.ObjectMeta.DeepCopy()
	c.Spec.PodCIDRs = slices.Clone(n.Spec.PodCIDRs)
	c.Spec.Taints = cloneRaw(n.Spec.Taints)
	c.Status.Addresses = slices.Clone(n.Status.Addresses)
	if n.Status.Conditions != nil {
		c.Status.Conditions = make([]NodeCondition, len(n.Status.Conditions))
		for i, cd := range n.Status.Conditions {
			cd.LastHeartbeatTime = cloneTime(cd.LastHeartbeatTime)
			cd.LastTransitionTime = cloneTime(cd.LastTransitionTime)
			c.Status.Conditions[i] = cd
		}
	}
	c.Status.Capacity, c.Status.Allocatable = cloneRaw(n.Status.Capacity), cloneRaw(n.Status.Allocatable)
	c.Status.NodeInfo, c.Status.Images = cloneRaw(n.Status.NodeInfo), cloneRaw(n.Status.Images)
	return &c
}
