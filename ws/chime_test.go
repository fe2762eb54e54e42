package ws

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/wstest"
)

// Ensure a device's SEND_MESSAGE reaches exactly the room members'
// devices, the sender's included, in the Chime room frame shape.
func TestDeviceSendMessage(t *testing.T) {
	h := newTestHub(t)
	h.chimeUser("acc", "alice", "team")
	h.chimeUser("acc", "bob", "team")
	h.chimeUser("acc", "carol")
	a1, a2 := h.device(h.session("acc", "alice")), h.device(h.session("acc", "alice"))
	b := h.device(h.session("acc", "bob"))
	c := h.device(h.session("acc", "carol"))

	a1.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "hi", "RoomId": "team", "Content": "hello team"})
	for _, d := range []*client{a1, a2, b} {
		f := d.Next()
		if f.Type != "MESSAGE" || f.RoomID != "team" || f.Content != "hello team" || f.RequestID != "hi" || f.ID == "" || f.SendTime == "" ||
			f.Sender == nil || f.Sender.UserID != "alice" || f.Sender.Attributes["DisplayName"] != "alice" {
			t.Fatalf("MESSAGE = %+v", f)
		}
	}
	c.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "intrude", "RoomId": "team", "Content": "let me in"})
	if f := c.Next(); f.Type != "ERROR" || f.ErrorCode != 403 || f.RequestID != "intrude" {
		t.Fatalf("non-member post = %+v, want ERROR 403", f)
	}
	c.Quiet(20 * time.Millisecond)
	if got := h.hub.Stats().ChimeMessages; got != 3 {
		t.Fatalf("Stats().ChimeMessages = %d, want 3", got)
	}
}

// Ensure each bad device request gets an ERROR with its RequestId and the
// right code.
func TestDeviceErrors(t *testing.T) {
	h := newTestHub(t)
	h.chimeUser("acc", "alice", "team")
	d := h.device(h.session("acc", "alice"))
	tests := []struct {
		name string
		req  map[string]any
		code int
	}{
		{"no room", map[string]any{"Action": "SEND_MESSAGE", "Content": "x"}, 400},
		{"room not a string", map[string]any{"Action": "SEND_MESSAGE", "RoomId": 1, "Content": "x"}, 400},
		{"not a member", map[string]any{"Action": "SEND_MESSAGE", "RoomId": "other", "Content": "x"}, 403},
		{"empty content", map[string]any{"Action": "SEND_MESSAGE", "RoomId": "team", "Content": ""}, 400},
		{"content not a string", map[string]any{"Action": "SEND_MESSAGE", "RoomId": "team", "Content": true}, 400},
		{"content over 4096 code points", map[string]any{"Action": "SEND_MESSAGE", "RoomId": "team", "Content": strings.Repeat("é", 4097)}, 413},
		{"unknown action", map[string]any{"Action": "DELETE_MESSAGE", "RoomId": "team"}, 400},
		{"limit not a number", map[string]any{"Action": "GET_MESSAGES", "RoomId": "team", "Limit": "ten"}, 400},
		{"history of another room", map[string]any{"Action": "GET_MESSAGES", "RoomId": "other"}, 403},
	}
	for _, tt := range tests {
		id := wstest.RequestID()
		tt.req["RequestId"] = id
		h.clock.Advance(time.Second) // under the per-connection request rate
		d.Send(tt.req)
		if f := d.Next(); f.Type != "ERROR" || f.ErrorCode != tt.code || f.RequestID != id || f.ErrorMessage == "" {
			t.Errorf("%s: got %+v, want ERROR %d", tt.name, f, tt.code)
		}
	}
	h.clock.Advance(time.Second)
	d.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "max", "RoomId": "team", "Content": strings.Repeat("é", 4096)})
	if f := d.Next(); f.Type != "MESSAGE" || f.RequestID != "max" {
		t.Fatalf("4096 code points: %+v, want MESSAGE", f)
	}
}

// Ensure the service's errors reach the device as the ERROR code of their kind.
func TestDeviceServiceErrors(t *testing.T) {
	h := newTestHub(t)
	h.chimeUser("acc", "alice", "team")
	d := h.device(h.session("acc", "alice"))
	tests := []struct {
		err  error
		code int
		msg  string
	}{
		{parley.Errorf(parley.KindInvalid, "bad"), 400, "bad"},
		{parley.Errorf(parley.KindForbidden, "no"), 403, "no"},
		{parley.Errorf(parley.KindUnauthenticated, "who"), 403, "who"},
		{parley.Errorf(parley.KindNotFound, "gone"), 404, "gone"},
		{parley.Errorf(parley.KindThrottled, "slow down"), 429, "slow down"},
		{parley.Errorf(parley.KindUnavailable, "bus down"), 500, "internal error"},
		{errors.New("secret detail"), 500, "internal error"},
	}
	for _, tt := range tests {
		for _, action := range []string{"SEND_MESSAGE", "GET_MESSAGES"} {
			h.svc.failing("PostMessage", tt.err)
			h.svc.failing("RoomHistory", tt.err)
			id := wstest.RequestID()
			h.clock.Advance(time.Second)
			d.Send(map[string]any{"Action": action, "RequestId": id, "RoomId": "team", "Content": "x"})
			if f := d.Next(); f.Type != "ERROR" || f.ErrorCode != tt.code || f.RequestID != id || f.ErrorMessage != tt.msg {
				t.Errorf("%s failing with %v: got %+v, want ERROR %d %q", action, tt.err, f, tt.code, tt.msg)
			}
		}
	}
}

// Ensure GET_MESSAGES answers a MESSAGES frame with the room's history, in
// the MESSAGE shape, the latest Limit of them.
func TestDeviceHistory(t *testing.T) {
	h := newTestHub(t)
	h.chimeUser("acc", "alice", "team")
	d := h.device(h.session("acc", "alice"))
	d.Send(map[string]any{"Action": "GET_MESSAGES", "RequestId": "empty", "RoomId": "team"})
	if f := d.Next(); f.Type != "MESSAGES" || f.RoomID != "team" || f.RequestID != "empty" || f.Messages == nil || len(f.Messages) != 0 {
		t.Fatalf("history of an empty room = %+v", f)
	}
	for _, s := range []string{"one", "two", "three"} {
		d.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": s, "RoomId": "team", "Content": s})
		d.Reply(s)
	}
	d.Send(map[string]any{"Action": "GET_MESSAGES", "RequestId": "h", "RoomId": "team", "Limit": 2})
	f := d.Reply("h")
	if f.Type != "MESSAGES" || len(f.Messages) != 2 {
		t.Fatalf("GET_MESSAGES = %+v, want two messages", f)
	}
	for i, want := range []string{"two", "three"} {
		m := f.Messages[i]
		if m.Type != "MESSAGE" || m.Content != want || m.RoomID != "team" || m.ID == "" || m.SendTime == "" ||
			m.Sender == nil || m.Sender.UserID != "alice" || m.Sender.Attributes["DisplayName"] != "alice" {
			t.Fatalf("message %d = %+v, want %q", i, m, want)
		}
	}
}
