// Package service implements parley's operations on domain types: it checks
// what a caller may do, applies defaults, writes to the Store and then
// publishes to the Bus. Wire formats are the API packages' business; the
// shapes here are already validated against each API's constraints.
package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/control"
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

// Control carries revocations out on every node: see package control.
type Control interface {
	// Do makes the change write makes, with cmds, durable in one
	// transaction (or cmds alone if write is nil), then carries cmds out on
	// every live node.
	Do(ctx context.Context, write func(ctx context.Context) error, cmds ...parley.Command) error
	// Deliver carries out commands already made durable with control.Entry.
	Deliver(ctx context.Context, cmds ...parley.Command) error
}

// ChatLog records room traffic for the room's logging configurations.
type ChatLog interface {
	Record(ctx context.Context, ev parley.Event)
}

// Core is what every domain service shares: the clock, the log, the
// control plane that carries revocations out, and the audit trail.
type Core struct {
	Control Control
	Clock   parley.Clock
	Log     *slog.Logger
	// Audit receives the record of every revocation and moderation call.
	Audit AuditWriter
	// Gate, if set, admits room traffic (messages and events) only while
	// the node can deliver it: a publisher waits, within a bound, and then
	// gets a KindThrottled error.
	Gate Gate
}

// Gate is the node's back-pressure on room traffic (ws.Hub is one).
type Gate interface {
	// Admit returns once the node can take one more message or event, or
	// a KindThrottled error; release, if not nil, is called once that
	// message or event is on the bus (or will not be).
	Admit(ctx context.Context) (release func(), err error)
}

// admit asks the gate, if any, to let one more message or event to roomID
// through; the caller calls the function it returns once it has published.
func (s *Core) admit(ctx context.Context, roomID string) (func(), error) {
	if s.Gate == nil {
		return func() {}, nil
	}
	release, err := s.Gate.Admit(ctx)
	if e, ok := err.(*parley.Error); ok && e.Resource == nil {
		named := *e
		named.Resource = &parley.Resource{Type: parley.ResourceRoom, ID: roomID}
		return nil, &named
	}
	if err != nil {
		return nil, err
	}
	if release == nil {
		return func() {}, nil
	}
	return release, nil
}

// AuditWriter is where audit records are written.
type AuditWriter interface {
	// AppendAudit records a call; with a context made by
	// parley.WithOutbox, in one transaction with the outbox entries.
	AppendAudit(ctx context.Context, r *parley.AuditRecord) error
	// ReplaceAudit replaces the record of r's account and ID.
	ReplaceAudit(ctx context.Context, r *parley.AuditRecord) error
}

// Config is what New builds the services from.
type Config struct {
	Store   parley.Store
	Bus     parley.Bus
	Control Control // may be set later, on Core, when the control plane needs the services first
	Clock   parley.Clock
	Tokens  *chattoken.Sealer
	Limits  Limits
	Log     *slog.Logger
	// ChatLog, if set, records room traffic for the room's logging configurations.
	ChatLog ChatLog
	// Chime tunes the Chime operations.
	Chime ChimeOptions
}

// Services are parley's operations, one service per domain, sharing Core.
type Services struct {
	Core       *Core
	Rooms      *Rooms      // IVS rooms, chat tokens, moderation and bans
	Logging    *Logging    // IVS logging configurations
	Tagging    *Tagging    // tags of IVS resources
	Accounts   *Accounts   // Chime accounts, users and their sessions
	ChimeRooms *ChimeRooms // Chime rooms, memberships, messages and bots
	AuditLog   *AuditLog   // the audit trail
}

