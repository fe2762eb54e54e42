package sqlstore

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

// ---- nodes and the outbox, by the store's clock (Dialect.Now)

func (s *Store) Heartbeat(ctx context.Context, node string, fenced bool) error {
	err := s.small(ctx, func(ctx context.Context, q querier) error {
		_, err := q.exec(ctx, `INSERT INTO nodes (id, heartbeat, fenced) VALUES (?, `+s.d.Now+`, ?)
			ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat, fenced = excluded.fenced`, node, fenced)
		return err
	})
	return s.wrap("Heartbeat", err)
}

func (s *Store) LiveNodes(ctx context.Context, lease time.Duration) ([]string, error) {
	ids, err := column(ctx, s.read(), `SELECT id FROM nodes WHERE heartbeat > `+s.d.Now+` - ? AND NOT fenced ORDER BY id`, lease.Milliseconds())
	return ids, s.wrap("LiveNodes", err)
}

func (s *Store) RemoveNode(ctx context.Context, node string) error {
	_, err := s.exec(ctx, `DELETE FROM nodes WHERE id = ?`, node)
	return s.wrap("RemoveNode", err)
}

func scanNode(row scanner) (*parley.Node, error) {
	var n parley.Node
	var hb, age int64
	if err := row.Scan(&n.ID, &hb, &age, &n.Fenced); err != nil {
		return nil, err
	}
	n.Heartbeat, n.Age = time.UnixMilli(hb).UTC(), time.Duration(max(age, 0))*time.Millisecond
	return &n, nil
}

func (s *Store) Nodes(ctx context.Context) ([]*parley.Node, error) {
	nodes, err := all(ctx, s.read(), scanNode, `SELECT id, heartbeat, `+s.d.Now+` - heartbeat, fenced FROM nodes ORDER BY id`)
	return nodes, s.wrap("Nodes", err)
}

// appendOutbox adds entries within a transaction.
func appendOutbox(ctx context.Context, q querier, entries []*parley.OutboxEntry) error {
	for _, e := range entries {
		if err := q.row(ctx, `INSERT INTO outbox (id, command, created) VALUES (?, ?, `+q.d.Now+`) RETURNING seq`,
			e.ID, e.Command).Scan(&e.Seq); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) AppendOutbox(ctx context.Context, entries ...*parley.OutboxEntry) error {
	if s.group == nil {
		return s.wrap("AppendOutbox", s.tx(ctx, func(querier) error { return nil }, entries...)) // several entries, atomically
	}
	return s.wrap("AppendOutbox", s.small(ctx, func(ctx context.Context, q querier) error { return appendOutbox(ctx, q, entries) }))
}

func scanEntry(row scanner) (*parley.OutboxEntry, error) {
	e := &parley.OutboxEntry{}
	var created int64
	if err := row.Scan(&e.Seq, &e.ID, &e.Command, &created); err != nil {
		return nil, err
	}
	e.Created = time.UnixMilli(created).UTC()
	return e, nil
}

func (s *Store) PendingOutbox(ctx context.Context, node string) ([]*parley.OutboxEntry, error) {
	entries, err := all(ctx, s.read(), scanEntry, `SELECT seq, id, command, created FROM outbox
		WHERE NOT EXISTS (SELECT 1 FROM outbox_acks a WHERE a.id = outbox.id AND a.node = ?) ORDER BY seq`, node)
	return entries, s.wrap("PendingOutbox", err)
}

// ids returns ids as arguments, for an IN list of placeholders(len(ids)).
func ids(ids []string) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

func (s *Store) AckOutbox(ctx context.Context, node string, entries ...string) error {
	if len(entries) == 0 {
		return nil
	}
	err := s.small(ctx, func(ctx context.Context, q querier) error {
		_, err := q.exec(ctx, `INSERT INTO outbox_acks (id, node) SELECT id, ? FROM outbox WHERE id IN (`+placeholders(len(entries))+`) ON CONFLICT DO NOTHING`,
			append([]any{node}, ids(entries)...)...)
		return err
	})
	return s.wrap("AckOutbox", err)
}

func (s *Store) OutboxAcks(ctx context.Context, id string) ([]string, error) {
	nodes, err := column(ctx, s.read(), `SELECT coalesce(a.node, '') FROM outbox o LEFT JOIN outbox_acks a ON a.id = o.id WHERE o.id = ? ORDER BY a.node`, id)
	if err == nil && len(nodes) == 0 {
		err = parley.Errorf(parley.KindNotFound, "outbox entry %s not found", id)
	}
	// Drop the "" of an outer join that found no acknowledgement.
	out := nodes[:0]
	for _, n := range nodes {
		if n != "" {
			out = append(out, n)
		}
	}
	return out, s.wrap("OutboxAcks", err)
}

func (s *Store) CompleteOutbox(ctx context.Context, entries ...string) error {
	if len(entries) == 0 {
		return nil
	}
	in := placeholders(len(entries))
	return s.wrap("CompleteOutbox", s.tx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `DELETE FROM outbox WHERE id IN (`+in+`)`, ids(entries)...); err != nil {
			return err
		}
		_, err := q.exec(ctx, `DELETE FROM outbox_acks WHERE id IN (`+in+`)`, ids(entries)...)
		return err
	}))
}

