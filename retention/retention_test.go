package retention_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/retention"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/sqlstore"
)

type clock struct{ t time.Time }

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// open returns a store on a new SQLite file, closed with t.
func open(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func (c *clock) Now() time.Time { return c.t }

// Ensure a pass exports then removes the audit records past the
// retention, keeps the others, and drops expired spent tokens only.
func TestPass(t *testing.T) {
	ctx, st := context.Background(), open(t)
	for i, age := range []time.Duration{100 * 24 * time.Hour, 91 * 24 * time.Hour, 89 * 24 * time.Hour, time.Minute} {
		r := &parley.AuditRecord{ID: string(rune('a' + i)), Time: now.Add(-age), AwsAccountID: "123456789012", Action: "DisconnectUser", Result: "ok"}
		if err := st.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ConsumeToken(ctx, &parley.ChatToken{ID: "expired", TokenExpires: now.Add(-time.Second)}, now); err != nil {
		t.Fatal(err)
	}
	if err := st.ConsumeToken(ctx, &parley.ChatToken{ID: "live", TokenExpires: now.Add(time.Minute)}, now); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "export")
	k := retention.New(st, retention.Config{Audit: 90 * 24 * time.Hour, ExportDir: dir}, &clock{now}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := k.Pass(ctx); err != nil {
		t.Fatal(err)
	}

	left, _, err := st.ListAudit(ctx, "123456789012", parley.Page{MaxResults: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].ID != "c" || left[1].ID != "d" {
		t.Fatalf("kept %v, want the records younger than 90 days (c, d)", ids(left))
	}
	f, err := os.Open(filepath.Join(dir, "audit-2026-11-30.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var exported []*parley.AuditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r parley.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		exported = append(exported, &r)
	}
	if len(exported) != 2 || exported[0].ID != "a" || exported[1].ID != "b" || exported[0].Action != "DisconnectUser" {
		t.Fatalf("exported %v, want a and b in full", ids(exported))
	}
	if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
	}

	// The expired spent token is gone (it could be spent again, if it could
	// still be presented); the live one is still spent.
	if err := st.ConsumeToken(ctx, &parley.ChatToken{ID: "expired", TokenExpires: now.Add(-time.Second)}, now); err != nil {
		t.Errorf("expired token after the pass: %v, want it forgotten", err)
	}
	if err := st.ConsumeToken(ctx, &parley.ChatToken{ID: "live", TokenExpires: now.Add(time.Minute)}, now); parley.KindOf(err) != parley.KindConflict {
		t.Errorf("live token after the pass: %v, want still spent", err)
	}
}

// Ensure a retention of zero keeps every record.
func TestKeepForever(t *testing.T) {
	ctx, st := context.Background(), open(t)
	if err := st.AppendAudit(ctx, &parley.AuditRecord{ID: "old", Time: now.AddDate(-5, 0, 0), AwsAccountID: "123456789012"}); err != nil {
		t.Fatal(err)
	}
	k := retention.New(st, retention.Config{}, &clock{now}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := k.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _, _ := st.ListAudit(ctx, "123456789012", parley.Page{MaxResults: 10}); len(left) != 1 {
		t.Fatalf("kept %d records with no retention, want 1", len(left))
	}
}

func ids(recs []*parley.AuditRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}
