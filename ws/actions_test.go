package ws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/wstest"
)

// Ensure a message reaches every member, the sender included, in the IVS
// frame shape, and that sending needs SEND_MESSAGE while reading does not.
func TestSendMessage(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	alice := h.dial(h.token(room, "alice", parley.CapSendMessage))
	bob := h.dial(h.token(room, "bob"))

	id := wstest.RequestID()
	alice.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": id, "Content": "héllo", "Attributes": map[string]string{"k": "v"}})
	for _, c := range []*client{alice, bob} {
		f := c.Next()
		if f.Type != "MESSAGE" || f.RequestID != id || f.Content != "héllo" || f.Attributes["k"] != "v" || len(f.ID) != 12 ||
			f.Sender == nil || f.Sender.UserID != "alice" || f.Sender.Attributes["name"] != "alice" {
			t.Fatalf("MESSAGE = %+v", f)
		}
		if _, err := time.Parse(time.RFC3339, f.SendTime); err != nil {
			t.Fatalf("SendTime %q: %v", f.SendTime, err)
		}
	}
	id = wstest.RequestID()
	bob.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": id, "Content": "hi"})
	if f := bob.Next(); f.Type != "ERROR" || f.ErrorCode != 403 || f.RequestID != id || f.ErrorMessage == "" {
		t.Fatalf("SEND_MESSAGE without capability = %+v, want ERROR 403", f)
	}
	alice.Quiet(50 * time.Millisecond)
	if got := h.hub.Stats().IVSMessages; got != 2 {
		t.Fatalf("Stats().IVSMessages = %d, want 2", got)
	}
}

// Ensure each bad request gets an ERROR with its RequestId, the right code
// and a fresh frame Id.
func TestMessagingErrors(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 10)
	c := h.dial(h.token(room, "u", parley.CapSendMessage, parley.CapDeleteMessage, parley.CapDisconnectUser))
	tests := []struct {
		name string
		req  map[string]any
		code int
	}{
		{"content over the room length in code points", map[string]any{"Action": "SEND_MESSAGE", "Content": strings.Repeat("é", 11)}, 413},
		{"empty content", map[string]any{"Action": "SEND_MESSAGE", "Content": ""}, 400},
		{"no content", map[string]any{"Action": "SEND_MESSAGE"}, 400},
		{"content not a string", map[string]any{"Action": "SEND_MESSAGE", "Content": 5}, 400},
		{"attribute not a string", map[string]any{"Action": "SEND_MESSAGE", "Content": "x", "Attributes": map[string]any{"n": 1}}, 400},
		{"attributes over 1 KB", map[string]any{"Action": "SEND_MESSAGE", "Content": "x", "Attributes": map[string]string{"k": strings.Repeat("a", 1024)}}, 413},
		{"unknown action", map[string]any{"Action": "FLY"}, 400},
		{"missing action", map[string]any{"Content": "x"}, 400},
		{"action not a string", map[string]any{"Action": 1}, 400},
		{"delete without id", map[string]any{"Action": "DELETE_MESSAGE"}, 400},
		{"delete with a bad id", map[string]any{"Action": "DELETE_MESSAGE", "Id": "not-an-id"}, 400},
		{"delete reason not a string", map[string]any{"Action": "DELETE_MESSAGE", "Id": "abcdEFGH1234", "Reason": 1}, 400},
		{"delete reason too long", map[string]any{"Action": "DELETE_MESSAGE", "Id": "abcdEFGH1234", "Reason": strings.Repeat("r", 257)}, 413},
		{"disconnect without user", map[string]any{"Action": "DISCONNECT_USER"}, 400},
		{"disconnect user too long", map[string]any{"Action": "DISCONNECT_USER", "UserId": strings.Repeat("u", 129)}, 413},
		{"disconnect reason too long", map[string]any{"Action": "DISCONNECT_USER", "UserId": "x", "Reason": strings.Repeat("é", 257)}, 413},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		id := wstest.RequestID()
		tt.req["RequestId"] = id
		h.clock.Advance(time.Second) // under the per-connection request rate
		c.Send(tt.req)
		f := c.Next()
		if f.Type != "ERROR" || f.ErrorCode != tt.code || f.RequestID != id || f.ErrorMessage == "" {
			t.Errorf("%s: got %+v, want ERROR %d", tt.name, f, tt.code)
		}
		if seen[f.ID] {
			t.Errorf("frame Id %s reused", f.ID)
		}
		seen[f.ID] = true
	}
	// Frames that cannot be read answer ERROR 400 without a RequestId.
	for _, raw := range []string{`{not json`, `[1,2]`, `{"Action":"SEND_MESSAGE","RequestId":7,"Content":"x"}`} {
		h.clock.Advance(time.Second)
		c.SendRaw(raw)
		if f := c.Next(); f.Type != "ERROR" || f.ErrorCode != 400 || f.RequestID != "" {
			t.Errorf("%s: got %+v, want ERROR 400 without RequestId", raw, f)
		}
	}
	// Limits are inclusive: ten code points in a room of ten, 1 KB of attributes.
	h.clock.Advance(time.Second)
	c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "ok", "Content": strings.Repeat("é", 10),
		"Attributes": map[string]string{"k": strings.Repeat("a", 1023)}})
	if f := c.Next(); f.Type != "MESSAGE" || f.RequestID != "ok" {
		t.Fatalf("10 code points and 1 KB of attributes: %+v, want MESSAGE", f)
	}
	// Whatever the room allows, a message is at most 500 code points.
	wide := h.room(0, 0)
	wide.MaximumMessageLength = 1000
	h.store.putRoom(wide)
	w := h.dial(h.token(wide, "w", parley.CapSendMessage))
	w.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "501", "Content": strings.Repeat("x", 501)})
	if f := w.Next(); f.ErrorCode != 413 || f.RequestID != "501" {
		t.Fatalf("501 code points: %+v, want ERROR 413", f)
	}
}

