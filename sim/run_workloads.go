package sim

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/svcnet/svcnet/service"
)

// The workloads other than Deployments: how Run checks and adds them
// (their pods come at time 0, after every workload is added).

// addWorkload records a workload under its kind and key.
func (w *world) addWorkload(d *deploy) error {
	k := objectKey{d.kind, d.key}
	if _, dup := w.workloadByKey[k]; dup {
		return invalid("%s %s: defined twice", d.kind, d.key)
	}
	d.idx = len(w.deploys)
	w.deploys = append(w.deploys, d)
	w.workloadByKey[k] = d
	return nil
}

// workload resolves a timeline or churn target to a workload.
func (w *world) workloadRef(ref string) (*deploy, error) {
	kind, key, err := resolveWorkload(ref, func(kind string, key service.NamespacedName) bool {
		return w.workloadByKey[objectKey{kind, key}] != nil
	})
	if err != nil {
		return nil, err
	}
	return w.workloadByKey[objectKey{kind, key}], nil
}

// fieldErrorsErr joins a validation's FieldErrors as one error.
func fieldErrorsErr(kind string, key service.NamespacedName, errs service.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	all := make([]error, len(errs))
	for i, fe := range errs {
		all[i] = fe
	}
	return fmt.Errorf("%w: %s %s: %w", ErrInvalidScenario, kind, key, errors.Join(all...))
}

// templateSpec returns the template's pod spec for the workload's pods,
// not bound to a node, and its profile.
func (w *world) templateSpec(tmpl *PodTemplateSpec, minReady int32) (*service.PodSpec, *profile, error) {
	spec := tmpl.Spec
	spec.NodeName = ""
	prof, err := w.profileOf(&tmpl.ObjectMeta, &spec, minReady)
	return &spec, prof, err
}

func (w *world) addStatefulSet(in *StatefulSet) error {
	if in == nil {
		return invalid("statefulSets: null")
	}
	o := &StatefulSet{TypeMeta: in.TypeMeta, ObjectMeta: in.ObjectMeta.DeepCopy(), Spec: in.Spec}
	o.Spec.Template.ObjectMeta = in.Spec.Template.ObjectMeta.DeepCopy()
	o.Namespace = orDefault(o.Namespace)
	if err := fieldErrorsErr(kindStatefulSet, o.Key(), validateStatefulSet(o)); err != nil {
		return err
	}
	st := o.Spec.UpdateStrategy
	d := &deploy{kind: kindStatefulSet, key: o.Key(), replicas: o.ReplicaCount(), rev: 1,
		sts: &stsCtl{obj: o, start: o.StartOrdinal(), parallel: o.Spec.PodManagementPolicy == PodManagementParallel,
			onDelete: st.Type == UpdateOnDelete, partition: o.Partition(), svc: o.Spec.ServiceName, cur: 1,
			byOrd: map[int32]*pod{}}}
	var err error
	if d.spec, d.prof, err = w.templateSpec(&o.Spec.Template, o.Spec.MinReadySeconds); err != nil {
		return invalid("statefulset %s: %v", d.key, err)
	}
	return w.addWorkload(d)
}

func (w *world) addDaemonSet(in *DaemonSet) error {
	if in == nil {
		return invalid("daemonSets: null")
	}
	o := &DaemonSet{TypeMeta: in.TypeMeta, ObjectMeta: in.ObjectMeta.DeepCopy(), Spec: in.Spec}
	o.Spec.Template.ObjectMeta = in.Spec.Template.ObjectMeta.DeepCopy()
	o.Namespace = orDefault(o.Namespace)
	if err := fieldErrorsErr(kindDaemonSet, o.Key(), validateDaemonSet(o)); err != nil {
		return err
	}
	c := &dsCtl{obj: o, onDelete: o.Spec.UpdateStrategy.Type == UpdateOnDelete, selector: o.Spec.Template.Spec.NodeSelector}
	// util.AllowsSurge: a RollingUpdate whose maxSurge is not 0.
	if ru := o.Spec.UpdateStrategy.RollingUpdate; !c.onDelete && ru != nil && ru.MaxSurge != nil {
		n, err := scaledValue(*ru.MaxSurge, 1, false)
		c.surge = err == nil && (n != 0 || ru.MaxSurge.IsString && ru.MaxSurge.StrVal != "0%")
	}
	if raw := o.Spec.Template.Spec.Tolerations; len(raw) > 0 {
		if err := json.Unmarshal(raw, &c.tolerations); err != nil {
			return invalid("daemonset %s: spec.template.spec.tolerations: %v", o.Key(), err)
		}
	}
	c.tolerations = append(c.tolerations, daemonTolerations(o.Spec.Template.Spec.HostNetwork)...)
	var err error
	if c.affinity, err = parseNodeAffinity(o.Spec.Template.Spec.Affinity); err != nil {
		return invalid("daemonset %s: spec.template.spec.affinity: %v", o.Key(), err)
	}
	d := &deploy{kind: kindDaemonSet, key: o.Key(), rev: 1, ds: c}
	if d.spec, d.prof, err = w.templateSpec(&o.Spec.Template, o.Spec.MinReadySeconds); err != nil {
		return invalid("daemonset %s: %v", d.key, err)
	}
	return w.addWorkload(d)
}

func (w *world) addReplicaSet(in *ReplicaSet) error {
	if in == nil {
		return invalid("replicaSets: null")
	}
	o := &ReplicaSet{TypeMeta: in.TypeMeta, ObjectMeta: in.ObjectMeta.DeepCopy(), Spec: in.Spec}
	o.Spec.Template.ObjectMeta = in.Spec.Template.ObjectMeta.DeepCopy()
	o.Namespace = orDefault(o.Namespace)
	if err := fieldErrorsErr(kindReplicaSet, o.Key(), validateReplicaSet(o)); err != nil {
		return err
	}
	d := &deploy{kind: kindReplicaSet, key: o.Key(), replicas: o.ReplicaCount(), rev: 1}
	d.rsList = []*replicaSet{{rev: 1, replicas: d.replicas, labels: o.Spec.Template.Labels}}
	var err error
	if d.spec, d.prof, err = w.templateSpec(&o.Spec.Template, o.Spec.MinReadySeconds); err != nil {
		return invalid("replicaset %s: %v", d.key, err)
	}
	return w.addWorkload(d)
}

// startWorkload creates a workload's pods at time 0, running and ready.
func (w *world) startWorkload(d *deploy) error {
	switch d.kind {
	case kindReplicaSet:
		rs := d.rsList[0]
		for range rs.replicas {
			if err := w.placeRunning(w.createRSPodNow(d, rs)); err != nil {
				return err
			}
		}
	case kindStatefulSet:
		for i := range d.replicas {
			if err := w.placeRunning(w.createSTSPod(d, d.sts.start+i, 1)); err != nil {
				return err
			}
		}
	case kindDaemonSet:
		for _, n := range w.nodes {
			if run, _ := d.ds.shouldRun(n); run {
				p := w.createDSPod(d, n)
				w.bind(p, n)
				if err := w.placeRunning(p); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("sim: startWorkload %s", d.kind)
	}
	return nil
}
