package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/gobwas/ws"
	"github.com/parley-chat/parley/internal/testclock"
	"github.com/parley-chat/parley/internal/wstest"
)

var (
	capSend       = types.ChatTokenCapabilitySendMessage
	capDelete     = types.ChatTokenCapabilityDeleteMessage
	capDisconnect = types.ChatTokenCapabilityDisconnectUser
)

func newRoom(t *testing.T, m *Main, in *ivschat.CreateRoomInput) *ivschat.CreateRoomOutput {
	t.Helper()
	if in == nil {
		in = &ivschat.CreateRoomInput{}
	}
	return must(IVS(m).CreateRoom(ctx(), in))(t, "CreateRoom")
}

// Ensure a message reaches every member, the sender included, in the IVS frame shape.
func TestChatMessage(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	alice := dial(t, m, token(t, m, room.Arn, "alice", capSend))
	bob := dial(t, m, token(t, m, room.Arn, "bob"))

	id := wstest.RequestID()
	alice.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": id, "Content": "héllo", "Attributes": map[string]string{"k": "v"}})
	for _, c := range []*chatClient{alice, bob} {
		f := c.NextOf("MESSAGE")
		if f.RequestID != id || f.Content != "héllo" || f.Attributes["k"] != "v" || len(f.ID) != 12 ||
			f.Sender == nil || f.Sender.UserID != "alice" || f.Sender.Attributes["name"] != "alice" {
			t.Fatalf("MESSAGE = %+v", f)
		}
		if _, err := time.Parse(time.RFC3339, f.SendTime); err != nil {
			t.Fatalf("SendTime %q: %v", f.SendTime, err)
		}
	}
	// Reading needs no capability; sending does.
	id = wstest.RequestID()
	bob.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": id, "Content": "hi"})
	if f := bob.Next(); f.Type != "ERROR" || f.ErrorCode != 403 || f.RequestID != id {
		t.Fatalf("SEND_MESSAGE without capability = %+v, want ERROR 403", f)
	}
	alice.Quiet(100 * time.Millisecond)
}

// Ensure unusable tokens are refused at the upgrade, never accepted and then
// answered with ERROR 401 (which would make the JS client loop).
func TestHandshakeRefusals(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	if _, status := dialStatus(t, m, "not-a-token"); status != http.StatusUnauthorized {
		t.Fatalf("garbage token: %d, want 401", status)
	}
	if _, status := dialStatus(t, m, ""); status == 101 {
		t.Fatal("no token accepted")
	}
	tok := token(t, m, room.Arn, "u")
	dial(t, m, tok)
	if _, status := dialStatus(t, m, tok); status != http.StatusUnauthorized {
		t.Fatalf("reused token: %d, want 401", status)
	}
	tok = token(t, m, room.Arn, "u")
	must(IVS(m).DeleteRoom(ctx(), &ivschat.DeleteRoomInput{Identifier: room.Arn}))(t, "DeleteRoom")
	if _, status := dialStatus(t, m, tok); status != http.StatusNotFound {
		t.Fatalf("deleted room: %d, want 404", status)
	}
	// A token of another server (another key) is not accepted.
	other := MustRunMain(t)
	otherRoom := newRoom(t, other, nil)
	if _, status := dialStatus(t, m, token(t, other, otherRoom.Arn, "u")); status != http.StatusUnauthorized {
		t.Fatalf("foreign token: %d, want 401", status)
	}
}

// Ensure expired tokens and sessions are refused, and an open session that
// expires gets ERROR 401 and a clean close.
func TestExpiry(t *testing.T) {
	clock := testclock.New()
	m := MustRunMainClock(t, clock, func(c *Config) { c.TokenLifetime = 10 * time.Minute })
	room := newRoom(t, m, nil)
	short := must(IVS(m).CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("u"),
		SessionDurationInMinutes: aws.Int32(30)}))(t, "CreateChatToken")
	if got := short.TokenExpirationTime.Sub(clock.Now()); got != 10*time.Minute {
		t.Fatalf("token lifetime %v, want 10m", got)
	}
	c := dial(t, m, token(t, m, room.Arn, "u"))
	clock.Advance(11 * time.Minute)
	if _, status := dialStatus(t, m, aws.ToString(short.Token)); status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d, want 401", status)
	}
	// The open connection lives on until its session ends (60 minutes by default).
	m.Hub.Sweep()
	c.Quiet(50 * time.Millisecond)
	clock.Advance(50 * time.Minute)
	m.Hub.Sweep()
	if f := c.Next(); f.Type != "ERROR" || f.ErrorCode != 401 || f.RequestID != "" {
		t.Fatalf("at session expiry got %+v, want ERROR 401", f)
	}
	if code := c.WantClose(); code != ws.StatusNormalClosure {
		t.Fatalf("close code %d, want 1000", code)
	}
	eventually(t, "the hub to forget the connection", func() bool { return m.Hub.Count() == 0 })
}

