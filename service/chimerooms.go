package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
)

// ChimeRooms is Chime's chat rooms: rooms, memberships, messages,
// retention and bots.
type ChimeRooms struct {
	*Core
	Store ChimeRoomStore
	Bus   parley.Bus
	Chime ChimeOptions
	// AccountLookup, if set, is how the hot paths (every room, membership
	// and bot call, and a device's GET_MESSAGES) read the account: a cache
	// kept current by the control plane (package cache). The account holds
	// nothing that grants access (no session, membership or suspension).
	// GetRetentionSettings reads Store: it shows the record.
	AccountLookup AccountReader
}

// AccountReader reads a Chime account.
type AccountReader interface {
	ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error)
}

// accounts is where the hot paths read accounts: AccountLookup if set.
func (s *ChimeRooms) accounts() AccountReader {
	if s.AccountLookup != nil {
		return s.AccountLookup
	}
	return s.Store
}

// ChimeRoomStore is what ChimeRooms reads and writes.
type ChimeRoomStore interface {
	ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error)
	UpdateChimeAccount(ctx context.Context, k parley.ChimeAccountKey, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error)
	ChimeUser(ctx context.Context, k parley.ChimeUserKey) (*parley.ChimeUser, error)
	CreateChimeRoom(ctx context.Context, r *parley.ChimeRoom, max int) (_ *parley.ChimeRoom, created bool, _ error)
	ChimeRoom(ctx context.Context, k parley.ChimeRoomKey) (*parley.ChimeRoom, error)
	ListChimeRooms(ctx context.Context, a parley.ChimeAccountKey, memberID string, p parley.Page) (_ []*parley.ChimeRoom, next string, _ error)
	UpdateChimeRoom(ctx context.Context, k parley.ChimeRoomKey, fn func(*parley.ChimeRoom) error) (*parley.ChimeRoom, error)
	DeleteChimeRoom(ctx context.Context, k parley.ChimeRoomKey) error
	AddMembership(ctx context.Context, m *parley.RoomMembership, max int) error
	Membership(ctx context.Context, k parley.ChimeMemberKey) (*parley.RoomMembership, error)
	ListMemberships(ctx context.Context, r parley.ChimeRoomKey, p parley.Page) (_ []*parley.RoomMembership, next string, _ error)
	UpdateMembership(ctx context.Context, k parley.ChimeMemberKey, fn func(*parley.RoomMembership) error) (*parley.RoomMembership, error)
	DeleteMembership(ctx context.Context, k parley.ChimeMemberKey) error
	RoomMembers(ctx context.Context, r parley.ChimeRoomKey, memberType string) ([]string, error)
	CreateBot(ctx context.Context, b *parley.Bot, max int) error
	Bot(ctx context.Context, a parley.ChimeAccountKey, botID string) (*parley.Bot, error)
	BotByToken(ctx context.Context, token string) (*parley.Bot, error)
	ListBots(ctx context.Context, a parley.ChimeAccountKey, p parley.Page) (_ []*parley.Bot, next string, _ error)
	UpdateBot(ctx context.Context, a parley.ChimeAccountKey, botID string, fn func(*parley.Bot) error) (*parley.Bot, error)
	AppendMessage(ctx context.Context, m *parley.ChimeMessage) error
	Messages(ctx context.Context, r parley.ChimeRoomKey, since time.Time, limit int) ([]*parley.ChimeMessage, error)
}

// callerARN is the caller as Chime shows it in CreatedBy and InvitedBy.
func callerARN(ctx context.Context) string {
	p, _ := parley.PrincipalFromContext(ctx)
	return "arn:aws:iam::" + p.AccountID + ":user/" + p.AccessKeyID
}

// enterprise returns the key of the caller's Chime account accountID after
// checking, in strict mode, that it may use rooms and bots (Enterprise only).
func (s *ChimeRooms) enterprise(ctx context.Context, accountID string) (parley.ChimeAccountKey, error) {
	k, a, err := chimeAccount(ctx, s.accounts(), accountID)
	if err != nil {
		return k, err
	}
	if s.Chime.Strict && a.Type == parley.AccountTeam {
		return k, parley.Errorf(parley.KindForbidden, "Chime Account provided is not an Enterprise Chime Account[AWS Account ID: %s][Chime Account ID: %s]", k.AWS, k.Account)
	}
	return k, nil
}

