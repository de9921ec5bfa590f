package svcnet

import (
	"io"
	"sync"
	"time"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// Concurrent wraps a Cluster for embedders that call it from many
// goroutines: every call takes one lock, so calls run one at a time, in
// the order they take it. DNS queries through DNS() need no lock: the
// resolver publishes immutable snapshots.
//
// It offers every method of the Cluster (TestConcurrentCoversCluster
// keeps the two lists in step). What the wrappers return is safe to keep
// after the lock is released: copies (Nodes, Pods, Service, ...) or
// immutable values (Table, Slices, NodeProxy).
//
// Use the Cluster only through the wrapper once wrapped.
type Concurrent struct {
	mu sync.Mutex
	c  *Cluster
}

// NewConcurrent wraps c.
func NewConcurrent(c *Cluster) *Concurrent { return &Concurrent{c: c} }

// Do runs f with the cluster, holding the lock: the way to make several
// calls as one step, or to call what the wrapper does not list.
func (w *Concurrent) Do(f func(c *Cluster) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return f(w.c)
}

// DNS returns the cluster DNS resolver, which is safe to query from any
// goroutine without the lock. Finding it takes the lock, since Restore
// replaces it; a resolver obtained before a Restore keeps answering
// from the state before it.
func (w *Concurrent) DNS() *dnsname.Resolver {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.dns
}

// Apply is Cluster.Apply under the lock.
func (w *Concurrent) Apply(manifests []byte) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Apply(manifests)
}

// AddNode is Cluster.AddNode under the lock.
func (w *Concurrent) AddNode(n *service.Node) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.AddNode(n)
}

// ApplyPod is Cluster.ApplyPod under the lock.
func (w *Concurrent) ApplyPod(p *service.Pod) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.ApplyPod(p)
}

// DeletePod is Cluster.DeletePod under the lock.
func (w *Concurrent) DeletePod(key service.NamespacedName) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.DeletePod(key)
}

// CreateService is Cluster.CreateService under the lock.
func (w *Concurrent) CreateService(s *service.Service) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.CreateService(s)
}

// UpdateService is Cluster.UpdateService under the lock.
func (w *Concurrent) UpdateService(s *service.Service) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.UpdateService(s)
}

// DeleteService is Cluster.DeleteService under the lock.
func (w *Concurrent) DeleteService(key service.NamespacedName) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.DeleteService(key)
}

// SyncNode is Cluster.SyncNode under the lock.
func (w *Concurrent) SyncNode(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.SyncNode(name)
}

// SyncAllNodes is Cluster.SyncAllNodes under the lock.
func (w *Concurrent) SyncAllNodes() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.c.SyncAllNodes()
}

// SyncDNS is Cluster.SyncDNS under the lock.
func (w *Concurrent) SyncDNS() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.SyncDNS()
}

// Dial is Cluster.Dial under the lock (routing moves picker state).
func (w *Concurrent) Dial(from Source, target string) (Trace, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Dial(from, target)
}

// Resolve is Cluster.Resolve under the lock.
func (w *Concurrent) Resolve(from Source, name string, qtype dnsname.Type) (dnsname.SearchResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Resolve(from, name, qtype)
}

// RemoveNode is Cluster.RemoveNode under the lock.
func (w *Concurrent) RemoveNode(name string) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.RemoveNode(name)
}

// ApplyPodWrites is Cluster.ApplyPodWrites under the lock: the writes
// are one step for every other caller.
func (w *Concurrent) ApplyPodWrites(writes []PodWrite) ([]Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.ApplyPodWrites(writes)
}

// UpdateServiceStatus is Cluster.UpdateServiceStatus under the lock.
func (w *Concurrent) UpdateServiceStatus(s *service.Service) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.UpdateServiceStatus(s)
}

// NodeStale is Cluster.NodeStale under the lock.
func (w *Concurrent) NodeStale(name string) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.NodeStale(name)
}

// DNSPending is Cluster.DNSPending under the lock.
func (w *Concurrent) DNSPending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.DNSPending()
}

// Table is Cluster.Table under the lock. A Table is immutable: the one
// returned stays valid, and unchanged, after later writes.
func (w *Concurrent) Table() *proxy.Table {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Table()
}

