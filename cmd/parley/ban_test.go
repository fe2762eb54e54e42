package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/gobwas/ws"
	"github.com/parley-chat/parley/internal/testclock"
)

// caller signs requests to the ban extension as one credential and region.
type caller struct {
	keyID, secret, region string
}

var testCaller = caller{testKeyID, testSecret, testRegion}

// banResponse is a ban as the extension answers it.
type banResponse struct {
	RoomArn    *string `json:"roomArn"`
	UserID     string  `json:"userId"`
	Reason     string  `json:"reason"`
	CreateTime string  `json:"createTime"`
	ExpireTime *string `json:"expireTime"`
}

// ivsError is an IVS error body.
type ivsError struct {
	Type      string `json:"__type"`
	Message   string `json:"message"`
	Reason    string `json:"reason"`
	FieldList []struct{ Name, Message string }
}

// banOp calls POST /parley/v1/<op> signed for ivschat with aws-sdk-go-v2's
// signer and decodes a 200 answer into out (if not nil).
func (c caller) banOp(t *testing.T, m *Main, op string, body any, out any) rawResponse {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", m.URL+"/parley/v1/"+op, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(b)
	if err := v4.NewSigner().SignHTTP(ctx(), aws.Credentials{AccessKeyID: c.keyID, SecretAccessKey: c.secret},
		req, hex.EncodeToString(sum[:]), "ivschat", c.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp := do(t, req)
	if out != nil && resp.Status == http.StatusOK {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			t.Fatalf("%s: %v in %s", op, err, resp.Body)
		}
	}
	return resp
}

// banOK is banOp that fails the test unless the answer is want.
func (c caller) banOK(t *testing.T, m *Main, op string, body any, out any, want int) {
	t.Helper()
	if resp := c.banOp(t, m, op, body, out); resp.Status != want {
		t.Fatalf("%s %v: %d %s, want %d", op, body, resp.Status, resp.Body, want)
	}
}

// wantIVSError asserts an IVS error answer and returns its body.
func wantIVSError(t *testing.T, what string, resp rawResponse, status int, typ string) ivsError {
	t.Helper()
	var e ivsError
	json.Unmarshal(resp.Body, &e)
	if resp.Status != status || resp.Header.Get("X-Amzn-ErrorType") != typ || e.Type != typ {
		t.Fatalf("%s: %d %s %s, want %d %s", what, resp.Status, resp.Header.Get("X-Amzn-ErrorType"), resp.Body, status, typ)
	}
	return e
}

// listBans returns the (room ARN or "*", user, reason) of every ban listed.
func (c caller) listBans(t *testing.T, m *Main, filter map[string]any) []string {
	t.Helper()
	var got []string
	for pages := 0; pages < 20; pages++ {
		var out struct {
			Bans      []banResponse `json:"bans"`
			NextToken string        `json:"nextToken"`
		}
		c.banOK(t, m, "ListBans", filter, &out, http.StatusOK)
		if out.Bans == nil {
			t.Fatalf("ListBans: bans absent, want a list")
		}
		for _, b := range out.Bans {
			room := "*"
			if b.RoomArn != nil {
				room = *b.RoomArn
			}
			got = append(got, room+" "+b.UserID+" "+b.Reason)
		}
		if out.NextToken == "" {
			return got
		}
		next := map[string]any{"nextToken": out.NextToken}
		for k, v := range filter {
			if k != "nextToken" {
				next[k] = v
			}
		}
		filter = next
	}
	t.Fatal("ListBans did not end")
	return nil
}

// wantRefused asserts that a handshake with tok is refused with 403 (the
// user is banned), never accepted.
func wantRefused(t *testing.T, m *Main, tok, what string) {
	t.Helper()
	if c, status := dialStatus(t, m, tok); c != nil || status != http.StatusForbidden {
		t.Fatalf("%s: handshake %d, want 403", what, status)
	}
}

// wantDenied asserts that CreateChatToken refuses user in room with an
// AccessDeniedException naming the ban and its end.
func wantDenied(t *testing.T, m *Main, room *string, user, end string) {
	t.Helper()
	_, err := IVS(m).CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room, UserId: aws.String(user)})
	var ad *types.AccessDeniedException
	if !errors.As(err, &ad) {
		t.Fatalf("CreateChatToken(%s) err = %v, want AccessDeniedException", user, err)
	}
	if msg := aws.ToString(ad.Message); !strings.Contains(msg, "banned") || !strings.Contains(msg, end) {
		t.Fatalf("AccessDeniedException message %q, want the ban and %q", msg, end)
	}
}

