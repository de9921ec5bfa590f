package service

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"time"
)

// TypeMeta names an object's schema, as in every Kubernetes manifest.
// It also holds what a decoded object carries beside its modelled fields
// (Carried, SetCarried): every object type embeds it.
type TypeMeta struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`

	carried Carried
}

// OwnerReference names the object that owns this one (a ReplicaSet for a
// Deployment's pods). svcnet carries it and does not act on it.
type OwnerReference struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         *bool  `json:"controller,omitempty"`
	BlockOwnerDeletion *bool  `json:"blockOwnerDeletion,omitempty"`
}

// ObjectMeta is the metadata every object has, with Kubernetes' field
// names. UID, ResourceVersion and CreationTimestamp are set by a Registry,
// never by callers.
type ObjectMeta struct {
	Name                       string            `json:"name,omitempty"`
	GenerateName               string            `json:"generateName,omitempty"`
	Namespace                  string            `json:"namespace,omitempty"`
	UID                        string            `json:"uid,omitempty"`
	ResourceVersion            string            `json:"resourceVersion,omitempty"`
	Generation                 int64             `json:"generation,omitempty"`
	CreationTimestamp          time.Time         `json:"creationTimestamp,omitzero"`
	DeletionTimestamp          *time.Time        `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64            `json:"deletionGracePeriodSeconds,omitempty"`
	Labels                     Labels            `json:"labels,omitempty"`
	Annotations                map[string]string `json:"annotations,omitempty"`
	OwnerReferences            []OwnerReference  `json:"ownerReferences,omitempty"`
	Finalizers                 []string          `json:"finalizers,omitempty"`
	// ManagedFields is server-side apply bookkeeping; carried, not interpreted.
	ManagedFields json.RawMessage `json:"managedFields,omitempty"`
}

// NamespacedName is the key of a namespaced object: "namespace/name".
type NamespacedName struct {
	Namespace, Name string
}

// String returns "namespace/name".
func (n NamespacedName) String() string { return n.Namespace + "/" + n.Name }

// Key returns the object's namespace and name.
func (m *ObjectMeta) Key() NamespacedName { return NamespacedName{m.Namespace, m.Name} }

// ServiceType says how a Service is exposed.
type ServiceType string

// The four Service types.
const (
	// ServiceTypeClusterIP exposes the Service on a cluster-internal virtual IP.
	ServiceTypeClusterIP ServiceType = "ClusterIP"
	// ServiceTypeNodePort also exposes it on a port of every node's addresses.
	ServiceTypeNodePort ServiceType = "NodePort"
	// ServiceTypeLoadBalancer also asks a load-balancer provider for an external IP.
	ServiceTypeLoadBalancer ServiceType = "LoadBalancer"
	// ServiceTypeExternalName makes the Service's DNS name a CNAME to spec.externalName.
	ServiceTypeExternalName ServiceType = "ExternalName"
)

// Protocol is a port's transport protocol.
type Protocol string

// The protocols a Service port may use.
const (
	ProtocolTCP  Protocol = "TCP"
	ProtocolUDP  Protocol = "UDP"
	ProtocolSCTP Protocol = "SCTP"
)

// IPFamily is an IP version.
type IPFamily string

// The two IP families.
const (
	IPv4Protocol IPFamily = "IPv4"
	IPv6Protocol IPFamily = "IPv6"
)

// IPFamilyPolicy says how many IP families a Service wants (KEP-563).
type IPFamilyPolicy string

// The three family policies.
const (
	// IPFamilyPolicySingleStack: one family, the requested or the cluster's primary.
	IPFamilyPolicySingleStack IPFamilyPolicy = "SingleStack"
	// IPFamilyPolicyPreferDualStack: both families when the cluster has both.
	IPFamilyPolicyPreferDualStack IPFamilyPolicy = "PreferDualStack"
	// IPFamilyPolicyRequireDualStack: both families, or an error.
	IPFamilyPolicyRequireDualStack IPFamilyPolicy = "RequireDualStack"
)

// ServiceAffinity is a Service's session affinity.
type ServiceAffinity string

// The session affinities.
const (
	ServiceAffinityNone     ServiceAffinity = "None"
	ServiceAffinityClientIP ServiceAffinity = "ClientIP"
)

// DefaultClientIPServiceAffinitySeconds is the default ClientIP affinity
// timeout: three hours. MaxClientIPServiceAffinitySeconds is the largest
// allowed: one day.
const (
	DefaultClientIPServiceAffinitySeconds int32 = 10800
	MaxClientIPServiceAffinitySeconds     int32 = 86400
)

