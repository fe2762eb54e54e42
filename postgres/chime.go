package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

func marshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// getJSON reads the data column of one row into a new T, or returns notFound.
func getJSON[T any](ctx context.Context, q querier, notFound error, query string, args ...any) (*T, error) {
	var data string
	err := q.QueryRow(ctx, rebind(query), args...).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	v := new(T)
	return v, json.Unmarshal([]byte(data), v)
}

// listJSON decodes the data column of every row of a query.
func listJSON[T any](ctx context.Context, q querier, query string, args ...any) ([]*T, error) {
	rows, err := q.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal([]byte(data), v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// page runs a keyset-paginated query over (create_time, id) whose rows are data.
func page[T any](ctx context.Context, q querier, query string, args []any, p parley.Page, key func(*T) pagetoken.Key) ([]*T, string, error) {
	if p.NextToken != "" {
		k, err := pagetoken.Decode(p.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (create_time > ? OR (create_time = ? AND id > ?))`
		args = append(args, k.Time, k.Time, k.ID)
	}
	query += ` ORDER BY create_time, id LIMIT ?`
	args = append(args, p.MaxResults+1)
	out, err := listJSON[T](ctx, q, query, args...)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(out) > p.MaxResults {
		out = out[:p.MaxResults]
		next = pagetoken.Encode(key(out[len(out)-1]))
	}
	return out, next, nil
}

// column returns the one string column of a query's rows.
func column(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, rebind(query), args...)
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

func accountNotFound(id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "account " + id + " not found"}
}

func chimeAccount(ctx context.Context, q querier, aws, id string, lock string) (*parley.ChimeAccount, error) {
	return getJSON[parley.ChimeAccount](ctx, q, accountNotFound(id), `SELECT data FROM chime_accounts WHERE aws_account_id = ? AND id = ?`+lock, aws, id)
}

func (s *Store) CreateChimeAccount(ctx context.Context, a *parley.ChimeAccount) error {
	_, err := s.pool.Exec(ctx, rebind(`INSERT INTO chime_accounts (aws_account_id, id, name, create_time, data) VALUES (?, ?, ?, ?, ?)`),
		a.AwsAccountID, a.AccountID, a.Name, a.CreateTime.UnixMilli(), marshal(a))
	return wrap("CreateChimeAccount", err)
}

func (s *Store) ChimeAccount(ctx context.Context, aws, id string) (*parley.ChimeAccount, error) {
	a, err := chimeAccount(ctx, s.pool, aws, id, "")
	return a, wrap("ChimeAccount", err)
}

func (s *Store) ListChimeAccounts(ctx context.Context, aws string, f parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error) {
	query := `SELECT data FROM chime_accounts WHERE aws_account_id = ?`
	args := []any{aws}
	if f.NamePrefix != "" {
		query += ` AND substr(name, 1, ?) = ?`
		args = append(args, len([]rune(f.NamePrefix)), f.NamePrefix)
	}
	if f.UserEmail != "" {
		query += ` AND id IN (SELECT account_id FROM chime_users WHERE aws_account_id = ? AND email = ?)`
		args = append(args, aws, strings.ToLower(f.UserEmail))
	}
	out, next, err := page(ctx, s.pool, query, args, f.Page, func(a *parley.ChimeAccount) pagetoken.Key {
		return pagetoken.Key{Time: a.CreateTime.UnixMilli(), ID: a.AccountID}
	})
	return out, next, wrap("ListChimeAccounts", err)
}

func (s *Store) UpdateChimeAccount(ctx context.Context, aws, id string, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error) {
	var out *parley.ChimeAccount
	err := s.tx(ctx, func(tx pgx.Tx) error {
		a, err := chimeAccount(ctx, tx, aws, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, rebind(`UPDATE chime_accounts SET name = ?, data = ? WHERE aws_account_id = ? AND id = ?`), a.Name, marshal(a), aws, id)
		out = a
		return err
	})
	return out, wrap("UpdateChimeAccount", err)
}

func (s *Store) DeleteChimeAccount(ctx context.Context, aws, id string) error {
	return wrap("DeleteChimeAccount", s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := chimeAccount(ctx, tx, aws, id, " FOR UPDATE"); err != nil {
			return err
		}
		var active int
		if err := tx.QueryRow(ctx, rebind(`SELECT count(*) FROM chime_users WHERE aws_account_id = ? AND account_id = ? AND status <> ?`),
			aws, id, parley.UserSuspended).Scan(&active); err != nil {
			return err
		}
		if active > 0 {
			return parley.Errorf(parley.KindUnprocessable, "account %s still has %d user(s) that are not suspended", id, active)
		}
		_, err := tx.Exec(ctx, rebind(`DELETE FROM chime_accounts WHERE aws_account_id = ? AND id = ?`), aws, id)
		return err
	}))
}

func (s *Store) CreateChimeUser(ctx context.Context, u *parley.ChimeUser) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// FOR SHARE: the account cannot be deleted under the new user.
		if _, err := chimeAccount(ctx, tx, u.AwsAccountID, u.AccountID, " FOR SHARE"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, rebind(`INSERT INTO chime_users (aws_account_id, account_id, id, email, user_type, status, create_time, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			u.AwsAccountID, u.AccountID, u.UserID, strings.ToLower(u.PrimaryEmail), u.UserType, u.RegistrationStatus, u.CreateTime.UnixMilli(), marshal(u))
		return err
	})
	if parley.KindOf(wrap("", err)) == parley.KindConflict {
		return &parley.Error{Kind: parley.KindConflict, Op: "CreateChimeUser", Message: "a user with e-mail " + u.PrimaryEmail + " already exists in the account", Err: err}
	}
	return wrap("CreateChimeUser", err)
}

func chimeUser(ctx context.Context, q querier, aws, account, id, lock string) (*parley.ChimeUser, error) {
	return getJSON[parley.ChimeUser](ctx, q, &parley.Error{Kind: parley.KindNotFound, Message: "user " + id + " not found"},
		`SELECT data FROM chime_users WHERE aws_account_id = ? AND account_id = ? AND id = ?`+lock, aws, account, id)
}

func (s *Store) ChimeUser(ctx context.Context, aws, account, id string) (*parley.ChimeUser, error) {
	u, err := chimeUser(ctx, s.pool, aws, account, id, "")
	return u, wrap("ChimeUser", err)
}

func (s *Store) ListChimeUsers(ctx context.Context, aws, account string, f parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error) {
	if _, err := chimeAccount(ctx, s.pool, aws, account, ""); err != nil {
		return nil, "", wrap("ListChimeUsers", err)
	}
	query := `SELECT data FROM chime_users WHERE aws_account_id = ? AND account_id = ?`
	args := []any{aws, account}
	if f.Email != "" {
		query += ` AND email = ?`
		args = append(args, strings.ToLower(f.Email))
	}
	if f.UserType != "" {
		query += ` AND user_type = ?`
		args = append(args, f.UserType)
	}
	out, next, err := page(ctx, s.pool, query, args, f.Page, func(u *parley.ChimeUser) pagetoken.Key {
		return pagetoken.Key{Time: u.CreateTime.UnixMilli(), ID: u.UserID}
	})
	return out, next, wrap("ListChimeUsers", err)
}

func (s *Store) UpdateChimeUser(ctx context.Context, aws, account, id string, fn func(*parley.ChimeUser) error) (*parley.ChimeUser, error) {
	var out *parley.ChimeUser
	err := s.tx(ctx, func(tx pgx.Tx) error {
		u, err := chimeUser(ctx, tx, aws, account, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, rebind(`UPDATE chime_users SET email = ?, user_type = ?, status = ?, data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`),
			strings.ToLower(u.PrimaryEmail), u.UserType, u.RegistrationStatus, marshal(u), aws, account, id)
		out = u
		return err
	})
	return out, wrap("UpdateChimeUser", err)
}

func (s *Store) AppendAudit(ctx context.Context, r *parley.AuditRecord) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO audit (aws_account_id, id, time, data) VALUES ($1, $2, $3, $4)`, r.AwsAccountID, r.ID, r.Time.UnixMilli(), marshal(r))
	return wrap("AppendAudit", err)
}

func (s *Store) ListAudit(ctx context.Context, aws string, p parley.Page) ([]*parley.AuditRecord, string, error) {
	query := `SELECT seq, data FROM audit WHERE aws_account_id = $1`
	args := []any{aws}
	if p.NextToken != "" {
		k, err := pagetoken.Decode(p.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND seq > $2`
		args = append(args, k.Time)
	}
	query += fmt.Sprintf(` ORDER BY seq LIMIT %d`, p.MaxResults+1)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, "", wrap("ListAudit", err)
	}
	defer rows.Close()
	var out []*parley.AuditRecord
	var seqs []int64
	for rows.Next() {
		var seq int64
		var data string
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, "", wrap("ListAudit", err)
		}
		var r parley.AuditRecord
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return nil, "", wrap("ListAudit", err)
		}
		out, seqs = append(out, &r), append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("ListAudit", err)
	}
	var next string
	if len(out) > p.MaxResults {
		out = out[:p.MaxResults]
		next = pagetoken.Encode(pagetoken.Key{Time: seqs[p.MaxResults-1], ID: "seq"})
	}
	return out, next, nil
}

