package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/svcnet/svcnet/sim"
)

// progress draws a one-line progress bar on a terminal: runs done,
// simulated time done of the sweep's total, events per second of wall
// time, the time elapsed and the time left at that pace. It advances as
// runs finish (sim.Run reports nothing while it runs); a ticker keeps
// the elapsed time moving in between. It reads the wall clock, for the
// rate and the estimates only; nothing it shows reaches a result. A nil
// *progress draws nothing. It is safe for concurrent use.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	now      func() time.Time
	start    time.Time
	drawn    time.Time
	runs     int
	total    time.Duration // simulated time of the whole sweep
	done     int
	simDone  time.Duration
	events   uint64
	finished bool
	// stop ends the ticker that keeps the elapsed time moving while a
	// long run has not finished.
	stop chan struct{}
}

// isTerminal reports whether f is a character device (a terminal, not a
// file or a pipe).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress returns a progress bar for js drawn on w, or nil when w is
// not a terminal.
func newProgress(w io.Writer, js []job, now func() time.Time) *progress {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f) || len(js) == 0 {
		return nil
	}
	p := &progress{w: w, now: now, start: now(), runs: len(js), stop: make(chan struct{})}
	for _, j := range js {
		p.total += j.s.Duration.D()
	}
	p.draw(true)
	go p.tick()
	return p
}

// tick redraws the line every second until finish.
func (p *progress) tick() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if !p.finished {
				p.draw(false)
			}
			p.mu.Unlock()
		}
	}
}

// add records a finished run.
func (p *progress) add(r sim.Result, planned time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.simDone += planned
	p.events += r.Events
	p.draw(p.done == p.runs)
}

// draw redraws the line, at most ten times a second unless forced.
func (p *progress) draw(force bool) {
	t := p.now()
	if !force && t.Sub(p.drawn) < 100*time.Millisecond {
		return
	}
	p.drawn = t
	elapsed := t.Sub(p.start)
	frac := 0.0
	if p.total > 0 {
		frac = float64(p.simDone) / float64(p.total)
	}
	const width = 24
	fill := int(frac * width)
	bar := strings.Repeat("█", fill) + strings.Repeat("░", width-fill)
	rate, eta := "-", "-"
	if s := elapsed.Seconds(); s > 0 && p.events > 0 {
		rate = si(float64(p.events)/s) + " ev/s"
	}
	if frac > 0 && frac < 1 {
		eta = (time.Duration(float64(elapsed) * (1 - frac) / frac)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s %d/%d runs  sim %v/%v  %s  elapsed %v  ETA %s",
		bar, p.done, p.runs, p.simDone, p.total, rate, elapsed.Round(time.Second), eta)
}

// finish clears the line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.finished {
		p.finished = true
		if p.stop != nil {
			close(p.stop)
		}
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// si formats a rate with a k or M suffix.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
