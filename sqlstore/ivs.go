package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

// ---- rooms

const roomColumns = `r.account_id, r.region, r.id, r.name, r.max_rate, r.max_length, r.review_uri, r.review_fallback, r.tags, r.create_time, r.update_time,
	coalesce((SELECT string_agg(config_id, ',' ORDER BY position) FROM room_logging l
		WHERE l.account_id = r.account_id AND l.region = r.region AND l.room_id = r.id), '')`

func scanRoom(row scanner) (*parley.Room, error) {
	var (
		r                parley.Room
		uri, fallback    sql.NullString
		tags, configs    string
		created, updated int64
	)
	if err := row.Scan(&r.AccountID, &r.Region, &r.ID, &r.Name, &r.MaximumMessageRate, &r.MaximumMessageLength,
		&uri, &fallback, &tags, &created, &updated, &configs); err != nil {
		return nil, err
	}
	if uri.Valid {
		r.MessageReviewHandler = &parley.MessageReviewHandler{URI: uri.String, FallbackResult: parley.ReviewResult(fallback.String)}
	}
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return nil, err
	}
	r.LoggingConfigurationIDs = split(configs)
	r.CreateTime, r.UpdateTime = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &r, nil
}

func reviewColumns(h *parley.MessageReviewHandler) (uri, fallback sql.NullString) {
	if h == nil {
		return
	}
	return sql.NullString{String: h.URI, Valid: true}, sql.NullString{String: string(h.FallbackResult), Valid: true}
}

func tagsJSON(tags map[string]string) string {
	if tags == nil {
		tags = map[string]string{}
	}
	return marshal(tags)
}

func roomNotFound(id string) error {
	return parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
}

func room(ctx context.Context, q querier, s parley.Scope, id string, l lock) (*parley.Room, error) {
	return one(ctx, q, scanRoom, roomNotFound(id), `SELECT `+roomColumns+` FROM rooms r WHERE r.account_id = ? AND r.region = ? AND r.id = ?`+q.lock(l),
		s.AccountID, s.Region, id)
}

// setRoomLogging replaces the room's logging configurations, checking that each exists.
func setRoomLogging(ctx context.Context, q querier, s parley.Scope, roomID string, ids []string) error {
	if _, err := q.exec(ctx, `DELETE FROM room_logging WHERE account_id = ? AND region = ? AND room_id = ?`, s.AccountID, s.Region, roomID); err != nil {
		return err
	}
	for i, id := range ids {
		if _, err := loggingConfiguration(ctx, q, s, id, forShare); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `INSERT INTO room_logging (account_id, region, room_id, config_id, position) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			s.AccountID, s.Region, roomID, id, i); err != nil {
			return err
		}
	}
	return nil
}

// set sets *dst to *v, if v is not nil.
func set[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

// count returns the count(*) of a query.
func count(ctx context.Context, q querier, query string, args ...any) (n int, err error) {
	return n, q.row(ctx, query, args...).Scan(&n)
}

// quota returns exceeded, with its Limit set, when the count(*) of query
// is max or more already. Callers take the scope's lock (lockScope) first.
func quota(ctx context.Context, q querier, max int, exceeded *parley.Error, query string, args ...any) error {
	n, err := count(ctx, q, query, args...)
	if err != nil {
		return err
	}
	if n >= max {
		exceeded.Kind, exceeded.Limit = parley.KindQuotaExceeded, max
		return exceeded
	}
	return nil
}

func (s *Store) CreateRoom(ctx context.Context, r *parley.Room, maxRooms int) error {
	return s.wrap("CreateRoom", s.tx(ctx, func(q querier) error {
		if err := q.lockScope(ctx, "rooms", r.AccountID, r.Region); err != nil {
			return err
		}
		if err := quota(ctx, q, maxRooms, &parley.Error{Message: "room quota exceeded", Resource: &parley.Resource{Type: parley.ResourceRoom, ID: r.ID}},
			`SELECT count(*) FROM rooms WHERE account_id = ? AND region = ?`, r.AccountID, r.Region); err != nil {
			return err
		}
		uri, fallback := reviewColumns(r.MessageReviewHandler)
		if _, err := q.exec(ctx, `INSERT INTO rooms (account_id, region, id, name, max_rate, max_length, review_uri, review_fallback, tags, create_time, update_time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.AccountID, r.Region, r.ID, r.Name, r.MaximumMessageRate, r.MaximumMessageLength, uri, fallback,
			tagsJSON(r.Tags), r.CreateTime.UnixMilli(), r.UpdateTime.UnixMilli()); err != nil {
			return err
		}
		return setRoomLogging(ctx, q, r.Scope, r.ID, r.LoggingConfigurationIDs)
	}))
}

