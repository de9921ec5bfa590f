// Package sim is svcnet's deterministic discrete-event simulator. Its
// Engine keeps a virtual clock and runs events in (time, sequence) order,
// with no goroutines and no wall clock, so the same schedule and seed give
// the same run, event for event.
//
//	e := sim.NewEngine()
//	e.Schedule(5*time.Second, handler, 0) // handler.Handle(e, 0) at t = 5 s
//	err := e.Run(time.Hour)                // until the queue empties, t passes an hour, or Stop
package sim
