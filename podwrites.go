package svcnet

import (
	"errors"

	"github.com/svcnet/svcnet/service"
)

// PodWrite is one pod change for ApplyPodWrites: with Pod set, the pod is
// added or updated as by ApplyPod; otherwise the pod Delete names is
// removed as by DeletePod.
type PodWrite struct {
	Pod    *service.Pod
	Delete service.NamespacedName
	// Owned hands Pod over to the Cluster: it keeps that object, and the
	// labels, slices and pointers in it, instead of a deep copy, so the
	// caller must never change any of them again. The simulator, which
	// builds a new object for every write over labels and a spec it never
	// changes, saves a copy of every pod (a third of its memory at scale).
	Owned bool
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
			out[i], err = c.stagePod(w.Pod, w.Owned)
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
