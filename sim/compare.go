package sim

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// Compare runs the scenario once per variant, in order, each with one
// thing changed (Variant.Apply), and returns their Results, each named
// by its variant; without variants it runs the scenario as is. Every
// variant runs even when another fails; the error joins their errors.
// The runs share nothing, so their differences are the variants' alone.
func Compare(s Scenario) ([]Result, error) {
	if len(s.Variants) == 0 {
		r, err := Run(s)
		return []Result{r}, err
	}
	out := make([]Result, 0, len(s.Variants))
	var errs []error
	for _, v := range s.Variants {
		r, err := Run(v.Apply(s))
		r.Variant = v.Name
		if err != nil {
			errs = append(errs, fmt.Errorf("variant %q: %w", v.Name, err))
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// Apply returns s with the variant's changes, sharing nothing it changes
// with s: an Algorithm becomes the cluster default and every Service's
// lb.svcnet.dev/algorithm annotation (generated ones included); a
// PreStopSleep replaces every workload container's preStop hook (0
// removes it); Dataplane and Seed replace the scenario's.
func (v Variant) Apply(s Scenario) Scenario {
	s.Variants = nil
	if v.Seed != nil {
		s.Seed = *v.Seed
	}
	if v.Dataplane != "" {
		s.Cluster.Dataplane = v.Dataplane
	}
	if v.Algorithm != "" {
		s.Cluster.Algorithm = v.Algorithm
		s.Workload.Algorithm = v.Algorithm
		svcs := make([]*service.Service, len(s.Services))
		for i, in := range s.Services {
			svc := in.DeepCopy()
			if svc != nil {
				if svc.Annotations == nil {
					svc.Annotations = map[string]string{}
				}
				svc.Annotations[proxy.AlgorithmAnnotation] = v.Algorithm
			}
			svcs[i] = svc
		}
		s.Services = svcs
	}
	if v.PreStopSleep != nil {
		ps := *v.PreStopSleep
		s.Workload.PreStopSleep = &ps
		deps := make([]*Deployment, len(s.Deployments))
		for i, in := range s.Deployments {
			d := in.DeepCopy()
			if d != nil {
				for j := range d.Spec.Template.Spec.Containers {
					setPreStop(&d.Spec.Template.Spec.Containers[j], ps.D())
				}
			}
			deps[i] = d
		}
		s.Deployments = deps
		// The other workloads: a copy whose template spec is its own
		// (the only part changed).
		withPreStop := func(spec *service.PodSpec) {
			*spec = (&service.Pod{Spec: *spec}).DeepCopy().Spec
			for j := range spec.Containers {
				setPreStop(&spec.Containers[j], ps.D())
			}
		}
		s.StatefulSets = slices.Clone(s.StatefulSets)
		for i, in := range s.StatefulSets {
			if in != nil {
				o := *in
				withPreStop(&o.Spec.Template.Spec)
				s.StatefulSets[i] = &o
			}
		}
		s.DaemonSets = slices.Clone(s.DaemonSets)
		for i, in := range s.DaemonSets {
			if in != nil {
				o := *in
				withPreStop(&o.Spec.Template.Spec)
				s.DaemonSets[i] = &o
			}
		}
		s.ReplicaSets = slices.Clone(s.ReplicaSets)
		for i, in := range s.ReplicaSets {
			if in != nil {
				o := *in
				withPreStop(&o.Spec.Template.Spec)
				s.ReplicaSets[i] = &o
			}
		}
	}
	return s
}

func setPreStop(c *service.Container, d time.Duration) {
	if d <= 0 {
		if c.Lifecycle != nil {
			c.Lifecycle.PreStop = nil
		}
		return
	}
	if c.Lifecycle == nil {
		c.Lifecycle = &service.Lifecycle{}
	}
	c.Lifecycle.PreStop = &service.LifecycleHandler{Sleep: &service.SleepAction{Seconds: int64((d + time.Second - 1) / time.Second)}}
}

// DeepCopy returns a copy of d that shares no memory with it; nil gives nil.
func (d *Deployment) DeepCopy() *Deployment {
	if d == nil {
		return nil
	}
	o := &Deployment{TypeMeta: d.TypeMeta, ObjectMeta: d.ObjectMeta.DeepCopy(), Spec: d.Spec}
	if r := d.Spec.Replicas; r != nil {
		v := *r
		o.Spec.Replicas = &v
	}
	if sel := d.Spec.Selector; sel != nil {
		c := &service.LabelSelector{}
		if sel.MatchLabels != nil {
			c.MatchLabels = service.Labels{}
			for k, v := range sel.MatchLabels {
				c.MatchLabels[k] = v
			}
		}
		for _, e := range sel.MatchExpressions {
			e.Values = append([]string(nil), e.Values...)
			c.MatchExpressions = append(c.MatchExpressions, e)
		}
		o.Spec.Selector = c
	}
	o.Spec.Template.ObjectMeta = d.Spec.Template.ObjectMeta.DeepCopy()
	o.Spec.Template.Spec = (&service.Pod{Spec: d.Spec.Template.Spec}).DeepCopy().Spec
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		c := &RollingUpdateDeployment{}
		if ru.MaxSurge != nil {
			v := *ru.MaxSurge
			c.MaxSurge = &v
		}
		if ru.MaxUnavailable != nil {
			v := *ru.MaxUnavailable
			c.MaxUnavailable = &v
		}
		o.Spec.Strategy.RollingUpdate = c
	}
	for _, p := range []**int32{&o.Spec.RevisionHistoryLimit, &o.Spec.ProgressDeadlineSeconds} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return o
}
