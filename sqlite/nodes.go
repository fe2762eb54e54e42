package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/parley-chat/parley"
)

// nowMillis is the store's clock. SQLite is embedded, so every node that
// shares the file runs on this machine's clock.
const nowMillis = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`

func (s *Store) Heartbeat(ctx context.Context, node string, fenced bool) error {
	err := s.exec(ctx, `INSERT INTO nodes (id, heartbeat, fenced) VALUES (?, `+nowMillis+`, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat, fenced = excluded.fenced`, node, fenced)
	return wrap("Heartbeat", err)
}

func (s *Store) LiveNodes(ctx context.Context, lease time.Duration) ([]string, error) {
	ids, err := column(ctx, s.db, `SELECT id FROM nodes WHERE heartbeat > `+nowMillis+` - ? AND NOT fenced ORDER BY id`, lease.Milliseconds())
	return ids, wrap("LiveNodes", err)
}

func (s *Store) RemoveNode(ctx context.Context, node string) error {
	err := s.exec(ctx, `DELETE FROM nodes WHERE id = ?`, node)
	return wrap("RemoveNode", err)
}

func (s *Store) Nodes(ctx context.Context) ([]*parley.Node, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, heartbeat, `+nowMillis+` - heartbeat, fenced FROM nodes ORDER BY id`)
	if err != nil {
		return nil, wrap("Nodes", err)
	}
	defer rows.Close()
	var out []*parley.Node
	for rows.Next() {
		var n parley.Node
		var hb, age int64
		if err := rows.Scan(&n.ID, &hb, &age, &n.Fenced); err != nil {
			return nil, wrap("Nodes", err)
		}
		n.Heartbeat, n.Age = time.UnixMilli(hb).UTC(), time.Duration(max(age, 0))*time.Millisecond
		out = append(out, &n)
	}
	return out, wrap("Nodes", rows.Err())
}

// appendOutbox adds entries within tx.
func appendOutbox(ctx context.Context, tx *sql.Tx, entries []*parley.OutboxEntry) error {
	for _, e := range entries {
		if err := tx.QueryRowContext(ctx, `INSERT INTO outbox (id, command, created) VALUES (?, ?, `+nowMillis+`) RETURNING seq`,
			e.ID, e.Command).Scan(&e.Seq); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) AppendOutbox(ctx context.Context, entries ...*parley.OutboxEntry) error {
	return wrap("AppendOutbox", s.tx(ctx, func(*sql.Tx) error { return nil }, entries...))
}

func (s *Store) PendingOutbox(ctx context.Context, node string) ([]*parley.OutboxEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, id, command, created FROM outbox
		WHERE NOT EXISTS (SELECT 1 FROM outbox_acks a WHERE a.id = outbox.id AND a.node = ?) ORDER BY seq`, node)
	if err != nil {
		return nil, wrap("PendingOutbox", err)
	}
	defer rows.Close()
	var out []*parley.OutboxEntry
	for rows.Next() {
		e := &parley.OutboxEntry{}
		var created int64
		if err := rows.Scan(&e.Seq, &e.ID, &e.Command, &created); err != nil {
			return nil, wrap("PendingOutbox", err)
		}
		e.Created = time.UnixMilli(created).UTC()
		out = append(out, e)
	}
	return out, wrap("PendingOutbox", rows.Err())
}

func (s *Store) AckOutbox(ctx context.Context, node string, ids ...string) error {
	return wrap("AckOutbox", s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_acks (id, node) SELECT id, ? FROM outbox WHERE id = ? ON CONFLICT DO NOTHING`, node, id); err != nil {
				return err
			}
		}
		return nil
	}))
}

func (s *Store) OutboxAcks(ctx context.Context, id string) ([]string, error) {
	nodes, err := column(ctx, s.db, `SELECT coalesce(a.node, '') FROM outbox o LEFT JOIN outbox_acks a ON a.id = o.id WHERE o.id = ? ORDER BY a.node`, id)
	if err == nil && len(nodes) == 0 {
		err = parley.Errorf(parley.KindNotFound, "outbox entry %s not found", id)
	}
	return nonEmpty(nodes), wrap("OutboxAcks", err)
}

// nonEmpty drops the "" of an outer join that found no acknowledgement.
func nonEmpty(nodes []string) []string {
	out := nodes[:0]
	for _, n := range nodes {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

func (s *Store) CompleteOutbox(ctx context.Context, ids ...string) error {
	return wrap("CompleteOutbox", s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_acks WHERE id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	}))
}

func (s *Store) ExpireOutbox(ctx context.Context, age time.Duration) error {
	return wrap("ExpireOutbox", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE created < `+nowMillis+` - ?`, age.Milliseconds()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox_acks WHERE id NOT IN (SELECT id FROM outbox)`)
		return err
	}))
}
