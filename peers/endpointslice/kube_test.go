package endpointslice

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	discoveryclient "k8s.io/client-go/kubernetes/typed/discovery/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	endpointslicerec "k8s.io/endpointslice"
	endpointsliceutil "k8s.io/endpointslice/util"
	"k8s.io/klog/v2"
)

// kube is Kubernetes' side: the informer caches kube-controller-manager's
// EndpointSlice controller reads (Services, Pods, Nodes, EndpointSlices),
// its pod-to-Service membership lookup (GetPodUpdateProjectionKey and
// GetServicesToUpdate from k8s.io/endpointslice/util), its syncService,
// and the k8s.io/endpointslice Reconciler writing through a fake
// clientset.
//
// The clientset is client-go's fake with the discovery/v1 EndpointSlice
// client replaced by an in-memory store that files every write straight
// into the slice informer's cache (as a watch would, without its delay),
// names created slices from generateName, bumps generations, and counts
// the writes. The fake's own object tracker would charge Kubernetes for
// deep copies and an ever-growing action log that no real API server
// costs the controller; the store charges it for nothing but its own
// work.
type kube struct {
	services, pods, nodes, slices cache.Indexer
	serviceLister                 corelisters.ServiceLister
	podLister                     corelisters.PodLister
	sliceLister                   discoverylisters.EndpointSliceLister
	reconciler                    *endpointslicerec.Reconciler
	logger                        klog.Logger
	store                         *sliceStore
	resourceVersion               int
	// skips counts the reconciler's "skipping Pod ... Node ... Not Found"
	// errors: one per pod, address type and sync.
	skips int
	// podObjs keeps the last object of each pod, the "old" of the next
	// update event.
	podObjs map[string]*corev1.Pod
}

// controllerName is kube-controller-manager's EndpointSlice controller name.
const controllerName = endpoints.DefaultManagedBy

func newKube(maxEndpointsPerSlice int) *kube {
	nsIndex := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	k := &kube{
		services: cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex),
		pods:     cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex),
		nodes:    cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		slices:   cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex),
		logger:   logr.Discard(), // the reconciler logs every skipped pod
		podObjs:  map[string]*corev1.Pod{},
	}
	k.serviceLister = corelisters.NewServiceLister(k.services)
	k.podLister = corelisters.NewPodLister(k.pods)
	k.sliceLister = discoverylisters.NewEndpointSliceLister(k.slices)
	k.store = &sliceStore{cache: k.slices}
	client := &clientset{Clientset: fake.NewClientset()}
	client.discovery = &discoveryV1{DiscoveryV1Interface: client.Clientset.DiscoveryV1(), store: k.store}
	k.reconciler = endpointslicerec.NewReconciler(client, corelisters.NewNodeLister(k.nodes), int32(maxEndpointsPerSlice),
		endpointsliceutil.NewEndpointSliceTracker(), nil, &record.FakeRecorder{}, controllerName,
		// GA and locked on since 1.35.
		endpointslicerec.WithPreferSameTrafficDistributionEnabled(true))
	return k
}

func (k *kube) nextRV() string {
	k.resourceVersion++
	return strconv.Itoa(k.resourceVersion)
}

// syncService is kube-controller-manager's syncService
// (pkg/controller/endpointslice), less its trigger-time and stale-cache
// bookkeeping.
func (k *kube) syncService(key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	svc, err := k.serviceLister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		return nil
	}
	pods, err := k.podLister.Pods(ns).List(labels.Set(svc.Spec.Selector).AsSelectorPreValidated())
	if err != nil {
		return err
	}
	slices, err := k.sliceLister.EndpointSlices(ns).List(labels.Set{
		discovery.LabelServiceName: svc.Name,
		discovery.LabelManagedBy:   controllerName,
	}.AsSelectorPreValidated())
	if err != nil {
		return err
	}
	return k.skipErrors(k.reconciler.Reconcile(k.logger, svc, pods, slices, time.Time{}))
}

