package service

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// BotCaller delivers bot events to a bot's events configuration (an HTTPS
// endpoint, or a Lambda ARN mapped to one).
type BotCaller interface {
	Call(ctx context.Context, target string, in, out any) error
}

// BotEvent is what a bot's events configuration receives, in the shape of
// Chime's outbound bot events. EventType is Invite or Remove when the bot
// joins or leaves a room, and Message for each message posted to a room the
// bot is in (parley delivers every message, not only mentions).
type BotEvent struct {
	EventType      string
	EventTimestamp string
	Discussion     BotDiscussion
	Sender         *BotSender `json:",omitempty"`
	Message        string     `json:",omitempty"`
	MessageID      string     `json:"MessageId,omitempty"`
	// InboundHTTPSEndpointPath is where the bot posts back, with its
	// security token as a bearer token.
	InboundHTTPSEndpointPath string `json:"InboundHttpsEndpointPath"`
}

// BotDiscussion is the room of a bot event.
type BotDiscussion struct {
	DiscussionID   string `json:"DiscussionId"`
	DiscussionType string
}

// BotSender is who posted the message of a bot event.
type BotSender struct {
	SenderID   string `json:"SenderId"`
	SenderName string
}

// sendBot delivers ev to bot b in the background, if b listens.
func (s *ChimeRooms) sendBot(b *parley.Bot, ev BotEvent) {
	target := b.EventsEndpoint
	if target == "" {
		target = b.EventsLambda
	}
	if target == "" || b.Disabled || s.Chime.Bots == nil {
		return
	}
	go func() {
		if err := s.Chime.Bots.Call(context.Background(), target, ev, nil); err != nil {
			s.Log.Warn("bot event not delivered", "bot", b.BotID, "type", ev.EventType, "err", err)
		}
	}()
}

func botEvent(typ, roomID string, at string) BotEvent {
	ev := BotEvent{EventType: typ, EventTimestamp: at, InboundHTTPSEndpointPath: "/parley/v1/bot/rooms/" + roomID + "/messages"}
	ev.Discussion.DiscussionID, ev.Discussion.DiscussionType = roomID, "Room"
	return ev
}

// botEvent tells member, if it is a bot, that it joined or left its room.
func (s *ChimeRooms) botEvent(ctx context.Context, member parley.ChimeMemberKey, typ string) {
	b, err := s.Store.Bot(ctx, member.ChimeAccountKey, member.Member)
	if err != nil {
		return // not a bot
	}
	s.sendBot(b, botEvent(typ, member.Room, awsproto.Time(s.Clock.Now())))
}

// deliverToBots sends a posted message to the room's bots, but its sender.
func (s *ChimeRooms) deliverToBots(ctx context.Context, m *parley.ChimeMessage) {
	r := m.RoomKey()
	bots, err := s.Store.RoomMembers(ctx, r, parley.MemberBot)
	if err != nil {
		s.Log.Error("listing room bots", "room", m.RoomID, "err", err)
		return
	}
	for _, id := range bots {
		if id == m.SenderID {
			continue
		}
		b, err := s.Store.Bot(ctx, r.ChimeAccountKey, id)
		if err != nil {
			continue
		}
		ev := botEvent("Message", m.RoomID, awsproto.Time(m.CreateTime))
		ev.Sender = &BotSender{SenderID: m.SenderID, SenderName: m.SenderName}
		ev.Message, ev.MessageID = m.Content, m.MessageID
		s.sendBot(b, ev)
	}
}

// AuthenticateBot returns the enabled bot holding security token token:
// KindUnauthenticated if none does, KindForbidden if it is disabled.
func (s *ChimeRooms) AuthenticateBot(ctx context.Context, token string) (*parley.Bot, error) {
	b, err := s.Store.BotByToken(ctx, token)
	if parley.KindOf(err) == parley.KindNotFound {
		return nil, parley.Errorf(parley.KindUnauthenticated, "invalid bot security token")
	}
	if err != nil {
		return nil, err
	}
	if b.Disabled {
		return nil, parley.Errorf(parley.KindForbidden, "bot %s is disabled", b.BotID)
	}
	return b, nil
}

// PostAsBot posts content to a room as bot b, authenticated by
// AuthenticateBot; it must be a member of the room.
func (s *ChimeRooms) PostAsBot(ctx context.Context, b *parley.Bot, roomID, content string) (*parley.ChimeMessage, error) {
	return s.PostMessage(ctx, b.AccountKey().Room(roomID).Member(b.BotID), "", content)
}
