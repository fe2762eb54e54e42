package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/parley-chat/parley"
)

// Ensure OpDisconnectUser tells the room (the target included) with
// aws:DISCONNECT_USER and closes exactly the user's connections in the
// room with 1000, before Apply returns; the user's connections elsewhere
// and everyone else carry on.
func TestApplyDisconnectUser(t *testing.T) {
	h := newTestHub(t)
	room, other := h.room(0, 0), h.room(0, 0)
	u1a := h.dial(h.token(room, "u1"))
	u1b := h.dial(h.token(room, "u1"))
	u2 := h.dial(h.token(room, "u2", parley.CapSendMessage))
	u1elsewhere := h.dial(h.token(other, "u1"))
	if n := h.hub.Count(); n != 4 {
		t.Fatalf("hub holds %d connections, want 4", n)
	}

	cmd := parley.Command{ID: parley.NewID(), Op: parley.OpDisconnectUser, Scope: room.Scope, Room: room.ID, User: "u1", Reason: "spam", Time: h.clock.Now()}
	h.hub.Apply([]parley.Command{cmd})
	if n := h.hub.Count(); n != 2 {
		t.Fatalf("after Apply the hub holds %d connections, want 2", n)
	}
	for _, c := range []*client{u1a, u1b, u2} {
		f := c.Next()
		if f.Type != "EVENT" || f.EventName != "aws:DISCONNECT_USER" || f.ID != cmd.ID || f.RequestID != "" ||
			f.Attributes["UserId"] != "u1" || f.Attributes["Reason"] != "spam" || f.SendTime == "" {
			t.Fatalf("notice = %+v", f)
		}
	}
	for _, c := range []*client{u1a, u1b} {
		if code := c.WantClose(); code != ws.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	u2.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "after", "Content": "still here"})
	if f := u2.Next(); f.RequestID != "after" {
		t.Fatalf("u2 after the disconnect: %+v", f)
	}
	u1elsewhere.Quiet(20 * time.Millisecond)
	// It is not a ban: a new token connects.
	h.dial(h.token(room, "u1"))
	// Disconnecting someone who is not connected is a no-op.
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpDisconnectUser, Scope: room.Scope, Room: room.ID, User: "nobody"}})
	u2.NextEvent("aws:DISCONNECT_USER")
}

// Ensure OpDisconnectUser without a room (a ban from every room) closes
// the user's connections in every room of the scope, and only that scope.
func TestApplyDisconnectUserEveryRoom(t *testing.T) {
	h := newTestHub(t)
	r1, r2 := h.room(0, 0), h.room(0, 0)
	foreign := &parley.Room{Scope: parley.Scope{AccountID: "210987654321", Region: "us-east-1"}, ID: parley.NewID(), MaximumMessageRate: 10, MaximumMessageLength: 500}
	h.store.putRoom(foreign)
	a, b := h.dial(h.token(r1, "troll")), h.dial(h.token(r2, "troll"))
	watcher := h.dial(h.token(r2, "w"))
	kept := h.dial(h.token(foreign, "troll"))
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpDisconnectUser, Scope: testScope, User: "troll", Reason: "banned"}})
	if n := h.hub.Count(); n != 2 {
		t.Fatalf("after Apply the hub holds %d connections, want 2", n)
	}
	for _, c := range []*client{a, b} {
		if f := c.Next(); f.EventName != "aws:DISCONNECT_USER" {
			t.Fatalf("target got %+v", f)
		}
		c.WantClose()
	}
	if f := watcher.Next(); f.EventName != "aws:DISCONNECT_USER" || f.Attributes["UserId"] != "troll" {
		t.Fatalf("the room was told %+v", f)
	}
	kept.Quiet(20 * time.Millisecond)
}

// Ensure a target that never answers the close frame cannot hold
// OpDisconnectUser up: Apply returns within a fraction of a second with
// the socket closed.
func TestApplyDisconnectMuteTarget(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	_, r, _, _ := h.rawDial("/", h.token(room, "mute"))
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, r); close(ended) }() // reads, never answers
	start := time.Now()
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpDisconnectUser, Scope: room.Scope, Room: room.ID, User: "mute"}})
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Apply took %s: the target held it up", took)
	}
	if n := h.hub.Count(); n != 0 {
		t.Fatalf("after Apply the hub holds %d connections", n)
	}
	select {
	case <-ended:
	case <-time.After(time.Second):
		t.Fatal("the server did not close the socket")
	}
}

