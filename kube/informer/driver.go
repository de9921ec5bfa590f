package informer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/kube/convert"
	"github.com/svcnet/svcnet/service"
)

// Mode says where a Cluster's EndpointSlices come from and go.
type Mode uint8

// The modes; see the package doc.
const (
	// Compute: svcnet computes the slices and writes nothing.
	Compute Mode = iota
	// Follow: the cluster's own slices are used.
	Follow
	// Controller: svcnet computes the slices and writes them back.
	Controller
)

// String returns "compute", "follow" or "controller".
func (m Mode) String() string {
	switch m {
	case Compute:
		return "compute"
	case Follow:
		return "follow"
	case Controller:
		return "controller"
	}
	return fmt.Sprintf("Mode(%d)", m)
}

// ParseMode parses "compute", "follow" or "controller".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{Compute, Follow, Controller} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: mode %q: want compute, follow or controller", ErrConfig, s)
}

// DefaultManagedBy is the endpointslice.kubernetes.io/managed-by label of
// the slices Controller mode writes: svcnet's controller, not
// Kubernetes' (endpointslice-controller.k8s.io), so that neither touches
// the other's slices.
const DefaultManagedBy = "endpointslice-controller.svcnet.dev"

// Errors of the package.
var (
	// ErrConfig: a Config New cannot run.
	ErrConfig = errors.New("informer: invalid config")
	// ErrStopped: Do after Run returned.
	ErrStopped = errors.New("informer: driver stopped")
)

// Config configures a Driver.
type Config struct {
	// Client is the API; client-go's fake clientset in tests. Required.
	Client kubernetes.Interface
	// Cluster is fed; the Driver is its only writer while Run runs
	// (reach it through Do). Required. For Follow it must be made with
	// svcnet.Config.ExternalSlices, for the other modes without.
	Cluster *svcnet.Cluster
	// Mode is Compute (the zero value), Follow or Controller.
	Mode Mode
	// Resync is the informers' resync period: every object is delivered
	// again that often, and one the Cluster refused is tried again. Zero
	// means none.
	Resync time.Duration
	// ManagedBy is Controller mode's managed-by label value; "" means
	// DefaultManagedBy.
	ManagedBy string
	// Errors is told each object the Cluster refused, each conversion
	// that failed and each slice write that failed, from the driver's
	// goroutine; nil drops them (Stats counts them).
	Errors func(error)
}

// Stats counts what the driver did.
type Stats struct {
	// Applied is the objects given to the Cluster (added, updated or
	// deleted).
	Applied uint64
	// Skipped is the deliveries of an object unchanged since it was
	// applied (resyncs, mostly).
	Skipped uint64
	// Failed is the objects the Cluster refused or that did not convert,
	// and the slice writes that failed.
	Failed uint64
	// Writes is the slice creates, updates and deletes Controller mode
	// made.
	Writes uint64
}

// Driver runs informers and feeds a Cluster; see the package doc.
type Driver struct {
	cfg      Config
	c        *svcnet.Cluster
	q        *queue
	factory  informers.SharedInformerFactory
	nodes    cache.SharedIndexInformer
	services cache.SharedIndexInformer
	pods     cache.SharedIndexInformer
	slices   cache.SharedIndexInformer // Follow and Controller
	// handlers report whether each event handler has been given its
	// informer's initial list (not only the informer's cache).
	handlers []cache.InformerSynced

	do      chan func()
	synced  chan struct{}
	stopped chan struct{}
	started atomic.Bool

	applied, skipped, failed, writes atomic.Uint64

	// The worker goroutine's own: the resourceVersion last applied per
	// key, the uid of each Service applied, and the Services whose slices
	// Controller mode must write.
	rv    map[key]string
	uid   map[string]types.UID
	dirty map[service.NamespacedName]bool
}

