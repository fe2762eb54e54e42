package service

import (
	"context"

	"github.com/parley-chat/parley"
)

// Logging is IVS Chat's logging configurations.
type Logging struct {
	*Core
	Store  LoggingStore
	Limits Limits
}

// LoggingStore is what Logging reads and writes.
type LoggingStore interface {
	CreateLoggingConfiguration(ctx context.Context, c *parley.LoggingConfiguration, max int) error
	LoggingConfiguration(ctx context.Context, s parley.Scope, id string) (*parley.LoggingConfiguration, error)
	UpdateLoggingConfiguration(ctx context.Context, s parley.Scope, id string, u parley.LoggingConfigurationUpdate) (*parley.LoggingConfiguration, error)
	DeleteLoggingConfiguration(ctx context.Context, s parley.Scope, id string) error
	ListLoggingConfigurations(ctx context.Context, s parley.Scope, p parley.Page) (_ []*parley.LoggingConfiguration, next string, _ error)
}

// CreateLoggingConfiguration creates a logging configuration; it is ACTIVE at once.
func (s *Logging) CreateLoggingConfiguration(ctx context.Context, name string, dest parley.Destination, tags map[string]string) (*parley.LoggingConfiguration, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	now := s.Clock.Now()
	c := &parley.LoggingConfiguration{Scope: sc, ID: parley.NewID(), Name: name, Destination: dest, State: parley.LoggingActive,
		Tags: tags, CreateTime: now, UpdateTime: now}
	if err := s.Store.CreateLoggingConfiguration(ctx, c, s.Limits.configs()); err != nil {
		return nil, err
	}
	return c, nil
}

// GetLoggingConfiguration returns one of the caller's logging configurations.
func (s *Logging) GetLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) (*parley.LoggingConfiguration, error) {
	sc, err := resolve(ctx, arn, "logging-configuration")
	if err != nil {
		return nil, err
	}
	return s.Store.LoggingConfiguration(ctx, sc, arn.ID)
}

// UpdateLoggingConfiguration changes the name or destination.
func (s *Logging) UpdateLoggingConfiguration(ctx context.Context, arn parley.ParsedARN, name *string, dest *parley.Destination) (*parley.LoggingConfiguration, error) {
	sc, err := resolve(ctx, arn, "logging-configuration")
	if err != nil {
		return nil, err
	}
	return s.Store.UpdateLoggingConfiguration(ctx, sc, arn.ID, parley.LoggingConfigurationUpdate{Name: name, Destination: dest, UpdateTime: s.Clock.Now()})
}

// DeleteLoggingConfiguration deletes it and detaches it from every room.
func (s *Logging) DeleteLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) error {
	sc, err := resolve(ctx, arn, "logging-configuration")
	if err != nil {
		return err
	}
	return s.Store.DeleteLoggingConfiguration(ctx, sc, arn.ID)
}

// ListLoggingConfigurations lists the caller's logging configurations.
func (s *Logging) ListLoggingConfigurations(ctx context.Context, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, "", err
	}
	if p.MaxResults == 0 {
		p.MaxResults = 50
	}
	return s.Store.ListLoggingConfigurations(ctx, sc, p)
}