// CreateChimeRoom creates a room, or returns the one created earlier with the same client token.
func (s *ChimeRooms) CreateChimeRoom(ctx context.Context, accountID, name, clientToken string) (*parley.ChimeRoom, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	r, _, err := s.Store.CreateChimeRoom(ctx, &parley.ChimeRoom{AwsAccountID: a.AWS, AccountID: a.Account, RoomID: newUUID(), Name: name,
		CreatedBy: callerARN(ctx), ClientToken: clientToken, CreateTime: now, UpdateTime: now}, parley.MaxRoomsPerAccount)
	return r, err
}

// GetChimeRoom returns a room.
func (s *ChimeRooms) GetChimeRoom(ctx context.Context, accountID, roomID string) (*parley.ChimeRoom, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.Store.ChimeRoom(ctx, a.Room(roomID))
}

// ListChimeRooms lists an account's rooms, or memberID's.
func (s *ChimeRooms) ListChimeRooms(ctx context.Context, accountID, memberID string, p parley.Page) ([]*parley.ChimeRoom, string, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	if p.MaxResults == 0 {
		p.MaxResults = 50
	}
	return s.Store.ListChimeRooms(ctx, a, memberID, p)
}

// UpdateChimeRoom renames a room.
func (s *ChimeRooms) UpdateChimeRoom(ctx context.Context, accountID, roomID string, name *string) (*parley.ChimeRoom, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	return s.Store.UpdateChimeRoom(ctx, a.Room(roomID), func(r *parley.ChimeRoom) error {
		if name != nil && *name != r.Name {
			r.Name, r.UpdateTime = *name, now
		}
		return nil
	})
}

// DeleteChimeRoom deletes a room and its memberships; delivery to its
// members' devices ends, on every node, before it returns.
func (s *ChimeRooms) DeleteChimeRoom(ctx context.Context, accountID, roomID string) error {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return err
	}
	r := a.Room(roomID)
	return s.Control.Do(ctx, func(ctx context.Context) error { return s.Store.DeleteChimeRoom(ctx, r) },
		parley.Command{Op: parley.OpDeleteChimeRoom, Chime: r, Time: s.Clock.Now()})
}

// resolveMember finds the user or bot memberID of the account.
func (s *ChimeRooms) resolveMember(ctx context.Context, a parley.ChimeAccountKey, memberID string) (*parley.RoomMembership, error) {
	m := &parley.RoomMembership{AwsAccountID: a.AWS, AccountID: a.Account, MemberID: memberID}
	u, err := s.Store.ChimeUser(ctx, a.User(memberID))
	if err == nil {
		m.MemberType, m.Email, m.FullName = parley.MemberUser, u.PrimaryEmail, u.DisplayName
		return m, nil
	}
	if parley.KindOf(err) != parley.KindNotFound {
		return nil, err
	}
	b, err := s.Store.Bot(ctx, a, memberID)
	if parley.KindOf(err) == parley.KindNotFound {
		return nil, parley.Errorf(parley.KindNotFound, "member %s is not a user or bot of the account", memberID)
	}
	if err != nil {
		return nil, err
	}
	if b.Disabled {
		return nil, parley.Errorf(parley.KindInvalid, "bot %s is disabled and cannot be added to rooms", memberID)
	}
	m.MemberType, m.Email, m.FullName = parley.MemberBot, b.BotEmail, b.DisplayName
	return m, nil
}

// CreateRoomMembership adds a user or bot to a room; the member's devices
// receive the room from the moment the call returns.
func (s *ChimeRooms) CreateRoomMembership(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	r := a.Room(roomID)
	if _, err := s.Store.ChimeRoom(ctx, r); err != nil {
		return nil, err
	}
	m, err := s.resolveMember(ctx, a, memberID)
	if err != nil {
		return nil, err
	}
	if role == "" {
		role = parley.RoleMember
	}
	m.RoomID, m.Role, m.InvitedBy, m.UpdateTime = roomID, role, callerARN(ctx), s.Clock.Now()
	err = s.Control.Do(ctx, func(ctx context.Context) error { return s.Store.AddMembership(ctx, m, parley.MaxMembersPerRoom) },
		parley.Command{Op: parley.OpAddMember, Chime: r, User: memberID, Time: m.UpdateTime})
	if err != nil && !control.Queued(err) {
		return nil, err
	}
	s.botEvent(ctx, r.Member(memberID), "Invite")
	return m, err
}

// MemberError is one failed item of BatchCreateRoomMembership.
type MemberError struct {
	MemberID, Code, Message string
}

