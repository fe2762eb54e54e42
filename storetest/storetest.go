// Package storetest is the conformance suite every parley.Store runs: the
// same tests, unchanged, against SQLite and PostgreSQL.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Run runs the suite. newStore returns a fresh, empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, parley.Store)
	}{
		{"Room/CreateGet", testRoomCreateGet},
		{"Room/NotFound", testRoomNotFound},
		{"Room/OtherScope", testRoomOtherScope},
		{"Room/Quota", testRoomQuota},
		{"Room/DuplicateID", testRoomDuplicate},
		{"Room/MissingLoggingConfiguration", testRoomMissingConfig},
		{"Room/Update", testRoomUpdate},
		{"Room/Delete", testRoomDelete},
		{"Room/ListOrderAndPages", testRoomList},
		{"Room/ListFilters", testRoomListFilters},
		{"Room/ListBadToken", testRoomListBadToken},
		{"LoggingConfiguration/CRUD", testConfigCRUD},
		{"LoggingConfiguration/Quota", testConfigQuota},
		{"LoggingConfiguration/DeleteDetaches", testConfigDeleteDetaches},
		{"LoggingConfiguration/ListPages", testConfigList},
		{"Tags", testTags},
		{"Tags/Limit", testTagsLimit},
		{"Tags/NotFound", testTagsNotFound},
		{"ConsumeToken/Once", testConsumeToken},
		{"ConsumeToken/Banned", testConsumeTokenBanned},
		{"PurgeTokens/Many", testPurgeTokensMany},
		{"ConsumeToken/Concurrent", testConcurrentSmallWrites},
		{"Audit/Expire", testExpireAudit},
		{"AccessKeys", testAccessKeys},
		{"Secret/Stable", testSecret},
		{"ChimeAccount/CRUD", testChimeAccount},
		{"ChimeAccount/List", testChimeAccountList},
		{"ChimeAccount/DeletePrecondition", testChimeAccountDelete},
		{"ChimeUser/CRUD", testChimeUser},
		{"ChimeUser/List", testChimeUserList},
		{"Audit", testAudit},
		{"ChimeRoom/CRUD", testChimeRoom},
		{"ChimeRoom/Idempotent", testChimeRoomIdempotent},
		{"ChimeRoom/Memberships", testMemberships},
		{"Bot", testBot},
		{"ChimeRoom/History", testHistory},
		{"Nodes", testNodes},
		{"Nodes/List", testNodeList},
		{"Outbox/Lifecycle", testOutbox},
		{"Outbox/SameTransaction", testOutboxTransaction},
		{"Ban/Active", testBanActive},
		{"Ban/EveryRoom", testBanEveryRoom},
		{"Ban/MissingRoom", testBanMissingRoom},
		{"Ban/Delete", testBanDelete},
		{"Ban/DeleteRoom", testBanDeleteRoom},
		{"Ban/List", testBanList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

var (
	scopeA = parley.Scope{AccountID: "111111111111", Region: "us-east-1"}
	scopeB = parley.Scope{AccountID: "222222222222", Region: "us-east-1"}
	scopeC = parley.Scope{AccountID: "111111111111", Region: "eu-west-1"}
	t0     = time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
)

func ctx() context.Context { return context.Background() }

func newRoom(s parley.Scope, id string, at time.Time) *parley.Room {
	return &parley.Room{Scope: s, ID: id, Name: "room-" + id, MaximumMessageRate: 10, MaximumMessageLength: 500,
		LoggingConfigurationIDs: []string{}, Tags: map[string]string{}, CreateTime: at, UpdateTime: at}
}

func newConfig(s parley.Scope, id string, at time.Time) *parley.LoggingConfiguration {
	return &parley.LoggingConfiguration{Scope: s, ID: id, Name: "cfg-" + id, Destination: parley.Destination{S3Bucket: "bucket-" + id},
		State: parley.LoggingActive, Tags: map[string]string{}, CreateTime: at, UpdateTime: at}
}

func wantKind(t *testing.T, what string, err error, want parley.Kind) *parley.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: err = nil, want kind %v", what, want)
	}
	if got := parley.KindOf(err); got != want {
		t.Fatalf("%s: kind = %v (%v), want %v", what, got, err, want)
	}
	return parley.AsError(err)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustCreateRoom(t *testing.T, s parley.Store, r *parley.Room) {
	t.Helper()
	must(t, "CreateRoom "+r.ID, s.CreateRoom(ctx(), r, 1000))
}

func mustCreateConfig(t *testing.T, s parley.Store, c *parley.LoggingConfiguration) {
	t.Helper()
	must(t, "CreateLoggingConfiguration "+c.ID, s.CreateLoggingConfiguration(ctx(), c, 100))
}

// Ensure a room comes back exactly as it was stored, timestamps included.
func testRoomCreateGet(t *testing.T, s parley.Store) {
	mustCreateConfig(t, s, newConfig(scopeA, "cfg000000001", t0))
	mustCreateConfig(t, s, newConfig(scopeA, "cfg000000002", t0))
	r := newRoom(scopeA, "room00000001", t0)
	r.MaximumMessageRate, r.MaximumMessageLength = 5, 200
	r.MessageReviewHandler = &parley.MessageReviewHandler{URI: "arn:aws:lambda:us-east-1:111111111111:function:f", FallbackResult: parley.ReviewDeny}
	r.LoggingConfigurationIDs = []string{"cfg000000002", "cfg000000001"}
	r.Tags = map[string]string{"a": "b", "empty": ""}
	mustCreateRoom(t, s, r)
	got, err := s.Room(ctx(), scopeA, r.ID)
	must(t, "Room", err)
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("Room = %+v\nwant %+v", got, r)
	}
}

func testRoomNotFound(t *testing.T, s parley.Store) {
	_, err := s.Room(ctx(), scopeA, "nope00000000")
	e := wantKind(t, "Room(missing)", err, parley.KindNotFound)
	if e.Resource == nil || e.Resource.ID != "nope00000000" || e.Resource.Type != parley.ResourceRoom {
		t.Fatalf("Resource = %+v, want ROOM nope00000000", e.Resource)
	}
}

// Ensure tenants are isolated: another account or region sees nothing.
func testRoomOtherScope(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	for _, sc := range []parley.Scope{scopeB, scopeC} {
		_, err := s.Room(ctx(), sc, "room00000001")
		wantKind(t, fmt.Sprintf("Room in %v", sc), err, parley.KindNotFound)
		wantKind(t, "DeleteRoom other scope", s.DeleteRoom(ctx(), sc, "room00000001"), parley.KindNotFound)
		_, err = s.UpdateRoom(ctx(), sc, "room00000001", parley.RoomUpdate{UpdateTime: t0})
		wantKind(t, "UpdateRoom other scope", err, parley.KindNotFound)
		rooms, _, err := s.ListRooms(ctx(), parley.RoomFilter{Scope: sc, MaxResults: 50})
		must(t, "ListRooms", err)
		if len(rooms) != 0 {
			t.Fatalf("ListRooms(%v) = %d rooms, want 0", sc, len(rooms))
		}
	}
}

func testRoomQuota(t *testing.T, s parley.Store) {
	for i := 0; i < 2; i++ {
		must(t, "CreateRoom", s.CreateRoom(ctx(), newRoom(scopeA, fmt.Sprintf("room%08d", i), t0), 2))
	}
	e := wantKind(t, "CreateRoom over quota", s.CreateRoom(ctx(), newRoom(scopeA, "room00000009", t0), 2), parley.KindQuotaExceeded)
	if e.Limit != 2 {
		t.Fatalf("Limit = %d, want 2", e.Limit)
	}
	// The quota is per scope.
	must(t, "CreateRoom other scope", s.CreateRoom(ctx(), newRoom(scopeB, "room00000009", t0), 2))
}

func testRoomDuplicate(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	wantKind(t, "CreateRoom duplicate", s.CreateRoom(ctx(), newRoom(scopeA, "room00000001", t0), 1000), parley.KindConflict)
}

func testRoomMissingConfig(t *testing.T, s parley.Store) {
	mustCreateConfig(t, s, newConfig(scopeB, "cfg000000001", t0)) // exists, but in another account
	r := newRoom(scopeA, "room00000001", t0)
	r.LoggingConfigurationIDs = []string{"cfg000000001"}
	e := wantKind(t, "CreateRoom with missing config", s.CreateRoom(ctx(), r, 1000), parley.KindNotFound)
	if e.Resource == nil || e.Resource.ID != "cfg000000001" {
		t.Fatalf("Resource = %+v, want cfg000000001", e.Resource)
	}
	_, err := s.Room(ctx(), scopeA, r.ID)
	wantKind(t, "Room after failed create", err, parley.KindNotFound)
}

