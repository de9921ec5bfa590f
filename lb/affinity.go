package lb

import (
	"fmt"
	"net/netip"
	"time"
)

// Session affinity timeouts, Kubernetes' (ServiceSpec
// sessionAffinityConfig.clientIP.timeoutSeconds).
const (
	// DefaultAffinityTimeoutSeconds is the timeout when
	// AffinityConfig.TimeoutSeconds is zero: three hours.
	DefaultAffinityTimeoutSeconds = 10800
	// MaxAffinityTimeoutSeconds is the largest timeout Kubernetes accepts:
	// one day.
	MaxAffinityTimeoutSeconds = 86400
)

// AffinityConfig configures an Affinity picker.
type AffinityConfig struct {
	// TimeoutSeconds is how long a client may stay idle and keep its
	// backend, as the Service field timeoutSeconds. Zero means
	// DefaultAffinityTimeoutSeconds; it must be at most
	// MaxAffinityTimeoutSeconds.
	TimeoutSeconds int32
}

// Affinity is ClientIP session affinity (Service sessionAffinity:
// ClientIP) around any picker: the first connection of a client address
// goes where the inner picker sends it, and later connections from that
// address go to the same backend as long as the client is never idle for
// longer than the timeout and the backend stays usable.
//
// It follows kube-proxy's iptables mode: every connection refreshes the
// client's timestamp ("-m recent --set" in the endpoint chain), and the
// affinity holds while the last connection is at most TimeoutSeconds old
// ("-m recent --rcheck --seconds T", which matches when the entry was seen
// within T seconds). A backend that leaves the list (or stops being
// usable) breaks the affinity of its clients at once.
//
// Time is injected: Key.Now (or PickAt) and Advance set the clock, which
// never moves backwards (an earlier time is ignored); a Pick with a zero
// Key.Now uses the time last set.
// Idle clients are forgotten in least-recently-used order as the clock
// passes their timeout, so memory is bounded by the clients seen within one
// timeout. When the inner picker is one of this package's ConnPickers, a
// connection sent to a sticky backend is counted by it too, and Done is
// passed on.
//
// A Pick for a known client does not allocate; a new client may grow the
// table. It is not safe for concurrent use.
type Affinity struct {
	inner   Picker
	open    func(netip.AddrPort)
	timeout time.Duration
	now     time.Time
	current map[netip.AddrPort]Backend // usable backends of the last Update

	byClient   map[netip.Addr]int32
	entries    []affinityEntry
	head, tail int32 // most and least recently used entry, -1 when none
	free       int32 // first free entry, -1 when none
}

type affinityEntry struct {
	client     netip.Addr
	backend    netip.AddrPort
	last       time.Time
	prev, next int32
}

var _ ConnPicker = (*Affinity)(nil)

// NewAffinity wraps inner with ClientIP session affinity. It fails with
// ErrInvalidConfig for a timeout out of (0, MaxAffinityTimeoutSeconds].
// The backends of inner are replaced by the first Update.
func NewAffinity(inner Picker, cfg AffinityConfig) (*Affinity, error) {
	t := cfg.TimeoutSeconds
	if t == 0 {
		t = DefaultAffinityTimeoutSeconds
	}
	if t < 0 || t > MaxAffinityTimeoutSeconds {
		return nil, fmt.Errorf("%w: affinity timeout %d s, want 1..%d", ErrInvalidConfig, cfg.TimeoutSeconds, MaxAffinityTimeoutSeconds)
	}
	a := &Affinity{
		inner:    inner,
		timeout:  time.Duration(t) * time.Second,
		byClient: make(map[netip.Addr]int32),
		head:     -1,
		tail:     -1,
		free:     -1,
	}
	if o, ok := inner.(opener); ok {
		a.open = o.open
	}
	return a, nil
}

// Timeout returns the affinity timeout.
func (a *Affinity) Timeout() time.Duration { return a.timeout }

// Len returns the number of clients with a live affinity.
func (a *Affinity) Len() int { return len(a.byClient) }

// Update passes the backends to the inner picker and breaks the affinity
// of clients whose backend is no longer usable. On error nothing changes.
func (a *Affinity) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	if err := a.inner.Update(backends); err != nil {
		return err
	}
	a.current = make(map[netip.AddrPort]Backend, len(bs))
	for _, b := range bs {
		a.current[b.Addr] = b
	}
	for i := a.head; i >= 0; {
		next := a.entries[i].next
		if _, ok := a.current[a.entries[i].backend]; !ok {
			a.remove(i)
		}
		i = next
	}
	return nil
}

// Advance sets the clock to now, unless now is earlier, and forgets the
// clients idle for longer than the timeout.
func (a *Affinity) Advance(now time.Time) {
	if now.After(a.now) {
		a.now = now
	}
	for a.tail >= 0 && a.now.Sub(a.entries[a.tail].last) > a.timeout {
		a.remove(a.tail)
	}
}

// PickAt advances the clock to now and picks; it is Pick with k.Now = now.
func (a *Affinity) PickAt(k Key, now time.Time) (Backend, bool) {
	k.Now = now
	return a.Pick(k)
}

// Pick returns the client's sticky backend, refreshing its timestamp, or
// else asks the inner picker and remembers its answer for the client
// address (k.Src's address; the port and Key.Hash do not matter for
// stickiness). A non-zero k.Now first advances the clock as Advance does;
// otherwise the time is the one last given to Advance or a Pick.
func (a *Affinity) Pick(k Key) (Backend, bool) {
	if !k.Now.IsZero() {
		a.Advance(k.Now)
	}
	client := k.Src.Addr()
	if i, ok := a.byClient[client]; ok {
		e := &a.entries[i]
		if b, ok := a.current[e.backend]; ok && a.now.Sub(e.last) <= a.timeout {
			e.last = a.now
			a.unlink(i)
			a.pushFront(i)
			if a.open != nil {
				a.open(b.Addr)
			}
			return b, true
		}
		a.remove(i)
	}
	b, ok := a.inner.Pick(k)
	if !ok {
		return Backend{}, false
	}
	i := a.free
	if i >= 0 {
		a.free = a.entries[i].next
	} else {
		i = int32(len(a.entries))
		a.entries = append(a.entries, affinityEntry{})
	}
	a.entries[i] = affinityEntry{client: client, backend: b.Addr, last: a.now}
	a.pushFront(i)
	a.byClient[client] = i
	return b, true
}

// Done passes the end of a connection to the inner picker, if it counts
// connections.
func (a *Affinity) Done(b Backend) {
	if c, ok := a.inner.(ConnPicker); ok {
		c.Done(b)
	}
}

func (a *Affinity) pushFront(i int32) {
	a.entries[i].prev, a.entries[i].next = -1, a.head
	if a.head >= 0 {
		a.entries[a.head].prev = i
	}
	a.head = i
	if a.tail < 0 {
		a.tail = i
	}
}

func (a *Affinity) unlink(i int32) {
	e := &a.entries[i]
	if e.prev >= 0 {
		a.entries[e.prev].next = e.next
	} else {
		a.head = e.next
	}
	if e.next >= 0 {
		a.entries[e.next].prev = e.prev
	} else {
		a.tail = e.prev
	}
}

func (a *Affinity) remove(i int32) {
	a.unlink(i)
	delete(a.byClient, a.entries[i].client)
	a.entries[i] = affinityEntry{next: a.free}
	a.free = i
}
