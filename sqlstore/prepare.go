package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxStatements bounds the prepared statements kept: queries with IN
// lists of every length would otherwise grow the cache without end.
const maxStatements = 512

// statements keeps the store's queries prepared. database/sql prepares a
// statement again on each connection that runs it, once, and keeps it
// there; a transaction reuses the one of its connection.
type statements struct {
	db *sql.DB
	d  *Dialect

	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStatements(db *sql.DB, d *Dialect) *statements {
	return &statements{db: db, d: d, m: map[string]*sql.Stmt{}}
}

// get returns query prepared, or nil if it cannot be (the caller runs it
// unprepared, and meets the error there).
func (c *statements) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	if ok {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m) >= maxStatements {
		return nil
	}
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), rebind(c.d, query))
	if err != nil {
		return nil
	}
	c.m[query] = st
	return st
}

func (c *statements) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}