func (s *Store) Room(ctx context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	r, err := room(ctx, s.read(), sc, id, noLock)
	return r, s.wrap("Room", err)
}

func applyRoomUpdate(r *parley.Room, u parley.RoomUpdate) {
	set(&r.Name, u.Name)
	set(&r.MaximumMessageRate, u.MaximumMessageRate)
	set(&r.MaximumMessageLength, u.MaximumMessageLength)
	set(&r.MessageReviewHandler, u.MessageReviewHandler)
	r.UpdateTime = u.UpdateTime
}

func (s *Store) UpdateRoom(ctx context.Context, sc parley.Scope, id string, u parley.RoomUpdate) (*parley.Room, error) {
	return update(ctx, s, "UpdateRoom", func(q querier) (*parley.Room, error) { return room(ctx, q, sc, id, forUpdate) },
		func(r *parley.Room) error { applyRoomUpdate(r, u); return nil },
		func(q querier, r *parley.Room) error {
			uri, fallback := reviewColumns(r.MessageReviewHandler)
			if _, err := q.exec(ctx, `UPDATE rooms SET name = ?, max_rate = ?, max_length = ?, review_uri = ?, review_fallback = ?, update_time = ?
				WHERE account_id = ? AND region = ? AND id = ?`,
				r.Name, r.MaximumMessageRate, r.MaximumMessageLength, uri, fallback, r.UpdateTime.UnixMilli(), sc.AccountID, sc.Region, id); err != nil {
				return err
			}
			if u.LoggingConfigurationIDs != nil {
				if err := setRoomLogging(ctx, q, sc, id, *u.LoggingConfigurationIDs); err != nil {
					return err
				}
			}
			updated, err := room(ctx, q, sc, id, noLock)
			if err == nil {
				*r = *updated
			}
			return err
		})
}

