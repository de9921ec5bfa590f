package informer

import "sync"

// kind is the kind of object a key names.
type kind uint8

const (
	kindNode kind = iota
	kindService
	kindPod
	kindSlice
	// kindWrite asks Controller mode to write a Service's slices.
	kindWrite
)

func (k kind) String() string {
	return [...]string{"Node", "Service", "Pod", "EndpointSlice", "slice write"}[k]
}

// key names one object: its kind and its cache key ("ns/name" or "name").
type key struct {
	kind kind
	name string
}

// queue is a FIFO of distinct keys: a key added while queued keeps its
// place. Safe for concurrent use; the informers' handlers add, the
// driver's goroutine takes.
type queue struct {
	mu     sync.Mutex
	order  []key
	queued map[key]bool
	// ready has a token while the queue is not empty.
	ready chan struct{}
}

func newQueue() *queue {
	return &queue{queued: map[key]bool{}, ready: make(chan struct{}, 1)}
}

func (q *queue) add(k key) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queued[k] {
		return
	}
	q.queued[k] = true
	q.order = append(q.order, k)
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take removes and returns every queued key, in order.
func (q *queue) take() []key {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.order
	q.order = nil
	clear(q.queued)
	return out
}