func testRoomUpdate(t *testing.T, s parley.Store) {
	mustCreateConfig(t, s, newConfig(scopeA, "cfg000000001", t0))
	r := newRoom(scopeA, "room00000001", t0)
	r.MessageReviewHandler = &parley.MessageReviewHandler{URI: "arn:aws:lambda:us-east-1:111111111111:function:f", FallbackResult: parley.ReviewAllow}
	r.Tags = map[string]string{"k": "v"}
	mustCreateRoom(t, s, r)

	t1 := t0.Add(time.Minute)
	name, rate := "renamed", 42
	configs := []string{"cfg000000001"}
	got, err := s.UpdateRoom(ctx(), scopeA, r.ID, parley.RoomUpdate{Name: &name, MaximumMessageRate: &rate, LoggingConfigurationIDs: &configs, UpdateTime: t1})
	must(t, "UpdateRoom", err)
	want := *r
	want.Name, want.MaximumMessageRate, want.LoggingConfigurationIDs, want.UpdateTime = name, rate, configs, t1
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("UpdateRoom = %+v\nwant %+v", got, &want)
	}

	var none *parley.MessageReviewHandler
	empty := []string{}
	got, err = s.UpdateRoom(ctx(), scopeA, r.ID, parley.RoomUpdate{MessageReviewHandler: &none, LoggingConfigurationIDs: &empty, UpdateTime: t1})
	must(t, "UpdateRoom remove", err)
	if got.MessageReviewHandler != nil || len(got.LoggingConfigurationIDs) != 0 || got.Name != name {
		t.Fatalf("after removal: handler=%v configs=%v name=%q", got.MessageReviewHandler, got.LoggingConfigurationIDs, got.Name)
	}

	missing := []string{"cfg000000009"}
	_, err = s.UpdateRoom(ctx(), scopeA, r.ID, parley.RoomUpdate{Name: &name, LoggingConfigurationIDs: &missing, UpdateTime: t1})
	wantKind(t, "UpdateRoom missing config", err, parley.KindNotFound)
}

func testRoomDelete(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	must(t, "DeleteRoom", s.DeleteRoom(ctx(), scopeA, "room00000001"))
	_, err := s.Room(ctx(), scopeA, "room00000001")
	wantKind(t, "Room after delete", err, parley.KindNotFound)
	wantKind(t, "DeleteRoom twice", s.DeleteRoom(ctx(), scopeA, "room00000001"), parley.KindNotFound)
}

// Ensure ListRooms returns every room once, newest update first, across pages.
func testRoomList(t *testing.T, s parley.Store) {
	const n = 7
	for i := 0; i < n; i++ {
		// Two rooms share each timestamp to exercise the tie-break on ID.
		mustCreateRoom(t, s, newRoom(scopeA, fmt.Sprintf("room%08d", i), t0.Add(time.Duration(i/2)*time.Second)))
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("ListRooms does not terminate")
		}
		rooms, next, err := s.ListRooms(ctx(), parley.RoomFilter{Scope: scopeA, MaxResults: 3, NextToken: token})
		must(t, "ListRooms", err)
		if len(rooms) > 3 {
			t.Fatalf("page of %d rooms, want <= 3", len(rooms))
		}
		for _, r := range rooms {
			got = append(got, r.ID)
		}
		if next == "" {
			break
		}
		token = next
	}
	want := []string{"room00000006", "room00000005", "room00000004", "room00000003", "room00000002", "room00000001", "room00000000"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListRooms order = %v, want %v", got, want)
	}
}

func testRoomListFilters(t *testing.T, s parley.Store) {
	mustCreateConfig(t, s, newConfig(scopeA, "cfg000000001", t0))
	a := newRoom(scopeA, "room0000000a", t0)
	a.Name = "alpha"
	a.LoggingConfigurationIDs = []string{"cfg000000001"}
	b := newRoom(scopeA, "room0000000b", t0)
	b.Name = "beta"
	b.MessageReviewHandler = &parley.MessageReviewHandler{URI: "arn:aws:lambda:us-east-1:111111111111:function:f", FallbackResult: parley.ReviewAllow}
	mustCreateRoom(t, s, a)
	mustCreateRoom(t, s, b)
	for _, tc := range []struct {
		f    parley.RoomFilter
		want string
	}{
		{parley.RoomFilter{Name: "alpha"}, "room0000000a"},
		{parley.RoomFilter{MessageReviewHandlerURI: b.MessageReviewHandler.URI}, "room0000000b"},
		{parley.RoomFilter{LoggingConfigurationID: "cfg000000001"}, "room0000000a"},
	} {
		tc.f.Scope, tc.f.MaxResults = scopeA, 50
		rooms, _, err := s.ListRooms(ctx(), tc.f)
		must(t, "ListRooms", err)
		if len(rooms) != 1 || rooms[0].ID != tc.want {
			t.Errorf("ListRooms(%+v) = %d rooms, want only %s", tc.f, len(rooms), tc.want)
		}
	}
	_, _, err := s.ListRooms(ctx(), parley.RoomFilter{Scope: scopeA, MaxResults: 50, LoggingConfigurationID: "cfg000000009"})
	wantKind(t, "ListRooms by missing config", err, parley.KindNotFound)
}

func testRoomListBadToken(t *testing.T, s parley.Store) {
	_, _, err := s.ListRooms(ctx(), parley.RoomFilter{Scope: scopeA, MaxResults: 50, NextToken: "garbage!"})
	wantKind(t, "ListRooms(bad token)", err, parley.KindInvalid)
}

func testConfigCRUD(t *testing.T, s parley.Store) {
	c := newConfig(scopeA, "cfg000000001", t0)
	c.Tags = map[string]string{"x": "y"}
	mustCreateConfig(t, s, c)
	got, err := s.LoggingConfiguration(ctx(), scopeA, c.ID)
	must(t, "LoggingConfiguration", err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("LoggingConfiguration = %+v\nwant %+v", got, c)
	}
	_, err = s.LoggingConfiguration(ctx(), scopeB, c.ID)
	wantKind(t, "LoggingConfiguration other account", err, parley.KindNotFound)

	t1 := t0.Add(time.Hour)
	dest := parley.Destination{CloudWatchLogGroup: "/my/group"}
	got, err = s.UpdateLoggingConfiguration(ctx(), scopeA, c.ID, parley.LoggingConfigurationUpdate{Destination: &dest, UpdateTime: t1})
	must(t, "UpdateLoggingConfiguration", err)
	if got.Destination != dest || got.Name != c.Name || !got.UpdateTime.Equal(t1) || !got.CreateTime.Equal(t0) {
		t.Fatalf("UpdateLoggingConfiguration = %+v", got)
	}
	dest = parley.Destination{FirehoseStream: "stream"}
	name := "new-name"
	got, err = s.UpdateLoggingConfiguration(ctx(), scopeA, c.ID, parley.LoggingConfigurationUpdate{Name: &name, Destination: &dest, UpdateTime: t1})
	must(t, "UpdateLoggingConfiguration", err)
	if got.Destination != dest || got.Name != name {
		t.Fatalf("UpdateLoggingConfiguration = %+v", got)
	}
	must(t, "DeleteLoggingConfiguration", s.DeleteLoggingConfiguration(ctx(), scopeA, c.ID))
	wantKind(t, "DeleteLoggingConfiguration twice", s.DeleteLoggingConfiguration(ctx(), scopeA, c.ID), parley.KindNotFound)
	_, err = s.UpdateLoggingConfiguration(ctx(), scopeA, c.ID, parley.LoggingConfigurationUpdate{Name: &name, UpdateTime: t1})
	wantKind(t, "UpdateLoggingConfiguration deleted", err, parley.KindNotFound)
}

func testConfigQuota(t *testing.T, s parley.Store) {
	must(t, "Create", s.CreateLoggingConfiguration(ctx(), newConfig(scopeA, "cfg000000001", t0), 1))
	e := wantKind(t, "Create over quota", s.CreateLoggingConfiguration(ctx(), newConfig(scopeA, "cfg000000002", t0), 1), parley.KindQuotaExceeded)
	if e.Limit != 1 {
		t.Fatalf("Limit = %d, want 1", e.Limit)
	}
}