// Ensure OpDeleteRoom closes every connection of the room with 1000 before
// Apply returns, and no other.
func TestApplyDeleteRoom(t *testing.T) {
	h := newTestHub(t)
	room, keep := h.room(0, 0), h.room(0, 0)
	a, b := h.dial(h.token(room, "a")), h.dial(h.token(room, "b"))
	k := h.dial(h.token(keep, "k"))
	h.store.deleteRoom(room)
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpDeleteRoom, Scope: room.Scope, Room: room.ID}})
	if n := h.hub.Count(); n != 1 {
		t.Fatalf("after DeleteRoom the hub holds %d connections, want 1", n)
	}
	for _, c := range []*client{a, b} {
		if code := c.WantClose(); code != ws.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	k.Quiet(20 * time.Millisecond)
	if _, status := h.dialStatus("/", h.token(room, "a")); status != 404 {
		t.Fatalf("handshake to the deleted room = %d, want 404", status)
	}
}

// Ensure OpSignOut closes every device of the users named, after
// parley:SIGNED_OUT with the reason, before Apply returns; other users'
// devices, and the same user ID in another account, stay.
func TestApplySignOut(t *testing.T) {
	h := newTestHub(t)
	h.chimeUser("acc", "alice")
	h.chimeUser("acc", "bob")
	h.chimeUser("other", "alice")
	phone, laptop := h.device(h.session("acc", "alice")), h.device(h.session("acc", "alice"))
	bobs := h.device(h.session("acc", "bob"))
	namesake := h.device(h.session("other", "alice"))
	if n := h.hub.DeviceCount(); n != 4 {
		t.Fatalf("%d devices connected, want 4", n)
	}
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpSignOut, Chime: parley.ChimeRoomKey{ChimeAccountKey: parley.ChimeAccountKey{AWS: testAWS, Account: "acc"}}, Users: []string{"alice", "ghost"}, Reason: "logout"}})
	if n := h.hub.DeviceCount(); n != 2 {
		t.Fatalf("after SignOut %d devices connected, want 2", n)
	}
	for _, d := range []*client{phone, laptop} {
		if f := d.Next(); f.Type != "EVENT" || f.EventName != EventSignedOut || f.Attributes["Reason"] != "logout" || f.SendTime == "" {
			t.Fatalf("device got %+v, want %s", f, EventSignedOut)
		}
		if code := d.WantClose(); code != ws.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	bobs.Quiet(20 * time.Millisecond)
	namesake.Quiet(0)
}

// Ensure membership commands start and stop a device's delivery of a Chime
// room before Apply returns, telling the member's devices and the room's
// other members; that the store has the last word on membership; and that
// OpDeleteChimeRoom ends the room for everyone.
func TestApplyMembership(t *testing.T) {
	h := newTestHub(t)
	h.chimeUser("acc", "alice", "team")
	h.chimeUser("acc", "bob", "team")
	h.chimeUser("acc", "carol")
	a := h.device(h.session("acc", "alice"))
	b := h.device(h.session("acc", "bob"))
	c := h.device(h.session("acc", "carol"))
	key := parley.ChimeAccountKey{AWS: testAWS, Account: "acc"}.Room("team")

	// Carol joins: her device is told and receives the room from then on.
	h.store.setMember("acc", "team", "carol", true)
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpAddMember, Chime: key, User: "carol"}})
	if f := c.Next(); f.Type != "EVENT" || f.EventName != EventMembershipAdded || f.RoomID != "team" {
		t.Fatalf("new member's device got %+v", f)
	}
	for _, d := range []*client{a, b} {
		if f := d.Next(); f.EventName != EventMembershipChanged || f.RoomID != "team" || f.Attributes["MemberId"] != "carol" || f.Attributes["Change"] != "added" {
			t.Fatalf("member got %+v", f)
		}
	}
	b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "hi", "RoomId": "team", "Content": "welcome"})
	for _, d := range []*client{a, b, c} {
		if f := d.Next(); f.Type != "MESSAGE" || f.Content != "welcome" {
			t.Fatalf("member got %+v, want the message", f)
		}
	}

	// Alice leaves: her device is told, receives nothing more and may not post.
	h.store.setMember("acc", "team", "alice", false)
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpRemoveMember, Chime: key, User: "alice"}})
	if f := a.Next(); f.EventName != EventMembershipRemoved || f.RoomID != "team" {
		t.Fatalf("removed member's device got %+v", f)
	}
	for _, d := range []*client{b, c} {
		if f := d.Next(); f.EventName != EventMembershipChanged || f.Attributes["MemberId"] != "alice" || f.Attributes["Change"] != "removed" {
			t.Fatalf("member got %+v", f)
		}
	}
	a.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "still", "RoomId": "team", "Content": "am I here?"})
	if f := a.Next(); f.Type != "ERROR" || f.ErrorCode != 403 || f.RequestID != "still" {
		t.Fatalf("removed member's post = %+v, want ERROR 403", f)
	}
	b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "b", "RoomId": "team", "Content": "just us"})
	b.Reply("b")
	c.NextOf("MESSAGE")
	a.Quiet(20 * time.Millisecond)

	// An add that the store no longer holds (a removal overtook it) leaves
	// the device out.
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpAddMember, Chime: key, User: "alice"}})
	a.Quiet(20 * time.Millisecond)
	// When the store cannot be read, the command's own word counts.
	h.store.failing("MemberRooms", context.DeadlineExceeded)
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpAddMember, Chime: key, User: "alice"}})
	if f := a.Next(); f.EventName != EventMembershipAdded {
		t.Fatalf("re-added member's device got %+v", f)
	}
	h.store.failing("MemberRooms", nil)

	// The room is deleted: every device is told and may not post to it.
	h.hub.Apply([]parley.Command{{ID: parley.NewID(), Op: parley.OpDeleteChimeRoom, Chime: key}})
	for _, d := range []*client{a, b, c} {
		if f := d.NextEvent(EventRoomDeleted); f.RoomID != "team" {
			t.Fatalf("device got %+v", f)
		}
	}
	b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "gone", "RoomId": "team", "Content": "hello?"})
	if f := b.Reply("gone"); f.ErrorCode != 403 {
		t.Fatalf("post to a deleted room = %+v, want ERROR 403", f)
	}
	if n := h.hub.DeviceCount(); n != 3 {
		t.Fatalf("DeviceCount = %d: membership commands closed devices", n)
	}
}