// skipErrors counts and drops the reconciler's errors for pods skipped
// because their node is not found (reconcileByAddressType: the slices
// are written without them, and the error only requeues the Service),
// and returns any other error.
func (k *kube) skipErrors(err error) error {
	agg, ok := err.(utilerrors.Aggregate)
	if !ok {
		return err
	}
	var rest []error
	for _, e := range utilerrors.Flatten(agg).Errors() {
		if msg := e.Error(); strings.HasPrefix(msg, "skipping Pod ") && strings.HasSuffix(msg, " Not Found") {
			k.skips++
			continue
		}
		rest = append(rest, e)
	}
	return utilerrors.NewAggregate(rest)
}

// upsertService files svc in the Service cache and syncs it, as the
// controller's onServiceUpdate queues it.
//
// A new UID under the same name is a Service deleted and created again:
// the garbage collector deletes the old one's slices first.
func (k *kube) upsertService(s *service.Service) error {
	svc := coreService(s)
	if obj, ok, _ := k.services.GetByKey(s.Namespace + "/" + s.Name); ok && obj.(*corev1.Service).UID != svc.UID {
		if err := k.collect(obj.(*corev1.Service).UID); err != nil {
			return err
		}
	}
	svc.ResourceVersion = k.nextRV()
	if err := k.services.Update(svc); err != nil {
		return err
	}
	return k.syncService(s.Namespace + "/" + s.Name)
}

// deleteService removes a Service; the garbage collector then deletes its
// slices through their owner references.
func (k *kube) deleteService(key service.NamespacedName) error {
	obj, ok, _ := k.services.GetByKey(key.String())
	if !ok {
		return nil
	}
	if err := k.services.Delete(obj); err != nil {
		return err
	}
	return k.collect(obj.(*corev1.Service).UID)
}

