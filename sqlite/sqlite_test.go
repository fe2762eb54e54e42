package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// Ensure the file gives space back: after old audit records are expired and
// the store compacted, the database and its write-ahead log are smaller.
func TestCompactShrinksFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := mustOpen(t, path)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	detail := strings.Repeat("x", 2000)
	for i := range 2000 {
		if err := s.AppendAudit(ctx, &parley.AuditRecord{ID: fmt.Sprint(i), Time: t0, AwsAccountID: "123456789012", Action: "DisconnectUser",
			Detail: detail, Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Compact(ctx); err != nil { // the log emptied into the file
		t.Fatal(err)
	}
	full := size(t, path)
	n, err := s.ExpireAudit(ctx, t0.Add(time.Hour), 5000, func([]*parley.AuditRecord) error { return nil })
	if err != nil || n != 2000 {
		t.Fatalf("ExpireAudit: %d, %v", n, err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if after := size(t, path); after > full/4 {
		t.Fatalf("database and log %d bytes after compaction, %d before: not given back", after, full)
	}
}

// size is the database file's size with its write-ahead log.
func size(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