// New returns a Driver for cfg; Run starts it. It checks that the
// Cluster's Config.ExternalSlices suits the mode.
func New(cfg Config) (*Driver, error) {
	if cfg.Client == nil || cfg.Cluster == nil {
		return nil, fmt.Errorf("%w: Client and Cluster are required", ErrConfig)
	}
	if cfg.Mode > Controller {
		return nil, fmt.Errorf("%w: unknown mode %v", ErrConfig, cfg.Mode)
	}
	if cfg.Resync < 0 {
		return nil, fmt.Errorf("%w: Resync %v: must not be negative", ErrConfig, cfg.Resync)
	}
	if cfg.ManagedBy == "" {
		cfg.ManagedBy = DefaultManagedBy
	}
	if external := cfg.Cluster.Config().ExternalSlices; external != (cfg.Mode == Follow) {
		return nil, fmt.Errorf("%w: mode %v needs a Cluster with ExternalSlices %v", ErrConfig, cfg.Mode, cfg.Mode == Follow)
	}
	d := &Driver{
		cfg: cfg, c: cfg.Cluster, q: newQueue(),
		do: make(chan func()), synced: make(chan struct{}), stopped: make(chan struct{}),
		rv: map[key]string{}, uid: map[string]types.UID{}, dirty: map[service.NamespacedName]bool{},
	}
	d.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Client, cfg.Resync, informers.WithTransform(dropManagedFields))
	d.nodes = d.factory.Core().V1().Nodes().Informer()
	d.services = d.factory.Core().V1().Services().Informer()
	d.pods = d.factory.Core().V1().Pods().Informer()
	for inf, k := range map[cache.SharedIndexInformer]kind{d.nodes: kindNode, d.services: kindService, d.pods: kindPod} {
		reg, err := inf.AddEventHandler(d.enqueue(k))
		if err != nil {
			return nil, fmt.Errorf("informer: %w", err)
		}
		d.handlers = append(d.handlers, reg.HasSynced)
	}
	if cfg.Mode != Compute {
		d.slices = d.factory.Discovery().V1().EndpointSlices().Informer()
		h := d.enqueue(kindSlice)
		if cfg.Mode == Controller {
			h = cache.ResourceEventHandlerFuncs{
				AddFunc:    d.enqueueWrite,
				UpdateFunc: func(_, obj any) { d.enqueueWrite(obj) },
				DeleteFunc: d.enqueueWrite,
			}
		}
		reg, err := d.slices.AddEventHandler(h)
		if err != nil {
			return nil, fmt.Errorf("informer: %w", err)
		}
		d.handlers = append(d.handlers, reg.HasSynced)
	}
	return d, nil
}

// dropManagedFields is the informers' transform: managed fields are
// server-side apply's bookkeeping, large, and unused here.
func dropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// enqueue returns handlers that only enqueue the object's key, as
// client-go's controllers do.
func (d *Driver) enqueue(k kind) cache.ResourceEventHandler {
	add := func(obj any) {
		name, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err == nil {
			d.q.add(key{k, name})
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }, DeleteFunc: add}
}

// enqueueWrite queues a slice write for the Service of one of Controller
// mode's own slices (someone changed or deleted it, or it is left from
// an earlier run).
func (d *Driver) enqueueWrite(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok || s.Labels[discoveryv1.LabelManagedBy] != d.cfg.ManagedBy || s.Labels[discoveryv1.LabelServiceName] == "" {
		return
	}
	d.q.add(key{kindWrite, s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName]})
}

// Synced is closed once the informers have listed everything and the
// driver has applied it.
func (d *Driver) Synced() <-chan struct{} { return d.synced }

// Stats returns the counts so far; safe from any goroutine.
func (d *Driver) Stats() Stats {
	return Stats{Applied: d.applied.Load(), Skipped: d.skipped.Load(), Failed: d.failed.Load(), Writes: d.writes.Load()}
}

// Do runs f on the driver's goroutine, between two objects, and returns
// its error: the way to read or change the Cluster while Run runs. It
// waits for Run to start, and returns ErrStopped once Run has returned.
func (d *Driver) Do(f func(c *svcnet.Cluster) error) error {
	done := make(chan error, 1)
	select {
	case d.do <- func() { done <- f(d.c) }:
	case <-d.stopped:
		return ErrStopped
	}
	select {
	case err := <-done:
		return err
	case <-d.stopped:
		// f did not return (it called runtime.Goexit).
		return ErrStopped
	}
}

