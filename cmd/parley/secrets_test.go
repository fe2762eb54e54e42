package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
)

// serveOutput runs the binary with args and env until its banner, and
// returns everything it printed (banner and logs) by then.
func serveOutput(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(parleyBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "debug"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	var mu sync.Mutex
	pr, pw, _ := os.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	banner := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "Use it from a shell") {
				close(banner)
			}
		}
	}()
	select {
	case <-banner:
	case <-time.After(30 * time.Second):
		t.Fatalf("no banner; printed:\n%s", out.String())
	}
	time.Sleep(100 * time.Millisecond) // logs written just after the banner
	mu.Lock()
	defer mu.Unlock()
	return out.String()
}

// Ensure a supplied secret is never printed, however it was given, and a
// secret on the command line draws a warning.
func TestBannerHidesSecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte(testSecret+"\n"), 0o600)
	base := []string{"--access-key-id", testKeyID, "--account-id", testAccount}
	for name, run := range map[string]func() string{
		"flag": func() string { return serveOutput(t, nil, append(base, "--secret-access-key", testSecret)...) },
		"env":  func() string { return serveOutput(t, []string{"PARLEY_SECRET_ACCESS_KEY=" + testSecret}, base...) },
		"file": func() string { return serveOutput(t, nil, append(base, "--secret-access-key-file", file)...) },
		"json": func() string {
			return serveOutput(t, nil, append(base, "--secret-access-key-file", file, "--log-format", "json")...)
		},
		"random": func() string { return serveOutput(t, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			out := run()
			if strings.Contains(out, testSecret) || strings.Contains(out, strings.TrimSuffix(testSecret, "1")) {
				t.Fatalf("the secret was printed:\n%s", out)
			}
			if !strings.Contains(out, "secret access key:  (not shown") {
				t.Fatalf("banner:\n%s", out)
			}
			if warned := strings.Contains(out, "process list"); warned != (name == "flag") {
				t.Fatalf("warned about the command line = %v:\n%s", warned, out)
			}
		})
	}
	// A file secret is the one served.
	p := startProcessArgs(t, "--secret-access-key-file", file)
	must(p.client().ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms with the file's secret")
}

// Ensure keys create refuses a key without a secret and an existing key ID
// unless told to replace it.
func TestKeysCreateRefuses(t *testing.T) {
	m := MustRunMain(t)
	keysCreate := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx(), append([]string{"keys", "create", "--data", m.Config.DataDir}, args...), &out, &out)
		return out.String(), err
	}
	if _, err := keysCreate("--access-key-id", "AKIANOSECRET00000001"); err == nil || !strings.Contains(err.Error(), "needs its secret") {
		t.Fatalf("keys create without a secret: %v", err)
	}
	if _, err := keysCreate("--access-key-id", testKeyID, "--secret-access-key", "hijack", "--account-id", "210987654321"); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Fatalf("keys create over an existing key: %v", err)
	}
	must(IVS(m).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "the original key still works")
	out, err := keysCreate("--access-key-id", "AKIAGIVEN00000000001", "--secret-access-key", "given-secret")
	if err != nil || strings.Contains(out, "given-secret") {
		t.Fatalf("keys create with a secret: %v\n%s", err, out)
	}
	if _, err := keysCreate("--access-key-id", testKeyID, "--secret-access-key", "rotated", "--account-id", testAccount, "--replace"); err != nil {
		t.Fatalf("keys create --replace: %v", err)
	}
	// The old secret is refused, and the new one works, as soon as keys
	// create returns: it waits for the running server to forget the key
	// (README, Security). The old one is tried first: a call with the new
	// one would make the server read the key again anyway.
	_, err = IVS(m).ListRooms(ctx(), &ivschat.ListRoomsInput{})
	wantAPIError(t, "old secret after --replace", err, "InvalidSignatureException")
	must(IVSAs(m, testKeyID, "rotated", testRegion).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "the rotated secret")
}

// Ensure the data directory is forced to 0700 and the database files,
// which hold secrets, are 0600.
func TestDataFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	os.Mkdir(dir, 0o755)
	m := MustRunMain(t, func(c *Config) { c.DataDir = dir })
	must(IVS(m).CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom") // the WAL is written
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %v, want 0700", fi.Mode().Perm())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "parley.db*"))
	if len(files) < 2 {
		t.Fatalf("database files: %v", files)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}

// Ensure parley audit prints one line per record, whatever the user IDs hold.
func TestAuditEscapes(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	forged := "troll\n2026-01-01T00:00:00.000Z\t123456789012\tAKIAADMIN\tDeleteRoom\tforged\tok"
	must(IVS(m).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String(forged)}))(t, "DisconnectUser")
	must(IVS(m).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("rtl\u202eok")}))(t, "DisconnectUser")
	var buf bytes.Buffer
	if err := run(ctx(), []string{"audit", "--data", m.Config.DataDir}, &buf, &buf); err != nil {
		t.Fatalf("parley audit: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || strings.Count(lines[0], "\t") != 6 || !strings.Contains(lines[0], `troll\n2026`) || !strings.Contains(lines[1], `rtl\u202eok`) {
		t.Fatalf("parley audit printed %d lines:\n%s", len(lines), buf.String())
	}
}