// MembershipItem is one member to add.
type MembershipItem struct {
	MemberID, Role string
}

// BatchCreateRoomMembership adds each member; failures are reported per item.
func (s *ChimeRooms) BatchCreateRoomMembership(ctx context.Context, accountID, roomID string, items []MembershipItem) ([]MemberError, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.ChimeRoom(ctx, a.Room(roomID)); err != nil {
		return nil, err
	}
	errs := []MemberError{}
	for _, it := range items {
		if _, err := s.CreateRoomMembership(ctx, accountID, roomID, it.MemberID, it.Role); err != nil {
			if k := parley.KindOf(err); k == parley.KindInternal || k == parley.KindUnavailable {
				return nil, err
			}
			code := chimeCode(err)
			if parley.KindOf(err) == parley.KindQuotaExceeded {
				code = "ResourceLimitExceeded"
			}
			errs = append(errs, MemberError{MemberID: it.MemberID, Code: code, Message: parley.AsError(err).Message})
		}
	}
	return errs, nil
}

// ListRoomMemberships lists a room's members.
func (s *ChimeRooms) ListRoomMemberships(ctx context.Context, accountID, roomID string, p parley.Page) ([]*parley.RoomMembership, string, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	if p.MaxResults == 0 {
		p.MaxResults = 50
	}
	return s.Store.ListMemberships(ctx, a.Room(roomID), p)
}

// UpdateRoomMembership changes a user member's role (bots have none).
func (s *ChimeRooms) UpdateRoomMembership(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	return s.Store.UpdateMembership(ctx, a.Room(roomID).Member(memberID), func(m *parley.RoomMembership) error {
		if m.MemberType == parley.MemberBot {
			return parley.Errorf(parley.KindInvalid, "the role can be updated only for users")
		}
		if role != "" {
			m.Role, m.UpdateTime = role, now
		}
		return nil
	})
}

// DeleteRoomMembership removes a member. When it returns, the member's
// devices no longer receive the room's messages and cannot post to it, on
// every node; they are told, and so are the remaining members.
func (s *ChimeRooms) DeleteRoomMembership(ctx context.Context, accountID, roomID, memberID string) (err error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return err
	}
	defer func() {
		s.audit(ctx, "DeleteRoomMembership", "account/"+accountID+"/room/"+roomID+"/member/"+memberID, err)
	}()
	m := a.Room(roomID).Member(memberID)
	err = s.Control.Do(ctx, func(ctx context.Context) error { return s.Store.DeleteMembership(ctx, m) },
		parley.Command{Op: parley.OpRemoveMember, Chime: m.ChimeRoomKey, User: memberID, Time: s.Clock.Now()})
	if err == nil || control.Queued(err) {
		s.botEvent(context.WithoutCancel(ctx), m, "Remove")
	}
	return err
}

// newSecurityToken returns a 40-character secret for a bot.
func newSecurityToken() string {
	b := make([]byte, 30)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateBot creates a bot; at most 10 per account.
func (s *ChimeRooms) CreateBot(ctx context.Context, accountID, displayName, domain string) (*parley.Bot, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if domain == "" {
		domain = parley.DefaultBotDomain
	}
	id, now := newUUID(), s.Clock.Now()
	b := &parley.Bot{AwsAccountID: a.AWS, AccountID: a.Account, BotID: id, DisplayName: displayName + " (Bot)",
		BotEmail: strings.ReplaceAll(displayName, " ", "") + "-chimebot@" + domain, SecurityToken: newSecurityToken(), CreateTime: now, UpdateTime: now}
	return b, s.Store.CreateBot(ctx, b, parley.MaxBotsPerAccount)
}

// GetBot returns a bot.
func (s *ChimeRooms) GetBot(ctx context.Context, accountID, botID string) (*parley.Bot, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.Store.Bot(ctx, a, botID)
}

// ListBots lists an account's bots.
func (s *ChimeRooms) ListBots(ctx context.Context, accountID string, p parley.Page) ([]*parley.Bot, string, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	if p.MaxResults == 0 {
		p.MaxResults = 10
	}
	return s.Store.ListBots(ctx, a, p)
}

// UpdateBot applies fn to a bot and stamps UpdateTime.
func (s *ChimeRooms) UpdateBot(ctx context.Context, accountID, botID string, fn func(*parley.Bot) error) (*parley.Bot, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	return s.Store.UpdateBot(ctx, a, botID, func(b *parley.Bot) error {
		if err := fn(b); err != nil {
			return err
		}
		b.UpdateTime = now
		return nil
	})
}

// RegenerateSecurityToken gives a bot a new security token; the old one stops working.
func (s *ChimeRooms) RegenerateSecurityToken(ctx context.Context, accountID, botID string) (*parley.Bot, error) {
	return s.UpdateBot(ctx, accountID, botID, func(b *parley.Bot) error { b.SecurityToken = newSecurityToken(); return nil })
}

// RetentionSettings returns the account's chat retention.
func (s *ChimeRooms) RetentionSettings(ctx context.Context, accountID string) (*parley.ChimeAccount, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.Store.ChimeAccount(ctx, a)
}

// PutRetentionSettings sets the account's chat retention; zero turns it off.
func (s *ChimeRooms) PutRetentionSettings(ctx context.Context, accountID string, roomDays, conversationDays int) error {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return err
	}
	_, err = s.updateChimeAccount(ctx, s.Store, a, func(a *parley.ChimeAccount) error {
		a.RoomRetentionDays, a.ConversationRetentionDays = roomDays, conversationDays
		return nil
	})
	return err
}

