package service

import (
	"context"

	"github.com/parley-chat/parley"
)

// CreateLoggingConfiguration creates a logging configuration; it is ACTIVE at once.
func (s *Service) CreateLoggingConfiguration(ctx context.Context, name string, dest parley.Destination, tags map[string]string) (*parley.LoggingConfiguration, error) {
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
func (s *Service) GetLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) (*parley.LoggingConfiguration, error) {
	sc, err := resolve(ctx, arn, "logging-configuration")
	if err != nil {
		return nil, err
	}
	return s.Store.LoggingConfiguration(ctx, sc, arn.ID)
}

// UpdateLoggingConfiguration changes the name or destination.
func (s *Service) UpdateLoggingConfiguration(ctx context.Context, arn parley.ParsedARN, name *string, dest *parley.Destination) (*parley.LoggingConfiguration, error) {
	sc, err := resolve(ctx, arn, "logging-configuration")
	if err != nil {
		return nil, err
	}
	return s.Store.UpdateLoggingConfiguration(ctx, sc, arn.ID, parley.LoggingConfigurationUpdate{Name: name, Destination: dest, UpdateTime: s.Clock.Now()})
}

// DeleteLoggingConfiguration deletes it and detaches it from every room.
func (s *Service) DeleteLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) error {
	sc, err := resolve(ctx, arn, "logging-configuration")
	if err != nil {
		return err
	}
	return s.Store.DeleteLoggingConfiguration(ctx, sc, arn.ID)
}

// ListLoggingConfigurations lists the caller's logging configurations.
func (s *Service) ListLoggingConfigurations(ctx context.Context, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, "", err
	}
	if p.MaxResults == 0 {
		p.MaxResults = 50
	}
	return s.Store.ListLoggingConfigurations(ctx, sc, p)
}

// Tags returns the tags of a room or logging configuration.
func (s *Service) Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error) {
	if _, err := resolve(ctx, arn, arn.Kind); err != nil {
		return nil, err
	}
	return s.Store.Tags(ctx, arn)
}

// TagResource adds or overwrites tags.
func (s *Service) TagResource(ctx context.Context, arn parley.ParsedARN, tags map[string]string) error {
	if _, err := resolve(ctx, arn, arn.Kind); err != nil {
		return err
	}
	return s.Store.UpdateTags(ctx, arn, tags, nil, parley.MaxTagsPerResource)
}

// UntagResource removes tags; keys that are not set are ignored.
func (s *Service) UntagResource(ctx context.Context, arn parley.ParsedARN, keys []string) error {
	if _, err := resolve(ctx, arn, arn.Kind); err != nil {
		return err
	}
	return s.Store.UpdateTags(ctx, arn, nil, keys, parley.MaxTagsPerResource)
}
