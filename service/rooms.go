package service

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
)

// Rooms is IVS Chat's rooms, chat tokens, moderation (events, message
// deletion, DisconnectUser) and bans.
type Rooms struct {
	*Core
	Store  RoomStore
	Bus    parley.Bus
	Tokens *chattoken.Sealer
	Limits Limits
	// ChatLog, if set, records room traffic for the room's logging configurations.
	ChatLog ChatLog
	// Lookup, if set, is how the hot paths (tokens, DisconnectUser,
	// events, bans) check a room: a cache kept current by the control
	// plane (package cache). GetRoom reads Store, tags included.
	Lookup RoomReader
}

// RoomReader reads a room.
type RoomReader interface {
	Room(ctx context.Context, s parley.Scope, id string) (*parley.Room, error)
}

// lookup checks that a room exists, through Lookup if set.
func (s *Rooms) lookup(ctx context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	if s.Lookup != nil {
		return s.Lookup.Room(ctx, sc, id)
	}
	return s.Store.Room(ctx, sc, id)
}

// RoomStore is what Rooms reads and writes.
type RoomStore interface {
	CreateRoom(ctx context.Context, r *parley.Room, maxRooms int) error
	Room(ctx context.Context, s parley.Scope, id string) (*parley.Room, error)
	UpdateRoom(ctx context.Context, s parley.Scope, id string, u parley.RoomUpdate) (*parley.Room, error)
	DeleteRoom(ctx context.Context, s parley.Scope, id string) error
	ListRooms(ctx context.Context, f parley.RoomFilter) (rooms []*parley.Room, next string, err error)
	PutBan(ctx context.Context, b *parley.Ban) error
	DeleteBan(ctx context.Context, s parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error)
	ActiveBan(ctx context.Context, s parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error)
	ListBans(ctx context.Context, f parley.BanFilter) (_ []*parley.Ban, next string, _ error)
}

// CreateRoomInput is a new room's settings; zero values take the defaults.
type CreateRoomInput struct {
	Name                    string
	MaximumMessageRate      int
	MaximumMessageLength    int
	MessageReviewHandler    *parley.MessageReviewHandler
	Tags                    map[string]string
	LoggingConfigurationIDs []parley.ParsedARN
}

// configIDs checks that every logging configuration ARN is the caller's and returns the IDs.
func configIDs(ctx context.Context, arns []parley.ParsedARN) ([]string, error) {
	ids := make([]string, 0, len(arns))
	seen := map[string]bool{}
	for _, arn := range arns {
		if _, err := resolve(ctx, arn, "logging-configuration"); err != nil {
			return nil, err
		}
		if !seen[arn.ID] {
			seen[arn.ID] = true
			ids = append(ids, arn.ID)
		}
	}
	return ids, nil
}

func normalizeHandler(h *parley.MessageReviewHandler) *parley.MessageReviewHandler {
	if h == nil || h.URI == "" {
		return nil // an empty URI means no handler
	}
	out := *h
	if out.FallbackResult == "" {
		out.FallbackResult = parley.ReviewAllow
	}
	return &out
}