// Ensure Revalidate, after a bus outage, closes what the store says is
// revoked: chat connections of deleted rooms and of banned users, devices
// of signed-out or suspended users; and re-reads devices' rooms.
func TestRevalidate(t *testing.T) {
	h := newTestHub(t)
	deleted, banned := h.room(0, 0), h.room(0, 0)
	h.chimeUser("acc", "out", "team")
	h.chimeUser("acc", "moved")
	h.chimeUser("acc", "ok")
	inDeleted := h.dial(h.token(deleted, "u"))
	troll := h.dial(h.token(banned, "troll"))
	fine := h.dial(h.token(banned, "fine"))
	signedOut := h.device(h.session("acc", "out"))
	moved := h.device(h.session("acc", "moved"))
	ok := h.device(h.session("acc", "ok"))

	h.store.deleteRoom(deleted)
	h.store.mu.Lock()
	h.store.bans[banKey{testScope, banned.ID, "troll"}] = &parley.Ban{Scope: testScope, RoomID: banned.ID, UserID: "troll"}
	h.store.mu.Unlock()
	h.store.updateUser("acc", "out", func(u *parley.ChimeUser) { u.SessionEpoch++ })
	h.store.setMember("acc", "team", "moved", true) // an AddMember this node missed

	h.hub.Revalidate(context.Background())
	for _, c := range []*client{inDeleted, troll} {
		if code := c.WantClose(); code != ws.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	if f := signedOut.Next(); f.EventName != EventSignedOut || f.Attributes["Reason"] != "revoked" {
		t.Fatalf("signed-out device got %+v", f)
	}
	signedOut.WantClose()
	fine.Quiet(20 * time.Millisecond)
	ok.Quiet(0)
	// The missed membership now delivers.
	moved.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "m", "RoomId": "team", "Content": "joined"})
	if f := moved.Next(); f.Type != "MESSAGE" || f.RequestID != "m" {
		t.Fatalf("device after Revalidate: %+v, want its message in the room", f)
	}
}

// Ensure a peer that answers pings stays, and one silent since the
// previous round is dropped.
func TestPingDropsSilentPeers(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	alive := h.dial(h.token(room, "alive", parley.CapSendMessage))
	_, r, _, _ := h.rawDial("/", h.token(room, "silent"))
	round := time.Now()
	h.hub.ping(round.Add(-time.Minute)) // both read since: pinged
	eventually(t, "the live peer to answer", func() bool {
		h.hub.mu.RLock()
		defer h.hub.mu.RUnlock()
		for c := range h.hub.rooms[roomKey{room.Scope, room.ID}].conns {
			if c.user == "alive" && c.lastRead.Load() >= round.UnixNano() {
				return true
			}
		}
		return false
	})
	h.hub.ping(round) // the silent peer has read nothing since
	if n := h.hub.Count(); n != 1 {
		t.Fatalf("after two rounds the hub holds %d connections, want 1", n)
	}
	ended := make(chan int)
	go func() {
		pings := 0
		for {
			hd, err := ws.ReadHeader(r)
			if err != nil {
				ended <- pings
				return
			}
			io.CopyN(io.Discard, r, hd.Length)
			if hd.OpCode == ws.OpPing {
				pings++
			}
		}
	}()
	select {
	case pings := <-ended:
		if pings == 0 {
			t.Fatal("the silent peer was dropped without a ping")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the silent peer's socket is still open")
	}
	alive.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "x", "Content": "still here"})
	if f := alive.Next(); f.RequestID != "x" {
		t.Fatalf("live peer got %+v", f)
	}
}

