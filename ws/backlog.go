package ws

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
)

// backlog bounds the room traffic a node has taken and not yet written to
// its sockets, so that a publisher going flat out meets a
// ThrottlingException (or ERROR 429) instead of seconds of latency. It
// counts two things, in frames:
//
//   - pending: events received from the bus and not yet broadcast, each
//     weighing as many frames as the room had local connections;
//   - frames: frames queued to sockets and not yet written. A connection
//     counts for at most perConnBacklog of them: a client that stopped
//     reading fills its own queue and is dropped as slow (Config.SendQueue),
//     but must not hold every room's traffic back meanwhile.
type backlog struct {
	frames, pending atomic.Int64
	limit           int64

	waiters atomic.Int32 // publishers in line and deliveries stalled
	mu      sync.Mutex
	drained chan struct{} // closed, and replaced, when a stalled delivery may go on
	stalled int           // deliveries waiting on drained
	line    []*turn       // publishers waiting, first first
	// admitted: a publisher let through from the line has not yet
	// published. Its event is not counted yet, so the next in line waits
	// for it: a line that empties at once would overshoot the limit by as
	// many events as were waiting, and whoever lost the race would wait
	// again.
	admitted bool
}

// turn is a publisher's place in the line.
type turn struct {
	ready chan struct{} // closed, under b.mu, when it is let through
}

const perConnBacklog = 8

func newBacklog(limit int) *backlog {
	return &backlog{limit: int64(limit), drained: make(chan struct{})}
}

func (b *backlog) add(n int) { b.frames.Add(int64(n)) }

// done takes n written (or discarded) frames off the backlog.
func (b *backlog) done(n int) {
	if n != 0 {
		b.frames.Add(-int64(n))
		b.wake()
	}
}

// delivered takes an event of weight n, now broadcast, off the backlog.
func (b *backlog) delivered(n int) {
	if n != 0 {
		b.pending.Add(-int64(n))
		b.wake()
	}
}

// wake lets a stalled delivery look again and the first publisher in line
// through if there is room; it costs nothing while nobody waits, and
// little while the backlog is still over its limit.
func (b *backlog) wake() {
	if b.waiters.Load() == 0 || b.socketsFull() {
		return
	}
	b.mu.Lock()
	if b.stalled > 0 {
		close(b.drained)
		b.drained = make(chan struct{})
	}
	b.next()
	b.mu.Unlock()
}

// next lets the first publisher in line through if the backlog has room
// and no publisher let through before it is still on its way; b.mu is held.
func (b *backlog) next() {
	if b.admitted || len(b.line) == 0 || b.full() {
		return
	}
	t := b.line[0]
	b.line[0] = nil
	b.line = b.line[1:]
	b.admitted = true
	b.waiters.Add(-1)
	close(t.ready)
}

// published ends the turn of a publisher let through from the line.
func (b *backlog) published() {
	b.mu.Lock()
	b.admitted = false
	b.next()
	b.mu.Unlock()
}

// full: a publisher waits.
func (b *backlog) full() bool { return b.frames.Load()+b.pending.Load() > b.limit }

// socketsFull: traffic from the bus waits before its broadcast.
func (b *backlog) socketsFull() bool { return b.frames.Load() > b.limit }

// stall returns once socketsFull() is false, or ctx's error.
func (b *backlog) stall(ctx context.Context) error {
	if !b.socketsFull() {
		return nil
	}
	b.mu.Lock()
	b.stalled++
	b.waiters.Add(1)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.stalled--
		b.waiters.Add(-1)
		b.mu.Unlock()
	}()
	for {
		b.mu.Lock()
		ch := b.drained
		b.mu.Unlock()
		if !b.socketsFull() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// admit returns at once (with published nil) while the backlog has room
// and nobody is in line; else the caller joins the line, and is let
// through in its turn, when the backlog has room, or gets ctx's error.
// A publisher let through from the line calls published once its event
// is on the bus.
func (b *backlog) admit(ctx context.Context) (published func(), err error) {
	b.mu.Lock()
	if len(b.line) == 0 && !b.admitted && !b.full() {
		b.mu.Unlock()
		return nil, nil
	}
	t := &turn{ready: make(chan struct{})}
	b.line = append(b.line, t)
	b.waiters.Add(1)
	b.next()
	b.mu.Unlock()
	select {
	case <-t.ready:
		return sync.OnceFunc(b.published), nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-t.ready: // let through as it gave up: its turn is taken
		return sync.OnceFunc(b.published), nil
	default:
	}
	b.line = slices.DeleteFunc(b.line, func(w *turn) bool { return w == t })
	b.waiters.Add(-1)
	return nil, ctx.Err()
}

// Admit waits, at most Config.PublishWait, until the node has room for
// more room traffic: the service calls it before publishing a message or
// event, and then calls release, if not nil, once the event is on the bus.
// Publishers that wait are let through one at a time, in the order they
// came, each once the one before it has published: none waits longer
// because others raced it. Admit returns a KindThrottled error if the
// node has no room within PublishWait.
func (h *Hub) Admit(ctx context.Context) (release func(), err error) {
	if h.backlog.waiters.Load() == 0 && !h.backlog.full() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PublishWait)
	defer cancel()
	release, err = h.backlog.admit(ctx)
	if err != nil {
		h.stats.throttled.Add(1)
		return nil, &parley.Error{Kind: parley.KindThrottled, Op: "ws.Admit", Message: "the room's traffic is more than its listeners can take now; retry later",
			Limit: h.cfg.Backlog, Err: err}
	}
	return release, nil
}

// deliveryStall is the most one event waits for the sockets to catch up:
// past it, it is broadcast anyway and slow readers are dropped as slow.
const deliveryStall = time.Second

// deliveries is a room's traffic on its way from the bus to the sockets.
// The bus handler only queues an event, counted in the backlog; one
// goroutine at a time broadcasts the room's queue, in order, each event
// once the sockets have room for it (at most deliveryStall).
type deliveries struct {
	mu      sync.Mutex
	queue   []delivery
	running bool
}

type delivery struct {
	weight  int
	deliver func()
}

// enqueue queues deliver, weighing weight frames, on q.
func (h *Hub) enqueue(q *deliveries, weight int, deliver func()) {
	h.backlog.pending.Add(int64(weight))
	q.mu.Lock()
	q.queue = append(q.queue, delivery{weight, deliver})
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go h.drain(q)
	}
}

func (h *Hub) drain(q *deliveries) {
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running = false
			q.queue = nil
			q.mu.Unlock()
			return
		}
		d := q.queue[0]
		q.queue[0] = delivery{}
		q.queue = q.queue[1:]
		q.mu.Unlock()
		if h.backlog.socketsFull() {
			ctx, cancel := context.WithTimeout(context.Background(), deliveryStall)
			h.backlog.stall(ctx)
			cancel()
		}
		d.deliver()
		h.backlog.delivered(d.weight)
	}
}
