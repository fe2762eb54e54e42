package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// accounts returns Accounts over one account, "acct" of type typ, whose
// users are given as id → registration status.
func accounts(t *testing.T, typ parley.ChimeAccountType, users map[string]string) (*service.Accounts, *fakeAccountStore, *fakeControl, *auditTrail) {
	t.Helper()
	c, ctl, trail := core(t)
	aws := caller.AccountID
	st := &fakeAccountStore{
		accounts: map[string]*parley.ChimeAccount{aws + "/acct": {AwsAccountID: aws, AccountID: "acct", Type: typ}},
		users:    map[string]*parley.ChimeUser{},
	}
	for id, status := range users {
		st.users[aws+"/acct/"+id] = &parley.ChimeUser{AwsAccountID: aws, AccountID: "acct", UserID: id, RegistrationStatus: status}
	}
	return &service.Accounts{Core: c, Store: st}, st, ctl, trail
}

// Ensure LogoutUser revokes the user's sessions (a new epoch) and signs the
// user out of every device of that account, and audits it.
func TestLogoutUser(t *testing.T) {
	s, st, ctl, trail := accounts(t, parley.AccountTeam, map[string]string{"u1": parley.UserRegistered})
	if err := s.LogoutUser(asCaller(), "acct", "u1"); err != nil {
		t.Fatal(err)
	}
	if u := st.users[caller.AccountID+"/acct/u1"]; u.SessionEpoch != 1 {
		t.Errorf("session epoch %d after LogoutUser, want 1", u.SessionEpoch)
	}
	cmds := ctl.commands()
	want := parley.ChimeRoomKey{ChimeAccountKey: parley.ChimeAccountKey{AWS: caller.AccountID, Account: "acct"}}
	if len(cmds) != 1 || cmds[0].Op != parley.OpSignOut || cmds[0].Chime != want || len(cmds[0].Users) != 1 || cmds[0].Users[0] != "u1" {
		t.Fatalf("commands %+v, want one sign-out of u1 in %+v", cmds, want)
	}
	if recs := trail.all(); len(recs) != 1 || recs[0].Action != "LogoutUser" || recs[0].Result != "ok" {
		t.Errorf("audit %+v", recs)
	}
}

// Ensure LogoutUser of a user that does not exist sends no command and is audited as refused.
func TestLogoutUnknownUser(t *testing.T) {
	s, _, ctl, trail := accounts(t, parley.AccountTeam, nil)
	if err := s.LogoutUser(asCaller(), "acct", "ghost"); parley.KindOf(err) != parley.KindNotFound {
		t.Fatalf("LogoutUser of a missing user: %v, want NotFound", err)
	}
	if n := len(ctl.commands()); n != 0 {
		t.Errorf("%d commands for a missing user", n)
	}
	if recs := trail.all(); len(recs) != 1 || recs[0].Result == "ok" {
		t.Errorf("audit %+v, want the refusal", recs)
	}
}

