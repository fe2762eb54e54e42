package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
)

// nowMillis is the database's clock, the one clock every node agrees on.
const nowMillis = `(extract(epoch from clock_timestamp()) * 1000)::bigint`

func (s *Store) Heartbeat(ctx context.Context, node string, fenced bool) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO nodes (id, heartbeat, fenced) VALUES ($1, `+nowMillis+`, $2)
		ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat, fenced = excluded.fenced`, node, fenced)
	return wrap("Heartbeat", err)
}

func (s *Store) LiveNodes(ctx context.Context, lease time.Duration) ([]string, error) {
	ids, err := column(ctx, s.pool, `SELECT id FROM nodes WHERE heartbeat > `+nowMillis+` - ? AND NOT fenced ORDER BY id`, lease.Milliseconds())
	return ids, wrap("LiveNodes", err)
}

func (s *Store) RemoveNode(ctx context.Context, node string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, node)
	return wrap("RemoveNode", err)
}

func (s *Store) Nodes(ctx context.Context) ([]*parley.Node, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, heartbeat, `+nowMillis+` - heartbeat, fenced FROM nodes ORDER BY id`)
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
func appendOutbox(ctx context.Context, tx pgx.Tx, entries []*parley.OutboxEntry) error {
	for _, e := range entries {
		if err := tx.QueryRow(ctx, `INSERT INTO outbox (id, command, created) VALUES ($1, $2, `+nowMillis+`) RETURNING seq`,
			e.ID, e.Command).Scan(&e.Seq); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) AppendOutbox(ctx context.Context, entries ...*parley.OutboxEntry) error {
	return wrap("AppendOutbox", s.tx(ctx, func(pgx.Tx) error { return nil }, entries...))
}

func (s *Store) PendingOutbox(ctx context.Context, node string) ([]*parley.OutboxEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, id, command, created FROM outbox
		WHERE NOT EXISTS (SELECT 1 FROM outbox_acks a WHERE a.id = outbox.id AND a.node = $1) ORDER BY seq`, node)
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
	_, err := s.pool.Exec(ctx, `INSERT INTO outbox_acks (id, node) SELECT id, $1 FROM outbox WHERE id = ANY($2) ON CONFLICT DO NOTHING`, node, ids)
	return wrap("AckOutbox", err)
}

func (s *Store) OutboxAcks(ctx context.Context, id string) ([]string, error) {
	nodes, err := column(ctx, s.pool, `SELECT coalesce(a.node, '') FROM outbox o LEFT JOIN outbox_acks a ON a.id = o.id WHERE o.id = ? ORDER BY 1`, id)
	if err == nil && len(nodes) == 0 {
		err = parley.Errorf(parley.KindNotFound, "outbox entry %s not found", id)
	}
	var out []string
	for _, n := range nodes {
		if n != "" {
			out = append(out, n)
		}
	}
	return out, wrap("OutboxAcks", err)
}

func (s *Store) CompleteOutbox(ctx context.Context, ids ...string) error {
	return wrap("CompleteOutbox", s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1)`, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM outbox_acks WHERE id = ANY($1)`, ids)
		return err
	}))
}

func (s *Store) ExpireOutbox(ctx context.Context, age time.Duration) error {
	return wrap("ExpireOutbox", s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE created < `+nowMillis+` - $1`, age.Milliseconds()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM outbox_acks a WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = a.id)`)
		return err
	}))
}
