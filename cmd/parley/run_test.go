package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/webhook"
)

// Unit tests of the steps Main.Run takes, each on its own: no listener,
// no server.

// Ensure the embedded store is opened in the data directory, which is
// made private, even if it existed with a looser mode.
func TestOpenStoreSQLite(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(c.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := openStore(ctx(), c)
	if err != nil {
		t.Fatalf("openStore: %v", err)
	}
	defer s.Close()
	if err := s.Ping(ctx()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	fi, err := os.Stat(c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o700 {
		t.Fatalf("data directory mode %o, want 700", mode)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "parley.db")); err != nil {
		t.Fatalf("no parley.db in the data directory: %v", err)
	}
}

// Ensure a postgres:// store is opened as PostgreSQL, not in the data
// directory (here one that refuses connections, so opening fails).
func TestOpenStorePostgresSelected(t *testing.T) {
	for _, url := range []string{"postgres://parley@127.0.0.1:1/none?connect_timeout=1", "postgresql://parley@127.0.0.1:1/none?connect_timeout=1"} {
		c := DefaultConfig()
		c.Store = url
		c.DataDir = filepath.Join(t.TempDir(), "data")
		s, err := openStore(ctx(), c)
		if err == nil {
			s.Close()
			t.Fatalf("openStore(%s) opened a store", url)
		}
		if !strings.HasPrefix(err.Error(), "postgres:") {
			t.Fatalf("openStore(%s) = %v, want a postgres error", url, err)
		}
		if _, err := os.Stat(c.DataDir); !os.IsNotExist(err) {
			t.Fatalf("openStore(%s) made the data directory", url)
		}
	}
}

// Ensure "inmem" is the in-process bus and a nats:// URL is dialled.
func TestOpenBus(t *testing.T) {
	c := DefaultConfig()
	b, err := openBus(c, "node", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("openBus(inmem): %v", err)
	}
	if _, ok := b.(*inmem.Bus); !ok {
		t.Fatalf("openBus(inmem) = %T, want *inmem.Bus", b)
	}
	b.Close(ctx())
	c.Bus = "nats://127.0.0.1:1"
	if b, err := openBus(c, "node", slog.New(slog.DiscardHandler)); err == nil || !strings.HasPrefix(err.Error(), "natsbus:") {
		if b != nil {
			b.Close(ctx())
		}
		t.Fatalf("openBus(nats with nothing listening) err = %v, want a natsbus error", err)
	}
}

// Ensure the connection limit is the open-file limit less the reserve,
// at least 64, and that --max-connections overrides it (-1: none).
func TestConnectionLimit(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skip(err)
	}
	if rl.Cur > 1<<30 {
		if got := connectionLimit(256); got != 1<<20 {
			t.Fatalf("connectionLimit with an unlimited rlimit = %d, want %d", got, 1<<20)
		}
		return
	}
	if got, want := connectionLimit(10), max(int(rl.Cur)-10, 64); got != want {
		t.Fatalf("connectionLimit(10) = %d, want %d (open-file limit %d)", got, want, rl.Cur)
	}
	if got := connectionLimit(int(rl.Cur)); got != 64 {
		t.Fatalf("connectionLimit(the whole limit) = %d, want 64", got)
	}
	c := DefaultConfig()
	if got, want := c.maxConnections(), connectionLimit(c.FileReserve); got != want {
		t.Fatalf("maxConnections() with 0 = %d, want %d", got, want)
	}
	for _, n := range []int{-1, 1, 500} {
		c.MaxConnections = n
		if got := c.maxConnections(); got != n {
			t.Fatalf("maxConnections() with %d = %d", n, got)
		}
	}
}

// memStore opens a store in a temporary directory.
func memStore(t *testing.T) Store {
	t.Helper()
	c := DefaultConfig()
	c.DataDir = t.TempDir()
	s, err := openStore(ctx(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Ensure the configured key is stored (and kept in its account), that a
// key is generated only when the store has none, and that a configured key
// of another account or without a secret is refused.
func TestEnsureKey(t *testing.T) {
	clock := parley.SystemClock{}
	t.Run("Generated", func(t *testing.T) {
		s := memStore(t)
		c := DefaultConfig()
		k, err := ensureKey(ctx(), s, c, clock)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.ID, "AKIA") || len(k.Secret) != 40 || len(k.AccountID) != 12 {
			t.Fatalf("generated key %+v", k)
		}
		again, err := ensureKey(ctx(), s, c, clock)
		if err != nil || again.ID != k.ID || again.Secret != k.Secret {
			t.Fatalf("second start: %+v, %v; want the stored key %s", again, err, k.ID)
		}
	})
	t.Run("GeneratedInAccount", func(t *testing.T) {
		c := DefaultConfig()
		c.AccountID = "111122223333"
		k, err := ensureKey(ctx(), memStore(t), c, clock)
		if err != nil || k.AccountID != "111122223333" {
			t.Fatalf("key %+v, %v; want account 111122223333", k, err)
		}
	})
	t.Run("Configured", func(t *testing.T) {
		s := memStore(t)
		c := DefaultConfig()
		c.AccessKeyID, c.SecretAccessKey = testKeyID, testSecret
		k, err := ensureKey(ctx(), s, c, clock)
		if err != nil || k.ID != testKeyID || k.AccountID != "123456789012" {
			t.Fatalf("key %+v, %v; want %s in the default account", k, err, testKeyID)
		}
		stored, err := s.AccessKey(ctx(), testKeyID)
		if err != nil || stored.Secret != testSecret {
			t.Fatalf("stored key %+v, %v", stored, err)
		}
		c.AccountID = "111122223333"
		if _, err := ensureKey(ctx(), s, c, clock); err == nil || !strings.Contains(err.Error(), "--replace") {
			t.Fatalf("the key in another account: err = %v, want a refusal naming --replace", err)
		}
	})
	// A new secret for a stored key is told to the running nodes through
	// the outbox, written with it; the same secret again is no change.
	t.Run("ConfiguredNewSecret", func(t *testing.T) {
		s := memStore(t)
		c := DefaultConfig()
		c.AccessKeyID, c.SecretAccessKey = testKeyID, testSecret
		told := func() []string {
			t.Helper()
			entries, err := s.PendingOutbox(ctx(), "observer")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range entries {
				var cmd parley.Command
				json.Unmarshal(e.Command, &cmd)
				out = append(out, string(cmd.Op)+" "+cmd.AccessKey)
			}
			return out
		}
		for range 2 {
			if _, err := ensureKey(ctx(), s, c, clock); err != nil {
				t.Fatal(err)
			}
		}
		if got := told(); len(got) != 0 {
			t.Fatalf("commands for a key stored with the same secret: %v", got)
		}
		c.SecretAccessKey = "a-new-secret"
		if _, err := ensureKey(ctx(), s, c, clock); err != nil {
			t.Fatal(err)
		}
		if got := told(); len(got) != 1 || got[0] != "AccessKeyChanged "+testKeyID {
			t.Fatalf("commands for a stored key given a new secret: %v, want AccessKeyChanged %s", got, testKeyID)
		}
	})
	t.Run("ConfiguredWithoutSecret", func(t *testing.T) {
		c := DefaultConfig()
		c.AccessKeyID = testKeyID
		if _, err := ensureKey(ctx(), memStore(t), c, clock); err == nil {
			t.Fatal("a configured key without a secret was stored")
		}
	})
}

// Ensure the chat token key is made once and kept, so tokens survive a restart.
func TestTokenSealer(t *testing.T) {
	s := memStore(t)
	a, err := tokenSealer(ctx(), s)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Seal(&parley.ChatToken{ID: "t", RoomID: "r", UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tokenSealer(ctx(), s)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := b.Open(tok); err != nil || g.UserID != "u" {
		t.Fatalf("a token sealed before the restart: %+v, %v", g, err)
	}
}

// Ensure configure validates, reads the secret file, and warns about
// settings that weaken security.
func TestConfigure(t *testing.T) {
	var buf bytes.Buffer
	m := NewMain()
	m.Log = slog.New(slog.NewTextHandler(&buf, nil))
	m.Config.Bus = "carrier-pigeon"
	if err := m.configure(); err == nil || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Fatalf("configure with a bad bus: %v", err)
	}

	buf.Reset()
	m = NewMain()
	m.Log = slog.New(slog.NewTextHandler(&buf, nil))
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte(testSecret+"\n"), 0o600)
	m.Config.AccessKeyID, m.Config.SecretAccessKeyFile = testKeyID, file
	if err := m.configure(); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if m.Config.SecretAccessKey != testSecret {
		t.Fatalf("secret read from the file = %q", m.Config.SecretAccessKey)
	}
	out := buf.String()
	if !strings.Contains(out, "starting parley") || !strings.Contains(out, "secret_access_key=(set)") || strings.Contains(out, testSecret) {
		t.Fatalf("configure logged:\n%s", out)
	}
	if strings.Contains(out, "WARN") {
		t.Fatalf("configure warned for a safe configuration:\n%s", out)
	}

	buf.Reset()
	m = NewMain()
	m.Log = slog.New(slog.NewTextHandler(&buf, nil))
	m.Config.AccessKeyID, m.Config.SecretAccessKey, m.Config.secretOnCommandLine = testKeyID, testSecret, true
	m.Config.InsecureDevAuth = true
	if err := m.configure(); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if out := buf.String(); !strings.Contains(out, "process list") || !strings.Contains(out, "INSECURE DEVELOPMENT MODE") {
		t.Fatalf("configure did not warn:\n%s", out)
	}
}

// Ensure the banner names the endpoints, region, account and key ID, but
// never the secret, and says when signatures are not verified.
func TestPrintBanner(t *testing.T) {
	m := NewMain()
	m.URL = "http://127.0.0.1:8080"
	m.Key = &parley.AccessKey{ID: testKeyID, Secret: testSecret, AccountID: testAccount}
	var buf bytes.Buffer
	m.printBanner(&buf)
	want := `parley is running (SigV4 signatures verified)
  endpoint URL:       http://127.0.0.1:8080
  WebSocket URL:      ws://127.0.0.1:8080
  region:             us-east-1
  AWS account ID:     123456789012
  access key ID:      AKIAPARLEYTEST000001
  secret access key:  (not shown: parley env prints it)
  data directory:     parley-data

Use it from a shell:  eval "$(go run ./cmd/parley env --data parley-data)"
`
	if got := buf.String(); got != want {
		t.Fatalf("banner:\n%s\nwant:\n%s", got, want)
	}
	m.Config.InsecureDevAuth = true
	buf.Reset()
	m.printBanner(&buf)
	if first, _, _ := strings.Cut(buf.String(), "\n"); first != "parley is running (INSECURE: any credentials accepted)" {
		t.Fatalf("insecure banner starts %q", first)
	}
}

// Ensure env prints exports a shell can eval, quoted, for the first key.
func TestEnvOutput(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx(), []string{"keys", "create", "--data", dir, "--account-id", testAccount}, &out, &out); err != nil {
		t.Fatalf("keys create: %v\n%s", err, out.String())
	}
	var keyID string
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "access key ID:"); ok {
			keyID = strings.TrimSpace(v)
		}
	}
	out.Reset()
	if err := run(ctx(), []string{"env", "--data", dir, "--region", "eu-west-1", "--addr", "127.0.0.1:9"}, &out, &out); err != nil {
		t.Fatalf("env: %v\n%s", err, out.String())
	}
	for _, want := range []string{"export AWS_ACCESS_KEY_ID='" + keyID + "'\n", "export AWS_REGION='eu-west-1'\n", "export AWS_DEFAULT_REGION='eu-west-1'\n",
		"export PARLEY_ENDPOINT='http://127.0.0.1:9'\n", "export PARLEY_ACCOUNT_ID='" + testAccount + "'\n", "export AWS_SECRET_ACCESS_KEY='"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("env printed:\n%s\nwant a line %q", out.String(), want)
		}
	}
	if err := run(ctx(), []string{"env", "--data", t.TempDir()}, &out, &out); err == nil || !strings.Contains(err.Error(), "no access keys") {
		t.Fatalf("env without keys: %v", err)
	}
}

