package ws

import (
	"context"
	"regexp"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// Messaging limits.
const (
	maxContent   = 500  // code points, whatever the room allows
	maxAttrBytes = 1024 // keys and values, UTF-8
	maxReason    = 256
	maxUserID    = 128
)

var messageIDPattern = regexp.MustCompile(`^[a-zA-Z0-9]{12}$`)

func (h *Hub) sendMessage(c *conn, requestID string, req *request) {
	if !c.caps.can(parley.CapSendMessage) {
		c.fail(requestID, 403, "the chat token does not allow SEND_MESSAGE")
		return
	}
	content, present, ok := str(req.Content)
	if !ok {
		c.fail(requestID, 400, "Content must be a string")
		return
	}
	if !present || content == "" {
		c.fail(requestID, 400, "Content is required")
		return
	}
	attributes, ok := attrs(req.Attributes)
	if !ok {
		c.fail(requestID, 400, "Attributes must be an object of strings")
		return
	}
	info, limiter := c.room.settings()
	if n := utf8.RuneCountInString(content); n > min(info.MaximumMessageLength, maxContent) {
		c.fail(requestID, 413, "Content exceeds the room's maximum message length")
		return
	}
	if attrSize(attributes) > maxAttrBytes {
		c.fail(requestID, 413, "Attributes exceed 1 KB")
		return
	}
	now := h.clock.Now()
	if !limiter.AllowN(now, 1) {
		c.fail(requestID, 429, "the room's message rate is exceeded")
		return
	}
	ev := parley.Event{Type: parley.EventMessage, Room: info.Scope, RoomID: info.ID, ID: parley.NewID(), RequestID: requestID,
		Content: content, Attributes: attributes, SendTime: now,
		Sender: &parley.Sender{UserID: c.user, Attributes: c.attrs}}
	if info.MessageReviewHandler != nil {
		// Review may take up to its timeout; the reader goes on meanwhile.
		go h.reviewAndPublish(c, info, ev)
		return
	}
	h.publish(c, ev)
}

func (h *Hub) reviewAndPublish(c *conn, info *parley.Room, ev parley.Event) {
	allowed, content, attributes := h.review(info, ev, c.ip)
	if !allowed {
		c.fail(ev.RequestID, 406, "the message was rejected by the room's review handler")
		return
	}
	ev.Content, ev.Attributes = content, attributes
	h.publish(c, ev)
}

func (h *Hub) publish(c *conn, ev parley.Event) {
	if err := h.svc.PublishRoom(context.Background(), ev); err != nil {
		if parley.KindOf(err) == parley.KindThrottled {
			c.fail(ev.RequestID, 429, "the room's traffic is more than its listeners can take now; retry later")
			return
		}
		h.log.Error("publishing room traffic", "room", ev.RoomID, "err", err)
		c.fail(ev.RequestID, 500, "the request could not be delivered")
	}
}

// reason reads a request's optional Reason, answering the ERROR itself
// when it is not a string or too long.
func (c *conn) reason(requestID string, req *request) (string, bool) {
	reason, _, ok := str(req.Reason)
	if !ok {
		c.fail(requestID, 400, "Reason must be a string")
		return "", false
	}
	if utf8.RuneCountInString(reason) > maxReason {
		c.fail(requestID, 413, "Reason exceeds 256 characters")
		return "", false
	}
	return reason, true
}

func (h *Hub) deleteMessage(c *conn, requestID string, req *request) {
	if !c.caps.can(parley.CapDeleteMessage) {
		c.fail(requestID, 403, "the chat token does not allow DELETE_MESSAGE")
		return
	}
	id, present, ok := str(req.ID)
	if !ok || !present || !messageIDPattern.MatchString(id) {
		c.fail(requestID, 400, "Id must be a 12-character message ID")
		return
	}
	reason, ok := c.reason(requestID, req)
	if !ok {
		return
	}
	info, _ := c.room.settings()
	attributes := map[string]string{"MessageId": id, "MessageID": id}
	if reason != "" {
		attributes["Reason"] = reason
	}
	h.publish(c, parley.Event{Type: parley.EventEvent, Room: info.Scope, RoomID: info.ID, ID: parley.NewID(), RequestID: requestID,
		Name: parley.EventNameDeleteMessage, Attributes: attributes, SendTime: h.clock.Now()})
}

func (h *Hub) disconnectUser(c *conn, requestID string, req *request) {
	if !c.caps.can(parley.CapDisconnectUser) {
		c.fail(requestID, 403, "the chat token does not allow DISCONNECT_USER")
		return
	}
	userID, present, ok := str(req.UserID)
	if !ok || !present || userID == "" {
		c.fail(requestID, 400, "UserId is required")
		return
	}
	if utf8.RuneCountInString(userID) > maxUserID {
		c.fail(requestID, 413, "UserId exceeds 128 characters")
		return
	}
	reason, ok := c.reason(requestID, req)
	if !ok {
		return
	}
	info, _ := c.room.settings()
	// The requester may be the target; the call waits for the target's
	// socket to close, so it must not run on the requester's reader.
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		// Audited as the chat user who asked, in the room's account.
		ctx := parley.NewContextWithPrincipal(context.Background(), parley.Principal{AccessKeyID: "chat:" + c.user, Scope: info.Scope, Service: "ivschat"})
		if err := h.svc.Disconnect(ctx, info.Scope, info.ID, userID, reason, requestID); err != nil {
			h.log.Error("disconnecting user", "room", info.ID, "err", err)
			c.fail(requestID, 500, "the user could not be disconnected")
		}
	}()
}