// ---- rooms, memberships, bots, history

func roomNotFound(id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "room " + id + " not found"}
}

func chimeRoom(ctx context.Context, q querier, aws, account, id, lock string) (*parley.ChimeRoom, error) {
	return getJSON[parley.ChimeRoom](ctx, q, roomNotFound(id), `SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND id = ?`+lock, aws, account, id)
}

func (s *Store) CreateChimeRoom(ctx context.Context, r *parley.ChimeRoom, max int) (*parley.ChimeRoom, bool, error) {
	out, created := r, true
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := chimeAccount(ctx, tx, r.AwsAccountID, r.AccountID, " FOR SHARE"); err != nil {
			return err
		}
		if err := lockScope(ctx, tx, "chime-rooms", r.AwsAccountID, r.AccountID); err != nil {
			return err
		}
		if r.ClientToken != "" {
			prev, err := getJSON[parley.ChimeRoom](ctx, tx, pgx.ErrNoRows,
				`SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND client_token = ?`, r.AwsAccountID, r.AccountID, r.ClientToken)
			if err == nil {
				out, created = prev, false
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var n int
		if err := tx.QueryRow(ctx, rebind(`SELECT count(*) FROM chime_rooms WHERE aws_account_id = ? AND account_id = ?`), r.AwsAccountID, r.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "the account has reached its room quota", Limit: max}
		}
		_, err := tx.Exec(ctx, rebind(`INSERT INTO chime_rooms (aws_account_id, account_id, id, client_token, create_time, data) VALUES (?, ?, ?, ?, ?, ?)`),
			r.AwsAccountID, r.AccountID, r.RoomID, r.ClientToken, r.CreateTime.UnixMilli(), marshal(r))
		return err
	})
	return out, created, wrap("CreateChimeRoom", err)
}