// Ensure a room ban closes the user's connections before CreateBan returns,
// refuses every token (those minted before it included) and CreateChatToken
// while it lasts, lifts by itself at its end and at once on DeleteBan, and
// is replaced by a second ban of the same user.
func TestBan(t *testing.T) {
	clock := testclock.New()
	m := MustRunMainClock(t, clock)
	room, other := newRoom(t, m, nil), newRoom(t, m, nil)
	arn := aws.ToString(room.Arn)
	var unused []string
	for i := 0; i < 3; i++ {
		unused = append(unused, token(t, m, room.Arn, "troll"))
	}
	troll := dial(t, m, token(t, m, room.Arn, "troll"))
	elsewhere := dial(t, m, token(t, m, other.Arn, "troll"))
	bystander := dial(t, m, token(t, m, room.Arn, "bystander"))

	var b banResponse
	testCaller.banOK(t, m, "CreateBan", map[string]any{"roomIdentifier": arn, "userId": "troll", "reason": "spam", "durationInMinutes": 1}, &b, http.StatusOK)
	// Closed before CreateBan returned: the hub no longer holds it.
	if n := m.Hub.Count(); n != 2 {
		t.Fatalf("after CreateBan the hub holds %d connections, want 2 (the bystander and troll in the other room)", n)
	}
	if code := troll.WantClose(); code != ws.StatusNormalClosure {
		t.Fatalf("banned connection closed with %d, want 1000", code)
	}
	if f := bystander.NextEvent("aws:DISCONNECT_USER"); f.Attributes["UserId"] != "troll" || f.Attributes["Reason"] != "spam" {
		t.Fatalf("the room was told %+v, want troll's disconnection for spam", f.Attributes)
	}
	start := clock.Now()
	end := start.Add(time.Minute).Format("2006-01-02T15:04:05.000Z")
	if aws.ToString(b.RoomArn) != arn || b.UserID != "troll" || b.Reason != "spam" || b.CreateTime != start.Format("2006-01-02T15:04:05.000Z") || aws.ToString(b.ExpireTime) != end {
		t.Fatalf("CreateBan = %+v, want troll banned from %s from %v until %s", b, arn, start, end)
	}

	for _, tok := range unused {
		wantRefused(t, m, tok, "a token minted before the ban")
	}
	wantDenied(t, m, room.Arn, "troll", end)
	elsewhere.Quiet(50 * time.Millisecond) // the same user in another room is untouched
	dial(t, m, token(t, m, room.Arn, "someone-else"))
	if got := testCaller.listBans(t, m, map[string]any{}); len(got) != 1 || got[0] != arn+" troll spam" {
		t.Fatalf("ListBans = %v", got)
	}

	// At its end the ban lifts by itself: an old token and a new one connect.
	clock.Advance(time.Minute)
	dial(t, m, unused[0])
	dial(t, m, token(t, m, room.Arn, "troll"))
	if got := testCaller.listBans(t, m, map[string]any{}); len(got) != 0 {
		t.Fatalf("ListBans after the end = %v, want none", got)
	}
	wantIVSError(t, "DeleteBan of an ended ban", testCaller.banOp(t, m, "DeleteBan", map[string]any{"roomIdentifier": arn, "userId": "troll"}, nil), 404, "ResourceNotFoundException")

	// A ban until deleted, replaced by a second one.
	b = banResponse{}
	testCaller.banOK(t, m, "CreateBan", map[string]any{"roomIdentifier": arn, "userId": "troll", "reason": "first"}, &b, http.StatusOK)
	if b.ExpireTime != nil {
		t.Fatalf("CreateBan without a duration: expireTime %q, want none", *b.ExpireTime)
	}
	wantDenied(t, m, room.Arn, "troll", "until the ban is deleted")
	clock.Advance(30 * time.Minute) // tokens last 60 minutes
	wantRefused(t, m, unused[1], "half an hour into a ban without an end")
	testCaller.banOK(t, m, "CreateBan", map[string]any{"roomIdentifier": arn, "userId": "troll", "reason": "second", "durationInMinutes": 5}, nil, http.StatusOK)
	if got := testCaller.listBans(t, m, map[string]any{"roomIdentifier": arn}); len(got) != 1 || got[0] != arn+" troll second" {
		t.Fatalf("ListBans after a second ban = %v, want only the second", got)
	}

	// DeleteBan lifts it at once.
	resp := testCaller.banOp(t, m, "DeleteBan", map[string]any{"roomIdentifier": arn, "userId": "troll"}, nil)
	if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("DeleteBan: %d %q, want 204 and no body", resp.Status, resp.Body)
	}
	dial(t, m, unused[1])
	must(IVS(m).CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("troll")}))(t, "CreateChatToken after DeleteBan")
	wantIVSError(t, "DeleteBan twice", testCaller.banOp(t, m, "DeleteBan", map[string]any{"roomIdentifier": arn, "userId": "troll"}, nil), 404, "ResourceNotFoundException")
}

