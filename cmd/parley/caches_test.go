package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/chime/types"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cache"
)

// Ensure parley keys create --replace, run in another process on the data
// directory of a running server (the single-node default: SQLite and the
// in-process bus), makes the server refuse the old secret by the time it
// returns, and accept the new one; and says that the server was told.
func TestKeysReplaceTellsRunningServer(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	srv := &Main{URL: startProcessArgs(t, "--data", dataDir).URL}
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("rotated-secret-of-forty-characters-00001\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// From this call on the server keeps the key, old secret, in memory.
	cached := time.Now()
	must(IVS(srv).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms with the first secret")
	cli := exec.Command(parleyBinary(t), "keys", "create", "--replace", "--data", dataDir,
		"--access-key-id", testKeyID, "--secret-access-key-file", secretFile, "--account-id", testAccount)
	out, err := cli.CombinedOutput()
	if err != nil {
		t.Fatalf("keys create --replace: %v\n%s", err, out)
	}
	_, err = IVS(srv).ListRooms(ctx(), &ivschat.ListRoomsInput{})
	if took := time.Since(cached); took >= cache.KeyTTL {
		t.Fatalf("the key was cached %s before the old secret was tried, past KeyTTL (%s): the refusal would prove nothing", took, cache.KeyTTL)
	}
	wantAPIError(t, "the old secret right after keys create --replace returned", err, "InvalidSignatureException")
	must(IVSAs(srv, testKeyID, "rotated-secret-of-forty-characters-00001", testRegion).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms with the new secret")
	if !strings.Contains(string(out), "running servers:    1 told") {
		t.Fatalf("keys create --replace did not say the running server was told:\n%s", out)
	}

	// A new key is no change to tell servers of; with no server running,
	// a replaced key is told to no one, and nothing waits.
	dir := t.TempDir()
	keysCreate := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if err := run(ctx(), append([]string{"keys", "create", "--data", dir, "--access-key-id", "AKIAOTHER00000000001",
			"--secret-access-key-file", secretFile, "--account-id", testAccount}, args...), &out, &out); err != nil {
			t.Fatalf("keys create %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	if out := keysCreate(); strings.Contains(out, "running servers") {
		t.Fatalf("keys create of a new key:\n%s", out)
	}
	if out := keysCreate("--replace"); !strings.Contains(out, "running servers:    none on this store") {
		t.Fatalf("keys create --replace with no server running:\n%s", out)
	}
}

// Ensure the Chime account cache forgets across nodes at once: a room
// retention set on node A applies to GET_MESSAGES on node B, which had just
// read the account, as soon as PutRetentionSettings returns; and an
// account deleted on A is gone for B's room calls as soon as DeleteAccount
// returns.
func TestClusterAccountCacheInvalidation(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	acc := typedAccount(t, a, "Corp", "EnterpriseLWA")
	alice := registeredUser(t, a, acc, "alice@example.com")
	room := chimeRoom(t, a, acc, "team")
	join(t, a, acc, room, alice)
	old := &parley.ChimeMessage{AwsAccountID: testAccount, AccountID: acc, RoomID: room, MessageID: parley.NewID(), SenderID: alice,
		SenderName: "alice", Content: "three days ago", CreateTime: time.Now().AddDate(0, 0, -3)}
	if err := a.Store.AppendMessage(ctx(), old); err != nil {
		t.Fatal(err)
	}
	dev := mustDevice(t, b, mustSession(t, b, acc, alice))
	dev.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "today", "RoomId": room, "Content": "today"})
	if f := dev.Reply("today"); f.Type != "MESSAGE" {
		t.Fatalf("SEND_MESSAGE on B answered %+v", f)
	}
	history := func(id string) string {
		t.Helper()
		dev.Send(map[string]any{"Action": "GET_MESSAGES", "RequestId": id, "RoomId": room})
		f := dev.Reply(id)
		if f.Type != "MESSAGES" {
			t.Fatalf("GET_MESSAGES on B answered %+v", f)
		}
		var contents []string
		for _, m := range f.Messages {
			contents = append(contents, m.Content)
		}
		return strings.Join(contents, ", ")
	}
	if got, want := history("h1"), "three days ago, today"; got != want { // B reads the account, and keeps it
		t.Fatalf("history on B with no retention: %q, want %q", got, want)
	}
	must(Chime(a).PutRetentionSettings(ctx(), &chime.PutRetentionSettingsInput{AccountId: aws.String(acc), RetentionSettings: &types.RetentionSettings{
		RoomRetentionSettings: &types.RoomRetentionSettings{RetentionDays: aws.Int32(1)}}}))(t, "PutRetentionSettings on A")
	if got, want := history("h2"), "today"; got != want {
		t.Fatalf("history on B right after A set a one-day retention: %q, want %q", got, want)
	}

	// Deleting the account takes its rooms with it; B, which keeps the
	// account, must not answer for it as if it still existed.
	must(Chime(a).BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: aws.String(acc), UserIdList: []string{alice}}))(t, "BatchSuspendUser on A")
	if rooms := must(Chime(b).ListRooms(ctx(), &chime.ListRoomsInput{AccountId: aws.String(acc)}))(t, "ListRooms on B"); len(rooms.Rooms) != 1 {
		t.Fatalf("ListRooms on B before the account is deleted: %d rooms, want 1", len(rooms.Rooms))
	}
	must(Chime(a).DeleteAccount(ctx(), &chime.DeleteAccountInput{AccountId: aws.String(acc)}))(t, "DeleteAccount on A")
	_, err := Chime(b).ListRooms(ctx(), &chime.ListRoomsInput{AccountId: aws.String(acc)})
	wantAPIError(t, "ListRooms on B right after DeleteAccount on A", err, "NotFoundException")
}

// Ensure a node started with a new secret for a stored key tells the
// running nodes: they refuse the old secret within about a heartbeat,
// well inside KeyTTL, though nothing waits for them.
func TestClusterNodeStartedWithNewSecret(t *testing.T) {
	c := startCluster(t, 1)
	a := c.nodes[0]
	cached := time.Now()
	must(IVS(a).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms on A") // A keeps the key
	MustRunMain(t, func(cfg *Config) {
		cfg.Store, cfg.Bus, cfg.SecretAccessKey = c.store, c.bus, "a-new-secret-for-the-same-key"
		cfg.HeartbeatInterval, cfg.Lease, cfg.CommandTimeout = 100*time.Millisecond, time.Second, 5*time.Second
	})
	for {
		_, err := IVS(a).ListRooms(ctx(), &ivschat.ListRoomsInput{})
		// A refusal at KeyTTL or later is the cache's expiry, not the command.
		if took := time.Since(cached); took >= cache.KeyTTL {
			t.Fatalf("A accepted the old secret until %s after it read the key (KeyTTL %s): no command reached it", took, cache.KeyTTL)
		}
		if err != nil {
			wantAPIError(t, "the old secret on A", err, "InvalidSignatureException")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("A refused the old secret %s after it read the key", time.Since(cached))
	must(IVSAs(a, testKeyID, "a-new-secret-for-the-same-key", testRegion).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "the new secret on A")
}
