package ws

import (
	"context"
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

	waiters atomic.Int32
	mu      sync.Mutex
	drained chan struct{} // closed, and replaced, when a waiter may go on
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

// wake lets waiters look again; it costs nothing while nobody waits.
func (b *backlog) wake() {
	if b.waiters.Load() == 0 {
		return
	}
	b.mu.Lock()
	close(b.drained)
	b.drained = make(chan struct{})
	b.mu.Unlock()
}

// full: a publisher waits.
func (b *backlog) full() bool { return b.frames.Load()+b.pending.Load() > b.limit }

// socketsFull: traffic from the bus waits before its broadcast.
func (b *backlog) socketsFull() bool { return b.frames.Load() > b.limit }

// wait returns once full() is false, or ctx's error.
func (b *backlog) wait(ctx context.Context, full func() bool) error {
	if !full() {
		return nil
	}
	b.waiters.Add(1)
	defer b.waiters.Add(-1)
	for {
		b.mu.Lock()
		ch := b.drained
		b.mu.Unlock()
		if !full() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Admit waits, at most Config.PublishWait, until the node has room for
// more room traffic: the service calls it before publishing a message or
// event. It returns a KindThrottled error if it has not.
func (h *Hub) Admit(ctx context.Context) error {
	if !h.backlog.full() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PublishWait)
	defer cancel()
	if err := h.backlog.wait(ctx, h.backlog.full); err != nil {
		h.stats.throttled.Add(1)
		return &parley.Error{Kind: parley.KindThrottled, Op: "ws.Admit", Message: "the room's traffic is more than its listeners can take now; retry later",
			Limit: h.cfg.Backlog, Err: err}
	}
	return nil
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
			h.backlog.wait(ctx, h.backlog.socketsFull)
			cancel()
		}
		d.deliver()
		h.backlog.delivered(d.weight)
	}
}