// CreateRoom creates a room in the caller's account.
func (s *Rooms) CreateRoom(ctx context.Context, in CreateRoomInput) (*parley.Room, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := configIDs(ctx, in.LoggingConfigurationIDs)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	r := &parley.Room{
		Scope: sc, ID: parley.NewID(), Name: in.Name,
		MaximumMessageRate: in.MaximumMessageRate, MaximumMessageLength: in.MaximumMessageLength,
		MessageReviewHandler: normalizeHandler(in.MessageReviewHandler), LoggingConfigurationIDs: ids,
		Tags: in.Tags, CreateTime: now, UpdateTime: now,
	}
	if r.MaximumMessageRate == 0 {
		r.MaximumMessageRate = parley.DefaultMaximumMessageRate
	}
	if r.MaximumMessageLength == 0 {
		r.MaximumMessageLength = parley.DefaultMaximumMessageLength
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	if err := s.Store.CreateRoom(ctx, r, s.Limits.rooms()); err != nil {
		return nil, err
	}
	return r, nil
}

// GetRoom returns one of the caller's rooms.
func (s *Rooms) GetRoom(ctx context.Context, arn parley.ParsedARN) (*parley.Room, error) {
	sc, err := resolve(ctx, arn, "room")
	if err != nil {
		return nil, err
	}
	return s.Store.Room(ctx, sc, arn.ID)
}

// UpdateRoomInput lists what to change; nil fields stay as they are.
type UpdateRoomInput struct {
	Name                    *string
	MaximumMessageRate      *int
	MaximumMessageLength    *int
	MessageReviewHandler    *parley.MessageReviewHandler // non-nil with empty URI removes the handler
	LoggingConfigurationIDs *[]parley.ParsedARN
}

// UpdateRoom changes a room; open connections pick up the new limits at once.
func (s *Rooms) UpdateRoom(ctx context.Context, arn parley.ParsedARN, in UpdateRoomInput) (*parley.Room, error) {
	sc, err := resolve(ctx, arn, "room")
	if err != nil {
		return nil, err
	}
	u := parley.RoomUpdate{Name: in.Name, MaximumMessageRate: in.MaximumMessageRate, MaximumMessageLength: in.MaximumMessageLength,
		UpdateTime: s.Clock.Now()}
	if in.MessageReviewHandler != nil {
		h := normalizeHandler(in.MessageReviewHandler)
		u.MessageReviewHandler = &h
	}
	if in.LoggingConfigurationIDs != nil {
		ids, err := configIDs(ctx, *in.LoggingConfigurationIDs)
		if err != nil {
			return nil, err
		}
		u.LoggingConfigurationIDs = &ids
	}
	var r *parley.Room
	err = s.Control.Do(ctx, func(ctx context.Context) (err error) {
		r, err = s.Store.UpdateRoom(ctx, sc, arn.ID, u)
		return err
	}, parley.Command{Op: parley.OpUpdateRoom, Scope: sc, Room: arn.ID, Time: u.UpdateTime})
	if r == nil {
		return nil, err
	}
	// The change is stored; if a node did not confirm, it reloads the room
	// from the outbox within the lease. The call still says so.
	return r, err
}

// DeleteRoom deletes a room; every connection to it is closed.
func (s *Rooms) DeleteRoom(ctx context.Context, arn parley.ParsedARN) error {
	sc, err := resolve(ctx, arn, "room")
	if err != nil {
		return err
	}
	return s.Control.Do(ctx, func(ctx context.Context) error { return s.Store.DeleteRoom(ctx, sc, arn.ID) },
		parley.Command{Op: parley.OpDeleteRoom, Scope: sc, Room: arn.ID, Time: s.Clock.Now()})
}

// ListRoomsInput filters and pages ListRooms.
type ListRoomsInput struct {
	Name                    string
	MessageReviewHandlerURI string
	LoggingConfiguration    *parley.ParsedARN
	MaxResults              int // zero means 50
	NextToken               string
}

// ListRooms lists the caller's rooms, most recently updated first.
func (s *Rooms) ListRooms(ctx context.Context, in ListRoomsInput) ([]*parley.Room, string, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, "", err
	}
	f := parley.RoomFilter{Scope: sc, Name: in.Name, MessageReviewHandlerURI: in.MessageReviewHandlerURI, MaxResults: in.MaxResults, NextToken: in.NextToken}
	if f.MaxResults == 0 {
		f.MaxResults = 50
	}
	if in.LoggingConfiguration != nil {
		if _, err := resolve(ctx, *in.LoggingConfiguration, "logging-configuration"); err != nil {
			return nil, "", err
		}
		f.LoggingConfigurationID = in.LoggingConfiguration.ID
	}
	return s.Store.ListRooms(ctx, f)
}

// CreateChatTokenInput is what a chat token grants.
type CreateChatTokenInput struct {
	Room            parley.ParsedARN
	UserID          string
	Capabilities    []parley.Capability
	SessionDuration time.Duration // zero means 60 minutes
	Attributes      map[string]string
}

// CreateChatToken mints a single-use token for one connection to a room;
// a banned user gets KindForbidden naming the ban and its end.
func (s *Rooms) CreateChatToken(ctx context.Context, in CreateChatTokenInput) (string, *parley.ChatToken, error) {
	sc, err := resolve(ctx, in.Room, "room")
	if err != nil {
		return "", nil, err
	}
	if _, err := s.lookup(ctx, sc, in.Room.ID); err != nil {
		return "", nil, err
	}
	if err := s.banned(ctx, sc, in.Room.ID, in.UserID); err != nil {
		return "", nil, err
	}
	now := s.Clock.Now()
	d := in.SessionDuration
	if d == 0 {
		d = parley.DefaultSessionDuration
	}
	t := &parley.ChatToken{ID: parley.NewID() + parley.NewID(), Room: sc, RoomID: in.Room.ID, UserID: in.UserID,
		Capabilities: dedupe(in.Capabilities), Attributes: in.Attributes, IssueTime: now, SessionExpires: now.Add(d)}
	t.TokenExpires = now.Add(s.Limits.tokenLifetime())
	if t.TokenExpires.After(t.SessionExpires) {
		t.TokenExpires = t.SessionExpires
	}
	tok, err := s.Tokens.Seal(t)
	if err != nil {
		return "", nil, parley.Internal("service.CreateChatToken", err)
	}
	return tok, t, nil
}

func dedupe(caps []parley.Capability) []parley.Capability {
	var out []parley.Capability
	seen := map[parley.Capability]bool{}
	for _, c := range caps {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}