// Ensure a ban without roomIdentifier holds in every room of the account in
// the region the request was signed for, rooms made later included, and
// nowhere else.
func TestBanEveryRoom(t *testing.T) {
	m := MustRunMain(t)
	r1, r2 := newRoom(t, m, nil), newRoom(t, m, nil)
	eu := must(IVSAs(m, testKeyID, testSecret, "eu-west-1").CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom eu-west-1")
	euTroll := dial(t, m, aws.ToString(must(IVSAs(m, testKeyID, testSecret, "eu-west-1").CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{
		RoomIdentifier: eu.Arn, UserId: aws.String("troll")}))(t, "CreateChatToken eu-west-1").Token))
	var trolls, bystanders []*chatClient
	for _, r := range []*ivschat.CreateRoomOutput{r1, r2} {
		trolls = append(trolls, dial(t, m, token(t, m, r.Arn, "troll")))
		bystanders = append(bystanders, dial(t, m, token(t, m, r.Arn, "bystander")))
	}
	unused := token(t, m, r2.Arn, "troll")

	resp := testCaller.banOp(t, m, "CreateBan", map[string]any{"userId": "troll", "reason": "everywhere"}, nil)
	if resp.Status != http.StatusOK || bytes.Contains(resp.Body, []byte("roomArn")) || bytes.Contains(resp.Body, []byte("expireTime")) {
		t.Fatalf("CreateBan from every room: %d %s, want 200 without roomArn and expireTime", resp.Status, resp.Body)
	}
	if n := m.Hub.Count(); n != 3 {
		t.Fatalf("after CreateBan the hub holds %d connections, want 3 (two bystanders, troll in eu-west-1)", n)
	}
	for i := range trolls {
		trolls[i].WantClose()
		if f := bystanders[i].NextEvent("aws:DISCONNECT_USER"); f.Attributes["UserId"] != "troll" || f.Attributes["Reason"] != "everywhere" {
			t.Fatalf("room %d was told %+v", i, f.Attributes)
		}
	}
	euTroll.Quiet(50 * time.Millisecond)
	wantRefused(t, m, unused, "an old token, banned from every room")
	later := newRoom(t, m, nil)
	wantDenied(t, m, later.Arn, "troll", "until the ban is deleted")

	if got := testCaller.listBans(t, m, map[string]any{"roomIdentifier": aws.ToString(r1.Arn)}); len(got) != 1 || got[0] != "* troll everywhere" {
		t.Fatalf("ListBans(room 1) = %v, want the ban from every room", got)
	}
	// The room has no ban of its own to delete; the ban from every room is deleted without roomIdentifier.
	wantIVSError(t, "DeleteBan with a room", testCaller.banOp(t, m, "DeleteBan", map[string]any{"roomIdentifier": aws.ToString(r1.Arn), "userId": "troll"}, nil), 404, "ResourceNotFoundException")
	testCaller.banOK(t, m, "DeleteBan", map[string]any{"userId": "troll"}, nil, http.StatusNoContent)
	dial(t, m, unused)
}

