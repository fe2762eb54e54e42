package service

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
)

// room checks the ARN and that the room exists.
func (s *Rooms) room(ctx context.Context, arn parley.ParsedARN) (parley.Scope, error) {
	sc, err := resolve(ctx, arn, "room")
	if err != nil {
		return sc, err
	}
	_, err = s.lookup(ctx, sc, arn.ID)
	return sc, err
}

// SendEvent broadcasts an application event to a room and returns its ID.
func (s *Rooms) SendEvent(ctx context.Context, arn parley.ParsedARN, name string, attrs map[string]string) (string, error) {
	sc, err := s.room(ctx, arn)
	if err != nil {
		return "", err
	}
	id := parley.NewID()
	if err := s.PublishRoom(ctx, parley.Event{Type: parley.EventEvent, Room: sc, RoomID: arn.ID, ID: id, Name: name, Attributes: attrs, SendTime: s.Clock.Now()}); err != nil {
		return "", busError(err)
	}
	return id, nil
}

// DeleteMessage tells a room's clients to remove a message; it returns the operation ID.
func (s *Rooms) DeleteMessage(ctx context.Context, arn parley.ParsedARN, messageID, reason string) (string, error) {
	sc, err := s.room(ctx, arn)
	if err != nil {
		return "", err
	}
	id := parley.NewID()
	attrs := map[string]string{"MessageId": messageID, "MessageID": messageID}
	if reason != "" {
		attrs["Reason"] = reason
	}
	if err := s.PublishRoom(ctx, parley.Event{Type: parley.EventEvent, Room: sc, RoomID: arn.ID, ID: id, Name: parley.EventNameDeleteMessage, Attributes: attrs, SendTime: s.Clock.Now()}); err != nil {
		return "", busError(err)
	}
	return id, nil
}

// busError is the answer to a request whose event the bus refused.
func busError(err error) error {
	if parley.KindOf(err) == parley.KindThrottled {
		return err // the node's back-pressure: ThrottlingException
	}
	return &parley.Error{Kind: parley.KindUnavailable, Op: "service.publish", Message: "the event could not be delivered: message bus unavailable", Err: err}
}

// DisconnectUser tells the room that userID is disconnected and closes every
// connection of that user in that room, on every node, before it returns.
// It is not a ban: a new token connects.
func (s *Rooms) DisconnectUser(ctx context.Context, arn parley.ParsedARN, userID, reason string) error {
	sc, err := s.room(ctx, arn)
	if err != nil {
		s.audit(ctx, "DisconnectUser", arn.Scope.ARN(arn.Kind, arn.ID)+" user "+userID, err)
		return err
	}
	return s.Disconnect(ctx, sc, arn.ID, userID, reason, "")
}

// Disconnect is DisconnectUser for a room already resolved; requestID is the
// messaging request that asked for it, if any, and travels with the notice.
func (s *Rooms) Disconnect(ctx context.Context, sc parley.Scope, roomID, userID, reason, requestID string) error {
	err := s.disconnect(ctx, sc, roomID, userID, reason, requestID, nil)
	s.audit(ctx, "DisconnectUser", sc.ARN("room", roomID)+" user "+userID, err)
	return err
}

// disconnect closes userID's connections in a room (or, with roomID "", in
// every room of sc) on every node, after aws:DISCONNECT_USER to the room.
// write, if not nil, is the change the command enforces (a ban): both
// commit together. DisconnectUser and CreateBan share it.
func (s *Rooms) disconnect(ctx context.Context, sc parley.Scope, roomID, userID, reason, requestID string, write func(context.Context) error) error {
	cmd := parley.Command{ID: parley.NewID(), Op: parley.OpDisconnectUser, Scope: sc, Room: roomID, User: userID,
		Reason: reason, RequestID: requestID, Time: s.Clock.Now()}
	err := s.Control.Do(ctx, write, cmd)
	if roomID != "" && (err == nil || control.Queued(err)) {
		// Every node sends the room this notice; it is logged once, here.
		s.record(context.WithoutCancel(ctx), parley.DisconnectNotice(cmd))
	}
	return err
}
