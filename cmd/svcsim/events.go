package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// -events FILE: every run's event log (sim.RunOptions.Events) as JSON
// lines, each with the run's variant and seed first:
//
//	{"variant":"random","seed":1,"at":12.4,"kind":"connection-failed","flow":"default/web",...}
//
// Runs go in parallel, so each streams its events to a part file of its
// own next to FILE as they happen (nothing is held in memory); when the
// sweep is over the parts are joined into FILE in the sweep's order
// (variant, then seed) and removed. The file is the same bytes however
// many workers ran, and within a run the events are in time order.

// eventFiles are the event logs of a sweep's runs.
type eventFiles struct {
	out   *os.File
	path  string
	parts map[int]*eventPart // by the job's index in the sweep
}

// eventPart is one run's log: a file opened at its first event.
type eventPart struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

func (p *eventPart) Write(b []byte) (int, error) {
	if p.f == nil {
		f, err := os.Create(p.path)
		if err != nil {
			return 0, err
		}
		p.f, p.w = f, bufio.NewWriter(f)
	}
	return p.w.Write(b)
}

// close flushes and closes the part, if it was opened.
func (p *eventPart) close() error {
	if p.f == nil {
		return nil
	}
	err := p.w.Flush()
	return errors.Join(err, p.f.Close())
}

// newEventFiles creates path (so that a path that cannot be written fails
// before the first run) and a part for every job.
func newEventFiles(path string, js []job) (*eventFiles, error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, badInput("-events %q: %v", path, err)
	}
	e := &eventFiles{out: out, path: path, parts: map[int]*eventPart{}}
	for _, j := range js {
		e.parts[j.index] = &eventPart{path: fmt.Sprintf("%s.part-%06d", path, j.index)}
	}
	return e, nil
}

// writer returns the job's part.
func (e *eventFiles) writer(j job) io.Writer { return e.parts[j.index] }

// done closes the job's part once its run is over.
func (e *eventFiles) done(j job) error { return e.parts[j.index].close() }

// join writes the parts into the file in the jobs' order, each line
// prefixed with its run's variant and seed, and removes them.
func (e *eventFiles) join(js []job, variantName func(job) string) error {
	w := bufio.NewWriter(e.out)
	var errs []error
	for _, j := range js {
		p := e.parts[j.index]
		if p.f == nil {
			continue // no event, or not run
		}
		if err := appendPart(w, p.path, j, variantName(j)); err != nil {
			errs = append(errs, err)
		}
		if err := os.Remove(p.path); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, w.Flush(), e.out.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: -events: %w", errInternal, err)
	}
	return nil
}

// appendPart copies a part to w, each line with the run's prefix.
func appendPart(w *bufio.Writer, path string, j job, variant string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	name, err := json.Marshal(variant)
	if err != nil {
		return err
	}
	prefix := []byte(`{"variant":` + string(name) + `,"seed":` + strconv.FormatUint(j.seed, 10) + ",")
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if !bytes.HasPrefix(line, []byte("{")) || !bytes.HasSuffix(line, []byte("\n")) {
				return fmt.Errorf("%s: not a JSON object line: %.40q", path, line)
			}
			w.Write(prefix)
			w.Write(line[1:])
		}
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			return fmt.Errorf("%s: an event line longer than %d bytes", path, r.Size())
		case err != nil:
			return err
		}
	}
}

// close closes the parts and the file without joining them, and removes
// them (after a failed sweep).
func (e *eventFiles) abandon() {
	for _, p := range e.parts {
		if p.f != nil {
			p.close()
			os.Remove(p.path)
		}
	}
	e.out.Close()
}
