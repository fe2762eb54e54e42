// Package sqlite is the SQLite dialect of the SQL store (package sqlstore):
// parley.Store on an embedded SQLite database (modernc.org/sqlite, pure Go,
// so the binary needs no C toolchain).
//
// The database runs in WAL mode with synchronous=FULL: a write is on disk
// before the call returns, so neither kill -9 nor a power cut loses an
// acknowledged write. Writes are serialised: one at a time from this
// process, in the order they asked, and write transactions start with
// BEGIN IMMEDIATE so that another process's writers queue on the busy
// timeout instead of failing on lock upgrade. Hence no row or scope locks.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"text/template"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

// Open opens (creating if needed) the database file at path and migrates it.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
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
	// Readers run in parallel under WAL, and a write holds one connection
	// (the others wait for their turn without one). Idle connections are
	// kept, not closed: each new one runs the pragmas again.
	n := max(4, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := incremental(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s, err := sqlstore.Open(ctx, db, dialect(db))
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

// dialect is SQLite's dialect of the store on db.
func dialect(db *sql.DB) sqlstore.Dialect {
	// writer admits one write at a time from this process. SQLite has one
	// writer anyway; without this, concurrent writers wait in its busy
	// handler, which sleeps and retries with no order, so under a storm of
	// handshakes (each spends its token with a write) one could starve past
	// busy_timeout and fail with SQLITE_BUSY. Waiting here is in order and
	// gives up with the caller's context.
	writer := make(chan struct{}, 1)
	write := func(ctx context.Context) (func(), error) {
		select {
		case writer <- struct{}{}:
			return func() { <-writer }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return sqlstore.Dialect{
		Name: "sqlite",
		// The store's clock. SQLite is embedded, so every node that shares
		// the file runs on this machine's clock.
		Now: `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`,
		Schema: template.FuncMap{
			"serial":   func() string { return "INTEGER PRIMARY KEY AUTOINCREMENT" },
			"blob":     func() string { return "BLOB" },
			"jsonText": func(col, field string) string { return "json_extract(" + col + ", '$." + field + "')" },
		},
		Classify: classify,
		// Each commit is a sync to disk: small writes share one.
		GroupCommit: true,
		Compact:     func(ctx context.Context) error { return compact(ctx, db, write) },
		Write:       write,
	}
}

// vacuumStep is how many free pages (of 4 KiB) one write gives back.
const vacuumStep = 256

// compact gives free pages back to the file system, then empties the
// write-ahead log into the database and truncates it. Each step takes its
// own turn to write: the pages freed by a minute of expired audit records
// and spent tokens take tens of milliseconds to give back, and every
// handshake and revocation would wait for them all at once.
func compact(ctx context.Context, db *sql.DB, write func(context.Context) (func(), error)) error {
	step := func(stmt string) error {
		release, err := write(ctx)
		if err != nil {
			return err
		}
		defer release()
		_, err = db.ExecContext(ctx, stmt)
		return err
	}
	for last := -1; ; {
		var free int
		if err := db.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return err
		}
		if free == 0 || free == last { // none left, or none could go
			break
		}
		last = free
		if err := step(fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, vacuumStep)); err != nil {
			return err
		}
	}
	return step(`PRAGMA wal_checkpoint(TRUNCATE)`)
}

// incremental makes the database give space back on Compact. The mode is
// set, and takes effect with a VACUUM: at once for a new file, and for a
// file made by an older version, once, by rewriting it. (Not a pragma of
// the connection string: setting it takes the write lock, which a
// connection opened during a write would wait for.)
func incremental(ctx context.Context, db *sql.DB) error {
	var mode int
	if err := db.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return err
	}
	if mode == 2 { // incremental
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `VACUUM`)
	return err
}

// classify knows one error: a primary-key or unique clash, KindConflict.
func classify(err error) (parley.Kind, string, bool) {
	var se *sqlite3.Error
	if errors.As(err, &se) && (se.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE) {
		return parley.KindConflict, "resource already exists", true
	}
	return 0, "", false
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