// TrafficPolicy is an external or internal traffic policy.
type TrafficPolicy string

// The traffic policies (KEP-2086 for internal, the original
// externalTrafficPolicy for external).
const (
	// TrafficPolicyCluster routes to any ready endpoint in the cluster.
	TrafficPolicyCluster TrafficPolicy = "Cluster"
	// TrafficPolicyLocal routes only to endpoints on the receiving node.
	TrafficPolicyLocal TrafficPolicy = "Local"
)

// Traffic distributions (KEP-4444 and KEP-3015).
const (
	TrafficDistributionPreferClose    = "PreferClose"
	TrafficDistributionPreferSameZone = "PreferSameZone"
	TrafficDistributionPreferSameNode = "PreferSameNode"
)

// ClusterIPNone is the clusterIP of a headless Service.
const ClusterIPNone = "None"

// Service is a Kubernetes v1 Service.
type Service struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       ServiceSpec   `json:"spec,omitempty"`
	Status     ServiceStatus `json:"status,omitzero"`
}

// ServiceSpec is what a user asks of a Service.
type ServiceSpec struct {
	Type                          ServiceType            `json:"type,omitempty"`
	Selector                      Labels                 `json:"selector,omitempty"`
	Ports                         []ServicePort          `json:"ports,omitempty"`
	ClusterIP                     string                 `json:"clusterIP,omitempty"`
	ClusterIPs                    []string               `json:"clusterIPs,omitempty"`
	IPFamilies                    []IPFamily             `json:"ipFamilies,omitempty"`
	IPFamilyPolicy                *IPFamilyPolicy        `json:"ipFamilyPolicy,omitempty"`
	ExternalIPs                   []string               `json:"externalIPs,omitempty"`
	ExternalName                  string                 `json:"externalName,omitempty"`
	SessionAffinity               ServiceAffinity        `json:"sessionAffinity,omitempty"`
	SessionAffinityConfig         *SessionAffinityConfig `json:"sessionAffinityConfig,omitempty"`
	ExternalTrafficPolicy         TrafficPolicy          `json:"externalTrafficPolicy,omitempty"`
	InternalTrafficPolicy         *TrafficPolicy         `json:"internalTrafficPolicy,omitempty"`
	HealthCheckNodePort           int32                  `json:"healthCheckNodePort,omitempty"`
	LoadBalancerIP                string                 `json:"loadBalancerIP,omitempty"`
	LoadBalancerClass             *string                `json:"loadBalancerClass,omitempty"`
	LoadBalancerSourceRanges      []string               `json:"loadBalancerSourceRanges,omitempty"`
	AllocateLoadBalancerNodePorts *bool                  `json:"allocateLoadBalancerNodePorts,omitempty"`
	PublishNotReadyAddresses      bool                   `json:"publishNotReadyAddresses,omitempty"`
	TrafficDistribution           *string                `json:"trafficDistribution,omitempty"`
}

// ServicePort is one port a Service exposes.
type ServicePort struct {
	Name        string      `json:"name,omitempty"`
	Protocol    Protocol    `json:"protocol,omitempty"`
	AppProtocol *string     `json:"appProtocol,omitempty"`
	Port        int32       `json:"port"`
	TargetPort  IntOrString `json:"targetPort,omitzero"`
	NodePort    int32       `json:"nodePort,omitempty"`
}

// SessionAffinityConfig configures session affinity.
type SessionAffinityConfig struct {
	ClientIP *ClientIPConfig `json:"clientIP,omitempty"`
}

