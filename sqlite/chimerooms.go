package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

// getJSON reads the data column of one row into a new T, or returns notFound.
func getJSON[T any](ctx context.Context, q querier, notFound error, query string, args ...any) (*T, error) {
	var data string
	err := q.QueryRowContext(ctx, query, args...).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	v := new(T)
	return v, json.Unmarshal([]byte(data), v)
}

func marshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func roomNotFound(id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "room " + id + " not found"}
}

func chimeRoom(ctx context.Context, q querier, aws, account, id string) (*parley.ChimeRoom, error) {
	return getJSON[parley.ChimeRoom](ctx, q, roomNotFound(id),
		`SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND id = ?`, aws, account, id)
}

func (s *Store) CreateChimeRoom(ctx context.Context, r *parley.ChimeRoom, max int) (*parley.ChimeRoom, bool, error) {
	out, created := r, true
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := chimeAccount(ctx, tx, r.AwsAccountID, r.AccountID); err != nil {
			return err
		}
		if r.ClientToken != "" {
			prev, err := getJSON[parley.ChimeRoom](ctx, tx, sql.ErrNoRows,
				`SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND client_token = ?`, r.AwsAccountID, r.AccountID, r.ClientToken)
			if err == nil {
				out, created = prev, false
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chime_rooms WHERE aws_account_id = ? AND account_id = ?`, r.AwsAccountID, r.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "the account has reached its room quota", Limit: max}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO chime_rooms (aws_account_id, account_id, id, client_token, create_time, data) VALUES (?, ?, ?, ?, ?, ?)`,
			r.AwsAccountID, r.AccountID, r.RoomID, r.ClientToken, r.CreateTime.UnixMilli(), marshal(r))
		return err
	})
	return out, created, wrap("CreateChimeRoom", err)
}

func (s *Store) ChimeRoom(ctx context.Context, aws, account, id string) (*parley.ChimeRoom, error) {
	r, err := chimeRoom(ctx, s.db, aws, account, id)
	return r, wrap("ChimeRoom", err)
}

func (s *Store) ListChimeRooms(ctx context.Context, aws, account, memberID string, p parley.Page) ([]*parley.ChimeRoom, string, error) {
	query := `SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ?`
	args := []any{aws, account}
	if memberID != "" {
		query += ` AND id IN (SELECT room_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND member_id = ?)`
		args = append(args, aws, account, memberID)
	}
	out, next, err := page(ctx, s.db, query, args, p, func(r *parley.ChimeRoom) pagetoken.Key {
		return pagetoken.Key{Time: r.CreateTime.UnixMilli(), ID: r.RoomID}
	})
	return out, next, wrap("ListChimeRooms", err)
}

func (s *Store) UpdateChimeRoom(ctx context.Context, aws, account, id string, fn func(*parley.ChimeRoom) error) (*parley.ChimeRoom, error) {
	var out *parley.ChimeRoom
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := chimeRoom(ctx, tx, aws, account, id)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chime_rooms SET data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`, marshal(r), aws, account, id)
		out = r
		return err
	})
	return out, wrap("UpdateChimeRoom", err)
}

func (s *Store) DeleteChimeRoom(ctx context.Context, aws, account, id string) error {
	return wrap("DeleteChimeRoom", s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND id = ?`, aws, account, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return roomNotFound(id)
		}
		return nil
	}))
}

func membershipNotFound(member string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "member " + member + " is not in the room"}
}

func (s *Store) AddMembership(ctx context.Context, m *parley.RoomMembership, max int) error {
	return wrap("AddMembership", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := chimeRoom(ctx, tx, m.AwsAccountID, m.AccountID, m.RoomID); err != nil {
			return err
		}
		var exists, n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(member_id = ?), 0) FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ?`,
			m.MemberID, m.AwsAccountID, m.AccountID, m.RoomID).Scan(&n, &exists); err != nil {
			return err
		}
		if exists > 0 {
			return parley.Errorf(parley.KindConflict, "member %s is already in the room", m.MemberID)
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "the room has reached its membership quota", Limit: max}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO chime_memberships (aws_account_id, account_id, room_id, member_id, data) VALUES (?, ?, ?, ?, ?)`,
			m.AwsAccountID, m.AccountID, m.RoomID, m.MemberID, marshal(m))
		return err
	}))
}

func membership(ctx context.Context, q querier, aws, account, room, member string) (*parley.RoomMembership, error) {
	return getJSON[parley.RoomMembership](ctx, q, membershipNotFound(member),
		`SELECT data FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`, aws, account, room, member)
}

func (s *Store) Membership(ctx context.Context, aws, account, room, member string) (*parley.RoomMembership, error) {
	m, err := membership(ctx, s.db, aws, account, room, member)
	return m, wrap("Membership", err)
}