// Ensure the ban operations validate like the IVS operations: every broken
// constraint a ValidationException naming the field.
func TestBanValidation(t *testing.T) {
	m := MustRunMain(t)
	room := aws.ToString(newRoom(t, m, nil).Arn)
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		op    string
		body  any
		field string
	}{
		{"CreateBan", map[string]any{"roomIdentifier": room, "reason": "r"}, "userId"},
		{"CreateBan", map[string]any{"roomIdentifier": room, "userId": "u"}, "reason"},
		{"CreateBan", map[string]any{"userId": "u", "reason": ""}, "reason"},
		{"CreateBan", map[string]any{"userId": "u", "reason": long(257)}, "reason"},
		{"CreateBan", map[string]any{"userId": long(129), "reason": "r"}, "userId"},
		{"CreateBan", map[string]any{"userId": "", "reason": "r"}, "userId"},
		{"CreateBan", map[string]any{"userId": "u", "reason": "r", "durationInMinutes": 0}, "durationInMinutes"},
		{"CreateBan", map[string]any{"userId": "u", "reason": "r", "durationInMinutes": 525601}, "durationInMinutes"},
		{"CreateBan", map[string]any{"userId": "u", "reason": "r", "durationInMinutes": "5"}, "durationInMinutes"},
		{"CreateBan", map[string]any{"roomIdentifier": "room-1", "userId": "u", "reason": "r"}, "roomIdentifier"},
		{"CreateBan", map[string]any{"roomIdentifier": strings.Replace(room, ":room/", ":logging-configuration/", 1), "userId": "u", "reason": "r"}, "roomIdentifier"},
		{"DeleteBan", map[string]any{"roomIdentifier": room}, "userId"},
		{"ListBans", map[string]any{"maxResults": 0}, "maxResults"},
		{"ListBans", map[string]any{"maxResults": 101}, "maxResults"},
		{"ListBans", map[string]any{"userId": ""}, "userId"},
		{"ListBans", map[string]any{"nextToken": "not-a-token"}, "nextToken"},
	}
	for _, tt := range tests {
		e := wantIVSError(t, tt.op+" "+tt.field, testCaller.banOp(t, m, tt.op, tt.body, nil), 400, "ValidationException")
		if e.Reason != "FIELD_VALIDATION_FAILED" || len(e.FieldList) == 0 || e.FieldList[0].Name != tt.field {
			t.Errorf("%s %v: reason %q fieldList %+v, want FIELD_VALIDATION_FAILED naming %s", tt.op, tt.body, e.Reason, e.FieldList, tt.field)
		}
	}
	// The bounds themselves are accepted.
	testCaller.banOK(t, m, "CreateBan", map[string]any{"roomIdentifier": room, "userId": long(128), "reason": long(256), "durationInMinutes": 525600}, nil, http.StatusOK)
	testCaller.banOK(t, m, "CreateBan", map[string]any{"userId": "u", "reason": "r", "durationInMinutes": 1}, nil, http.StatusOK)
	testCaller.banOK(t, m, "ListBans", map[string]any{"maxResults": 100}, nil, http.StatusOK)
	// A room that does not exist.
	missing := room[:len(room)-4] + "XXXX"
	wantIVSError(t, "CreateBan of a missing room", testCaller.banOp(t, m, "CreateBan", map[string]any{"roomIdentifier": missing, "userId": "u", "reason": "r"}, nil), 404, "ResourceNotFoundException")
}

// Ensure another account neither sees nor lifts a ban, cannot ban in a room
// it does not own, and its own bans leave this account's users alone.
func TestBanTenancy(t *testing.T) {
	m := MustRunMain(t)
	var out bytes.Buffer
	if err := run(ctx(), []string{"keys", "create", "--data", m.Config.DataDir, "--account-id", "210987654321",
		"--access-key-id", "AKIAOTHERACCOUNT0001", "--secret-access-key", "other-secret"}, &out, &out); err != nil {
		t.Fatalf("keys create: %v\n%s", err, out.String())
	}
	b := caller{"AKIAOTHERACCOUNT0001", "other-secret", testRegion}
	room := newRoom(t, m, nil)
	arn := aws.ToString(room.Arn)
	unused := token(t, m, room.Arn, "troll")
	testCaller.banOK(t, m, "CreateBan", map[string]any{"roomIdentifier": arn, "userId": "troll", "reason": "mine"}, nil, http.StatusOK)

	ownARN := strings.Replace(arn, testAccount, "210987654321", 1)
	for _, a := range []string{arn, ownARN} {
		wantIVSError(t, "B DeleteBan "+a, b.banOp(t, m, "DeleteBan", map[string]any{"roomIdentifier": a, "userId": "troll"}, nil), 404, "ResourceNotFoundException")
		wantIVSError(t, "B CreateBan "+a, b.banOp(t, m, "CreateBan", map[string]any{"roomIdentifier": a, "userId": "victim", "reason": "r"}, nil), 404, "ResourceNotFoundException")
		wantIVSError(t, "B ListBans "+a, b.banOp(t, m, "ListBans", map[string]any{"roomIdentifier": a}, nil), 404, "ResourceNotFoundException")
	}
	if got := b.listBans(t, m, map[string]any{}); len(got) != 0 {
		t.Fatalf("B ListBans = %v, want none", got)
	}
	b.banOK(t, m, "CreateBan", map[string]any{"userId": "victim", "reason": "B's own"}, nil, http.StatusOK)
	dial(t, m, token(t, m, room.Arn, "victim"))
	wantIVSError(t, "B DeleteBan troll", b.banOp(t, m, "DeleteBan", map[string]any{"userId": "troll"}, nil), 404, "ResourceNotFoundException")
	wantRefused(t, m, unused, "A's ban after B's attempts")
	if got := testCaller.listBans(t, m, map[string]any{}); len(got) != 1 || got[0] != arn+" troll mine" {
		t.Fatalf("A ListBans = %v", got)
	}
}

