// Package postgres is the PostgreSQL dialect of the SQL store (package
// sqlstore): parley.Store on PostgreSQL through pgx, for several parley
// nodes sharing one database.
//
// Migrations run under an advisory lock, so nodes starting at once apply
// each exactly once. Read-modify-write methods lock the row they change
// (SELECT … FOR UPDATE); quota checks take a transaction-scoped advisory
// lock on the scope they count, so two nodes cannot both pass a quota with
// one slot left.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"text/template"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
)

// migrationLock is the advisory lock key that serialises migrations.
const migrationLock = 0x7061726c6579 // "parley"

// Open connects to dsn (a postgres:// URL or key=value string) and migrates
// the schema. schema (or a search_path parameter of dsn), if not empty, is
// created if needed and used as the search path: tests use one schema each.
func Open(ctx context.Context, dsn, schema string) (*sqlstore.Store, error) {
	// Parsed as a pool's configuration, so that dsn keeps its pool_*
	// parameters and the pool its sizes.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if schema == "" {
		schema = cfg.ConnConfig.RuntimeParams["search_path"] // ?search_path=… in the URL
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(int(cfg.MaxConns)) // pool_max_conns, by default max(4, the number of CPUs)
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	s, err := sqlstore.Open(ctx, db, sqlstore.Dialect{
		Name:      "postgres",
		Numbered:  true,
		ForUpdate: ` FOR UPDATE`,
		ForShare:  ` FOR SHARE`,
		ScopeLock: `SELECT pg_advisory_xact_lock(?)`,
		// The database's clock, the one clock every node agrees on.
		Now: `(extract(epoch from clock_timestamp()) * 1000)::bigint`,
		Schema: template.FuncMap{
			"serial":   func() string { return "BIGSERIAL PRIMARY KEY" },
			"blob":     func() string { return "BYTEA" },
			"jsonText": func(col, field string) string { return "(" + col + "::json ->> '" + field + "')" },
		},
		Legacy:   legacy,
		Classify: classify,
		Migrate: func(ctx context.Context, conn *sql.Conn) (func(), error) {
			return migrate(ctx, conn, schema)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return s, nil
}

// legacy maps the migrations of the PostgreSQL store written before the
// SQL store was shared (one schema file, then one a change) to the shared
// ones. Its first schema already had chime_memberships.member_type.
var legacy = map[string][]string{
	"migration/0001_schema.sql": {"migration/0001_ivschat.sql", "migration/0002_chime.sql", "migration/0003_chime_rooms.sql", "migration/0007_member_type.sql"},
	"migration/0002_nodes.sql":  {"migration/0004_nodes.sql"},
	"migration/0003_bans.sql":   {"migration/0005_bans.sql"},
	"migration/0004_outbox.sql": {"migration/0006_outbox.sql"},
}

// migrate takes the migration lock and creates the schema, if one is
// named, under it: CREATE SCHEMA IF NOT EXISTS is not safe against another
// node running it at the same moment.
func migrate(ctx context.Context, conn *sql.Conn, schema string) (done func(), err error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, err
	}
	done = func() { conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock) }
	if schema != "" {
		if _, err := conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			done()
			return nil, fmt.Errorf("create schema: %w", err)
		}
	}
	return done, nil
}

// classify knows a unique violation (KindConflict) and a database that
// cannot be reached or failed before it did anything (KindUnavailable).
func classify(err error) (parley.Kind, string, bool) {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" { // unique_violation
		return parley.KindConflict, "resource already exists", true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return parley.KindUnavailable, "database unavailable", true
	}
	return 0, "", false
}
