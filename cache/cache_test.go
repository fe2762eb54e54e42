package cache_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cache"
)

// roomStore is a store of rooms that counts its reads; a read may be held
// until release is closed, to race it with an invalidation.
type roomStore struct {
	mu      sync.Mutex
	rooms   map[string]*parley.Room
	reads   int
	hold    chan struct{} // if not nil, reads wait on it after reading
	reading chan struct{} // if not nil, told when a read has read
}

func (s *roomStore) Room(_ context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	s.mu.Lock()
	s.reads++
	r, ok := s.rooms[id]
	var c parley.Room
	if ok {
		c = *r
	}
	hold, reading := s.hold, s.reading
	s.mu.Unlock()
	if reading != nil {
		reading <- struct{}{}
	}
	if hold != nil {
		<-hold
	}
	if !ok {
		return nil, parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
	}
	return &c, nil
}

func (s *roomStore) set(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		delete(s.rooms, id)
		return
	}
	s.rooms[id] = &parley.Room{ID: id, Name: name}
}

func (s *roomStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var sc = parley.Scope{AccountID: "111111111111", Region: "us-east-1"}

func newRooms() (*cache.Rooms, *roomStore, *clock) {
	st := &roomStore{rooms: map[string]*parley.Room{}}
	st.set("r1", "one")
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	return cache.NewRooms(st, clk.now), st, clk
}

func name(t *testing.T, c *cache.Rooms) string {
	t.Helper()
	r, err := c.Room(context.Background(), sc, "r1")
	if err != nil {
		return "error: " + parley.KindOf(err).String()
	}
	return r.Name
}

// Ensure a room is read once within RoomTTL, and again after it.
func TestRoomsTTL(t *testing.T) {
	c, st, clk := newRooms()
	for range 3 {
		if got := name(t, c); got != "one" {
			t.Fatalf("room %q", got)
		}
	}
	if st.count() != 1 {
		t.Fatalf("%d store reads for three lookups within the TTL, want 1", st.count())
	}
	st.set("r1", "renamed behind the cache's back")
	clk.advance(cache.RoomTTL)
	if got := name(t, c); got != "renamed behind the cache's back" {
		t.Fatalf("room after its TTL: %q, want the store's", got)
	}
}

// Ensure a missing room is not remembered: a room created next is found at once.
func TestRoomsMissNotKept(t *testing.T) {
	c, st, _ := newRooms()
	st.set("r1", "")
	if got := name(t, c); got != "error: not found" {
		t.Fatalf("missing room: %q", got)
	}
	st.set("r1", "created")
	if got := name(t, c); got != "created" {
		t.Fatalf("room created after a miss: %q", got)
	}
}

// recorder is a node's sockets, recording what the cache said when a
// command reached them.
type recorder struct {
	t      *testing.T
	c      *cache.Rooms
	seen   []string
	fenced int
}

func (r *recorder) Apply([]parley.Command)     { r.seen = append(r.seen, name(r.t, r.c)) }
func (r *recorder) Fence()                     { r.fenced++ }
func (r *recorder) Unfence()                   {}
func (r *recorder) Revalidate(context.Context) {}

// Ensure DeleteRoom and UpdateRoom commands forget the room before the
// node's sockets apply them (and so before the command is acknowledged),
// and fencing forgets every room.
func TestRoomsInvalidatedByCommands(t *testing.T) {
	c, st, _ := newRooms()
	rec := &recorder{t: t, c: c}
	sockets := c.Invalidating(rec)
	name(t, c) // cached

	st.set("r1", "updated")
	sockets.Apply([]parley.Command{{Op: parley.OpUpdateRoom, Scope: sc, Room: "r1"}})
	st.set("r1", "")
	sockets.Apply([]parley.Command{{Op: parley.OpDeleteRoom, Scope: sc, Room: "r1"}})
	if want := []string{"updated", "error: not found"}; len(rec.seen) != 2 || rec.seen[0] != want[0] || rec.seen[1] != want[1] {
		t.Fatalf("the room as the sockets saw it when applying: %q, want %q", rec.seen, want)
	}

	// A command about another room leaves this one cached.
	st.set("r1", "back")
	name(t, c)
	st.set("r1", "changed unseen")
	sockets.Apply([]parley.Command{{Op: parley.OpDeleteRoom, Scope: sc, Room: "r2"}, {Op: parley.OpDisconnectUser, Scope: sc, Room: "r1"}})
	if got := rec.seen[2]; got != "back" {
		t.Fatalf("after commands about other rooms: %q, want the cached room", got)
	}

	sockets.Fence()
	if got := name(t, c); got != "changed unseen" || rec.fenced != 1 {
		t.Fatalf("after fencing: %q (fenced %d), want the store's room", got, rec.fenced)
	}
}

// Ensure a read that started before an invalidation does not put the old
// room back once it is forgotten.
func TestRoomsReadRacingInvalidation(t *testing.T) {
	c, st, _ := newRooms()
	hold, reading := make(chan struct{}), make(chan struct{})
	st.hold, st.reading = hold, reading
	done := make(chan string)
	go func() { done <- name(t, c) }()
	<-reading // the old room has been read, and is not cached yet
	st.mu.Lock()
	st.hold, st.reading = nil, nil
	st.mu.Unlock()
	st.set("r1", "")
	c.Forget(sc, "r1")
	close(hold)
	if got := <-done; got != "one" {
		t.Fatalf("the racing read returned %q", got)
	}
	if got := name(t, c); got != "error: not found" {
		t.Fatalf("after the racing read: %q, want the room gone", got)
	}
}

type keyStore struct {
	mu    sync.Mutex
	reads int
	keys  map[string]*parley.AccessKey
}

func (s *keyStore) AccessKey(_ context.Context, id string) (*parley.AccessKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if k, ok := s.keys[id]; ok {
		c := *k
		return &c, nil
	}
	return nil, parley.Errorf(parley.KindNotFound, "no key")
}

// Ensure a key is read once within KeyTTL, a deleted key stops working
// after KeyTTL, and unknown key IDs are read each time (never kept).
func TestKeys(t *testing.T) {
	st := &keyStore{keys: map[string]*parley.AccessKey{"AK1": {ID: "AK1", Secret: "s"}}}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	c := cache.NewKeys(st, clk.now)
	ctx := context.Background()
	for range 3 {
		if k, err := c.AccessKey(ctx, "AK1"); err != nil || k.Secret != "s" {
			t.Fatalf("AccessKey: %v, %v", k, err)
		}
		c.AccessKey(ctx, "unknown")
	}
	if st.reads != 4 {
		t.Fatalf("%d reads, want 1 for the known key and 3 for the unknown one", st.reads)
	}
	delete(st.keys, "AK1")
	clk.advance(cache.KeyTTL - time.Millisecond)
	if _, err := c.AccessKey(ctx, "AK1"); err != nil {
		t.Fatalf("a deleted key within KeyTTL: %v (kept, as documented)", err)
	}
	clk.advance(time.Millisecond)
	if _, err := c.AccessKey(ctx, "AK1"); parley.KindOf(err) != parley.KindNotFound {
		t.Fatalf("a deleted key after KeyTTL: %v, want NotFound", err)
	}
}
