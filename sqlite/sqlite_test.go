package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/storetest"
)

func mustOpen(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "parley.db"))
	})
}

// Ensure a reopened database keeps its data and does not re-run migrations.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := mustOpen(t, path)
	k := &parley.AccessKey{ID: "AKIAREOPEN", Secret: "x", AccountID: "123456789012"}
	if err := s.PutAccessKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := mustOpen(t, path)
	if _, err := s2.AccessKey(context.Background(), k.ID); err != nil {
		t.Fatalf("AccessKey after reopen: %v", err)
	}
}
