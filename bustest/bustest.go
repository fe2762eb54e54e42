// Package bustest is the conformance suite every parley.Bus runs. It takes
// two handles on one backend, standing for two nodes.
package bustest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Run runs the suite. newPair returns two connected buses, fresh per subtest.
func Run(t *testing.T, newPair func(t *testing.T) (a, b parley.Bus)) {
	t.Run("CrossNode", func(t *testing.T) { testCrossNode(t, newPair) })
	t.Run("OrderPerSubject", func(t *testing.T) { testOrder(t, newPair) })
	t.Run("SubjectsIsolated", func(t *testing.T) { testIsolation(t, newPair) })
	t.Run("CancelStops", func(t *testing.T) { testCancel(t, newPair) })
	t.Run("BlockedHandler", func(t *testing.T) { testBlockedHandler(t, newPair) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newPair) })
	t.Run("Close", func(t *testing.T) { testClose(t, newPair) })
}

const wait = 5 * time.Second

func ctx() context.Context { return context.Background() }

// collector gathers events and lets a test wait for a count.
type collector struct {
	mu  sync.Mutex
	evs []parley.Event
	ch  chan struct{}
}

func newCollector() *collector { return &collector{ch: make(chan struct{}, 1)} }

func (c *collector) handle(ev parley.Event) {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

func (c *collector) waitFor(t *testing.T, n int) []parley.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		if len(c.evs) >= n {
			out := append([]parley.Event(nil), c.evs...)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("received %d events, want %d", len(c.evs), n)
		}
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.evs)
}

func subscribe(t *testing.T, b parley.Bus, subject string, h func(parley.Event)) func() {
	t.Helper()
	cancel, err := b.Subscribe(ctx(), subject, h)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", subject, err)
	}
	return cancel
}

func publish(t *testing.T, b parley.Bus, subject string, ev parley.Event) {
	t.Helper()
	if err := b.Publish(ctx(), subject, ev); err != nil {
		t.Fatalf("Publish(%s): %v", subject, err)
	}
}

// flush publishes a marker on subject and waits until c has seen it, so
// that everything published before it has been delivered.
func flush(t *testing.T, pub parley.Bus, subject string, c *collector, n int) {
	t.Helper()
	publish(t, pub, subject, parley.Event{Type: parley.EventEvent, Name: "flush"})
	c.waitFor(t, n+1)
}

func testCrossNode(t *testing.T, newPair func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newPair(t)
	c := newCollector()
	subscribe(t, b, "s1", c.handle)
	publish(t, a, "s1", parley.Event{Type: parley.EventMessage, Content: "hi"})
	if evs := c.waitFor(t, 1); evs[0].Content != "hi" {
		t.Fatalf("Content = %q, want hi", evs[0].Content)
	}
}

func testOrder(t *testing.T, newPair func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newPair(t)
	c := newCollector()
	subscribe(t, b, "s1", c.handle)
	const n = 200
	for i := 0; i < n; i++ {
		publish(t, a, "s1", parley.Event{Type: parley.EventMessage, Content: fmt.Sprint(i)})
	}
	for i, ev := range c.waitFor(t, n) {
		if ev.Content != fmt.Sprint(i) {
			t.Fatalf("event %d = %q, want %d", i, ev.Content, i)
		}
	}
}

func testIsolation(t *testing.T, newPair func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newPair(t)
	c1, c2 := newCollector(), newCollector()
	subscribe(t, b, "s1", c1.handle)
	subscribe(t, b, "s2", c2.handle)
	publish(t, a, "s1", parley.Event{Type: parley.EventMessage, Content: "one"})
	flush(t, a, "s2", c2, 0)
	c1.waitFor(t, 1)
	if evs := c2.waitFor(t, 1); evs[0].Content == "one" || c2.count() != 1 {
		t.Fatalf("s2 received an s1 event: %+v", evs)
	}
}

func testCancel(t *testing.T, newPair func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newPair(t)
	c, probe := newCollector(), newCollector()
	cancel := subscribe(t, b, "s1", c.handle)
	subscribe(t, b, "s1", probe.handle)
	publish(t, a, "s1", parley.Event{Content: "before"})
	c.waitFor(t, 1)
	cancel()
	cancel() // idempotent
	publish(t, a, "s1", parley.Event{Content: "after"})
	probe.waitFor(t, 2)
	if n := c.count(); n != 1 {
		t.Fatalf("cancelled subscriber got %d events, want 1", n)
	}
}

func testBlockedHandler(t *testing.T, newPair func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newPair(t)
	release := make(chan struct{})
	defer close(release)
	subscribe(t, b, "slow", func(parley.Event) { <-release })
	fast := newCollector()
	subscribe(t, b, "fast", fast.handle)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			a.Publish(ctx(), "slow", parley.Event{})
		}
		a.Publish(ctx(), "fast", parley.Event{})
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Publish stalled behind a blocked handler")
	}
	fast.waitFor(t, 1)
}

// Ensure every field of an Event survives the trip (serialising buses).
func testRoundTrip(t *testing.T, newPair func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newPair(t)
	c := newCollector()
	subscribe(t, b, "s1", c.handle)
	want := parley.Event{
		Type: parley.EventMessage, Room: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, RoomID: "room00000001",
		ID: "abcdefghijkl", RequestID: "req", Name: "n", Content: "héllo", Attributes: map[string]string{"k": "v"},
		Sender:  &parley.Sender{UserID: "u", Attributes: map[string]string{"a": "b"}},
		Account: "chime-account", ReplyTo: "reply.subject", Node: "node-1",
		Commands: []parley.Command{{ID: "c1", Op: parley.OpSignOut, Chime: parley.ChimeRoomKey{ChimeAccountKey: parley.ChimeAccountKey{AWS: "123456789012", Account: "acc"}}, Users: []string{"u1", "u2"},
			Reason: "why", RequestID: "r", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		SendTime: time.Date(2026, 1, 1, 0, 0, 0, 123_000_000, time.UTC),
	}
	publish(t, a, "s1", want)
	got := c.waitFor(t, 1)[0]
	if !got.SendTime.Equal(want.SendTime) {
		t.Fatalf("SendTime = %v, want %v", got.SendTime, want.SendTime)
	}
	got.SendTime = want.SendTime // the same instant, perhaps in another location
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func testClose(t *testing.T, newPair func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newPair(t)
	c := newCollector()
	subscribe(t, b, "s1", c.handle)
	cctx, cancel := context.WithTimeout(ctx(), wait)
	defer cancel()
	if err := b.Close(cctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := b.Subscribe(ctx(), "s1", c.handle); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
	publish(t, a, "s1", parley.Event{})
	probe := newCollector()
	subscribe(t, a, "s1", probe.handle)
	flush(t, a, "s1", probe, 0)
	if n := c.count(); n != 0 {
		t.Fatalf("closed bus delivered %d events", n)
	}
}
