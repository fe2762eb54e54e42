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

const roomColumns = `r.account_id, r.region, r.id, r.name, r.max_rate, r.max_length, r.review_uri, r.review_fallback, r.tags, r.create_time, r.update_time,
	coalesce((SELECT group_concat(config_id, ',') FROM (SELECT config_id FROM room_logging l
		WHERE l.account_id = r.account_id AND l.region = r.region AND l.room_id = r.id ORDER BY l.position)), '')`

func scanRoom(row interface{ Scan(...any) error }) (*parley.Room, error) {
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
	r.CreateTime = time.UnixMilli(created).UTC()
	r.UpdateTime = time.UnixMilli(updated).UTC()
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
	b, _ := json.Marshal(tags)
	return string(b)
}

// setRoomLogging replaces the room's logging configurations, checking that each exists.
func setRoomLogging(ctx context.Context, tx *sql.Tx, s parley.Scope, roomID string, ids []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM room_logging WHERE account_id = ? AND region = ? AND room_id = ?`, s.AccountID, s.Region, roomID); err != nil {
		return err
	}
	for i, id := range ids {
		if _, err := loggingConfiguration(ctx, tx, s, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO room_logging (account_id, region, room_id, config_id, position) VALUES (?, ?, ?, ?, ?)`,
			s.AccountID, s.Region, roomID, id, i); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) CreateRoom(ctx context.Context, r *parley.Room, maxRooms int) error {
	return wrap("CreateRoom", s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rooms WHERE account_id = ? AND region = ?`, r.AccountID, r.Region).Scan(&n); err != nil {
			return err
		}
		if n >= maxRooms {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "room quota exceeded", Limit: maxRooms,
				Resource: &parley.Resource{Type: parley.ResourceRoom, ID: r.ID}}
		}
		uri, fallback := reviewColumns(r.MessageReviewHandler)
		if _, err := tx.ExecContext(ctx, `INSERT INTO rooms (account_id, region, id, name, max_rate, max_length, review_uri, review_fallback, tags, create_time, update_time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.AccountID, r.Region, r.ID, r.Name, r.MaximumMessageRate, r.MaximumMessageLength, uri, fallback,
			tagsJSON(r.Tags), r.CreateTime.UnixMilli(), r.UpdateTime.UnixMilli()); err != nil {
			return err
		}
		return setRoomLogging(ctx, tx, r.Scope, r.ID, r.LoggingConfigurationIDs)
	}))
}

func room(ctx context.Context, q querier, s parley.Scope, id string) (*parley.Room, error) {
	r, err := scanRoom(q.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM rooms r WHERE r.account_id = ? AND r.region = ? AND r.id = ?`,
		s.AccountID, s.Region, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
	}
	return r, err
}

func (s *Store) Room(ctx context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	r, err := room(ctx, s.db, sc, id)
	return r, wrap("Room", err)
}

func (s *Store) UpdateRoom(ctx context.Context, sc parley.Scope, id string, u parley.RoomUpdate) (*parley.Room, error) {
	var out *parley.Room
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := room(ctx, tx, sc, id)
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
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET name = ?, max_rate = ?, max_length = ?, review_uri = ?, review_fallback = ?, update_time = ?
			WHERE account_id = ? AND region = ? AND id = ?`,
			r.Name, r.MaximumMessageRate, r.MaximumMessageLength, uri, fallback, r.UpdateTime.UnixMilli(), sc.AccountID, sc.Region, id); err != nil {
			return err
		}
		if u.LoggingConfigurationIDs != nil {
			if err := setRoomLogging(ctx, tx, sc, id, *u.LoggingConfigurationIDs); err != nil {
				return err
			}
		}
		out, err = room(ctx, tx, sc, id)
		return err
	})
	return out, wrap("UpdateRoom", err)
}

func (s *Store) DeleteRoom(ctx context.Context, sc parley.Scope, id string) error {
	return wrap("DeleteRoom", s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE account_id = ? AND region = ? AND id = ?`, sc.AccountID, sc.Region, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM bans WHERE account_id = ? AND region = ? AND room_id = ?`, sc.AccountID, sc.Region, id)
		return err
	}))
}

func (s *Store) ListRooms(ctx context.Context, f parley.RoomFilter) ([]*parley.Room, string, error) {
	rooms, next, err := s.listRooms(ctx, f)
	return rooms, next, wrap("ListRooms", err)
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
		if _, err := loggingConfiguration(ctx, s.db, f.Scope, f.LoggingConfigurationID); err != nil {
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
	query += ` ORDER BY r.update_time DESC, r.id DESC LIMIT ?`
	args = append(args, f.MaxResults+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	rooms := []*parley.Room{}
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, "", err
		}
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var next string
	if len(rooms) > f.MaxResults {
		rooms = rooms[:f.MaxResults]
		last := rooms[len(rooms)-1]
		next = pagetoken.Encode(pagetoken.Key{Time: last.UpdateTime.UnixMilli(), ID: last.ID})
	}
	return rooms, next, nil
}
