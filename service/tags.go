package service

import (
	"context"

	"github.com/parley-chat/parley"
)

// Tagging tags IVS resources (rooms and logging configurations).
type Tagging struct {
	Store TagStore
}

// TagStore is what Tagging reads and writes.
type TagStore interface {
	Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error)
	UpdateTags(ctx context.Context, arn parley.ParsedARN, set map[string]string, remove []string, max int) error
}

// Tags returns the tags of a room or logging configuration.
func (s *Tagging) Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error) {
	if _, err := resolve(ctx, arn, arn.Kind); err != nil {
		return nil, err
	}
	return s.Store.Tags(ctx, arn)
}

// TagResource adds or overwrites tags.
func (s *Tagging) TagResource(ctx context.Context, arn parley.ParsedARN, tags map[string]string) error {
	if _, err := resolve(ctx, arn, arn.Kind); err != nil {
		return err
	}
	return s.Store.UpdateTags(ctx, arn, tags, nil, parley.MaxTagsPerResource)
}

// UntagResource removes tags; keys that are not set are ignored.
func (s *Tagging) UntagResource(ctx context.Context, arn parley.ParsedARN, keys []string) error {
	if _, err := resolve(ctx, arn, arn.Kind); err != nil {
		return err
	}
	return s.Store.UpdateTags(ctx, arn, nil, keys, parley.MaxTagsPerResource)
}
