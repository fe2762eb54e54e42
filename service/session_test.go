package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/sqlite"
)

// failingStore fails the failAt-th UpdateChimeUser, as a database that
// goes away in the middle of a batch would.
type failingStore struct {
	parley.Store
	mu     sync.Mutex
	calls  int
	failAt int
}

func (f *failingStore) UpdateChimeUser(ctx context.Context, k parley.ChimeUserKey, fn func(*parley.ChimeUser) error) (*parley.ChimeUser, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls == f.failAt
	f.mu.Unlock()
	if fail {
		return nil, parley.Internal("test", fmt.Errorf("disk on fire"))
	}
	return f.Store.UpdateChimeUser(ctx, k, fn)
}

// signOuts records the users a node's sockets were told to sign out.
type signOuts struct {
	mu    sync.Mutex
	users []string
}

func (s *signOuts) Apply(cmds []parley.Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cmds {
		if c.Op == parley.OpSignOut {
			s.users = append(s.users, c.Users...)
		}
	}
}
func (s *signOuts) Fence()                     {}
func (s *signOuts) Unfence()                   {}
func (s *signOuts) Revalidate(context.Context) {}

// Ensure a store error in the middle of BatchSuspendUser still signs out,
// and audits, every user suspended before it: their suspension is durable,
// so their devices must not stay connected.
func TestBatchSuspendStoreErrorMidBatch(t *testing.T) {
	ctx := parley.NewContextWithPrincipal(context.Background(), parley.Principal{AccessKeyID: "AKIATEST", Scope: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, Service: "chime"})
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &failingStore{Store: db, failAt: 25}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := inmem.New()
	sockets := &signOuts{}
	plane := control.New(db, bus, sockets, log, control.Config{NodeID: "n1"})
	if err := plane.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer plane.Stop()
	svc := service.New(service.Config{Store: store, Bus: bus, Control: plane, Clock: parley.SystemClock{}, Log: log}).Accounts

	acct, err := svc.CreateChimeAccount(ctx, "Acme", parley.AccountEnterpriseLWA)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 50 {
		u, err := svc.CreateChimeUser(ctx, acct.AccountID, "", fmt.Sprintf("user%d@example.com", i), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.UserID)
	}

	if _, err := svc.BatchSuspendUser(ctx, acct.AccountID, ids); parley.KindOf(err) != parley.KindInternal {
		t.Fatalf("BatchSuspendUser with the store failing at the 25th user: %v, want the store's error", err)
	}
	sockets.mu.Lock()
	signedOut := strings.Join(sockets.users, ",")
	sockets.mu.Unlock()
	if want := strings.Join(ids[:24], ","); signedOut != want {
		t.Fatalf("signed out %q\nwant the 24 users suspended before the error %q", signedOut, want)
	}
	for i, id := range ids[:26] {
		u, err := db.ChimeUser(ctx, acct.Key().User(id))
		if err != nil {
			t.Fatal(err)
		}
		if suspended := u.RegistrationStatus == parley.UserSuspended; suspended != (i < 24) {
			t.Fatalf("user %d suspended = %v", i, suspended)
		}
	}
	recs, _, err := db.ListAudit(ctx, "123456789012", parley.Page{MaxResults: 100})
	if err != nil {
		t.Fatal(err)
	}
	ok, failed := 0, 0
	for _, r := range recs {
		if r.Action != "BatchSuspendUser" {
			continue
		}
		if r.Result == "ok" {
			ok++
		} else {
			failed++
		}
	}
	if ok != 24 || failed != 1 {
		t.Fatalf("audit: %d ok and %d failed BatchSuspendUser records, want 24 and 1", ok, failed)
	}
}
