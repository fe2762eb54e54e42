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

func scanConfig(row interface{ Scan(...any) error }) (*parley.LoggingConfiguration, error) {
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
	c.CreateTime = time.UnixMilli(created).UTC()
	c.UpdateTime = time.UnixMilli(updated).UTC()
	return &c, nil
}

func loggingConfiguration(ctx context.Context, q querier, s parley.Scope, id string) (*parley.LoggingConfiguration, error) {
	c, err := scanConfig(q.QueryRowContext(ctx, `SELECT `+configColumns+` FROM logging_configurations WHERE account_id = ? AND region = ? AND id = ?`,
		s.AccountID, s.Region, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.NotFound(parley.ResourceLoggingConfiguration, id, "logging configuration %s not found", id)
	}
	return c, err
}

func (s *Store) CreateLoggingConfiguration(ctx context.Context, c *parley.LoggingConfiguration, max int) error {
	return wrap("CreateLoggingConfiguration", s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM logging_configurations WHERE account_id = ? AND region = ?`, c.AccountID, c.Region).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return &parley.Error{Kind: parley.KindQuotaExceeded, Message: "logging configuration quota exceeded", Limit: max,
				Resource: &parley.Resource{Type: parley.ResourceLoggingConfiguration, ID: c.ID}}
		}
		typ, name := destColumns(c.Destination)
		_, err := tx.ExecContext(ctx, `INSERT INTO logging_configurations (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.AccountID, c.Region, c.ID, c.Name, typ, name, tagsJSON(c.Tags), c.CreateTime.UnixMilli(), c.UpdateTime.UnixMilli())
		return err
	}))
}

func (s *Store) LoggingConfiguration(ctx context.Context, sc parley.Scope, id string) (*parley.LoggingConfiguration, error) {
	c, err := loggingConfiguration(ctx, s.db, sc, id)
	return c, wrap("LoggingConfiguration", err)
}

func (s *Store) UpdateLoggingConfiguration(ctx context.Context, sc parley.Scope, id string, u parley.LoggingConfigurationUpdate) (*parley.LoggingConfiguration, error) {
	var out *parley.LoggingConfiguration
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := loggingConfiguration(ctx, tx, sc, id)
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
		if _, err := tx.ExecContext(ctx, `UPDATE logging_configurations SET name = ?, dest_type = ?, dest_name = ?, update_time = ?
			WHERE account_id = ? AND region = ? AND id = ?`, c.Name, typ, name, c.UpdateTime.UnixMilli(), sc.AccountID, sc.Region, id); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, wrap("UpdateLoggingConfiguration", err)
}

func (s *Store) DeleteLoggingConfiguration(ctx context.Context, sc parley.Scope, id string) error {
	return wrap("DeleteLoggingConfiguration", s.tx(ctx, func(tx *sql.Tx) error {
		// room_logging rows go with it (ON DELETE CASCADE): rooms are detached.
		res, err := tx.ExecContext(ctx, `DELETE FROM logging_configurations WHERE account_id = ? AND region = ? AND id = ?`, sc.AccountID, sc.Region, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return parley.NotFound(parley.ResourceLoggingConfiguration, id, "logging configuration %s not found", id)
		}
		return nil
	}))
}

func (s *Store) ListLoggingConfigurations(ctx context.Context, sc parley.Scope, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
	configs, next, err := s.listLoggingConfigurations(ctx, sc, p)
	return configs, next, wrap("ListLoggingConfigurations", err)
}

func (s *Store) listLoggingConfigurations(ctx context.Context, sc parley.Scope, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
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
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	configs := []*parley.LoggingConfiguration{}
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, "", err
		}
		configs = append(configs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var next string
	if len(configs) > p.MaxResults {
		configs = configs[:p.MaxResults]
		last := configs[len(configs)-1]
		next = pagetoken.Encode(pagetoken.Key{Time: last.CreateTime.UnixMilli(), ID: last.ID})
	}
	return configs, next, nil
}