// Slices is Cluster.Slices under the lock. Slices are immutable.
func (w *Concurrent) Slices(key service.NamespacedName) []*endpoints.Slice {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Slices(key)
}

// Nodes is Cluster.Nodes under the lock (copies).
func (w *Concurrent) Nodes() []*service.Node {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Nodes()
}

// Pods is Cluster.Pods under the lock (copies).
func (w *Concurrent) Pods(namespace string) []*service.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Pods(namespace)
}

// Pod is Cluster.Pod under the lock (a copy).
func (w *Concurrent) Pod(key service.NamespacedName) (*service.Pod, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Pod(key)
}

// Service is Cluster.Service under the lock (a copy).
func (w *Concurrent) Service(key service.NamespacedName) (*service.Service, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Service(key)
}

// Services is Cluster.Services under the lock (copies).
func (w *Concurrent) Services(namespace string) []*service.Service {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Services(namespace)
}

// Snapshot is Cluster.Snapshot under the lock: a consistent cut.
func (w *Concurrent) Snapshot() ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Snapshot()
}

// Restore is Cluster.Restore under the lock. It replaces the resolver:
// call DNS again afterwards.
func (w *Concurrent) Restore(data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Restore(data)
}

// Restored is Cluster.Restored under the lock.
func (w *Concurrent) Restored() []service.RepairProblem {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Restored()
}

// Repair is Cluster.Repair under the lock.
func (w *Concurrent) Repair() (service.RepairReport, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Repair()
}

// PrintServices is Cluster.PrintServices under the lock; out is written
// while the lock is held.
func (w *Concurrent) PrintServices(out io.Writer, namespace string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.PrintServices(out, namespace)
}

// PrintEndpointSlices is Cluster.PrintEndpointSlices under the lock.
func (w *Concurrent) PrintEndpointSlices(out io.Writer, namespace string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.PrintEndpointSlices(out, namespace)
}

// PrintPods is Cluster.PrintPods under the lock.
func (w *Concurrent) PrintPods(out io.Writer, namespace string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.PrintPods(out, namespace)
}

// PrintNodes is Cluster.PrintNodes under the lock.
func (w *Concurrent) PrintNodes(out io.Writer) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.PrintNodes(out)
}

// Generation is Cluster.Generation under the lock.
func (w *Concurrent) Generation() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Generation()
}

// Generations is Cluster.Generations under the lock.
func (w *Concurrent) Generations() (oldest, newest uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Generations()
}

// GenerationAt is Cluster.GenerationAt under the lock.
func (w *Concurrent) GenerationAt(t time.Time) (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.GenerationAt(t)
}

// NextGeneration is Cluster.NextGeneration under the lock.
func (w *Concurrent) NextGeneration(g uint64) (uint64, time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.NextGeneration(g)
}

// NodeGeneration is Cluster.NodeGeneration under the lock.
func (w *Concurrent) NodeGeneration(name string) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.NodeGeneration(name)
}

// SwapNodeGeneration is Cluster.SwapNodeGeneration under the lock.
func (w *Concurrent) SwapNodeGeneration(name string, g uint64) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.SwapNodeGeneration(name, g)
}

// SyncNodeTo is Cluster.SyncNodeTo under the lock.
func (w *Concurrent) SyncNodeTo(name string, g uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.SyncNodeTo(name, g)
}

// Proxy is Cluster.Proxy under the lock. The NodeProxy it returns is a
// read-only snapshot (its Table is immutable), safe to keep.
func (w *Concurrent) Proxy(name string) (NodeProxy, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Proxy(name)
}

// Route is Cluster.Route under the lock.
func (w *Concurrent) Route(node string, pkt proxy.Packet, now time.Time) (proxy.Route, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Route(node, pkt, now)
}

// Done is Cluster.Done under the lock: it updates the picker state of
// the proxy that routed r.
func (w *Concurrent) Done(r proxy.Route) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.c.Done(r)
}

// LoadBalance is Cluster.LoadBalance under the lock.
func (w *Concurrent) LoadBalance(nodes []string, pkt proxy.Packet, now time.Time) (string, proxy.Route, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.LoadBalance(nodes, pkt, now)
}
