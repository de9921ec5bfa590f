package lb

// edf is an earliest-deadline-first scheduler over weighted items, the
// scheduler Envoy uses for weighted round robin (source/common/upstream/
// edf_scheduler.h), kept in exact integer arithmetic: item i's deadlines
// are k/w_i for k = 1, 2, ..., and each pick takes the earliest deadline,
// ties to the lower tie value, then the lower index. Over the half-open interval (t, t+1] of virtual
// time every item has exactly w_i deadlines, so any W = Σw consecutive picks
// from a cycle boundary give each item exactly w_i turns: exact proportions,
// interleaved (no item takes all its turns in a burst).
//
// Deadlines are compared by cross-multiplication. Virtual time is renormalised
// (1 subtracted from every deadline) once per cycle, so numerators stay
// below about 3·MaxWeight and no product exceeds 2^64.
type edf struct {
	heap []edfItem
	// now is the virtual time of the last pick, nowK/nowW.
	nowK, nowW uint64
}

type edfItem struct {
	k, w uint64 // next deadline k/w
	tie  uint64 // rank among equal deadlines
	idx  int32
}

// before reports whether a's deadline comes first.
func (a edfItem) before(b edfItem) bool {
	l, r := a.k*b.w, b.k*a.w
	if l != r {
		return l < r
	}
	if a.tie != b.tie {
		return a.tie < b.tie
	}
	return a.idx < b.idx
}

// reset empties the scheduler and sets virtual time to num/den.
func (e *edf) reset(num, den uint64) {
	e.heap = e.heap[:0]
	e.nowK, e.nowW = num, den
}

// firstDeadline returns the numerator of the first deadline of weight w
// strictly after virtual time now: floor(now·w) + 1.
func (e *edf) firstDeadline(w uint64) uint64 {
	return e.nowK*w/e.nowW + 1
}

// push adds an item with next deadline k/w. Call fix after the last push.
func (e *edf) push(idx int32, k, w, tie uint64) {
	e.heap = append(e.heap, edfItem{k: k, w: w, tie: tie, idx: idx})
}

// fix restores the heap order after pushes.
func (e *edf) fix() {
	for i := len(e.heap)/2 - 1; i >= 0; i-- {
		e.down(i)
	}
}

// pick returns the index of the item with the earliest deadline and moves
// that item to its next deadline. The heap must not be empty.
func (e *edf) pick() int32 {
	top := &e.heap[0]
	idx := top.idx
	e.nowK, e.nowW = top.k, top.w
	top.k++
	e.down(0)
	if e.nowK > e.nowW {
		// Every pending deadline is later than now > 1: shift time back by
		// one whole cycle. Order is unchanged.
		for i := range e.heap {
			e.heap[i].k -= e.heap[i].w
		}
		e.nowK -= e.nowW
	}
	return idx
}

func (e *edf) down(i int) {
	h := e.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h[r].before(h[l]) {
			c = r
		}
		if !h[c].before(h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