func (s *Store) ExpireOutbox(ctx context.Context, age time.Duration) error {
	return s.wrap("ExpireOutbox", s.tx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `DELETE FROM outbox WHERE created < `+q.d.Now+` - ?`, age.Milliseconds()); err != nil {
			return err
		}
		_, err := q.exec(ctx, `DELETE FROM outbox_acks WHERE id NOT IN (SELECT id FROM outbox)`)
		return err
	}))
}

// ---- bans

const banColumns = `account_id, region, room_id, user_id, reason, create_time, expire_time`

func scanBan(row scanner) (*parley.Ban, error) {
	var (
		b       parley.Ban
		created int64
		expires *int64
	)
	if err := row.Scan(&b.AccountID, &b.Region, &b.RoomID, &b.UserID, &b.Reason, &created, &expires); err != nil {
		return nil, err
	}
	b.CreateTime = time.UnixMilli(created).UTC()
	if expires != nil {
		b.ExpireTime = time.UnixMilli(*expires).UTC()
	}
	return &b, nil
}

func expireColumn(b *parley.Ban) *int64 {
	if b.ExpireTime.IsZero() {
		return nil
	}
	ms := b.ExpireTime.UnixMilli()
	return &ms
}

func banNotFound(userID string) error {
	return parley.NotFound(parley.ResourceRoom, userID, "no ban of user %s", userID)
}

