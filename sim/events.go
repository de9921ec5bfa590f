package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// The kinds of Event, as RunOptions.Events writes them.
const (
	// EventPod: a pod's status written to the API (State says which:
	// pending, running, ready, not-ready, terminating); EventPodDeleted:
	// the pod object removed.
	EventPod        = "pod"
	EventPodDeleted = "pod-deleted"
	// EventTable: the control plane published a new proxy table
	// (Generation); EventSync: a node's kube-proxy applied one
	// (Generation); EventDNSSync: the cluster DNS applied the changes.
	EventTable   = "table"
	EventSync    = "sync"
	EventDNSSync = "dns-sync"
	// EventNodeReady and EventNodeNotReady: the node's Ready condition
	// written to the API.
	EventNodeReady    = "node-ready"
	EventNodeNotReady = "node-not-ready"
	// EventFault: a timeline event or a churn change (Action, Target);
	// EventFaultEnd: a timeline fault's For ran out and it was undone.
	EventFault    = "fault"
	EventFaultEnd = "fault-end"
	// EventControlPlaneDown and EventControlPlaneUp: the API server and
	// the controllers crashed, and came back.
	EventControlPlaneDown = "control-plane-down"
	EventControlPlaneUp   = "control-plane-up"
	// EventConnectionFailed: a connection not served (Outcome: refused,
	// reset, rejected, dnsFailure, dropped, unreachable), at the time it
	// failed; Started is when it was opened.
	EventConnectionFailed = "connection-failed"
)

// Event is one thing that happened in a run, at a simulated time: a
// control-plane change, a proxy or DNS sync, a fault, a failed
// connection. RunOptions.Events writes each as a line of JSON, in the
// order they happen (so by time), as they happen. Fields that do not
// apply to the Kind are left out.
type Event struct {
	// At is the simulated time, in seconds from the start.
	At   float64 `json:"at"`
	Kind string  `json:"kind"`
	// Pod (namespace/name), Node, Flow and Service say what it concerns.
	Pod     string `json:"pod,omitempty"`
	Node    string `json:"node,omitempty"`
	Flow    string `json:"flow,omitempty"`
	Service string `json:"service,omitempty"`
	// State is a pod's state in the API (EventPod).
	State string `json:"state,omitempty"`
	// Generation is a proxy table's (EventTable, EventSync).
	Generation uint64 `json:"generation,omitempty"`
	// Action and Target are a fault's (EventFault, EventFaultEnd).
	Action string `json:"action,omitempty"`
	Target string `json:"target,omitempty"`
	// Outcome and Started are a failed connection's, and Backend the
	// address (ip:port) the proxy chose, for a refused or reset one: Pod
	// names the pod that has it, unless the pod is gone.
	Outcome string   `json:"outcome,omitempty"`
	Backend string   `json:"backend,omitempty"`
	Started *float64 `json:"started,omitempty"`
}

// ErrEventLog wraps the error of writing RunOptions.Events: the run goes
// on (the Result is the same), the log stops at the failed write.
var ErrEventLog = errors.New("sim: event log")

// eventLog writes a run's events as JSON lines. A nil *eventLog writes
// nothing, so that the run's hooks cost a nil check when no log is
// asked for.
type eventLog struct {
	w   io.Writer
	buf []byte
	err error
}

// emit writes e at the current time.
func (w *world) emit(e Event) {
	l := w.ev
	if l == nil || l.err != nil {
		return
	}
	e.At = seconds(w.now())
	b, err := json.Marshal(e)
	if err == nil {
		l.buf = append(append(l.buf[:0], b...), '\n')
		_, err = l.w.Write(l.buf)
	}
	if err != nil {
		l.err = fmt.Errorf("%w: %w", ErrEventLog, err)
	}
}

// seconds is d in seconds, exactly as its decimal nanoseconds say.
func seconds(d time.Duration) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatInt(int64(d), 10)+"e-9", 64)
	return f
}

// podEvent logs a pod's status written to the API.
func (w *world) podEvent(p *pod, st apiState) {
	if w.ev == nil {
		return
	}
	state := "pending"
	switch {
	case st.term:
		state = "terminating"
	case st.ready:
		state = "ready"
	case st.running:
		state = "not-ready"
	case st.node != nil:
		state = "scheduled"
	}
	e := Event{Kind: EventPod, Pod: p.key.String(), State: state}
	if st.node != nil {
		e.Node = st.node.name
	}
	w.emit(e)
}

// connFailed logs a connection that was not served.
func (w *world) connFailed(f *flow, k outcome, start time.Duration, p *pod, n *node, backend netip.AddrPort) {
	if w.ev == nil || k == outServed {
		return
	}
	s := seconds(start)
	e := Event{Kind: EventConnectionFailed, Flow: f.name, Outcome: outcomeNames[k], Started: &s}
	if f.svc != nil {
		e.Service = f.svc.key.String()
	}
	if p != nil {
		e.Pod = p.key.String()
	}
	if n != nil {
		e.Node = n.name
	}
	if backend.IsValid() {
		e.Backend = backend.String()
	}
	w.emit(e)
}

// outcomeNames are the outcomes as Outcomes' JSON names them.
var outcomeNames = [...]string{
	outServed: "served", outRefused: "refused", outReset: "reset", outRejected: "rejected",
	outDNS: "dnsFailure", outDropped: "dropped", outUnreachable: "unreachable",
}