// Ensure each bad request gets an ERROR with its RequestId and the right code.
func TestMessagingErrors(t *testing.T) {
	clock := testclock.New() // moved on between requests, to stay under the per-connection rate
	m := MustRunMainClock(t, clock)
	room := newRoom(t, m, &ivschat.CreateRoomInput{MaximumMessageLength: aws.Int32(10)})
	c := dial(t, m, token(t, m, room.Arn, "u", capSend, capDelete, capDisconnect))
	bigAttrs := map[string]string{"k": strings.Repeat("a", 1100)}
	tests := []struct {
		name string
		req  any
		code int
	}{
		{"content over the room length in code points", map[string]any{"Action": "SEND_MESSAGE", "Content": strings.Repeat("é", 11)}, 413},
		{"empty content", map[string]any{"Action": "SEND_MESSAGE", "Content": ""}, 400},
		{"content not a string", map[string]any{"Action": "SEND_MESSAGE", "Content": 5}, 400},
		{"attribute not a string", map[string]any{"Action": "SEND_MESSAGE", "Content": "x", "Attributes": map[string]any{"n": 1}}, 400},
		{"attributes over 1 KB", map[string]any{"Action": "SEND_MESSAGE", "Content": "x", "Attributes": bigAttrs}, 413},
		{"unknown action", map[string]any{"Action": "FLY"}, 400},
		{"missing action", map[string]any{"Content": "x"}, 400},
		{"delete without id", map[string]any{"Action": "DELETE_MESSAGE"}, 400},
		{"delete with a bad id", map[string]any{"Action": "DELETE_MESSAGE", "Id": "not-an-id"}, 400},
		{"delete reason too long", map[string]any{"Action": "DELETE_MESSAGE", "Id": "abcdEFGH1234", "Reason": strings.Repeat("r", 257)}, 413},
		{"disconnect without user", map[string]any{"Action": "DISCONNECT_USER"}, 400},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		id := wstest.RequestID()
		req := tt.req.(map[string]any)
		req["RequestId"] = id
		clock.Advance(time.Second)
		c.Send(req)
		f := c.Next()
		if f.Type != "ERROR" || f.ErrorCode != tt.code || f.RequestID != id || f.ErrorMessage == "" {
			t.Errorf("%s: got %+v, want ERROR %d", tt.name, f, tt.code)
		}
		if seen[f.ID] {
			t.Errorf("frame Id %s reused", f.ID)
		}
		seen[f.ID] = true
	}
	clock.Advance(time.Second)
	c.SendRaw(`{not json`)
	if f := c.Next(); f.Type != "ERROR" || f.ErrorCode != 400 {
		t.Fatalf("bad JSON: %+v, want ERROR 400", f)
	}
	// Ten code points are within the limit of ten.
	c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "ok", "Content": strings.Repeat("é", 10)})
	if f := c.Next(); f.Type != "MESSAGE" || f.RequestID != "ok" {
		t.Fatalf("10 code points: %+v, want MESSAGE", f)
	}
}

// Ensure the room rate and the per-connection request rate answer ERROR 429.
func TestRateLimits(t *testing.T) {
	clock := testclock.New()
	m := MustRunMainClock(t, clock)
	room := newRoom(t, m, &ivschat.CreateRoomInput{MaximumMessageRatePerSecond: aws.Int32(2)})
	a := dial(t, m, token(t, m, room.Arn, "a", capSend))
	b := dial(t, m, token(t, m, room.Arn, "b", capSend))
	// The room's rate is shared by all its senders: two pass, the third is refused.
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "1", "Content": "x"})
	a.Reply("1")
	b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "2", "Content": "x"})
	b.Reply("2")
	b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "3", "Content": "x"})
	if f := b.Reply("3"); f.Type != "ERROR" || f.ErrorCode != 429 {
		t.Fatalf("third message in a 2/s room: %+v, want ERROR 429", f)
	}
	clock.Advance(time.Second)
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "4", "Content": "x"})
	if f := a.Reply("4"); f.Type != "MESSAGE" {
		t.Fatalf("after a second: %+v", f)
	}
	// Per connection: ten requests a second, whatever they are.
	clock.Advance(time.Second)
	for i := 0; i < 10; i++ {
		a.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": wstest.RequestID(), "Id": "bad"})
	}
	a.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "eleventh", "Id": "bad"})
	if f := a.Reply("eleventh"); f.ErrorCode != 429 {
		t.Fatalf("eleventh request: %+v, want 429", f)
	}
}

