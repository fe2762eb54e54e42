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

// Service is parley's IVS Chat operations.
type Service struct {
	Store  parley.Store
	Bus    parley.Bus
	Clock  parley.Clock
	Tokens *chattoken.Sealer
	Limits Limits
	Log    *slog.Logger
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

// publish sends ev after a committed write. Delivery is best effort: the
// write stands, and readers re-check the Store, so a failure is logged.
func (s *Service) publish(ctx context.Context, ev parley.Event) {
	if err := s.Bus.Publish(ctx, parley.RoomSubject(ev.Room, ev.RoomID), ev); err != nil {
		s.Log.ErrorContext(ctx, "bus publish failed", "type", ev.Type, "room", ev.RoomID, "err", err)
	}
}
