// Package ws serves the Amazon IVS Chat Messaging API over WebSocket (the
// protocol the amazon-ivs-chat-messaging client speaks) and holds this
// node's live connections, indexed by room and by (room, user), so that
// disconnections and room deletions close exactly the right sockets.
//
// Close codes. The official JS client treats any close that completes the
// closing handshake as final ("serverDisconnect", no reconnect) and any
// abnormal end (1006) as a reason to reconnect with a fresh token. So:
//   - DisconnectUser, DeleteRoom: close frame 1000, the client stays away;
//   - session expiry: ERROR 401 and close 1000, the client fetches a new token;
//   - slow consumer: close frame 1008; protocol errors: 1002 or 1009;
//   - server shutdown: the socket is closed without a close frame, so clients
//     reconnect, to another node behind the load balancer.
package ws

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"golang.org/x/time/rate"
)

// Service is what the hub needs from the operations layer.
type Service interface {
	// PublishRoom sends room traffic (messages and events) to every node.
	PublishRoom(ctx context.Context, ev parley.Event) error
	// Disconnect tells the room userID is disconnected and closes the
	// user's connections in the room on every node.
	Disconnect(ctx context.Context, room parley.Scope, roomID, userID, reason, requestID string) error
	// PostMessage posts to a Chime room as a member.
	PostMessage(ctx context.Context, sender parley.ChimeMemberKey, requestID, content string) (*parley.ChimeMessage, error)
	// RoomHistory returns a Chime room's recent messages for a member.
	RoomHistory(ctx context.Context, member parley.ChimeMemberKey, limit int) ([]*parley.ChimeMessage, error)
}

// Store is what the hub reads from the store.
type Store interface {
	Room(ctx context.Context, s parley.Scope, id string) (*parley.Room, error)
	ConsumeToken(ctx context.Context, t *parley.ChatToken, now time.Time) error
	ActiveBan(ctx context.Context, s parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error)
	ChimeUser(ctx context.Context, k parley.ChimeUserKey) (*parley.ChimeUser, error)
	MemberRooms(ctx context.Context, a parley.ChimeAccountKey, memberID string) ([]string, error)
}

// Config tunes the hub; zero values take the defaults named.
type Config struct {
	NodeID       string
	PingInterval time.Duration // zero means 30 seconds
	SendQueue    int           // frames queued for a client before it is dropped as slow; zero means 1024
	Reviewer     Reviewer      // nil: rooms with a review handler use their fallback result
	// ControlRate and ControlBurst bound the pings a client may send (each
	// costs a pong), per second and at once; past them it is closed with
	// 1008. Zero means 5 per second, bursts of 20.
	ControlRate  float64
	ControlBurst int
	// Backlog is how many frames the node's sockets may have queued and not
	// yet written before room traffic waits (at most PublishWait for a
	// publisher, then ThrottlingException); zero means 65,536.
	Backlog     int
	PublishWait time.Duration // zero means 1 second
}

// maxHandshakes is how many WebSocket handshakes a node serves at once;
// more wait their turn (see ServeHTTP). Token spends are group-committed,
// so more handshakes at once share each sync: 128 opened 10,000 sockets at
// 7,800/s where 32 gave 5,700/s (BENCHMARKS.md, Storms).
const maxHandshakes = 128

