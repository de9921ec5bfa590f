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
// time, the time elapsed and the time left at that pace. It advances
// within runs too: each run reports its simulated time and events every
// simulated second (sim.RunOptions.Progress); a ticker keeps the elapsed
// time moving when they are slow to come. It reads the wall clock, for the
// rate and the estimates only; nothing it shows reaches a result. A nil
// *progress draws nothing. It is safe for concurrent use.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	start   time.Time
	drawn   time.Time
	runs    int
	total   time.Duration // simulated time of the whole sweep
	done    int
	simDone time.Duration
	events  uint64
	// live is how far each run under way has come, by its index in
	// the sweep.
	live     map[int]sim.Progress
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
	p := &progress{w: w, now: now, start: now(), runs: len(js), live: map[int]sim.Progress{}, stop: make(chan struct{})}
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

// update records how far run index has come.
func (p *progress) update(index int, at sim.Progress) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live == nil {
		p.live = map[int]sim.Progress{}
	}
	p.live[index] = at
	p.draw(false)
}

// add records a finished run: run index, which was to simulate planned.
func (p *progress) add(index int, r sim.Result, planned time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.live, index)
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
	simDone, events := p.simDone, p.events
	for _, at := range p.live {
		simDone += at.Now
		events += at.Events
	}
	frac := 0.0
	if p.total > 0 {
		frac = min(1, float64(simDone)/float64(p.total))
	}
	const width = 24
	fill := int(frac * width)
	bar := strings.Repeat("█", fill) + strings.Repeat("░", width-fill)
	rate, eta := "-", "-"
	if s := elapsed.Seconds(); s > 0 && events > 0 {
		rate = si(float64(events)/s) + " ev/s"
	}
	if frac > 0 && frac < 1 {
		eta = (time.Duration(float64(elapsed) * (1 - frac) / frac)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s %d/%d runs  sim %v/%v  %s  elapsed %v  ETA %s",
		bar, p.done, p.runs, simDone.Round(time.Second), p.total, rate, elapsed.Round(time.Second), eta)
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