// collect is the garbage collector deleting the slices a Service with
// uid owned.
func (k *kube) collect(uid types.UID) error {
	for _, o := range k.slices.List() {
		s := o.(*discovery.EndpointSlice)
		for _, ref := range s.OwnerReferences {
			if ref.UID == uid {
				k.store.deletes++
				if err := k.slices.Delete(s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// podEvent files the pod's new state (nil when deleted) and syncs the
// Services the controller's pod handler finds for the event.
func (k *kube) podEvent(key string, cur *corev1.Pod) error {
	old := k.podObjs[key]
	if cur != nil {
		cur.ResourceVersion = k.nextRV()
		k.podObjs[key] = cur
		if err := k.pods.Update(cur); err != nil {
			return err
		}
	} else {
		if old == nil {
			return nil
		}
		delete(k.podObjs, key)
		if err := k.pods.Delete(old); err != nil {
			return err
		}
	}
	var oldObj, curObj any
	if old != nil {
		oldObj = old
	}
	if cur != nil {
		curObj = cur
	}
	pk := endpointsliceutil.GetPodUpdateProjectionKey(oldObj, curObj)
	svcs, err := endpointsliceutil.GetServicesToUpdate(k.serviceLister, pk)
	if err != nil {
		return err
	}
	keys := svcs.UnsortedList()
	slices.Sort(keys)
	for _, key := range keys {
		if err := k.syncService(key); err != nil {
			return err
		}
	}
	return nil
}

func (k *kube) upsertPod(p *service.Pod) error { return k.podEvent(p.Namespace+"/"+p.Name, corePod(p)) }

func (k *kube) deletePod(key service.NamespacedName) error { return k.podEvent(key.String(), nil) }

// upsertNode files a node. The controller reacts to nodes only for
// topology-aware hints; zones reach slices at each Service's next sync.
func (k *kube) upsertNode(n *service.Node) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels, ResourceVersion: k.nextRV()}}
	return k.nodes.Update(node)
}

// deleteNode removes a node from the informer cache; the controller's
// node handler syncs nothing, so its pods' endpoints go at their
// Services' next sync.
func (k *kube) deleteNode(name string) error {
	obj, ok, _ := k.nodes.GetByKey(name)
	if !ok {
		return nil
	}
	return k.nodes.Delete(obj)
}

// syncAll syncs every Service, as a periodic resync does.
func (k *kube) syncAll() error {
	keys := k.services.ListKeys()
	slices.Sort(keys)
	for _, key := range keys {
		if err := k.syncService(key); err != nil {
			return err
		}
	}
	return nil
}

// mirror replaces every slice Kubernetes holds with svcnet's, converted,
// so that the next event starts both from the same slices (the lockstep
// differential). Slices Kubernetes creates from then on are named apart
// from svcnet's.
func (k *kube) mirror(ss []*endpoints.Slice) error {
	for _, o := range k.slices.List() {
		if err := k.slices.Delete(o); err != nil {
			return err
		}
	}
	k.store.prefix = "k"
	for _, s := range ss {
		if err := k.slices.Add(kubeSlice(s)); err != nil {
			return err
		}
	}
	return nil
}

// kubeSlice converts a svcnet slice to the EndpointSlice Kubernetes'
// reconciler would have written (podToEndpoint, getEndpointPorts,
// newEndpointSlice): pointers where it sets them, none where it leaves
// them unset.
func kubeSlice(s *endpoints.Slice) *discovery.EndpointSlice {
	out := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: s.Name, Namespace: s.Namespace, Generation: s.Generation,
			Labels: maps.Clone(map[string]string(s.Labels)),
		},
		AddressType: discovery.AddressType(s.AddressType),
		Endpoints:   []discovery.Endpoint{},
		Ports:       []discovery.EndpointPort{},
	}
	for _, o := range s.OwnerReferences {
		out.OwnerReferences = append(out.OwnerReferences, metav1.OwnerReference{
			APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: types.UID(o.UID),
			Controller: o.Controller, BlockOwnerDeletion: o.BlockOwnerDeletion,
		})
	}
	str := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	for _, ep := range s.Endpoints {
		e := discovery.Endpoint{
			Conditions: discovery.EndpointConditions{
				Ready: ptrTo(ep.Conditions.Ready), Serving: ptrTo(ep.Conditions.Serving), Terminating: ptrTo(ep.Conditions.Terminating),
			},
			Hostname: str(ep.Hostname), NodeName: str(ep.NodeName), Zone: str(ep.Zone),
			TargetRef: &corev1.ObjectReference{Kind: ep.TargetRef.Kind, Namespace: ep.TargetRef.Namespace, Name: ep.TargetRef.Name, UID: types.UID(ep.TargetRef.UID)},
		}
		for _, a := range ep.Addresses {
			e.Addresses = append(e.Addresses, a.String())
		}
		if h := ep.Hints; h != nil {
			e.Hints = &discovery.EndpointHints{}
			for _, z := range h.ForZones {
				e.Hints.ForZones = append(e.Hints.ForZones, discovery.ForZone{Name: z.Name})
			}
			for _, n := range h.ForNodes {
				e.Hints.ForNodes = append(e.Hints.ForNodes, discovery.ForNode{Name: n.Name})
			}
		}
		out.Endpoints = append(out.Endpoints, e)
	}
	for _, p := range s.Ports {
		proto := corev1.Protocol(p.Protocol)
		out.Ports = append(out.Ports, discovery.EndpointPort{Name: ptrTo(p.Name), Protocol: &proto, Port: ptrTo(p.Port), AppProtocol: p.AppProtocol})
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

// slicesOf returns the slices of a Service, by name.
func (k *kube) slicesOf(key service.NamespacedName) []*discovery.EndpointSlice {
	ss, _ := k.sliceLister.EndpointSlices(key.Namespace).List(labels.Set{discovery.LabelServiceName: key.Name}.AsSelector())
	slices.SortFunc(ss, func(a, b *discovery.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	return ss
}

// clientset is client-go's fake clientset with the EndpointSlice API
// served by a sliceStore.
type clientset struct {
	*fake.Clientset
	discovery *discoveryV1
}

func (c *clientset) DiscoveryV1() discoveryclient.DiscoveryV1Interface { return c.discovery }

type discoveryV1 struct {
	discoveryclient.DiscoveryV1Interface
	store *sliceStore
}

func (d *discoveryV1) EndpointSlices(ns string) discoveryclient.EndpointSliceInterface {
	return &sliceClient{EndpointSliceInterface: d.DiscoveryV1Interface.EndpointSlices(ns), ns: ns, store: d.store}
}

// sliceStore is the API server's EndpointSlice storage, as the informer
// cache sees it.
type sliceStore struct {
	cache                     cache.Indexer
	prefix                    string // between generateName and the number
	names                     int
	creates, updates, deletes int
}

func (s *sliceStore) writes() int { return s.creates + s.updates + s.deletes }

type sliceClient struct {
	discoveryclient.EndpointSliceInterface
	ns    string
	store *sliceStore
}

func (c *sliceClient) Create(_ context.Context, s *discovery.EndpointSlice, _ metav1.CreateOptions) (*discovery.EndpointSlice, error) {
	if s.Name == "" {
		c.store.names++
		s.Name = s.GenerateName + c.store.prefix + strconv.Itoa(c.store.names)
	}
	if _, ok, _ := c.store.cache.Get(s); ok {
		return nil, apierrors.NewAlreadyExists(discovery.Resource("endpointslices"), s.Name)
	}
	s.Namespace = c.ns
	s.Generation = 1
	c.store.creates++
	return s, c.store.cache.Add(s)
}

func (c *sliceClient) Update(_ context.Context, s *discovery.EndpointSlice, _ metav1.UpdateOptions) (*discovery.EndpointSlice, error) {
	old, ok, _ := c.store.cache.Get(s)
	if !ok {
		return nil, apierrors.NewNotFound(discovery.Resource("endpointslices"), s.Name)
	}
	s.Generation = old.(*discovery.EndpointSlice).Generation + 1
	c.store.updates++
	return s, c.store.cache.Update(s)
}

func (c *sliceClient) Delete(_ context.Context, name string, _ metav1.DeleteOptions) error {
	old, ok, _ := c.store.cache.GetByKey(c.ns + "/" + name)
	if !ok {
		return apierrors.NewNotFound(discovery.Resource("endpointslices"), name)
	}
	c.store.deletes++
	return c.store.cache.Delete(old)
}

// Conversions from svcnet's model to Kubernetes' types, with the API
// server's defaults (protocol TCP) where svcnet leaves them unset.

func protocol(p service.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return corev1.Protocol(p)
}

func coreService(s *service.Service) *corev1.Service {
	out := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, UID: types.UID(s.UID), Labels: s.Labels, Annotations: s.Annotations},
		Spec: corev1.ServiceSpec{
			Type:                     corev1.ServiceType(s.Spec.Type),
			Selector:                 s.Spec.Selector,
			ClusterIP:                s.Spec.ClusterIP,
			ClusterIPs:               s.Spec.ClusterIPs,
			PublishNotReadyAddresses: s.Spec.PublishNotReadyAddresses,
			TrafficDistribution:      s.Spec.TrafficDistribution,
		},
	}
	for _, f := range s.Spec.IPFamilies {
		out.Spec.IPFamilies = append(out.Spec.IPFamilies, corev1.IPFamily(f))
	}
	for _, p := range s.Spec.Ports {
		tp := intstr.FromInt32(p.TargetPort.IntVal)
		if p.TargetPort.IsString {
			tp = intstr.FromString(p.TargetPort.StrVal)
		} else if p.TargetPort.IntVal == 0 {
			tp = intstr.FromInt32(p.Port)
		}
		out.Spec.Ports = append(out.Spec.Ports, corev1.ServicePort{
			Name: p.Name, Protocol: protocol(p.Protocol), Port: p.Port, TargetPort: tp, AppProtocol: p.AppProtocol,
		})
	}
	return out
}

func coreContainers(cs []service.Container) []corev1.Container {
	var out []corev1.Container
	for _, c := range cs {
		cc := corev1.Container{Name: c.Name}
		if c.RestartPolicy != nil {
			rp := corev1.ContainerRestartPolicy(*c.RestartPolicy)
			cc.RestartPolicy = &rp
		}
		for _, p := range c.Ports {
			cc.Ports = append(cc.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: protocol(p.Protocol)})
		}
		out = append(out, cc)
	}
	return out
}

func corePod(p *service.Pod) *corev1.Pod {
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: types.UID(p.UID), Labels: p.Labels},
		Spec: corev1.PodSpec{
			NodeName: p.Spec.NodeName, Hostname: p.Spec.Hostname, Subdomain: p.Spec.Subdomain,
			Containers: coreContainers(p.Spec.Containers), InitContainers: coreContainers(p.Spec.InitContainers),
		},
		Status: corev1.PodStatus{Phase: corev1.PodPhase(p.Status.Phase), PodIP: p.Status.PodIP},
	}
	if p.DeletionTimestamp != nil {
		ts := metav1.NewTime(*p.DeletionTimestamp)
		out.DeletionTimestamp = &ts
	}
	for _, ip := range p.Status.PodIPs {
		out.Status.PodIPs = append(out.Status.PodIPs, corev1.PodIP{IP: ip.IP})
	}
	for _, c := range p.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{Type: corev1.PodConditionType(c.Type), Status: corev1.ConditionStatus(c.Status)})
	}
	return out
}