// Run starts the informers, applies what they list, then applies their
// events until ctx is done; it returns ctx's error then, after the
// informers stopped. It may be called once.
func (d *Driver) Run(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Run called twice", ErrConfig)
	}
	defer d.factory.Shutdown()
	defer close(d.stopped)
	d.factory.Start(ctx.Done())
	// The handlers' sync, not only the caches': the initial list is
	// queued when this returns.
	if !cache.WaitForCacheSync(ctx.Done(), d.handlers...) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return errors.New("informer: the informers did not sync")
	}
	d.batch()
	close(d.synced)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f := <-d.do:
			f()
		case <-d.q.ready:
			d.batch()
		}
	}
}

// batch applies every queued key, writes Controller mode's slices, and
// syncs the nodes' proxies and the DNS.
func (d *Driver) batch() {
	keys := d.q.take()
	for _, k := range keys {
		d.process(k)
	}
	todo := d.dirty
	d.dirty = map[service.NamespacedName]bool{}
	for nn := range todo {
		d.writeSlices(nn)
	}
	if len(keys) > 0 {
		d.c.SyncAllNodes()
		if err := d.c.SyncDNS(); err != nil {
			d.fail(fmt.Errorf("informer: sync DNS: %w", err))
		}
	}
}

func (d *Driver) fail(err error) {
	d.failed.Add(1)
	if d.cfg.Errors != nil {
		d.cfg.Errors(err)
	}
}

// done records a Cluster call's result: the slices it changed are
// Controller mode's to write.
func (d *Driver) done(ch svcnet.Changes) {
	d.applied.Add(1)
	if d.cfg.Mode != Controller {
		return
	}
	for _, sc := range ch.Slices {
		d.dirty[sc.Service] = true
	}
	for _, sc := range ch.Services {
		s := sc.New
		if s == nil {
			s = sc.Old
		}
		d.dirty[s.Key()] = true
	}
}

// unchanged reports whether obj's resourceVersion is the one applied.
func (d *Driver) unchanged(k key, obj metav1.Object) bool {
	if rv, ok := d.rv[k]; ok && rv == obj.GetResourceVersion() && rv != "" {
		d.skipped.Add(1)
		return true
	}
	return false
}

func (d *Driver) process(k key) {
	if k.kind == kindWrite {
		ns, name, _ := cache.SplitMetaNamespaceKey(k.name)
		d.writeSlices(service.NamespacedName{Namespace: ns, Name: name})
		return
	}
	inf := map[kind]cache.SharedIndexInformer{kindNode: d.nodes, kindService: d.services, kindPod: d.pods, kindSlice: d.slices}[k.kind]
	obj, exists, err := inf.GetIndexer().GetByKey(k.name)
	if err != nil {
		d.fail(fmt.Errorf("informer: %v %s: %w", k.kind, k.name, err))
		return
	}
	ns, name, _ := cache.SplitMetaNamespaceKey(k.name)
	nn := service.NamespacedName{Namespace: ns, Name: name}
	if !exists {
		d.remove(k, nn)
		return
	}
	if d.unchanged(k, obj.(metav1.Object)) {
		return
	}
	var ch svcnet.Changes
	switch o := obj.(type) {
	case *corev1.Node:
		var n *service.Node
		if n, err = convert.NodeFromKube(o); err == nil {
			ch, err = d.c.AddNode(n)
		}
	case *corev1.Pod:
		var p *service.Pod
		if p, err = convert.PodFromKube(o); err == nil {
			ch, err = d.c.ApplyPod(p)
		}
	case *corev1.Service:
		ch, err = d.applyService(o)
	case *discoveryv1.EndpointSlice:
		if o.Labels[discoveryv1.LabelServiceName] == "" {
			return // not a Service's slice
		}
		var s *endpoints.Slice
		if s, err = convert.SliceFromKube(o); err == nil {
			ch, err = d.c.ApplyEndpointSlice(s)
		}
	}
	if err != nil {
		// Not recorded as applied: tried again at its next delivery.
		d.fail(fmt.Errorf("informer: %v %s: %w", k.kind, k.name, err))
		return
	}
	d.rv[k] = obj.(metav1.Object).GetResourceVersion()
	d.done(ch)
}