func (s *Store) DeleteRoom(ctx context.Context, sc parley.Scope, id string) error {
	return s.wrap("DeleteRoom", s.tx(ctx, func(q querier) error {
		n, err := rowsAffected(q.exec(ctx, `DELETE FROM rooms WHERE account_id = ? AND region = ? AND id = ?`, sc.AccountID, sc.Region, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return roomNotFound(id)
		}
		_, err = q.exec(ctx, `DELETE FROM bans WHERE account_id = ? AND region = ? AND room_id = ?`, sc.AccountID, sc.Region, id)
		return err
	}))
}

func (s *Store) ListRooms(ctx context.Context, f parley.RoomFilter) ([]*parley.Room, string, error) {
	rooms, next, err := s.listRooms(ctx, f)
	return rooms, next, s.wrap("ListRooms", err)
}

func (s *Store) listRooms(ctx context.Context, f parley.RoomFilter) ([]*parley.Room, string, error) {
	query := `SELECT ` + roomColumns + ` FROM rooms r WHERE r.account_id = ? AND r.region = ?`
	args := []any{f.AccountID, f.Region}
	if f.Name != "" {
		query += ` AND r.name = ?`
		args = append(args, f.Name)
	}
	if f.MessageReviewHandlerURI != "" {
		query += ` AND r.review_uri = ?`
		args = append(args, f.MessageReviewHandlerURI)
	}
	if f.LoggingConfigurationID != "" {
		if _, err := loggingConfiguration(ctx, s.read(), f.Scope, f.LoggingConfigurationID, noLock); err != nil {
			return nil, "", err
		}
		query += ` AND EXISTS (SELECT 1 FROM room_logging l WHERE l.account_id = r.account_id AND l.region = r.region AND l.room_id = r.id AND l.config_id = ?)`
		args = append(args, f.LoggingConfigurationID)
	}
	if f.NextToken != "" {
		k, err := pagetoken.Decode(f.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (r.update_time < ? OR (r.update_time = ? AND r.id < ?))`
		args = append(args, k.Time, k.Time, k.ID)
	}
	rooms, err := all(ctx, s.read(), scanRoom, query+` ORDER BY r.update_time DESC, r.id DESC LIMIT ?`, append(args, f.MaxResults+1)...)
	if err != nil {
		return nil, "", err
	}
	rooms, next := page(rooms, f.MaxResults, func(r *parley.Room) string {
		return pagetoken.Encode(pagetoken.Key{Time: r.UpdateTime.UnixMilli(), ID: r.ID})
	})
	return rooms, next, nil
}

// ---- logging configurations

const configColumns = `account_id, region, id, name, dest_type, dest_name, tags, create_time, update_time`

// Destination types as stored.
const (
	destS3       = "s3"
	destLogs     = "cloudWatchLogs"
	destFirehose = "firehose"
)

func destColumns(d parley.Destination) (typ, name string) {
	switch {
	case d.S3Bucket != "":
		return destS3, d.S3Bucket
	case d.CloudWatchLogGroup != "":
		return destLogs, d.CloudWatchLogGroup
	default:
		return destFirehose, d.FirehoseStream
	}
}

func scanConfig(row scanner) (*parley.LoggingConfiguration, error) {
	var (
		c                parley.LoggingConfiguration
		typ, name, tags  string
		created, updated int64
	)
	if err := row.Scan(&c.AccountID, &c.Region, &c.ID, &c.Name, &typ, &name, &tags, &created, &updated); err != nil {
		return nil, err
	}
	switch typ {
	case destS3:
		c.Destination.S3Bucket = name
	case destLogs:
		c.Destination.CloudWatchLogGroup = name
	default:
		c.Destination.FirehoseStream = name
	}
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return nil, err
	}
	c.State = parley.LoggingActive
	c.CreateTime, c.UpdateTime = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &c, nil
}

func configNotFound(id string) error {
	return parley.NotFound(parley.ResourceLoggingConfiguration, id, "logging configuration %s not found", id)
}

func loggingConfiguration(ctx context.Context, q querier, s parley.Scope, id string, l lock) (*parley.LoggingConfiguration, error) {
	return one(ctx, q, scanConfig, configNotFound(id),
		`SELECT `+configColumns+` FROM logging_configurations WHERE account_id = ? AND region = ? AND id = ?`+q.lock(l), s.AccountID, s.Region, id)
}

func (s *Store) LoggingConfiguration(ctx context.Context, sc parley.Scope, id string) (*parley.LoggingConfiguration, error) {
	c, err := loggingConfiguration(ctx, s.read(), sc, id, noLock)
	return c, s.wrap("LoggingConfiguration", err)
}

func (s *Store) CreateLoggingConfiguration(ctx context.Context, c *parley.LoggingConfiguration, max int) error {
	return s.wrap("CreateLoggingConfiguration", s.tx(ctx, func(q querier) error {
		if err := q.lockScope(ctx, "logging", c.AccountID, c.Region); err != nil {
			return err
		}
		if err := quota(ctx, q, max, &parley.Error{Message: "logging configuration quota exceeded",
			Resource: &parley.Resource{Type: parley.ResourceLoggingConfiguration, ID: c.ID}},
			`SELECT count(*) FROM logging_configurations WHERE account_id = ? AND region = ?`, c.AccountID, c.Region); err != nil {
			return err
		}
		typ, name := destColumns(c.Destination)
		_, err := q.exec(ctx, `INSERT INTO logging_configurations (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.AccountID, c.Region, c.ID, c.Name, typ, name, tagsJSON(c.Tags), c.CreateTime.UnixMilli(), c.UpdateTime.UnixMilli())
		return err
	}))
}