// Ensure the room rate (shared by all its senders) and the per-connection
// request rate answer ERROR 429.
func TestRateLimits(t *testing.T) {
	h := newTestHub(t)
	room := h.room(2, 0)
	a := h.dial(h.token(room, "a", parley.CapSendMessage))
	b := h.dial(h.token(room, "b", parley.CapSendMessage))
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "1", "Content": "x"})
	a.Reply("1")
	b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "2", "Content": "x"})
	b.Reply("2")
	b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "3", "Content": "x"})
	if f := b.Reply("3"); f.Type != "ERROR" || f.ErrorCode != 429 {
		t.Fatalf("third message in a 2/s room: %+v, want ERROR 429", f)
	}
	h.clock.Advance(time.Second)
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "4", "Content": "x"})
	if f := a.Reply("4"); f.Type != "MESSAGE" {
		t.Fatalf("after a second: %+v, want MESSAGE", f)
	}
	// Per connection: ten requests a second, whatever they are.
	h.clock.Advance(time.Second)
	for range 10 {
		a.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": wstest.RequestID(), "Id": "bad"})
	}
	a.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "eleventh", "Id": "bad"})
	if f := a.Reply("eleventh"); f.ErrorCode != 429 {
		t.Fatalf("eleventh request: %+v, want ERROR 429", f)
	}
	h.clock.Advance(time.Second)
	a.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "later", "Id": "bad"})
	if f := a.Reply("later"); f.ErrorCode != 403 {
		t.Fatalf("a second later: %+v, want ERROR 403 (no capability), not 429", f)
	}
}

// Ensure a room's new limits (OpUpdateRoom) apply to connections already open.
func TestUpdateRoom(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	c := h.dial(h.token(room, "u", parley.CapSendMessage))
	room.MaximumMessageLength = 5
	h.store.putRoom(room)
	h.hub.Apply([]parley.Command{{Op: parley.OpUpdateRoom, Scope: room.Scope, Room: room.ID}})
	c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r", "Content": "123456"})
	if f := c.Next(); f.ErrorCode != 413 {
		t.Fatalf("after UpdateRoom: %+v, want ERROR 413", f)
	}
}

// Ensure DELETE_MESSAGE needs its capability and reaches the room as
// aws:DELETE_MESSAGE with the client's RequestId, message ID and reason.
func TestDeleteMessage(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	c := h.dial(h.token(room, "u"))
	mod := h.dial(h.token(room, "mod", parley.CapDeleteMessage))
	c.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "no", "Id": "abcdEFGH1234"})
	if f := c.Next(); f.ErrorCode != 403 || f.RequestID != "no" {
		t.Fatalf("DELETE_MESSAGE without capability: %+v, want ERROR 403", f)
	}
	mod.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "del", "Id": "abcdEFGH1234", "Reason": "spam"})
	for _, cl := range []*client{c, mod} {
		f := cl.Next()
		if f.Type != "EVENT" || f.EventName != "aws:DELETE_MESSAGE" || f.RequestID != "del" || len(f.ID) != 12 ||
			f.Attributes["MessageId"] != "abcdEFGH1234" || f.Attributes["MessageID"] != "abcdEFGH1234" || f.Attributes["Reason"] != "spam" || f.SendTime == "" {
			t.Fatalf("DELETE_MESSAGE event = %+v", f)
		}
	}
	mod.Send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "noreason", "Id": "abcdEFGH1234"})
	if f := c.Next(); f.RequestID != "noreason" || len(f.Attributes) != 2 {
		t.Fatalf("DELETE_MESSAGE without a reason = %+v, want no Reason attribute", f)
	}
}

