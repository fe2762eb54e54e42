package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

func notFound(what, id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: what + " " + id + " not found"}
}

// getJSON reads the data column of one row into a new T, or returns notFound.
func getJSON[T any](ctx context.Context, q querier, notFound error, query string, args ...any) (*T, error) {
	return one(ctx, q, fromJSON[T], notFound, query, args...)
}

// listJSON is list over rows of one JSON column.
func listJSON[T any](ctx context.Context, q querier, query string, args []any, p parley.Page, key func(*T) pagetoken.Key) ([]*T, string, error) {
	return list(ctx, q, fromJSON[T], query, args, p, key)
}

// ---- accounts, users and the audit log

func chimeAccount(ctx context.Context, q querier, k parley.ChimeAccountKey, l lock) (*parley.ChimeAccount, error) {
	return getJSON[parley.ChimeAccount](ctx, q, notFound("account", k.Account),
		`SELECT data FROM chime_accounts WHERE aws_account_id = ? AND id = ?`+q.lock(l), k.AWS, k.Account)
}

func (s *Store) CreateChimeAccount(ctx context.Context, a *parley.ChimeAccount) error {
	_, err := s.exec(ctx, `INSERT INTO chime_accounts (aws_account_id, id, name, create_time, data) VALUES (?, ?, ?, ?, ?)`,
		a.AwsAccountID, a.AccountID, a.Name, a.CreateTime.UnixMilli(), marshal(a))
	return s.wrap("CreateChimeAccount", err)
}

func (s *Store) ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error) {
	a, err := chimeAccount(ctx, s.read(), k, noLock)
	return a, s.wrap("ChimeAccount", err)
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
	out, next, err := listJSON(ctx, s.read(), query, args, f.Page, func(a *parley.ChimeAccount) pagetoken.Key {
		return pagetoken.Key{Time: a.CreateTime.UnixMilli(), ID: a.AccountID}
	})
	return out, next, s.wrap("ListChimeAccounts", err)
}

// update reads a record with get, locked for update, applies fn to it and
// writes it back with put, all in one transaction.
func update[T any](ctx context.Context, s *Store, op string, get func(querier) (*T, error), fn func(*T) error, put func(querier, *T) error) (*T, error) {
	var out *T
	err := s.tx(ctx, func(q querier) error {
		v, err := get(q)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
		out = v
		return put(q, v)
	})
	return out, s.wrap(op, err)
}

func (s *Store) UpdateChimeAccount(ctx context.Context, k parley.ChimeAccountKey, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error) {
	return update(ctx, s, "UpdateChimeAccount", func(q querier) (*parley.ChimeAccount, error) { return chimeAccount(ctx, q, k, forUpdate) }, fn,
		func(q querier, a *parley.ChimeAccount) error {
			_, err := q.exec(ctx, `UPDATE chime_accounts SET name = ?, data = ? WHERE aws_account_id = ? AND id = ?`, a.Name, marshal(a), k.AWS, k.Account)
			return err
		})
}

func (s *Store) DeleteChimeAccount(ctx context.Context, k parley.ChimeAccountKey) error {
	return s.wrap("DeleteChimeAccount", s.tx(ctx, func(q querier) error {
		if _, err := chimeAccount(ctx, q, k, forUpdate); err != nil {
			return err
		}
		active, err := count(ctx, q, `SELECT count(*) FROM chime_users WHERE aws_account_id = ? AND account_id = ? AND status <> ?`, k.AWS, k.Account, parley.UserSuspended)
		if err != nil {
			return err
		}
		if active > 0 {
			return parley.Errorf(parley.KindUnprocessable, "account %s still has %d user(s) that are not suspended", k.Account, active)
		}
		_, err = q.exec(ctx, `DELETE FROM chime_accounts WHERE aws_account_id = ? AND id = ?`, k.AWS, k.Account)
		return err
	}))
}

