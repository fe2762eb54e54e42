package sqlite

import (
	"context"
	"time"
)

func (s *Store) Heartbeat(ctx context.Context, node string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO nodes (id, heartbeat) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat`, node, now.UnixMilli())
	return wrap("Heartbeat", err)
}

func (s *Store) LiveNodes(ctx context.Context, since time.Time) ([]string, error) {
	ids, err := column(ctx, s.db, `SELECT id FROM nodes WHERE heartbeat >= ? ORDER BY id`, since.UnixMilli())
	return ids, wrap("LiveNodes", err)
}

func (s *Store) RemoveNode(ctx context.Context, node string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM nodes WHERE id = ?`, node)
	return wrap("RemoveNode", err)
}
