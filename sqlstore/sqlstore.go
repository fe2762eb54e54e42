// Package sqlstore implements parley.Store once, over database/sql, for
// every SQL database a Dialect describes. Packages sqlite and postgres are
// its dialects: each owns its driver, its connection setup and what only
// its database does (SQLite's ordered writer, PostgreSQL's row and
// advisory locks).
//
// Queries are written once, with ? placeholders, and run through a
// querier, which rewrites them for the dialect; every statement of the
// store goes through it and through Store.tx or Store.exec, the places to
// hook statement caching or batching into.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/parley-chat/parley"
)

// Dialect is what sets one SQL database apart. A zero field means the
// database needs nothing there.
type Dialect struct {
	// Name prefixes the operation of internal errors ("sqlite.Room").
	Name string
	// Numbered placeholders: $1, $2, … where queries are written with ?.
	Numbered bool
	// ForUpdate and ForShare end a SELECT of a row the transaction will
	// change, or that must not change under it: "" where writes are
	// serialised anyway.
	ForUpdate, ForShare string
	// ScopeLock is a statement that takes a transaction-scoped lock on its
	// one argument, an int64 key of a scope, so that two writers cannot both
	// pass a quota check with one slot left; "" where writes are serialised.
	ScopeLock string
	// Now is an SQL expression of the store's clock in Unix milliseconds:
	// one clock for every node that shares the store.
	Now string
	// Schema holds the functions of the migrations' templates: serial (a
	// column clause of an ascending int64 primary key), blob (a byte
	// string type) and jsonText (a field of a JSON text column, as text).
	Schema template.FuncMap
	// Legacy maps the migration versions an older schema of this dialect
	// recorded to the migrations of this package each stands for.
	Legacy map[string][]string
	// Classify returns the kind of a driver error and its message:
	// KindConflict for a unique violation, KindUnavailable for a database
	// that cannot answer now; ok is false for any other error.
	Classify func(error) (kind parley.Kind, message string, ok bool)
	// Write, if not nil, waits for this process's turn to write; release
	// ends it. Every write transaction and statement takes a turn.
	Write func(ctx context.Context) (release func(), err error)
	// Migrate, if not nil, prepares conn for the migrations, holding off
	// every other process's until done is called.
	Migrate func(ctx context.Context, conn *sql.Conn) (done func(), err error)
	// GroupCommit, where each commit costs a sync of its own (SQLite),
	// makes small writes that arrive together share one transaction.
	GroupCommit bool
	// Compact, if not nil, gives the file system back the space of deleted
	// rows (SQLite: PRAGMA incremental_vacuum); nil where the database does
	// that itself (PostgreSQL's autovacuum).
	Compact func(ctx context.Context) error
}

// Store is a parley.Store on an SQL database.
type Store struct {
	db    *sql.DB
	d     *Dialect
	stmts *statements
	group *group // nil unless the dialect commits in groups
}

var _ parley.Store = (*Store)(nil)

// Open returns the store on db, migrating its schema first. The store
// owns db: Close closes it, and so does a failed Open.
func Open(ctx context.Context, db *sql.DB, d Dialect) (*Store, error) {
	s := &Store{db: db, d: &d, stmts: newStatements(db, &d)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if d.GroupCommit {
		s.group = startGroup(s)
	}
	return s, nil
}

// Close closes the database, once the writes waiting for a group commit
// are committed.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.stop()
	}
	s.stmts.close()
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

//go:embed migration/*.sql
var migrations embed.FS

// migrate applies the migrations the schema lacks, each in its own
// transaction, recording each in schema_migrations by file name. Versions
// an older schema recorded under other names (Dialect.Legacy) count as
// the migrations they stand for, and are recorded so.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if s.d.Migrate != nil {
		done, err := s.d.Migrate(ctx, conn)
		if err != nil {
			return err
		}
		defer done()
	}
	q := querier{r: conn, d: s.d}
	if _, err := q.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	applied, err := column(ctx, q, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	for _, v := range applied {
		for _, name := range s.d.Legacy[v] {
			if _, err := q.exec(ctx, `INSERT INTO schema_migrations (version) VALUES (?) ON CONFLICT DO NOTHING`, name); err != nil {
				return err
			}
			applied = append(applied, name)
		}
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if slices.Contains(applied, name) {
			continue
		}
		body, err := s.render(name)
		if err != nil {
			return err
		}
		if err := s.apply(ctx, conn, name, body); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// render returns the migration name in the dialect's SQL.
func (s *Store) render(name string) (string, error) {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return "", err
	}
	t, err := template.New(name).Funcs(s.d.Schema).Parse(string(body))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.Execute(&b, nil)
	return b.String(), err
}

func (s *Store) apply(ctx context.Context, conn *sql.Conn, name, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := querier{r: tx, d: s.d}
	if _, err := q.exec(ctx, body); err != nil {
		return err
	}
	if _, err := q.exec(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// runner is what the pool, a connection and a transaction offer.
type runner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier runs the store's statements, written with ? placeholders, on the
// pool or in a transaction, in the dialect's SQL, prepared once (when
// stmts is set) rather than parsed at every call.
type querier struct {
	r     runner
	d     *Dialect
	stmts *statements
	tx    *sql.Tx // r, when it is a transaction
}

func (q querier) sql(query string) string { return rebind(q.d, query) }

// rebind writes query, with ? placeholders, in the dialect's SQL.
func rebind(d *Dialect, query string) string {
	if !d.Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteString("$" + strconv.Itoa(n))
	}
	return b.String()
}

// stmt returns query prepared, for the pool or q's transaction, or nil to
// run it unprepared (migrations, and queries the cache has no room for).
func (q querier) stmt(ctx context.Context, query string) *sql.Stmt {
	if q.stmts == nil {
		return nil
	}
	st := q.stmts.get(ctx, query)
	if st != nil && q.tx != nil {
		return q.tx.StmtContext(ctx, st) // reuses the statement prepared on the transaction's connection
	}
	return st
}

func (q querier) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.r.ExecContext(ctx, q.sql(query), args...)
}

func (q querier) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.r.QueryContext(ctx, q.sql(query), args...)
}