// Ensure deleting a logging configuration detaches it from the rooms that used it.
func testConfigDeleteDetaches(t *testing.T, s parley.Store) {
	mustCreateConfig(t, s, newConfig(scopeA, "cfg000000001", t0))
	mustCreateConfig(t, s, newConfig(scopeA, "cfg000000002", t0))
	r := newRoom(scopeA, "room00000001", t0)
	r.LoggingConfigurationIDs = []string{"cfg000000001", "cfg000000002"}
	mustCreateRoom(t, s, r)
	must(t, "Delete", s.DeleteLoggingConfiguration(ctx(), scopeA, "cfg000000001"))
	got, err := s.Room(ctx(), scopeA, r.ID)
	must(t, "Room", err)
	if !reflect.DeepEqual(got.LoggingConfigurationIDs, []string{"cfg000000002"}) {
		t.Fatalf("LoggingConfigurationIDs = %v, want [cfg000000002]", got.LoggingConfigurationIDs)
	}
}

func testConfigList(t *testing.T, s parley.Store) {
	for i := 0; i < 5; i++ {
		mustCreateConfig(t, s, newConfig(scopeA, fmt.Sprintf("cfg%09d", i), t0))
	}
	mustCreateConfig(t, s, newConfig(scopeB, "cfg999999999", t0))
	var got []string
	token := ""
	for pages := 0; pages < 10; pages++ {
		cs, next, err := s.ListLoggingConfigurations(ctx(), scopeA, parley.Page{MaxResults: 2, NextToken: token})
		must(t, "ListLoggingConfigurations", err)
		for _, c := range cs {
			got = append(got, c.ID)
		}
		if token = next; token == "" {
			break
		}
	}
	want := []string{"cfg000000000", "cfg000000001", "cfg000000002", "cfg000000003", "cfg000000004"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListLoggingConfigurations = %v, want %v", got, want)
	}
	_, _, err := s.ListLoggingConfigurations(ctx(), scopeA, parley.Page{MaxResults: 2, NextToken: "%%%"})
	wantKind(t, "bad token", err, parley.KindInvalid)
}

func testTags(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	mustCreateConfig(t, s, newConfig(scopeA, "cfg000000001", t0))
	for _, arn := range []parley.ParsedARN{
		{Scope: scopeA, Kind: "room", ID: "room00000001"},
		{Scope: scopeA, Kind: "logging-configuration", ID: "cfg000000001"},
	} {
		must(t, "UpdateTags", s.UpdateTags(ctx(), arn, map[string]string{"a": "1", "b": "2"}, nil, 50))
		must(t, "UpdateTags", s.UpdateTags(ctx(), arn, map[string]string{"b": "3", "c": ""}, []string{"a", "zzz"}, 50))
		got, err := s.Tags(ctx(), arn)
		must(t, "Tags", err)
		if want := map[string]string{"b": "3", "c": ""}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Tags(%v) = %v, want %v", arn.Kind, got, want)
		}
	}
	r, err := s.Room(ctx(), scopeA, "room00000001")
	must(t, "Room", err)
	if want := map[string]string{"b": "3", "c": ""}; !reflect.DeepEqual(r.Tags, want) {
		t.Fatalf("Room.Tags = %v, want %v", r.Tags, want)
	}
}

func testTagsLimit(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	arn := parley.ParsedARN{Scope: scopeA, Kind: "room", ID: "room00000001"}
	must(t, "UpdateTags", s.UpdateTags(ctx(), arn, map[string]string{"a": "1", "b": "2"}, nil, 2))
	wantKind(t, "UpdateTags over limit", s.UpdateTags(ctx(), arn, map[string]string{"c": "3"}, nil, 2), parley.KindInvalid)
	// Overwriting an existing key does not count twice.
	must(t, "UpdateTags overwrite", s.UpdateTags(ctx(), arn, map[string]string{"a": "9"}, nil, 2))
	got, _ := s.Tags(ctx(), arn)
	if want := map[string]string{"a": "9", "b": "2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Tags = %v, want %v", got, want)
	}
}

func testTagsNotFound(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	_, err := s.Tags(ctx(), parley.ParsedARN{Scope: scopeB, Kind: "room", ID: "room00000001"})
	wantKind(t, "Tags other account", err, parley.KindNotFound)
	err = s.UpdateTags(ctx(), parley.ParsedARN{Scope: scopeA, Kind: "logging-configuration", ID: "room00000001"}, map[string]string{"a": "b"}, nil, 50)
	wantKind(t, "UpdateTags wrong kind", err, parley.KindNotFound)
}

// token is a chat token of user u in scopeA's room00000001, expiring at expires.
func token(id, u string, expires time.Time) *parley.ChatToken {
	return &parley.ChatToken{ID: id, Room: scopeA, RoomID: "room00000001", UserID: u, TokenExpires: expires}
}

func testConsumeToken(t *testing.T, s parley.Store) {
	must(t, "ConsumeToken", s.ConsumeToken(ctx(), token("tok1", "u", t0.Add(time.Hour)), t0))
	wantKind(t, "ConsumeToken again", s.ConsumeToken(ctx(), token("tok1", "u", t0.Add(time.Hour)), t0), parley.KindConflict)
	must(t, "ConsumeToken other", s.ConsumeToken(ctx(), token("tok2", "u", t0.Add(time.Hour)), t0))
	// Purging before expiry must not make a token usable again.
	must(t, "PurgeTokens", s.PurgeTokens(ctx(), t0))
	wantKind(t, "ConsumeToken after early purge", s.ConsumeToken(ctx(), token("tok1", "u", t0.Add(time.Hour)), t0), parley.KindConflict)
	must(t, "PurgeTokens", s.PurgeTokens(ctx(), t0.Add(2*time.Hour)))
	must(t, "ConsumeToken after expiry purge", s.ConsumeToken(ctx(), token("tok1", "u", t0.Add(3*time.Hour)), t0))
}

// Ensure PurgeTokens forgets every expired token, however many (the store
// may remove them in batches), and no live one.
func testPurgeTokensMany(t *testing.T, s parley.Store) {
	const expired, live = 1234, 10
	var wg sync.WaitGroup
	errs := make(chan error, expired+live)
	for w := range 16 { // spends arriving together, as handshakes do
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < expired+live; i += 16 {
				exp := t0.Add(time.Minute)
				if i >= expired {
					exp = t0.Add(time.Hour)
				}
				errs <- s.ConsumeToken(ctx(), token(fmt.Sprint("tok", i), "u", exp), t0)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "ConsumeToken", err)
	}
	must(t, "PurgeTokens", s.PurgeTokens(ctx(), t0.Add(2*time.Minute)))
	for _, i := range []int{0, 499, 500, 501, 1000, expired - 1} {
		must(t, fmt.Sprintf("spending expired token %d again after the purge", i), s.ConsumeToken(ctx(), token(fmt.Sprint("tok", i), "u", t0.Add(time.Minute)), t0))
	}
	for i := expired; i < expired+live; i++ {
		wantKind(t, "spending a live token after the purge", s.ConsumeToken(ctx(), token(fmt.Sprint("tok", i), "u", t0.Add(time.Hour)), t0), parley.KindConflict)
	}
}

// Ensure a banned user's token is refused with the ban, and not spent: it
// opens a connection once the ban is over. Bans from the room and from
// every room count, of the token's scope only.
func testConsumeTokenBanned(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	mustCreateRoom(t, s, newRoom(scopeB, "room00000001", t0))
	must(t, "PutBan room", s.PutBan(ctx(), newBan(scopeA, "room00000001", "troll", t0, time.Minute)))
	must(t, "PutBan every room", s.PutBan(ctx(), newBan(scopeA, "", "lurker", t0, time.Hour)))
	must(t, "PutBan other scope", s.PutBan(ctx(), newBan(scopeB, "room00000001", "u", t0, time.Hour)))
	for _, c := range []struct {
		user string
		at   time.Time
		want string // the refusal's message names the ban; "" spends
	}{
		{"troll", t0.Add(30 * time.Second), "room arn:"},
		{"lurker", t0.Add(30 * time.Second), "every room of account " + scopeA.AccountID},
		{"u", t0, ""},
		{"troll", t0.Add(time.Minute), ""}, // the room's ban is over
	} {
		tok := token("t-"+c.user, c.user, t0.Add(2*time.Hour))
		err := s.ConsumeToken(ctx(), tok, c.at)
		if c.want == "" {
			must(t, "ConsumeToken of "+c.user, err)
			continue
		}
		wantKind(t, "ConsumeToken of banned "+c.user, err, parley.KindForbidden)
		if msg := parley.AsError(err).Message; !strings.Contains(msg, c.want) {
			t.Fatalf("ConsumeToken of banned %s: %q, want the ban (%q)", c.user, msg, c.want)
		}
	}
	// Refused, not spent: the ban lifted, the same token is accepted once.
	_, err := s.DeleteBan(ctx(), scopeA, "", "lurker", t0)
	must(t, "DeleteBan", err)
	must(t, "ConsumeToken after the ban", s.ConsumeToken(ctx(), token("t-lurker", "lurker", t0.Add(2*time.Hour)), t0.Add(time.Minute)))
	wantKind(t, "ConsumeToken again", s.ConsumeToken(ctx(), token("t-lurker", "lurker", t0.Add(2*time.Hour)), t0.Add(time.Minute)), parley.KindConflict)
}

