// Package service implements parley's operations on domain types: it checks
// what a caller may do, applies defaults, writes to the Store and then
// publishes to the Bus. Wire formats are the API packages' business; the
// shapes here are already validated against each API's constraints.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
)

// Limits are the count quotas the service enforces per account and region.
type Limits struct {
	RoomsPerAccount                 int           // zero means 50,000 (the IVS default quota)
	LoggingConfigurationsPerAccount int           // zero means 10 (the IVS default quota)
	TokenLifetime                   time.Duration // how long a chat token can open a connection; zero means 60 minutes
}

func (l Limits) rooms() int {
	if l.RoomsPerAccount == 0 {
		return 50000
	}
	return l.RoomsPerAccount
}

func (l Limits) configs() int {
	if l.LoggingConfigurationsPerAccount == 0 {
		return 10
	}
	return l.LoggingConfigurationsPerAccount
}

func (l Limits) tokenLifetime() time.Duration {
	if l.TokenLifetime == 0 {
		return 60 * time.Minute
	}
	return l.TokenLifetime
}

// Nodes lists the nodes that hold live connections. A command that closes
// connections (DisconnectUser, DeleteRoom) returns only once every one of
// them has confirmed it.
type Nodes interface {
	Live(ctx context.Context) ([]string, error)
}

// StaticNodes is a fixed set of nodes: a single-node server is StaticNodes{itsID}.
type StaticNodes []string

// Live returns the nodes.
func (n StaticNodes) Live(context.Context) ([]string, error) { return n, nil }

// StoreNodes are the nodes whose heartbeat in the store is younger than Lease.
type StoreNodes struct {
	Store interface {
		LiveNodes(ctx context.Context, since time.Time) ([]string, error)
	}
	Lease time.Duration
}

// Live returns the nodes that heartbeated within the lease.
func (n StoreNodes) Live(ctx context.Context) ([]string, error) {
	return n.Store.LiveNodes(ctx, time.Now().Add(-n.Lease))
}

// ChatLog records room traffic for the room's logging configurations.
type ChatLog interface {
	Record(ctx context.Context, ev parley.Event)
}

// Service is parley's IVS Chat operations.
type Service struct {
	Store  parley.Store
	Bus    parley.Bus
	Nodes  Nodes
	Clock  parley.Clock
	Tokens *chattoken.Sealer
	Limits Limits
	Log    *slog.Logger
	// ChatLog, if set, records room traffic for the room's logging configurations.
	ChatLog ChatLog
	// Chime tunes the Chime operations.
	Chime ChimeOptions

	// CommandTimeout bounds how long a command waits for every node to
	// confirm it; zero means 15 seconds.
	CommandTimeout time.Duration
}

// scope returns the caller's tenant; a missing principal is a programming error.
func scope(ctx context.Context) (parley.Scope, error) {
	p, ok := parley.PrincipalFromContext(ctx)
	if !ok || p.AccountID == "" {
		return parley.Scope{}, parley.Errorf(parley.KindUnauthenticated, "request is not authenticated")
	}
	return p.Scope, nil
}

// resolve checks that arn names a resource of kind in the caller's scope and
// returns that scope. An ARN of another account or region is NotFound, as AWS
// answers for a resource the caller cannot see.
func resolve(ctx context.Context, arn parley.ParsedARN, kind string) (parley.Scope, error) {
	s, err := scope(ctx)
	if err != nil {
		return s, err
	}
	typ := parley.ResourceRoom
	if kind == "logging-configuration" {
		typ = parley.ResourceLoggingConfiguration
	}
	if arn.Scope != s || arn.Kind != kind {
		return s, parley.NotFound(typ, arn.ID, "%s %s not found", kindName(kind), arn.ID)
	}
	return s, nil
}

func kindName(kind string) string {
	if kind == "logging-configuration" {
		return "logging configuration"
	}
	return kind
}

// PublishRoom sends room traffic (messages and events) to every node that
// holds connections in the room.
// The publishing node logs it, so each record is written once.
func (s *Service) PublishRoom(ctx context.Context, ev parley.Event) error {
	if err := s.Bus.Publish(ctx, parley.RoomSubject(ev.Room, ev.RoomID), ev); err != nil {
		return err
	}
	s.record(ctx, ev)
	return nil
}

