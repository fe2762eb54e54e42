package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/service"
)

type fakeChimeRoomStore struct {
	service.ChimeRoomStore
	account          *parley.ChimeAccount
	members          map[string]*parley.RoomMembership // by member ID, in room "room"
	messages         []*parley.ChimeMessage
	deleteMembership func(room, member string) error
	since            time.Time // of the last Messages call
}

func (f *fakeChimeRoomStore) Messages(_ context.Context, _ parley.ChimeRoomKey, since time.Time, _ int) ([]*parley.ChimeMessage, error) {
	f.since = since
	return nil, nil
}

// accountLookup is an account cache that answers with its own account.
type accountLookup struct {
	account *parley.ChimeAccount
	reads   int
}

func (l *accountLookup) ChimeAccount(context.Context, parley.ChimeAccountKey) (*parley.ChimeAccount, error) {
	l.reads++
	c := *l.account
	return &c, nil
}

func (f *fakeChimeRoomStore) ChimeAccount(_ context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error) {
	if k != f.account.Key() {
		return nil, parley.Errorf(parley.KindNotFound, "account %s not found", k.Account)
	}
	return f.account, nil
}

func (f *fakeChimeRoomStore) Membership(_ context.Context, k parley.ChimeMemberKey) (*parley.RoomMembership, error) {
	if m, ok := f.members[k.Member]; ok && k.ChimeRoomKey == f.account.Key().Room("room") {
		return m, nil
	}
	return nil, parley.Errorf(parley.KindNotFound, "member %s not found", k.Member)
}

func (f *fakeChimeRoomStore) AppendMessage(_ context.Context, m *parley.ChimeMessage) error {
	f.messages = append(f.messages, m)
	return nil
}

func (f *fakeChimeRoomStore) RoomMembers(context.Context, parley.ChimeRoomKey, string) ([]string, error) {
	return nil, nil // no bots
}

func (f *fakeChimeRoomStore) DeleteMembership(_ context.Context, k parley.ChimeMemberKey) error {
	return f.deleteMembership(k.Room, k.Member)
}

func chimeRooms(t *testing.T, typ parley.ChimeAccountType) (*service.ChimeRooms, *fakeChimeRoomStore, *fakeControl, *auditTrail, parley.Bus) {
	t.Helper()
	c, ctl, trail := core(t)
	bus := inmem.New()
	t.Cleanup(func() { bus.Close(context.Background()) })
	st := &fakeChimeRoomStore{
		account: &parley.ChimeAccount{AwsAccountID: caller.AccountID, AccountID: "acct", Type: typ},
		members: map[string]*parley.RoomMembership{"alice": {MemberID: "alice", FullName: "Alice"}},
	}
	return &service.ChimeRooms{Core: c, Store: st, Bus: bus}, st, ctl, trail, bus
}