// Hub holds this node's connections.
type Hub struct {
	backlog *backlog
	store   Store
	bus     parley.Bus
	svc     Service
	tokens  *chattoken.Sealer
	clock   parley.Clock
	log     *slog.Logger
	cfg     Config

	handshakes   chan struct{} // a slot per handshake in progress
	poller       *poller       // nil: every connection keeps a reader goroutine
	flushers     []*flusher    // nil: every burst of frames starts a writer goroutine
	nextFl       atomic.Uint32
	stopFlushers func()

	mu         sync.RWMutex
	rooms      map[roomKey]*room
	devices    map[parley.ChimeUserKey][]*conn // a Chime user's devices
	chimeRooms map[parley.ChimeRoomKey]*chimeRoom
	shutdown   bool
	fenced     bool

	stats stats // counters for metrics; see stats.go

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type roomKey struct {
	scope parley.Scope
	id    string
}

// room is this node's view of a room with local connections.
type room struct {
	key     roomKey
	conns   map[*conn]struct{}
	users   map[string][]*conn // a user rarely has more than a few connections; a slice is smaller than a map
	sub     subscription
	out     deliveries // traffic from the bus, on its way to conns
	mu      sync.Mutex // guards settings and limiter
	info    *parley.Room
	limiter *rate.Limiter // the room's maximumMessageRatePerSecond, on this node
}

func (r *room) settings() (*parley.Room, *rate.Limiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.info, r.limiter
}

func (r *room) setInfo(info *parley.Room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.info == nil || r.info.MaximumMessageRate != info.MaximumMessageRate {
		r.limiter = rate.NewLimiter(rate.Limit(info.MaximumMessageRate), info.MaximumMessageRate)
	}
	r.info = info
}

// NewHub returns a hub; call Run before serving connections.
func NewHub(store Store, bus parley.Bus, svc Service, tokens *chattoken.Sealer, clock parley.Clock, log *slog.Logger, cfg Config) *Hub {
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.SendQueue == 0 {
		cfg.SendQueue = 1024
	}
	if cfg.Backlog == 0 {
		cfg.Backlog = 1 << 16
	}
	if cfg.PublishWait == 0 {
		cfg.PublishWait = time.Second
	}
	h := &Hub{backlog: newBacklog(cfg.Backlog), store: store, bus: bus, svc: svc, tokens: tokens, clock: clock, log: log, cfg: cfg, handshakes: make(chan struct{}, maxHandshakes), rooms: map[roomKey]*room{}, devices: map[parley.ChimeUserKey][]*conn{}, chimeRooms: map[parley.ChimeRoomKey]*chimeRoom{}}
	stop := make(chan struct{})
	h.flushers = newFlushers(stop, &h.wg)
	h.stopFlushers = sync.OnceFunc(func() { close(stop) })
	if p, err := newPoller(); err == nil {
		h.poller = p
	} else {
		log.Info("no poller for idle connections: each keeps a reader goroutine", "err", err)
	}
	return h
}

// Run starts the sweeper that expires sessions and pings idle connections.
func (h *Hub) Run(ctx context.Context) error {
	bg, stop := context.WithCancel(context.Background())
	h.cancel = stop
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.sweeper(bg)
	}()
	return nil
}

// flusher is the one a new connection gets: they take turns.
func (h *Hub) flusher() *flusher {
	if len(h.flushers) == 0 {
		return nil
	}
	return h.flushers[h.nextFl.Add(1)%uint32(len(h.flushers))]
}

// Shutdown refuses new connections and drops every open one without a
// close frame, which makes clients reconnect (elsewhere).
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.shutdown = true
	all := h.allLocked()
	h.mu.Unlock()
	for _, c := range all {
		c.kill()
	}
	if h.cancel != nil {
		h.cancel()
	}
	if h.poller != nil {
		h.poller.close()
	}
	h.stopFlushers()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// allLocked returns every connection; h.mu must be held.
func (h *Hub) allLocked() []*conn {
	var all []*conn
	for _, r := range h.rooms {
		for c := range r.conns {
			all = append(all, c)
		}
	}
	for _, cs := range h.devices {
		all = append(all, cs...)
	}
	return all
}

// Count returns how many chat connections this node holds.
func (h *Hub) Count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, r := range h.rooms {
		n += len(r.conns)
	}
	return n
}

// DeviceCount returns how many device connections this node holds.
func (h *Hub) DeviceCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, cs := range h.devices {
		n += len(cs)
	}
	return n
}

// addDevice registers a device connection.
func (h *Hub) addDevice(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutdown || h.fenced {
		return false
	}
	k := c.device.UserKey()
	h.devices[k] = append(h.devices[k], c)
	return true
}

// without returns cs without c, reusing its array.
func without(cs []*conn, c *conn) []*conn {
	for i, other := range cs {
		if other == c {
			cs[i] = cs[len(cs)-1]
			return cs[:len(cs)-1]
		}
	}
	return cs
}

// subscription is a room's bus subscription on this node. It is made
// outside the hub's lock, which broadcasts and revocations need: ready is
// closed once it is in place (unsub set) or failed (err set).
type subscription struct {
	ready chan struct{}
	unsub func()
	err   error
}

// subscribeTimeout bounds a room subscription's round trip to the bus.
const subscribeTimeout = 5 * time.Second

// subscribe makes sub's subscription to subject, for a room that gone
// reports whether it was dropped meanwhile (then it unsubscribes at once).
func (h *Hub) subscribe(sub *subscription, subject string, handler func(parley.Event), gone func() bool) {
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	unsub, err := h.bus.Subscribe(ctx, subject, handler)
	cancel()
	h.mu.Lock()
	sub.unsub, sub.err = unsub, err
	close(sub.ready)
	dropped := gone()
	h.mu.Unlock()
	if err != nil {
		h.log.Error("subscribing to room traffic", "subject", subject, "err", err)
	} else if dropped {
		unsub()
	}
}

