package ws

import (
	"context"
	"encoding/json"
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

// chimeRoomKey names a Chime room.
type chimeRoomKey struct {
	aws, account, room string
}

// chimeRoom is this node's view of a Chime room with local device connections.
type chimeRoom struct {
	conns map[*conn]struct{}
	unsub func()
}

func (c *conn) chimeKey(room string) chimeRoomKey {
	return chimeRoomKey{c.device.AwsAccountID, c.device.AccountID, room}
}

// joinLocked adds device c to a Chime room; h.mu must be held.
func (h *Hub) joinLocked(c *conn, room string) {
	if _, ok := c.rooms[room]; ok {
		return
	}
	k := c.chimeKey(room)
	r := h.chimeRooms[k]
	if r == nil {
		unsub, err := h.bus.Subscribe(context.Background(), parley.ChimeRoomSubject(k.aws, k.account, k.room), func(ev parley.Event) { h.chimeEvent(k, ev) })
		if err != nil {
			h.log.Error("subscribing to chime room", "room", room, "err", err)
			return
		}
		r = &chimeRoom{conns: map[*conn]struct{}{}, unsub: unsub}
		h.chimeRooms[k] = r
	}
	r.conns[c] = struct{}{}
	if c.rooms == nil {
		c.rooms = map[string]struct{}{}
	}
	c.rooms[room] = struct{}{}
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
			r.unsub()
			delete(h.chimeRooms, k)
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
		ids, err := h.store.MemberRooms(ctx, c.device.AwsAccountID, c.device.AccountID, c.device.UserID)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if c.roomGen != gen {
			h.mu.Unlock()
			continue
		}
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
			h.joinLocked(c, id)
		}
		for id := range c.rooms {
			if !want[id] {
				h.leaveLocked(c, id)
			}
		}
		h.mu.Unlock()
		return nil
	}
}

// chimeEvent delivers a Chime room's traffic to its local devices.
func (h *Hub) chimeEvent(k chimeRoomKey, ev parley.Event) {
	if ev.Type != parley.EventMessage {
		return
	}
	f := outFrame{Type: typeMessage, ID: ev.ID, RequestID: ev.RequestID, RoomID: k.room, Content: &ev.Content, SendTime: awsproto.Time(ev.SendTime)}
	if ev.Sender != nil {
		f.Sender = &senderJSON{UserID: ev.Sender.UserID, Attributes: ev.Sender.Attributes}
	}
	h.chimeBroadcast(k, nil, f)
}

// chimeBroadcast sends f to the local devices in room k, but skip.
func (h *Hub) chimeBroadcast(k chimeRoomKey, skip map[*conn]bool, f outFrame) {
	b, _ := json.Marshal(f)
	frame := compile(ws.OpText, b)
	h.mu.RLock()
	defer h.mu.RUnlock()
	if r := h.chimeRooms[k]; r != nil {
		for c := range r.conns {
			if !skip[c] {
				c.send(frame)
			}
		}
	}
}

// roomEventFrame is a parley:* event about a Chime room.
func (h *Hub) roomEventFrame(name, room string, attrs map[string]string) outFrame {
	return outFrame{Type: typeEvent, ID: parley.NewID(), EventName: name, RoomID: room, Attributes: attrs, SendTime: awsproto.Time(h.clock.Now())}
}

// chimeCommand carries out a membership or room command; it runs before the ack.
func (h *Hub) chimeCommand(ev parley.Event) {
	k := chimeRoomKey{ev.Room.AccountID, ev.Account, ev.RoomID}
	member := deviceKey{ev.Room.AccountID, ev.Account, ev.UserID}
	send := func(cs []*conn, f outFrame) {
		b, _ := json.Marshal(f)
		for _, c := range cs {
			c.send(compile(ws.OpText, b))
		}
	}
	switch ev.Type {
	case parley.EventMemberAdded:
		h.mu.Lock()
		devices := append([]*conn(nil), h.devices[member]...)
		for _, c := range devices {
			c.roomGen++
			h.joinLocked(c, ev.RoomID)
		}
		h.mu.Unlock()
		send(devices, h.roomEventFrame(EventMembershipAdded, ev.RoomID, nil))
		skip := map[*conn]bool{}
		for _, c := range devices {
			skip[c] = true
		}
		h.chimeBroadcast(k, skip, h.roomEventFrame(EventMembershipChanged, ev.RoomID, map[string]string{"MemberId": ev.UserID, "Change": "added"}))
	case parley.EventMemberRemoved:
		h.mu.Lock()
		devices := append([]*conn(nil), h.devices[member]...)
		for _, c := range devices {
			c.roomGen++
			h.leaveLocked(c, ev.RoomID)
		}
		h.mu.Unlock()
		send(devices, h.roomEventFrame(EventMembershipRemoved, ev.RoomID, nil))
		h.chimeBroadcast(k, nil, h.roomEventFrame(EventMembershipChanged, ev.RoomID, map[string]string{"MemberId": ev.UserID, "Change": "removed"}))
	case parley.EventChimeRoomDeleted:
		h.mu.Lock()
		var devices []*conn
		if r := h.chimeRooms[k]; r != nil {
			for c := range r.conns {
				devices = append(devices, c)
			}
		}
		for _, c := range devices {
			c.roomGen++
			h.leaveLocked(c, ev.RoomID)
		}
		h.mu.Unlock()
		send(devices, h.roomEventFrame(EventRoomDeleted, ev.RoomID, nil))
	}
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
	d := c.device
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
		if _, err := h.svc.PostMessage(context.Background(), d.AwsAccountID, d.AccountID, room, d.UserID, requestID, content); err != nil {
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
		msgs, err := h.svc.RoomHistory(context.Background(), d.AwsAccountID, d.AccountID, room, d.UserID, limit)
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
