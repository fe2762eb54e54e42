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
//
// Its audit record is written with its command, in one transaction: a
// storm of DisconnectUser calls costs one write each, not two.
func (s *Rooms) Disconnect(ctx context.Context, sc parley.Scope, roomID, userID, reason, requestID string) error {
	cmd := s.disconnectCommand(sc, roomID, userID, reason, requestID)
	err := s.auditedDo(ctx, "DisconnectUser", sc.ARN("room", roomID)+" user "+userID, cmd)
	s.noticed(ctx, cmd, err)
	return err
}

func (s *Rooms) disconnectCommand(sc parley.Scope, roomID, userID, reason, requestID string) parley.Command {
	return parley.Command{ID: parley.NewID(), Op: parley.OpDisconnectUser, Scope: sc, Room: roomID, User: userID,
		Reason: reason, RequestID: requestID, Time: s.Clock.Now()}
}

// disconnect closes userID's connections in a room (or, with roomID "", in
// every room of sc) on every node, after aws:DISCONNECT_USER to the room.
// write is the change the command enforces (a ban): both commit together.
func (s *Rooms) disconnect(ctx context.Context, sc parley.Scope, roomID, userID, reason, requestID string, write func(context.Context) error) error {
	cmd := s.disconnectCommand(sc, roomID, userID, reason, requestID)
	err := s.Control.Do(ctx, write, cmd)
	s.noticed(ctx, cmd, err)
	return err
}

// noticed logs the notice a disconnection sent its room, once the command
// is durable (err nil or queued).
func (s *Rooms) noticed(ctx context.Context, cmd parley.Command, err error) {
	if cmd.Room != "" && (err == nil || control.Queued(err)) {
		// Every node sends the room this notice; it is logged once, here.
		s.record(context.WithoutCancel(ctx), parley.DisconnectNotice(cmd))
	}
}
