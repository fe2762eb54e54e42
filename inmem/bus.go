// Package inmem implements parley.Bus inside one process: the default for a
// single node, where the API layer and the WebSocket hub share memory.
package inmem

import (
	"context"
	"errors"
	"sync"

	"github.com/parley-chat/parley"
)

// Router is the shared medium. Several Bus values made from one Router see
// each other's events, which is how tests stand in for several nodes.
type Router struct {
	mu     sync.RWMutex
	subs   map[string]map[*subscription]struct{}
	closed bool
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{subs: map[string]map[*subscription]struct{}{}} }

// Bus is one node's handle on a Router.
type Bus struct {
	r *Router

	mu     sync.Mutex
	mine   map[*subscription]struct{}
	closed bool
}

var _ parley.Bus = (*Bus)(nil)

// New returns a Bus with a router of its own.
func New() *Bus { return NewRouter().Bus() }

// Bus returns a new handle on r.
func (r *Router) Bus() *Bus { return &Bus{r: r, mine: map[*subscription]struct{}{}} }

// ErrClosed is returned by operations on a closed bus.
var ErrClosed = errors.New("inmem: bus closed")

// subscription delivers in order on its own goroutine through an unbounded
// queue, so that a slow handler delays only itself and never the publisher.
type subscription struct {
	subject string
	h       func(parley.Event)

	mu     sync.Mutex
	queue  []parley.Event
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

func (s *subscription) push(ev parley.Event) {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, ev)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscription) run() {
	defer close(s.done)
	for range s.wake {
		for {
			s.mu.Lock()
			if s.closed || len(s.queue) == 0 {
				closed := s.closed
				s.mu.Unlock()
				if closed {
					return
				}
				break
			}
			ev := s.queue[0]
			s.queue[0] = parley.Event{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			s.h(ev)
		}
	}
}

func (s *subscription) stop() {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.queue = nil
	s.mu.Unlock()
	if !already {
		close(s.wake)
	}
}

// Publish delivers ev to every subscriber of subject on the router.
func (b *Bus) Publish(ctx context.Context, subject string, ev parley.Event) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	b.r.mu.RLock()
	defer b.r.mu.RUnlock()
	for s := range b.r.subs[subject] {
		s.push(ev)
	}
	return nil
}

// Subscribe registers h for subject until cancel is called or the bus is closed.
func (b *Bus) Subscribe(ctx context.Context, subject string, h func(parley.Event)) (func(), error) {
	s := &subscription{subject: subject, h: h, wake: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	b.mine[s] = struct{}{}
	b.mu.Unlock()

	b.r.mu.Lock()
	if b.r.subs[subject] == nil {
		b.r.subs[subject] = map[*subscription]struct{}{}
	}
	b.r.subs[subject][s] = struct{}{}
	b.r.mu.Unlock()
	go s.run()

	var once sync.Once
	return func() {
		once.Do(func() {
			b.unsubscribe(s)
			b.mu.Lock()
			delete(b.mine, s)
			b.mu.Unlock()
		})
	}, nil
}

func (b *Bus) unsubscribe(s *subscription) {
	b.r.mu.Lock()
	if m := b.r.subs[s.subject]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(b.r.subs, s.subject)
		}
	}
	b.r.mu.Unlock()
	s.stop()
}

// Close ends every subscription of this handle and waits for their handlers to return.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	subs := b.mine
	b.mine = map[*subscription]struct{}{}
	b.mu.Unlock()
	for s := range subs {
		b.unsubscribe(s)
	}
	for s := range subs {
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