func (q querier) row(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.r.QueryRowContext(ctx, q.sql(query), args...)
}

// lock modes of a SELECT in a transaction.
type lock int

const (
	noLock    lock = iota
	forShare       // the row must not change until the transaction ends
	forUpdate      // the transaction will change the row
)

// lock returns the clause that ends a SELECT locking its rows so.
func (q querier) lock(l lock) string {
	switch l {
	case forShare:
		return q.d.ForShare
	case forUpdate:
		return q.d.ForUpdate
	}
	return ""
}

// lockScope takes the dialect's quota lock on the scope named by parts.
func (q querier) lockScope(ctx context.Context, parts ...string) error {
	if q.d.ScopeLock == "" {
		return nil
	}
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	_, err := q.exec(ctx, q.d.ScopeLock, int64(h.Sum64()))
	return err
}

// read returns the querier of reads outside a transaction.
func (s *Store) read() querier { return querier{r: s.db, d: s.d, stmts: s.stmts} }

// in returns the querier of transaction tx.
func (s *Store) in(tx *sql.Tx) querier { return querier{r: tx, d: s.d, stmts: s.stmts, tx: tx} }

// tx runs fn in a write transaction, committing when it returns nil. The
// outbox entries of ctx (see parley.WithOutbox) and extra are appended in
// the same transaction.
func (s *Store) tx(ctx context.Context, fn func(querier) error, extra ...*parley.OutboxEntry) error {
	if s.d.Write != nil {
		release, err := s.d.Write(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := s.in(tx)
	if err := fn(q); err != nil {
		return err
	}
	if err := appendOutbox(ctx, q, append(parley.OutboxFrom(ctx), extra...)); err != nil {
		return err
	}
	return tx.Commit()
}

// exec runs one write statement, in a transaction only when ctx carries
// outbox entries to append with it.
func (s *Store) exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	err = s.alone(ctx, func(q querier) error {
		res, err = q.exec(ctx, query, args...)
		return err
	})
	return res, err
}

// alone runs fn, a write, with the outbox entries of ctx: in a transaction
// if there are any, else straight on the pool; in this process's turn to
// write either way.
func (s *Store) alone(ctx context.Context, fn func(querier) error) error {
	if len(parley.OutboxFrom(ctx)) > 0 {
		return s.tx(ctx, fn)
	}
	if s.d.Write != nil {
		release, err := s.d.Write(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	return fn(s.read())
}

// small runs one small write (an audit record, a token spend, an outbox
// entry or acknowledgement) with the outbox entries of ctx: in a group
// commit where the dialect has them, else alone. fn runs its statements
// with the context it is given: in a group commit, one the caller's
// cancellation does not reach, because SQLite rolls back the whole
// transaction when a write in it is interrupted, and that would fail
// every other caller's write in the group.
func (s *Store) small(ctx context.Context, fn func(context.Context, querier) error) error {
	if s.group != nil {
		return s.group.do(ctx, fn)
	}
	return s.alone(ctx, func(q querier) error { return fn(ctx, q) })
}

// wrap turns driver errors into parley errors: *parley.Error passes
// through, the dialect classifies what it knows, a cancelled context is
// KindUnavailable and anything else KindInternal.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	var (
		kind parley.Kind
		msg  string
		ok   bool
	)
	if s.d.Classify != nil {
		kind, msg, ok = s.d.Classify(err)
	}
	if ok && kind == parley.KindConflict {
		return &parley.Error{Kind: kind, Op: op, Message: msg, Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &parley.Error{Kind: parley.KindUnavailable, Op: op, Message: "request cancelled", Err: err}
	}
	if ok {
		return &parley.Error{Kind: kind, Op: op, Message: msg, Err: err}
	}
	return parley.Internal(s.d.Name+"."+op, err)
}

// rowsAffected returns how many rows a write changed, or err.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// placeholders returns n comma-separated placeholders, for an IN list.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