// unsubscribeLocked ends a dropped room's subscription, or leaves that to
// its subscriber if it is not in place yet; h.mu is held.
func unsubscribeLocked(sub *subscription) {
	select {
	case <-sub.ready:
		if sub.unsub != nil {
			go sub.unsub() // a network call: not under the lock
		}
	default:
	}
}

// add registers c in its room, subscribing to the room's traffic on the
// room's first local connection. It reports false, with c unregistered,
// when the node does not accept connections or cannot receive the room.
func (h *Hub) add(c *conn, info *parley.Room) bool {
	key := roomKey{info.Scope, info.ID}
	h.mu.Lock()
	if h.shutdown || h.fenced {
		h.mu.Unlock()
		return false
	}
	r := h.rooms[key]
	first := r == nil
	if first {
		r = &room{key: key, conns: map[*conn]struct{}{}, users: map[string][]*conn{}, sub: subscription{ready: make(chan struct{})}}
		r.setInfo(info)
		h.rooms[key] = r
	}
	c.room = r
	r.conns[c] = struct{}{}
	r.users[c.user] = append(r.users[c.user], c)
	h.mu.Unlock()
	if first {
		h.subscribe(&r.sub, parley.RoomSubject(key.scope, key.id), func(ev parley.Event) { h.roomEvent(r, ev) },
			func() bool { return h.rooms[key] != r })
	}
	<-r.sub.ready
	if r.sub.err != nil {
		h.remove(c)
		return false
	}
	return true
}

// remove forgets c, unsubscribing from the room after its last local connection.
func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.device != nil {
		for room := range c.rooms {
			h.leaveLocked(c, room)
		}
		k := c.device.UserKey()
		if cs := without(h.devices[k], c); len(cs) > 0 {
			h.devices[k] = cs
		} else {
			delete(h.devices, k)
		}
		return
	}
	r := c.room
	if r == nil || h.rooms[r.key] != r {
		return
	}
	delete(r.conns, c)
	if u := without(r.users[c.user], c); len(u) > 0 {
		r.users[c.user] = u
	} else {
		delete(r.users, c.user)
	}
	if len(r.conns) == 0 {
		delete(h.rooms, r.key)
		unsubscribeLocked(&r.sub)
	}
}

// roomEvent delivers room traffic from the bus to local connections.
func (h *Hub) roomEvent(r *room, ev parley.Event) {
	if ev.Type == parley.EventMessage || ev.Type == parley.EventEvent {
		h.enqueue(&r.out, h.listeners(r), func() {
			n := h.broadcast(r.key, compile(ws.OpText, eventFrame(ev)), "")
			h.stats.delivered(APIIVS, ev.Type, n)
		})
	}
}

// listeners is how many local connections room r has now.
func (h *Hub) listeners(r *room) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(r.conns)
}

// broadcast queues a compiled frame to every local connection of a room
// but those of user except ("" for none: every user has an ID), and
// returns how many it reached.
func (h *Hub) broadcast(key roomKey, frame []byte, except string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rooms[key]
	if r == nil {
		return 0
	}
	n := 0
	for c := range r.conns {
		if c.user != except {
			c.send(frame)
			n++
		}
	}
	return n
}

// conns returns the local connections of a room, or of one user in it.
func (h *Hub) conns(key roomKey, userID string) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rooms[key]
	if r == nil {
		return nil
	}
	if userID != "" {
		return append([]*conn(nil), r.users[userID]...)
	}
	out := make([]*conn, 0, len(r.conns))
	for c := range r.conns {
		out = append(out, c)
	}
	return out
}

// revokeGrace is the most that the connections a command closes or
// notifies can hold it up: revokeWrite to take the notices and the close
// frame, revokeClose to answer the close, and a margin for the scheduler.
const revokeGrace = revokeWrite + revokeClose + 50*time.Millisecond

// pending is a connection a command waits for: until ch is closed (its
// notice is written) or the connection is.
type pending struct {
	c  *conn
	ch <-chan struct{}
}