// Ensure the service is built from the configuration.
func TestNewService(t *testing.T) {
	m := NewMain()
	m.Config.RoomQuota, m.Config.LoggingQuota, m.Config.TokenLifetime = 7, 3, 5*time.Minute
	m.Config.ChimeStrict, m.Config.SessionLifetime = true, time.Hour
	m.Store, m.Bus = memStore(t), inmem.New()
	m.chatLog = m.newChatLog()
	if want := filepath.Join(m.Config.DataDir, "chat-logs"); m.chatLog.Root != want {
		t.Fatalf("chat logs in %s, want %s", m.chatLog.Root, want)
	}
	lambdas := &webhook.Client{}
	svc := m.newService(nil, lambdas)
	if l := svc.Rooms.Limits; l.RoomsPerAccount != 7 || l.TokenLifetime != 5*time.Minute || svc.Logging.Limits.LoggingConfigurationsPerAccount != 3 {
		t.Fatalf("Limits = %+v, %+v", l, svc.Logging.Limits)
	}
	for _, o := range []service.ChimeOptions{svc.Accounts.Chime, svc.ChimeRooms.Chime} {
		if !o.Strict || o.SessionLifetime != time.Hour || o.Bots != lambdas {
			t.Fatalf("Chime = %+v", o)
		}
	}
	if svc.Rooms.Store != m.Store || svc.Rooms.Bus != m.Bus || svc.Rooms.ChatLog != m.chatLog || svc.Core.Clock != m.Clock {
		t.Fatal("the service does not use Main's store, bus, chat log and clock")
	}
	if svc.Rooms.Lookup != m.rooms || m.rooms == nil {
		t.Fatal("the rooms service does not read rooms through Main's cache")
	}
	m.Config.ChatLogDir = "/elsewhere"
	if got := m.newChatLog().Root; got != "/elsewhere" {
		t.Fatalf("chat logs in %s, want /elsewhere", got)
	}
}

// Ensure the logger takes the configured level and format.
func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	c := DefaultConfig()
	c.LogLevel, c.LogFormat = "warn", "json"
	log := newLogger(&buf, c)
	log.Info("hidden")
	log.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.HasPrefix(out, `{"time":`) || !strings.Contains(out, `"msg":"shown"`) {
		t.Fatalf("json logger at warn wrote %q", out)
	}
	buf.Reset()
	c.LogLevel, c.LogFormat = "nonsense", "text"
	log = newLogger(&buf, c)
	log.Debug("hidden")
	log.Info("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "level=INFO msg=shown") {
		t.Fatalf("text logger with a bad level wrote %q", out)
	}
}
