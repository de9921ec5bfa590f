package sim

import (
	"errors"
	"fmt"
	"time"
)

// Handler runs an event. The engine passes itself, so a handler can read
// the clock and schedule more events, and the argument given to Schedule.
type Handler interface {
	Handle(e *Engine, arg uint64)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(e *Engine, arg uint64)

// Handle calls f(e, arg).
func (f HandlerFunc) Handle(e *Engine, arg uint64) { f(e, arg) }

// ErrStopped is returned by Run when a handler called Stop with it, and
// wrapped by Stop's own errors.
var ErrStopped = errors.New("sim: stopped")

type item struct {
	at  time.Duration
	seq uint64
	h   Handler
	arg uint64
}

func (a *item) before(b *item) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// Engine is a discrete-event engine: a virtual clock and a queue of
// events ordered by (time, sequence), so that events scheduled for the
// same instant run in the order they were scheduled. It has no
// goroutines and reads no wall clock; the same schedule gives the same
// run, event for event.
//
// The queue is a 4-ary heap of small values: scheduling and running an
// event allocate nothing once the heap has grown. Engine is not safe for
// concurrent use.
type Engine struct {
	now     time.Duration
	seq     uint64
	heap    []item
	events  uint64
	stopErr error
	stopped bool
}

// NewEngine returns an engine at time 0 with an empty queue.
func NewEngine() *Engine { return &Engine{} }

// Now returns the virtual time: the time of the event being run, or of
// the last one run.
func (e *Engine) Now() time.Duration { return e.now }

// Events returns how many events have run.
func (e *Engine) Events() uint64 { return e.events }

// Pending returns how many events are queued.
func (e *Engine) Pending() int { return len(e.heap) }

// Schedule queues h to run with arg at virtual time at. An event in the
// past runs at the current time (after those already queued for it), so
// time never goes backwards.
func (e *Engine) Schedule(at time.Duration, h Handler, arg uint64) {
	if at < e.now {
		at = e.now
	}
	e.seq++
	e.heap = append(e.heap, item{at: at, seq: e.seq, h: h, arg: arg})
	e.up(len(e.heap) - 1)
}

// After queues h to run with arg d after the current time.
func (e *Engine) After(d time.Duration, h Handler, arg uint64) { e.Schedule(e.now+d, h, arg) }

// Stop ends the run after the current event. A non-nil err is returned
// by Run (wrapped with ErrStopped); nil stops cleanly.
func (e *Engine) Stop(err error) {
	e.stopped = true
	if err != nil {
		e.stopErr = fmt.Errorf("%w: %w", ErrStopped, err)
	}
}

// Run runs events in order until the queue is empty, the next event lies
// beyond until, or a handler calls Stop. The clock ends at the last event
// run, or at until when the queue ran past it. It returns the error given
// to Stop, if any.
func (e *Engine) Run(until time.Duration) error {
	e.stopped = false
	for len(e.heap) > 0 && !e.stopped {
		top := &e.heap[0]
		if top.at > until {
			e.now = until
			return nil
		}
		it := *top
		e.pop()
		e.now = it.at
		e.events++
		it.h.Handle(e, it.arg)
	}
	if !e.stopped && e.now < until && len(e.heap) == 0 {
		e.now = until
	}
	err := e.stopErr
	e.stopErr = nil
	return err
}

func (e *Engine) up(i int) {
	h := e.heap
	it := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if !it.before(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = it
}

func (e *Engine) pop() {
	h := e.heap
	n := len(h) - 1
	last := h[n]
	h[n] = item{} // drop the handler reference
	e.heap = h[:n]
	if n == 0 {
		return
	}
	h = e.heap
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if h[j].before(&h[m]) {
				m = j
			}
		}
		if !h[m].before(&last) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = last
}
