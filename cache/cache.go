// Package cache keeps in memory what nearly every request reads: rooms
// (each token, handshake, DisconnectUser and SendEvent looks its room up),
// access keys (each signed request) and Chime accounts (each Chime room,
// membership and bot call, and each device's GET_MESSAGES). Nothing that
// takes access away is cached: sessions, memberships, suspensions and bans
// are read from the store as before, and none of them is part of a room,
// a key or an account record.
//
// Staleness is bounded. Each change travels as a control-plane command
// that every live node applies, forgetting what it changes, before the
// change is acknowledged (see Invalidating): UpdateRoom and DeleteRoom
// (OpUpdateRoom, OpDeleteRoom); UpdateAccount, UpdateAccountSettings,
// PutRetentionSettings and DeleteAccount (OpChimeAccountChanged); parley
// keys create --replace, which waits for the nodes before it returns, and
// a server started with a new secret for a stored key, whose command the
// nodes find in the store at their next heartbeat (OpAccessKeyChanged). A
// node that loses the control plane (fenced), or comes back, forgets
// everything: commands it missed are not replayed to it. Whatever a
// command did not reach is kept at most its TTL: RoomTTL, AccountTTL,
// KeyTTL. A new secret works at once in any case (a signature that does
// not match is checked again against the store; see sigv4.Refresher).
package cache

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
)

// Bounds on what is kept.
const (
	RoomTTL     = 30 * time.Second
	AccountTTL  = 30 * time.Second
	KeyTTL      = 5 * time.Second
	maxRooms    = 100_000
	maxAccounts = 100_000
	maxKeys     = 10_000
)

// RoomStore is where rooms are read on a miss.
type RoomStore interface {
	Room(ctx context.Context, s parley.Scope, id string) (*parley.Room, error)
}

// AccountStore is where Chime accounts are read on a miss.
type AccountStore interface {
	ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error)
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
	return c.m.through(roomKey{s, id}, func() (*parley.Room, error) { return c.store.Room(ctx, s, id) }, cloneRoom)
}

// cloneRoom returns a copy of r that shares no map, slice or pointer with it.
func cloneRoom(r parley.Room) *parley.Room {
	r.Tags = maps.Clone(r.Tags)
	r.LoggingConfigurationIDs = slices.Clone(r.LoggingConfigurationIDs)
	if r.MessageReviewHandler != nil {
		h := *r.MessageReviewHandler
		r.MessageReviewHandler = &h
	}
	return &r
}

// Forget drops a room; the next read goes to the store.
func (c *Rooms) Forget(s parley.Scope, id string) { c.m.forget(roomKey{s, id}) }

// Flush drops every room.
func (c *Rooms) Flush() { c.m.flush() }

// Invalidating returns next, with the rooms that commands change or
// delete forgotten before next applies them, and every room forgotten when
// the node is fenced or comes back.
func (c *Rooms) Invalidating(next control.Sockets) control.Sockets { return invalidating{c, next} }

func (c *Rooms) forgetChanged(cmd parley.Command) {
	if cmd.Op == parley.OpDeleteRoom || cmd.Op == parley.OpUpdateRoom {
		c.Forget(cmd.Scope, cmd.Room)
	}
}

// Accounts caches Chime accounts read from a store, for the paths that
// check an account's type (strict mode) and retention: not for
// GetAccount, ListAccounts or GetRetentionSettings, which show the record.
type Accounts struct {
	store AccountStore
	m     *ttlMap[parley.ChimeAccountKey, parley.ChimeAccount]
}

// NewAccounts returns a Chime account cache over store.
func NewAccounts(store AccountStore, now func() time.Time) *Accounts {
	return &Accounts{store: store, m: newTTLMap[parley.ChimeAccountKey, parley.ChimeAccount](AccountTTL, maxAccounts, now)}
}