// Ensure DisconnectUser through the API closes exactly the user's connections
// in the room, after the room is told, before the call returns.
func TestDisconnectUserAPI(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	other := newRoom(t, m, nil)
	u1a := dial(t, m, token(t, m, room.Arn, "u1"))
	u1b := dial(t, m, token(t, m, room.Arn, "u1"))
	u2 := dial(t, m, token(t, m, room.Arn, "u2", capSend))
	u1elsewhere := dial(t, m, token(t, m, other.Arn, "u1"))
	if n := m.Hub.Count(); n != 4 {
		t.Fatalf("hub holds %d connections, want 4", n)
	}

	must(IVS(m).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("u1"), Reason: aws.String("spam")}))(t, "DisconnectUser")
	// When the call returns the server has already closed both sockets.
	if n := m.Hub.Count(); n != 2 {
		t.Fatalf("after DisconnectUser the hub holds %d connections, want 2", n)
	}
	for _, c := range []*chatClient{u1a, u1b, u2} {
		f := c.NextOf("EVENT")
		if f.EventName != "aws:DISCONNECT_USER" || f.Attributes["UserId"] != "u1" || f.Attributes["Reason"] != "spam" || f.RequestID != "" {
			t.Fatalf("notice = %+v", f)
		}
	}
	for _, c := range []*chatClient{u1a, u1b} {
		if code := c.WantClose(); code != ws.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	// Everyone else carries on.
	u2.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "after", "Content": "still here"})
	if f := u2.NextOf("MESSAGE"); f.RequestID != "after" {
		t.Fatalf("u2 after the disconnect: %+v", f)
	}
	u1elsewhere.Quiet(50 * time.Millisecond)
	// It is not a ban: a new token connects.
	dial(t, m, token(t, m, room.Arn, "u1"))
	// Disconnecting someone who is not connected succeeds.
	must(IVS(m).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("nobody")}))(t, "DisconnectUser(nobody)")
}

// Ensure a client with DISCONNECT_USER can disconnect another, and its
// request is answered by the notice carrying its RequestId.
func TestDisconnectUserFromClient(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	mod := dial(t, m, token(t, m, room.Arn, "mod", capDisconnect))
	troll := dial(t, m, token(t, m, room.Arn, "troll"))
	mod.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "kick", "UserId": "troll", "Reason": "rude"})
	if f := mod.NextOf("EVENT"); f.EventName != "aws:DISCONNECT_USER" || f.RequestID != "kick" || f.Attributes["UserId"] != "troll" {
		t.Fatalf("moderator got %+v", f)
	}
	if f := troll.NextOf("EVENT"); f.EventName != "aws:DISCONNECT_USER" {
		t.Fatalf("target got %+v", f)
	}
	troll.WantClose()
	troll2 := dial(t, m, token(t, m, room.Arn, "troll"))
	troll.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "x", "UserId": "mod"})
	troll2.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "revenge", "UserId": "mod"})
	if f := troll2.Next(); f.ErrorCode != 403 || f.RequestID != "revenge" {
		t.Fatalf("DISCONNECT_USER without capability: %+v, want ERROR 403", f)
	}
}