func (s *Store) PutBan(ctx context.Context, b *parley.Ban) error {
	return s.wrap("PutBan", s.tx(ctx, func(q querier) error {
		if b.RoomID != "" {
			// forShare holds off a DeleteRoom until the ban is in, so that
			// DeleteRoom's removal of the room's bans includes it.
			if _, err := room(ctx, q, b.Scope, b.RoomID, forShare); err != nil {
				return err
			}
		}
		_, err := q.exec(ctx, `INSERT INTO bans (`+banColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region, user_id, room_id) DO UPDATE SET
				reason = excluded.reason, create_time = excluded.create_time, expire_time = excluded.expire_time`,
			b.AccountID, b.Region, b.RoomID, b.UserID, b.Reason, b.CreateTime.UnixMilli(), expireColumn(b))
		return err
	}))
}

func (s *Store) DeleteBan(ctx context.Context, sc parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error) {
	var b *parley.Ban
	err := s.tx(ctx, func(q querier) (err error) {
		b, err = one(ctx, q, scanBan, banNotFound(userID), `DELETE FROM bans WHERE account_id = ? AND region = ? AND user_id = ? AND room_id = ?
			RETURNING `+banColumns, sc.AccountID, sc.Region, userID, roomID)
		return err
	})
	if err != nil {
		return nil, s.wrap("DeleteBan", err)
	}
	// An expired ban is deleted all the same, but none was in force.
	if !b.ActiveAt(now) {
		return nil, banNotFound(userID)
	}
	return b, nil
}

// activeCond selects the bans in force at a time (its one argument).
const activeCond = ` AND (expire_time IS NULL OR expire_time > ?)`

// banOf is the condition of a user's active ban of one room (the empty
// room ID for every room), after a SELECT of what is wanted.
const banOf = ` FROM bans WHERE account_id = ? AND region = ? AND user_id = ? AND room_id = ?` + activeCond

// banArgs are the arguments of banOf twice: the user's ban of the room,
// then of every room.
func banArgs(sc parley.Scope, roomID, userID string, now time.Time) []any {
	return []any{sc.AccountID, sc.Region, userID, roomID, now.UnixMilli(), sc.AccountID, sc.Region, userID, "", now.UnixMilli()}
}

func (s *Store) ActiveBan(ctx context.Context, sc parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error) {
	b, err := activeBan(ctx, s.read(), sc, roomID, userID, now)
	if err != nil {
		return nil, s.wrap("ActiveBan", err)
	}
	if b == nil {
		return nil, banNotFound(userID)
	}
	return b, nil
}

// activeBan returns the ban in force at now of userID from roomID, nil if
// there is none.
func activeBan(ctx context.Context, q querier, sc parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error) {
	// At most two rows: the room's and every room's, each one lookup of
	// the primary key. Not "room_id IN (?, '')", for which SQLite builds
	// a temporary index of the two values, nor ORDER BY, for which it
	// sorts: both cost more than the lookups, and every handshake makes
	// this read.
	const one = `SELECT ` + banColumns + banOf
	bans, err := all(ctx, q, scanBan, one+` UNION ALL `+one, banArgs(sc, roomID, userID, now)...)
	if err != nil || len(bans) == 0 {
		return nil, err
	}
	// The longest-lasting: until deleted (zero), else the latest end.
	return slices.MaxFunc(bans, func(a, b *parley.Ban) int {
		switch {
		case a.ExpireTime.Equal(b.ExpireTime):
			return 0
		case a.ExpireTime.IsZero():
			return 1
		case b.ExpireTime.IsZero():
			return -1
		}
		return a.ExpireTime.Compare(b.ExpireTime)
	}), nil
}

func (s *Store) ListBans(ctx context.Context, f parley.BanFilter) ([]*parley.Ban, string, error) {
	bans, next, err := s.listBans(ctx, f)
	return bans, next, s.wrap("ListBans", err)
}

func (s *Store) listBans(ctx context.Context, f parley.BanFilter) ([]*parley.Ban, string, error) {
	query := `SELECT ` + banColumns + ` FROM bans WHERE account_id = ? AND region = ?` + activeCond
	args := []any{f.AccountID, f.Region, f.Now.UnixMilli()}
	if f.RoomID != "" {
		query += ` AND room_id IN (?, '')`
		args = append(args, f.RoomID)
	}
	if f.UserID != "" {
		query += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.NextToken != "" {
		t, room, user, err := pagetoken.DecodeBan(f.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (create_time, user_id, room_id) < (?, ?, ?)`
		args = append(args, t, user, room)
	}
	bans, err := all(ctx, s.read(), scanBan, query+` ORDER BY create_time DESC, user_id DESC, room_id DESC LIMIT ?`, append(args, f.MaxResults+1)...)
	if err != nil {
		return nil, "", err
	}
	bans, next := page(bans, f.MaxResults, func(b *parley.Ban) string {
		return pagetoken.EncodeBan(b.CreateTime.UnixMilli(), b.RoomID, b.UserID)
	})
	return bans, next, nil
}