// Ensure a message is kept, published to the room's subject with the
// sender's name, and refused from someone who is not a member.
func TestPostMessage(t *testing.T) {
	s, st, _, _, bus := chimeRooms(t, parley.AccountEnterpriseLWA)
	got := make(chan parley.Event, 1)
	room := parley.ChimeAccountKey{AWS: caller.AccountID, Account: "acct"}.Room("room")
	sub, err := bus.Subscribe(t.Context(), parley.ChimeRoomSubject(room), func(ev parley.Event) { got <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer sub()
	if _, err := s.PostMessage(t.Context(), room.Member("mallory"), "r1", "hi"); parley.KindOf(err) != parley.KindForbidden {
		t.Fatalf("a message from a non-member: %v, want Forbidden", err)
	}
	m, err := s.PostMessage(t.Context(), room.Member("alice"), "r2", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.messages) != 1 || st.messages[0] != m || m.SenderName != "Alice" {
		t.Fatalf("kept %+v", st.messages)
	}
	ev := <-got
	if ev.Content != "hello" || ev.RequestID != "r2" || ev.Sender.UserID != "alice" || ev.Sender.Attributes["DisplayName"] != "Alice" {
		t.Errorf("published %+v", ev)
	}
}

// Ensure strict mode keeps rooms to Enterprise accounts, as AWS does, before touching anything.
func TestChimeRoomsStrict(t *testing.T) {
	s, _, ctl, _, _ := chimeRooms(t, parley.AccountTeam)
	s.Chime.Strict = true
	if _, err := s.CreateChimeRoom(asCaller(), "acct", "r", ""); parley.KindOf(err) != parley.KindForbidden {
		t.Errorf("strict CreateRoom on a Team account: %v, want Forbidden", err)
	}
	if err := s.DeleteRoomMembership(asCaller(), "acct", "room", "alice"); parley.KindOf(err) != parley.KindForbidden {
		t.Errorf("strict DeleteRoomMembership on a Team account: %v, want Forbidden", err)
	}
	if n := len(ctl.commands()); n != 0 {
		t.Errorf("%d commands after refusals", n)
	}
}

// Ensure DeleteRoomMembership removes the member and its connections'
// subscription with one command, and audits it.
func TestDeleteRoomMembership(t *testing.T) {
	s, st, ctl, trail, _ := chimeRooms(t, parley.AccountEnterpriseLWA)
	var deleted string
	st.deleteMembership = func(room, member string) error { deleted = room + "/" + member; return nil }
	if err := s.DeleteRoomMembership(asCaller(), "acct", "room", "alice"); err != nil {
		t.Fatal(err)
	}
	if deleted != "room/alice" {
		t.Errorf("deleted %q", deleted)
	}
	want := parley.ChimeAccountKey{AWS: caller.AccountID, Account: "acct"}.Room("room")
	if cmds := ctl.commands(); len(cmds) != 1 || cmds[0].Op != parley.OpRemoveMember || cmds[0].Chime != want || cmds[0].User != "alice" {
		t.Errorf("commands %+v", cmds)
	}
	if recs := trail.all(); len(recs) != 1 || recs[0].Action != "DeleteRoomMembership" || recs[0].Result != "ok" {
		t.Errorf("audit %+v", recs)
	}
}

func (f *fakeChimeRoomStore) Bot(_ context.Context, _ parley.ChimeAccountKey, id string) (*parley.Bot, error) {
	return nil, parley.Errorf(parley.KindNotFound, "bot %s not found", id) // alice is a user
}

// Ensure the hot paths (a room call's strict check, a device's history)
// read the account through AccountLookup, while GetRetentionSettings, which
// shows the record, and the membership check of the history read the store.
func TestChimeRoomsReadAccountsThroughLookup(t *testing.T) {
	s, st, _, _, _ := chimeRooms(t, parley.AccountEnterpriseLWA)
	s.Chime.Strict = true
	st.account.RoomRetentionDays = 7
	lookup := &accountLookup{account: &parley.ChimeAccount{AwsAccountID: caller.AccountID, AccountID: "acct", Type: parley.AccountTeam, RoomRetentionDays: 1}}
	s.AccountLookup = lookup
	room := st.account.Key().Room("room")

	if _, err := s.GetChimeRoom(asCaller(), "acct", "room"); parley.KindOf(err) != parley.KindForbidden {
		t.Fatalf("GetRoom with the lookup saying Team: %v, want Forbidden (strict mode read the lookup)", err)
	}
	lookup.account.Type = parley.AccountEnterpriseLWA
	if _, err := s.RoomHistory(asCaller(), room.Member("alice"), 10); err != nil {
		t.Fatal(err)
	}
	if want := now.AddDate(0, 0, -1); !st.since.Equal(want) {
		t.Fatalf("history since %v, want %v: the lookup's one-day retention", st.since, want)
	}
	if _, err := s.RoomHistory(asCaller(), room.Member("mallory"), 10); parley.KindOf(err) != parley.KindForbidden {
		t.Fatalf("history for a non-member: %v, want Forbidden (memberships come from the store)", err)
	}
	reads := lookup.reads
	a, err := s.RetentionSettings(asCaller(), "acct")
	if err != nil || a.RoomRetentionDays != 7 {
		t.Fatalf("GetRetentionSettings = %+v, %v, want the store's 7 days", a, err)
	}
	if lookup.reads != reads+1 {
		t.Fatalf("GetRetentionSettings read the lookup %d times, want once (the strict check)", lookup.reads-reads)
	}
}
