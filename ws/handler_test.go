package ws

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
)

// Ensure a usable chat token opens a connection, echoed as the subprotocol,
// and that every unusable one is refused at the upgrade with a plain HTTP
// status, never accepted and then answered with ERROR 401 (which would
// make the JS client reconnect in a loop).
func TestHandshake(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	gone := &parley.Room{Scope: testScope, ID: parley.NewID()}
	otherKey, _ := chattoken.NewKey()
	other, _ := chattoken.NewSealer(otherKey)
	foreign, _ := other.Seal(h.grant(room, "u"))

	expiredToken := h.grant(room, "u")
	expiredToken.TokenExpires = h.clock.Now().Add(-time.Millisecond)
	expiredSession := h.grant(room, "u")
	expiredSession.SessionExpires = h.clock.Now()
	used := h.token(room, "u")
	h.dial(used)

	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"garbage", "not-a-token", http.StatusUnauthorized},
		{"token of another key", foreign, http.StatusUnauthorized},
		{"device session token", h.session("acc", "u"), http.StatusUnauthorized},
		{"token expired", h.seal(expiredToken), http.StatusUnauthorized},
		{"session expired", h.seal(expiredSession), http.StatusUnauthorized},
		{"reused token", used, http.StatusUnauthorized},
		{"room deleted", h.token(gone, "u"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, status := h.dialStatus("/", tt.token); c != nil || status != tt.want {
				t.Fatalf("handshake = %d, want %d", status, tt.want)
			}
		})
	}
	eventually(t, "refused connections to be forgotten", func() bool { return h.hub.Count() == 1 })
}

// Ensure a ban refuses the handshake with 403 and its message, whether of
// the room or of every room of the account, until it expires; and that a
// refused token is not spent.
func TestHandshakeBan(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	for _, banned := range []string{room.ID, ""} {
		tok := h.token(room, "troll")
		b := &parley.Ban{Scope: testScope, RoomID: banned, UserID: "troll", Reason: "spam", ExpireTime: h.clock.Now().Add(time.Minute)}
		h.store.mu.Lock()
		h.store.bans[banKey{testScope, banned, "troll"}] = b
		h.store.mu.Unlock()
		if c, status := h.dialStatus("/", tok); c != nil || status != http.StatusForbidden {
			t.Fatalf("banned from %q: handshake = %d, want 403", banned, status)
		}
		h.clock.Advance(time.Minute) // the ban ends; the token was not spent
		h.dial(tok)
	}
	eventually(t, "the hub to hold the two connections", func() bool { return h.hub.Count() == 2 })
}

// Ensure the store failing at any step of the handshake answers 500 and
// leaves no connection behind.
func TestHandshakeStoreErrors(t *testing.T) {
	for _, method := range []string{"Room", "ConsumeToken"} {
		t.Run(method, func(t *testing.T) {
			h := newTestHub(t)
			room := h.room(0, 0)
			h.store.failing(method, errors.New("disk on fire"))
			if c, status := h.dialStatus("/", h.token(room, "u")); c != nil || status != http.StatusInternalServerError {
				t.Fatalf("handshake = %d, want 500", status)
			}
			eventually(t, "the hub to forget the connection", func() bool { return h.hub.Count() == 0 })
		})
	}
}

// Ensure a fenced node refuses handshakes with 503 and drops its
// connections without a close frame (so clients reconnect elsewhere), and
// accepts connections again once unfenced.
func TestFence(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	h.chimeUser("acc", "alice")
	c := h.dial(h.token(room, "u"))
	d := h.device(h.session("acc", "alice"))

	h.hub.Fence()
	if !h.hub.Fenced() {
		t.Fatal("Fenced() = false after Fence")
	}
	c.WantDropped()
	d.WantDropped()
	if n, dn := h.hub.Count(), h.hub.DeviceCount(); n != 0 || dn != 0 {
		t.Fatalf("fenced hub holds %d chat and %d device connections, want none", n, dn)
	}
	if _, status := h.dialStatus("/", h.token(room, "u")); status != http.StatusServiceUnavailable {
		t.Fatalf("chat handshake while fenced = %d, want 503", status)
	}
	if _, status := h.dialStatus(DevicePath, h.session("acc", "alice")); status != http.StatusServiceUnavailable {
		t.Fatalf("device handshake while fenced = %d, want 503", status)
	}
	h.hub.Fence() // again: harmless

	h.hub.Unfence()
	if h.hub.Fenced() {
		t.Fatal("Fenced() = true after Unfence")
	}
	h.dial(h.token(room, "u"))
	h.device(h.session("acc", "alice"))
}