func testAccessKeys(t *testing.T, s parley.Store) {
	k1 := &parley.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA1", Secret: "s1", AccountID: "111111111111", CreateTime: t0}
	k2 := &parley.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA2", Secret: "s2", AccountID: "222222222222", CreateTime: t0.Add(time.Second)}
	must(t, "PutAccessKey", s.PutAccessKey(ctx(), k1))
	must(t, "PutAccessKey", s.PutAccessKey(ctx(), k2))
	got, err := s.AccessKey(ctx(), k1.ID)
	must(t, "AccessKey", err)
	if !reflect.DeepEqual(got, k1) {
		t.Fatalf("AccessKey = %+v, want %+v", got, k1)
	}
	_, err = s.AccessKey(ctx(), "AKIAMISSING")
	wantKind(t, "AccessKey missing", err, parley.KindNotFound)
	k1b := *k1
	k1b.Secret = "rotated"
	must(t, "PutAccessKey replace", s.PutAccessKey(ctx(), &k1b))
	keys, err := s.AccessKeys(ctx())
	must(t, "AccessKeys", err)
	if len(keys) != 2 || keys[0].Secret != "rotated" || keys[1].ID != k2.ID {
		t.Fatalf("AccessKeys = %+v", keys)
	}
}

func testSecret(t *testing.T, s parley.Store) {
	a, err := s.Secret(ctx(), "k", func() ([]byte, error) { return []byte("first"), nil })
	must(t, "Secret", err)
	b, err := s.Secret(ctx(), "k", func() ([]byte, error) { return []byte("second"), nil })
	must(t, "Secret", err)
	if string(a) != "first" || string(b) != "first" {
		t.Fatalf("Secret = %q then %q, want first both times", a, b)
	}
}

const awsA, awsB = "111111111111", "222222222222"

// accA is Chime account acc-1 of AWS account awsA; accB names the same
// account ID in awsB, which must not reach it.
var (
	accA = parley.ChimeAccountKey{AWS: awsA, Account: "acc-1"}
	accB = parley.ChimeAccountKey{AWS: awsB, Account: "acc-1"}
)

func newAccount(aws, id, name string, at time.Time) *parley.ChimeAccount {
	return &parley.ChimeAccount{AwsAccountID: aws, AccountID: id, Name: name, Type: parley.AccountTeam, Status: "Active",
		DefaultLicense: "Pro", SupportedLicenses: []string{"Basic", "Pro"}, SigninDelegateGroups: []string{}, CreateTime: at}
}

func newUser(aws, account, id, email string, at time.Time) *parley.ChimeUser {
	return &parley.ChimeUser{AwsAccountID: aws, AccountID: account, UserID: id, PrimaryEmail: email, LicenseType: "Pro",
		UserType: "PrivateUser", RegistrationStatus: parley.UserRegistered, RegisteredOn: at, PersonalPIN: "0123456789",
		InboundCalling: true, CreateTime: at}
}

func testChimeAccount(t *testing.T, s parley.Store) {
	a := newAccount(awsA, "acc-1", "Acme", t0)
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), a))
	got, err := s.ChimeAccount(ctx(), accA)
	must(t, "ChimeAccount", err)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("ChimeAccount = %+v\nwant %+v", got, a)
	}
	_, err = s.ChimeAccount(ctx(), accB)
	wantKind(t, "ChimeAccount of another AWS account", err, parley.KindNotFound)
	got, err = s.UpdateChimeAccount(ctx(), accA, func(a *parley.ChimeAccount) error { a.Name, a.EnableDialOut = "Acme 2", true; return nil })
	must(t, "UpdateChimeAccount", err)
	if got.Name != "Acme 2" || !got.EnableDialOut {
		t.Fatalf("UpdateChimeAccount = %+v", got)
	}
	_, err = s.UpdateChimeAccount(ctx(), accA, func(a *parley.ChimeAccount) error {
		a.Name = "not saved"
		return parley.Errorf(parley.KindInvalid, "abort")
	})
	wantKind(t, "UpdateChimeAccount aborted", err, parley.KindInvalid)
	if got, _ := s.ChimeAccount(ctx(), accA); got.Name != "Acme 2" {
		t.Fatalf("an aborted update was saved: %q", got.Name)
	}
	_, err = s.UpdateChimeAccount(ctx(), accB, func(*parley.ChimeAccount) error { return nil })
	wantKind(t, "UpdateChimeAccount of another AWS account", err, parley.KindNotFound)
}

func testChimeAccountList(t *testing.T, s parley.Store) {
	for i, name := range []string{"Alpha", "Alpine", "Beta", "Gamma", "Alps"} {
		must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, fmt.Sprint("acc-", i), name, t0.Add(time.Duration(i)*time.Second))))
	}
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsB, "acc-b", "Alpha", t0)))
	must(t, "CreateChimeUser", s.CreateChimeUser(ctx(), newUser(awsA, "acc-3", "u1", "Someone@Example.com", t0)))
	var got []string
	token := ""
	for pages := 0; pages < 10; pages++ {
		as, next, err := s.ListChimeAccounts(ctx(), awsA, parley.ChimeAccountFilter{NamePrefix: "Alp", Page: parley.Page{MaxResults: 2, NextToken: token}})
		must(t, "ListChimeAccounts", err)
		for _, a := range as {
			got = append(got, a.Name)
		}
		if token = next; token == "" {
			break
		}
	}
	if want := []string{"Alpha", "Alpine", "Alps"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListChimeAccounts(prefix Alp) = %v, want %v", got, want)
	}
	as, _, err := s.ListChimeAccounts(ctx(), awsA, parley.ChimeAccountFilter{UserEmail: "someone@example.COM", Page: parley.Page{MaxResults: 10}})
	must(t, "ListChimeAccounts(email)", err)
	if len(as) != 1 || as[0].AccountID != "acc-3" {
		t.Fatalf("ListChimeAccounts(user email) = %+v", as)
	}
}

func testChimeAccountDelete(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	must(t, "CreateChimeUser", s.CreateChimeUser(ctx(), newUser(awsA, "acc-1", "u1", "a@example.com", t0)))
	wantKind(t, "DeleteChimeAccount with an active user", s.DeleteChimeAccount(ctx(), accA), parley.KindUnprocessable)
	_, err := s.UpdateChimeUser(ctx(), accA.User("u1"), func(u *parley.ChimeUser) error { u.RegistrationStatus = parley.UserSuspended; return nil })
	must(t, "UpdateChimeUser", err)
	must(t, "DeleteChimeAccount", s.DeleteChimeAccount(ctx(), accA))
	_, err = s.ChimeUser(ctx(), accA.User("u1"))
	wantKind(t, "ChimeUser of a deleted account", err, parley.KindNotFound)
	wantKind(t, "DeleteChimeAccount twice", s.DeleteChimeAccount(ctx(), accA), parley.KindNotFound)
}

