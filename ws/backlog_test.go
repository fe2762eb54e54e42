package ws

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
)

func backlogHub(t *testing.T, limit int, wait time.Duration) *Hub {
	t.Helper()
	bus := inmem.New()
	t.Cleanup(func() { bus.Close(context.Background()) })
	return NewHub(nil, bus, nil, nil, parley.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config{Backlog: limit, PublishWait: wait})
}

// Ensure a publisher is admitted at once while the sockets keep up, waits
// while they are behind, and is refused with KindThrottled if they stay behind.
func TestAdmitWaitsForBacklog(t *testing.T) {
	h := backlogHub(t, 10, 100*time.Millisecond)
	if _, err := h.Admit(t.Context()); err != nil {
		t.Fatalf("Admit with nothing queued: %v", err)
	}
	h.backlog.add(11)
	start := time.Now()
	_, err := h.Admit(t.Context())
	if parley.KindOf(err) != parley.KindThrottled {
		t.Fatalf("Admit with the backlog over its limit: %v, want Throttled", err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("refused after %v, want after PublishWait (100ms)", waited)
	}
	if h.Stats().Throttled != 1 {
		t.Errorf("throttled count %d, want 1", h.Stats().Throttled)
	}

	// Frames written while a publisher waits let it through.
	go func() {
		time.Sleep(20 * time.Millisecond)
		h.backlog.done(1)
	}()
	if _, err := h.Admit(t.Context()); err != nil {
		t.Fatalf("Admit once the backlog drained to its limit: %v", err)
	}
}

// Ensure a connection counts for at most perConnBacklog frames, and what
// it had counted is released when it is killed: a client that stops
// reading cannot hold the node's traffic back.
func TestBacklogPerConnection(t *testing.T) {
	h := backlogHub(t, 1000, time.Second)
	c := &conn{hub: h, user: "deaf", done: make(chan struct{})}
	c.writing = true // no socket: frames stay queued
	for range 50 {
		c.send([]byte("frame"))
	}
	if got := h.backlog.frames.Load(); got != perConnBacklog {
		t.Fatalf("backlog %d after 50 frames to one connection, want %d", got, perConnBacklog)
	}
	c.kill()
	if got := h.backlog.frames.Load(); got != 0 {
		t.Fatalf("backlog %d after the connection was killed, want 0", got)
	}
}

// Ensure traffic waiting between the bus and the broadcast counts: events
// queued behind a stalled one hold publishers back, and are delivered in
// order once the sockets catch up.
func TestBacklogCountsQueuedEvents(t *testing.T) {
	h := backlogHub(t, 10, 50*time.Millisecond)
	var q deliveries
	h.backlog.add(11) // the sockets are behind: the first event stalls
	var mu sync.Mutex
	var got []int
	for i := range 3 {
		h.enqueue(&q, 4, func() {
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		})
	}
	if _, err := h.Admit(t.Context()); parley.KindOf(err) != parley.KindThrottled {
		t.Fatalf("Admit with 12 frames of events waiting: %v, want Throttled", err)
	}
	h.backlog.done(11)
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("delivered %v, want [0 1 2] in order", got)
	}
	if p := h.backlog.pending.Load(); p != 0 {
		t.Fatalf("pending %d after delivery, want 0", p)
	}
	if _, err := h.Admit(t.Context()); err != nil {
		t.Fatalf("Admit once everything is delivered: %v", err)
	}
}

// Ensure publishers held back are let through one at a time, in the order
// they came, each once the one before has published: a publisher let
// through does not make the others race for the room its event has not
// yet taken, and none is passed over.
func TestAdmitLetsWaitersThroughInTurn(t *testing.T) {
	h := backlogHub(t, 10, 5*time.Second)
	h.backlog.add(11)
	let := make(chan int, 3)
	releases := make(chan func(), 3)
	for i := range 3 {
		go func() {
			release, err := h.Admit(t.Context())
			if err != nil {
				t.Errorf("publisher %d: %v", i, err)
				return
			}
			let <- i
			releases <- release
		}()
		// in line before the next comes
		for deadline := time.Now().Add(time.Second); h.backlog.waiters.Load() != int32(i+1); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("publisher %d not in line", i)
			}
		}
	}
	h.backlog.done(1) // room for one event
	for want := range 3 {
		select {
		case got := <-let:
			if got != want {
				t.Fatalf("publisher %d let through, want %d (first come, first served)", got, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("publisher %d not let through", want)
		}
		select {
		case i := <-let:
			t.Fatalf("publisher %d let through before publisher %d published", i, want)
		case <-time.After(20 * time.Millisecond):
		}
		release := <-releases
		if release == nil {
			t.Fatalf("publisher %d let through from the line without a release", want)
		}
		release()
	}
	// The line is empty and the backlog has room: no waiting, nothing to release.
	if release, err := h.Admit(t.Context()); err != nil || release != nil {
		t.Fatalf("Admit with an empty line: release %v, %v", release != nil, err)
	}
}

// Ensure a publisher that gives up leaves the line: the one behind it is
// let through in its place.
func TestAdmitGivingUpLeavesTheLine(t *testing.T) {
	h := backlogHub(t, 10, 50*time.Millisecond)
	h.backlog.add(11)
	if _, err := h.Admit(t.Context()); parley.KindOf(err) != parley.KindThrottled {
		t.Fatalf("Admit over the limit: %v, want Throttled", err)
	}
	if n := h.backlog.waiters.Load(); n != 0 {
		t.Fatalf("%d waiters after the only one gave up", n)
	}
	h.backlog.done(1)
	release, err := h.Admit(t.Context())
	if err != nil {
		t.Fatalf("Admit after the one before gave up: %v", err)
	}
	if release != nil {
		release()
	}
}
