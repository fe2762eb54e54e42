// Package postgres implements parley.Store on PostgreSQL through pgx, for
// several parley nodes sharing one database.
//
// Migrations run under an advisory lock, so nodes starting at once apply
// each exactly once. Read-modify-write methods lock the row they change
// (SELECT … FOR UPDATE); quota checks take a transaction-scoped advisory
// lock on the scope they count, so two nodes cannot both pass a quota with
// one slot left.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parley-chat/parley"
)

//go:embed migration/*.sql
var migrations embed.FS

// Store is a parley.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

var _ parley.Store = (*Store)(nil)

// migrationLock is the advisory lock key that serialises migrations.
const migrationLock = 0x7061726c6579 // "parley"

// Open connects to dsn (a postgres:// URL or key=value string) and migrates
// the schema. schema (or a search_path parameter of dsn), if not empty, is
// created if needed and used as the search path: tests use one schema each.
func Open(ctx context.Context, dsn, schema string) (*Store, error) {
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
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx, schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// migrate creates the schema, if one is named, and applies the migrations
// it lacks, all under the migration lock: CREATE SCHEMA IF NOT EXISTS is not
// safe against another node running it at the same moment.
func (s *Store) migrate(ctx context.Context, schema string) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, name); err != nil {
			tx.Rollback(ctx)
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

// tx runs fn in a transaction, committing when it returns nil. The outbox
// entries of ctx (see parley.WithOutbox) and extra are appended in the same
// transaction.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error, extra ...*parley.OutboxEntry) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return appendOutbox(ctx, tx, append(parley.OutboxFrom(ctx), extra...))
	})
}

// lockScope takes a transaction-scoped advisory lock on key, serialising
// the quota checks of one scope across nodes.
func lockScope(ctx context.Context, tx pgx.Tx, parts ...string) error {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64()))
	return err
}

// wrap turns driver errors into parley errors by their SQLSTATE code.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" { // unique_violation
		return &parley.Error{Kind: parley.KindConflict, Op: op, Message: "resource already exists", Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &parley.Error{Kind: parley.KindUnavailable, Op: op, Message: "request cancelled", Err: err}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return &parley.Error{Kind: parley.KindUnavailable, Op: op, Message: "database unavailable", Err: err}
	}
	return parley.Internal("postgres."+op, err)
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}