func testChimeUser(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-2", "B", t0)))
	u := newUser(awsA, "acc-1", "u1", "Ann@Example.com", t0)
	must(t, "CreateChimeUser", s.CreateChimeUser(ctx(), u))
	got, err := s.ChimeUser(ctx(), accA.User("u1"))
	must(t, "ChimeUser", err)
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("ChimeUser = %+v\nwant %+v", got, u)
	}
	wantKind(t, "same e-mail, other case", s.CreateChimeUser(ctx(), newUser(awsA, "acc-1", "u2", "ann@example.com", t0)), parley.KindConflict)
	must(t, "same e-mail in another account", s.CreateChimeUser(ctx(), newUser(awsA, "acc-2", "u2", "ann@example.com", t0)))
	wantKind(t, "user of a missing account", s.CreateChimeUser(ctx(), newUser(awsA, "acc-9", "u3", "x@example.com", t0)), parley.KindNotFound)
	_, err = s.ChimeUser(ctx(), accB.User("u1"))
	wantKind(t, "ChimeUser of another AWS account", err, parley.KindNotFound)

	got, err = s.UpdateChimeUser(ctx(), accA.User("u1"), func(u *parley.ChimeUser) error {
		u.RegistrationStatus, u.SessionEpoch = parley.UserSuspended, u.SessionEpoch+1
		return nil
	})
	must(t, "UpdateChimeUser", err)
	if got.RegistrationStatus != parley.UserSuspended || got.SessionEpoch != 1 {
		t.Fatalf("UpdateChimeUser = %+v", got)
	}
	_, err = s.UpdateChimeUser(ctx(), accA.User("u1"), func(u *parley.ChimeUser) error { u.SessionEpoch = 99; return parley.Errorf(parley.KindForbidden, "no") })
	wantKind(t, "UpdateChimeUser aborted", err, parley.KindForbidden)
	if got, _ := s.ChimeUser(ctx(), accA.User("u1")); got.SessionEpoch != 1 || got.RegistrationStatus != parley.UserSuspended {
		t.Fatalf("after an aborted update: %+v", got)
	}
	_, err = s.UpdateChimeUser(ctx(), accA.User("nobody"), func(*parley.ChimeUser) error { return nil })
	wantKind(t, "UpdateChimeUser missing", err, parley.KindNotFound)
}

func testChimeUserList(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	for i := 0; i < 5; i++ {
		u := newUser(awsA, "acc-1", fmt.Sprint("u", i), fmt.Sprintf("u%d@example.com", i), t0.Add(time.Duration(i)*time.Second))
		if i%2 == 1 {
			u.UserType = "SharedDevice"
		}
		must(t, "CreateChimeUser", s.CreateChimeUser(ctx(), u))
	}
	var got []string
	token := ""
	for pages := 0; pages < 10; pages++ {
		us, next, err := s.ListChimeUsers(ctx(), accA, parley.ChimeUserFilter{Page: parley.Page{MaxResults: 2, NextToken: token}})
		must(t, "ListChimeUsers", err)
		for _, u := range us {
			got = append(got, u.UserID)
		}
		if token = next; token == "" {
			break
		}
	}
	if want := []string{"u0", "u1", "u2", "u3", "u4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListChimeUsers = %v, want %v", got, want)
	}
	shared, _, err := s.ListChimeUsers(ctx(), accA, parley.ChimeUserFilter{UserType: "SharedDevice", Page: parley.Page{MaxResults: 10}})
	must(t, "ListChimeUsers(type)", err)
	if len(shared) != 2 {
		t.Fatalf("ListChimeUsers(SharedDevice) = %d users, want 2", len(shared))
	}
	one, _, err := s.ListChimeUsers(ctx(), accA, parley.ChimeUserFilter{Email: "U3@EXAMPLE.COM", Page: parley.Page{MaxResults: 10}})
	must(t, "ListChimeUsers(email)", err)
	if len(one) != 1 || one[0].UserID != "u3" {
		t.Fatalf("ListChimeUsers(email) = %+v", one)
	}
	_, _, err = s.ListChimeUsers(ctx(), accB, parley.ChimeUserFilter{Page: parley.Page{MaxResults: 10}})
	wantKind(t, "ListChimeUsers of another AWS account", err, parley.KindNotFound)
}

func testAudit(t *testing.T, s parley.Store) {
	for i := 0; i < 5; i++ {
		must(t, "AppendAudit", s.AppendAudit(ctx(), &parley.AuditRecord{ID: fmt.Sprint("r", i), Time: t0, AwsAccountID: awsA, Caller: "AKIA", Action: "LogoutUser", Target: fmt.Sprint(i), Result: "ok"}))
	}
	must(t, "AppendAudit", s.AppendAudit(ctx(), &parley.AuditRecord{ID: "other", Time: t0, AwsAccountID: awsB, Action: "LogoutUser"}))
	var got []string
	token := ""
	for pages := 0; pages < 10; pages++ {
		rs, next, err := s.ListAudit(ctx(), awsA, parley.Page{MaxResults: 2, NextToken: token})
		must(t, "ListAudit", err)
		for _, r := range rs {
			got = append(got, r.ID)
		}
		if token = next; token == "" {
			break
		}
	}
	if want := []string{"r0", "r1", "r2", "r3", "r4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListAudit = %v, want %v", got, want)
	}

	// A call's outcome replaces the record written with its command.
	r2 := &parley.AuditRecord{ID: "r2", Time: t0, AwsAccountID: awsA, Caller: "AKIA", Action: "LogoutUser", Target: "2", Result: "1 node(s) did not confirm"}
	must(t, "ReplaceAudit", s.ReplaceAudit(ctx(), r2))
	rs, _, err := s.ListAudit(ctx(), awsA, parley.Page{MaxResults: 10})
	must(t, "ListAudit", err)
	if len(rs) != 5 || !reflect.DeepEqual(rs[2], r2) {
		t.Fatalf("ListAudit after ReplaceAudit = %+v, want r2 replaced in place", rs)
	}
	other := &parley.AuditRecord{ID: "other", Time: t0, AwsAccountID: awsA, Action: "LogoutUser"}
	wantKind(t, "ReplaceAudit of another account's record", s.ReplaceAudit(ctx(), other), parley.KindNotFound)
	wantKind(t, "ReplaceAudit of no record", s.ReplaceAudit(ctx(), &parley.AuditRecord{ID: "none", AwsAccountID: awsA}), parley.KindNotFound)

	// A record and the command it audits commit together.
	e := &parley.OutboxEntry{ID: "audited-cmd", Command: []byte(`{}`)}
	must(t, "AppendAudit with an outbox entry", s.AppendAudit(parley.WithOutbox(ctx(), e),
		&parley.AuditRecord{ID: "r5", Time: t0, AwsAccountID: awsA, Action: "DisconnectUser", Result: "ok"}))
	pending, err := s.PendingOutbox(ctx(), "node-audit")
	must(t, "PendingOutbox", err)
	if !slices.ContainsFunc(pending, func(p *parley.OutboxEntry) bool { return p.ID == e.ID }) {
		t.Fatalf("PendingOutbox = %+v, want the entry written with the audit record", pending)
	}
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx(), e.ID))
}

func newChimeRoom(id, token string, at time.Time) *parley.ChimeRoom {
	return &parley.ChimeRoom{AwsAccountID: awsA, AccountID: "acc-1", RoomID: id, Name: "room " + id, CreatedBy: "arn:aws:iam::111111111111:user/x",
		ClientToken: token, CreateTime: at, UpdateTime: at}
}

func testChimeRoom(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	r := newChimeRoom("r1", "", t0)
	if _, created, err := s.CreateChimeRoom(ctx(), r, 2); err != nil || !created {
		t.Fatalf("CreateChimeRoom = %v, %v", created, err)
	}
	got, err := s.ChimeRoom(ctx(), accA.Room("r1"))
	must(t, "ChimeRoom", err)
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("ChimeRoom = %+v\nwant %+v", got, r)
	}
	_, err = s.ChimeRoom(ctx(), accB.Room("r1"))
	wantKind(t, "ChimeRoom of another AWS account", err, parley.KindNotFound)
	_, _, err = s.CreateChimeRoom(ctx(), newChimeRoom("r2", "", t0), 2)
	must(t, "CreateChimeRoom r2", err)
	_, _, err = s.CreateChimeRoom(ctx(), newChimeRoom("r3", "", t0), 2)
	if e := wantKind(t, "CreateChimeRoom past quota", err, parley.KindQuotaExceeded); e.Limit != 2 {
		t.Fatalf("Limit = %d", e.Limit)
	}
	_, _, err = s.CreateChimeRoom(ctx(), &parley.ChimeRoom{AwsAccountID: awsA, AccountID: "missing", RoomID: "x", CreateTime: t0}, 10)
	wantKind(t, "CreateChimeRoom in a missing account", err, parley.KindNotFound)
	got, err = s.UpdateChimeRoom(ctx(), accA.Room("r1"), func(r *parley.ChimeRoom) error { r.Name = "renamed"; return nil })
	must(t, "UpdateChimeRoom", err)
	if got.Name != "renamed" {
		t.Fatalf("UpdateChimeRoom = %+v", got)
	}
	must(t, "DeleteChimeRoom", s.DeleteChimeRoom(ctx(), accA.Room("r1")))
	wantKind(t, "DeleteChimeRoom twice", s.DeleteChimeRoom(ctx(), accA.Room("r1")), parley.KindNotFound)
}

