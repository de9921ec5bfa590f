package svcnet

import (
	"github.com/svcnet/svcnet/dnsname"
	"io"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// ApplyEndpointSlice is Cluster.ApplyEndpointSlice under the lock.
func (w *Concurrent) ApplyEndpointSlice(sl *endpoints.Slice) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.ApplyEndpointSlice(sl)
}

// DeleteEndpointSlice is Cluster.DeleteEndpointSlice under the lock.
func (w *Concurrent) DeleteEndpointSlice(key service.NamespacedName) (Changes, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.DeleteEndpointSlice(key)
}

// AppliedSlices is Cluster.AppliedSlices under the lock (the slices are
// immutable).
func (w *Concurrent) AppliedSlices(key service.NamespacedName) []*endpoints.Slice {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.AppliedSlices(key)
}

// ObjectList is Cluster.ObjectList under the lock (the objects are
// copies).
func (w *Concurrent) ObjectList(opts ListOptions) (List, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.ObjectList(opts)
}

// NodeView is Cluster.NodeView under the lock (the view is a copy).
func (w *Concurrent) NodeView(name string) (*proxy.Proxy, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.NodeView(name)
}

// Config is Cluster.Config under the lock.
func (w *Concurrent) Config() Config {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Config()
}

// PrintPodsWith is Cluster.PrintPodsWith under the lock.
func (w *Concurrent) PrintPodsWith(out io.Writer, namespace string, opts PrintOptions) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.PrintPodsWith(out, namespace, opts)
}

// PrintNodesWith is Cluster.PrintNodesWith under the lock.
func (w *Concurrent) PrintNodesWith(out io.Writer, opts PrintOptions) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.PrintNodesWith(out, opts)
}

// Kubelet is Cluster.Kubelet under the lock (a copy).
func (w *Concurrent) Kubelet() dnsname.Kubelet {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.Kubelet()
}