// flat is one endpoint as both sides must agree on it.
type flat struct {
	AddressType, Pod, Addresses, Ports string
	Ready, Serving, Terminating        bool
	Hostname, NodeName, Zone, Hints    string
}

func (f flat) key() string { return f.AddressType + "/" + f.Pod }

func kubeFlat(ss []*discovery.EndpointSlice) ([]flat, error) {
	var out []flat
	for _, s := range ss {
		var ports []string
		for _, p := range s.Ports {
			app := "-"
			if p.AppProtocol != nil {
				app = *p.AppProtocol
			}
			ports = append(ports, fmt.Sprintf("%s/%s/%d/%s", deref(p.Name), *p.Protocol, *p.Port, app))
		}
		slices.Sort(ports)
		for _, ep := range s.Endpoints {
			addrs := slices.Clone(ep.Addresses)
			slices.Sort(addrs)
			f := flat{
				AddressType: string(s.AddressType), Pod: ep.TargetRef.Name, Addresses: fmt.Sprint(addrs), Ports: fmt.Sprint(ports),
				Ready: derefBool(ep.Conditions.Ready), Serving: derefBool(ep.Conditions.Serving), Terminating: derefBool(ep.Conditions.Terminating),
				Hostname: deref(ep.Hostname), NodeName: deref(ep.NodeName), Zone: deref(ep.Zone),
			}
			if ep.Hints != nil {
				for _, z := range ep.Hints.ForZones {
					f.Hints += "zone:" + z.Name + ";"
				}
				for _, n := range ep.Hints.ForNodes {
					f.Hints += "node:" + n.Name + ";"
				}
			}
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b flat) int { return cmp.Compare(a.key(), b.key()) })
	return out, nil
}

