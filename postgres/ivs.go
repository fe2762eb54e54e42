package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pagetoken"
)

// rebind turns ? placeholders into $1, $2, … so queries read as in the SQLite store.
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

const roomColumns = `r.account_id, r.region, r.id, r.name, r.max_rate, r.max_length, r.review_uri, r.review_fallback, r.tags, r.create_time, r.update_time,
	coalesce((SELECT string_agg(config_id, ',' ORDER BY position) FROM room_logging l
		WHERE l.account_id = r.account_id AND l.region = r.region AND l.room_id = r.id), '')`

func scanRoom(row pgx.Row) (*parley.Room, error) {
	var (
		r                parley.Room
		uri, fallback    *string
		tags, configs    string
		created, updated int64
	)
	if err := row.Scan(&r.AccountID, &r.Region, &r.ID, &r.Name, &r.MaximumMessageRate, &r.MaximumMessageLength,
		&uri, &fallback, &tags, &created, &updated, &configs); err != nil {
		return nil, err
	}
	if uri != nil {
		r.MessageReviewHandler = &parley.MessageReviewHandler{URI: *uri, FallbackResult: parley.ReviewResult(deref(fallback))}
	}
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return nil, err
	}
	r.LoggingConfigurationIDs = split(configs)
	r.CreateTime, r.UpdateTime = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func reviewColumns(h *parley.MessageReviewHandler) (uri, fallback *string) {
	if h == nil {
		return nil, nil
	}
	f := string(h.FallbackResult)
	return &h.URI, &f
}

func tagsJSON(tags map[string]string) string {
	if tags == nil {
		tags = map[string]string{}
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

func setRoomLogging(ctx context.Context, tx pgx.Tx, s parley.Scope, roomID string, ids []string) error {
	if _, err := tx.Exec(ctx, rebind(`DELETE FROM room_logging WHERE account_id = ? AND region = ? AND room_id = ?`), s.AccountID, s.Region, roomID); err != nil {
		return err
	}
	for i, id := range ids {
		if _, err := loggingConfiguration(ctx, tx, s, id, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, rebind(`INSERT INTO room_logging (account_id, region, room_id, config_id, position) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			s.AccountID, s.Region, roomID, id, i); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) CreateRoom(ctx context.Context, r *parley.Room, maxRooms int) error {
	return wrap("CreateRoom", s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockScope(ctx, tx, "rooms", r.AccountID, r.Region); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, rebind(`SELECT count(*) FROM rooms WHERE account_id = ? AND region = ?`), r.AccountID, r.Region).Scan(&n); err != nil {
			return err
		}
		if n >= maxRooms {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "room quota exceeded", Limit: maxRooms, Resource: &parley.Resource{Type: parley.ResourceRoom, ID: r.ID}}
		}
		uri, fallback := reviewColumns(r.MessageReviewHandler)
		if _, err := tx.Exec(ctx, rebind(`INSERT INTO rooms (account_id, region, id, name, max_rate, max_length, review_uri, review_fallback, tags, create_time, update_time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), r.AccountID, r.Region, r.ID, r.Name, r.MaximumMessageRate, r.MaximumMessageLength, uri, fallback,
			tagsJSON(r.Tags), r.CreateTime.UnixMilli(), r.UpdateTime.UnixMilli()); err != nil {
			return err
		}
		return setRoomLogging(ctx, tx, r.Scope, r.ID, r.LoggingConfigurationIDs)
	}))
}

func room(ctx context.Context, q querier, s parley.Scope, id string, lock bool) (*parley.Room, error) {
	query := `SELECT ` + roomColumns + ` FROM rooms r WHERE r.account_id = ? AND r.region = ? AND r.id = ?`
	if lock {
		query += ` FOR UPDATE`
	}
	r, err := scanRoom(q.QueryRow(ctx, rebind(query), s.AccountID, s.Region, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
	}
	return r, err
}

func (s *Store) Room(ctx context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	r, err := room(ctx, s.pool, sc, id, false)
	return r, wrap("Room", err)
}

func (s *Store) UpdateRoom(ctx context.Context, sc parley.Scope, id string, u parley.RoomUpdate) (*parley.Room, error) {
	var out *parley.Room
	err := s.tx(ctx, func(tx pgx.Tx) error {
		r, err := room(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if u.Name != nil {
			r.Name = *u.Name
		}
		if u.MaximumMessageRate != nil {
			r.MaximumMessageRate = *u.MaximumMessageRate
		}
		if u.MaximumMessageLength != nil {
			r.MaximumMessageLength = *u.MaximumMessageLength
		}
		if u.MessageReviewHandler != nil {
			r.MessageReviewHandler = *u.MessageReviewHandler
		}
		r.UpdateTime = u.UpdateTime
		uri, fallback := reviewColumns(r.MessageReviewHandler)
		if _, err := tx.Exec(ctx, rebind(`UPDATE rooms SET name = ?, max_rate = ?, max_length = ?, review_uri = ?, review_fallback = ?, update_time = ?
			WHERE account_id = ? AND region = ? AND id = ?`), r.Name, r.MaximumMessageRate, r.MaximumMessageLength, uri, fallback, r.UpdateTime.UnixMilli(),
			sc.AccountID, sc.Region, id); err != nil {
			return err
		}
		if u.LoggingConfigurationIDs != nil {
			if err := setRoomLogging(ctx, tx, sc, id, *u.LoggingConfigurationIDs); err != nil {
				return err
			}
		}
		out, err = room(ctx, tx, sc, id, false)
		return err
	})
	return out, wrap("UpdateRoom", err)
}

func (s *Store) DeleteRoom(ctx context.Context, sc parley.Scope, id string) error {
	return wrap("DeleteRoom", s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, rebind(`DELETE FROM rooms WHERE account_id = ? AND region = ? AND id = ?`), sc.AccountID, sc.Region, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
		}
		_, err = tx.Exec(ctx, rebind(`DELETE FROM bans WHERE account_id = ? AND region = ? AND room_id = ?`), sc.AccountID, sc.Region, id)
		return err
	}))
}