// ClientIPConfig configures ClientIP affinity.
type ClientIPConfig struct {
	// TimeoutSeconds is how long a client stays with its backend after its
	// last packet: 1–86400, default 10800.
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// ServiceStatus is what the system reports about a Service.
type ServiceStatus struct {
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitzero"`
	Conditions   []Condition        `json:"conditions,omitempty"`
}

// LoadBalancerStatus lists a load balancer's ingress points.
type LoadBalancerStatus struct {
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one ingress point: an IP or a hostname.
type LoadBalancerIngress struct {
	IP       string       `json:"ip,omitempty"`
	Hostname string       `json:"hostname,omitempty"`
	IPMode   *string      `json:"ipMode,omitempty"`
	Ports    []PortStatus `json:"ports,omitempty"`
}

// PortStatus is the state of one ingress port.
type PortStatus struct {
	Port     int32    `json:"port"`
	Protocol Protocol `json:"protocol"`
	Error    *string  `json:"error,omitempty"`
}

// Condition is a metav1.Condition.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	ObservedGeneration int64     `json:"observedGeneration,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime,omitzero"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
}

// IntOrString is a port given as a number or as a name, like
// k8s.io/apimachinery's intstr.IntOrString. The zero value is the number
// 0, which for a targetPort means "unset" (Default makes it the port).
type IntOrString struct {
	// IsString reports whether the value is the name StrVal rather than
	// the number IntVal.
	IsString bool
	IntVal   int32
	StrVal   string
}

// FromInt returns the number n.
func FromInt(n int32) IntOrString { return IntOrString{IntVal: n} }

// FromString returns the name s.
func FromString(s string) IntOrString { return IntOrString{IsString: true, StrVal: s} }

// IsZero reports whether v is the number 0 (unset).
func (v IntOrString) IsZero() bool { return !v.IsString && v.IntVal == 0 }

// String returns the name, or the number in decimal.
func (v IntOrString) String() string {
	if v.IsString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// MarshalJSON writes a JSON number or string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.IntVal)
}

// UnmarshalJSON reads a JSON number or string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = FromString(s)
		return nil
	}
	var n int32
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*v = FromInt(n)
	return nil
}

// Pod is a Kubernetes v1 Pod, with the fields Service networking reads
// and the common rest carried so that real manifests decode.
type Pod struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       PodSpec   `json:"spec,omitempty"`
	Status     PodStatus `json:"status,omitzero"`
}

// PodSpec is a pod's desired state.
type PodSpec struct {
	NodeName                      string            `json:"nodeName,omitempty"`
	Hostname                      string            `json:"hostname,omitempty"`
	Subdomain                     string            `json:"subdomain,omitempty"`
	Containers                    []Container       `json:"containers"`
	InitContainers                []Container       `json:"initContainers,omitempty"`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds,omitempty"`
	RestartPolicy                 string            `json:"restartPolicy,omitempty"`
	DNSPolicy                     string            `json:"dnsPolicy,omitempty"`
	DNSConfig                     *PodDNSConfig     `json:"dnsConfig,omitempty"`
	HostNetwork                   bool              `json:"hostNetwork,omitempty"`
	NodeSelector                  map[string]string `json:"nodeSelector,omitempty"`
	ServiceAccountName            string            `json:"serviceAccountName,omitempty"`
	SchedulerName                 string            `json:"schedulerName,omitempty"`
	PriorityClassName             string            `json:"priorityClassName,omitempty"`
	// The following are carried as they came, not interpreted.
	Volumes                   json.RawMessage `json:"volumes,omitempty"`
	Affinity                  json.RawMessage `json:"affinity,omitempty"`
	Tolerations               json.RawMessage `json:"tolerations,omitempty"`
	TopologySpreadConstraints json.RawMessage `json:"topologySpreadConstraints,omitempty"`
	SecurityContext           json.RawMessage `json:"securityContext,omitempty"`
	ImagePullSecrets          json.RawMessage `json:"imagePullSecrets,omitempty"`
}

// PodDNSConfig adds to or replaces the resolv.conf a pod's DNS policy gives.
type PodDNSConfig struct {
	Nameservers []string             `json:"nameservers,omitempty"`
	Searches    []string             `json:"searches,omitempty"`
	Options     []PodDNSConfigOption `json:"options,omitempty"`
}

// PodDNSConfigOption is one resolv.conf option, such as ndots:2.
type PodDNSConfigOption struct {
	Name  string  `json:"name"`
	Value *string `json:"value,omitempty"`
}

// Container is one container of a pod: its named ports matter to
// Services (a named targetPort resolves against them); its probes and
// preStop hook matter to the simulator.
type Container struct {
	Name            string          `json:"name"`
	Image           string          `json:"image,omitempty"`
	Command         []string        `json:"command,omitempty"`
	Args            []string        `json:"args,omitempty"`
	WorkingDir      string          `json:"workingDir,omitempty"`
	Ports           []ContainerPort `json:"ports,omitempty"`
	ReadinessProbe  *Probe          `json:"readinessProbe,omitempty"`
	LivenessProbe   *Probe          `json:"livenessProbe,omitempty"`
	StartupProbe    *Probe          `json:"startupProbe,omitempty"`
	Lifecycle       *Lifecycle      `json:"lifecycle,omitempty"`
	ImagePullPolicy string          `json:"imagePullPolicy,omitempty"`
	// The following are carried as they came, not interpreted.
	Env             json.RawMessage `json:"env,omitempty"`
	EnvFrom         json.RawMessage `json:"envFrom,omitempty"`
	Resources       json.RawMessage `json:"resources,omitempty"`
	VolumeMounts    json.RawMessage `json:"volumeMounts,omitempty"`
	SecurityContext json.RawMessage `json:"securityContext,omitempty"`
	RestartPolicy   *string         `json:"restartPolicy,omitempty"`
}