// Ensure a reader that falls behind is dropped (close 1008) once its queue
// is full, rather than stall its room: the others get every frame.
func TestSlowConsumerDropped(t *testing.T) {
	h := newTestHub(t, func(c *Config) { c.SendQueue = 8 })
	room := h.room(0, 0)
	fast := h.dial(h.token(room, "fast"))
	// The slow reader's socket takes little and it never reads, so the
	// server's writes to it block and its queue fills.
	slow := h.dialSmallBuffer(h.token(room, "slow"))
	defer slow.Close()
	pad := strings.Repeat("x", 8<<10)
	const n = 1000 // 8 MB: far more than the socket buffers hold
	for i := range n {
		ev := parley.Event{Type: parley.EventEvent, Room: room.Scope, RoomID: room.ID, ID: fmt.Sprintf("ev%010d", i), Name: "flood",
			Attributes: map[string]string{"pad": pad}, SendTime: h.clock.Now()}
		if err := h.bus.Publish(context.Background(), parley.RoomSubject(room.Scope, room.ID), ev); err != nil {
			t.Fatal(err)
		}
		// In step with the fast reader, whose queue then never fills.
		if f := fast.Next(); f.ID != ev.ID {
			t.Fatalf("frame %d to the fast reader = %s", i, f.ID)
		}
	}
	// Its close frame waits behind what it did not read, until the write times out.
	if got := h.hub.Stats().SlowDrops; got != 1 {
		t.Fatalf("Stats().SlowDrops = %d, want 1", got)
	}
}

// dialSmallBuffer connects with a 4 KiB receive buffer and reads nothing:
// once the server's send buffer is full too, its writes to it block.
func (h *testHub) dialSmallBuffer(token string) net.Conn {
	h.t.Helper()
	nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) }); err != nil {
			return err
		}
		return serr
	}}
	d := ws.Dialer{Protocols: []string{token}, NetDial: nd.DialContext}
	nc, _, _, err := d.Dial(context.Background(), h.url+"/")
	if err != nil {
		h.t.Fatal(err)
	}
	return nc
}

// Ensure a reader that stops for a while, and so fills its socket, gets
// every frame whole and in order once it reads again: what the socket did
// not take (a frame cut anywhere) is written after it, and a reader that
// is behind but within its queue is not dropped.
func TestStalledReaderGetsEveryFrame(t *testing.T) {
	h := newTestHub(t)
	room := h.room(0, 0)
	stalled := h.dialSmallBuffer(h.token(room, "stalled"))
	defer stalled.Close()
	const n = 100 // 800 KB: more than the socket buffers hold, less than the queue
	for i := range n {
		pad := strings.Repeat(string(rune('a'+i%26)), 8<<10-i) // frames of differing lengths
		ev := parley.Event{Type: parley.EventEvent, Room: room.Scope, RoomID: room.ID, ID: fmt.Sprintf("ev%03d", i), Name: "flood",
			Attributes: map[string]string{"pad": pad}, SendTime: h.clock.Now()}
		if err := h.bus.Publish(context.Background(), parley.RoomSubject(room.Scope, room.ID), ev); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the server has frames it cannot write yet", func() bool { return h.hub.Stats().Backlog > 0 })
	stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range n {
		b, err := wsutil.ReadServerText(stalled)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		var f struct {
			ID         string `json:"Id"`
			Attributes map[string]string
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("frame %d: %v: %.80q", i, err, b)
		}
		if want := strings.Repeat(string(rune('a'+i%26)), 8<<10-i); f.ID != fmt.Sprintf("ev%03d", i) || f.Attributes["pad"] != want {
			t.Fatalf("frame %d is %s with a pad of %d bytes, want ev%03d with %d", i, f.ID, len(f.Attributes["pad"]), i, len(want))
		}
	}
	if got := h.hub.Stats().SlowDrops; got != 0 {
		t.Fatalf("Stats().SlowDrops = %d, want 0", got)
	}
}