// Ensure CreateBan and DeleteBan are in the audit trail with caller,
// target, reason and duration.
func TestBanAudit(t *testing.T) {
	m := MustRunMain(t)
	room := aws.ToString(newRoom(t, m, nil).Arn)
	testCaller.banOK(t, m, "CreateBan", map[string]any{"roomIdentifier": room, "userId": "troll", "reason": "spam", "durationInMinutes": 90}, nil, http.StatusOK)
	testCaller.banOK(t, m, "DeleteBan", map[string]any{"roomIdentifier": room, "userId": "troll"}, nil, http.StatusNoContent)
	testCaller.banOK(t, m, "CreateBan", map[string]any{"userId": "troll", "reason": "everywhere"}, nil, http.StatusOK)
	var out struct {
		Records []struct{ Caller, Action, Target, Detail, Result string }
	}
	if resp := ext(t, m, "GET", "/parley/v1/audit", "", &out); resp.Status != 200 {
		t.Fatalf("audit: %d %s", resp.Status, resp.Body)
	}
	if len(out.Records) != 3 {
		t.Fatalf("audit = %+v, want 3 records", out.Records)
	}
	want := []struct{ action, target, detail string }{
		{"CreateBan", room + " user troll", `reason="spam" duration=90m until `},
		{"DeleteBan", room + " user troll", `reason="spam" duration=90m until `},
		{"CreateBan", strings.Split(room, "/")[0] + "/* user troll", `reason="everywhere" duration=until deleted`},
	}
	for i, r := range out.Records {
		if r.Caller != testKeyID || r.Action != want[i].action || r.Target != want[i].target || !strings.HasPrefix(r.Detail, want[i].detail) || r.Result != "ok" {
			t.Errorf("record %d = %+v, want %s of %s by %s, detail %s…", i, r, want[i].action, want[i].target, testKeyID, want[i].detail)
		}
	}
}

// Ensure the ban operations are throttled like the IVS operations.
func TestBanThrottling(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.ThrottleScale = 1 })
	var last rawResponse
	for i := 0; i < 10; i++ {
		if last = testCaller.banOp(t, m, "ListBans", map[string]any{}, nil); last.Status != http.StatusOK {
			break
		}
	}
	var e struct {
		Limit int `json:"limit"`
	}
	json.Unmarshal(last.Body, &e)
	if wantIVSError(t, "ListBans past 5/s", last, 429, "ThrottlingException"); e.Limit != 5 {
		t.Fatalf("ThrottlingException limit %d, want 5", e.Limit)
	}
}

// Ensure parley ban, bans and unban work from a shell with the exported AWS_* variables.
func TestBanCLI(t *testing.T) {
	m := MustRunMain(t)
	room := aws.ToString(newRoom(t, m, nil).Arn)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_REGION", testRegion)
	t.Setenv("PARLEY_ENDPOINT", m.URL)
	unused := token(t, m, aws.String(room), "troll")
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx(), args, &out, &out)
		return out.String(), err
	}
	out, err := cli("ban", "--room", room, "--user", "troll", "--reason", "flooding", "--duration", "30m")
	if err != nil || !strings.HasPrefix(out, "troll\t"+room+"\t") || !strings.HasSuffix(out, "\tflooding\n") {
		t.Fatalf("parley ban: %v\n%s", err, out)
	}
	wantRefused(t, m, unused, "after parley ban")
	if _, err := cli("ban", "--user", "troll", "--reason", "x", "--duration", "90s"); err == nil {
		t.Fatal("parley ban --duration 90s succeeded, want an error (whole minutes)")
	}
	if out, err = cli("ban", "--user", "spammer", "--reason", "everywhere"); err != nil || out != "spammer\t*\tnever\teverywhere\n" {
		t.Fatalf("parley ban (every room): %v\n%q", err, out)
	}
	if out, err = cli("bans"); err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "troll\t"+room) || !strings.Contains(out, "spammer\t*") {
		t.Fatalf("parley bans: %v\n%s", err, out)
	}
	if _, err = cli("unban", "--room", room, "--user", "troll"); err != nil {
		t.Fatalf("parley unban: %v", err)
	}
	dial(t, m, unused)
	if _, err = cli("unban", "--room", room, "--user", "troll"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("parley unban twice: %v, want ResourceNotFoundException", err)
	}
	if out, err = cli("bans", "--room", room); err != nil || out != "spammer\t*\tnever\teverywhere\n" {
		t.Fatalf("parley bans --room: %v\n%q", err, out)
	}
}

