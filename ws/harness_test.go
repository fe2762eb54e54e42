package ws

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/internal/testclock"
	"github.com/parley-chat/parley/internal/wstest"
)

// This file holds what the protocol tests share: a hub served by
// httptest over the in-process bus, a fake store and service, and the
// dialing of wstest's raw WebSocket client. No server binary, no SQLite.

var (
	testScope = parley.Scope{AccountID: "123456789012", Region: "us-east-1"}
	testAWS   = testScope.AccountID
)

// testHub is a hub under test and everything around it.
type testHub struct {
	t      *testing.T
	hub    *Hub
	store  *fakeStore
	svc    *fakeService
	bus    *inmem.Bus
	clock  *testclock.Clock
	sealer *chattoken.Sealer
	url    string // ws://host:port
}

// newTestHub serves a hub on a fresh httptest.Server. The sweeper is not
// started: tests call Sweep themselves, against the fake clock.
func newTestHub(t *testing.T, configure ...func(*Config)) *testHub {
	t.Helper()
	key, err := chattoken.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := chattoken.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	h := &testHub{t: t, store: newFakeStore(), bus: inmem.New(), clock: testclock.New(), sealer: sealer}
	h.svc = &fakeService{store: h.store, bus: h.bus, clock: h.clock}
	var cfg Config
	for _, f := range configure {
		f(&cfg)
	}
	h.hub = NewHub(h.store, h.bus, h.svc, sealer, h.clock, slog.New(slog.DiscardHandler), cfg)
	h.svc.hub = h.hub
	srv := httptest.NewServer(h.hub)
	h.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.hub.Shutdown(ctx)
		srv.Close()
		h.bus.Close(ctx)
	})
	return h
}

// room stores an IVS room with the given limits (zero: the IVS defaults).
func (h *testHub) room(rate, length int) *parley.Room {
	if rate == 0 {
		rate = parley.DefaultMaximumMessageRate
	}
	if length == 0 {
		length = parley.DefaultMaximumMessageLength
	}
	r := &parley.Room{Scope: testScope, ID: parley.NewID(), MaximumMessageRate: rate, MaximumMessageLength: length}
	h.store.putRoom(r)
	return r
}

// grant is a chat token's content for user in room, valid for the IVS
// defaults from now: a token for an hour, the session for an hour.
func (h *testHub) grant(room *parley.Room, user string, caps ...parley.Capability) *parley.ChatToken {
	now := h.clock.Now()
	return &parley.ChatToken{ID: parley.NewID(), Room: room.Scope, RoomID: room.ID, UserID: user, Capabilities: caps,
		Attributes: map[string]string{"name": user}, IssueTime: now, TokenExpires: now.Add(time.Hour), SessionExpires: now.Add(parley.DefaultSessionDuration)}
}