// New builds every service over one store and bus.
func New(c Config) *Services {
	core := &Core{Control: c.Control, Clock: c.Clock, Log: c.Log, Audit: c.Store}
	return &Services{
		Core:       core,
		Rooms:      &Rooms{Core: core, Store: c.Store, Bus: c.Bus, Tokens: c.Tokens, Limits: c.Limits, ChatLog: c.ChatLog},
		Logging:    &Logging{Core: core, Store: c.Store, Limits: c.Limits},
		Tagging:    &Tagging{Store: c.Store},
		Accounts:   &Accounts{Core: core, Store: c.Store, Chime: c.Chime},
		ChimeRooms: &ChimeRooms{Core: core, Store: c.Store, Bus: c.Bus, Chime: c.Chime},
		AuditLog:   &AuditLog{Store: c.Store},
	}
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
//
// It is logged before it is published: a client that has received it may
// already send what comes next, and the log must keep the room's order.
func (s *Rooms) PublishRoom(ctx context.Context, ev parley.Event) error {
	published, err := s.admit(ctx, ev.RoomID)
	if err != nil {
		return err
	}
	defer published()
	s.record(ctx, ev)
	return s.Bus.Publish(ctx, parley.RoomSubject(ev.Room, ev.RoomID), ev)
}

func (s *Rooms) record(ctx context.Context, ev parley.Event) {
	if s.ChatLog != nil {
		s.ChatLog.Record(ctx, ev)
	}
}

// audit records a revocation or moderation call and its outcome, as made
// by the caller's access key (or, for a chat client, "chat:<userId>"). It
// is written even if the caller hung up: the revocation went ahead. A
// failure to record is logged: it must not undo a revocation that happened.
func (s *Core) audit(ctx context.Context, action, target string, result error) {
	s.auditDetail(ctx, action, target, "", result)
}

// auditDetail is audit with more to say than the target, such as a ban's reason and duration.
func (s *Core) auditDetail(ctx context.Context, action, target, detail string, result error) {
	ctx = context.WithoutCancel(ctx)
	r := s.auditRecord(ctx, action, target, detail)
	if result != nil {
		r.Result = parley.AsError(result).Message
	}
	if err := s.Audit.AppendAudit(ctx, r); err != nil {
		s.Log.ErrorContext(ctx, "audit record lost", "action", action, "target", target, "err", err)
	}
}

// auditRecord is the record of a call by ctx's principal, its result "ok".
func (s *Core) auditRecord(ctx context.Context, action, target, detail string) *parley.AuditRecord {
	p, _ := parley.PrincipalFromContext(ctx)
	return &parley.AuditRecord{ID: parley.NewID(), Time: s.Clock.Now(), AwsAccountID: p.AccountID, Caller: p.AccessKeyID, Action: action, Target: target, Detail: detail, Result: "ok"}
}

// auditedDo is Control.Do for a command with no change of its own to
// write: the call's audit record is written with the command, in one
// transaction, rather than in one of its own after it. A failure before
// the command is durable is recorded as audit does; one after (the nodes
// did not all confirm in time: the command stays queued and is carried
// out within the lease) replaces the record's result.
func (s *Core) auditedDo(ctx context.Context, action, target string, cmd parley.Command) error {
	r := s.auditRecord(ctx, action, target, "")
	err := s.Control.Do(ctx, func(ctx context.Context) error { return s.Audit.AppendAudit(ctx, r) }, cmd)
	switch {
	case err == nil:
	case !control.Queued(err): // nothing was written
		s.audit(ctx, action, target, err)
	default:
		r.Result = parley.AsError(err).Message
		if err := s.Audit.ReplaceAudit(context.WithoutCancel(ctx), r); err != nil {
			s.Log.ErrorContext(ctx, "audit record not updated", "action", action, "target", target, "err", err)
		}
	}
	return err
}

// IVS is what the IVS Chat API serves: rooms, tokens, moderation and bans,
// logging configurations and tags.
type IVS struct {
	*Rooms
	*Logging
	*Tagging
}

// Chime is what the Chime API serves: accounts, users and sessions, rooms,
// memberships and bots.
type Chime struct {
	*Accounts
	*ChimeRooms
	*AuditLog // parley:ListAudit
}

// IVS returns the services of the IVS Chat API.
func (s *Services) IVS() IVS { return IVS{s.Rooms, s.Logging, s.Tagging} }

// Chime returns the services of the Chime API.
func (s *Services) Chime() Chime { return Chime{s.Accounts, s.ChimeRooms, s.AuditLog} }