// Ensure a ban survives kill -9: after a restart the old token is still
// refused and CreateChatToken still denied.
func TestBanSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	p := startProcess(t, dataDir)
	m := &Main{URL: p.URL}
	room := newRoom(t, m, nil)
	unused := token(t, m, room.Arn, "troll")
	testCaller.banOK(t, m, "CreateBan", map[string]any{"roomIdentifier": aws.ToString(room.Arn), "userId": "troll", "reason": "durable"}, nil, http.StatusOK)
	testCaller.banOK(t, m, "CreateBan", map[string]any{"userId": "spammer", "reason": "durable too", "durationInMinutes": 60}, nil, http.StatusOK)
	p.cmd.Process.Kill()
	p.cmd.Wait()

	p = startProcess(t, dataDir)
	m.URL = p.URL
	wantRefused(t, m, unused, "after a restart")
	wantDenied(t, m, room.Arn, "troll", "until the ban is deleted")
	wantDenied(t, m, room.Arn, "spammer", "until ")
	if got := testCaller.listBans(t, m, map[string]any{}); len(got) != 2 {
		t.Fatalf("ListBans after a restart = %v, want both bans", got)
	}
}

// Ensure a ban called on one node of three closes the user's sockets on the
// others before it returns, and that none of three tokens minted before it
// connects on any node, one started after the ban (which missed its
// command) included, until DeleteBan on yet another node lifts it.
func TestClusterBan(t *testing.T) {
	c := startCluster(t, 3)
	n0, n1, n2 := c.nodes[0], c.nodes[1], c.nodes[2]
	room := newRoom(t, n0, nil)
	arn := aws.ToString(room.Arn)
	var unused []string
	for i := 0; i < 3; i++ {
		unused = append(unused, token(t, c.nodes[i], room.Arn, "troll"))
	}
	t1 := dial(t, n1, token(t, n0, room.Arn, "troll"))
	t2 := dial(t, n2, token(t, n0, room.Arn, "troll"))
	bystander := dial(t, n2, token(t, n0, room.Arn, "bystander"))

	testCaller.banOK(t, n0, "CreateBan", map[string]any{"roomIdentifier": arn, "userId": "troll", "reason": "raid"}, nil, http.StatusOK)
	if n1.Hub.Count() != 0 || n2.Hub.Count() != 1 {
		t.Fatalf("after CreateBan on node 0: node 1 holds %d, node 2 holds %d, want 0 and 1", n1.Hub.Count(), n2.Hub.Count())
	}
	t1.WantClose()
	t2.WantClose()
	if f := bystander.NextEvent("aws:DISCONNECT_USER"); f.Attributes["Reason"] != "raid" {
		t.Fatalf("the room was told %+v", f.Attributes)
	}
	late := c.node()
	for i, n := range append(c.nodes, late) {
		for _, tok := range unused {
			wantRefused(t, n, tok, fmt.Sprintf("an old token on node %d", i))
		}
		wantDenied(t, n, room.Arn, "troll", "until the ban is deleted")
	}

	// A ban from every room, called on node 1, reaches node 0 and node 2.
	other := newRoom(t, n2, nil)
	s0 := dial(t, n0, token(t, n0, room.Arn, "spammer"))
	s2 := dial(t, n2, token(t, n0, other.Arn, "spammer"))
	testCaller.banOK(t, n1, "CreateBan", map[string]any{"userId": "spammer", "reason": "everywhere"}, nil, http.StatusOK)
	if n0.Hub.Count() != 0 || n2.Hub.Count() != 1 {
		t.Fatalf("after a ban from every room: node 0 holds %d, node 2 holds %d, want 0 and 1", n0.Hub.Count(), n2.Hub.Count())
	}
	s0.WantClose()
	s2.WantClose()

	testCaller.banOK(t, late, "DeleteBan", map[string]any{"roomIdentifier": arn, "userId": "troll"}, nil, http.StatusNoContent)
	for i, n := range c.nodes {
		dial(t, n, unused[i])
	}
}
