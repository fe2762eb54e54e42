package service

import (
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
)

// CreateBanInput is a ban to impose.
type CreateBanInput struct {
	Room     *parley.ParsedARN // nil bans the user from every room of the caller's account and region
	UserID   string
	Reason   string
	Duration time.Duration // zero: until the ban is deleted
}

// banRoom resolves a ban's optional room ARN to the caller's scope and room ID.
func banRoom(ctx context.Context, arn *parley.ParsedARN) (parley.Scope, string, error) {
	if arn == nil {
		sc, err := scope(ctx)
		return sc, "", err
	}
	sc, err := resolve(ctx, *arn, "room")
	return sc, arn.ID, err
}

// banTarget names what a ban acts on in the audit trail; a ban from every
// room is the room ARN with ID "*".
func banTarget(b *parley.Ban) string {
	id := b.RoomID
	if id == "" {
		id = "*"
	}
	return b.Scope.ARN("room", id) + " user " + b.UserID
}

func banDetail(b *parley.Ban) string {
	d := "until deleted"
	if !b.ExpireTime.IsZero() {
		d = fmt.Sprintf("%dm until %s", int(b.ExpireTime.Sub(b.CreateTime)/time.Minute), b.ExpireTime.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("reason=%q duration=%s", b.Reason, d)
}

// CreateBan bans a user from a room, or from every room, replacing any ban
// of the same room and user. The ban is stored with its command in one
// transaction, so every handshake and CreateChatToken refuses the user from
// then on, on every node, even one that misses the command; then every
// connection it covers is closed, on every node, before CreateBan returns
// (see package control). If that cannot be confirmed the call fails
// (KindUnavailable), the ban stands, and the command is still carried out.
func (s *Rooms) CreateBan(ctx context.Context, in CreateBanInput) (*parley.Ban, error) {
	sc, roomID, err := banRoom(ctx, in.Room)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	b := &parley.Ban{Scope: sc, RoomID: roomID, UserID: in.UserID, Reason: in.Reason, CreateTime: now}
	if in.Duration > 0 {
		b.ExpireTime = now.Add(in.Duration)
	}
	// The ban and the command that closes its connections commit together.
	err = s.disconnect(ctx, sc, roomID, b.UserID, b.Reason, "", func(ctx context.Context) error { return s.Store.PutBan(ctx, b) })
	if err != nil && !control.Queued(err) {
		return nil, err
	}
	s.auditDetail(ctx, "CreateBan", banTarget(b), banDetail(b), err)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DeleteBan lifts a ban at once: a new token connects. room nil names the
// ban from every room. KindNotFound when no such ban is in force.
func (s *Rooms) DeleteBan(ctx context.Context, room *parley.ParsedARN, userID string) error {
	sc, roomID, err := banRoom(ctx, room)
	if err != nil {
		return err
	}
	b, err := s.Store.DeleteBan(ctx, sc, roomID, userID, s.Clock.Now())
	if err != nil {
		if parley.KindOf(err) == parley.KindNotFound {
			return parley.NotFound(parley.ResourceRoom, roomID, "no ban of user %s in force there", userID)
		}
		return err
	}
	s.auditDetail(ctx, "DeleteBan", banTarget(b), banDetail(b), nil)
	return nil
}

// ListBansInput filters and pages ListBans.
type ListBansInput struct {
	Room       *parley.ParsedARN // the bans keeping users out of this room, bans from every room included
	UserID     string
	MaxResults int // zero means 50
	NextToken  string
}

// ListBans lists the caller's bans in force, newest first.
func (s *Rooms) ListBans(ctx context.Context, in ListBansInput) ([]*parley.Ban, string, error) {
	sc, roomID, err := banRoom(ctx, in.Room)
	if err != nil {
		return nil, "", err
	}
	if roomID != "" {
		// As ListRooms answers for a missing logging configuration.
		if _, err := s.lookup(ctx, sc, roomID); err != nil {
			return nil, "", err
		}
	}
	f := parley.BanFilter{Scope: sc, RoomID: roomID, UserID: in.UserID, Now: s.Clock.Now(), Page: parley.Page{MaxResults: in.MaxResults, NextToken: in.NextToken}}
	if f.MaxResults == 0 {
		f.MaxResults = 50
	}
	return s.Store.ListBans(ctx, f)
}

// banned returns KindForbidden naming the ban if userID may not enter the room now.
func (s *Rooms) banned(ctx context.Context, sc parley.Scope, roomID, userID string) error {
	b, err := s.Store.ActiveBan(ctx, sc, roomID, userID, s.Clock.Now())
	switch {
	case err == nil:
		return b.Forbidden()
	case parley.KindOf(err) == parley.KindNotFound:
		return nil
	}
	return err
}
