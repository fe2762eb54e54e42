package service

import (
	"context"

	"github.com/parley-chat/parley"
)

// AuditLog reads the audit trail.
type AuditLog struct {
	Store AuditStore
}

// AuditStore is what AuditLog reads.
type AuditStore interface {
	ListAudit(ctx context.Context, aws string, p parley.Page) (_ []*parley.AuditRecord, next string, _ error)
}

// ListAudit returns the caller's audit trail.
func (s *AuditLog) ListAudit(ctx context.Context, p parley.Page) ([]*parley.AuditRecord, string, error) {
	aws, err := awsAccount(ctx)
	if err != nil {
		return nil, "", err
	}
	if p.MaxResults == 0 {
		p.MaxResults = 100
	}
	return s.Store.ListAudit(ctx, aws, p)
}
