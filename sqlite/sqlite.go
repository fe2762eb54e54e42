// Package sqlite implements parley.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go, so the binary needs no C toolchain).
//
// The database runs in WAL mode with synchronous=FULL: a write is on disk
// before the call returns, so neither kill -9 nor a power cut loses an
// acknowledged write. Write transactions start with BEGIN IMMEDIATE so that
// concurrent writers queue on the busy timeout instead of failing on lock
// upgrade.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/parley-chat/parley"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrations embed.FS

// Store is a parley.Store on SQLite.
type Store struct {
	db *sql.DB
	// writer admits one write at a time from this process. SQLite has one
	// writer anyway; without this, concurrent writers wait in its busy
	// handler, which sleeps and retries with no order, so under a storm of
	// handshakes (each spends its token with a write) one could starve past
	// busy_timeout and fail with SQLITE_BUSY. Waiting here is in order and
	// gives up with the caller's context.
	writer chan struct{}
}

var _ parley.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := private(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, writer: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

// private makes the database files readable by their owner only: they hold
// access keys' secrets. SQLite creates the WAL and shared-memory files with
// the database file's mode, so creating that one 0600 covers all three;
// files left by older versions are narrowed as well.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)`); err != nil {
			return err
		}
		names, err := fs.Glob(migrations, "migration/*.sql")
		if err != nil {
			return err
		}
		sort.Strings(names)
		for _, name := range names {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, name); err != nil {
				return err
			}
		}
		return nil
	})
}

// tx runs fn in a write transaction, committing when it returns nil. The
// outbox entries of ctx (see parley.WithOutbox) and extra are appended in
// the same transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error, extra ...*parley.OutboxEntry) error {
	release, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := appendOutbox(ctx, tx, append(parley.OutboxFrom(ctx), extra...)); err != nil {
		return err
	}
	return tx.Commit()
}

// write waits for this process's turn to write; release ends it.
func (s *Store) write(ctx context.Context) (release func(), err error) {
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exec runs one write statement outside a transaction, in its turn.
func (s *Store) exec(ctx context.Context, query string, args ...any) error {
	release, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.db.ExecContext(ctx, query, args...)
	return err
}

// wrap turns driver errors into parley errors: *parley.Error passes through,
// a primary-key clash becomes KindConflict, anything else KindInternal.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	var se *sqlite3.Error
	if errors.As(err, &se) && (se.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE) {
		return &parley.Error{Kind: parley.KindConflict, Op: op, Message: "resource already exists", Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &parley.Error{Kind: parley.KindUnavailable, Op: op, Message: "request cancelled", Err: err}
	}
	return parley.Internal("sqlite."+op, err)
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }
