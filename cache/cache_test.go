package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cache"
	"github.com/parley-chat/parley/internal/testclock"
)

// roomStore is a store of rooms that counts its reads; a read may be held
// until release is closed, to race it with an invalidation.
type roomStore struct {
	mu      sync.Mutex
	rooms   map[string]*parley.Room
	reads   int
	hold    chan struct{} // if not nil, reads wait on it after reading
	reading chan struct{} // if not nil, told when a read has read
}

func (s *roomStore) Room(_ context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	s.mu.Lock()
	s.reads++
	r, ok := s.rooms[id]
	var c parley.Room
	if ok {
		c = *r
	}
	hold, reading := s.hold, s.reading
	s.mu.Unlock()
	if reading != nil {
		reading <- struct{}{}
	}
	if hold != nil {
		<-hold
	}
	if !ok {
		return nil, parley.NotFound(parley.ResourceRoom, id, "room %s not found", id)
	}
	return &c, nil
}

func (s *roomStore) set(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		delete(s.rooms, id)
		return
	}
	s.rooms[id] = &parley.Room{ID: id, Name: name}
}

func (s *roomStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

var sc = parley.Scope{AccountID: "111111111111", Region: "us-east-1"}

func newRooms() (*cache.Rooms, *roomStore, *testclock.Clock) {
	st := &roomStore{rooms: map[string]*parley.Room{}}
	st.set("r1", "one")
	clk := testclock.New()
	return cache.NewRooms(st, clk.Now), st, clk
}

func name(t *testing.T, c *cache.Rooms) string {
	t.Helper()
	r, err := c.Room(context.Background(), sc, "r1")
	if err != nil {
		return "error: " + parley.KindOf(err).String()
	}
	return r.Name
}

// Ensure a room is read once within RoomTTL, and again after it.
func TestRoomsTTL(t *testing.T) {
	c, st, clk := newRooms()
	for range 3 {
		if got := name(t, c); got != "one" {
			t.Fatalf("room %q", got)
		}
	}
	if st.count() != 1 {
		t.Fatalf("%d store reads for three lookups within the TTL, want 1", st.count())
	}
	st.set("r1", "renamed behind the cache's back")
	clk.Advance(cache.RoomTTL)
	if got := name(t, c); got != "renamed behind the cache's back" {
		t.Fatalf("room after its TTL: %q, want the store's", got)
	}
}

// Ensure a cached room is the caller's to change: changing the tags,
// logging configurations or review handler of one read changes neither
// the cache nor the next read.
func TestRoomsCopiesShareNothing(t *testing.T) {
	c, st, _ := newRooms()
	st.mu.Lock()
	st.rooms["r1"].Tags = map[string]string{"k": "v"}
	st.rooms["r1"].LoggingConfigurationIDs = []string{"lc1"}
	st.rooms["r1"].MessageReviewHandler = &parley.MessageReviewHandler{URI: "arn:lambda"}
	st.mu.Unlock()
	for range 2 { // the read that fills the cache, then one from it
		r, err := c.Room(context.Background(), sc, "r1")
		if err != nil {
			t.Fatal(err)
		}
		r.Tags["k"] = "changed"
		r.LoggingConfigurationIDs[0] = "changed"
		r.MessageReviewHandler.URI = "changed"
	}
	r, err := c.Room(context.Background(), sc, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Tags["k"] != "v" || r.LoggingConfigurationIDs[0] != "lc1" || r.MessageReviewHandler.URI != "arn:lambda" {
		t.Fatalf("cached room changed by its readers: %+v, %+v", r, r.MessageReviewHandler)
	}
	if st.count() != 1 {
		t.Fatalf("%d store reads, want 1", st.count())
	}
}

// Ensure a missing room is not remembered: a room created next is found at once.
func TestRoomsMissNotKept(t *testing.T) {
	c, st, _ := newRooms()
	st.set("r1", "")
	if got := name(t, c); got != "error: not found" {
		t.Fatalf("missing room: %q", got)
	}
	st.set("r1", "created")
	if got := name(t, c); got != "created" {
		t.Fatalf("room created after a miss: %q", got)
	}
}

// recorder is a node's sockets, recording what the cache said when a
// command reached them.
type recorder struct {
	t      *testing.T
	c      *cache.Rooms
	seen   []string
	fenced int
}

func (r *recorder) Apply([]parley.Command)     { r.seen = append(r.seen, name(r.t, r.c)) }
func (r *recorder) Fence()                     { r.fenced++ }
func (r *recorder) Unfence()                   {}
func (r *recorder) Revalidate(context.Context) {}

// Ensure DeleteRoom and UpdateRoom commands forget the room before the
// node's sockets apply them (and so before the command is acknowledged),
// and fencing forgets every room.
func TestRoomsInvalidatedByCommands(t *testing.T) {
	c, st, _ := newRooms()
	rec := &recorder{t: t, c: c}
	sockets := c.Invalidating(rec)
	name(t, c) // cached

	st.set("r1", "updated")
	sockets.Apply([]parley.Command{{Op: parley.OpUpdateRoom, Scope: sc, Room: "r1"}})
	st.set("r1", "")
	sockets.Apply([]parley.Command{{Op: parley.OpDeleteRoom, Scope: sc, Room: "r1"}})
	if want := []string{"updated", "error: not found"}; len(rec.seen) != 2 || rec.seen[0] != want[0] || rec.seen[1] != want[1] {
		t.Fatalf("the room as the sockets saw it when applying: %q, want %q", rec.seen, want)
	}

	// A command about another room leaves this one cached.
	st.set("r1", "back")
	name(t, c)
	st.set("r1", "changed unseen")
	sockets.Apply([]parley.Command{{Op: parley.OpDeleteRoom, Scope: sc, Room: "r2"}, {Op: parley.OpDisconnectUser, Scope: sc, Room: "r1"}})
	if got := rec.seen[2]; got != "back" {
		t.Fatalf("after commands about other rooms: %q, want the cached room", got)
	}

	sockets.Fence()
	if got := name(t, c); got != "changed unseen" || rec.fenced != 1 {
		t.Fatalf("after fencing: %q (fenced %d), want the store's room", got, rec.fenced)
	}
}

// Ensure a read that started before an invalidation does not put the old
// room back once it is forgotten.
func TestRoomsReadRacingInvalidation(t *testing.T) {
	c, st, _ := newRooms()
	hold, reading := make(chan struct{}), make(chan struct{})
	st.hold, st.reading = hold, reading
	done := make(chan string)
	go func() { done <- name(t, c) }()
	<-reading // the old room has been read, and is not cached yet
	st.mu.Lock()
	st.hold, st.reading = nil, nil
	st.mu.Unlock()
	st.set("r1", "")
	c.Forget(sc, "r1")
	close(hold)
	if got := <-done; got != "one" {
		t.Fatalf("the racing read returned %q", got)
	}
	if got := name(t, c); got != "error: not found" {
		t.Fatalf("after the racing read: %q, want the room gone", got)
	}
}

type keyStore struct {
	mu    sync.Mutex
	reads int
	keys  map[string]*parley.AccessKey
}

func (s *keyStore) AccessKey(_ context.Context, id string) (*parley.AccessKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if k, ok := s.keys[id]; ok {
		c := *k
		return &c, nil
	}
	return nil, parley.Errorf(parley.KindNotFound, "no key")
}

// Ensure a key is read once within KeyTTL, a deleted key stops working
// after KeyTTL, and unknown key IDs are read each time (never kept).
func TestKeys(t *testing.T) {
	st := &keyStore{keys: map[string]*parley.AccessKey{"AK1": {ID: "AK1", Secret: "s"}}}
	clk := testclock.New()
	c := cache.NewKeys(st, clk.Now)
	ctx := context.Background()
	for range 3 {
		if k, err := c.AccessKey(ctx, "AK1"); err != nil || k.Secret != "s" {
			t.Fatalf("AccessKey: %v, %v", k, err)
		}
		c.AccessKey(ctx, "unknown")
	}
	if st.reads != 4 {
		t.Fatalf("%d reads, want 1 for the known key and 3 for the unknown one", st.reads)
	}
	delete(st.keys, "AK1")
	clk.Advance(cache.KeyTTL - time.Millisecond)
	if _, err := c.AccessKey(ctx, "AK1"); err != nil {
		t.Fatalf("a deleted key within KeyTTL: %v (kept, as documented)", err)
	}
	clk.Advance(time.Millisecond)
	if _, err := c.AccessKey(ctx, "AK1"); parley.KindOf(err) != parley.KindNotFound {
		t.Fatalf("a deleted key after KeyTTL: %v, want NotFound", err)
	}
}

// Ensure an OpAccessKeyChanged command forgets the key before the node's
// sockets apply it, leaves other keys kept, and fencing forgets every key.
func TestKeysInvalidatedByCommands(t *testing.T) {
	st := &keyStore{keys: map[string]*parley.AccessKey{"AK1": {ID: "AK1", Secret: "old"}, "AK2": {ID: "AK2", Secret: "two"}}}
	clk := testclock.New()
	c := cache.NewKeys(st, clk.Now)
	ctx := context.Background()
	secret := func(id string) string {
		k, err := c.AccessKey(ctx, id)
		if err != nil {
			return "error: " + parley.KindOf(err).String()
		}
		return k.Secret
	}
	var seen []string
	sockets := c.Invalidating(&funcSockets{apply: func([]parley.Command) { seen = append(seen, secret("AK1")+","+secret("AK2")) }})
	secret("AK1")
	secret("AK2") // both kept

	st.mu.Lock()
	st.keys["AK1"] = &parley.AccessKey{ID: "AK1", Secret: "new"}
	st.keys["AK2"] = &parley.AccessKey{ID: "AK2", Secret: "changed unseen"}
	st.mu.Unlock()
	sockets.Apply([]parley.Command{{Op: parley.OpAccessKeyChanged, AccessKey: "AK1"}})
	if want := "new,two"; len(seen) != 1 || seen[0] != want {
		t.Fatalf("keys as the sockets saw them when applying: %q, want %q (AK1 forgotten, AK2 kept)", seen, want)
	}
	// Other commands leave keys alone, whatever they carry.
	sockets.Apply([]parley.Command{{Op: parley.OpChimeAccountChanged, Chime: parley.ChimeRoomKey{ChimeAccountKey: acc1}}, {Op: parley.OpDeleteRoom, Room: "r", AccessKey: "AK2"}})
	if got := seen[1]; got != "new,two" {
		t.Fatalf("after commands about other things: %q, want the kept keys", got)
	}
	sockets.Fence()
	if got := secret("AK2"); got != "changed unseen" {
		t.Fatalf("after fencing: %q, want the store's secret", got)
	}
}

// funcSockets is a node's sockets that run apply and count fences.
type funcSockets struct {
	apply            func([]parley.Command)
	fenced, unfenced int
}

func (s *funcSockets) Apply(cmds []parley.Command) { s.apply(cmds) }
func (s *funcSockets) Fence()                      { s.fenced++ }
func (s *funcSockets) Unfence()                    { s.unfenced++ }
func (s *funcSockets) Revalidate(context.Context)  {}

// accountStore is a store of Chime accounts that counts its reads.
type accountStore struct {
	mu       sync.Mutex
	accounts map[parley.ChimeAccountKey]*parley.ChimeAccount
	reads    int
}

func (s *accountStore) ChimeAccount(_ context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	a, ok := s.accounts[k]
	if !ok {
		return nil, parley.NotFound("Account", k.Account, "account %s not found", k.Account)
	}
	c := *a
	c.SupportedLicenses = append([]string(nil), a.SupportedLicenses...)
	return &c, nil
}

func (s *accountStore) set(k parley.ChimeAccountKey, retention int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if retention < 0 {
		delete(s.accounts, k)
		return
	}
	s.accounts[k] = &parley.ChimeAccount{AwsAccountID: k.AWS, AccountID: k.Account, Type: parley.AccountEnterpriseLWA,
		SupportedLicenses: []string{"Basic", "Pro"}, RoomRetentionDays: retention}
}

func (s *accountStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

var (
	acc1 = parley.ChimeAccountKey{AWS: "111111111111", Account: "acc-1"}
	acc2 = parley.ChimeAccountKey{AWS: "111111111111", Account: "acc-2"}
)

func newAccounts() (*cache.Accounts, *accountStore, *testclock.Clock) {
	st := &accountStore{accounts: map[parley.ChimeAccountKey]*parley.ChimeAccount{}}
	st.set(acc1, 1)
	st.set(acc2, 2)
	clk := testclock.New()
	return cache.NewAccounts(st, clk.Now), st, clk
}

// retention returns the account's room retention as the cache says, or its error kind.
func retention(t *testing.T, c *cache.Accounts, k parley.ChimeAccountKey) string {
	t.Helper()
	a, err := c.ChimeAccount(context.Background(), k)
	if err != nil {
		return "error: " + parley.KindOf(err).String()
	}
	return fmt.Sprint(a.RoomRetentionDays)
}

// Ensure an account is read once within AccountTTL and again after it, a
// missing account is not remembered, and what a caller does to the
// account it was given does not reach the cache.
func TestAccountsTTL(t *testing.T) {
	c, st, clk := newAccounts()
	for range 3 {
		if got := retention(t, c, acc1); got != "1" {
			t.Fatalf("retention %q, want 1", got)
		}
	}
	if st.count() != 1 {
		t.Fatalf("%d store reads for three lookups within the TTL, want 1", st.count())
	}
	a, _ := c.ChimeAccount(context.Background(), acc1)
	a.RoomRetentionDays, a.SupportedLicenses[0] = 99, "Scribbled"
	if b, _ := c.ChimeAccount(context.Background(), acc1); b.RoomRetentionDays != 1 || b.SupportedLicenses[0] != "Basic" {
		t.Fatalf("the cached account after a caller changed its copy: %+v", b)
	}
	st.set(acc1, 7)
	clk.Advance(cache.AccountTTL - time.Millisecond)
	if got := retention(t, c, acc1); got != "1" {
		t.Fatalf("within AccountTTL: %q, want the kept 1", got)
	}
	clk.Advance(time.Millisecond)
	if got := retention(t, c, acc1); got != "7" {
		t.Fatalf("after AccountTTL: %q, want the store's 7", got)
	}

	missing := parley.ChimeAccountKey{AWS: "111111111111", Account: "later"}
	if got := retention(t, c, missing); got != "error: not found" {
		t.Fatalf("a missing account: %q", got)
	}
	st.set(missing, 3)
	if got := retention(t, c, missing); got != "3" {
		t.Fatalf("an account created after a miss: %q, want it at once", got)
	}
}

// Ensure OpChimeAccountChanged forgets the account (and only it) before
// the node's sockets apply the command, and fencing or coming back forgets
// every account.
func TestAccountsInvalidatedByCommands(t *testing.T) {
	c, st, _ := newAccounts()
	var seen []string
	next := &funcSockets{apply: func([]parley.Command) { seen = append(seen, retention(t, c, acc1)+","+retention(t, c, acc2)) }}
	sockets := c.Invalidating(next)
	retention(t, c, acc1)
	retention(t, c, acc2) // both kept

	st.set(acc1, 30)
	st.set(acc2, 60) // behind the cache's back: no command says so
	changed := parley.Command{Op: parley.OpChimeAccountChanged, Chime: parley.ChimeRoomKey{ChimeAccountKey: acc1}}
	sockets.Apply([]parley.Command{changed})
	st.set(acc1, -1) // deleted
	sockets.Apply([]parley.Command{changed})
	// Room commands of the account, and sign-outs, do not change it.
	sockets.Apply([]parley.Command{{Op: parley.OpDeleteChimeRoom, Chime: acc2.Room("r")}, {Op: parley.OpSignOut, Chime: parley.ChimeRoomKey{ChimeAccountKey: acc2}}})
	want := []string{"30,2", "error: not found,2", "error: not found,2"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("accounts as the sockets saw them when applying: %q, want %q", seen, want)
	}

	sockets.Fence()
	if got := retention(t, c, acc2); got != "60" || next.fenced != 1 {
		t.Fatalf("after fencing: %q (fenced %d), want the store's 60", got, next.fenced)
	}
	st.set(acc2, 90)
	sockets.Unfence()
	if got := retention(t, c, acc2); got != "90" || next.unfenced != 1 {
		t.Fatalf("after coming back: %q (unfenced %d), want the store's 90", got, next.unfenced)
	}
}

// Ensure the caches stacked in front of a node's sockets, as a server
// stacks them, each forget what their commands change before the sockets
// apply them, and the sockets get every command once.
func TestCachesStacked(t *testing.T) {
	accounts, ast, _ := newAccounts()
	rooms, rst, _ := newRooms()
	kst := &keyStore{keys: map[string]*parley.AccessKey{"AK1": {ID: "AK1", Secret: "old"}}}
	keys := cache.NewKeys(kst, time.Now)
	ctx := context.Background()
	var got [][]parley.Op
	var seen string
	sockets := accounts.Invalidating(keys.Invalidating(rooms.Invalidating(&funcSockets{apply: func(cmds []parley.Command) {
		var ops []parley.Op
		for _, c := range cmds {
			ops = append(ops, c.Op)
		}
		got = append(got, ops)
		k, _ := keys.AccessKey(ctx, "AK1")
		seen = retention(t, accounts, acc1) + "," + name(t, rooms) + "," + k.Secret
	}})))
	retention(t, accounts, acc1)
	name(t, rooms)
	keys.AccessKey(ctx, "AK1")

	ast.set(acc1, 5)
	rst.set("r1", "renamed")
	kst.mu.Lock()
	kst.keys["AK1"] = &parley.AccessKey{ID: "AK1", Secret: "new"}
	kst.mu.Unlock()
	sockets.Apply([]parley.Command{
		{Op: parley.OpChimeAccountChanged, Chime: parley.ChimeRoomKey{ChimeAccountKey: acc1}},
		{Op: parley.OpUpdateRoom, Scope: sc, Room: "r1"},
		{Op: parley.OpAccessKeyChanged, AccessKey: "AK1"},
	})
	if want := "[[ChimeAccountChanged UpdateRoom AccessKeyChanged]]"; fmt.Sprint(got) != want {
		t.Fatalf("the sockets got %v, want %s", got, want)
	}
	if want := "5,renamed,new"; seen != want {
		t.Fatalf("what the sockets read when applying: %q, want %q", seen, want)
	}
}
