package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

// tagTable returns the table holding the tags of an IVS resource kind.
func tagTable(arn parley.ParsedARN) (string, parley.ResourceType, bool) {
	switch arn.Kind {
	case "room":
		return "rooms", parley.ResourceRoom, true
	case "logging-configuration":
		return "logging_configurations", parley.ResourceLoggingConfiguration, true
	}
	return "", "", false
}

func tags(ctx context.Context, q querier, arn parley.ParsedARN) (map[string]string, error) {
	table, typ, ok := tagTable(arn)
	if !ok {
		return nil, parley.NotFound(parley.ResourceRoom, arn.ID, "resource %s not found", arn.ID)
	}
	var raw string
	err := q.QueryRowContext(ctx, `SELECT tags FROM `+table+` WHERE account_id = ? AND region = ? AND id = ?`, arn.AccountID, arn.Region, arn.ID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.NotFound(typ, arn.ID, "resource %s not found", arn.ID)
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	return m, json.Unmarshal([]byte(raw), &m)
}

func (s *Store) Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error) {
	m, err := tags(ctx, s.db, arn)
	return m, wrap("Tags", err)
}

func (s *Store) UpdateTags(ctx context.Context, arn parley.ParsedARN, set map[string]string, remove []string, max int) error {
	return wrap("UpdateTags", s.tx(ctx, func(tx *sql.Tx) error {
		m, err := tags(ctx, tx, arn)
		if err != nil {
			return err
		}
		for k, v := range set {
			m[k] = v
		}
		for _, k := range remove {
			delete(m, k)
		}
		if len(m) > max {
			return parley.Invalid("tags", "would exceed %d tags per resource", max)
		}
		table, _, _ := tagTable(arn)
		_, err = tx.ExecContext(ctx, `UPDATE `+table+` SET tags = ? WHERE account_id = ? AND region = ? AND id = ?`, tagsJSON(m), arn.AccountID, arn.Region, arn.ID)
		return err
	}))
}

func (s *Store) ConsumeToken(ctx context.Context, id string, expires time.Time) error {
	return wrap("ConsumeToken", s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO consumed_tokens (id, expires) VALUES (?, ?)`, id, expires.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return parley.Errorf(parley.KindConflict, "chat token already used")
		}
		return nil
	}))
}

func (s *Store) PurgeTokens(ctx context.Context, now time.Time) error {
	err := s.exec(ctx, `DELETE FROM consumed_tokens WHERE expires < ?`, now.UnixMilli())
	return wrap("PurgeTokens", err)
}

func (s *Store) PutAccessKey(ctx context.Context, k *parley.AccessKey) error {
	return wrap("PutAccessKey", s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO access_keys (id, secret, account_id, create_time) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account_id = excluded.account_id`,
			k.ID, k.Secret, k.AccountID, k.CreateTime.UnixMilli())
		return err
	}))
}

func scanKey(row interface{ Scan(...any) error }) (*parley.AccessKey, error) {
	var k parley.AccessKey
	var created int64
	if err := row.Scan(&k.ID, &k.Secret, &k.AccountID, &created); err != nil {
		return nil, err
	}
	k.CreateTime = time.UnixMilli(created).UTC()
	return &k, nil
}

func (s *Store) AccessKey(ctx context.Context, id string) (*parley.AccessKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT id, secret, account_id, create_time FROM access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.KindNotFound, "access key not found")
	}
	return k, wrap("AccessKey", err)
}

func (s *Store) AccessKeys(ctx context.Context) ([]*parley.AccessKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, secret, account_id, create_time FROM access_keys ORDER BY create_time, id`)
	if err != nil {
		return nil, wrap("AccessKeys", err)
	}
	defer rows.Close()
	var keys []*parley.AccessKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, wrap("AccessKeys", err)
		}
		keys = append(keys, k)
	}
	return keys, wrap("AccessKeys", rows.Err())
}

func (s *Store) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if v, err = gen(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES (?, ?)`, name, v)
		return err
	})
	return v, wrap("Secret", err)
}