func applyConfigUpdate(c *parley.LoggingConfiguration, u parley.LoggingConfigurationUpdate) {
	set(&c.Name, u.Name)
	set(&c.Destination, u.Destination)
	c.UpdateTime = u.UpdateTime
}

func (s *Store) UpdateLoggingConfiguration(ctx context.Context, sc parley.Scope, id string, u parley.LoggingConfigurationUpdate) (*parley.LoggingConfiguration, error) {
	return update(ctx, s, "UpdateLoggingConfiguration",
		func(q querier) (*parley.LoggingConfiguration, error) {
			return loggingConfiguration(ctx, q, sc, id, forUpdate)
		},
		func(c *parley.LoggingConfiguration) error { applyConfigUpdate(c, u); return nil },
		func(q querier, c *parley.LoggingConfiguration) error {
			typ, name := destColumns(c.Destination)
			_, err := q.exec(ctx, `UPDATE logging_configurations SET name = ?, dest_type = ?, dest_name = ?, update_time = ?
				WHERE account_id = ? AND region = ? AND id = ?`, c.Name, typ, name, c.UpdateTime.UnixMilli(), sc.AccountID, sc.Region, id)
			return err
		})
}

func (s *Store) DeleteLoggingConfiguration(ctx context.Context, sc parley.Scope, id string) error {
	// room_logging rows go with it (ON DELETE CASCADE): rooms are detached.
	n, err := rowsAffected(s.exec(ctx, `DELETE FROM logging_configurations WHERE account_id = ? AND region = ? AND id = ?`, sc.AccountID, sc.Region, id))
	if err == nil && n == 0 {
		err = configNotFound(id)
	}
	return s.wrap("DeleteLoggingConfiguration", err)
}

func (s *Store) ListLoggingConfigurations(ctx context.Context, sc parley.Scope, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
	configs, next, err := list(ctx, s.read(), scanConfig, `SELECT `+configColumns+` FROM logging_configurations WHERE account_id = ? AND region = ?`,
		[]any{sc.AccountID, sc.Region}, p, func(c *parley.LoggingConfiguration) pagetoken.Key {
			return pagetoken.Key{Time: c.CreateTime.UnixMilli(), ID: c.ID}
		})
	return configs, next, s.wrap("ListLoggingConfigurations", err)
}