func (s *Store) ChimeRoom(ctx context.Context, aws, account, id string) (*parley.ChimeRoom, error) {
	r, err := chimeRoom(ctx, s.pool, aws, account, id, "")
	return r, wrap("ChimeRoom", err)
}

func (s *Store) ListChimeRooms(ctx context.Context, aws, account, memberID string, p parley.Page) ([]*parley.ChimeRoom, string, error) {
	query := `SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ?`
	args := []any{aws, account}
	if memberID != "" {
		query += ` AND id IN (SELECT room_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND member_id = ?)`
		args = append(args, aws, account, memberID)
	}
	out, next, err := page(ctx, s.pool, query, args, p, func(r *parley.ChimeRoom) pagetoken.Key {
		return pagetoken.Key{Time: r.CreateTime.UnixMilli(), ID: r.RoomID}
	})
	return out, next, wrap("ListChimeRooms", err)
}

func (s *Store) UpdateChimeRoom(ctx context.Context, aws, account, id string, fn func(*parley.ChimeRoom) error) (*parley.ChimeRoom, error) {
	var out *parley.ChimeRoom
	err := s.tx(ctx, func(tx pgx.Tx) error {
		r, err := chimeRoom(ctx, tx, aws, account, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, rebind(`UPDATE chime_rooms SET data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`), marshal(r), aws, account, id)
		out = r
		return err
	})
	return out, wrap("UpdateChimeRoom", err)
}

