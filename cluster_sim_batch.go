package svcnet

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/svcnet/svcnet/service"
)

// PodWrite is one pod change for ApplyPodWrites: with Pod set, the pod is
// added or updated as by ApplyPod; otherwise the pod Delete names is
// removed as by DeletePod.
type PodWrite struct {
	Pod    *service.Pod
	Delete service.NamespacedName
}

// ApplyPodWrites applies pod changes in order, each as ApplyPod or
// DeletePod would, but publishes one proxy table (and one batch for the
// DNS) for all of them, as an endpoints controller that gathers pod
// changes over a batch period (kube-controller-manager's
// --endpointslice-updates-batch-period) programs them together. Under
// ImmediateSync the nodes and the DNS are synced once, at the end.
//
// It returns each write's Changes, in order. A write that fails (an
// invalid pod, the delete of an unknown one) changes nothing and its
// error is joined into the returned error; the other writes still apply.
// A pod left out of its slices for its IP (endpoints.ErrEndpointIP) is
// applied, as by ApplyPod, and the error reported.
//
// The simulator (package sim) uses it to write each batch of pod changes
// in O(changes) plus one table build, rather than one build per pod.
func (c *Cluster) ApplyPodWrites(writes []PodWrite) ([]Changes, error) {
	out := make([]Changes, len(writes))
	var all Changes
	var errs []error
	for i, w := range writes {
		var err error
		if w.Pod != nil {
			out[i], err = c.stagePod(w.Pod)
		} else {
			out[i], err = c.stageDelete(w.Delete)
		}
		if err != nil {
			errs = append(errs, err)
		}
		all.add(out[i])
	}
	if err := c.publish(all); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// stagePod records a pod in the control plane (the pod store, its IPs,
// the endpoints controller, the DNS batch) without publishing a table:
// ApplyPod is stagePod then publish.
func (c *Cluster) stagePod(pod *service.Pod) (Changes, error) {
	p := pod.DeepCopy()
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	if err := p.Validate(); err != nil {
		return Changes{}, err
	}
	key := p.Key()
	if old := c.pods[key]; old != nil && !old.CreationTimestamp.IsZero() {
		p.CreationTimestamp = old.CreationTimestamp
	} else if p.CreationTimestamp.IsZero() {
		p.CreationTimestamp = c.now()
	}
	if old := c.pods[key]; old != nil {
		for _, ip := range old.Status.PodIPs {
			if a, err := netip.ParseAddr(ip.IP); err == nil && c.podByIP[a] == key {
				delete(c.podByIP, a)
			}
		}
	}
	c.pods[key] = p
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			c.podByIP[a] = key
		}
	}
	sl, err := c.ctl.UpsertPod(p)
	c.pending.UpsertPod(p)
	return Changes{Slices: sl}, err
}

// stageDelete removes a pod from the control plane without publishing:
// DeletePod is stageDelete then publish.
func (c *Cluster) stageDelete(key service.NamespacedName) (Changes, error) {
	old, ok := c.pods[key]
	if !ok {
		return Changes{}, fmt.Errorf("%w: pod %s", ErrNotFound, key)
	}
	for _, ip := range old.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil && c.podByIP[a] == key {
			delete(c.podByIP, a)
		}
	}
	delete(c.pods, key)
	c.pending.DeletePod(key)
	return Changes{Slices: c.ctl.DeletePod(key)}, nil
}