// Ensure a client with DISCONNECT_USER can disconnect another (itself
// included), its request answered by the notice carrying its RequestId,
// and that without the capability it is refused.
func TestDisconnectUserFromClient(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	mod := h.dial(h.token(room, "mod", parley.CapDisconnectUser))
	troll := h.dial(h.token(room, "troll"))
	mod.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "kick", "UserId": "troll", "Reason": "rude"})
	if f := mod.NextOf("EVENT"); f.EventName != "aws:DISCONNECT_USER" || f.RequestID != "kick" || f.Attributes["UserId"] != "troll" || f.Attributes["Reason"] != "rude" {
		t.Fatalf("moderator got %+v", f)
	}
	if f := troll.NextOf("EVENT"); f.EventName != "aws:DISCONNECT_USER" || f.RequestID != "kick" {
		t.Fatalf("target got %+v", f)
	}
	if code := troll.WantClose(); code != ws.StatusNormalClosure {
		t.Fatalf("close code %d, want 1000", code)
	}
	h.svc.mu.Lock()
	cmd := h.svc.disconnects[0]
	h.svc.mu.Unlock()
	if cmd.Scope != room.Scope || cmd.Room != room.ID || cmd.User != "troll" || cmd.Reason != "rude" || cmd.RequestID != "kick" {
		t.Fatalf("Disconnect called with %+v", cmd)
	}
	troll2 := h.dial(h.token(room, "troll"))
	troll2.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "revenge", "UserId": "mod"})
	if f := troll2.Next(); f.ErrorCode != 403 || f.RequestID != "revenge" {
		t.Fatalf("DISCONNECT_USER without capability: %+v, want ERROR 403", f)
	}
	// Disconnecting oneself: the call runs off the reader, so it can close it.
	mod.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "me", "UserId": "mod"})
	if f := mod.NextOf("EVENT"); f.RequestID != "me" {
		t.Fatalf("self-disconnect notice = %+v", f)
	}
	mod.WantClose()
}

// Ensure a request the service cannot carry out is answered ERROR 500.
func TestServiceErrors(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	c := h.dial(h.token(room, "u", parley.CapSendMessage, parley.CapDisconnectUser))
	h.svc.failing("PublishRoom", errors.New("bus down"))
	h.svc.failing("Disconnect", errors.New("store down"))
	c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "m", "Content": "x"})
	if f := c.Next(); f.Type != "ERROR" || f.ErrorCode != 500 || f.RequestID != "m" {
		t.Fatalf("SEND_MESSAGE with the bus down: %+v, want ERROR 500", f)
	}
	c.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "d", "UserId": "x"})
	if f := c.Next(); f.Type != "ERROR" || f.ErrorCode != 500 || f.RequestID != "d" {
		t.Fatalf("DISCONNECT_USER with the store down: %+v, want ERROR 500", f)
	}
}

// Ensure room traffic published on the bus (SendEvent, DeleteMessage, other
// nodes' messages) reaches every socket of the room and no other.
func TestBusEvents(t *testing.T) {
	h := newTestHub(t)
	room, other := h.room(0, 0), h.room(0, 0)
	c := h.dial(h.token(room, "u"))
	o := h.dial(h.token(other, "o"))
	now := h.clock.Now()
	publish := func(ev parley.Event) {
		t.Helper()
		if err := h.bus.Publish(context.Background(), parley.RoomSubject(room.Scope, room.ID), ev); err != nil {
			t.Fatal(err)
		}
	}
	publish(parley.Event{Type: parley.EventEvent, Room: room.Scope, RoomID: room.ID, ID: "evt000000001", Name: "app:quiz",
		Attributes: map[string]string{"q": "1"}, SendTime: now})
	if f := c.Next(); f.Type != "EVENT" || f.EventName != "app:quiz" || f.ID != "evt000000001" || f.Attributes["q"] != "1" || f.RequestID != "" || f.SendTime == "" {
		t.Fatalf("event frame = %+v", f)
	}
	publish(parley.Event{Type: parley.EventMessage, Room: room.Scope, RoomID: room.ID, ID: "msg000000001", RequestID: "r",
		Content: "from afar", Sender: &parley.Sender{UserID: "remote"}, SendTime: now})
	if f := c.Next(); f.Type != "MESSAGE" || f.Content != "from afar" || f.Sender.UserID != "remote" || f.RequestID != "r" {
		t.Fatalf("message frame = %+v", f)
	}
	// Control traffic is not room traffic.
	publish(parley.Event{Type: parley.EventControl, Room: room.Scope, RoomID: room.ID})
	c.Quiet(50 * time.Millisecond)
	o.Quiet(0)
	if s := h.hub.Stats(); s.IVSEvents != 1 || s.IVSMessages != 1 {
		t.Fatalf("Stats = %+v, want one event and one message", s)
	}
}