// seal returns the token of a grant.
func (h *testHub) seal(g *parley.ChatToken) string {
	h.t.Helper()
	tok, err := h.sealer.Seal(g)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// token mints a chat token for user in room.
func (h *testHub) token(room *parley.Room, user string, caps ...parley.Capability) string {
	h.t.Helper()
	return h.seal(h.grant(room, user, caps...))
}

// userKey names a Chime user of account in the test AWS account.
func userKey(account, user string) parley.ChimeUserKey {
	return parley.ChimeAccountKey{AWS: testAWS, Account: account}.User(user)
}

// chimeUser stores a registered Chime user of account, a member of rooms.
func (h *testHub) chimeUser(account, user string, rooms ...string) {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	h.store.users[userKey(account, user)] = &parley.ChimeUser{AwsAccountID: testAWS, AccountID: account, UserID: user,
		DisplayName: user, RegistrationStatus: parley.UserRegistered}
	h.store.members[userKey(account, user)] = rooms
}

// session mints a device session token for a Chime user, in the user's
// current session epoch.
func (h *testHub) session(account, user string) string {
	h.t.Helper()
	h.store.mu.Lock()
	var epoch int64
	if u := h.store.users[userKey(account, user)]; u != nil {
		epoch = u.SessionEpoch
	}
	h.store.mu.Unlock()
	now := h.clock.Now()
	tok, err := h.sealer.SealSession(&parley.DeviceSession{ID: parley.NewID(), AwsAccountID: testAWS, AccountID: account, UserID: user,
		Epoch: epoch, IssueTime: now, Expires: now.Add(12 * time.Hour)})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// dial connects to the chat endpoint with token and fails the test if the
// handshake is refused or the token is not echoed as the subprotocol.
func (h *testHub) dial(token string) *client {
	h.t.Helper()
	return h.dialOK("/", token)
}

// device connects a Chime device with a session token.
func (h *testHub) device(token string) *client {
	h.t.Helper()
	return h.dialOK(DevicePath, token)
}

func (h *testHub) dialOK(path, token string) *client {
	h.t.Helper()
	c, status := h.dialStatus(path, token)
	if c == nil {
		h.t.Fatalf("handshake on %s refused with %d", path, status)
	}
	if c.Protocol != token {
		h.t.Fatalf("subprotocol echoed %q, want the token", c.Protocol)
	}
	return c
}

// dialStatus tries to connect to path with token; it returns the client
// (status 101) or the HTTP status of the refused handshake.
func (h *testHub) dialStatus(path, token string) (*client, int) {
	h.t.Helper()
	nc, r, protocol, status := h.rawDial(path, token)
	if nc == nil {
		return nil, status
	}
	return wstest.NewClient(h.t, nc, r, protocol), status
}

// rawDial opens a socket to path with token as the subprotocol and returns
// it with a reader of what the server sends; or nil and the HTTP status of
// a refused handshake.
func (h *testHub) rawDial(path, token string) (net.Conn, io.Reader, string, int) {
	h.t.Helper()
	status := 0
	var protocols []string
	if token != "" {
		protocols = []string{token}
	}
	d := ws.Dialer{Protocols: protocols, Timeout: 10 * time.Second, OnStatusError: func(s int, _ []byte, _ io.Reader) { status = s }}
	nc, br, hs, err := d.Dial(context.Background(), h.url+path)
	if err != nil {
		if status == 0 {
			h.t.Fatalf("dial %s: %v", path, err)
		}
		return nil, nil, "", status
	}
	h.t.Cleanup(func() { nc.Close() })
	var r io.Reader = nc
	if br != nil {
		r = io.MultiReader(br, nc)
	}
	return nc, bufio.NewReader(r), hs.Protocol, 101
}

// frame and client are the shared messaging client's, so the tests here
// read as they did when each package had its own.
type (
	frame  = wstest.Frame
	client = wstest.Client
)

// eventually polls cond until it holds or a few seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeStore is the hub's Store in memory. fail makes a method return an
// error, by method name.
type fakeStore struct {
	mu      sync.Mutex
	rooms   map[roomKey]*parley.Room
	used    map[string]bool
	bans    map[banKey]*parley.Ban
	users   map[parley.ChimeUserKey]*parley.ChimeUser
	members map[parley.ChimeUserKey][]string // a Chime user's rooms
	fail    map[string]error
}

type banKey struct {
	scope      parley.Scope
	room, user string // room "" bans from every room of scope
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{rooms: map[roomKey]*parley.Room{}, used: map[string]bool{}, bans: map[banKey]*parley.Ban{},
		users: map[parley.ChimeUserKey]*parley.ChimeUser{}, members: map[parley.ChimeUserKey][]string{}, fail: map[string]error{}}
}

func (s *fakeStore) putRoom(r *parley.Room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *r
	s.rooms[roomKey{r.Scope, r.ID}] = &cp
}

func (s *fakeStore) deleteRoom(r *parley.Room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rooms, roomKey{r.Scope, r.ID})
}

func (s *fakeStore) failing(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = err
}

// setMember makes user a member of a Chime room, or not.
func (s *fakeStore) setMember(account, room, user string, member bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := userKey(account, user)
	rooms := slices.DeleteFunc(s.members[k], func(r string) bool { return r == room })
	if member {
		rooms = append(rooms, room)
	}
	s.members[k] = rooms
}

func (s *fakeStore) isMember(k parley.ChimeMemberKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.members[k.User(k.Member)], k.Room)
}

// updateUser changes a stored Chime user.
func (s *fakeStore) updateUser(account, user string, f func(*parley.ChimeUser)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.users[userKey(account, user)])
}

func (s *fakeStore) Room(ctx context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["Room"]; err != nil {
		return nil, err
	}
	r := s.rooms[roomKey{sc, id}]
	if r == nil {
		return nil, parley.Errorf(parley.KindNotFound, "room %s not found", id)
	}
	cp := *r
	return &cp, nil
}

