package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
)

// awsCLI runs the real AWS CLI against m with the test credential, isolated
// from any configuration of the user's.
type awsCLI struct {
	t    *testing.T
	path string
	m    *Main
}

func newCLI(t *testing.T, m *Main) *awsCLI { return &awsCLI{t: t, path: testenv.AWSCLI(t), m: m} }

// run returns the CLI's standard output and error, and its exit code.
func (c *awsCLI) run(args ...string) (string, int) {
	c.t.Helper()
	cmd := exec.Command(c.path, append([]string{"--endpoint-url", c.m.URL, "--output", "text"}, args...)...)
	home := c.t.TempDir()
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_DEFAULT_REGION="+testRegion,
		"AWS_REGION="+testRegion, "AWS_CONFIG_FILE="+home+"/config", "AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials", "HOME="+home,
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		c.t.Fatalf("aws %v: %v", args, err)
	}
	return strings.TrimSpace(string(out)), 0
}

// mustRun runs the CLI and fails the test on a non-zero exit.
func (c *awsCLI) mustRun(args ...string) string {
	c.t.Helper()
	out, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// Ensure the real AWS CLI drives the control plane: create a room, mint a
// token, disconnect a live user, and read typed errors.
func TestAWSCLI(t *testing.T) {
	m := MustRunMain(t)
	cli := newCLI(t, m)
	arn := cli.mustRun("ivschat", "create-room", "--name", "cli-room", "--tags", "team=chat", "--query", "arn")
	if !strings.HasPrefix(arn, "arn:aws:ivschat:us-east-1:"+testAccount+":room/") {
		t.Fatalf("create-room arn = %q", arn)
	}
	tok := cli.mustRun("ivschat", "create-chat-token", "--room-identifier", arn, "--user-id", "cli-user",
		"--capabilities", "SEND_MESSAGE", "DELETE_MESSAGE", "--session-duration-in-minutes", "5", "--query", "token")
	if len(tok) < 50 || strings.ContainsAny(tok, "=+/ ") {
		t.Fatalf("create-chat-token token = %q", tok)
	}
	// The token the CLI minted opens a live connection, which disconnect-user closes.
	live := dial(t, m, tok)
	if out := cli.mustRun("ivschat", "disconnect-user", "--room-identifier", arn, "--user-id", "cli-user", "--reason", "bye"); out != "" {
		t.Fatalf("disconnect-user printed %q, want nothing", out)
	}
	if n := m.Hub.Count(); n != 0 {
		t.Fatalf("after disconnect-user the hub holds %d connections, want 0", n)
	}
	if f := live.NextOf("EVENT"); f.EventName != "aws:DISCONNECT_USER" || f.Attributes["Reason"] != "bye" {
		t.Fatalf("live client got %+v", f)
	}
	if code := live.WantClose(); code != 1000 {
		t.Fatalf("close code %d, want 1000", code)
	}
	if got := cli.mustRun("ivschat", "list-tags-for-resource", "--resource-arn", arn, "--query", "tags.team"); got != "chat" {
		t.Fatalf("list-tags-for-resource = %q", got)
	}
	cli.mustRun("ivschat", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
	out, code := cli.run("ivschat", "get-room", "--identifier", strings.TrimSuffix(arn, arn[len(arn)-12:])+"missing00000")
	if code == 0 || !strings.Contains(out, "(ResourceNotFoundException)") {
		t.Fatalf("get-room(missing): exit %d %q, want ResourceNotFoundException", code, out)
	}
	out, code = cli.run("ivschat", "create-room", "--maximum-message-length", "9999")
	if code == 0 || !strings.Contains(out, "(ValidationException)") || !strings.Contains(out, "maximumMessageLength") {
		t.Fatalf("create-room --maximum-message-length 9999: exit %d %q, want ValidationException", code, out)
	}
	cli.mustRun("ivschat", "delete-room", "--identifier", arn)
}

// Ensure the AWS CLI's chime logout-user and batch-suspend-user close live devices.
func TestAWSCLIChime(t *testing.T) {
	m := MustRunMain(t)
	cli := newCLI(t, m)
	acc := cli.mustRun("chime", "create-account", "--name", "cli-corp", "--query", "Account.AccountId")
	a := registeredUser(t, m, acc, "a@example.com")
	b := registeredUser(t, m, acc, "b@example.com")
	da := mustDevice(t, m, mustSession(t, m, acc, a))
	db := mustDevice(t, m, mustSession(t, m, acc, b))

	if out := cli.mustRun("chime", "logout-user", "--account-id", acc, "--user-id", a); out != "" {
		t.Fatalf("logout-user printed %q", out)
	}
	if f := da.Next(); f.EventName != "parley:SIGNED_OUT" {
		t.Fatalf("device of a got %+v", f)
	}
	da.WantClose()
	if n := m.Hub.DeviceCount(); n != 1 {
		t.Fatalf("after logout-user %d devices, want 1", n)
	}

	out := cli.mustRun("chime", "batch-suspend-user", "--account-id", acc, "--user-id-list", b, "ghost", "--output", "json")
	if !strings.Contains(out, `"UserId": "ghost"`) || !strings.Contains(out, `"ErrorCode": "NotFound"`) || strings.Contains(out, b) {
		t.Fatalf("batch-suspend-user printed %s", out)
	}
	if f := db.Next(); f.EventName != "parley:SIGNED_OUT" || f.Attributes["Reason"] != "suspended" {
		t.Fatalf("device of b got %+v", f)
	}
	db.WantClose()
	if got := cli.mustRun("chime", "get-user", "--account-id", acc, "--user-id", b, "--query", "User.UserRegistrationStatus"); got != "Suspended" {
		t.Fatalf("get-user status = %q", got)
	}
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = fmt.Sprint("id", i)
	}
	out, code := cli.run(append([]string{"chime", "batch-suspend-user", "--account-id", acc, "--user-id-list"}, ids...)...)
	if code == 0 || !strings.Contains(out, "(BadRequestException)") {
		t.Fatalf("batch-suspend-user of 51: exit %d %q", code, out)
	}
	out, code = cli.run("chime", "get-account", "--account-id", "nope")
	if code == 0 || !strings.Contains(out, "(NotFoundException)") {
		t.Fatalf("get-account nope: exit %d %q", code, out)
	}
}

// Ensure the AWS CLI's chime delete-room-membership removes a live member at once.
func TestAWSCLIDeleteRoomMembership(t *testing.T) {
	m := MustRunMain(t)
	cli := newCLI(t, m)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	a, b := registeredUser(t, m, acc, "a@example.com"), registeredUser(t, m, acc, "b@example.com")
	room := cli.mustRun("chime", "create-room", "--account-id", acc, "--name", "cli-room", "--query", "Room.RoomId")
	cli.mustRun("chime", "batch-create-room-membership", "--account-id", acc, "--room-id", room,
		"--membership-item-list", "MemberId="+a+",Role=Member", "MemberId="+b+",Role=Administrator")
	da := mustDevice(t, m, mustSession(t, m, acc, a))
	db := mustDevice(t, m, mustSession(t, m, acc, b))
	if out := cli.mustRun("chime", "delete-room-membership", "--account-id", acc, "--room-id", room, "--member-id", a); out != "" {
		t.Fatalf("delete-room-membership printed %q", out)
	}
	da.NextEvent("parley:MEMBERSHIP_REMOVED")
	db.NextEvent("parley:MEMBERSHIP_CHANGED")
	da.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "x", "RoomId": room, "Content": "hello?"})
	if f := da.Reply("x"); f.ErrorCode != 403 {
		t.Fatalf("removed member's post = %+v", f)
	}
	out, code := cli.run("chime", "delete-room-membership", "--account-id", acc, "--room-id", room, "--member-id", a)
	if code == 0 || !strings.Contains(out, "(NotFoundException)") {
		t.Fatalf("second delete-room-membership: exit %d %q", code, out)
	}
}