// ContainerPort is a port a container listens on.
type ContainerPort struct {
	Name          string   `json:"name,omitempty"`
	ContainerPort int32    `json:"containerPort"`
	Protocol      Protocol `json:"protocol,omitempty"`
	HostPort      int32    `json:"hostPort,omitempty"`
	HostIP        string   `json:"hostIP,omitempty"`
}

// Probe is a container probe: its timing fields (Kubernetes' defaults:
// period 10 s, timeout 1 s, success threshold 1, failure threshold 3)
// and its handler, carried as it came.
type Probe struct {
	InitialDelaySeconds           int32           `json:"initialDelaySeconds,omitempty"`
	TimeoutSeconds                int32           `json:"timeoutSeconds,omitempty"`
	PeriodSeconds                 int32           `json:"periodSeconds,omitempty"`
	SuccessThreshold              int32           `json:"successThreshold,omitempty"`
	FailureThreshold              int32           `json:"failureThreshold,omitempty"`
	TerminationGracePeriodSeconds *int64          `json:"terminationGracePeriodSeconds,omitempty"`
	Exec                          json.RawMessage `json:"exec,omitempty"`
	HTTPGet                       json.RawMessage `json:"httpGet,omitempty"`
	TCPSocket                     json.RawMessage `json:"tcpSocket,omitempty"`
	GRPC                          json.RawMessage `json:"grpc,omitempty"`
}

// Lifecycle holds a container's lifecycle hooks.
type Lifecycle struct {
	PostStart *LifecycleHandler `json:"postStart,omitempty"`
	PreStop   *LifecycleHandler `json:"preStop,omitempty"`
}

// LifecycleHandler is one hook: a sleep (KEP-3960), or an exec or HTTP
// action carried as it came.
type LifecycleHandler struct {
	Sleep     *SleepAction    `json:"sleep,omitempty"`
	Exec      json.RawMessage `json:"exec,omitempty"`
	HTTPGet   json.RawMessage `json:"httpGet,omitempty"`
	TCPSocket json.RawMessage `json:"tcpSocket,omitempty"`
}

// SleepAction sleeps for Seconds.
type SleepAction struct {
	Seconds int64 `json:"seconds"`
}

// PodPhase is a pod's coarse state.
type PodPhase string

// The pod phases.
const (
	PodPending   PodPhase = "Pending"
	PodRunning   PodPhase = "Running"
	PodSucceeded PodPhase = "Succeeded"
	PodFailed    PodPhase = "Failed"
	PodUnknown   PodPhase = "Unknown"
)

// PodReady is the condition type that says a pod passes its readiness
// probes; ConditionTrue and ConditionFalse are condition statuses.
const (
	PodReady       = "Ready"
	NodeReady      = "Ready"
	ConditionTrue  = "True"
	ConditionFalse = "False"
)

// PodStatus is a pod's observed state.
type PodStatus struct {
	Phase             PodPhase        `json:"phase,omitempty"`
	Conditions        []PodCondition  `json:"conditions,omitempty"`
	HostIP            string          `json:"hostIP,omitempty"`
	HostIPs           []PodIP         `json:"hostIPs,omitempty"`
	PodIP             string          `json:"podIP,omitempty"`
	PodIPs            []PodIP         `json:"podIPs,omitempty"`
	StartTime         *time.Time      `json:"startTime,omitempty"`
	QOSClass          string          `json:"qosClass,omitempty"`
	Message           string          `json:"message,omitempty"`
	Reason            string          `json:"reason,omitempty"`
	ContainerStatuses json.RawMessage `json:"containerStatuses,omitempty"`
}

// PodIP is one of a pod's addresses.
type PodIP struct {
	IP string `json:"ip"`
}