func testChimeRoomIdempotent(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	first, created, err := s.CreateChimeRoom(ctx(), newChimeRoom("r1", "tok-1", t0), 10)
	must(t, "CreateChimeRoom", err)
	again, created2, err := s.CreateChimeRoom(ctx(), newChimeRoom("r2", "tok-1", t0), 10)
	must(t, "CreateChimeRoom again", err)
	if !created || created2 || again.RoomID != first.RoomID {
		t.Fatalf("same token: created %v then %v, room %s then %s", created, created2, first.RoomID, again.RoomID)
	}
	rooms, _, err := s.ListChimeRooms(ctx(), accA, "", parley.Page{MaxResults: 10})
	must(t, "ListChimeRooms", err)
	if len(rooms) != 1 {
		t.Fatalf("%d rooms after a repeated token, want 1", len(rooms))
	}
}

func testMemberships(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	for _, id := range []string{"r1", "r2"} {
		_, _, err := s.CreateChimeRoom(ctx(), newChimeRoom(id, "", t0), 10)
		must(t, "CreateChimeRoom", err)
	}
	add := func(room, member string, max int) error {
		return s.AddMembership(ctx(), &parley.RoomMembership{AwsAccountID: awsA, AccountID: "acc-1", RoomID: room, MemberID: member,
			MemberType: parley.MemberUser, Role: parley.RoleMember, UpdateTime: t0}, max)
	}
	must(t, "AddMembership", add("r1", "u1", 2))
	must(t, "AddMembership", add("r1", "u2", 2))
	must(t, "AddMembership", add("r2", "u1", 2))
	wantKind(t, "AddMembership twice", add("r1", "u1", 2), parley.KindConflict)
	wantKind(t, "AddMembership past quota", add("r1", "u3", 2), parley.KindQuotaExceeded)
	wantKind(t, "AddMembership to a missing room", add("r9", "u1", 2), parley.KindNotFound)
	must(t, "AddMembership bot", s.AddMembership(ctx(), &parley.RoomMembership{AwsAccountID: awsA, AccountID: "acc-1", RoomID: "r2", MemberID: "bot1",
		MemberType: parley.MemberBot, Role: parley.RoleMember, UpdateTime: t0}, 10))
	if bots, err := s.RoomMembers(ctx(), accA.Room("r2"), parley.MemberBot); err != nil || !reflect.DeepEqual(bots, []string{"bot1"}) {
		t.Fatalf("RoomMembers(Bot) = %v, %v", bots, err)
	}
	if users, err := s.RoomMembers(ctx(), accA.Room("r2"), parley.MemberUser); err != nil || !reflect.DeepEqual(users, []string{"u1"}) {
		t.Fatalf("RoomMembers(User) = %v, %v", users, err)
	}
	rooms, err := s.MemberRooms(ctx(), accA, "u1")
	must(t, "MemberRooms", err)
	if !reflect.DeepEqual(rooms, []string{"r1", "r2"}) {
		t.Fatalf("MemberRooms = %v", rooms)
	}
	byMember, _, err := s.ListChimeRooms(ctx(), accA, "u2", parley.Page{MaxResults: 10})
	must(t, "ListChimeRooms(member)", err)
	if len(byMember) != 1 || byMember[0].RoomID != "r1" {
		t.Fatalf("ListChimeRooms(member u2) = %+v", byMember)
	}
	m, err := s.UpdateMembership(ctx(), accA.Room("r1").Member("u2"), func(m *parley.RoomMembership) error { m.Role = parley.RoleAdministrator; return nil })
	must(t, "UpdateMembership", err)
	if m.Role != parley.RoleAdministrator {
		t.Fatalf("UpdateMembership = %+v", m)
	}
	ms, next, err := s.ListMemberships(ctx(), accA.Room("r1"), parley.Page{MaxResults: 1})
	must(t, "ListMemberships", err)
	ms2, next2, err := s.ListMemberships(ctx(), accA.Room("r1"), parley.Page{MaxResults: 1, NextToken: next})
	must(t, "ListMemberships page 2", err)
	if len(ms) != 1 || len(ms2) != 1 || ms[0].MemberID != "u1" || ms2[0].MemberID != "u2" || next2 != "" {
		t.Fatalf("ListMemberships pages = %v %v (next %q)", ms, ms2, next2)
	}
	must(t, "DeleteMembership", s.DeleteMembership(ctx(), accA.Room("r1").Member("u1")))
	wantKind(t, "DeleteMembership twice", s.DeleteMembership(ctx(), accA.Room("r1").Member("u1")), parley.KindNotFound)
	_, err = s.Membership(ctx(), accA.Room("r1").Member("u1"))
	wantKind(t, "Membership after delete", err, parley.KindNotFound)
	must(t, "DeleteChimeRoom", s.DeleteChimeRoom(ctx(), accA.Room("r2")))
	if rooms, _ := s.MemberRooms(ctx(), accA, "u1"); len(rooms) != 0 {
		t.Fatalf("memberships outlived their room: %v", rooms)
	}
}

func testBot(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	b := &parley.Bot{AwsAccountID: awsA, AccountID: "acc-1", BotID: "b1", DisplayName: "Bot (Bot)", BotEmail: "Bot-chimebot@example.com",
		SecurityToken: "secret-1", CreateTime: t0, UpdateTime: t0}
	must(t, "CreateBot", s.CreateBot(ctx(), b, 1))
	b2 := *b
	b2.BotID, b2.SecurityToken = "b2", "secret-2"
	if e := wantKind(t, "CreateBot past quota", s.CreateBot(ctx(), &b2, 1), parley.KindQuotaExceeded); e.Limit != 1 {
		t.Fatalf("Limit = %d", e.Limit)
	}
	got, err := s.BotByToken(ctx(), "secret-1")
	must(t, "BotByToken", err)
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("BotByToken = %+v", got)
	}
	_, err = s.UpdateBot(ctx(), accA, "b1", func(b *parley.Bot) error { b.SecurityToken, b.Disabled = "secret-3", true; return nil })
	must(t, "UpdateBot", err)
	_, err = s.BotByToken(ctx(), "secret-1")
	wantKind(t, "BotByToken with the old token", err, parley.KindNotFound)
	got, err = s.Bot(ctx(), accA, "b1")
	must(t, "Bot", err)
	if !got.Disabled || got.SecurityToken != "secret-3" {
		t.Fatalf("Bot = %+v", got)
	}
	bots, _, err := s.ListBots(ctx(), accA, parley.Page{MaxResults: 10})
	must(t, "ListBots", err)
	if len(bots) != 1 {
		t.Fatalf("ListBots = %d bots", len(bots))
	}
}

func testHistory(t *testing.T, s parley.Store) {
	must(t, "CreateChimeAccount", s.CreateChimeAccount(ctx(), newAccount(awsA, "acc-1", "A", t0)))
	_, _, err := s.CreateChimeRoom(ctx(), newChimeRoom("r1", "", t0), 10)
	must(t, "CreateChimeRoom", err)
	for i := 0; i < 5; i++ {
		must(t, "AppendMessage", s.AppendMessage(ctx(), &parley.ChimeMessage{AwsAccountID: awsA, AccountID: "acc-1", RoomID: "r1",
			MessageID: fmt.Sprint("m", i), SenderID: "u1", Content: fmt.Sprint("hello ", i), CreateTime: t0.Add(time.Duration(i) * time.Hour)}))
	}
	wantKind(t, "AppendMessage to a missing room", s.AppendMessage(ctx(), &parley.ChimeMessage{AwsAccountID: awsA, AccountID: "acc-1", RoomID: "r9", CreateTime: t0}), parley.KindNotFound)
	ms, err := s.Messages(ctx(), accA.Room("r1"), time.Time{}, 3)
	must(t, "Messages", err)
	if len(ms) != 3 || ms[0].MessageID != "m2" || ms[2].MessageID != "m4" {
		t.Fatalf("Messages(limit 3) = %+v", ms)
	}
	ms, err = s.Messages(ctx(), accA.Room("r1"), t0.Add(4*time.Hour), 10)
	must(t, "Messages(since)", err)
	if len(ms) != 1 || ms[0].MessageID != "m4" {
		t.Fatalf("Messages(since 4h) = %+v", ms)
	}
}