// remove takes an object that is gone from the API out of the Cluster.
func (d *Driver) remove(k key, nn service.NamespacedName) {
	delete(d.rv, k)
	var ch svcnet.Changes
	var err error
	switch k.kind {
	case kindNode:
		ch, err = d.c.RemoveNode(nn.Name)
	case kindPod:
		ch, err = d.c.DeletePod(nn)
	case kindService:
		delete(d.uid, k.name)
		ch, err = d.c.DeleteService(nn)
	case kindSlice:
		ch, err = d.c.DeleteEndpointSlice(nn)
	}
	switch {
	case errors.Is(err, svcnet.ErrNotFound), errors.Is(err, service.ErrNotFound):
		// Never applied (refused, or not a Service's slice).
		return
	case err != nil:
		d.fail(fmt.Errorf("informer: delete %v %s: %w", k.kind, k.name, err))
		return
	}
	d.done(ch)
}

// applyService creates or updates a Service in the Cluster, then its
// load-balancer status.
func (d *Driver) applyService(o *corev1.Service) (svcnet.Changes, error) {
	s, err := convert.ServiceFromKube(o)
	if err != nil {
		return svcnet.Changes{}, err
	}
	k := cache.MetaObjectToName(o).String()
	nn := s.Key()
	var all svcnet.Changes
	_, getErr := d.c.Service(nn)
	exists := getErr == nil
	if old, ok := d.uid[k]; ok && old != o.UID && exists {
		// Deleted and created again while the informer looked away.
		ch, err := d.c.DeleteService(nn)
		if err != nil {
			return all, err
		}
		d.done(ch)
		exists = false
	}
	status := s.Status
	// The Registry sets its own system metadata and refuses a
	// resourceVersion on create (or another than its own on update).
	s.UID, s.ResourceVersion, s.Generation = "", "", 0
	s.CreationTimestamp, s.ManagedFields = time.Time{}, nil
	s.Status = service.ServiceStatus{}
	var ch svcnet.Changes
	if exists {
		ch, err = d.c.UpdateService(s)
	} else {
		ch, err = d.c.CreateService(s)
	}
	if err != nil {
		return all, err
	}
	d.uid[k] = o.UID
	got, err := d.c.Service(nn)
	if err != nil {
		return ch, err
	}
	if !reflect.DeepEqual(normalLB(got.Status.LoadBalancer), normalLB(status.LoadBalancer)) {
		got.Status.LoadBalancer = status.LoadBalancer
		sch, err := d.c.UpdateServiceStatus(got)
		if err != nil {
			d.done(ch)
			return svcnet.Changes{}, err
		}
		ch.Services = append(ch.Services, sch.Services...)
		ch.Slices = append(ch.Slices, sch.Slices...)
	}
	return ch, nil
}

// normalLB makes an empty ingress list nil, for comparing.
func normalLB(s service.LoadBalancerStatus) service.LoadBalancerStatus {
	if len(s.Ingress) == 0 {
		s.Ingress = nil
	}
	return s
}

