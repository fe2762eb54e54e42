package ws

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
)

// IsUpgrade reports whether r asks for a WebSocket.
func IsUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// ServeHTTP accepts a messaging connection on any path. The chat token is
// the requested subprotocol and is echoed back. A token that cannot be used
// is refused at the upgrade with a plain HTTP error: answering ERROR 401
// after accepting would make the JS client reconnect in a loop.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.refuseFenced(w) {
		return
	}
	// Few handshakes at a time: a reconnect storm (a node lost, every
	// client coming back at once) must not put thousands of store calls in
	// flight, nor thousands of goroutines deep in the store driver, whose
	// grown stacks stay in the process's memory after the storm.
	select {
	case h.handshakes <- struct{}{}:
		defer func() { <-h.handshakes }()
	case <-r.Context().Done():
		return
	}
	token := strings.TrimSpace(strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",")[0])
	if token == "" {
		http.Error(w, "missing token: pass it as the WebSocket subprotocol", http.StatusUnauthorized)
		return
	}
	if r.URL.Path == DevicePath {
		h.serveDevice(w, r, token)
		return
	}
	grant, err := h.tokens.Open(token)
	if err != nil {
		http.Error(w, "invalid chat token", http.StatusUnauthorized)
		return
	}
	now := h.clock.Now()
	if !now.Before(grant.TokenExpires) {
		http.Error(w, "chat token expired", http.StatusUnauthorized)
		return
	}
	if !now.Before(grant.SessionExpires) {
		http.Error(w, "chat session expired", http.StatusUnauthorized)
		return
	}
	info, err := h.store.Room(r.Context(), grant.Room, grant.RoomID)
	if err != nil {
		if parley.KindOf(err) == parley.KindNotFound {
			http.Error(w, "room not found", http.StatusNotFound)
			return
		}
		h.log.Error("loading room for connection", "room", grant.RoomID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// Register before answering the upgrade: once the client sees 101 it is
	// connected as far as it knows, and a DisconnectUser issued from then on
	// must find it. Frames queued meanwhile wait for start.
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	c := &conn{hub: h, caps: capsOf(grant.Capabilities), attrs: grant.Attributes, user: grant.UserID, expires: grant.SessionExpires, ip: ip, done: make(chan struct{}), writing: true}
	c.lastRead.Store(time.Now().UnixNano())
	if !h.add(c, info) {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	// A DeleteRoom that committed between the check above and add found no
	// connection to close: look again now that c is registered.
	if _, err := h.store.Room(r.Context(), grant.Room, grant.RoomID); err != nil {
		c.kill()
		http.Error(w, "room not found", http.StatusNotFound)
		return
	}
	// Spent in the store, so a token opens one connection once across all
	// nodes; only now that c is registered, so that a ban stored from now
	// on finds c, and one stored before is seen by the spend, whenever the
	// token was minted. A banned user's token is not spent.
	if err := h.store.ConsumeToken(r.Context(), grant, h.clock.Now()); err != nil {
		c.kill()
		switch parley.KindOf(err) {
		case parley.KindConflict:
			http.Error(w, "chat token already used", http.StatusUnauthorized)
		case parley.KindForbidden:
			// A plain 403 at the upgrade: the JS client gives up after its
			// few reconnect attempts (each asking the application for a
			// token, which CreateChatToken refuses too), instead of looping.
			http.Error(w, parley.AsError(err).Message, http.StatusForbidden)
		default:
			h.log.Error("consuming chat token", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	h.upgrade(w, r, c, token)
}

// upgrade answers the WebSocket handshake for a registered connection,
// echoing the token as the subprotocol, and starts it.
func (h *Hub) upgrade(w http.ResponseWriter, r *http.Request, c *conn, token string) {
	up := ws.HTTPUpgrader{Timeout: 10 * time.Second, Protocol: func(p string) bool { return p == token }}
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		c.kill() // the upgrader answered the client
		return
	}
	// A TCP connection, or the server's wrapper counting it against its limits.
	if tc, ok := nc.(interface{ SetWriteBuffer(int) error }); ok {
		tc.SetWriteBuffer(socketSendBuffer)
	}
	if rw != nil && rw.Reader.Buffered() > 0 {
		nc = &bufferedConn{Conn: nc, r: rw.Reader}
	}
	// The reader runs on a fresh goroutine, whose stack starts small; this
	// one's may have grown while serving the request.
	c.start(nc)
}

// DevicePath is where signed-in Chime devices open their WebSocket, with
// the device session token as the subprotocol.
const DevicePath = "/parley/v1/device"

// serveDevice accepts a Chime device connection. The session must be
// unexpired and current: its user's session epoch unchanged (no LogoutUser
// or suspension since it was issued) and the user not suspended.
func (h *Hub) serveDevice(w http.ResponseWriter, r *http.Request, token string) {
	d, err := h.tokens.OpenSession(token)
	if err != nil {
		http.Error(w, "invalid session token", http.StatusUnauthorized)
		return
	}
	if !h.clock.Now().Before(d.Expires) {
		http.Error(w, "session expired", http.StatusUnauthorized)
		return
	}
	if status, msg := h.checkSession(r, d); status != 0 {
		http.Error(w, msg, status)
		return
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	c := &conn{hub: h, device: d, user: d.UserID, expires: d.Expires, ip: ip, done: make(chan struct{}), writing: true}
	c.lastRead.Store(time.Now().UnixNano())
	if !h.addDevice(c) {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	// A sign-out that committed after the check above but before addDevice
	// found no connection to close: check again now that c is registered.
	if status, msg := h.checkSession(r, d); status != 0 {
		c.kill()
		http.Error(w, msg, status)
		return
	}
	// Receive the user's rooms. Reading the memberships after registering
	// means a membership command issued from now on finds the device, and
	// one committed before is in what is read.
	if err := h.syncRooms(r.Context(), c); err != nil {
		c.kill()
		h.log.Error("loading device rooms", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.upgrade(w, r, c, token)
}

// checkSession returns an HTTP status and message if d may not connect.
func (h *Hub) checkSession(r *http.Request, d *parley.DeviceSession) (int, string) {
	u, err := h.store.ChimeUser(r.Context(), d.UserKey())
	switch {
	case parley.KindOf(err) == parley.KindNotFound:
		return http.StatusUnauthorized, "session revoked: the user no longer exists"
	case err != nil:
		h.log.Error("checking device session", "err", err)
		return http.StatusInternalServerError, "internal error"
	case u.RegistrationStatus == parley.UserSuspended:
		return http.StatusForbidden, "the user is suspended"
	case u.SessionEpoch != d.Epoch:
		return http.StatusUnauthorized, "session revoked: the user was signed out"
	}
	return 0, ""
}

// bufferedConn reads what the HTTP server had already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// SyscallConn exposes the socket for writes; reads must go through Read.
func (b *bufferedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := b.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}