func (s *Service) record(ctx context.Context, ev parley.Event) {
	if s.ChatLog != nil {
		s.ChatLog.Record(ctx, ev)
	}
}

// publish sends ev after a committed write. Delivery is best effort: the
// write stands, and readers re-check the Store, so a failure is logged.
func (s *Service) publish(ctx context.Context, ev parley.Event) {
	if err := s.PublishRoom(ctx, ev); err != nil {
		s.Log.ErrorContext(ctx, "bus publish failed", "type", ev.Type, "room", ev.RoomID, "err", err)
	}
}

// audit records a revocation or moderation call and its outcome. A failure
// to record is logged: it must not undo a revocation that happened.
func (s *Service) audit(ctx context.Context, action, target string, result error) {
	s.auditDetail(ctx, action, target, "", result)
}

// auditDetail is audit with more to say than the target, such as a ban's reason and duration.
func (s *Service) auditDetail(ctx context.Context, action, target, detail string, result error) {
	p, _ := parley.PrincipalFromContext(ctx)
	caller := p.AccessKeyID
	if v, ok := ctx.Value(callerKey{}).(string); ok {
		caller = v
	}
	r := &parley.AuditRecord{ID: parley.NewID(), Time: s.Clock.Now(), AwsAccountID: p.AccountID, Caller: caller, Action: action, Target: target, Detail: detail, Result: "ok"}
	if result != nil {
		r.Result = parley.AsError(result).Message
	}
	if err := s.Store.AppendAudit(ctx, r); err != nil {
		s.Log.ErrorContext(ctx, "audit record lost", "action", action, "target", target, "err", err)
	}
}

type callerKey struct{}

// WithCaller returns ctx whose calls are audited as made by caller (for
// calls that do not come through SigV4, such as a chat client's DISCONNECT_USER).
func WithCaller(ctx context.Context, p parley.Principal, caller string) context.Context {
	return context.WithValue(parley.NewContextWithPrincipal(ctx, p), callerKey{}, caller)
}

// command sends ev to every node on the control subject and waits until
// each live node has confirmed that it carried it out. A node that does not
// answer in time makes the call fail with KindUnavailable, rather than
// report a revocation that may not have happened.
func (s *Service) command(ctx context.Context, ev parley.Event) error {
	nodes, err := s.Nodes.Live(ctx)
	if err != nil {
		return err
	}
	waiting := map[string]bool{}
	for _, n := range nodes {
		waiting[n] = true
	}
	if ev.ID == "" {
		ev.ID = parley.NewID()
	}
	ev.ReplyTo = "parley.reply." + ev.ID + parley.NewID()
	acks := make(chan string, len(nodes)+1)
	cancel, err := s.Bus.Subscribe(ctx, ev.ReplyTo, func(ack parley.Event) {
		select {
		case acks <- ack.Node:
		default:
		}
	})
	if err != nil {
		return &parley.Error{Kind: parley.KindUnavailable, Op: "service.command", Message: "message bus unavailable", Err: err}
	}
	defer cancel()
	if err := s.Bus.Publish(ctx, parley.ControlSubject, ev); err != nil {
		return &parley.Error{Kind: parley.KindUnavailable, Op: "service.command", Message: "message bus unavailable", Err: err}
	}
	timeout := s.CommandTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	// A node that dies while we wait stops heartbeating; once its lease has
	// run out it holds no connections any more and is not waited for.
	recheck := time.NewTicker(250 * time.Millisecond)
	defer recheck.Stop()
	for len(waiting) > 0 {
		select {
		case n := <-acks:
			delete(waiting, n)
		case <-recheck.C:
			live, err := s.Nodes.Live(ctx)
			if err != nil {
				continue
			}
			alive := map[string]bool{}
			for _, n := range live {
				alive[n] = true
			}
			for n := range waiting {
				if !alive[n] {
					delete(waiting, n)
				}
			}
		case <-timer.C:
			return &parley.Error{Kind: parley.KindUnavailable, Op: "service.command",
				Message: fmt.Sprintf("%d node(s) did not confirm within %s", len(waiting), timeout)}
		case <-ctx.Done():
			return &parley.Error{Kind: parley.KindUnavailable, Op: "service.command", Message: "request cancelled", Err: ctx.Err()}
		}
	}
	return nil
}