// Apply carries out commands on this node's connections (the control
// plane calls it, one batch at a time, in order) and returns once every
// connection they close is closed and every notice they send is written,
// or revokeGrace has passed and the laggards were closed without ceremony.
func (h *Hub) Apply(cmds []parley.Command) {
	var waits []pending
	for _, cmd := range cmds {
		waits = append(waits, h.apply(cmd)...)
	}
	if len(waits) == 0 {
		return
	}
	timer := time.NewTimer(revokeGrace)
	defer timer.Stop()
	late := false
	for _, w := range waits {
		if !late {
			select {
			case <-w.ch:
				continue
			case <-w.c.done:
				continue
			case <-timer.C:
				late = true
			}
		}
		select {
		case <-w.ch:
		case <-w.c.done:
		default:
			w.c.kill()
		}
	}
}

// apply starts one command and returns the connections to wait for.
func (h *Hub) apply(cmd parley.Command) []pending {
	key := roomKey{cmd.Scope, cmd.Room}
	var waits []pending
	switch cmd.Op {
	case parley.OpDisconnectUser:
		keys := []roomKey{key}
		if cmd.Room == "" {
			keys = h.userRooms(cmd.Scope, cmd.User) // a ban from every room
		}
		for _, k := range keys {
			one := cmd
			one.Room = k.id
			// The notice goes to everyone in the room, the target included, before the target is closed.
			notice := compile(ws.OpText, eventFrame(parley.DisconnectNotice(one)))
			targets := h.conns(k, cmd.User)
			h.broadcast(k, notice, cmd.User)
			for _, c := range targets {
				waits = append(waits, pending{c, c.revoke(ws.StatusNormalClosure, "disconnected", notice)})
			}
		}
	case parley.OpDeleteRoom:
		for _, c := range h.conns(key, "") {
			waits = append(waits, pending{c, c.revoke(ws.StatusNormalClosure, "room deleted")})
		}
	case parley.OpUpdateRoom:
		h.reloadRoom(key)
	case parley.OpSignOut:
		notice := compile(ws.OpText, signedOutFrame(cmd.Reason, h.clock.Now()))
		var targets []*conn
		h.mu.RLock()
		for _, u := range cmd.Users {
			targets = append(targets, h.devices[cmd.Chime.User(u)]...)
		}
		h.mu.RUnlock()
		for _, c := range targets {
			waits = append(waits, pending{c, c.revoke(ws.StatusNormalClosure, "signed out: "+cmd.Reason, notice)})
		}
	case parley.OpAddMember, parley.OpRemoveMember, parley.OpDeleteChimeRoom:
		waits = h.chimeApply(cmd)
	}
	return waits
}

// reloadRoom applies a room's new limits to its open connections.
func (h *Hub) reloadRoom(key roomKey) {
	h.mu.RLock()
	r := h.rooms[key]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := h.store.Room(ctx, key.scope, key.id)
	if err != nil {
		if parley.KindOf(err) != parley.KindNotFound {
			h.log.Error("reloading room", "room", key.id, "err", err)
		}
		return
	}
	r.setInfo(info)
}

// userRooms returns the rooms of scope where user has local connections.
func (h *Hub) userRooms(scope parley.Scope, user string) []roomKey {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var keys []roomKey
	for k, r := range h.rooms {
		if k.scope == scope && len(r.users[user]) > 0 {
			keys = append(keys, k)
		}
	}
	return keys
}

// sweeper expires sessions every second and pings idle connections.
func (h *Hub) sweeper(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastPing := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Sweep()
			if time.Since(lastPing) >= h.cfg.PingInterval {
				prev := lastPing
				lastPing = time.Now()
				h.ping(prev)
			}
		}
	}
}

// Sweep ends every connection whose session has expired: ERROR 401 (which
// makes the JS client reconnect with a fresh token), then a clean close.
func (h *Hub) Sweep() {
	now := h.clock.Now()
	var expired []*conn
	h.mu.RLock()
	for _, c := range h.allLocked() {
		if !now.Before(c.expires) {
			expired = append(expired, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range expired {
		c.fail("", 401, "connection expired")
		c.closeWith(ws.StatusNormalClosure, "session expired")
	}
}

// ping sends a ping to every connection and drops those that have read
// nothing since the previous round (at prev): they were pinged then, or
// were connected before it and silent since, and had a whole interval to
// answer.
func (h *Hub) ping(prev time.Time) {
	frame := compile(ws.OpPing, nil)
	deadline := prev.UnixNano()
	h.mu.RLock()
	all := h.allLocked()
	h.mu.RUnlock()
	for _, c := range all {
		if c.lastRead.Load() < deadline {
			c.kill()
		} else {
			c.ping(frame)
		}
	}
}