func (s *Store) DeleteChimeRoom(ctx context.Context, aws, account, id string) error {
	return wrap("DeleteChimeRoom", s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, rebind(`DELETE FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND id = ?`), aws, account, id)
		if err == nil && tag.RowsAffected() == 0 {
			err = roomNotFound(id)
		}
		return err
	}))
}

func membershipNotFound(member string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "member " + member + " is not in the room"}
}

func (s *Store) AddMembership(ctx context.Context, m *parley.RoomMembership, max int) error {
	return wrap("AddMembership", s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := chimeRoom(ctx, tx, m.AwsAccountID, m.AccountID, m.RoomID, " FOR UPDATE"); err != nil {
			return err
		}
		var n, exists int
		if err := tx.QueryRow(ctx, rebind(`SELECT count(*), count(*) FILTER (WHERE member_id = ?) FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ?`),
			m.MemberID, m.AwsAccountID, m.AccountID, m.RoomID).Scan(&n, &exists); err != nil {
			return err
		}
		if exists > 0 {
			return parley.Errorf(parley.KindConflict, "member %s is already in the room", m.MemberID)
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "the room has reached its membership quota", Limit: max}
		}
		_, err := tx.Exec(ctx, rebind(`INSERT INTO chime_memberships (aws_account_id, account_id, room_id, member_id, member_type, data) VALUES (?, ?, ?, ?, ?, ?)`),
			m.AwsAccountID, m.AccountID, m.RoomID, m.MemberID, m.MemberType, marshal(m))
		return err
	}))
}

func membership(ctx context.Context, q querier, aws, account, room, member, lock string) (*parley.RoomMembership, error) {
	return getJSON[parley.RoomMembership](ctx, q, membershipNotFound(member),
		`SELECT data FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`+lock, aws, account, room, member)
}

func (s *Store) Membership(ctx context.Context, aws, account, room, member string) (*parley.RoomMembership, error) {
	m, err := membership(ctx, s.pool, aws, account, room, member, "")
	return m, wrap("Membership", err)
}

func (s *Store) ListMemberships(ctx context.Context, aws, account, room string, p parley.Page) ([]*parley.RoomMembership, string, error) {
	if _, err := chimeRoom(ctx, s.pool, aws, account, room, ""); err != nil {
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
	out, err := listJSON[parley.RoomMembership](ctx, s.pool, query, args...)
	if err != nil {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		m, err := membership(ctx, tx, aws, account, room, member, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, rebind(`UPDATE chime_memberships SET data = ? WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`),
			marshal(m), aws, account, room, member)
		out = m
		return err
	})
	return out, wrap("UpdateMembership", err)
}

func (s *Store) DeleteMembership(ctx context.Context, aws, account, room, member string) error {
	return wrap("DeleteMembership", s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := chimeRoom(ctx, tx, aws, account, room, ""); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, rebind(`DELETE FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`), aws, account, room, member)
		if err == nil && tag.RowsAffected() == 0 {
			return membershipNotFound(member)
		}
		return err
	}))
}

func (s *Store) RoomMembers(ctx context.Context, aws, account, room, memberType string) ([]string, error) {
	ids, err := column(ctx, s.pool, `SELECT member_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_type = ? ORDER BY member_id`,
		aws, account, room, memberType)
	return ids, wrap("RoomMembers", err)
}