func (s *Store) ListMemberships(ctx context.Context, aws, account, room string, p parley.Page) ([]*parley.RoomMembership, string, error) {
	if _, err := chimeRoom(ctx, s.db, aws, account, room); err != nil {
		return nil, "", wrap("ListMemberships", err)
	}
	query := `SELECT data FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ?`
	args := []any{aws, account, room}
	if p.NextToken != "" {
		k, err := pagetoken.Decode(p.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND member_id > ?`
		args = append(args, k.ID)
	}
	query += ` ORDER BY member_id LIMIT ?`
	args = append(args, p.MaxResults+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", wrap("ListMemberships", err)
	}
	defer rows.Close()
	out := []*parley.RoomMembership{}
	for rows.Next() {
		var data string
		var m parley.RoomMembership
		if err := rows.Scan(&data); err != nil {
			return nil, "", wrap("ListMemberships", err)
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return nil, "", wrap("ListMemberships", err)
		}
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("ListMemberships", err)
	}
	var next string
	if len(out) > p.MaxResults {
		out = out[:p.MaxResults]
		next = pagetoken.Encode(pagetoken.Key{ID: out[len(out)-1].MemberID})
	}
	return out, next, nil
}

func (s *Store) UpdateMembership(ctx context.Context, aws, account, room, member string, fn func(*parley.RoomMembership) error) (*parley.RoomMembership, error) {
	var out *parley.RoomMembership
	err := s.tx(ctx, func(tx *sql.Tx) error {
		m, err := membership(ctx, tx, aws, account, room, member)
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chime_memberships SET data = ? WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`,
			marshal(m), aws, account, room, member)
		out = m
		return err
	})
	return out, wrap("UpdateMembership", err)
}

func (s *Store) DeleteMembership(ctx context.Context, aws, account, room, member string) error {
	return wrap("DeleteMembership", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := chimeRoom(ctx, tx, aws, account, room); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`, aws, account, room, member)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return membershipNotFound(member)
		}
		return nil
	}))
}

func (s *Store) MemberRooms(ctx context.Context, aws, account, memberID string) ([]string, error) {
	ids, err := column(ctx, s.db, `SELECT room_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND member_id = ? ORDER BY room_id`, aws, account, memberID)
	return ids, wrap("MemberRooms", err)
}

func (s *Store) RoomMembers(ctx context.Context, aws, account, room, memberType string) ([]string, error) {
	ids, err := column(ctx, s.db, `SELECT member_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ?
		AND json_extract(data, '$.MemberType') = ? ORDER BY member_id`, aws, account, room, memberType)
	return ids, wrap("RoomMembers", err)
}

// column returns the one string column of a query's rows.
func column(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func botNotFound(id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "bot " + id + " not found"}
}

func (s *Store) CreateBot(ctx context.Context, b *parley.Bot, max int) error {
	return wrap("CreateBot", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := chimeAccount(ctx, tx, b.AwsAccountID, b.AccountID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chime_bots WHERE aws_account_id = ? AND account_id = ?`, b.AwsAccountID, b.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "the account has reached its bot quota", Limit: max}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO chime_bots (aws_account_id, account_id, id, token, create_time, data) VALUES (?, ?, ?, ?, ?, ?)`,
			b.AwsAccountID, b.AccountID, b.BotID, b.SecurityToken, b.CreateTime.UnixMilli(), marshal(b))
		return err
	}))
}

func bot(ctx context.Context, q querier, aws, account, id string) (*parley.Bot, error) {
	return getJSON[parley.Bot](ctx, q, botNotFound(id), `SELECT data FROM chime_bots WHERE aws_account_id = ? AND account_id = ? AND id = ?`, aws, account, id)
}

func (s *Store) Bot(ctx context.Context, aws, account, id string) (*parley.Bot, error) {
	b, err := bot(ctx, s.db, aws, account, id)
	return b, wrap("Bot", err)
}

func (s *Store) BotByToken(ctx context.Context, token string) (*parley.Bot, error) {
	b, err := getJSON[parley.Bot](ctx, s.db, botNotFound("with that token"), `SELECT data FROM chime_bots WHERE token = ?`, token)
	return b, wrap("BotByToken", err)
}

func (s *Store) ListBots(ctx context.Context, aws, account string, p parley.Page) ([]*parley.Bot, string, error) {
	out, next, err := page(ctx, s.db, `SELECT data FROM chime_bots WHERE aws_account_id = ? AND account_id = ?`, []any{aws, account}, p,
		func(b *parley.Bot) pagetoken.Key { return pagetoken.Key{Time: b.CreateTime.UnixMilli(), ID: b.BotID} })
	return out, next, wrap("ListBots", err)
}

func (s *Store) UpdateBot(ctx context.Context, aws, account, id string, fn func(*parley.Bot) error) (*parley.Bot, error) {
	var out *parley.Bot
	err := s.tx(ctx, func(tx *sql.Tx) error {
		b, err := bot(ctx, tx, aws, account, id)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chime_bots SET token = ?, data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`, b.SecurityToken, marshal(b), aws, account, id)
		out = b
		return err
	})
	return out, wrap("UpdateBot", err)
}

func (s *Store) AppendMessage(ctx context.Context, m *parley.ChimeMessage) error {
	return wrap("AppendMessage", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := chimeRoom(ctx, tx, m.AwsAccountID, m.AccountID, m.RoomID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO chime_messages (aws_account_id, account_id, room_id, create_time, data) VALUES (?, ?, ?, ?, ?)`,
			m.AwsAccountID, m.AccountID, m.RoomID, m.CreateTime.UnixMilli(), marshal(m))
		return err
	}))
}

func (s *Store) Messages(ctx context.Context, aws, account, room string, since time.Time, limit int) ([]*parley.ChimeMessage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM (SELECT seq, data FROM chime_messages
		WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND create_time >= ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
		aws, account, room, since.UnixMilli(), limit)
	if err != nil {
		return nil, wrap("Messages", err)
	}
	defer rows.Close()
	out := []*parley.ChimeMessage{}
	for rows.Next() {
		var data string
		var m parley.ChimeMessage
		if err := rows.Scan(&data); err != nil {
			return nil, wrap("Messages", err)
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return nil, wrap("Messages", err)
		}
		out = append(out, &m)
	}
	return out, wrap("Messages", rows.Err())
}
