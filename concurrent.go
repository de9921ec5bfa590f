package svcnet

import (
	"sync"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/service"
)

// Concurrent wraps a Cluster for embedders that call it from many
// goroutines: every call takes one lock, so calls run one at a time, in
// the order they take it. DNS queries through DNS() need no lock: the
// resolver publishes immutable snapshots.
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
func (w *Concurrent) Resolve(from service.NamespacedName, name string, qtype dnsname.Type) (dnsname.SearchResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Resolve(from, name, qtype)
}