// list runs a query of rows ordered by create_time and id, one page at a
// time, scanning each with scan; key is the position of an item.
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args []any, p parley.Page, key func(T) pagetoken.Key) ([]T, string, error) {
	if p.NextToken != "" {
		k, err := pagetoken.Decode(p.NextToken)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (create_time > ? OR (create_time = ? AND id > ?))`
		args = append(args, k.Time, k.Time, k.ID)
	}
	out, err := all(ctx, q, scan, query+` ORDER BY create_time, id LIMIT ?`, append(args, p.MaxResults+1)...)
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, p.MaxResults, func(v T) string { return pagetoken.Encode(key(v)) })
	return out, next, nil
}

// ---- tags, tokens, access keys and secrets

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

func tags(ctx context.Context, q querier, arn parley.ParsedARN, l lock) (map[string]string, error) {
	table, typ, ok := tagTable(arn)
	if !ok {
		return nil, parley.NotFound(parley.ResourceRoom, arn.ID, "resource %s not found", arn.ID)
	}
	raw, err := one(ctx, q, scanString, parley.NotFound(typ, arn.ID, "resource %s not found", arn.ID),
		`SELECT tags FROM `+table+` WHERE account_id = ? AND region = ? AND id = ?`+q.lock(l), arn.AccountID, arn.Region, arn.ID)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	return m, json.Unmarshal([]byte(raw), &m)
}

func (s *Store) Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error) {
	m, err := tags(ctx, s.read(), arn, noLock)
	return m, s.wrap("Tags", err)
}

func (s *Store) UpdateTags(ctx context.Context, arn parley.ParsedARN, set map[string]string, remove []string, max int) error {
	return s.wrap("UpdateTags", s.tx(ctx, func(q querier) error {
		m, err := tags(ctx, q, arn, forUpdate)
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
		_, err = q.exec(ctx, `UPDATE `+table+` SET tags = ? WHERE account_id = ? AND region = ? AND id = ?`, tagsJSON(m), arn.AccountID, arn.Region, arn.ID)
		return err
	}))
}

func (s *Store) ConsumeToken(ctx context.Context, t *parley.ChatToken, now time.Time) error {
	// The ban is read by the writer, in the spend's transaction: a
	// handshake then makes no read of its own, which on SQLite would start
	// a read transaction on a page cache every write has invalidated, on
	// a goroutine whose stack grows to hold SQLite's frames. And in the
	// spend's own statement: only a refused spend reads why it was.
	err := s.small(ctx, func(ctx context.Context, q querier) error {
		n, err := rowsAffected(q.exec(ctx, `INSERT INTO consumed_tokens (id, expires) SELECT ?, CAST(? AS BIGINT)
			WHERE NOT EXISTS (SELECT 1`+banOf+`) AND NOT EXISTS (SELECT 1`+banOf+`) ON CONFLICT DO NOTHING`,
			append([]any{t.ID, t.TokenExpires.UnixMilli()}, banArgs(t.Room, t.RoomID, t.UserID, now)...)...))
		if err != nil || n == 1 {
			return err
		}
		b, err := activeBan(ctx, q, t.Room, t.RoomID, t.UserID, now)
		switch {
		case err != nil:
			return err
		case b != nil:
			return b.Forbidden()
		}
		return parley.Errorf(parley.KindConflict, "chat token already used")
	})
	return s.wrap("ConsumeToken", err)
}

// purgeBatch is how many spent tokens one write of PurgeTokens removes.
const purgeBatch = 100

func (s *Store) PurgeTokens(ctx context.Context, now time.Time) error {
	// A batch at a time, each its own write: a node with many connections
	// spends tens of thousands of tokens a minute, and removing them in one
	// statement would hold every handshake and revocation behind it.
	for {
		n, err := rowsAffected(s.exec(ctx, `DELETE FROM consumed_tokens WHERE id IN
			(SELECT id FROM consumed_tokens WHERE expires < ? LIMIT ?)`, now.UnixMilli(), purgeBatch))
		if err != nil || n < purgeBatch {
			return s.wrap("PurgeTokens", err)
		}
	}
}

func (s *Store) PutAccessKey(ctx context.Context, k *parley.AccessKey) error {
	_, err := s.exec(ctx, `INSERT INTO access_keys (id, secret, account_id, create_time) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account_id = excluded.account_id`,
		k.ID, k.Secret, k.AccountID, k.CreateTime.UnixMilli())
	return s.wrap("PutAccessKey", err)
}

func scanKey(row scanner) (*parley.AccessKey, error) {
	var k parley.AccessKey
	var created int64
	if err := row.Scan(&k.ID, &k.Secret, &k.AccountID, &created); err != nil {
		return nil, err
	}
	k.CreateTime = time.UnixMilli(created).UTC()
	return &k, nil
}

func (s *Store) AccessKey(ctx context.Context, id string) (*parley.AccessKey, error) {
	k, err := one(ctx, s.read(), scanKey, parley.Errorf(parley.KindNotFound, "access key not found"),
		`SELECT id, secret, account_id, create_time FROM access_keys WHERE id = ?`, id)
	return k, s.wrap("AccessKey", err)
}

func (s *Store) AccessKeys(ctx context.Context) ([]*parley.AccessKey, error) {
	keys, err := all(ctx, s.read(), scanKey, `SELECT id, secret, account_id, create_time FROM access_keys ORDER BY create_time, id`)
	return keys, s.wrap("AccessKeys", err)
}

func (s *Store) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := s.tx(ctx, func(q querier) error {
		if err := q.lockScope(ctx, "secret", name); err != nil {
			return err
		}
		err := q.row(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if v, err = gen(); err != nil {
			return err
		}
		_, err = q.exec(ctx, `INSERT INTO secrets (name, value) VALUES (?, ?)`, name, v)
		return err
	})
	return v, s.wrap("Secret", err)
}
