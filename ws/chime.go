package ws

import (
	"context"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// Events a Chime device receives about its rooms.
const (
	EventMembershipAdded   = "parley:MEMBERSHIP_ADDED"   // this user was added to RoomId
	EventMembershipRemoved = "parley:MEMBERSHIP_REMOVED" // this user was removed from RoomId: no more messages from it
	EventMembershipChanged = "parley:MEMBERSHIP_CHANGED" // someone joined or left RoomId
	EventRoomDeleted       = "parley:ROOM_DELETED"
)

// maxChimeMessage bounds a Chime room message, in code points.
const maxChimeMessage = 4096

// chimeRoom is this node's view of a Chime room with local device connections.
type chimeRoom struct {
	conns map[*conn]struct{}
	sub   subscription
	out   deliveries // traffic from the bus, on its way to conns
}

// chimeKey names device c's room.
func (c *conn) chimeKey(room string) parley.ChimeRoomKey {
	return c.device.UserKey().Room(room)
}

// joinLocked adds device c to a Chime room and returns the room, and
// whether c is its first local device: then the caller, once it has let go
// of h.mu, subscribes to the room's traffic (see subscribeRooms).
func (h *Hub) joinLocked(c *conn, room string) (*chimeRoom, bool) {
	k := c.chimeKey(room)
	if _, ok := c.rooms[room]; ok {
		return h.chimeRooms[k], false
	}
	r := h.chimeRooms[k]
	first := r == nil
	if first {
		r = &chimeRoom{conns: map[*conn]struct{}{}, sub: subscription{ready: make(chan struct{})}}
		h.chimeRooms[k] = r
	}
	r.conns[c] = struct{}{}
	if c.rooms == nil {
		c.rooms = map[string]struct{}{}
	}
	c.rooms[room] = struct{}{}
	return r, first
}

// subscribeRooms subscribes to the traffic of the Chime rooms joinLocked
// created and waits until every room in joined receives it. It reports the
// first subscription that failed.
func (h *Hub) subscribeRooms(created map[parley.ChimeRoomKey]*chimeRoom, joined []*chimeRoom) error {
	for k, r := range created {
		h.subscribe(&r.sub, parley.ChimeRoomSubject(k), func(ev parley.Event) { h.chimeEvent(k, ev) },
			func() bool { return h.chimeRooms[k] != r })
	}
	for _, r := range joined {
		<-r.sub.ready
		if r.sub.err != nil {
			return r.sub.err
		}
	}
	return nil
}

// leaveLocked removes device c from a Chime room; h.mu must be held.
func (h *Hub) leaveLocked(c *conn, room string) {
	if _, ok := c.rooms[room]; !ok {
		return
	}
	delete(c.rooms, room)
	k := c.chimeKey(room)
	if r := h.chimeRooms[k]; r != nil {
		delete(r.conns, c)
		if len(r.conns) == 0 {
			delete(h.chimeRooms, k)
			unsubscribeLocked(&r.sub)
		}
	}
}

// syncRooms makes device c a receiver of exactly the rooms its user is a
// member of in the store. A membership command that reaches c while the
// store is read would be undone by applying the read, so the read is
// repeated until no command came in between.
func (h *Hub) syncRooms(ctx context.Context, c *conn) error {
	for {
		h.mu.RLock()
		gen := c.roomGen
		h.mu.RUnlock()
		u := c.device.UserKey()
		ids, err := h.store.MemberRooms(ctx, u.ChimeAccountKey, u.User)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if c.roomGen != gen {
			h.mu.Unlock()
			continue
		}
		want := map[string]bool{}
		created := map[parley.ChimeRoomKey]*chimeRoom{}
		var joined []*chimeRoom
		for _, id := range ids {
			want[id] = true
			r, first := h.joinLocked(c, id)
			if first {
				created[c.chimeKey(id)] = r
			}
			joined = append(joined, r)
		}
		for id := range c.rooms {
			if !want[id] {
				h.leaveLocked(c, id)
			}
		}
		h.mu.Unlock()
		return h.subscribeRooms(created, joined)
	}
}

// chimeEvent delivers a Chime room's traffic to its local devices.
func (h *Hub) chimeEvent(k parley.ChimeRoomKey, ev parley.Event) {
	if ev.Type != parley.EventMessage {
		return
	}
	h.mu.RLock()
	r := h.chimeRooms[k]
	n := 0
	if r != nil {
		n = len(r.conns)
	}
	h.mu.RUnlock()
	if r == nil {
		return
	}
	h.enqueue(&r.out, n, func() {
		f := outFrame{Type: typeMessage, ID: ev.ID, RequestID: ev.RequestID, RoomID: k.Room, Content: &ev.Content, SendTime: awsproto.Time(ev.SendTime)}
		if ev.Sender != nil {
			f.Sender = &senderJSON{UserID: ev.Sender.UserID, Attributes: ev.Sender.Attributes}
		}
		h.stats.delivered(APIChime, ev.Type, h.chimeBroadcast(k, nil, f))
	})
}

// chimeBroadcast sends f to the local devices in room k, but skip, and
// returns how many it reached.
func (h *Hub) chimeBroadcast(k parley.ChimeRoomKey, skip map[*conn]bool, f outFrame) int {
	b, _ := json.Marshal(f)
	frame := compile(ws.OpText, b)
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	if r := h.chimeRooms[k]; r != nil {
		for c := range r.conns {
			if !skip[c] {
				c.send(frame)
				n++
			}
		}
	}
	return n
}

// roomEventFrame is a parley:* event about a Chime room.
func (h *Hub) roomEventFrame(name, room string, attrs map[string]string) outFrame {
	return outFrame{Type: typeEvent, ID: parley.NewID(), EventName: name, RoomID: room, Attributes: attrs, SendTime: awsproto.Time(h.clock.Now())}
}

// chimeApply starts a membership or Chime room command and returns the
// devices to wait for: those told they joined, left, or lost the room.
func (h *Hub) chimeApply(cmd parley.Command) []pending {
	k, room := cmd.Chime, cmd.Chime.Room
	notify := func(cs []*conn, f outFrame) []pending {
		b, _ := json.Marshal(f)
		frame := compile(ws.OpText, b)
		var waits []pending
		for _, c := range cs {
			waits = append(waits, pending{c, c.notify(frame)})
		}
		return waits
	}
	if cmd.Op == parley.OpDeleteChimeRoom {
		h.mu.Lock()
		var devices []*conn
		if r := h.chimeRooms[k]; r != nil {
			for c := range r.conns {
				devices = append(devices, c)
			}
		}
		for _, c := range devices {
			c.roomGen++
			h.leaveLocked(c, room)
		}
		h.mu.Unlock()
		return notify(devices, h.roomEventFrame(EventRoomDeleted, room, nil))
	}

	// The store has the last word on membership: a removal and a re-add
	// that reach this node out of order, or an old command replayed, leave
	// the member's devices as the store says. Only if the store cannot be
	// read does the command's own word count.
	join := cmd.Op == parley.OpAddMember
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if rooms, err := h.store.MemberRooms(ctx, k.ChimeAccountKey, cmd.User); err == nil {
		join = slices.Contains(rooms, room)
	}
	cancel()
	member := k.User(cmd.User)
	h.mu.Lock()
	devices := append([]*conn(nil), h.devices[member]...)
	var changed []*conn
	created := map[parley.ChimeRoomKey]*chimeRoom{}
	var joined []*chimeRoom
	for _, c := range devices {
		c.roomGen++
		_, in := c.rooms[room]
		switch {
		case join && !in:
			r, first := h.joinLocked(c, room)
			if first {
				created[k] = r
			}
			joined = append(joined, r)
			changed = append(changed, c)
		case !join && in:
			h.leaveLocked(c, room)
			changed = append(changed, c)
		}
	}
	h.mu.Unlock()
	if err := h.subscribeRooms(created, joined); err != nil {
		h.log.Error("subscribing a member's devices to a room", "room", room, "err", err)
	}
	skip := map[*conn]bool{}
	for _, c := range devices {
		skip[c] = true
	}
	var waits []pending
	if join {
		waits = notify(changed, h.roomEventFrame(EventMembershipAdded, room, nil))
		h.chimeBroadcast(k, skip, h.roomEventFrame(EventMembershipChanged, room, map[string]string{"MemberId": cmd.User, "Change": "added"}))
	} else {
		waits = notify(changed, h.roomEventFrame(EventMembershipRemoved, room, nil))
		h.chimeBroadcast(k, skip, h.roomEventFrame(EventMembershipChanged, room, map[string]string{"MemberId": cmd.User, "Change": "removed"}))
	}
	return waits
}

// deviceRequest runs a request from a Chime device.
func (h *Hub) deviceRequest(c *conn, requestID, action string, req *request) {
	room, present, ok := str(req.RoomID)
	if !ok || !present || room == "" {
		c.fail(requestID, 400, "RoomId is required")
		return
	}
	h.mu.RLock()
	_, member := c.rooms[room]
	h.mu.RUnlock()
	if !member {
		c.fail(requestID, 403, "not a member of room "+room)
		return
	}
	k := c.chimeKey(room).Member(c.device.UserID)
	switch action {
	case actionSendMessage:
		content, present, ok := str(req.Content)
		if !ok || !present || content == "" {
			c.fail(requestID, 400, "Content is required")
			return
		}
		if utf8.RuneCountInString(content) > maxChimeMessage {
			c.fail(requestID, 413, "Content exceeds 4096 characters")
			return
		}
		// The store has the last word on membership: a node that missed a
		// removal still refuses the post.
		if _, err := h.svc.PostMessage(context.Background(), k, requestID, content); err != nil {
			c.failErr(requestID, err)
		}
	case actionGetMessages:
		var limit int
		if len(req.Limit) > 0 {
			if err := json.Unmarshal(req.Limit, &limit); err != nil {
				c.fail(requestID, 400, "Limit must be a number")
				return
			}
		}
		msgs, err := h.svc.RoomHistory(context.Background(), k, limit)
		if err != nil {
			c.failErr(requestID, err)
			return
		}
		f := historyFrame{Type: typeMessages, ID: parley.NewID(), RequestID: requestID, RoomID: room, Messages: []outFrame{}}
		for _, m := range msgs {
			content := m.Content
			f.Messages = append(f.Messages, outFrame{Type: typeMessage, ID: m.MessageID, RoomID: room, Content: &content, SendTime: awsproto.Time(m.CreateTime),
				Sender: &senderJSON{UserID: m.SenderID, Attributes: map[string]string{"DisplayName": m.SenderName}}})
		}
		b, _ := json.Marshal(f)
		c.sendJSON(b)
	default:
		c.fail(requestID, 400, "unknown Action "+action)
	}
}

// failErr answers a request with the ERROR matching err's kind.
func (c *conn) failErr(requestID string, err error) {
	code := 500
	switch parley.KindOf(err) {
	case parley.KindInvalid:
		code = 400
	case parley.KindForbidden, parley.KindUnauthenticated:
		code = 403
	case parley.KindNotFound:
		code = 404
	case parley.KindThrottled:
		code = 429
	}
	msg := parley.AsError(err).Message
	if code == 500 {
		c.hub.log.Error("device request failed", "err", err)
		msg = "internal error"
	}
	c.fail(requestID, code, msg)
}

const (
	typeMessages      = "MESSAGES"
	actionGetMessages = "GET_MESSAGES"
)

// historyFrame answers GET_MESSAGES.
type historyFrame struct {
	Type      string     `json:"Type"`
	ID        string     `json:"Id"`
	RequestID string     `json:"RequestId,omitempty"`
	RoomID    string     `json:"RoomId"`
	Messages  []outFrame `json:"Messages"`
}