func svcnetFlat(ss []*endpoints.Slice) []flat {
	var out []flat
	for _, s := range ss {
		var ports []string
		for _, p := range s.Ports {
			app := "-"
			if p.AppProtocol != nil {
				app = *p.AppProtocol
			}
			ports = append(ports, fmt.Sprintf("%s/%s/%d/%s", p.Name, p.Protocol, p.Port, app))
		}
		slices.Sort(ports)
		for _, ep := range s.Endpoints {
			var addrs []string
			for _, a := range ep.Addresses {
				addrs = append(addrs, a.String())
			}
			slices.Sort(addrs)
			f := flat{
				AddressType: string(s.AddressType), Pod: ep.TargetRef.Name, Addresses: fmt.Sprint(addrs), Ports: fmt.Sprint(ports),
				Ready: ep.Conditions.Ready, Serving: ep.Conditions.Serving, Terminating: ep.Conditions.Terminating,
				Hostname: ep.Hostname, NodeName: ep.NodeName, Zone: ep.Zone,
			}
			if ep.Hints != nil {
				for _, z := range ep.Hints.ForZones {
					f.Hints += "zone:" + z.Name + ";"
				}
				for _, n := range ep.Hints.ForNodes {
					f.Hints += "node:" + n.Name + ";"
				}
			}
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b flat) int { return cmp.Compare(a.key(), b.key()) })
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefBool(b *bool) bool { return b != nil && *b }
