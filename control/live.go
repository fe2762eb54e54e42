package control

import (
	"context"
	"slices"
	"sync"
	"time"
)

// liveReader reads the live nodes for every Deliver that asks at about the
// same time with one query. A caller may only use a reading that started
// after its commands were durable (a node that became live earlier may
// hold connections they name), so it never joins a query already running:
// it joins the next one, which starts as soon as the running one ends.
// Reads run one after another, each serving everyone who arrived while
// the one before ran: a storm of revocations costs a read per round, not
// one per call, and a lone call waits for at most one read before its own.
type liveReader struct {
	read    func(ctx context.Context) ([]string, error)
	timeout time.Duration // of one read

	mu      sync.Mutex
	running bool
	next    *liveRead // the read the next callers join; not started yet
}

type liveRead struct {
	done  chan struct{}
	nodes []string
	err   error
}

// get returns the live nodes, read by a query that started after the call.
func (l *liveReader) get(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	r := l.next
	if r == nil {
		r = &liveRead{done: make(chan struct{})}
		l.next = r
	}
	if !l.running {
		l.running = true
		go l.run()
	}
	l.mu.Unlock()
	select {
	case <-r.done:
		return slices.Clone(r.nodes), r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run reads for the waiting callers, round after round, until none wait.
func (l *liveReader) run() {
	for {
		l.mu.Lock()
		r := l.next
		l.next = nil
		if r == nil {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		// Nobody's context: a caller that gives up must not fail the others.
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		r.nodes, r.err = l.read(ctx)
		cancel()
		close(r.done)
	}
}
