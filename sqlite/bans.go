package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

const banColumns = `account_id, region, room_id, user_id, reason, create_time, expire_time`

func scanBan(row interface{ Scan(...any) error }) (*parley.Ban, error) {
	var (
		b       parley.Ban
		created int64
		expires sql.NullInt64
	)
	if err := row.Scan(&b.AccountID, &b.Region, &b.RoomID, &b.UserID, &b.Reason, &created, &expires); err != nil {
		return nil, err
	}
	b.CreateTime = time.UnixMilli(created).UTC()
	if expires.Valid {
		b.ExpireTime = time.UnixMilli(expires.Int64).UTC()
	}
	return &b, nil
}

func expireColumn(b *parley.Ban) sql.NullInt64 {
	if b.ExpireTime.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: b.ExpireTime.UnixMilli(), Valid: true}
}

func banNotFound(userID string) error {
	return parley.NotFound(parley.ResourceRoom, userID, "no ban of user %s", userID)
}

func (s *Store) PutBan(ctx context.Context, b *parley.Ban) error {
	return wrap("PutBan", s.tx(ctx, func(tx *sql.Tx) error {
		if b.RoomID != "" {
			if _, err := room(ctx, tx, b.Scope, b.RoomID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO bans (`+banColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region, user_id, room_id) DO UPDATE SET
				reason = excluded.reason, create_time = excluded.create_time, expire_time = excluded.expire_time`,
			b.AccountID, b.Region, b.RoomID, b.UserID, b.Reason, b.CreateTime.UnixMilli(), expireColumn(b))
		return err
	}))
}

func (s *Store) DeleteBan(ctx context.Context, sc parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error) {
	var out *parley.Ban
	err := s.tx(ctx, func(tx *sql.Tx) error {
		b, err := scanBan(tx.QueryRowContext(ctx, `SELECT `+banColumns+` FROM bans WHERE account_id = ? AND region = ? AND user_id = ? AND room_id = ?`,
			sc.AccountID, sc.Region, userID, roomID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		out = b
		_, err = tx.ExecContext(ctx, `DELETE FROM bans WHERE account_id = ? AND region = ? AND user_id = ? AND room_id = ?`,
			sc.AccountID, sc.Region, userID, roomID)
		return err
	})
	if err != nil {
		return nil, wrap("DeleteBan", err)
	}
	// An expired ban is deleted all the same, but none was in force.
	if out == nil || !out.ActiveAt(now) {
		return nil, banNotFound(userID)
	}
	return out, nil
}

// activeCond selects the bans in force at a time (its one argument).
const activeCond = ` AND (expire_time IS NULL OR expire_time > ?)`

func (s *Store) ActiveBan(ctx context.Context, sc parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error) {
	// The longest-lasting first: until deleted (NULL), then the latest end.
	b, err := scanBan(s.db.QueryRowContext(ctx, `SELECT `+banColumns+` FROM bans
		WHERE account_id = ? AND region = ? AND user_id = ? AND room_id IN (?, '')`+activeCond+`
		ORDER BY expire_time IS NULL DESC, expire_time DESC LIMIT 1`,
		sc.AccountID, sc.Region, userID, roomID, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, banNotFound(userID)
	}
	return b, wrap("ActiveBan", err)
}

func (s *Store) ListBans(ctx context.Context, f parley.BanFilter) ([]*parley.Ban, string, error) {
	bans, next, err := s.listBans(ctx, f)
	return bans, next, wrap("ListBans", err)
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
		k, room, user, err := pagetoken.DecodeBan(f.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (create_time, user_id, room_id) < (?, ?, ?)`
		args = append(args, k, user, room)
	}
	query += ` ORDER BY create_time DESC, user_id DESC, room_id DESC LIMIT ?`
	args = append(args, f.MaxResults+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	bans := []*parley.Ban{}
	for rows.Next() {
		b, err := scanBan(rows)
		if err != nil {
			return nil, "", err
		}
		bans = append(bans, b)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var next string
	if len(bans) > f.MaxResults {
		bans = bans[:f.MaxResults]
		last := bans[len(bans)-1]
		next = pagetoken.EncodeBan(last.CreateTime.UnixMilli(), last.RoomID, last.UserID)
	}
	return bans, next, nil
}