func testNodes(t *testing.T, s parley.Store) {
	must(t, "Heartbeat a", s.Heartbeat(ctx(), "a", false))
	must(t, "Heartbeat b", s.Heartbeat(ctx(), "b", false))
	must(t, "Heartbeat c", s.Heartbeat(ctx(), "c", false))
	must(t, "Heartbeat d fenced", s.Heartbeat(ctx(), "d", true))
	live, err := s.LiveNodes(ctx(), time.Minute)
	must(t, "LiveNodes", err)
	if !reflect.DeepEqual(live, []string{"a", "b", "c"}) {
		t.Fatalf("LiveNodes = %v, want a, b, c (d is fenced)", live)
	}
	must(t, "RemoveNode", s.RemoveNode(ctx(), "c"))
	// Heartbeats are judged by the store's clock: 300 ms later, a lease of
	// 200 ms has run out for a and b, but not for b's fresh heartbeat.
	time.Sleep(300 * time.Millisecond)
	must(t, "Heartbeat b again", s.Heartbeat(ctx(), "b", false))
	must(t, "Heartbeat d unfenced", s.Heartbeat(ctx(), "d", false))
	live, err = s.LiveNodes(ctx(), 200*time.Millisecond)
	must(t, "LiveNodes", err)
	if !reflect.DeepEqual(live, []string{"b", "d"}) {
		t.Fatalf("LiveNodes after removing c and moving on = %v, want b, d", live)
	}
}

func testNodeList(t *testing.T, s parley.Store) {
	nodes, err := s.Nodes(ctx())
	must(t, "Nodes", err)
	if len(nodes) != 0 {
		t.Fatalf("Nodes of an empty store = %+v, want none", nodes)
	}
	must(t, "Heartbeat b", s.Heartbeat(ctx(), "b", false))
	must(t, "Heartbeat a fenced", s.Heartbeat(ctx(), "a", true))
	time.Sleep(150 * time.Millisecond)
	must(t, "Heartbeat b again", s.Heartbeat(ctx(), "b", false))
	nodes, err = s.Nodes(ctx())
	must(t, "Nodes", err)
	if len(nodes) != 2 || nodes[0].ID != "a" || nodes[1].ID != "b" {
		t.Fatalf("Nodes = %+v, want a, b", nodes)
	}
	a, b := nodes[0], nodes[1]
	if !a.Fenced || b.Fenced {
		t.Fatalf("fenced: a %v, b %v, want true, false", a.Fenced, b.Fenced)
	}
	// Ages are by the store's clock: a has not beaten for 150 ms, b just did.
	if a.Age < 100*time.Millisecond || a.Age > time.Minute || b.Age >= a.Age {
		t.Fatalf("ages: a %v, b %v, want a >= 100ms and b younger", a.Age, b.Age)
	}
	if a.Heartbeat.IsZero() || !b.Heartbeat.After(a.Heartbeat) {
		t.Fatalf("heartbeats: a %v, b %v, want b after a", a.Heartbeat, b.Heartbeat)
	}
	must(t, "RemoveNode", s.RemoveNode(ctx(), "a"))
	nodes, err = s.Nodes(ctx())
	must(t, "Nodes", err)
	if len(nodes) != 1 || nodes[0].ID != "b" {
		t.Fatalf("Nodes after RemoveNode(a) = %+v, want b", nodes)
	}
}

func testOutbox(t *testing.T, s parley.Store) {
	e1 := &parley.OutboxEntry{ID: "cmd-1", Command: []byte(`{"op":"one"}`)}
	e2 := &parley.OutboxEntry{ID: "cmd-2", Command: []byte(`{"op":"two"}`)}
	must(t, "AppendOutbox", s.AppendOutbox(ctx(), e1, e2))
	if e1.Seq == 0 || e2.Seq <= e1.Seq {
		t.Fatalf("sequence numbers %d, %d: want increasing, assigned by the store", e1.Seq, e2.Seq)
	}
	pending, err := s.PendingOutbox(ctx(), "node-a")
	must(t, "PendingOutbox", err)
	if len(pending) != 2 || pending[0].ID != "cmd-1" || string(pending[1].Command) != `{"op":"two"}` || pending[0].Created.IsZero() {
		t.Fatalf("PendingOutbox = %+v", pending)
	}
	must(t, "AckOutbox", s.AckOutbox(ctx(), "node-a", "cmd-1"))
	must(t, "AckOutbox again", s.AckOutbox(ctx(), "node-a", "cmd-1"))
	must(t, "AckOutbox of a missing entry", s.AckOutbox(ctx(), "node-a", "no-such"))
	pending, err = s.PendingOutbox(ctx(), "node-a")
	must(t, "PendingOutbox", err)
	if len(pending) != 1 || pending[0].ID != "cmd-2" {
		t.Fatalf("PendingOutbox after ack = %+v, want cmd-2 only", pending)
	}
	if pending, _ := s.PendingOutbox(ctx(), "node-b"); len(pending) != 2 {
		t.Fatalf("another node's PendingOutbox = %+v, want both", pending)
	}
	acks, err := s.OutboxAcks(ctx(), "cmd-1")
	must(t, "OutboxAcks", err)
	if !reflect.DeepEqual(acks, []string{"node-a"}) {
		t.Fatalf("OutboxAcks = %v", acks)
	}
	if acks, err := s.OutboxAcks(ctx(), "cmd-2"); err != nil || len(acks) != 0 {
		t.Fatalf("OutboxAcks of an entry nobody acknowledged = %v, %v", acks, err)
	}
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx(), "cmd-1"))
	if acks, err := s.OutboxAcks(ctx(), "cmd-1"); parley.KindOf(err) != parley.KindNotFound {
		t.Fatalf("OutboxAcks of a completed entry = %v, %v; want KindNotFound", acks, err)
	}
	if err := s.AppendOutbox(ctx(), &parley.OutboxEntry{ID: "cmd-2", Command: []byte("{}")}); parley.KindOf(err) != parley.KindConflict {
		t.Fatalf("AppendOutbox of an existing ID: err = %v, want KindConflict", err)
	}
	must(t, "ExpireOutbox (young)", s.ExpireOutbox(ctx(), time.Hour))
	if pending, _ := s.PendingOutbox(ctx(), "node-b"); len(pending) != 1 {
		t.Fatalf("PendingOutbox after expiring nothing = %+v", pending)
	}
	time.Sleep(20 * time.Millisecond)
	must(t, "ExpireOutbox", s.ExpireOutbox(ctx(), 10*time.Millisecond))
	if pending, _ := s.PendingOutbox(ctx(), "node-b"); len(pending) != 0 {
		t.Fatalf("PendingOutbox after expiry = %+v", pending)
	}
}

// A write made with WithOutbox commits its entries with it, or neither.
func testOutboxTransaction(t *testing.T, s parley.Store) {
	r := newRoom(scopeA, "room00000001", t0)
	mustCreateRoom(t, s, r)
	e := &parley.OutboxEntry{ID: "del-1", Command: []byte("{}")}
	must(t, "DeleteRoom", s.DeleteRoom(parley.WithOutbox(ctx(), e), scopeA, r.ID))
	pending, err := s.PendingOutbox(ctx(), "n")
	must(t, "PendingOutbox", err)
	if len(pending) != 1 || pending[0].ID != "del-1" || e.Seq != pending[0].Seq {
		t.Fatalf("PendingOutbox after DeleteRoom = %+v (entry seq %d)", pending, e.Seq)
	}
	// A failed write leaves no entry behind.
	failed := &parley.OutboxEntry{ID: "del-2", Command: []byte("{}")}
	if err := s.DeleteRoom(parley.WithOutbox(ctx(), failed), scopeA, r.ID); parley.KindOf(err) != parley.KindNotFound {
		t.Fatalf("DeleteRoom again: %v", err)
	}
	if pending, _ := s.PendingOutbox(ctx(), "n"); len(pending) != 1 {
		t.Fatalf("PendingOutbox after a failed write = %+v, want only del-1", pending)
	}
}

func newBan(s parley.Scope, room, user string, at time.Time, d time.Duration) *parley.Ban {
	b := &parley.Ban{Scope: s, RoomID: room, UserID: user, Reason: "spam from " + user, CreateTime: at}
	if d > 0 {
		b.ExpireTime = at.Add(d)
	}
	return b
}

