package ws

import (
	"testing"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/wstest"
)

// Ensure both sockets (IVS messaging and Chime device, served by the same
// reader) close with the code RFC 6455 prescribes for each kind of
// malformed frame, and take what it allows.
func TestRFC6455Strict(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	h.chimeUser("acc", "rfc")
	wstest.RunStrict(t, map[string]func(t *testing.T) *wstest.RawSocket{
		"ivschat": func(t *testing.T) *wstest.RawSocket {
			nc, r, _, _ := h.rawDial("/", h.token(room, "u", parley.CapSendMessage))
			return &wstest.RawSocket{T: t, NC: nc, R: r}
		},
		"chime": func(t *testing.T) *wstest.RawSocket {
			nc, r, _, _ := h.rawDial(DevicePath, h.session("acc", "rfc"))
			return &wstest.RawSocket{T: t, NC: nc, R: r}
		},
	}, maxFrame)
}

// Ensure the control-frame limit is the configured one.
func TestControlRateConfig(t *testing.T) {
	h := newTestHub(t, func(c *Config) { c.ControlRate, c.ControlBurst = 1, 3 })
	room := h.room(0, 0)
	nc, r, _, _ := h.rawDial("/", h.token(room, "u"))
	s := &wstest.RawSocket{T: t, NC: nc, R: r}
	for range 3 {
		s.Frame(ws.Header{Fin: true, OpCode: ws.OpPing}, nil)
		if hd, _, ok := s.Next(); !ok || hd.OpCode != ws.OpPong {
			t.Fatalf("a ping within the burst of 3 was not answered: %v %v", hd.OpCode, ok)
		}
	}
	s.Frame(ws.Header{Fin: true, OpCode: ws.OpPing}, nil)
	if got := s.CloseCode(); got != ws.StatusPolicyViolation {
		t.Fatalf("the fourth ping: close code %d, want 1008", got)
	}
}