func (s *Store) MemberRooms(ctx context.Context, aws, account, memberID string) ([]string, error) {
	ids, err := column(ctx, s.pool, `SELECT room_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND member_id = ? ORDER BY room_id`, aws, account, memberID)
	return ids, wrap("MemberRooms", err)
}

func botNotFound(id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "bot " + id + " not found"}
}

func (s *Store) CreateBot(ctx context.Context, b *parley.Bot, max int) error {
	return wrap("CreateBot", s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := chimeAccount(ctx, tx, b.AwsAccountID, b.AccountID, " FOR SHARE"); err != nil {
			return err
		}
		if err := lockScope(ctx, tx, "bots", b.AwsAccountID, b.AccountID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, rebind(`SELECT count(*) FROM chime_bots WHERE aws_account_id = ? AND account_id = ?`), b.AwsAccountID, b.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "the account has reached its bot quota", Limit: max}
		}
		_, err := tx.Exec(ctx, rebind(`INSERT INTO chime_bots (aws_account_id, account_id, id, token, create_time, data) VALUES (?, ?, ?, ?, ?, ?)`),
			b.AwsAccountID, b.AccountID, b.BotID, b.SecurityToken, b.CreateTime.UnixMilli(), marshal(b))
		return err
	}))
}

func bot(ctx context.Context, q querier, aws, account, id, lock string) (*parley.Bot, error) {
	return getJSON[parley.Bot](ctx, q, botNotFound(id), `SELECT data FROM chime_bots WHERE aws_account_id = ? AND account_id = ? AND id = ?`+lock, aws, account, id)
}

func (s *Store) Bot(ctx context.Context, aws, account, id string) (*parley.Bot, error) {
	b, err := bot(ctx, s.pool, aws, account, id, "")
	return b, wrap("Bot", err)
}

func (s *Store) BotByToken(ctx context.Context, token string) (*parley.Bot, error) {
	b, err := getJSON[parley.Bot](ctx, s.pool, botNotFound("with that token"), `SELECT data FROM chime_bots WHERE token = ?`, token)
	return b, wrap("BotByToken", err)
}

func (s *Store) ListBots(ctx context.Context, aws, account string, p parley.Page) ([]*parley.Bot, string, error) {
	out, next, err := page(ctx, s.pool, `SELECT data FROM chime_bots WHERE aws_account_id = ? AND account_id = ?`, []any{aws, account}, p,
		func(b *parley.Bot) pagetoken.Key { return pagetoken.Key{Time: b.CreateTime.UnixMilli(), ID: b.BotID} })
	return out, next, wrap("ListBots", err)
}

func (s *Store) UpdateBot(ctx context.Context, aws, account, id string, fn func(*parley.Bot) error) (*parley.Bot, error) {
	var out *parley.Bot
	err := s.tx(ctx, func(tx pgx.Tx) error {
		b, err := bot(ctx, tx, aws, account, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, rebind(`UPDATE chime_bots SET token = ?, data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`), b.SecurityToken, marshal(b), aws, account, id)
		out = b
		return err
	})
	return out, wrap("UpdateBot", err)
}

func (s *Store) AppendMessage(ctx context.Context, m *parley.ChimeMessage) error {
	return wrap("AppendMessage", s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := chimeRoom(ctx, tx, m.AwsAccountID, m.AccountID, m.RoomID, " FOR SHARE"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, rebind(`INSERT INTO chime_messages (aws_account_id, account_id, room_id, create_time, data) VALUES (?, ?, ?, ?, ?)`),
			m.AwsAccountID, m.AccountID, m.RoomID, m.CreateTime.UnixMilli(), marshal(m))
		return err
	}))
}

func (s *Store) Messages(ctx context.Context, aws, account, room string, since time.Time, limit int) ([]*parley.ChimeMessage, error) {
	out, err := listJSON[parley.ChimeMessage](ctx, s.pool, `SELECT data FROM (SELECT seq, data FROM chime_messages
		WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND create_time >= ? ORDER BY seq DESC LIMIT ?) m ORDER BY seq`,
		aws, account, room, since.UnixMilli(), limit)
	return out, wrap("Messages", err)
}
