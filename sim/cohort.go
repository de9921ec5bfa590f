package sim

import "time"

// A cohort is the node syncs due at one instant that the node-by-node
// model would run back to back: the timers set one after another, with
// nothing else scheduled between them, for the same time. The engine
// orders events by (time, sequence), so those events have consecutive
// sequence numbers and nothing can run between them; running them as one
// engine event, in the order they were set, is the same run.
//
// A cohort takes one place in the engine's queue instead of one per
// node: with 65 000 nodes whose watch latencies are the same (no
// WatchJitter, or few levels of it), every table change is a handful of
// queue operations rather than 65 000. The events still count one each
// (Result.Events, the history ring, a violation's event number), each
// node still syncs as it would alone — its own table, its latency
// tracking, its trace row — and the Result, the event log and the data
// plane's events are the same bytes as node by node
// (TestCohortsMatchNodeByNode). Node by node remains (worldOptions.byNode)
// as the model the cohorts are checked against.
type cohort struct {
	at time.Duration
	// last is the engine sequence number of the last event in it: it
	// takes more only while nothing else has been scheduled since.
	last uint64
	// args are its node-sync events, in order.
	args []uint64
}

// worldOptions are a run's internal switches, for tests.
type worldOptions struct {
	// byNode runs every node sync as its own engine event, not in cohorts.
	byNode bool
}

// cohortAdd schedules node-sync event a at at: in the open cohort when
// it is for at and was the last thing scheduled, else in a new one.
func (w *world) cohortAdd(at time.Duration, a uint64) {
	if i := w.openCohort; i >= 0 {
		if c := &w.cohorts[i]; c.at == at && c.last == w.eng.seq {
			w.eng.seq++
			c.last = w.eng.seq
			c.args = append(c.args, a)
			return
		}
	}
	var i int
	if k := len(w.freeCohorts); k > 0 {
		i = int(w.freeCohorts[k-1])
		w.freeCohorts = w.freeCohorts[:k-1]
	} else {
		i = len(w.cohorts)
		w.cohorts = append(w.cohorts, cohort{})
	}
	w.eng.Schedule(at, w, arg(evCohort, uint32(i), 0))
	c := &w.cohorts[i]
	c.at, c.last = at, w.eng.seq
	c.args = append(c.args[:0], a)
	w.openCohort = i
}

// runCohort runs cohort i's node syncs in order, each as the engine
// event it stands for: counted, in the history ring, and traced. A sync
// may add to the cohort as it runs (the events it schedules for the same
// instant, with nothing between, come right after it). It stops where
// the engine was stopped, as the node-by-node run would.
func (w *world) runCohort(e *Engine, i uint32) {
	// Load the members' nodes first, in one pass of independent reads
	// the processor overlaps, rather than one cache miss after another
	// in the loop below (it changes nothing).
	var sink uint64
	for _, a := range w.cohorts[i].args {
		n := w.nodes[uint32(a>>24)]
		sink += uint64(n.timerGen) + n.applied
	}
	w.sink = sink
	for j := 0; j < len(w.cohorts[i].args); j++ {
		if j > 0 {
			if e.stopped {
				break
			}
			e.events++
		}
		a := w.cohorts[i].args[j]
		w.record(e, a)
		_, id, gen := unpack(a)
		w.nodeSync(w.nodes[id], gen)
		w.everyEvents(e)
	}
	c := &w.cohorts[i]
	clear(c.args)
	c.args = c.args[:0]
	if w.openCohort == int(i) {
		w.openCohort = -1
	}
	w.freeCohorts = append(w.freeCohorts, i)
}