func (s *Store) CreateChimeUser(ctx context.Context, u *parley.ChimeUser) error {
	err := s.tx(ctx, func(q querier) error {
		// forShare: the account cannot be deleted under the new user.
		if _, err := chimeAccount(ctx, q, u.Key().ChimeAccountKey, forShare); err != nil {
			return err
		}
		_, err := q.exec(ctx, `INSERT INTO chime_users (aws_account_id, account_id, id, email, user_type, status, create_time, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.AwsAccountID, u.AccountID, u.UserID, strings.ToLower(u.PrimaryEmail), u.UserType,
			u.RegistrationStatus, u.CreateTime.UnixMilli(), marshal(u))
		return err
	})
	if parley.KindOf(s.wrap("", err)) == parley.KindConflict {
		return &parley.Error{Kind: parley.KindConflict, Op: "CreateChimeUser", Message: "a user with e-mail " + u.PrimaryEmail + " already exists in the account", Err: err}
	}
	return s.wrap("CreateChimeUser", err)
}

func chimeUser(ctx context.Context, q querier, k parley.ChimeUserKey, l lock) (*parley.ChimeUser, error) {
	return getJSON[parley.ChimeUser](ctx, q, notFound("user", k.User),
		`SELECT data FROM chime_users WHERE aws_account_id = ? AND account_id = ? AND id = ?`+q.lock(l), k.AWS, k.Account, k.User)
}

func (s *Store) ChimeUser(ctx context.Context, k parley.ChimeUserKey) (*parley.ChimeUser, error) {
	u, err := chimeUser(ctx, s.read(), k, noLock)
	return u, s.wrap("ChimeUser", err)
}

func (s *Store) ListChimeUsers(ctx context.Context, a parley.ChimeAccountKey, f parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error) {
	if _, err := chimeAccount(ctx, s.read(), a, noLock); err != nil {
		return nil, "", s.wrap("ListChimeUsers", err)
	}
	query := `SELECT data FROM chime_users WHERE aws_account_id = ? AND account_id = ?`
	args := []any{a.AWS, a.Account}
	if f.Email != "" {
		query += ` AND email = ?`
		args = append(args, strings.ToLower(f.Email))
	}
	if f.UserType != "" {
		query += ` AND user_type = ?`
		args = append(args, f.UserType)
	}
	out, next, err := listJSON(ctx, s.read(), query, args, f.Page, func(u *parley.ChimeUser) pagetoken.Key {
		return pagetoken.Key{Time: u.CreateTime.UnixMilli(), ID: u.UserID}
	})
	return out, next, s.wrap("ListChimeUsers", err)
}

func (s *Store) UpdateChimeUser(ctx context.Context, k parley.ChimeUserKey, fn func(*parley.ChimeUser) error) (*parley.ChimeUser, error) {
	return update(ctx, s, "UpdateChimeUser", func(q querier) (*parley.ChimeUser, error) { return chimeUser(ctx, q, k, forUpdate) }, fn,
		func(q querier, u *parley.ChimeUser) error {
			_, err := q.exec(ctx, `UPDATE chime_users SET email = ?, user_type = ?, status = ?, data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`,
				strings.ToLower(u.PrimaryEmail), u.UserType, u.RegistrationStatus, marshal(u), k.AWS, k.Account, k.User)
			return err
		})
}

func (s *Store) AppendAudit(ctx context.Context, r *parley.AuditRecord) error {
	err := s.small(ctx, func(ctx context.Context, q querier) error {
		_, err := q.exec(ctx, `INSERT INTO audit (aws_account_id, id, time, data) VALUES (?, ?, ?, ?)`, r.AwsAccountID, r.ID, r.Time.UnixMilli(), marshal(r))
		return err
	})
	return s.wrap("AppendAudit", err)
}

func (s *Store) ReplaceAudit(ctx context.Context, r *parley.AuditRecord) error {
	err := s.small(ctx, func(ctx context.Context, q querier) error {
		n, err := rowsAffected(q.exec(ctx, `UPDATE audit SET data = ? WHERE aws_account_id = ? AND id = ?`, marshal(r), r.AwsAccountID, r.ID))
		if err == nil && n == 0 {
			return notFound("audit record", r.ID)
		}
		return err
	})
	return s.wrap("ReplaceAudit", err)
}

// audited is an audit record and its position in the log.
type audited struct {
	seq int64
	r   *parley.AuditRecord
}

func scanAudited(row scanner) (audited, error) {
	a := audited{r: new(parley.AuditRecord)}
	var data string
	if err := row.Scan(&a.seq, &data); err != nil {
		return a, err
	}
	return a, json.Unmarshal([]byte(data), a.r)
}

func (s *Store) ExpireAudit(ctx context.Context, before time.Time, limit int, export func([]*parley.AuditRecord) error) (int, error) {
	n := 0
	err := s.tx(ctx, func(q querier) error {
		// One node at a time: each record is exported once.
		if err := q.lockScope(ctx, "audit retention"); err != nil {
			return err
		}
		recs, err := all(ctx, q, scanAudited, `SELECT seq, data FROM audit WHERE time < ? ORDER BY seq LIMIT ?`, before.UnixMilli(), limit)
		if err != nil || len(recs) == 0 {
			return err
		}
		out := make([]*parley.AuditRecord, len(recs))
		for i, a := range recs {
			out[i] = a.r
		}
		if err := export(out); err != nil {
			return err
		}
		// Exactly the records read: the first of those made before, by seq.
		res, err := q.exec(ctx, `DELETE FROM audit WHERE time < ? AND seq <= ?`, before.UnixMilli(), recs[len(recs)-1].seq)
		if err != nil {
			return err
		}
		removed, err := res.RowsAffected()
		n = int(removed)
		return err
	})
	if err != nil {
		return 0, s.wrap("ExpireAudit", err)
	}
	return n, nil
}

func (s *Store) Compact(ctx context.Context) error {
	if s.d.Compact == nil {
		return nil
	}
	return s.wrap("Compact", s.d.Compact(ctx))
}

func (s *Store) ListAudit(ctx context.Context, aws string, p parley.Page) ([]*parley.AuditRecord, string, error) {
	out, next, err := s.listAudit(ctx, aws, p)
	return out, next, s.wrap("ListAudit", err)
}

func (s *Store) listAudit(ctx context.Context, aws string, p parley.Page) ([]*parley.AuditRecord, string, error) {
	// Audit records are ordered by insertion; the token carries the sequence number.
	query := `SELECT seq, data FROM audit WHERE aws_account_id = ?`
	args := []any{aws}
	if p.NextToken != "" {
		k, err := pagetoken.Decode(p.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND seq > ?`
		args = append(args, k.Time)
	}
	recs, err := all(ctx, s.read(), scanAudited, query+` ORDER BY seq LIMIT ?`, append(args, p.MaxResults+1)...)
	if err != nil {
		return nil, "", err
	}
	recs, next := page(recs, p.MaxResults, func(a audited) string { return pagetoken.Encode(pagetoken.Key{Time: a.seq, ID: "seq"}) })
	out := make([]*parley.AuditRecord, len(recs))
	for i, a := range recs {
		out[i] = a.r
	}
	return out, next, nil
}

// ---- rooms, memberships, bots and history

func chimeRoom(ctx context.Context, q querier, k parley.ChimeRoomKey, l lock) (*parley.ChimeRoom, error) {
	return getJSON[parley.ChimeRoom](ctx, q, notFound("room", k.Room),
		`SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND id = ?`+q.lock(l), k.AWS, k.Account, k.Room)
}

func (s *Store) CreateChimeRoom(ctx context.Context, r *parley.ChimeRoom, max int) (*parley.ChimeRoom, bool, error) {
	out, created := r, true
	err := s.tx(ctx, func(q querier) error {
		if _, err := chimeAccount(ctx, q, r.Key().ChimeAccountKey, forShare); err != nil {
			return err
		}
		if err := q.lockScope(ctx, "chime-rooms", r.AwsAccountID, r.AccountID); err != nil {
			return err
		}
		if r.ClientToken != "" {
			prev, err := getJSON[parley.ChimeRoom](ctx, q, sql.ErrNoRows,
				`SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND client_token = ?`, r.AwsAccountID, r.AccountID, r.ClientToken)
			if err == nil {
				out, created = prev, false
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if err := quota(ctx, q, max, &parley.Error{Message: "the account has reached its room quota"},
			`SELECT count(*) FROM chime_rooms WHERE aws_account_id = ? AND account_id = ?`, r.AwsAccountID, r.AccountID); err != nil {
			return err
		}
		_, err := q.exec(ctx, `INSERT INTO chime_rooms (aws_account_id, account_id, id, client_token, create_time, data) VALUES (?, ?, ?, ?, ?, ?)`,
			r.AwsAccountID, r.AccountID, r.RoomID, r.ClientToken, r.CreateTime.UnixMilli(), marshal(r))
		return err
	})
	return out, created, s.wrap("CreateChimeRoom", err)
}

func (s *Store) ChimeRoom(ctx context.Context, k parley.ChimeRoomKey) (*parley.ChimeRoom, error) {
	r, err := chimeRoom(ctx, s.read(), k, noLock)
	return r, s.wrap("ChimeRoom", err)
}

func (s *Store) ListChimeRooms(ctx context.Context, a parley.ChimeAccountKey, memberID string, p parley.Page) ([]*parley.ChimeRoom, string, error) {
	query := `SELECT data FROM chime_rooms WHERE aws_account_id = ? AND account_id = ?`
	args := []any{a.AWS, a.Account}
	if memberID != "" {
		query += ` AND id IN (SELECT room_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND member_id = ?)`
		args = append(args, a.AWS, a.Account, memberID)
	}
	out, next, err := listJSON(ctx, s.read(), query, args, p, func(r *parley.ChimeRoom) pagetoken.Key {
		return pagetoken.Key{Time: r.CreateTime.UnixMilli(), ID: r.RoomID}
	})
	return out, next, s.wrap("ListChimeRooms", err)
}

func (s *Store) UpdateChimeRoom(ctx context.Context, k parley.ChimeRoomKey, fn func(*parley.ChimeRoom) error) (*parley.ChimeRoom, error) {
	return update(ctx, s, "UpdateChimeRoom", func(q querier) (*parley.ChimeRoom, error) { return chimeRoom(ctx, q, k, forUpdate) }, fn,
		func(q querier, r *parley.ChimeRoom) error {
			_, err := q.exec(ctx, `UPDATE chime_rooms SET data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`, marshal(r), k.AWS, k.Account, k.Room)
			return err
		})
}

func (s *Store) DeleteChimeRoom(ctx context.Context, k parley.ChimeRoomKey) error {
	return s.wrap("DeleteChimeRoom", s.tx(ctx, func(q querier) error {
		n, err := rowsAffected(q.exec(ctx, `DELETE FROM chime_rooms WHERE aws_account_id = ? AND account_id = ? AND id = ?`, k.AWS, k.Account, k.Room))
		if err == nil && n == 0 {
			err = notFound("room", k.Room)
		}
		return err
	}))
}

func membershipNotFound(member string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "member " + member + " is not in the room"}
}

func (s *Store) AddMembership(ctx context.Context, m *parley.RoomMembership, max int) error {
	return s.wrap("AddMembership", s.tx(ctx, func(q querier) error {
		// forUpdate: the room's lock is its membership quota's.
		if _, err := chimeRoom(ctx, q, m.Key().ChimeRoomKey, forUpdate); err != nil {
			return err
		}
		var n, exists int
		if err := q.row(ctx, `SELECT count(*), count(*) FILTER (WHERE member_id = ?) FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ?`,
			m.MemberID, m.AwsAccountID, m.AccountID, m.RoomID).Scan(&n, &exists); err != nil {
			return err
		}
		if exists > 0 {
			return parley.Errorf(parley.KindConflict, "member %s is already in the room", m.MemberID)
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "the room has reached its membership quota", Limit: max}
		}
		_, err := q.exec(ctx, `INSERT INTO chime_memberships (aws_account_id, account_id, room_id, member_id, member_type, data) VALUES (?, ?, ?, ?, ?, ?)`,
			m.AwsAccountID, m.AccountID, m.RoomID, m.MemberID, m.MemberType, marshal(m))
		return err
	}))
}

func membership(ctx context.Context, q querier, k parley.ChimeMemberKey, l lock) (*parley.RoomMembership, error) {
	return getJSON[parley.RoomMembership](ctx, q, membershipNotFound(k.Member),
		`SELECT data FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`+q.lock(l), k.AWS, k.Account, k.Room, k.Member)
}

func (s *Store) Membership(ctx context.Context, k parley.ChimeMemberKey) (*parley.RoomMembership, error) {
	m, err := membership(ctx, s.read(), k, noLock)
	return m, s.wrap("Membership", err)
}

func (s *Store) ListMemberships(ctx context.Context, r parley.ChimeRoomKey, p parley.Page) ([]*parley.RoomMembership, string, error) {
	out, next, err := s.listMemberships(ctx, r, p)
	return out, next, s.wrap("ListMemberships", err)
}

func (s *Store) listMemberships(ctx context.Context, r parley.ChimeRoomKey, p parley.Page) ([]*parley.RoomMembership, string, error) {
	if _, err := chimeRoom(ctx, s.read(), r, noLock); err != nil {
		return nil, "", err
	}
	query := `SELECT data FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ?`
	args := []any{r.AWS, r.Account, r.Room}
	if p.NextToken != "" {
		k, err := pagetoken.Decode(p.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND member_id > ?`
		args = append(args, k.ID)
	}
	out, err := all(ctx, s.read(), fromJSON[parley.RoomMembership], query+` ORDER BY member_id LIMIT ?`, append(args, p.MaxResults+1)...)
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, p.MaxResults, func(m *parley.RoomMembership) string { return pagetoken.Encode(pagetoken.Key{ID: m.MemberID}) })
	return out, next, nil
}

func (s *Store) UpdateMembership(ctx context.Context, k parley.ChimeMemberKey, fn func(*parley.RoomMembership) error) (*parley.RoomMembership, error) {
	return update(ctx, s, "UpdateMembership", func(q querier) (*parley.RoomMembership, error) { return membership(ctx, q, k, forUpdate) }, fn,
		func(q querier, m *parley.RoomMembership) error {
			_, err := q.exec(ctx, `UPDATE chime_memberships SET member_type = ?, data = ? WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`,
				m.MemberType, marshal(m), k.AWS, k.Account, k.Room, k.Member)
			return err
		})
}

func (s *Store) DeleteMembership(ctx context.Context, k parley.ChimeMemberKey) error {
	return s.wrap("DeleteMembership", s.tx(ctx, func(q querier) error {
		if _, err := chimeRoom(ctx, q, k.ChimeRoomKey, noLock); err != nil {
			return err
		}
		n, err := rowsAffected(q.exec(ctx, `DELETE FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_id = ?`,
			k.AWS, k.Account, k.Room, k.Member))
		if err == nil && n == 0 {
			err = membershipNotFound(k.Member)
		}
		return err
	}))
}

func (s *Store) RoomMembers(ctx context.Context, r parley.ChimeRoomKey, memberType string) ([]string, error) {
	ids, err := column(ctx, s.read(), `SELECT member_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND member_type = ?
		ORDER BY member_id`, r.AWS, r.Account, r.Room, memberType)
	return ids, s.wrap("RoomMembers", err)
}

func (s *Store) MemberRooms(ctx context.Context, a parley.ChimeAccountKey, memberID string) ([]string, error) {
	ids, err := column(ctx, s.read(), `SELECT room_id FROM chime_memberships WHERE aws_account_id = ? AND account_id = ? AND member_id = ? ORDER BY room_id`,
		a.AWS, a.Account, memberID)
	return ids, s.wrap("MemberRooms", err)
}

func (s *Store) CreateBot(ctx context.Context, b *parley.Bot, max int) error {
	return s.wrap("CreateBot", s.tx(ctx, func(q querier) error {
		if _, err := chimeAccount(ctx, q, b.AccountKey(), forShare); err != nil {
			return err
		}
		if err := q.lockScope(ctx, "bots", b.AwsAccountID, b.AccountID); err != nil {
			return err
		}
		if err := quota(ctx, q, max, &parley.Error{Message: "the account has reached its bot quota"},
			`SELECT count(*) FROM chime_bots WHERE aws_account_id = ? AND account_id = ?`, b.AwsAccountID, b.AccountID); err != nil {
			return err
		}
		_, err := q.exec(ctx, `INSERT INTO chime_bots (aws_account_id, account_id, id, token, create_time, data) VALUES (?, ?, ?, ?, ?, ?)`,
			b.AwsAccountID, b.AccountID, b.BotID, b.SecurityToken, b.CreateTime.UnixMilli(), marshal(b))
		return err
	}))
}

func bot(ctx context.Context, q querier, a parley.ChimeAccountKey, id string, l lock) (*parley.Bot, error) {
	return getJSON[parley.Bot](ctx, q, notFound("bot", id),
		`SELECT data FROM chime_bots WHERE aws_account_id = ? AND account_id = ? AND id = ?`+q.lock(l), a.AWS, a.Account, id)
}

func (s *Store) Bot(ctx context.Context, a parley.ChimeAccountKey, botID string) (*parley.Bot, error) {
	b, err := bot(ctx, s.read(), a, botID, noLock)
	return b, s.wrap("Bot", err)
}

func (s *Store) BotByToken(ctx context.Context, token string) (*parley.Bot, error) {
	b, err := getJSON[parley.Bot](ctx, s.read(), notFound("bot", "with that token"), `SELECT data FROM chime_bots WHERE token = ?`, token)
	return b, s.wrap("BotByToken", err)
}

func (s *Store) ListBots(ctx context.Context, a parley.ChimeAccountKey, p parley.Page) ([]*parley.Bot, string, error) {
	out, next, err := listJSON(ctx, s.read(), `SELECT data FROM chime_bots WHERE aws_account_id = ? AND account_id = ?`, []any{a.AWS, a.Account}, p,
		func(b *parley.Bot) pagetoken.Key { return pagetoken.Key{Time: b.CreateTime.UnixMilli(), ID: b.BotID} })
	return out, next, s.wrap("ListBots", err)
}

func (s *Store) UpdateBot(ctx context.Context, a parley.ChimeAccountKey, botID string, fn func(*parley.Bot) error) (*parley.Bot, error) {
	return update(ctx, s, "UpdateBot", func(q querier) (*parley.Bot, error) { return bot(ctx, q, a, botID, forUpdate) }, fn,
		func(q querier, b *parley.Bot) error {
			_, err := q.exec(ctx, `UPDATE chime_bots SET token = ?, data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`,
				b.SecurityToken, marshal(b), a.AWS, a.Account, botID)
			return err
		})
}

func (s *Store) AppendMessage(ctx context.Context, m *parley.ChimeMessage) error {
	return s.wrap("AppendMessage", s.tx(ctx, func(q querier) error {
		if _, err := chimeRoom(ctx, q, m.RoomKey(), forShare); err != nil {
			return err
		}
		_, err := q.exec(ctx, `INSERT INTO chime_messages (aws_account_id, account_id, room_id, create_time, data) VALUES (?, ?, ?, ?, ?)`,
			m.AwsAccountID, m.AccountID, m.RoomID, m.CreateTime.UnixMilli(), marshal(m))
		return err
	}))
}

func (s *Store) Messages(ctx context.Context, r parley.ChimeRoomKey, since time.Time, limit int) ([]*parley.ChimeMessage, error) {
	out, err := all(ctx, s.read(), fromJSON[parley.ChimeMessage], `SELECT data FROM (SELECT seq, data FROM chime_messages
		WHERE aws_account_id = ? AND account_id = ? AND room_id = ? AND create_time >= ? ORDER BY seq DESC LIMIT ?) m ORDER BY seq`,
		r.AWS, r.Account, r.Room, since.UnixMilli(), limit)
	return out, s.wrap("Messages", err)
}