// Ensure DeleteRoom closes every connection of the room before it returns.
func TestDeleteRoomClosesConnections(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	keep := newRoom(t, m, nil)
	a, b := dial(t, m, token(t, m, room.Arn, "a")), dial(t, m, token(t, m, room.Arn, "b"))
	k := dial(t, m, token(t, m, keep.Arn, "k"))
	must(IVS(m).DeleteRoom(ctx(), &ivschat.DeleteRoomInput{Identifier: room.Arn}))(t, "DeleteRoom")
	if n := m.Hub.Count(); n != 1 {
		t.Fatalf("after DeleteRoom the hub holds %d connections, want 1", n)
	}
	for _, c := range []*chatClient{a, b} {
		if code := c.WantClose(); code != ws.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	k.Quiet(50 * time.Millisecond)
}

// Ensure SendEvent and DeleteMessage from the API reach every socket.
func TestAPIEventsReachSockets(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	c := dial(t, m, token(t, m, room.Arn, "u"))
	sent := must(IVS(m).SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("app:quiz"), Attributes: map[string]string{"q": "1"}}))(t, "SendEvent")
	if f := c.Next(); f.Type != "EVENT" || f.EventName != "app:quiz" || f.ID != aws.ToString(sent.Id) || f.Attributes["q"] != "1" || f.SendTime == "" {
		t.Fatalf("SendEvent frame = %+v", f)
	}
	del := must(IVS(m).DeleteMessage(ctx(), &ivschat.DeleteMessageInput{RoomIdentifier: room.Arn, Id: aws.String("abcdEFGH1234")}))(t, "DeleteMessage")
	if f := c.Next(); f.EventName != "aws:DELETE_MESSAGE" || f.ID != aws.ToString(del.Id) || f.Attributes["MessageId"] != "abcdEFGH1234" || f.Attributes["MessageID"] != "abcdEFGH1234" {
		t.Fatalf("DeleteMessage frame = %+v", f)
	}
	// DELETE_MESSAGE from a client is the same event, with the client's RequestId.
	d := dial(t, m, token(t, m, room.Arn, "mod", capDelete))
	d.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "del", "Id": "abcdEFGH1234", "Reason": "spam"})
	if f := c.Next(); f.EventName != "aws:DELETE_MESSAGE" || f.RequestID != "del" || f.Attributes["Reason"] != "spam" {
		t.Fatalf("client DELETE_MESSAGE frame = %+v", f)
	}
}

// Ensure UpdateRoom's limits apply to connections already open.
func TestUpdateRoomAppliesToOpenConnections(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	c := dial(t, m, token(t, m, room.Arn, "u", capSend))
	must(IVS(m).UpdateRoom(ctx(), &ivschat.UpdateRoomInput{Identifier: room.Arn, MaximumMessageLength: aws.Int32(5)}))(t, "UpdateRoom")
	eventually(t, "the new length to apply", func() bool {
		c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r", "Content": "123456"})
		return c.Next().ErrorCode == 413
	})
}

// Ensure a review handler can rewrite, deny, and that its fallback applies
// when it does not answer in time.
func TestMessageReview(t *testing.T) {
	var calls atomic.Int32
	handler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Content, MessageId, RoomArn string
			Sender                      struct{ UserId string }
		}
		json.NewDecoder(r.Body).Decode(&req)
		switch {
		case strings.Contains(req.Content, "slow"):
			time.Sleep(time.Second)
		case strings.Contains(req.Content, "bad"):
			json.NewEncoder(w).Encode(map[string]any{"ReviewResult": "DENY"})
		default:
			json.NewEncoder(w).Encode(map[string]any{"ReviewResult": "ALLOW", "Content": strings.ToUpper(req.Content) + " by " + req.Sender.UserId,
				"Attributes": map[string]string{"reviewed": req.MessageId[:3]}})
		}
	}))
	defer handler.Close()
	const allowARN, denyARN = "arn:aws:lambda:us-east-1:123456789012:function:allow", "arn:aws:lambda:us-east-1:123456789012:function:deny"
	m := MustRunMain(t, func(c *Config) {
		c.LambdaEndpoints = map[string]string{allowARN: handler.URL, denyARN: handler.URL}
		c.ReviewTimeout = 200 * time.Millisecond
	})
	allowRoom := newRoom(t, m, &ivschat.CreateRoomInput{MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String(allowARN)}})
	denyRoom := newRoom(t, m, &ivschat.CreateRoomInput{MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String(denyARN), FallbackResult: types.FallbackResultDeny}})
	unmapped := newRoom(t, m, &ivschat.CreateRoomInput{MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String("arn:aws:lambda:us-east-1:123456789012:function:nowhere"), FallbackResult: types.FallbackResultDeny}})

	a := dial(t, m, token(t, m, allowRoom.Arn, "ann", capSend))
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "1", "Content": "hello"})
	if f := a.Next(); f.Type != "MESSAGE" || f.Content != "HELLO by ann" || f.Attributes["reviewed"] != f.ID[:3] {
		t.Fatalf("rewritten message = %+v", f)
	}
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "2", "Content": "bad words"})
	if f := a.Next(); f.Type != "ERROR" || f.ErrorCode != 406 || f.RequestID != "2" {
		t.Fatalf("denied message = %+v, want ERROR 406", f)
	}
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "3", "Content": "slow one"})
	if f := a.Next(); f.Type != "MESSAGE" || f.Content != "slow one" {
		t.Fatalf("timed-out review with fallback ALLOW = %+v, want the original message", f)
	}
	d := dial(t, m, token(t, m, denyRoom.Arn, "dan", capSend))
	d.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "4", "Content": "slow too"})
	if f := d.Next(); f.ErrorCode != 406 {
		t.Fatalf("timed-out review with fallback DENY = %+v, want ERROR 406", f)
	}
	u := dial(t, m, token(t, m, unmapped.Arn, "uma", capSend))
	u.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "5", "Content": "anything"})
	if f := u.Next(); f.ErrorCode != 406 {
		t.Fatalf("unmapped handler with fallback DENY = %+v, want ERROR 406", f)
	}
	if calls.Load() != 4 {
		t.Fatalf("review endpoint called %d times, want 4", calls.Load())
	}
}