// ChimeAccount returns the account, from memory if it was read within
// AccountTTL and has not been changed since. Unknown accounts are not
// remembered. The result is the caller's to modify.
func (c *Accounts) ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error) {
	return c.m.through(k, func() (*parley.ChimeAccount, error) { return c.store.ChimeAccount(ctx, k) }, cloneAccount)
}

// cloneAccount returns a copy of a that shares no slice with it.
func cloneAccount(a parley.ChimeAccount) *parley.ChimeAccount {
	a.SupportedLicenses = slices.Clone(a.SupportedLicenses)
	a.SigninDelegateGroups = slices.Clone(a.SigninDelegateGroups)
	return &a
}

// Forget drops an account; the next read goes to the store.
func (c *Accounts) Forget(k parley.ChimeAccountKey) { c.m.forget(k) }

// Flush drops every account.
func (c *Accounts) Flush() { c.m.flush() }

// Invalidating returns next, with the accounts that commands change or
// delete forgotten before next applies them, and every account forgotten
// when the node is fenced or comes back.
func (c *Accounts) Invalidating(next control.Sockets) control.Sockets { return invalidating{c, next} }

func (c *Accounts) forgetChanged(cmd parley.Command) {
	if cmd.Op == parley.OpChimeAccountChanged {
		c.Forget(cmd.Chime.ChimeAccountKey)
	}
}

// forgetter is a cache that control-plane commands keep current.
type forgetter interface {
	forgetChanged(cmd parley.Command) // forgets what cmd changed, if anything
	Flush()
}

// invalidating is a node's sockets behind a cache: the cache forgets what
// each command changes before the sockets apply it, and so before the
// command is acknowledged; and it forgets everything when the node is
// fenced or comes back, since commands it missed meanwhile are not
// replayed to it.
type invalidating struct {
	cache forgetter
	control.Sockets
}

func (i invalidating) Apply(cmds []parley.Command) {
	for _, cmd := range cmds {
		i.cache.forgetChanged(cmd)
	}
	i.Sockets.Apply(cmds)
}

func (i invalidating) Fence() {
	i.cache.Flush()
	i.Sockets.Fence()
}

func (i invalidating) Unfence() {
	i.cache.Flush()
	i.Sockets.Unfence()
}

// Keys caches access keys read from a store, each at most KeyTTL. A key
// can still change without a command reaching a node (a parley keys of an
// older version, an edit of the database by hand), so the bound stays short.
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
	return c.m.through(id, func() (*parley.AccessKey, error) { return c.store.AccessKey(ctx, id) },
		func(k parley.AccessKey) *parley.AccessKey { return &k })
}

// Refresh reads the key from the store and keeps it (sigv4.Refresher).
func (c *Keys) Refresh(ctx context.Context, id string) (*parley.AccessKey, error) {
	c.m.forget(id)
	return c.AccessKey(ctx, id)
}

// Forget drops a key; the next read goes to the store.
func (c *Keys) Forget(id string) { c.m.forget(id) }

// Flush drops every key.
func (c *Keys) Flush() { c.m.flush() }

// Invalidating returns next, with the access keys that commands say were
// replaced forgotten before next applies them, and every key forgotten
// when the node is fenced or comes back.
func (c *Keys) Invalidating(next control.Sockets) control.Sockets { return invalidating{c, next} }

func (c *Keys) forgetChanged(cmd parley.Command) {
	if cmd.Op == parley.OpAccessKeyChanged {
		c.Forget(cmd.AccessKey)
	}
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

// through returns k's value from memory if it is kept, else from load,
// and then keeps it. A failed load is not kept. clone copies a value so
// that what is kept and what is handed out share nothing.
func (m *ttlMap[K, V]) through(k K, load func() (*V, error), clone func(V) *V) (*V, error) {
	if v, ok := m.get(k); ok {
		return clone(v), nil
	}
	gen := m.generation()
	v, err := load()
	if err != nil {
		return nil, err
	}
	m.put(k, *clone(*v), gen)
	return v, nil
}

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