func (s *Store) ListRooms(ctx context.Context, f parley.RoomFilter) ([]*parley.Room, string, error) {
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
		if _, err := loggingConfiguration(ctx, s.pool, f.Scope, f.LoggingConfigurationID, false); err != nil {
			return nil, "", wrap("ListRooms", err)
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
	query += ` ORDER BY r.update_time DESC, r.id DESC LIMIT ?`
	args = append(args, f.MaxResults+1)
	rows, err := s.pool.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, "", wrap("ListRooms", err)
	}
	defer rows.Close()
	rooms := []*parley.Room{}
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, "", wrap("ListRooms", err)
		}
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("ListRooms", err)
	}
	var next string
	if len(rooms) > f.MaxResults {
		rooms = rooms[:f.MaxResults]
		last := rooms[len(rooms)-1]
		next = pagetoken.Encode(pagetoken.Key{Time: last.UpdateTime.UnixMilli(), ID: last.ID})
	}
	return rooms, next, nil
}

const configColumns = `account_id, region, id, name, dest_type, dest_name, tags, create_time, update_time`

func scanConfig(row pgx.Row) (*parley.LoggingConfiguration, error) {
	var (
		c                parley.LoggingConfiguration
		typ, name, tags  string
		created, updated int64
	)
	if err := row.Scan(&c.AccountID, &c.Region, &c.ID, &c.Name, &typ, &name, &tags, &created, &updated); err != nil {
		return nil, err
	}
	switch typ {
	case "s3":
		c.Destination.S3Bucket = name
	case "cloudWatchLogs":
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

func destColumns(d parley.Destination) (typ, name string) {
	switch {
	case d.S3Bucket != "":
		return "s3", d.S3Bucket
	case d.CloudWatchLogGroup != "":
		return "cloudWatchLogs", d.CloudWatchLogGroup
	default:
		return "firehose", d.FirehoseStream
	}
}

func loggingConfiguration(ctx context.Context, q querier, s parley.Scope, id string, lock bool) (*parley.LoggingConfiguration, error) {
	query := `SELECT ` + configColumns + ` FROM logging_configurations WHERE account_id = ? AND region = ? AND id = ?`
	if lock {
		query += ` FOR SHARE`
	}
	c, err := scanConfig(q.QueryRow(ctx, rebind(query), s.AccountID, s.Region, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.NotFound(parley.ResourceLoggingConfiguration, id, "logging configuration %s not found", id)
	}
	return c, err
}

func (s *Store) CreateLoggingConfiguration(ctx context.Context, c *parley.LoggingConfiguration, max int) error {
	return wrap("CreateLoggingConfiguration", s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockScope(ctx, tx, "logging", c.AccountID, c.Region); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, rebind(`SELECT count(*) FROM logging_configurations WHERE account_id = ? AND region = ?`), c.AccountID, c.Region).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "logging configuration quota exceeded", Limit: max,
				Resource: &parley.Resource{Type: parley.ResourceLoggingConfiguration, ID: c.ID}}
		}
		typ, name := destColumns(c.Destination)
		_, err := tx.Exec(ctx, rebind(`INSERT INTO logging_configurations (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			c.AccountID, c.Region, c.ID, c.Name, typ, name, tagsJSON(c.Tags), c.CreateTime.UnixMilli(), c.UpdateTime.UnixMilli())
		return err
	}))
}

func (s *Store) LoggingConfiguration(ctx context.Context, sc parley.Scope, id string) (*parley.LoggingConfiguration, error) {
	c, err := loggingConfiguration(ctx, s.pool, sc, id, false)
	return c, wrap("LoggingConfiguration", err)
}

func (s *Store) UpdateLoggingConfiguration(ctx context.Context, sc parley.Scope, id string, u parley.LoggingConfigurationUpdate) (*parley.LoggingConfiguration, error) {
	var out *parley.LoggingConfiguration
	err := s.tx(ctx, func(tx pgx.Tx) error {
		c, err := scanConfig(tx.QueryRow(ctx, rebind(`SELECT `+configColumns+` FROM logging_configurations WHERE account_id = ? AND region = ? AND id = ? FOR UPDATE`),
			sc.AccountID, sc.Region, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.NotFound(parley.ResourceLoggingConfiguration, id, "logging configuration %s not found", id)
		}
		if err != nil {
			return err
		}
		if u.Name != nil {
			c.Name = *u.Name
		}
		if u.Destination != nil {
			c.Destination = *u.Destination
		}
		c.UpdateTime = u.UpdateTime
		typ, name := destColumns(c.Destination)
		_, err = tx.Exec(ctx, rebind(`UPDATE logging_configurations SET name = ?, dest_type = ?, dest_name = ?, update_time = ? WHERE account_id = ? AND region = ? AND id = ?`),
			c.Name, typ, name, c.UpdateTime.UnixMilli(), sc.AccountID, sc.Region, id)
		out = c
		return err
	})
	return out, wrap("UpdateLoggingConfiguration", err)
}

func (s *Store) DeleteLoggingConfiguration(ctx context.Context, sc parley.Scope, id string) error {
	tag, err := s.pool.Exec(ctx, rebind(`DELETE FROM logging_configurations WHERE account_id = ? AND region = ? AND id = ?`), sc.AccountID, sc.Region, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = parley.NotFound(parley.ResourceLoggingConfiguration, id, "logging configuration %s not found", id)
	}
	return wrap("DeleteLoggingConfiguration", err)
}

func (s *Store) ListLoggingConfigurations(ctx context.Context, sc parley.Scope, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
	query := `SELECT ` + configColumns + ` FROM logging_configurations WHERE account_id = ? AND region = ?`
	args := []any{sc.AccountID, sc.Region}
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
	rows, err := s.pool.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, "", wrap("ListLoggingConfigurations", err)
	}
	defer rows.Close()
	out := []*parley.LoggingConfiguration{}
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, "", wrap("ListLoggingConfigurations", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("ListLoggingConfigurations", err)
	}
	var next string
	if len(out) > p.MaxResults {
		out = out[:p.MaxResults]
		last := out[len(out)-1]
		next = pagetoken.Encode(pagetoken.Key{Time: last.CreateTime.UnixMilli(), ID: last.ID})
	}
	return out, next, nil
}

func tagTable(arn parley.ParsedARN) (string, parley.ResourceType, bool) {
	switch arn.Kind {
	case "room":
		return "rooms", parley.ResourceRoom, true
	case "logging-configuration":
		return "logging_configurations", parley.ResourceLoggingConfiguration, true
	}
	return "", "", false
}

func tags(ctx context.Context, q querier, arn parley.ParsedARN, lock bool) (map[string]string, error) {
	table, typ, ok := tagTable(arn)
	if !ok {
		return nil, parley.NotFound(parley.ResourceRoom, arn.ID, "resource %s not found", arn.ID)
	}
	query := `SELECT tags FROM ` + table + ` WHERE account_id = ? AND region = ? AND id = ?`
	if lock {
		query += ` FOR UPDATE`
	}
	var raw string
	err := q.QueryRow(ctx, rebind(query), arn.AccountID, arn.Region, arn.ID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.NotFound(typ, arn.ID, "resource %s not found", arn.ID)
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	return m, json.Unmarshal([]byte(raw), &m)
}

func (s *Store) Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error) {
	m, err := tags(ctx, s.pool, arn, false)
	return m, wrap("Tags", err)
}

func (s *Store) UpdateTags(ctx context.Context, arn parley.ParsedARN, set map[string]string, remove []string, max int) error {
	return wrap("UpdateTags", s.tx(ctx, func(tx pgx.Tx) error {
		m, err := tags(ctx, tx, arn, true)
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
		_, err = tx.Exec(ctx, rebind(`UPDATE `+table+` SET tags = ? WHERE account_id = ? AND region = ? AND id = ?`), tagsJSON(m), arn.AccountID, arn.Region, arn.ID)
		return err
	}))
}

func (s *Store) ConsumeToken(ctx context.Context, id string, expires time.Time) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO consumed_tokens (id, expires) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, expires.UnixMilli())
	if err == nil && tag.RowsAffected() == 0 {
		err = parley.Errorf(parley.KindConflict, "chat token already used")
	}
	return wrap("ConsumeToken", err)
}

func (s *Store) PurgeTokens(ctx context.Context, now time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM consumed_tokens WHERE expires < $1`, now.UnixMilli())
	return wrap("PurgeTokens", err)
}

func (s *Store) PutAccessKey(ctx context.Context, k *parley.AccessKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO access_keys (id, secret, account_id, create_time) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account_id = excluded.account_id`, k.ID, k.Secret, k.AccountID, k.CreateTime.UnixMilli())
	return wrap("PutAccessKey", err)
}

func scanKey(row pgx.Row) (*parley.AccessKey, error) {
	var k parley.AccessKey
	var created int64
	if err := row.Scan(&k.ID, &k.Secret, &k.AccountID, &created); err != nil {
		return nil, err
	}
	k.CreateTime = time.UnixMilli(created).UTC()
	return &k, nil
}

func (s *Store) AccessKey(ctx context.Context, id string) (*parley.AccessKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT id, secret, account_id, create_time FROM access_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.KindNotFound, "access key not found")
	}
	return k, wrap("AccessKey", err)
}

func (s *Store) AccessKeys(ctx context.Context) ([]*parley.AccessKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, secret, account_id, create_time FROM access_keys ORDER BY create_time, id`)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockScope(ctx, tx, "secret", name); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if v, err = gen(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2)`, name, v)
		return err
	})
	return v, wrap("Secret", err)
}