// Ensure BatchSuspendUser suspends and signs out each user, reports the
// missing ones per user, and leaves other tenants' accounts alone.
func TestBatchSuspendUser(t *testing.T) {
	s, st, ctl, _ := accounts(t, parley.AccountTeam, map[string]string{"u1": parley.UserRegistered, "u2": parley.UserRegistered})
	errs, err := s.BatchSuspendUser(asCaller(), "acct", []string{"u1", "ghost", "u2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].UserID != "ghost" {
		t.Errorf("user errors %+v, want ghost's alone", errs)
	}
	for _, id := range []string{"u1", "u2"} {
		if u := st.users[caller.AccountID+"/acct/"+id]; u.RegistrationStatus != parley.UserSuspended || u.SessionEpoch != 1 {
			t.Errorf("%s: %s, epoch %d; want suspended with its sessions revoked", id, u.RegistrationStatus, u.SessionEpoch)
		}
	}
	if cmds := ctl.commands(); len(cmds) != 2 {
		t.Errorf("commands %+v, want a sign-out for each suspended user", cmds)
	}
	other := parley.NewContextWithPrincipal(t.Context(), parley.Principal{Scope: parley.Scope{AccountID: "222222222222", Region: "us-east-1"}})
	if _, err := s.BatchSuspendUser(other, "acct", []string{"u1"}); parley.KindOf(err) != parley.KindNotFound {
		t.Errorf("another AWS account suspending in acct: %v, want NotFound", err)
	}
}

// Ensure strict mode refuses what AWS refuses for the account's type.
func TestBatchSuspendStrict(t *testing.T) {
	s, _, ctl, _ := accounts(t, parley.AccountEnterpriseDirectory, map[string]string{"u1": parley.UserRegistered})
	s.Chime.Strict = true
	if _, err := s.BatchSuspendUser(asCaller(), "acct", []string{"u1"}); parley.KindOf(err) != parley.KindInvalid {
		t.Fatalf("strict suspension in an EnterpriseDirectory account: %v, want Invalid", err)
	}
	if n := len(ctl.commands()); n != 0 {
		t.Errorf("%d commands after a refusal", n)
	}
}

// Ensure only registered users get a device session, and it carries the user's epoch.
func TestCreateDeviceSession(t *testing.T) {
	s, st, _, _ := accounts(t, parley.AccountTeam, map[string]string{
		"ok": parley.UserRegistered, "suspended": parley.UserSuspended, "invited": parley.UserUnregistered})
	st.users[caller.AccountID+"/acct/ok"].SessionEpoch = 7
	seal := sealer(t)
	tok, d, err := s.CreateDeviceSession(asCaller(), seal, "acct", "ok")
	if err != nil {
		t.Fatal(err)
	}
	if d.Epoch != 7 || !d.Expires.Equal(now.Add(12*time.Hour)) {
		t.Errorf("session %+v, want epoch 7 and 12 hours", d)
	}
	if got, err := seal.OpenSession(tok); err != nil || got.UserID != "ok" || got.Epoch != 7 {
		t.Errorf("sealed session opens as %+v, %v", got, err)
	}
	for _, id := range []string{"suspended", "invited"} {
		if _, _, err := s.CreateDeviceSession(asCaller(), seal, "acct", id); parley.KindOf(err) != parley.KindForbidden {
			t.Errorf("session for %s: %v, want Forbidden", id, err)
		}
	}
}

// Ensure every change to an account carries one OpChimeAccountChanged
// command for it in the change's own write (so that every node forgets the
// account before the call returns), and a change refused carries none.
func TestAccountChangesTellEveryNode(t *testing.T) {
	s, st, ctl, _ := accounts(t, parley.AccountEnterpriseLWA, nil)
	st.accounts[caller.AccountID+"/acct"].SupportedLicenses = []string{"Basic", "Pro"}
	rooms := &service.ChimeRooms{Core: s.Core, Store: chimeRoomStoreOf(st)}
	name, basic, bad, on := "Renamed", "Basic", "Gold", true
	want := parley.ChimeRoomKey{ChimeAccountKey: parley.ChimeAccountKey{AWS: caller.AccountID, Account: "acct"}}
	for _, tc := range []struct {
		what   string
		change func() error
	}{
		{"UpdateAccount", func() error { _, err := s.UpdateChimeAccount(asCaller(), "acct", &name, &basic); return err }},
		{"UpdateAccountSettings", func() error { return s.UpdateChimeAccountSettings(asCaller(), "acct", &on, nil) }},
		{"PutRetentionSettings", func() error { return rooms.PutRetentionSettings(asCaller(), "acct", 30, 0) }},
		{"DeleteAccount", func() error { return s.DeleteChimeAccount(asCaller(), "acct") }},
	} {
		before, outboxed := len(ctl.commands()), len(st.outboxed)
		if err := tc.change(); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		cmds := ctl.commands()[before:]
		if len(cmds) != 1 || cmds[0].Op != parley.OpChimeAccountChanged || cmds[0].Chime != want {
			t.Fatalf("%s: commands %+v, want one ChimeAccountChanged of %+v", tc.what, cmds, want)
		}
		if got := st.outboxed[outboxed:]; len(got) != 1 || got[0].ID != cmds[0].ID {
			t.Fatalf("%s: the write carried %d outbox entries, want the command's", tc.what, len(got))
		}
	}
	if a := st.accounts[caller.AccountID+"/acct"]; a != nil {
		t.Fatalf("account after DeleteAccount: %+v", a)
	}

	// Refused changes: nothing changed, nothing to tell.
	s, _, ctl, _ = accounts(t, parley.AccountEnterpriseLWA, nil)
	if _, err := s.UpdateChimeAccount(asCaller(), "acct", nil, &bad); parley.KindOf(err) != parley.KindInvalid {
		t.Fatalf("UpdateAccount to an unsupported license: %v, want Invalid", err)
	}
	if err := s.DeleteChimeAccount(asCaller(), "ghost"); parley.KindOf(err) != parley.KindNotFound {
		t.Fatalf("DeleteAccount of a missing account: %v, want NotFound", err)
	}
	if n := len(ctl.commands()); n != 0 {
		t.Fatalf("%d commands after refused changes", n)
	}
}

// chimeRoomStoreOf is the account store as ChimeRooms sees it, for the
// calls that read and change an account.
func chimeRoomStoreOf(st *fakeAccountStore) service.ChimeRoomStore { return accountRoomStore{acc: st} }

type accountRoomStore struct {
	service.ChimeRoomStore
	acc *fakeAccountStore
}

func (s accountRoomStore) ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error) {
	return s.acc.ChimeAccount(ctx, k)
}

func (s accountRoomStore) UpdateChimeAccount(ctx context.Context, k parley.ChimeAccountKey, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error) {
	return s.acc.UpdateChimeAccount(ctx, k, fn)
}