// Ensure the hub subscribes to a room's traffic with its first local
// connection and unsubscribes after its last.
func TestRoomSubscription(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	a := h.dial(h.token(room, "a"))
	b := h.dial(h.token(room, "b"))
	if n := h.hub.RoomCount(); n != 1 {
		t.Fatalf("RoomCount = %d, want 1", n)
	}
	a.Write(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	a.WantClose()
	b.Write(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	b.WantClose()
	eventually(t, "the room to be dropped", func() bool { return h.hub.RoomCount() == 0 && h.hub.Count() == 0 })
	// A new connection subscribes again and receives the room.
	c := h.dial(h.token(room, "c", parley.CapSendMessage))
	c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "again", "Content": "x"})
	if f := c.Next(); f.RequestID != "again" {
		t.Fatalf("after resubscribing: %+v", f)
	}
}

// Ensure an open session that expires gets ERROR 401 and a clean close,
// and requests after expiry are refused with 401.
func TestSessionExpiry(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	c := h.dial(h.token(room, "u", parley.CapSendMessage))
	h.hub.Sweep()
	c.Quiet(20 * time.Millisecond)
	h.clock.Advance(parley.DefaultSessionDuration)
	c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "late", "Content": "x"})
	if f := c.Next(); f.ErrorCode != 401 || f.RequestID != "late" {
		t.Fatalf("request after expiry: %+v, want ERROR 401", f)
	}
	h.hub.Sweep()
	if f := c.Next(); f.Type != "ERROR" || f.ErrorCode != 401 || f.RequestID != "" {
		t.Fatalf("at session expiry got %+v, want ERROR 401", f)
	}
	if code := c.WantClose(); code != ws.StatusNormalClosure {
		t.Fatalf("close code %d, want 1000", code)
	}
	eventually(t, "the hub to forget the connection", func() bool { return h.hub.Count() == 0 })
}

// fakeReviewer answers reviews by content.
type fakeReviewer struct{}

func (fakeReviewer) Review(ctx context.Context, lambdaARN string, req ReviewRequest) (*ReviewResponse, error) {
	switch {
	case strings.Contains(req.Content, "fail"):
		return nil, errors.New("no answer")
	case strings.Contains(req.Content, "bad"):
		return &ReviewResponse{ReviewResult: "DENY"}, nil
	}
	return &ReviewResponse{ReviewResult: "ALLOW", Content: strings.ToUpper(req.Content) + " by " + req.Sender.UserID,
		Attributes: map[string]string{"reviewed": req.MessageID[:3]}}, nil
}

// Ensure a room's review handler can rewrite and deny messages (ERROR
// 406), and that its fallback result applies when it cannot answer.
func TestMessageReview(t *testing.T) {
	h := newTestHub(t, func(c *Config) { c.Reviewer = fakeReviewer{} })
	allow := h.room(0, 0)
	allow.MessageReviewHandler = &parley.MessageReviewHandler{URI: "arn:aws:lambda:us-east-1:123456789012:function:f", FallbackResult: parley.ReviewAllow}
	h.store.putRoom(allow)
	deny := h.room(0, 0)
	deny.MessageReviewHandler = &parley.MessageReviewHandler{URI: "arn:aws:lambda:us-east-1:123456789012:function:f", FallbackResult: parley.ReviewDeny}
	h.store.putRoom(deny)

	a := h.dial(h.token(allow, "ann", parley.CapSendMessage))
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "1", "Content": "hello"})
	if f := a.Next(); f.Type != "MESSAGE" || f.Content != "HELLO by ann" || f.Attributes["reviewed"] != f.ID[:3] {
		t.Fatalf("rewritten message = %+v", f)
	}
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "2", "Content": "bad words"})
	if f := a.Next(); f.Type != "ERROR" || f.ErrorCode != 406 || f.RequestID != "2" {
		t.Fatalf("denied message = %+v, want ERROR 406", f)
	}
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "3", "Content": "fail"})
	if f := a.Next(); f.Type != "MESSAGE" || f.Content != "fail" {
		t.Fatalf("failed review with fallback ALLOW = %+v, want the original message", f)
	}
	d := h.dial(h.token(deny, "dan", parley.CapSendMessage))
	d.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "4", "Content": "fail"})
	if f := d.Next(); f.ErrorCode != 406 || f.RequestID != "4" {
		t.Fatalf("failed review with fallback DENY = %+v, want ERROR 406", f)
	}
}
