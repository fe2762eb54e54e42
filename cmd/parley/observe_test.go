package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ivschat"
)

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// jsonLines returns the log records whose msg is msg.
func (b *logBuffer) jsonLines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// MustRunMainLogged is MustRunMain logging JSON to the returned buffer.
func MustRunMainLogged(t *testing.T, configure ...func(*Config)) (*Main, *logBuffer) {
	t.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = filepath.Join(t.TempDir(), "data")
	m.Config.AccessKeyID, m.Config.SecretAccessKey, m.Config.AccountID = testKeyID, testSecret, testAccount
	m.Config.ThrottleScale, m.Config.HandshakeRate, m.Config.LogFormat = 0, 0, "json"
	for _, f := range configure {
		f(&m.Config)
	}
	logs := &logBuffer{}
	m.Log = newLogger(logs, m.Config)
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m, logs
}

// Ensure refused handshakes are counted and logged by reason, with the
// per-address handshake rate among the reasons.
func TestHandshakeRefusalsObserved(t *testing.T) {
	m, logs := MustRunMainLogged(t, func(c *Config) { c.HandshakeRate, c.HandshakeBurst = 0.5, 4 })
	room := newRoom(t, m, nil)
	tok := token(t, m, room.Arn, "u")
	dial(t, m, tok)
	if _, status := dialStatus(t, m, tok); status != http.StatusUnauthorized {
		t.Fatalf("reused token: %d, want 401", status)
	}
	if _, status := dialStatus(t, m, "forged"); status != http.StatusUnauthorized {
		t.Fatalf("forged token: %d, want 401", status)
	}
	if _, status := dialPath(t, m, "/parley/v1/device", "forged"); status != http.StatusUnauthorized {
		t.Fatalf("forged session token: %d, want 401", status)
	}
	if _, status := dialStatus(t, m, "forged"); status != http.StatusTooManyRequests {
		t.Fatalf("5th handshake at a burst of 4: %d, want 429", status)
	}
	for reason, want := range map[string]float64{"chat_token_already_used": 1, "invalid_chat_token": 1, "invalid_session_token": 1, "rate_limited": 1} {
		if got := metricValue(t, m, "parley_handshakes_refused_total", "reason", reason); got != want {
			t.Errorf("parley_handshakes_refused_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
	recs := logs.jsonLines(t, "handshake refused")
	if len(recs) != 4 {
		t.Fatalf("%d handshake refusals logged, want 4:\n%s", len(recs), logs)
	}
	if recs[0]["reason"] != "chat_token_already_used" || !strings.HasPrefix(recs[0]["remote_addr"].(string), "127.0.0.1:") {
		t.Fatalf("logged %v", recs[0])
	}
}

// Ensure a refused signature is logged with its reason, key ID and remote
// address, and counted by reason.
func TestSignatureRefusalsLogged(t *testing.T) {
	m, logs := MustRunMainLogged(t)
	IVSAs(m, "AKIANOBODY0000000000", testSecret, testRegion).ListRooms(ctx(), &ivschat.ListRoomsInput{})
	IVSAs(m, testKeyID, "wrong", testRegion).ListRooms(ctx(), &ivschat.ListRoomsInput{})
	recs := logs.jsonLines(t, "signature refused")
	if len(recs) != 2 {
		t.Fatalf("%d refusals logged, want 2:\n%s", len(recs), logs)
	}
	if recs[0]["reason"] != "UnrecognizedClientException" || recs[0]["key_id"] != "AKIANOBODY0000000000" ||
		recs[1]["reason"] != "InvalidSignatureException" || recs[1]["key_id"] != testKeyID || !strings.HasPrefix(recs[1]["remote_addr"].(string), "127.0.0.1:") {
		t.Fatalf("logged %v", recs)
	}
	if strings.Contains(logs.String(), testSecret) {
		t.Fatal("the log holds the secret")
	}
	for reason, want := range map[string]float64{"UnrecognizedClientException": 1, "InvalidSignatureException": 1} {
		if got := metricValue(t, m, "parley_auth_refused_total", "reason", reason); got != want {
			t.Errorf("parley_auth_refused_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}

// Ensure the HTTP server's own errors (accept errors and the like) go to
// the structured log in the chosen format, not Go's plain-text logger.
func TestServerErrorsStructured(t *testing.T) {
	m, logs := MustRunMainLogged(t)
	m.http.ErrorLog.Printf("http: Accept error: %v; retrying in 5ms", "accept4: too many open files")
	if recs := logs.jsonLines(t, "http: Accept error: accept4: too many open files; retrying in 5ms"); len(recs) != 1 || recs[0]["level"] != "WARN" {
		t.Fatalf("accept error logged as %v:\n%s", recs, logs)
	}
}