// Ensure a room's traffic is written to its logging configurations' folders as JSON lines.
func TestChatLogging(t *testing.T) {
	m := MustRunMain(t)
	c := IVS(m)
	s3 := must(c.CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{
		DestinationConfiguration: &types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String("chat-archive")}}}))(t, "CreateLoggingConfiguration")
	cw := must(c.CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{
		DestinationConfiguration: &types.DestinationConfigurationMemberCloudWatchLogs{Value: types.CloudWatchLogsDestinationConfiguration{LogGroupName: aws.String("/ivs/chat")}}}))(t, "CreateLoggingConfiguration")
	room := newRoom(t, m, &ivschat.CreateRoomInput{LoggingConfigurationIdentifiers: []string{aws.ToString(s3.Arn), aws.ToString(cw.Arn)}})
	unlogged := newRoom(t, m, nil)
	u := dial(t, m, token(t, m, room.Arn, "writer", capSend))
	u.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "m1", "Content": "for the record"})
	msg := u.Reply("m1")
	must(c.SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("app:x")}))(t, "SendEvent")
	must(c.DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("writer")}))(t, "DisconnectUser")
	must(c.SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: unlogged.Arn, EventName: aws.String("app:x")}))(t, "SendEvent")

	for _, dir := range []string{"s3/chat-archive", "cloudwatch-logs/ivs_chat"} {
		files, _ := filepath.Glob(filepath.Join(m.Config.DataDir, "chat-logs", dir, "*.jsonl"))
		if len(files) != 1 || !strings.Contains(filepath.Base(files[0]), aws.ToString(room.Id)) {
			t.Fatalf("%s holds %v, want one file for the room", dir, files)
		}
		b, _ := os.ReadFile(files[0])
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 3 {
			t.Fatalf("%s: %d records, want 3:\n%s", dir, len(lines), b)
		}
		type record struct {
			EventTimestamp string `json:"event_timestamp"`
			Type, Version  string
			RoomARN        string `json:"room_arn"`
			Payload        frame
		}
		var recs []record
		for _, l := range lines {
			var rec record
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("record %q: %v", l, err)
			}
			recs = append(recs, rec)
		}
		if recs[0].Type != "MESSAGE" || recs[0].Payload.ID != msg.ID || recs[0].Payload.Content != "for the record" || recs[0].Version != "1.0" ||
			recs[0].RoomARN != aws.ToString(room.Arn) || recs[0].EventTimestamp == "" {
			t.Fatalf("message record = %+v\n%s", recs[0], b)
		}
		if recs[1].Type != "EVENT" || recs[1].Payload.EventName != "app:x" || recs[2].Payload.EventName != "aws:DISCONNECT_USER" {
			t.Fatalf("event records = %+v, %+v", recs[1], recs[2])
		}
	}
	if files, _ := filepath.Glob(filepath.Join(m.Config.DataDir, "chat-logs", "*", "*", "*"+aws.ToString(unlogged.Id)+"*")); len(files) != 0 {
		t.Fatalf("a room without logging configurations was logged: %v", files)
	}
}

// Ensure shutdown drops sockets without a close frame: for the JS client
// only an abnormal end (1006) means "reconnect", which is what a client of a
// node going away should do.
func TestShutdownMakesClientsReconnect(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	c := dial(t, m, token(t, m, room.Arn, "u"))
	if err := m.Close(ctx()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case _, ok := <-c.Frames():
		if ok {
			t.Fatal("got a frame at shutdown")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open after shutdown")
	}
	select {
	case code := <-c.Closed():
		t.Fatalf("server sent close code %d at shutdown; the JS client would not reconnect", code)
	default:
	}
}