// PodCondition is one condition of a pod, such as Ready.
type PodCondition struct {
	Type               string     `json:"type"`
	Status             string     `json:"status"`
	LastProbeTime      *time.Time `json:"lastProbeTime,omitempty"`
	LastTransitionTime *time.Time `json:"lastTransitionTime,omitempty"`
	Reason             string     `json:"reason,omitempty"`
	Message            string     `json:"message,omitempty"`
}

// IsReady reports whether the pod's Ready condition is True.
func (p *Pod) IsReady() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == PodReady {
			return c.Status == ConditionTrue
		}
	}
	return false
}

// SetReady sets the pod's Ready condition to ready, adding it if absent.
func (p *Pod) SetReady(ready bool) {
	status := ConditionFalse
	if ready {
		status = ConditionTrue
	}
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == PodReady {
			p.Status.Conditions[i].Status = status
			return
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, PodCondition{Type: PodReady, Status: status})
}

// IsTerminating reports whether the pod has a deletion timestamp.
func (p *Pod) IsTerminating() bool { return p.DeletionTimestamp != nil }

// IPs returns the pod's addresses parsed: status.podIPs, or status.podIP
// when podIPs is empty, in order, IPv4-mapped IPv6 addresses unmapped. An
// entry that is not an IP address is left out (Validate reports it). It
// allocates and parses: call it where a pod comes in and keep the result,
// not on a per-packet path. A pod without addresses gives nil.
func (p *Pod) IPs() []netip.Addr {
	var out []netip.Addr
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			out = append(out, a.Unmap())
		}
	}
	if len(p.Status.PodIPs) == 0 {
		if a, err := netip.ParseAddr(p.Status.PodIP); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// Node is a Kubernetes v1 Node.
type Node struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       NodeSpec   `json:"spec,omitzero"`
	Status     NodeStatus `json:"status,omitzero"`
}

// NodeSpec is a node's desired state.
type NodeSpec struct {
	PodCIDR       string          `json:"podCIDR,omitempty"`
	PodCIDRs      []string        `json:"podCIDRs,omitempty"`
	ProviderID    string          `json:"providerID,omitempty"`
	Unschedulable bool            `json:"unschedulable,omitempty"`
	Taints        json.RawMessage `json:"taints,omitempty"`
}

// NodeStatus is a node's observed state.
type NodeStatus struct {
	Addresses   []NodeAddress   `json:"addresses,omitempty"`
	Conditions  []NodeCondition `json:"conditions,omitempty"`
	Capacity    json.RawMessage `json:"capacity,omitempty"`
	Allocatable json.RawMessage `json:"allocatable,omitempty"`
	NodeInfo    json.RawMessage `json:"nodeInfo,omitempty"`
	Images      json.RawMessage `json:"images,omitempty"`
}

// NodeAddress is one address of a node.
type NodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// Node address types.
const (
	NodeInternalIP  = "InternalIP"
	NodeExternalIP  = "ExternalIP"
	NodeHostName    = "Hostname"
	NodeInternalDNS = "InternalDNS"
	NodeExternalDNS = "ExternalDNS"
)

// NodeCondition is one condition of a node, such as Ready.
type NodeCondition struct {
	Type               string     `json:"type"`
	Status             string     `json:"status"`
	LastHeartbeatTime  *time.Time `json:"lastHeartbeatTime,omitempty"`
	LastTransitionTime *time.Time `json:"lastTransitionTime,omitempty"`
	Reason             string     `json:"reason,omitempty"`
	Message            string     `json:"message,omitempty"`
}

// LabelTopologyZone is the well-known label that puts a node in a zone.
const LabelTopologyZone = "topology.kubernetes.io/zone"

// Zone returns the node's topology.kubernetes.io/zone label, or "".
func (n *Node) Zone() string { return n.Labels[LabelTopologyZone] }

// Addrs returns the node's IP addresses parsed: those of its
// status.addresses of type InternalIP or ExternalIP, in order, IPv4-mapped
// IPv6 addresses unmapped (kube-proxy's node IPs, on which NodePorts
// answer). An entry that is not an IP address is left out (Validate
// reports it). It allocates and parses: call it where a node comes in and
// keep the result. A node without such addresses gives nil.
func (n *Node) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != NodeInternalIP && a.Type != NodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// IsReady reports whether the node's Ready condition is True.
func (n *Node) IsReady() bool {
	for _, c := range n.Status.Conditions {
		if c.Type == NodeReady {
			return c.Status == ConditionTrue
		}
	}
	return false
}
