package ws

import (
	"context"
	"net/http"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
)

// Fence drops every connection (without a close frame, so clients
// reconnect, elsewhere) and refuses new ones until Unfence. A node fences
// itself when it has lost the bus or the store for longer than its lease:
// it can no longer learn of revocations, so it must not serve anyone.
func (h *Hub) Fence() {
	h.mu.Lock()
	if h.fenced {
		h.mu.Unlock()
		return
	}
	h.fenced = true
	all := h.allLocked()
	h.mu.Unlock()
	h.log.Warn("fenced: dropping every connection until the bus and the store are back", "connections", len(all))
	for _, c := range all {
		c.kill()
	}
}

// Unfence accepts connections again.
func (h *Hub) Unfence() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fenced {
		h.fenced = false
		h.log.Info("unfenced: accepting connections again")
	}
}

// Fenced reports whether the hub refuses connections.
func (h *Hub) Fenced() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.fenced
}

// refuseFenced answers 503 while fenced; it reports whether it did.
func (h *Hub) refuseFenced(w http.ResponseWriter) bool {
	if h.Fenced() {
		http.Error(w, "this node is fenced off: try another", http.StatusServiceUnavailable)
		return true
	}
	return false
}

// Revalidate checks every open connection against the store, for when this
// node may have missed commands (its bus connection dropped and came back
// within the lease): devices of signed-out or suspended users are closed and
// devices' rooms re-read; chat connections of deleted rooms, and of users
// banned from their room, are closed.
func (h *Hub) Revalidate(ctx context.Context) {
	h.mu.RLock()
	all := h.allLocked()
	h.mu.RUnlock()
	closed := 0
	for _, c := range all {
		switch {
		case c.device != nil:
			u, err := h.store.ChimeUser(ctx, c.device.UserKey())
			if parley.KindOf(err) == parley.KindNotFound || err == nil && (u.RegistrationStatus == parley.UserSuspended || u.SessionEpoch != c.device.Epoch) {
				c.send(compile(ws.OpText, signedOutFrame("revoked", h.clock.Now())))
				c.closeWith(ws.StatusNormalClosure, "signed out")
				closed++
				continue
			}
			if err == nil {
				h.syncRooms(ctx, c)
			}
		case c.room != nil:
			if _, err := h.store.Room(ctx, c.room.key.scope, c.room.key.id); parley.KindOf(err) == parley.KindNotFound {
				c.closeWith(ws.StatusNormalClosure, "room deleted")
				closed++
				continue
			}
			// A ban whose command this node missed.
			if _, err := h.store.ActiveBan(ctx, c.room.key.scope, c.room.key.id, c.user, h.clock.Now()); err == nil {
				c.closeWith(ws.StatusNormalClosure, "banned")
				closed++
			}
		}
	}
	h.log.Info("revalidated connections after a bus outage", "checked", len(all), "closed", closed)
}
