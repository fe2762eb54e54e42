// Package cache keeps in memory what nearly every request reads: rooms
// (each token, handshake, DisconnectUser and SendEvent looks its room up)
// and access keys (each signed request). Nothing that takes access away is
// cached: sessions, memberships, suspensions and bans are read from the
// store as before.
//
// Staleness is bounded. A room is forgotten on every node before
// UpdateRoom or DeleteRoom returns, because those travel as control-plane
// commands that each node applies (see Invalidating), and a node that
// loses the control plane (fenced) forgets every room; otherwise a room is
// kept at most RoomTTL. Access keys change out of process (parley keys),
// so a key is kept at most KeyTTL: a replaced or deleted secret may still
// be accepted that long, while a new secret works at once (a signature that
// does not match is checked again against the store; see sigv4.Refresher).
package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
)

// Bounds on what is kept.
const (
	RoomTTL  = 30 * time.Second
	KeyTTL   = 5 * time.Second
	maxRooms = 100_000
	maxKeys  = 10_000
)

// RoomStore is where rooms are read on a miss.
type RoomStore interface {
	Room(ctx context.Context, s parley.Scope, id string) (*parley.Room, error)
}

// KeyStore is where access keys are read on a miss.
type KeyStore interface {
	AccessKey(ctx context.Context, id string) (*parley.AccessKey, error)
}

type roomKey struct {
	scope parley.Scope
	id    string
}

// Rooms caches rooms read from a store. A cached room's tags may be stale
// (TagResource is not a command): it is for the paths that check a room
// and its settings, not for GetRoom.
type Rooms struct {
	store RoomStore
	m     *ttlMap[roomKey, parley.Room]
}

// NewRooms returns a room cache over store.
func NewRooms(store RoomStore, now func() time.Time) *Rooms {
	return &Rooms{store: store, m: newTTLMap[roomKey, parley.Room](RoomTTL, maxRooms, now)}
}

// Room returns the room, from memory if it was read within RoomTTL and
// has not been changed since. The result is the caller's to modify.
func (c *Rooms) Room(ctx context.Context, s parley.Scope, id string) (*parley.Room, error) {
	k := roomKey{s, id}
	if r, ok := c.m.get(k); ok {
		return &r, nil
	}
	gen := c.m.generation()
	r, err := c.store.Room(ctx, s, id)
	if err != nil {
		return nil, err
	}
	c.m.put(k, *r, gen)
	return r, nil
}

// Forget drops a room; the next read goes to the store.
func (c *Rooms) Forget(s parley.Scope, id string) { c.m.forget(roomKey{s, id}) }

// Flush drops every room.
func (c *Rooms) Flush() { c.m.flush() }

// Invalidating returns next, with the rooms that commands change or
// delete forgotten before next applies them (and so before the command is
// acknowledged), and every room forgotten when the node is fenced or
// comes back: commands it missed meanwhile are not replayed to it.
func (c *Rooms) Invalidating(next control.Sockets) control.Sockets { return invalidating{c, next} }

type invalidating struct {
	rooms *Rooms
	control.Sockets
}

func (i invalidating) Apply(cmds []parley.Command) {
	for _, cmd := range cmds {
		if cmd.Op == parley.OpDeleteRoom || cmd.Op == parley.OpUpdateRoom {
			i.rooms.Forget(cmd.Scope, cmd.Room)
		}
	}
	i.Sockets.Apply(cmds)
}

func (i invalidating) Fence() {
	i.rooms.Flush()
	i.Sockets.Fence()
}

func (i invalidating) Unfence() {
	i.rooms.Flush()
	i.Sockets.Unfence()
}

// Keys caches access keys read from a store, each at most KeyTTL.
type Keys struct {
	store KeyStore
	m     *ttlMap[string, parley.AccessKey]
}

// NewKeys returns an access key cache over store.
func NewKeys(store KeyStore, now func() time.Time) *Keys {
	return &Keys{store: store, m: newTTLMap[string, parley.AccessKey](KeyTTL, maxKeys, now)}
}

// AccessKey returns the key, from memory if it was read within KeyTTL.
// Unknown key IDs are not remembered: they are attacker-chosen.
func (c *Keys) AccessKey(ctx context.Context, id string) (*parley.AccessKey, error) {
	if k, ok := c.m.get(id); ok {
		return &k, nil
	}
	gen := c.m.generation()
	k, err := c.store.AccessKey(ctx, id)
	if err != nil {
		return nil, err
	}
	c.m.put(id, *k, gen)
	return k, nil
}

// Refresh reads the key from the store and keeps it (sigv4.Refresher).
func (c *Keys) Refresh(ctx context.Context, id string) (*parley.AccessKey, error) {
	c.m.forget(id)
	return c.AccessKey(ctx, id)
}

// ttlMap is a bounded map whose entries expire. Each forget bumps a
// generation, and a value read from the store before it is not put: a
// read racing an invalidation cannot bring the old value back.
type ttlMap[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time
	gen atomic.Uint64

	mu sync.RWMutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

func newTTLMap[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *ttlMap[K, V] {
	return &ttlMap[K, V]{ttl: ttl, max: max, now: now, m: map[K]entry[V]{}}
}

func (m *ttlMap[K, V]) get(k K) (V, bool) {
	m.mu.RLock()
	e, ok := m.m[k]
	m.mu.RUnlock()
	if !ok || !m.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (m *ttlMap[K, V]) generation() uint64 { return m.gen.Load() }

// put keeps v unless something was forgotten since gen was read.
func (m *ttlMap[K, V]) put(k K, v V, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen.Load() != gen {
		return
	}
	if len(m.m) >= m.max {
		for old := range m.m { // an arbitrary entry: map order is random
			delete(m.m, old)
			break
		}
	}
	m.m[k] = entry[V]{v, m.now().Add(m.ttl)}
}

func (m *ttlMap[K, V]) forget(k K) {
	m.mu.Lock()
	m.gen.Add(1)
	delete(m.m, k)
	m.mu.Unlock()
}

func (m *ttlMap[K, V]) flush() {
	m.mu.Lock()
	m.gen.Add(1)
	clear(m.m)
	m.mu.Unlock()
}
