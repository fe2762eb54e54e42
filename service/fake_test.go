package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/service"
)

// The fakes embed the store interface they stand in for: a test sets the
// functions its case needs, and a call it did not expect panics on the nil
// interface, which fails the test loudly.

type fakeRoomStore struct {
	service.RoomStore
	room      func(parley.Scope, string) (*parley.Room, error)
	activeBan func(parley.Scope, string, string) (*parley.Ban, error)
	putBan    func(*parley.Ban) error
}

func (f *fakeRoomStore) Room(_ context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	return f.room(sc, id)
}

func (f *fakeRoomStore) ActiveBan(_ context.Context, sc parley.Scope, room, user string, _ time.Time) (*parley.Ban, error) {
	return f.activeBan(sc, room, user)
}

func (f *fakeRoomStore) PutBan(_ context.Context, b *parley.Ban) error { return f.putBan(b) }

type fakeAccountStore struct {
	service.AccountStore
	mu       sync.Mutex
	accounts map[string]*parley.ChimeAccount
	users    map[string]*parley.ChimeUser
	outboxed []*parley.OutboxEntry // written with account changes
}

func (f *fakeAccountStore) ChimeAccount(_ context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.accounts[k.AWS+"/"+k.Account]
	if !ok {
		return nil, parley.Errorf(parley.KindNotFound, "account %s not found", k.Account)
	}
	return a, nil
}

func (f *fakeAccountStore) ChimeUser(_ context.Context, k parley.ChimeUserKey) (*parley.ChimeUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[k.AWS+"/"+k.Account+"/"+k.User]
	if !ok {
		return nil, parley.Errorf(parley.KindNotFound, "user %s not found", k.User)
	}
	c := *u
	return &c, nil
}

// UpdateChimeAccount and DeleteChimeAccount record the commands their
// write carried (the outbox entries of ctx) in outboxed.
func (f *fakeAccountStore) UpdateChimeAccount(ctx context.Context, k parley.ChimeAccountKey, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error) {
	a, err := f.ChimeAccount(ctx, k)
	if err != nil {
		return nil, err
	}
	c := *a
	if err := fn(&c); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[k.AWS+"/"+k.Account] = &c
	f.outboxed = append(f.outboxed, parley.OutboxFrom(ctx)...)
	return &c, nil
}

func (f *fakeAccountStore) DeleteChimeAccount(ctx context.Context, k parley.ChimeAccountKey) error {
	if _, err := f.ChimeAccount(ctx, k); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.accounts, k.AWS+"/"+k.Account)
	f.outboxed = append(f.outboxed, parley.OutboxFrom(ctx)...)
	return nil
}

func (f *fakeAccountStore) UpdateChimeUser(ctx context.Context, k parley.ChimeUserKey, fn func(*parley.ChimeUser) error) (*parley.ChimeUser, error) {
	u, err := f.ChimeUser(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := fn(u); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[k.AWS+"/"+k.Account+"/"+k.User] = u
	return u, nil
}

// fakeControl runs the write and records the commands it was asked to carry out.
type fakeControl struct {
	mu   sync.Mutex
	cmds []parley.Command
	err  error // returned by Do and Deliver, after the write
}

// Do hands write the commands' outbox entries, as the control plane does,
// so a fake store can tell whether its write carried them.
func (c *fakeControl) Do(ctx context.Context, write func(context.Context) error, cmds ...parley.Command) error {
	if write != nil {
		entries := make([]*parley.OutboxEntry, len(cmds))
		for i := range cmds {
			entries[i] = control.Entry(&cmds[i])
		}
		if err := write(parley.WithOutbox(ctx, entries...)); err != nil {
			return err
		}
	}
	return c.Deliver(ctx, cmds...)
}

func (c *fakeControl) Deliver(_ context.Context, cmds ...parley.Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cmds = append(c.cmds, cmds...)
	return c.err
}

func (c *fakeControl) commands() []parley.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]parley.Command(nil), c.cmds...)
}

// auditTrail records audit records in memory.
type auditTrail struct {
	mu      sync.Mutex
	records []*parley.AuditRecord
	fail    error // returned by every write, if set
}

func (a *auditTrail) AppendAudit(_ context.Context, r *parley.AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	c := *r
	a.records = append(a.records, &c)
	return nil
}

func (a *auditTrail) ReplaceAudit(_ context.Context, r *parley.AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	for i, old := range a.records {
		if old.ID == r.ID && old.AwsAccountID == r.AwsAccountID {
			c := *r
			a.records[i] = &c
			return nil
		}
	}
	return parley.Errorf(parley.KindNotFound, "audit record %s not found", r.ID)
}

func (a *auditTrail) all() []*parley.AuditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*parley.AuditRecord(nil), a.records...)
}

// fixedClock is a clock that says t.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var (
	now    = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	caller = parley.Principal{Scope: parley.Scope{AccountID: "111111111111", Region: "us-east-1"}, AccessKeyID: "AKIDTEST"}
)

// core returns a Core with a recording control plane and audit trail.
func core(t *testing.T) (*service.Core, *fakeControl, *auditTrail) {
	t.Helper()
	ctl, trail := &fakeControl{}, &auditTrail{}
	return &service.Core{Control: ctl, Clock: fixedClock{now}, Log: testLog(t), Audit: trail}, ctl, trail
}

func sealer(t *testing.T) *chattoken.Sealer {
	t.Helper()
	key, err := chattoken.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := chattoken.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func asCaller() context.Context { return parley.NewContextWithPrincipal(context.Background(), caller) }
