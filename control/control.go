// Package control owns parley's revocation protocol: the commands that
// close or change live connections (DisconnectUser, DeleteRoom, LogoutUser,
// suspensions, membership changes) and the guarantee that comes with them.
//
// A command is written to the store's outbox in the same transaction as
// the change it enforces. From then on nothing can lose it: the call that
// made it is detached from its caller's cancellation, publishes it on the
// bus and waits until every live node has carried it out; a node that
// misses the bus message finds the entry in the store on its next tick and
// carries it out then; an entry leaves the outbox when every live node has
// acknowledged it, or when it is old enough that every node has either
// carried it out or fenced itself. Liveness is judged by the store's clock,
// never by a node's own, and a node that loses the store or the bus for
// its lease fences itself: it drops every connection and accepts none.
//
// Commands that close nothing travel the same way, so that every node
// forgets what it keeps in memory of a change before the call returns
// (package cache). A program that changes the store outside every node
// (parley keys) makes its commands with a Caller.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// Store is what the control plane keeps in the store.
type Store interface {
	Heartbeat(ctx context.Context, node string, fenced bool) error
	LiveNodes(ctx context.Context, lease time.Duration) ([]string, error)
	AppendOutbox(ctx context.Context, entries ...*parley.OutboxEntry) error
	PendingOutbox(ctx context.Context, node string) ([]*parley.OutboxEntry, error)
	AckOutbox(ctx context.Context, node string, ids ...string) error
	OutboxAcks(ctx context.Context, id string) ([]string, error)
	CompleteOutbox(ctx context.Context, ids ...string) error
	ExpireOutbox(ctx context.Context, age time.Duration) error
}

// Sockets are this node's live connections, as the control plane drives them.
type Sockets interface {
	// Apply carries out cmds, in order, and returns once every connection
	// they close is closed and every notice they send to a connection is
	// written to it, or that connection is closed. A connection cannot hold
	// it up for more than a short, fixed time.
	Apply(cmds []parley.Command)
	// Fence drops every connection and refuses new ones until Unfence.
	Fence()
	Unfence()
	// Revalidate checks open connections against the store, after a bus
	// outage short enough not to fence.
	Revalidate(ctx context.Context)
}

// pinger is a bus that can tell, within ctx, whether it reaches its server.
type pinger interface {
	Ping(ctx context.Context) error
}

// Config tunes the control plane; zero values take the defaults named.
type Config struct {
	NodeID    string
	Heartbeat time.Duration // how often the node heartbeats and reads the outbox; zero means 1 second
	Lease     time.Duration // a node silent for this long is dead to the others and fences itself; zero means 5 seconds
	Timeout   time.Duration // how long a call waits for every node; zero means 10 seconds
	// Observer, if set, is told how long each revocation took.
	Observer Observer
}

// Observer watches revocations, for metrics.
type Observer interface {
	// Revoked is called when a Do or Deliver call returns, with its
	// commands and the time from the call until every live node confirmed
	// that no matching socket is left (or until it failed, with err).
	Revoked(cmds []parley.Command, took time.Duration, err error)
}

// Stats is the state of a node's control plane, for metrics and the console.
type Stats struct {
	Waiting     int       // commands of calls on this node waiting for acknowledgements
	Queued      int       // batches of commands waiting for this node's worker
	Fenced      bool      // the node has fenced itself
	StoreUp     bool      // the last heartbeat reached the store
	BusUp       bool      // the last heartbeat reached the bus
	LastHealthy time.Time // when the node last reached both
}