// Ensure a ban is in force until it expires, and a second ban of the same
// room and user replaces the first.
func testBanActive(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	mustCreateRoom(t, s, newRoom(scopeA, "room00000002", t0))
	b := newBan(scopeA, "room00000001", "troll", t0, time.Hour)
	must(t, "PutBan", s.PutBan(ctx(), b))
	got, err := s.ActiveBan(ctx(), scopeA, "room00000001", "troll", t0.Add(59*time.Minute))
	must(t, "ActiveBan", err)
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("ActiveBan = %+v\nwant %+v", got, b)
	}
	_, err = s.ActiveBan(ctx(), scopeA, "room00000001", "troll", t0.Add(time.Hour))
	wantKind(t, "ActiveBan at expiry", err, parley.KindNotFound)
	_, err = s.ActiveBan(ctx(), scopeA, "room00000002", "troll", t0)
	wantKind(t, "ActiveBan in another room", err, parley.KindNotFound)
	_, err = s.ActiveBan(ctx(), scopeA, "room00000001", "other", t0)
	wantKind(t, "ActiveBan of another user", err, parley.KindNotFound)

	again := newBan(scopeA, "room00000001", "troll", t0.Add(time.Minute), 0)
	again.Reason = "again"
	must(t, "PutBan (replace)", s.PutBan(ctx(), again))
	got, err = s.ActiveBan(ctx(), scopeA, "room00000001", "troll", t0.Add(1000*time.Hour))
	must(t, "ActiveBan of the replacement", err)
	if !reflect.DeepEqual(got, again) {
		t.Fatalf("ActiveBan after replace = %+v\nwant %+v", got, again)
	}
	bans, _, err := s.ListBans(ctx(), parley.BanFilter{Scope: scopeA, Now: t0.Add(time.Hour), Page: parley.Page{MaxResults: 10}})
	must(t, "ListBans", err)
	if len(bans) != 1 {
		t.Fatalf("ListBans after replace = %d bans, want 1", len(bans))
	}
}

// Ensure a ban from every room (RoomID "") holds in every room of its scope
// and nowhere else, and the longest-lasting ban is the one reported.
func testBanEveryRoom(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	mustCreateRoom(t, s, newRoom(scopeB, "room00000001", t0))
	must(t, "PutBan room", s.PutBan(ctx(), newBan(scopeA, "room00000001", "troll", t0, time.Minute)))
	all := newBan(scopeA, "", "troll", t0, time.Hour)
	must(t, "PutBan every room", s.PutBan(ctx(), all))
	for _, room := range []string{"room00000001", "room-never-made"} {
		got, err := s.ActiveBan(ctx(), scopeA, room, "troll", t0.Add(30*time.Second))
		must(t, "ActiveBan "+room, err)
		if !reflect.DeepEqual(got, all) {
			t.Fatalf("ActiveBan(%s) = %+v, want the longer ban from every room %+v", room, got, all)
		}
	}
	for _, sc := range []parley.Scope{scopeB, scopeC} {
		_, err := s.ActiveBan(ctx(), sc, "room00000001", "troll", t0)
		wantKind(t, fmt.Sprintf("ActiveBan in scope %v", sc), err, parley.KindNotFound)
	}
	forever := newBan(scopeA, "room00000001", "troll", t0, 0)
	must(t, "PutBan forever", s.PutBan(ctx(), forever))
	got, err := s.ActiveBan(ctx(), scopeA, "room00000001", "troll", t0)
	must(t, "ActiveBan", err)
	if !got.ExpireTime.IsZero() || got.RoomID != "room00000001" {
		t.Fatalf("ActiveBan = %+v, want the ban without an end", got)
	}
}

// Ensure a ban of a room that does not exist in the scope is refused.
func testBanMissingRoom(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	wantKind(t, "PutBan missing room", s.PutBan(ctx(), newBan(scopeA, "room00000002", "u", t0, 0)), parley.KindNotFound)
	wantKind(t, "PutBan other scope's room", s.PutBan(ctx(), newBan(scopeB, "room00000001", "u", t0, 0)), parley.KindNotFound)
}

// Ensure DeleteBan lifts a ban in force, returns it, and is NotFound for a
// ban that is not there or no longer in force.
func testBanDelete(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	b := newBan(scopeA, "room00000001", "troll", t0, time.Hour)
	must(t, "PutBan", s.PutBan(ctx(), b))
	_, err := s.DeleteBan(ctx(), scopeB, "room00000001", "troll", t0)
	wantKind(t, "DeleteBan other scope", err, parley.KindNotFound)
	_, err = s.DeleteBan(ctx(), scopeA, "", "troll", t0)
	wantKind(t, "DeleteBan every room (none)", err, parley.KindNotFound)
	got, err := s.DeleteBan(ctx(), scopeA, "room00000001", "troll", t0)
	must(t, "DeleteBan", err)
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("DeleteBan = %+v, want %+v", got, b)
	}
	_, err = s.ActiveBan(ctx(), scopeA, "room00000001", "troll", t0)
	wantKind(t, "ActiveBan after DeleteBan", err, parley.KindNotFound)
	_, err = s.DeleteBan(ctx(), scopeA, "room00000001", "troll", t0)
	wantKind(t, "DeleteBan twice", err, parley.KindNotFound)

	must(t, "PutBan", s.PutBan(ctx(), newBan(scopeA, "", "troll", t0, time.Minute)))
	_, err = s.DeleteBan(ctx(), scopeA, "", "troll", t0.Add(time.Minute))
	wantKind(t, "DeleteBan expired", err, parley.KindNotFound)
}

// Ensure DeleteRoom takes the room's bans with it, not bans from every room.
func testBanDeleteRoom(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	must(t, "PutBan", s.PutBan(ctx(), newBan(scopeA, "room00000001", "a", t0, 0)))
	must(t, "PutBan", s.PutBan(ctx(), newBan(scopeA, "", "b", t0, 0)))
	must(t, "DeleteRoom", s.DeleteRoom(ctx(), scopeA, "room00000001"))
	bans, _, err := s.ListBans(ctx(), parley.BanFilter{Scope: scopeA, Now: t0, Page: parley.Page{MaxResults: 10}})
	must(t, "ListBans", err)
	if len(bans) != 1 || bans[0].UserID != "b" {
		t.Fatalf("ListBans after DeleteRoom = %+v, want only b's ban from every room", bans)
	}
}

// Ensure ListBans lists bans in force, newest first, filtered, page by page
// without skipping or repeating, bans created at the same moment included.
func testBanList(t *testing.T, s parley.Store) {
	mustCreateRoom(t, s, newRoom(scopeA, "room00000001", t0))
	mustCreateRoom(t, s, newRoom(scopeA, "room00000002", t0))
	mustCreateRoom(t, s, newRoom(scopeB, "room00000001", t0))
	type key struct{ room, user string }
	var want []key // newest first
	for i := 0; i < 7; i++ {
		at := t0.Add(time.Duration(i/2) * time.Second) // pairs share a create time
		room := []string{"room00000001", "room00000002", ""}[i%3]
		user := fmt.Sprint("user/", i)
		must(t, "PutBan", s.PutBan(ctx(), newBan(scopeA, room, user, at, time.Hour)))
		want = append([]key{{room, user}}, want...)
	}
	// Pairs created at the same moment come user descending: user/5 before user/4.
	must(t, "PutBan expired", s.PutBan(ctx(), newBan(scopeA, "room00000001", "expired", t0.Add(-2*time.Hour), time.Hour)))
	must(t, "PutBan other scope", s.PutBan(ctx(), newBan(scopeB, "room00000001", "other", t0, 0)))

	list := func(f parley.BanFilter) []key {
		t.Helper()
		f.Scope, f.Now, f.MaxResults = scopeA, t0.Add(10*time.Second), 2
		var got []key
		for pages := 0; pages < 10; pages++ {
			bans, next, err := s.ListBans(ctx(), f)
			must(t, "ListBans", err)
			if len(bans) > 2 {
				t.Fatalf("page of %d bans, want at most 2", len(bans))
			}
			for _, b := range bans {
				got = append(got, key{b.RoomID, b.UserID})
			}
			if f.NextToken = next; next == "" {
				return got
			}
		}
		t.Fatal("ListBans did not end")
		return nil
	}
	if got := list(parley.BanFilter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("ListBans = %v\nwant %v", got, want)
	}
	var room1 []key
	for _, k := range want {
		if k.room == "room00000001" || k.room == "" {
			room1 = append(room1, k)
		}
	}
	if got := list(parley.BanFilter{RoomID: "room00000001"}); !reflect.DeepEqual(got, room1) {
		t.Fatalf("ListBans(room 1) = %v\nwant %v (its bans and those from every room)", got, room1)
	}
	if got := list(parley.BanFilter{UserID: "user/3"}); !reflect.DeepEqual(got, []key{{"room00000001", "user/3"}}) {
		t.Fatalf("ListBans(user/3) = %v", got)
	}
	_, _, err := s.ListBans(ctx(), parley.BanFilter{Scope: scopeA, Now: t0, Page: parley.Page{MaxResults: 2, NextToken: "garbage"}})
	wantKind(t, "ListBans bad token", err, parley.KindInvalid)
}