func (s *fakeStore) ConsumeToken(ctx context.Context, t *parley.ChatToken, now time.Time) error {
	if b, err := s.ActiveBan(ctx, t.Room, t.RoomID, t.UserID, now); err == nil {
		return b.Forbidden()
	} else if parley.KindOf(err) != parley.KindNotFound {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["ConsumeToken"]; err != nil {
		return err
	}
	if s.used[t.ID] {
		return parley.Errorf(parley.KindConflict, "token %s already used", t.ID)
	}
	s.used[t.ID] = true
	return nil
}

func (s *fakeStore) ActiveBan(ctx context.Context, sc parley.Scope, roomID, userID string, now time.Time) (*parley.Ban, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["ActiveBan"]; err != nil {
		return nil, err
	}
	for _, room := range []string{roomID, ""} {
		if b := s.bans[banKey{sc, room, userID}]; b != nil && b.ActiveAt(now) {
			return b, nil
		}
	}
	return nil, parley.Errorf(parley.KindNotFound, "no ban")
}

func (s *fakeStore) ChimeUser(ctx context.Context, k parley.ChimeUserKey) (*parley.ChimeUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["ChimeUser"]; err != nil {
		return nil, err
	}
	u := s.users[k]
	if u == nil {
		return nil, parley.Errorf(parley.KindNotFound, "user %s not found", k.User)
	}
	cp := *u
	return &cp, nil
}

func (s *fakeStore) MemberRooms(ctx context.Context, a parley.ChimeAccountKey, memberID string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail["MemberRooms"]; err != nil {
		return nil, err
	}
	return slices.Clone(s.members[a.User(memberID)]), nil
}

// fakeService does what service.Service does for the hub, in memory: room
// traffic goes on the bus, and a disconnection is applied to the hub
// directly, as the control plane applies it on every node.
type fakeService struct {
	store *fakeStore
	bus   parley.Bus
	clock parley.Clock
	hub   *Hub

	mu          sync.Mutex
	published   []parley.Event
	disconnects []parley.Command
	history     []*parley.ChimeMessage
	fail        map[string]error // by method name
}

var _ Service = (*fakeService)(nil)

func (s *fakeService) failing(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail == nil {
		s.fail = map[string]error{}
	}
	s.fail[method] = err
}

func (s *fakeService) err(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail[method]
}

func (s *fakeService) PublishRoom(ctx context.Context, ev parley.Event) error {
	if err := s.err("PublishRoom"); err != nil {
		return err
	}
	s.mu.Lock()
	s.published = append(s.published, ev)
	s.mu.Unlock()
	return s.bus.Publish(ctx, parley.RoomSubject(ev.Room, ev.RoomID), ev)
}

func (s *fakeService) Disconnect(ctx context.Context, room parley.Scope, roomID, userID, reason, requestID string) error {
	if err := s.err("Disconnect"); err != nil {
		return err
	}
	cmd := parley.Command{ID: parley.NewID(), Op: parley.OpDisconnectUser, Scope: room, Room: roomID, User: userID,
		Reason: reason, RequestID: requestID, Time: s.clock.Now()}
	s.mu.Lock()
	s.disconnects = append(s.disconnects, cmd)
	s.mu.Unlock()
	s.hub.Apply([]parley.Command{cmd})
	return nil
}

func (s *fakeService) PostMessage(ctx context.Context, sender parley.ChimeMemberKey, requestID, content string) (*parley.ChimeMessage, error) {
	if err := s.err("PostMessage"); err != nil {
		return nil, err
	}
	if !s.store.isMember(sender) {
		return nil, parley.Errorf(parley.KindForbidden, "not a member of room %s", sender.Room)
	}
	msg := &parley.ChimeMessage{AwsAccountID: sender.AWS, AccountID: sender.Account, RoomID: sender.Room, MessageID: parley.NewID(), SenderID: sender.Member,
		SenderName: sender.Member, Content: content, CreateTime: s.clock.Now()}
	s.mu.Lock()
	s.history = append(s.history, msg)
	s.mu.Unlock()
	ev := parley.Event{Type: parley.EventMessage, Room: parley.Scope{AccountID: sender.AWS}, Account: sender.Account, RoomID: sender.Room, ID: msg.MessageID,
		RequestID: requestID, Content: content, Sender: &parley.Sender{UserID: sender.Member, Attributes: map[string]string{"DisplayName": sender.Member}},
		SendTime: msg.CreateTime}
	return msg, s.bus.Publish(ctx, parley.ChimeRoomSubject(sender.ChimeRoomKey), ev)
}

func (s *fakeService) RoomHistory(ctx context.Context, member parley.ChimeMemberKey, limit int) ([]*parley.ChimeMessage, error) {
	if err := s.err("RoomHistory"); err != nil {
		return nil, err
	}
	if !s.store.isMember(member) {
		return nil, parley.Errorf(parley.KindForbidden, "not a member of room %s", member.Room)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*parley.ChimeMessage
	for _, m := range s.history {
		if m.RoomKey() == member.ChimeRoomKey {
			out = append(out, m)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}