// ListRoomMessages returns a room's recent messages, newest last, for the
// operator (parley:ListRoomMessages; devices use GET_MESSAGES).
func (s *ChimeRooms) ListRoomMessages(ctx context.Context, accountID, roomID string) ([]*parley.ChimeMessage, error) {
	a, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	r := a.Room(roomID)
	if _, err := s.Store.ChimeRoom(ctx, r); err != nil {
		return nil, err
	}
	return s.Store.Messages(ctx, r, time.Time{}, 200)
}

// PostMessage posts content to a room as sender, a member (a user's device
// or a bot): it is kept in the room's history and delivered to the devices
// of every member, on every node, and to the room's bots. A sender who is
// not a member is refused.
func (s *ChimeRooms) PostMessage(ctx context.Context, sender parley.ChimeMemberKey, requestID, content string) (*parley.ChimeMessage, error) {
	m, err := s.Store.Membership(ctx, sender)
	if parley.KindOf(err) == parley.KindNotFound {
		return nil, parley.Errorf(parley.KindForbidden, "not a member of room %s", sender.Room)
	}
	if err != nil {
		return nil, err
	}
	published, err := s.admit(ctx, sender.Room)
	if err != nil {
		return nil, err
	}
	msg := &parley.ChimeMessage{AwsAccountID: sender.AWS, AccountID: sender.Account, RoomID: sender.Room, MessageID: newUUID(), SenderID: sender.Member,
		SenderName: m.FullName, Content: content, CreateTime: s.Clock.Now()}
	if err := s.Store.AppendMessage(ctx, msg); err != nil {
		published()
		return nil, err
	}
	ev := parley.Event{Type: parley.EventMessage, Room: parley.Scope{AccountID: sender.AWS}, Account: sender.Account, RoomID: sender.Room, ID: msg.MessageID,
		RequestID: requestID, Content: content, Sender: &parley.Sender{UserID: sender.Member, Attributes: map[string]string{"DisplayName": m.FullName}},
		SendTime: msg.CreateTime}
	err = s.Bus.Publish(ctx, parley.ChimeRoomSubject(sender.ChimeRoomKey), ev)
	published()
	if err != nil {
		return nil, &parley.Error{Kind: parley.KindUnavailable, Op: "service.PostMessage", Message: "message bus unavailable", Err: err}
	}
	s.deliverToBots(ctx, msg)
	return msg, nil
}

// RoomHistory returns a room's recent messages for member, one of its
// members, within the account's retention.
func (s *ChimeRooms) RoomHistory(ctx context.Context, member parley.ChimeMemberKey, limit int) ([]*parley.ChimeMessage, error) {
	if _, err := s.Store.Membership(ctx, member); err != nil {
		if parley.KindOf(err) == parley.KindNotFound {
			return nil, parley.Errorf(parley.KindForbidden, "not a member of room %s", member.Room)
		}
		return nil, err
	}
	a, err := s.accounts().ChimeAccount(ctx, member.ChimeAccountKey)
	if err != nil {
		return nil, err
	}
	var since time.Time
	if a.RoomRetentionDays > 0 {
		since = s.Clock.Now().AddDate(0, 0, -a.RoomRetentionDays)
	}
	if limit <= 0 || limit > 200 {
		limit = parley.DefaultHistoryLimit
	}
	return s.Store.Messages(ctx, member.ChimeRoomKey, since, limit)
}