// writeSlices makes the API's slices of a Service that Controller mode
// manages what the Cluster computed: creates the missing, updates the
// changed, deletes the rest. A failed write is reported, and the Service
// is written again at the end of the next batch (the next event, or the
// next resync).
func (d *Driver) writeSlices(nn service.NamespacedName) {
	if d.cfg.Mode != Controller {
		return
	}
	want := map[string]*discoveryv1.EndpointSlice{}
	var owner []metav1.OwnerReference
	if obj, ok, _ := d.services.GetIndexer().GetByKey(nn.String()); ok {
		svc := obj.(*corev1.Service)
		owner = []metav1.OwnerReference{*metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))}
	}
	for _, s := range d.c.Slices(nn) {
		k := convert.SliceToKube(s)
		k.TypeMeta = metav1.TypeMeta{}
		k.UID, k.ResourceVersion, k.Generation = "", "", 0
		k.CreationTimestamp, k.ManagedFields = metav1.Time{}, nil
		if k.Labels == nil {
			k.Labels = map[string]string{}
		}
		k.Labels[discoveryv1.LabelManagedBy] = d.cfg.ManagedBy
		k.OwnerReferences = owner
		want[k.Name] = k
	}
	have := map[string]*discoveryv1.EndpointSlice{}
	objs, _ := d.slices.GetIndexer().ByIndex(cache.NamespaceIndex, nn.Namespace)
	for _, obj := range objs {
		s := obj.(*discoveryv1.EndpointSlice)
		if s.Labels[discoveryv1.LabelManagedBy] == d.cfg.ManagedBy && s.Labels[discoveryv1.LabelServiceName] == nn.Name {
			have[s.Name] = s
		}
	}
	api := d.cfg.Client.DiscoveryV1().EndpointSlices(nn.Namespace)
	// The API calls are bounded: a server that hangs does not stop the
	// driver for more than this per call.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	failed := false
	write := func(op string, name string, err error) {
		if err != nil {
			failed = true
			d.fail(fmt.Errorf("informer: %s EndpointSlice %s/%s: %w", op, nn.Namespace, name, err))
			return
		}
		d.writes.Add(1)
	}
	for name, w := range want {
		h, ok := have[name]
		switch {
		case !ok:
			_, err := api.Create(ctx, w, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				// The cache has not seen the slice yet (this driver
				// wrote it a moment ago), or another manager has one
				// of that name: look at the API's.
				err = d.updateFromAPI(ctx, nn.Namespace, w)
			}
			write("create", name, err)
		case !sameSlice(h, w):
			w.ResourceVersion = h.ResourceVersion
			_, err := api.Update(ctx, w, metav1.UpdateOptions{})
			if apierrors.IsConflict(err) {
				// The cache is behind the API.
				err = d.updateFromAPI(ctx, nn.Namespace, w)
			}
			write("update", name, err)
		}
	}
	for name, h := range have {
		if _, ok := want[name]; !ok {
			err := api.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &h.UID}})
			if apierrors.IsNotFound(err) {
				err = nil
			}
			write("delete", name, err)
		}
	}
	if failed {
		d.dirty[nn] = true
	}
}

// updateFromAPI makes the API's slice of w's name what w says, reading
// it from the API rather than the cache; a slice of that name that
// another manager owns is an error, and is left alone.
func (d *Driver) updateFromAPI(ctx context.Context, namespace string, w *discoveryv1.EndpointSlice) error {
	api := d.cfg.Client.DiscoveryV1().EndpointSlices(namespace)
	h, err := api.Get(ctx, w.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if m := h.Labels[discoveryv1.LabelManagedBy]; m != d.cfg.ManagedBy {
		return fmt.Errorf("the name is taken by a slice managed by %q", m)
	}
	if sameSlice(h, w) {
		return nil
	}
	w.ResourceVersion = h.ResourceVersion
	_, err = api.Update(ctx, w, metav1.UpdateOptions{})
	return err
}

// sameSlice reports whether the API's slice h already says what w says.
func sameSlice(h, w *discoveryv1.EndpointSlice) bool {
	return apiequality.Semantic.DeepEqual(h.Labels, w.Labels) &&
		apiequality.Semantic.DeepEqual(h.OwnerReferences, w.OwnerReferences) &&
		h.AddressType == w.AddressType &&
		apiequality.Semantic.DeepEqual(h.Endpoints, w.Endpoints) &&
		apiequality.Semantic.DeepEqual(h.Ports, w.Ports)
}
