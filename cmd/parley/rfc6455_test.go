package main

import (
	"testing"

	"github.com/parley-chat/parley/internal/wstest"
)

// sockets opens one raw socket of each kind: an IVS messaging connection
// and a Chime device connection, both served by the same reader.
func sockets(t *testing.T, m *Main) map[string]func(t *testing.T) *wstest.RawSocket {
	t.Helper()
	room := newRoom(t, m, nil)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	user := registeredUser(t, m, acc, "rfc@example.com")
	open := func(t *testing.T, path, token string) *wstest.RawSocket {
		nc, r, _, status, err := wsDial(t, m, path, token, 0)
		if err != nil || nc == nil {
			t.Fatalf("dial %s: %v (%d)", path, err, status)
		}
		return &wstest.RawSocket{T: t, NC: nc, R: r}
	}
	return map[string]func(t *testing.T) *wstest.RawSocket{
		"ivschat": func(t *testing.T) *wstest.RawSocket { return open(t, "/", token(t, m, room.Arn, "u", capSend)) },
		"chime": func(t *testing.T) *wstest.RawSocket {
			return open(t, "/parley/v1/device", mustSession(t, m, acc, user))
		},
	}
}

// Ensure both sockets of the running server close with the code RFC 6455
// prescribes for each kind of malformed frame, and take what it allows
// (the cases are package ws's too, there against a hub alone).
func TestRFC6455Strict(t *testing.T) {
	wstest.RunStrict(t, sockets(t, MustRunMain(t)), 64<<10)
}
