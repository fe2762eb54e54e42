package ws

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
)

// backlog bounds the frames a node has queued for its sockets and not yet
// written: room traffic beyond it waits, so that a publisher going flat out
// meets a ThrottlingException (or ERROR 429) instead of seconds of latency.
//
// A connection counts for at most perConnBacklog frames: a client that
// stopped reading fills its own queue and is dropped as slow (Config.SendQueue),
// but must not hold every room's traffic back meanwhile.
type backlog struct {
	frames atomic.Int64
	limit  int64

	mu      sync.Mutex
	drained chan struct{} // closed, and replaced, when frames falls to the limit
}

const perConnBacklog = 8

func newBacklog(limit int) *backlog {
	return &backlog{limit: int64(limit), drained: make(chan struct{})}
}

func (b *backlog) add(n int) { b.frames.Add(int64(n)) }

// done takes n written (or discarded) frames off the backlog.
func (b *backlog) done(n int) {
	if n == 0 {
		return
	}
	if v := b.frames.Add(-int64(n)); v <= b.limit && v+int64(n) > b.limit {
		b.mu.Lock()
		close(b.drained)
		b.drained = make(chan struct{})
		b.mu.Unlock()
	}
}

func (b *backlog) full() bool { return b.frames.Load() > b.limit }

// wait returns once the backlog is within its limit, or ctx's error.
func (b *backlog) wait(ctx context.Context) error {
	for b.full() {
		b.mu.Lock()
		ch := b.drained
		b.mu.Unlock()
		if !b.full() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Admit waits, at most Config.PublishWait, until the node's sockets have
// room for more room traffic: the service calls it before publishing a
// message or event. It returns a KindThrottled error if they do not.
func (h *Hub) Admit(ctx context.Context) error {
	if !h.backlog.full() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PublishWait)
	defer cancel()
	if err := h.backlog.wait(ctx); err != nil {
		h.stats.throttled.Add(1)
		return &parley.Error{Kind: parley.KindThrottled, Op: "ws.Admit", Message: "the room's traffic is more than its listeners can take now; retry later",
			Limit: h.cfg.Backlog, Err: err}
	}
	return nil
}

// stall holds room traffic from the bus while the backlog is over its
// limit, at most deliveryStall: traffic from other nodes is not admitted
// by this node, and must not pile up in front of the sockets either.
func (h *Hub) stall() {
	if !h.backlog.full() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), deliveryStall)
	defer cancel()
	h.backlog.wait(ctx)
}

// deliveryStall is the most one event from the bus waits for the backlog:
// past it, it is delivered anyway and slow readers are dropped as slow.
const deliveryStall = time.Second
