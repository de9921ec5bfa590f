package lb

import "net/netip"

// LeastConnConfig configures a LeastConn picker.
type LeastConnConfig struct {
	// Weighted selects IPVS wlc: fewest connections per unit of weight.
	// False (the zero value) is IPVS lc, which ignores weights.
	Weighted bool
}

// LeastConn sends each new connection to the backend with the fewest open
// connections (IPVS lc, net/netfilter/ipvs/ip_vs_lc.c) or the fewest per
// unit of weight (IPVS wlc, ip_vs_wlc.c, which compares
// conns_a·weight_b against conns_b·weight_a exactly as here). Ties go to
// the first backend in frozen-key order, as IPVS's list scan does.
//
// IPVS weighs active connections by 256 and adds inactive ones
// (ip_vs_dest_conn_overhead); svcnet counts only open connections: Pick
// opens one and Done closes one. Update keeps the counts of backends that
// stay. Pick and Done cost O(log n) (an indexed heap instead of IPVS's
// O(n) scan, with the same result). It is not safe for concurrent use.
type LeastConn struct {
	weighted bool
	backends []Backend
	byAddr   map[netip.AddrPort]int32
	conns    []uint64
	w        []uint64
	heap     []int32 // backend indices, least loaded first
	pos      []int32 // pos[i] is i's place in heap
}

var _ ConnPicker = (*LeastConn)(nil)

// NewLeastConn returns a LeastConn picker with no backends.
func NewLeastConn(cfg LeastConnConfig) *LeastConn {
	return &LeastConn{weighted: cfg.Weighted}
}

// Update replaces the backends, keeping the connection counts of those
// that stay. It costs O(n log n).
func (l *LeastConn) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	n := len(bs)
	conns := make([]uint64, n)
	w := make([]uint64, n)
	for i, b := range bs {
		if j, ok := l.byAddr[b.Addr]; ok {
			conns[i] = l.conns[j]
		}
		w[i] = 1
		if l.weighted {
			w[i] = b.weight()
		}
	}
	l.backends, l.conns, l.w = bs, conns, w
	l.byAddr = index(bs)
	l.heap = make([]int32, n)
	l.pos = make([]int32, n)
	for i := range n {
		l.heap[i], l.pos[i] = int32(i), int32(i)
	}
	for i := n/2 - 1; i >= 0; i-- {
		l.down(i)
	}
	return nil
}

// Pick opens a connection on the least loaded backend and returns it.
// The key is ignored.
func (l *LeastConn) Pick(Key) (Backend, bool) {
	if len(l.heap) == 0 {
		return Backend{}, false
	}
	i := l.heap[0]
	l.conns[i]++
	l.down(0)
	return l.backends[i], true
}

// Done closes a connection on b.
func (l *LeastConn) Done(b Backend) {
	if i, ok := l.byAddr[b.Addr]; ok && l.conns[i] > 0 {
		l.conns[i]--
		l.up(int(l.pos[i]))
	}
}

// open counts a connection on addr that Affinity sent there.
func (l *LeastConn) open(addr netip.AddrPort) {
	if i, ok := l.byAddr[addr]; ok {
		l.conns[i]++
		l.down(int(l.pos[i]))
	}
}

// Conns returns the number of open connections on b, 0 for a backend
// that is not in the list.
func (l *LeastConn) Conns(b Backend) uint64 {
	if i, ok := l.byAddr[b.Addr]; ok {
		return l.conns[i]
	}
	return 0
}

// less orders backends by load conns/w, exactly, ties to the lower index.
func (l *LeastConn) less(a, b int32) bool {
	x, y := l.conns[a]*l.w[b], l.conns[b]*l.w[a]
	return x < y || (x == y && a < b)
}

func (l *LeastConn) swap(i, j int) {
	h := l.heap
	h[i], h[j] = h[j], h[i]
	l.pos[h[i]], l.pos[h[j]] = int32(i), int32(j)
}

func (l *LeastConn) down(i int) {
	n := len(l.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && l.less(l.heap[r], l.heap[c]) {
			c = r
		}
		if !l.less(l.heap[c], l.heap[i]) {
			return
		}
		l.swap(i, c)
		i = c
	}
}

func (l *LeastConn) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !l.less(l.heap[i], l.heap[p]) {
			return
		}
		l.swap(i, p)
		i = p
	}
}
