// Package testenv finds the outside programs and services that some tests
// need. A test that lacks one skips, and says so, unless
// PARLEY_TEST_REQUIRE_BACKENDS=1 (set by CI), where it fails instead: in CI
// nothing can be silently skipped.
package testenv

import (
	"context"
	"crypto/rand"
	"strings"

	"github.com/jackc/pgx/v5"
	"net"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Required reports whether missing backends fail tests instead of skipping them.
func Required() bool { return os.Getenv("PARLEY_TEST_REQUIRE_BACKENDS") == "1" }

// Unavailable skips t, or fails it when backends are required.
func Unavailable(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (PARLEY_TEST_REQUIRE_BACKENDS=1) but unavailable", what)
	}
	t.Skipf("SKIPPED: %s unavailable", what)
}

// AWSCLI returns the path of the AWS CLI: $PARLEY_AWS_CLI, else Debian's
// /usr/bin/aws, else aws on PATH.
func AWSCLI(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PARLEY_AWS_CLI"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws"
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		Unavailable(t, "the AWS CLI (apt-get install awscli)")
	}
	return p
}

// PostgresDSN returns the PostgreSQL server tests may use:
// $PARLEY_TEST_POSTGRES_DSN, else the local default
// postgres://postgres@127.0.0.1:5432/test, if it answers.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("PARLEY_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	if !reachable(t, dsn, "127.0.0.1:5432") {
		Unavailable(t, "PostgreSQL at "+dsn)
	}
	return dsn
}

// NATSURL returns the NATS server tests may use: $PARLEY_TEST_NATS_URL,
// else nats://127.0.0.1:4222, if it answers.
func NATSURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	if !reachable(t, u, "127.0.0.1:4222") {
		Unavailable(t, "NATS at "+u)
	}
	return u
}

// reachable dials the host of a URL (fallback when it has none).
func reachable(t testing.TB, rawURL, fallback string) bool {
	host := fallback
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		host = u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), map[string]string{"postgres": "5432", "postgresql": "5432", "nats": "4222"}[u.Scheme])
		}
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// NATSServer starts an embedded nats-server on 127.0.0.1 for one test, on
// port (-1 for a free one), so the test can stop and restart it.
func NATSServer(t testing.TB, port int) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Listening reports whether something accepts connections at the host of rawURL.
func Listening(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// PostgresSchema returns the name of a fresh schema for one test's store on
// dsn, dropped with everything in it when the test ends (after cleanups
// registered later, such as closing the store).
func PostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	schema := "t_" + strings.ToLower(rand.Text()[:16])
	t.Cleanup(func() {
		if conn, err := pgx.Connect(context.Background(), dsn); err == nil {
			conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
			conn.Close(context.Background())
		}
	})
	return schema
}
