package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/storetest"
)

// mustOpen opens a store in schema, closed after the test.
func mustOpen(t *testing.T, dsn, schema string) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// schemaName returns a fresh schema, dropped after the test.
func schemaName(t *testing.T, dsn string) string { return testenv.PostgresSchema(t, dsn) }

func TestStore(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	storetest.Run(t, func(t *testing.T) parley.Store { return mustOpen(t, dsn, schemaName(t, dsn)) })
}

// Ensure nodes starting at once on one database migrate it exactly once.
func TestConcurrentMigrations(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	schema := schemaName(t, dsn)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn, schema)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Open: %v", err)
	}
	s := mustOpen(t, dsn, schema)
	if err := s.PutAccessKey(context.Background(), &parley.AccessKey{ID: "k", Secret: "s", AccountID: "123456789012"}); err != nil {
		t.Fatal(err)
	}
}
