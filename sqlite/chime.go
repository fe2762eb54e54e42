package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

func accountNotFound(id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "account " + id + " not found"}
}

func userNotFound(id string) error {
	return &parley.Error{Kind: parley.KindNotFound, Message: "user " + id + " not found"}
}

func (s *Store) CreateChimeAccount(ctx context.Context, a *parley.ChimeAccount) error {
	data, err := json.Marshal(a)
	if err != nil {
		return wrap("CreateChimeAccount", err)
	}
	return wrap("CreateChimeAccount", s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO chime_accounts (aws_account_id, id, name, create_time, data) VALUES (?, ?, ?, ?, ?)`,
			a.AwsAccountID, a.AccountID, a.Name, a.CreateTime.UnixMilli(), string(data))
		return err
	}))
}

func chimeAccount(ctx context.Context, q querier, aws, id string) (*parley.ChimeAccount, error) {
	var data string
	err := q.QueryRowContext(ctx, `SELECT data FROM chime_accounts WHERE aws_account_id = ? AND id = ?`, aws, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accountNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	var a parley.ChimeAccount
	return &a, json.Unmarshal([]byte(data), &a)
}

func (s *Store) ChimeAccount(ctx context.Context, aws, id string) (*parley.ChimeAccount, error) {
	a, err := chimeAccount(ctx, s.db, aws, id)
	return a, wrap("ChimeAccount", err)
}

// page runs a keyset-paginated query over rows of (create_time, id, data)
// ordered by create_time and id, decoding each data into a new T.
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
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, "", err
		}
		v := new(T)
		if err := json.Unmarshal([]byte(data), v); err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var next string
	if len(out) > p.MaxResults {
		out = out[:p.MaxResults]
		next = pagetoken.Encode(key(out[len(out)-1]))
	}
	return out, next, nil
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
	out, next, err := page(ctx, s.db, query, args, f.Page, func(a *parley.ChimeAccount) pagetoken.Key {
		return pagetoken.Key{Time: a.CreateTime.UnixMilli(), ID: a.AccountID}
	})
	return out, next, wrap("ListChimeAccounts", err)
}

func (s *Store) UpdateChimeAccount(ctx context.Context, aws, id string, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error) {
	var out *parley.ChimeAccount
	err := s.tx(ctx, func(tx *sql.Tx) error {
		a, err := chimeAccount(ctx, tx, aws, id)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		data, err := json.Marshal(a)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chime_accounts SET name = ?, data = ? WHERE aws_account_id = ? AND id = ?`, a.Name, string(data), aws, id)
		out = a
		return err
	})
	return out, wrap("UpdateChimeAccount", err)
}

func (s *Store) DeleteChimeAccount(ctx context.Context, aws, id string) error {
	return wrap("DeleteChimeAccount", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := chimeAccount(ctx, tx, aws, id); err != nil {
			return err
		}
		var active int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chime_users WHERE aws_account_id = ? AND account_id = ? AND status <> ?`,
			aws, id, parley.UserSuspended).Scan(&active); err != nil {
			return err
		}
		if active > 0 {
			return parley.Errorf(parley.KindUnprocessable, "account %s still has %d user(s) that are not suspended", id, active)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM chime_accounts WHERE aws_account_id = ? AND id = ?`, aws, id)
		return err
	}))
}

func (s *Store) CreateChimeUser(ctx context.Context, u *parley.ChimeUser) error {
	data, err := json.Marshal(u)
	if err != nil {
		return wrap("CreateChimeUser", err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := chimeAccount(ctx, tx, u.AwsAccountID, u.AccountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO chime_users (aws_account_id, account_id, id, email, user_type, status, create_time, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.AwsAccountID, u.AccountID, u.UserID, strings.ToLower(u.PrimaryEmail), u.UserType,
			u.RegistrationStatus, u.CreateTime.UnixMilli(), string(data))
		return err
	})
	if parley.KindOf(wrap("", err)) == parley.KindConflict {
		return &parley.Error{Kind: parley.KindConflict, Op: "CreateChimeUser", Message: "a user with e-mail " + u.PrimaryEmail + " already exists in the account", Err: err}
	}
	return wrap("CreateChimeUser", err)
}

func chimeUser(ctx context.Context, q querier, aws, account, id string) (*parley.ChimeUser, error) {
	var data string
	err := q.QueryRowContext(ctx, `SELECT data FROM chime_users WHERE aws_account_id = ? AND account_id = ? AND id = ?`, aws, account, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	var u parley.ChimeUser
	return &u, json.Unmarshal([]byte(data), &u)
}

func (s *Store) ChimeUser(ctx context.Context, aws, account, id string) (*parley.ChimeUser, error) {
	u, err := chimeUser(ctx, s.db, aws, account, id)
	return u, wrap("ChimeUser", err)
}

func (s *Store) ListChimeUsers(ctx context.Context, aws, account string, f parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error) {
	if _, err := chimeAccount(ctx, s.db, aws, account); err != nil {
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
	out, next, err := page(ctx, s.db, query, args, f.Page, func(u *parley.ChimeUser) pagetoken.Key {
		return pagetoken.Key{Time: u.CreateTime.UnixMilli(), ID: u.UserID}
	})
	return out, next, wrap("ListChimeUsers", err)
}

func (s *Store) UpdateChimeUser(ctx context.Context, aws, account, id string, fn func(*parley.ChimeUser) error) (*parley.ChimeUser, error) {
	var out *parley.ChimeUser
	err := s.tx(ctx, func(tx *sql.Tx) error {
		u, err := chimeUser(ctx, tx, aws, account, id)
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		data, err := json.Marshal(u)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chime_users SET email = ?, user_type = ?, status = ?, data = ? WHERE aws_account_id = ? AND account_id = ? AND id = ?`,
			strings.ToLower(u.PrimaryEmail), u.UserType, u.RegistrationStatus, string(data), aws, account, id)
		out = u
		return err
	})
	return out, wrap("UpdateChimeUser", err)
}

func (s *Store) AppendAudit(ctx context.Context, r *parley.AuditRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return wrap("AppendAudit", err)
	}
	return wrap("AppendAudit", s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit (aws_account_id, id, time, data) VALUES (?, ?, ?, ?)`, r.AwsAccountID, r.ID, r.Time.UnixMilli(), string(data))
		return err
	}))
}

func (s *Store) ListAudit(ctx context.Context, aws string, p parley.Page) ([]*parley.AuditRecord, string, error) {
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
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, p.MaxResults+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
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
