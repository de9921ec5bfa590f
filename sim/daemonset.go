package sim

import (
	"fmt"

	"github.com/svcnet/svcnet/service"
)

// DaemonSet is an apps/v1 DaemonSet with the fields the simulator acts
// on, under Kubernetes' field names, so that a real manifest decodes:
// selector, template (its nodeSelector, required node affinity and
// tolerations choose the nodes), updateStrategy (RollingUpdate with maxUnavailable and
// maxSurge, or OnDelete) and minReadySeconds. It runs one pod on every
// node that should run it, as NodeShouldRunDaemonPod decides
// (pkg/controller/daemon/daemon_controller.go): the template's
// nodeSelector and required node affinity match the node and the node
// has no taint the pod does not tolerate. A DaemonSet pod tolerates what the controller
// adds (util.AddOrUpdateDaemonPodTolerations): node.kubernetes.io/
// unschedulable (so a cordoned node still runs it), not-ready and
// unreachable NoExecute (so it is never evicted from a NotReady node),
// and the pressure taints. A node NotReady in the API carries the
// not-ready NoSchedule taint, so it gets no new pod but keeps its own.
type DaemonSet struct {
	service.TypeMeta   `json:",inline"`
	service.ObjectMeta `json:"metadata,omitempty"`
	Spec               DaemonSetSpec `json:"spec"`
}

// DaemonSetSpec is a DaemonSet's desired state.
type DaemonSetSpec struct {
	// Selector selects the pods; it must match the template's labels.
	Selector *service.LabelSelector `json:"selector"`
	// Template is the pod template.
	Template PodTemplateSpec `json:"template"`
	// UpdateStrategy is how pods are replaced on a template change.
	UpdateStrategy DaemonSetUpdateStrategy `json:"updateStrategy,omitzero"`
	// MinReadySeconds is how long a pod must be ready before it counts
	// as available.
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// RevisionHistoryLimit is carried, not interpreted.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// DaemonSetUpdateStrategy is a DaemonSet's update strategy.
type DaemonSetUpdateStrategy struct {
	// Type is UpdateRollingUpdate (the default, "") or UpdateOnDelete.
	Type string `json:"type,omitempty"`
	// RollingUpdate configures UpdateRollingUpdate.
	RollingUpdate *RollingUpdateDaemonSet `json:"rollingUpdate,omitempty"`
}

// RollingUpdateDaemonSet bounds a DaemonSet's rolling update.
type RollingUpdateDaemonSet struct {
	// MaxUnavailable is how many nodes' pods may be unavailable during
	// the update, a number or a percentage of the nodes that should run
	// the pod, rounded up; nil means 1.
	MaxUnavailable *service.IntOrString `json:"maxUnavailable,omitempty"`
	// MaxSurge is how many nodes may run a new pod beside the old one
	// during the update, a number or a percentage rounded up; nil
	// means 0. When it is above 0, maxUnavailable must be 0.
	MaxSurge *service.IntOrString `json:"maxSurge,omitempty"`
}

// GroupVersionKind returns "apps/v1", "DaemonSet".
func (d *DaemonSet) GroupVersionKind() (string, string) { return apiVersionApps, kindDaemonSet }

// Meta returns the DaemonSet's metadata.
func (d *DaemonSet) Meta() *service.ObjectMeta { return &d.ObjectMeta }

// RollingBounds returns maxSurge and maxUnavailable as pod counts for
// desired nodes, as updatedDesiredNodeCounts in
// pkg/controller/daemon/update.go does: percentages of desired rounded
// up, defaults 0 and 1, and maxUnavailable 1 when both come out 0.
func (d *DaemonSet) RollingBounds(desired int32) (surge, unavailable int32, err error) {
	s, u := service.FromInt(0), service.FromInt(1)
	if ru := d.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			s = *ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			u = *ru.MaxUnavailable
		}
	}
	if surge, err = scaledValue(s, desired, true); err != nil {
		return 0, 0, fmt.Errorf("sim: daemonset %s: spec.updateStrategy.rollingUpdate.maxSurge: %w", d.Key(), err)
	}
	if unavailable, err = scaledValue(u, desired, true); err != nil {
		return 0, 0, fmt.Errorf("sim: daemonset %s: spec.updateStrategy.rollingUpdate.maxUnavailable: %w", d.Key(), err)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable, nil
}