// Ensure shutdown drops sockets without a close frame (for the JS client
// only an abnormal end means "reconnect") and refuses new connections.
func TestShutdown(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	h.chimeUser("acc", "alice")
	c := h.dial(h.token(room, "u"))
	d := h.device(h.session("acc", "alice"))
	if err := h.hub.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	c.WantDropped()
	d.WantDropped()
	if _, status := h.dialStatus("/", h.token(room, "u")); status != http.StatusServiceUnavailable {
		t.Fatalf("handshake after shutdown = %d, want 503", status)
	}
	if _, status := h.dialStatus(DevicePath, h.session("acc", "alice")); status != http.StatusServiceUnavailable {
		t.Fatalf("device handshake after shutdown = %d, want 503", status)
	}
}

// Ensure a device connects only with a current session of an existing,
// unsuspended user, and is refused at the upgrade otherwise.
func TestDeviceHandshake(t *testing.T) {
	h := newTestHub(t)
	h.chimeUser("acc", "alice")
	h.chimeUser("acc", "sus")
	h.chimeUser("acc", "moved")
	room := h.room(0, 0)

	expired := h.session("acc", "alice")
	suspended := h.session("acc", "sus")
	stale := h.session("acc", "moved")
	h.store.updateUser("acc", "sus", func(u *parley.ChimeUser) { u.RegistrationStatus = parley.UserSuspended })
	h.store.updateUser("acc", "moved", func(u *parley.ChimeUser) { u.SessionEpoch++ }) // LogoutUser

	d := h.device(h.session("acc", "alice"))
	if n := h.hub.DeviceCount(); n != 1 {
		t.Fatalf("DeviceCount = %d, want 1", n)
	}
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"garbage", "not-a-token", http.StatusUnauthorized},
		{"chat token", h.token(room, "alice"), http.StatusUnauthorized},
		{"unknown user", h.session("acc", "nobody"), http.StatusUnauthorized},
		{"suspended user", suspended, http.StatusForbidden},
		{"signed out since", stale, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, status := h.dialStatus(DevicePath, tt.token); c != nil || status != tt.want {
				t.Fatalf("handshake = %d, want %d", status, tt.want)
			}
		})
	}
	h.clock.Advance(13 * time.Hour)
	if _, status := h.dialStatus(DevicePath, expired); status != http.StatusUnauthorized {
		t.Fatalf("expired session = %d, want 401", status)
	}
	// The open device lives until its session ends, then gets ERROR 401 and a clean close.
	h.hub.Sweep()
	if f := d.Next(); f.Type != "ERROR" || f.ErrorCode != 401 {
		t.Fatalf("at session expiry the device got %+v, want ERROR 401", f)
	}
	d.WantClose()
	eventually(t, "the hub to forget the device", func() bool { return h.hub.DeviceCount() == 0 })
}

// Ensure the store failing during a device handshake answers 500 and
// leaves no device behind.
func TestDeviceHandshakeStoreErrors(t *testing.T) {
	for _, method := range []string{"ChimeUser", "MemberRooms"} {
		t.Run(method, func(t *testing.T) {
			h := newTestHub(t)
			h.chimeUser("acc", "alice", "room1")
			h.store.failing(method, errors.New("disk on fire"))
			if c, status := h.dialStatus(DevicePath, h.session("acc", "alice")); c != nil || status != http.StatusInternalServerError {
				t.Fatalf("handshake = %d, want 500", status)
			}
			eventually(t, "the hub to forget the device", func() bool { return h.hub.DeviceCount() == 0 })
		})
	}
}
