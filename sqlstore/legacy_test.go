package sqlstore_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/sqlstore"
)

// Ensure a database made by the stores of before the shared one (commit
// 8d41d26: testdata/*-8d41d26.sql.gz holds its migrations, by the names it
// recorded, and rows as it wrote them) opens without re-running a
// migration, keeps its data and takes new writes; twice over.
func TestLegacy(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		legacy(t, db, "testdata/sqlite-8d41d26.sql.gz")
		checkLegacy(t, func() (*sqlstore.Store, error) { return sqlite.Open(context.Background(), path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.PostgresDSN(t)
		schema := testenv.PostgresSchema(t, dsn)
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["search_path"] = schema
		db := stdlib.OpenDB(*cfg)
		if _, err := db.Exec(`CREATE SCHEMA ` + pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		legacy(t, db, "testdata/postgres-8d41d26.sql.gz")
		checkLegacy(t, func() (*sqlstore.Store, error) { return postgres.Open(context.Background(), dsn, schema) })
	})
}

// legacy applies a fixture to db as the old stores did, and closes db.
func legacy(t *testing.T, db *sql.DB, fixture string) {
	t.Helper()
	defer db.Close()
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	body, data, _ := bytes.Cut(b, []byte("\n-- data\n"))
	for _, part := range strings.Split(string(body), "-- file: ")[1:] {
		name, sql, _ := strings.Cut(part, "\n")
		if _, err := db.Exec(sql); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations (version) VALUES ('` + name + `')`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(string(data)); err != nil {
		t.Fatalf("data: %v", err)
	}
}

func checkLegacy(t *testing.T, open func() (*sqlstore.Store, error)) {
	t.Helper()
	ctx := context.Background()
	sc := parley.Scope{AccountID: "123456789012", Region: "us-east-1"}
	for i := range 2 {
		s, err := open()
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		defer s.Close()
		if _, err := s.AccessKey(ctx, "AKIALEGACY"); err != nil {
			t.Errorf("AccessKey: %v", err)
		}
		r, err := s.Room(ctx, sc, "roomLegacy")
		if err != nil {
			t.Fatalf("Room: %v", err)
		}
		if got, want := r.LoggingConfigurationIDs, []string{"cfgLegacy"}; !slices.Equal(got, want) {
			t.Errorf("Room.LoggingConfigurationIDs = %v, want %v", got, want)
		}
		if got, want := r.Tags["team"], "blue"; got != want {
			t.Errorf("Room.Tags[team] = %q, want %q", got, want)
		}
		if _, err := s.ActiveBan(ctx, sc, "roomLegacy", "mallory", time.Now()); err != nil {
			t.Errorf("ActiveBan: %v", err)
		}
		room := parley.ChimeAccountKey{AWS: "123456789012", Account: "acct-legacy"}.Room("croom-legacy")
		// SQLite's memberships had no member_type column: migration 0007 fills it from data.
		for typ, want := range map[string]string{parley.MemberBot: "bot-legacy", parley.MemberUser: "user-legacy"} {
			if got, err := s.RoomMembers(ctx, room, typ); err != nil || !slices.Equal(got, []string{want}) {
				t.Errorf("RoomMembers(%s) = %v, %v; want [%s]", typ, got, err, want)
			}
		}
		if p, err := s.PendingOutbox(ctx, "node-new"); err != nil || len(p) == 0 || p[0].ID != "cmd-legacy" || string(p[0].Command) != "{}" {
			t.Errorf("PendingOutbox = %v, %v; want cmd-legacy", p, err)
		}
		// New writes, with sequences that continue the old ones.
		m := &parley.ChimeMessage{AwsAccountID: "123456789012", AccountID: "acct-legacy", RoomID: "croom-legacy", MessageID: parley.NewID(), CreateTime: time.UnixMilli(1700000000000 + int64(i)).UTC()}
		if err := s.AppendMessage(ctx, m); err != nil {
			t.Fatalf("AppendMessage: %v", err)
		}
		if msgs, err := s.Messages(ctx, room, time.Time{}, 10); err != nil || len(msgs) != i+2 || msgs[i+1].MessageID != m.MessageID {
			t.Errorf("Messages = %d messages, %v; want %d, the new one last", len(msgs), err, i+2)
		}
		if err := s.AppendAudit(ctx, &parley.AuditRecord{ID: parley.NewID(), AwsAccountID: "123456789012", Time: time.Now()}); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		if recs, _, err := s.ListAudit(ctx, "123456789012", parley.Page{MaxResults: 10}); err != nil || len(recs) != i+2 || recs[0].ID != "audit-1" {
			t.Errorf("ListAudit = %d records, %v; want %d, audit-1 first", len(recs), err, i+2)
		}
		if err := s.CreateRoom(ctx, &parley.Room{Scope: sc, ID: parley.NewID(), Name: "new"}, 100); err != nil {
			t.Errorf("CreateRoom: %v", err)
		}
		if err := s.Heartbeat(ctx, "node-new", false); err != nil {
			t.Errorf("Heartbeat: %v", err)
		}
		s.Close()
	}
}
