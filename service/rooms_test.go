package service_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

func testLog(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func roomARN(sc parley.Scope, id string) parley.ParsedARN {
	return parley.ParsedARN{Scope: sc, Kind: "room", ID: id}
}

// rooms returns Rooms over one room, "r1", in the caller's account.
func rooms(t *testing.T, st *fakeRoomStore) (*service.Rooms, *fakeControl, *auditTrail) {
	t.Helper()
	c, ctl, trail := core(t)
	if st.room == nil {
		st.room = func(sc parley.Scope, id string) (*parley.Room, error) {
			if sc != caller.Scope || id != "r1" {
				return nil, parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
			}
			return &parley.Room{Scope: sc, ID: id}, nil
		}
	}
	if st.activeBan == nil {
		st.activeBan = func(parley.Scope, string, string) (*parley.Ban, error) {
			return nil, parley.Errorf(parley.KindNotFound, "no ban")
		}
	}
	return &service.Rooms{Core: c, Store: st, Tokens: sealer(t)}, ctl, trail
}

// Ensure a room ARN of another account or region is NotFound, as AWS
// answers for a resource the caller cannot see, and is never looked up.
func TestRoomsOtherTenantIsNotFound(t *testing.T) {
	s, ctl, trail := rooms(t, &fakeRoomStore{room: func(parley.Scope, string) (*parley.Room, error) {
		t.Fatal("the store was asked for another tenant's room")
		return nil, nil
	}})
	for _, sc := range []parley.Scope{
		{AccountID: "222222222222", Region: "us-east-1"},
		{AccountID: caller.AccountID, Region: "eu-west-1"},
	} {
		_, _, err := s.CreateChatToken(asCaller(), service.CreateChatTokenInput{Room: roomARN(sc, "r1"), UserID: "u"})
		if parley.KindOf(err) != parley.KindNotFound {
			t.Errorf("CreateChatToken for a room of %v: %v, want NotFound", sc, err)
		}
		if err := s.DisconnectUser(asCaller(), roomARN(sc, "r1"), "u", ""); parley.KindOf(err) != parley.KindNotFound {
			t.Errorf("DisconnectUser in a room of %v: %v, want NotFound", sc, err)
		}
	}
	if n := len(ctl.commands()); n != 0 {
		t.Errorf("%d commands sent for rooms the caller cannot see", n)
	}
	// Refused revocations are audited too.
	if recs := trail.all(); len(recs) != 2 || recs[0].Result == "ok" {
		t.Errorf("audit trail %+v, want two refusals", recs)
	}
}

// Ensure a request without a principal is refused, not served as nobody's.
func TestRoomsUnauthenticated(t *testing.T) {
	s, _, _ := rooms(t, &fakeRoomStore{})
	_, err := s.CreateRoom(context.Background(), service.CreateRoomInput{})
	if parley.KindOf(err) != parley.KindUnauthenticated {
		t.Fatalf("CreateRoom without a principal: %v, want Unauthenticated", err)
	}
}

// Ensure a banned user gets no token, with the ban's reason and end.
func TestCreateChatTokenBanned(t *testing.T) {
	end := now.Add(30 * time.Minute)
	s, _, _ := rooms(t, &fakeRoomStore{activeBan: func(sc parley.Scope, room, user string) (*parley.Ban, error) {
		if user != "troll" {
			return nil, parley.Errorf(parley.KindNotFound, "no ban")
		}
		return &parley.Ban{Scope: sc, RoomID: room, UserID: user, Reason: "spam", CreateTime: now, ExpireTime: end}, nil
	}})
	_, _, err := s.CreateChatToken(asCaller(), service.CreateChatTokenInput{Room: roomARN(caller.Scope, "r1"), UserID: "troll"})
	if parley.KindOf(err) != parley.KindForbidden || !strings.Contains(err.Error(), "spam") {
		t.Fatalf("token for a banned user: %v, want Forbidden naming the reason", err)
	}
	if _, _, err := s.CreateChatToken(asCaller(), service.CreateChatTokenInput{Room: roomARN(caller.Scope, "r1"), UserID: "alice"}); err != nil {
		t.Fatalf("token for a user not banned: %v", err)
	}
}

// Ensure a token's lifetime never outlasts its session, and capabilities are deduplicated.
func TestCreateChatTokenLifetime(t *testing.T) {
	s, _, _ := rooms(t, &fakeRoomStore{})
	s.Limits.TokenLifetime = time.Hour
	_, tok, err := s.CreateChatToken(asCaller(), service.CreateChatTokenInput{Room: roomARN(caller.Scope, "r1"), UserID: "u",
		SessionDuration: 10 * time.Minute, Capabilities: []parley.Capability{parley.CapSendMessage, parley.CapSendMessage}})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.TokenExpires.Equal(now.Add(10*time.Minute)) || !tok.SessionExpires.Equal(now.Add(10*time.Minute)) {
		t.Errorf("token expires %v, session %v; want both at the session's end %v", tok.TokenExpires, tok.SessionExpires, now.Add(10*time.Minute))
	}
	if len(tok.Capabilities) != 1 {
		t.Errorf("capabilities %v, want one", tok.Capabilities)
	}
	_, tok, err = s.CreateChatToken(asCaller(), service.CreateChatTokenInput{Room: roomARN(caller.Scope, "r1"), UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.TokenExpires.Equal(now.Add(time.Hour)) || !tok.SessionExpires.Equal(now.Add(parley.DefaultSessionDuration)) {
		t.Errorf("default token expires %v, session %v", tok.TokenExpires, tok.SessionExpires)
	}
}

// Ensure DisconnectUser asks the control plane to close exactly the named
// user's connections in the named room, and audits the call.
func TestDisconnectUserCommand(t *testing.T) {
	s, ctl, trail := rooms(t, &fakeRoomStore{})
	if err := s.DisconnectUser(asCaller(), roomARN(caller.Scope, "r1"), "bob", "bye"); err != nil {
		t.Fatal(err)
	}
	cmds := ctl.commands()
	if len(cmds) != 1 {
		t.Fatalf("commands %+v, want one", cmds)
	}
	c := cmds[0]
	if c.Op != parley.OpDisconnectUser || c.Scope != caller.Scope || c.Room != "r1" || c.User != "bob" || c.Reason != "bye" || c.ID == "" {
		t.Errorf("command %+v", c)
	}
	recs := trail.all()
	if len(recs) != 1 || recs[0].Action != "DisconnectUser" || recs[0].Result != "ok" || recs[0].Caller != caller.AccessKeyID ||
		!strings.Contains(recs[0].Target, "room/r1 user bob") {
		t.Errorf("audit %+v", recs)
	}
}

// Ensure a control plane failure is the caller's answer and the audit's result.
func TestDisconnectUserControlFails(t *testing.T) {
	s, ctl, trail := rooms(t, &fakeRoomStore{})
	// As the control plane fails once the command is written: its live
	// nodes could not be read.
	ctl.err = &parley.Error{Kind: parley.KindUnavailable, Op: "control.Deliver", Message: "store unavailable"}
	err := s.DisconnectUser(asCaller(), roomARN(caller.Scope, "r1"), "bob", "")
	if parley.KindOf(err) != parley.KindUnavailable {
		t.Fatalf("DisconnectUser: %v, want Unavailable", err)
	}
	if recs := trail.all(); len(recs) != 1 || recs[0].Result != "store unavailable" {
		t.Errorf("audit %+v, want the failure recorded", recs)
	}
}

// Ensure DisconnectUser's audit record commits with its command: when it
// cannot be written, no command is sent and the call fails.
func TestDisconnectUserAuditWriteFails(t *testing.T) {
	s, ctl, trail := rooms(t, &fakeRoomStore{})
	trail.fail = parley.Errorf(parley.KindUnavailable, "disk full")
	err := s.DisconnectUser(asCaller(), roomARN(caller.Scope, "r1"), "bob", "")
	if parley.KindOf(err) != parley.KindUnavailable {
		t.Fatalf("DisconnectUser: %v, want Unavailable", err)
	}
	if n := len(ctl.commands()); n != 0 {
		t.Errorf("%d commands sent though the audit record was not written", n)
	}
}

// Ensure a ban and its disconnection commit together: a ban the store
// refuses sends no command.
func TestCreateBanWriteFails(t *testing.T) {
	s, ctl, _ := rooms(t, &fakeRoomStore{putBan: func(*parley.Ban) error { return errors.New("disk full") }})
	room := roomARN(caller.Scope, "r1")
	_, err := s.CreateBan(asCaller(), service.CreateBanInput{Room: &room, UserID: "troll", Reason: "spam"})
	if err == nil {
		t.Fatal("CreateBan succeeded with the store refusing it")
	}
	if n := len(ctl.commands()); n != 0 {
		t.Errorf("%d commands sent for a ban that was not written", n)
	}
}