func (c *Config) defaults() {
	if c.Heartbeat == 0 {
		c.Heartbeat = time.Second
	}
	if c.Lease == 0 {
		c.Lease = 5 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
}

// Plane is one node's end of the control plane.
type Plane struct {
	sender
	sockets Sockets

	mu      sync.Mutex
	jobs    []job
	wake    chan struct{}
	applied map[string]time.Time // command IDs carried out here, for replays
	fenced  bool
	ticks   int      // heartbeats so far; only the heartbeat goroutine uses it
	done    []string // delivered commands, for the completer to remove
	waiting int      // commands of Deliver calls not yet returned
	health  Stats

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// job is a batch of commands for the node's worker, which carries them out
// one batch at a time, in the order they arrived.
type job struct {
	cmds    []parley.Command
	replyTo string
	done    chan struct{}
}

// New returns a control plane for the node; Start runs it.
func New(store Store, bus parley.Bus, sockets Sockets, log *slog.Logger, cfg Config) *Plane {
	cfg.defaults()
	p := &Plane{sender: sender{store: store, bus: bus, cfg: cfg, log: log}, sockets: sockets, wake: make(chan struct{}, 1), applied: map[string]time.Time{},
		health: Stats{StoreUp: true, BusUp: true, LastHealthy: time.Now()}}
	p.init()
	return p
}

// Config returns the plane's configuration, defaults applied.
func (p *Plane) Config() Config { return p.cfg }

// Start records the node as live, subscribes to commands and starts the
// worker and the heartbeat. It returns once commands reach the node.
func (p *Plane) Start(ctx context.Context) error {
	if err := p.store.Heartbeat(ctx, p.cfg.NodeID, false); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	unsub, err := p.bus.Subscribe(ctx, parley.ControlSubject, func(ev parley.Event) {
		if ev.Type == parley.EventControl {
			p.enqueue(job{cmds: ev.Commands, replyTo: ev.ReplyTo})
		}
	})
	if err != nil {
		return err
	}
	bg, stop := context.WithCancel(context.Background())
	p.cancel = func() { stop(); unsub() }
	p.wg.Add(3)
	go func() { defer p.wg.Done(); p.work(bg) }()
	go func() { defer p.wg.Done(); p.tick(bg) }()
	go func() { defer p.wg.Done(); p.completer(bg) }()
	return nil
}

// Stop ends the worker and the heartbeat.
func (p *Plane) Stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// Entry returns the outbox entry of cmd, giving cmd an ID if it has none.
func Entry(cmd *parley.Command) *parley.OutboxEntry {
	if cmd.ID == "" {
		cmd.ID = parley.NewID()
	}
	b, _ := json.Marshal(cmd)
	return &parley.OutboxEntry{ID: cmd.ID, Command: b}
}

// Do makes cmds durable and carries them out on every node. write, if not
// nil, is the change they enforce: it is called with a context whose store
// write appends the commands to the outbox in the same transaction. With
// no write, the commands alone are written.
func (p *Plane) Do(ctx context.Context, write func(ctx context.Context) error, cmds ...parley.Command) error {
	start := time.Now()
	if err := p.write(ctx, write, cmds); err != nil {
		return err
	}
	return p.deliver(ctx, start, cmds)
}

// Deliver carries out commands already in the outbox on every live node
// and returns once each has confirmed, or an error after the timeout.
// The commands are durable, so it ignores ctx's cancellation: a caller that
// hangs up does not stop a revocation half-way. After an error the
// commands are still carried out, by the nodes' reading of the outbox,
// within the lease.
func (p *Plane) Deliver(ctx context.Context, cmds ...parley.Command) error {
	return p.deliver(ctx, time.Now(), cmds)
}

// deliver is Deliver for a call that started at start, which it reports
// to the observer with the outcome.
func (p *Plane) deliver(ctx context.Context, start time.Time, cmds []parley.Command) (err error) {
	if len(cmds) == 0 {
		return nil
	}
	p.mu.Lock()
	p.waiting += len(cmds)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.waiting -= len(cmds)
		p.mu.Unlock()
		if p.cfg.Observer != nil {
			p.cfg.Observer.Revoked(cmds, time.Since(start), err)
		}
	}()
	if _, err := p.await(ctx, cmds); err != nil {
		return err
	}
	// Carried out everywhere: the caller need not wait for the clean-up,
	// which is batched with that of other calls into one write.
	p.mu.Lock()
	for _, c := range cmds {
		p.done = append(p.done, c.ID)
	}
	p.mu.Unlock()
	return nil
}

// sender makes commands durable and waits until every live node has
// carried them out: a node's Plane does, and so does a Caller, outside
// every node.
type sender struct {
	store Store
	bus   parley.Bus // nil: the nodes find commands in the outbox, and acknowledge them there
	cfg   Config
	log   *slog.Logger
	live  liveReader // the live nodes, for deliver
}

// init sets up what the sender needs besides its fields.
func (s *sender) init() {
	s.live.read = func(ctx context.Context) ([]string, error) { return s.store.LiveNodes(ctx, s.cfg.Lease) }
	s.live.timeout = s.cfg.Timeout
}

// write appends cmds to the outbox, giving each an ID, in the transaction
// of write's change if write is not nil.
func (s *sender) write(ctx context.Context, write func(ctx context.Context) error, cmds []parley.Command) error {
	entries := make([]*parley.OutboxEntry, len(cmds))
	for i := range cmds {
		entries[i] = Entry(&cmds[i])
	}
	if write != nil {
		return write(parley.WithOutbox(ctx, entries...))
	}
	return s.store.AppendOutbox(ctx, entries...)
}

// await publishes cmds, already in the outbox, and returns once every node
// live when it started has confirmed them, or has died or fenced itself
// meanwhile, with the number of nodes that confirmed; or an error after
// the timeout. It ignores ctx's cancellation: the commands are durable.
func (s *sender) await(ctx context.Context, cmds []parley.Command) (confirmed int, err error) {
	if len(cmds) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	ids := make([]string, len(cmds))
	for i, c := range cmds {
		ids[i] = c.ID
	}
	acks := make(chan string, 64)
	replyTo := ""
	if s.bus != nil {
		replyTo = "parley.reply." + parley.NewID()
		// A bus that does not answer must not use up the call's time: the
		// store carries the acknowledgements then.
		sctx, scancel := context.WithTimeout(ctx, min(s.cfg.Timeout/4, time.Second))
		defer scancel()
		if unsub, err := s.bus.Subscribe(sctx, replyTo, func(ev parley.Event) {
			if ev.Type == parley.EventAck {
				select {
				case acks <- ev.Node:
				default: // the store has the acknowledgement too, sooner or later
				}
			}
		}); err == nil {
			defer unsub()
		} else {
			s.log.Warn("control: no bus for acknowledgements, waiting on the store", "err", err)
			replyTo = ""
		}
	}
	msg := parley.Event{Type: parley.EventControl, Commands: cmds, ReplyTo: replyTo}
	publish := func() {
		if s.bus == nil {
			return // the nodes read the outbox at their next heartbeat
		}
		if err := s.bus.Publish(ctx, parley.ControlSubject, msg); err != nil {
			s.log.Warn("control: publishing a command", "err", err)
		}
	}
	publish()

	// The nodes live once the commands were durable must confirm; a node
	// that dies or fences itself meanwhile no longer holds connections.
	waiting := map[string]bool{}
	live, err := s.live.get(ctx)
	if err != nil {
		return 0, &parley.Error{Kind: parley.KindUnavailable, Op: "control.Deliver", Message: "store unavailable", Err: err}
	}
	for _, n := range live {
		waiting[n] = true
	}
	confirm := func(n string) {
		if waiting[n] {
			delete(waiting, n)
			confirmed++
		}
	}
	recheck := func() {
		live, err := s.live.get(ctx)
		if err != nil {
			return
		}
		for n := range waiting {
			if !slices.Contains(live, n) {
				delete(waiting, n)
			}
		}
	}
	// storeAcks takes the nodes that acknowledged every command in the
	// store. An entry that is gone was completed: every live node had.
	storeAcks := func() {
		count := map[string]int{}
		for _, id := range ids {
			nodes, err := s.store.OutboxAcks(ctx, id)
			if parley.KindOf(err) == parley.KindNotFound {
				for n := range waiting {
					count[n]++
				}
				continue
			}
			if err != nil {
				return
			}
			for _, n := range nodes {
				count[n]++
			}
		}
		for n, c := range count {
			if c == len(ids) {
				confirm(n)
			}
		}
	}
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for rounds := 1; len(waiting) > 0; {
		select {
		case n := <-acks:
			confirm(n)
		case <-poll.C:
			recheck()
			// The bus may have lost the command or an acknowledgement;
			// the store has what the nodes that read the outbox did.
			// Without a bus it has everything, so look every time.
			if rounds++; (s.bus == nil || rounds%3 == 0) && len(waiting) > 0 {
				storeAcks()
				publish()
			}
		case <-ctx.Done():
			return confirmed, &parley.Error{Kind: parley.KindUnavailable, Op: "control.Deliver",
				Message: fmt.Sprintf("%d node(s) did not confirm within %s; the command stays queued and is carried out, or the node fenced, within %s", len(waiting), s.cfg.Timeout, s.cfg.Lease)}
		}
	}
	return confirmed, nil
}

// Caller makes commands from outside every node: a program that changes
// the store itself (parley keys) and must know the running nodes have
// acted on the change before it returns. It is not a node: it does not
// heartbeat, holds no connections, and no call waits for it.
type Caller struct {
	sender
}

// NewCaller returns a caller over the nodes' store and, if not nil, their
// bus. Without the bus, the nodes find the commands in the outbox at their
// next heartbeat and acknowledge them there, where the caller reads them:
// a call takes about a heartbeat then. cfg's NodeID and Observer are unused.
func NewCaller(store Store, bus parley.Bus, log *slog.Logger, cfg Config) *Caller {
	cfg.defaults()
	c := &Caller{sender{store: store, bus: bus, cfg: cfg, log: log}}
	c.init()
	return c
}

// Do is Plane.Do from outside every node. It also returns how many live
// nodes confirmed the commands: zero when none is running.
func (c *Caller) Do(ctx context.Context, write func(ctx context.Context) error, cmds ...parley.Command) (confirmed int, err error) {
	if err := c.write(ctx, write, cmds); err != nil {
		return 0, err
	}
	if confirmed, err = c.await(ctx, cmds); err != nil {
		return confirmed, err
	}
	// Every live node carried them out; a failure only leaves them for expiry.
	ids := make([]string, len(cmds))
	for i, cmd := range cmds {
		ids[i] = cmd.ID
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	defer cancel()
	if err := c.store.CompleteOutbox(wctx, ids...); err != nil {
		c.log.Warn("control: completing commands", "err", err)
	}
	return confirmed, nil
}

// completeInterval is how often delivered commands are removed from the
// outbox, together in one write.
const completeInterval = 100 * time.Millisecond

// completer removes delivered commands from the outbox. A failure only
// leaves them for expiry: every node has carried them out.
func (p *Plane) completer(ctx context.Context) {
	t := time.NewTicker(completeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		p.mu.Lock()
		ids := p.done
		p.done = nil
		p.mu.Unlock()
		if len(ids) > 0 {
			wctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
			if err := p.store.CompleteOutbox(wctx, ids...); err != nil {
				p.log.Warn("control: completing commands", "err", err)
			}
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (p *Plane) enqueue(j job) {
	p.mu.Lock()
	p.jobs = append(p.jobs, j)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// work carries out jobs one at a time, in order, so that commands apply on
// each node in the order they reached it.
func (p *Plane) work(ctx context.Context) {
	for {
		p.mu.Lock()
		if len(p.jobs) == 0 {
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
			}
			continue
		}
		j := p.jobs[0]
		p.jobs[0] = job{}
		p.jobs = p.jobs[1:]
		var fresh []parley.Command
		for _, c := range j.cmds {
			if _, ok := p.applied[c.ID]; !ok {
				fresh = append(fresh, c)
			}
		}
		p.mu.Unlock()
		if len(fresh) > 0 {
			p.sockets.Apply(fresh)
			now := time.Now()
			p.mu.Lock()
			for _, c := range fresh {
				p.applied[c.ID] = now
			}
			p.mu.Unlock()
		}
		if j.replyTo != "" {
			if err := p.bus.Publish(ctx, j.replyTo, parley.Event{Type: parley.EventAck, Node: p.cfg.NodeID}); err != nil {
				p.log.Warn("control: acknowledging a command", "err", err)
			}
		}
		if j.done != nil {
			close(j.done)
		}
	}
}

// Stats returns the state of the node's control plane.
func (p *Plane) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.health
	st.Waiting, st.Queued, st.Fenced = p.waiting, len(p.jobs), p.fenced
	return st
}

// Fenced reports whether the node has fenced itself.
func (p *Plane) Fenced() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fenced
}

// tick heartbeats, carries out what the outbox holds that this node has
// not, and fences the node when it has not reached both the store and the
// bus for its lease. Time here is this node's monotonic clock: it only
// measures how long ago the node last knew it was connected.
func (p *Plane) tick(ctx context.Context) {
	t := time.NewTicker(p.cfg.Heartbeat)
	defer t.Stop()
	lastHealthy, busWasUp := time.Now(), true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		started := time.Now()
		hctx, cancel := context.WithTimeout(ctx, p.cfg.Heartbeat)
		fenced := p.Fenced()
		storeUp := p.store.Heartbeat(hctx, p.cfg.NodeID, fenced) == nil
		busUp := true
		if b, ok := p.bus.(pinger); ok {
			busUp = b.Ping(hctx) == nil
		}
		if storeUp {
			p.replay(hctx)
		}
		cancel()
		switch {
		case storeUp && busUp:
			if fenced {
				p.setFenced(false)
				p.sockets.Unfence()
				p.log.Info("control: store and bus are back; accepting connections again")
			} else if !busWasUp {
				// Commands were replayed from the outbox; durable state
				// (sign-outs, deleted rooms) is checked on top.
				p.sockets.Revalidate(ctx)
			}
			lastHealthy = started
		// Fence before the lease runs out: the next tick may come too late.
		case !fenced && time.Since(lastHealthy)+p.cfg.Heartbeat >= p.cfg.Lease:
			p.log.Warn("control: fencing: no store or bus for the lease", "store", storeUp, "bus", busUp)
			p.sockets.Fence()
			p.setFenced(true)
			if storeUp {
				// Tell the others at once not to wait for this node.
				hctx, cancel := context.WithTimeout(ctx, p.cfg.Heartbeat)
				p.store.Heartbeat(hctx, p.cfg.NodeID, true)
				cancel()
			}
		}
		busWasUp = busUp
		p.mu.Lock()
		p.health.StoreUp, p.health.BusUp, p.health.LastHealthy = storeUp, busUp, lastHealthy
		p.mu.Unlock()
		p.forget()
	}
}

func (p *Plane) setFenced(v bool) {
	p.mu.Lock()
	p.fenced = v
	p.mu.Unlock()
}

// replay carries out, in order, the outbox entries this node has not
// acknowledged in the store (those the bus did not bring, and those whose
// caller is still waiting or gone), then acknowledges them there, and
// removes the entries old enough that no node can still need them.
func (p *Plane) replay(ctx context.Context) {
	entries, err := p.store.PendingOutbox(ctx, p.cfg.NodeID)
	if err != nil {
		return
	}
	if len(entries) > 0 {
		cmds := make([]parley.Command, 0, len(entries))
		ids := make([]string, 0, len(entries))
		for _, e := range entries {
			var c parley.Command
			if err := json.Unmarshal(e.Command, &c); err != nil {
				p.log.Error("control: undecodable outbox entry", "id", e.ID, "err", err)
			} else {
				cmds = append(cmds, c)
			}
			ids = append(ids, e.ID)
		}
		done := make(chan struct{})
		p.enqueue(job{cmds: cmds, done: done})
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
		if err := p.store.AckOutbox(ctx, p.cfg.NodeID, ids...); err != nil {
			p.log.Warn("control: acknowledging replayed commands", "err", err)
		}
		p.completeAcked(ctx, ids)
	}
	// By this age every node has read the entry or has fenced itself. An
	// entry every node acknowledged, whose caller died before completing it,
	// is pending nowhere: so look now and then even when nothing is.
	p.ticks++
	if len(entries) > 0 || p.ticks%10 == 0 {
		p.store.ExpireOutbox(ctx, max(p.cfg.Lease, p.cfg.Timeout)+2*p.cfg.Heartbeat)
	}
}

// completeAcked removes the entries every live node has acknowledged in
// the store: their caller gave up, or died, before it could.
func (p *Plane) completeAcked(ctx context.Context, ids []string) {
	live, err := p.store.LiveNodes(ctx, p.cfg.Lease)
	if err != nil {
		return
	}
	var done []string
	for _, id := range ids {
		acks, err := p.store.OutboxAcks(ctx, id)
		if err != nil {
			return
		}
		all := true
		for _, n := range live {
			all = all && slices.Contains(acks, n)
		}
		if all {
			done = append(done, id)
		}
	}
	if len(done) > 0 {
		p.store.CompleteOutbox(ctx, done...)
	}
}

// forget drops the memory of commands too old to be replayed again.
func (p *Plane) forget() {
	horizon := time.Now().Add(-2 * (max(p.cfg.Lease, p.cfg.Timeout) + 2*p.cfg.Heartbeat))
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, at := range p.applied {
		if at.Before(horizon) {
			delete(p.applied, id)
		}
	}
}

// Queued reports whether err, from Do or Deliver, came after the commands
// were durable: they will still be carried out, or their nodes fenced.
func Queued(err error) bool {
	var pe *parley.Error
	return errors.As(err, &pe) && pe.Op == "control.Deliver"
}
