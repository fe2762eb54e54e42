package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/parley-chat/parley"
)

// The party being revoked cannot slow a revocation down. These tests hold
// a room of healthy readers and targets that misbehave.

// deafTarget connects user to room and never reads, after the room has sent
// it more than its socket buffers hold: the server's writes to it block.
func deafTarget(t *testing.T, m *Main, room *ivschat.CreateRoomOutput, user string) net.Conn {
	t.Helper()
	nc, _ := rawDial(t, m, token(t, m, room.Arn, user), 4096)
	pad := strings.Repeat("x", 900)
	for range 400 {
		must(IVS(m).SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("flood"),
			Attributes: map[string]string{"pad": pad}}))(t, "SendEvent")
	}
	return nc
}

// muteTarget connects user to room and reads everything, but never answers
// a close frame (nor anything else).
func muteTarget(t *testing.T, m *Main, room *ivschat.CreateRoomOutput, user string) net.Conn {
	t.Helper()
	nc, r := rawDial(t, m, token(t, m, room.Arn, user), 0)
	go io.Copy(io.Discard, r)
	return nc
}

// listeners connects n healthy readers to room.
func listeners(t *testing.T, m *Main, room *ivschat.CreateRoomOutput, n int) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nc, r, _, status, err := wsDial(t, m, "/", token(t, m, room.Arn, "listener-"+string(rune('a'+i%26))+parley.NewID()), 0)
			if err != nil || status != 101 {
				errs <- err
				return
			}
			_ = nc
			go io.Copy(io.Discard, r)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a listener could not connect: %v", err)
	}
}

// mustClose fails t unless the server closes nc within d.
func mustClose(t *testing.T, nc net.Conn, d time.Duration) {
	t.Helper()
	if !closedWithin(nc, d) {
		t.Fatalf("the server did not close the socket within %s", d)
	}
}

// Ensure targets that stop reading, or never answer the close frame, among
// 1,000 healthy connections, do not hold DisconnectUser up: it returns, with
// their sockets closed, in a bounded time far under a second.
func TestRevocationStuckTargets(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.ConnsPerIP = 0 }) // every client is on 127.0.0.1
	room := newRoom(t, m, nil)
	listeners(t, m, room, 1000)
	watcher := dial(t, m, token(t, m, room.Arn, "watcher"))
	mute := muteTarget(t, m, room, "mute")
	// Last, so that its writes are still blocked when it is disconnected.
	deaf := deafTarget(t, m, room, "deaf")
	if n := m.Hub.Count(); n != 1003 {
		t.Fatalf("hub holds %d connections, want 1003", n)
	}

	for _, target := range []struct {
		user string
		nc   net.Conn
	}{{"deaf", deaf}, {"mute", mute}} {
		start := time.Now()
		must(IVS(m).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String(target.user), Reason: aws.String("troll")}))(t, "DisconnectUser "+target.user)
		took := time.Since(start)
		t.Logf("DisconnectUser(%s) returned after %s", target.user, took)
		// The old hub took 2 s (mute) and 9 s (deaf); the bound is 150 ms
		// of the server's time, and the rest is the test's own load.
		if took > time.Second {
			t.Fatalf("DisconnectUser(%s) took %s: the target held it up", target.user, took)
		}
		if n := m.Hub.Count(); n != 1002 && target.user == "deaf" || n != 1001 && target.user == "mute" {
			t.Fatalf("after DisconnectUser(%s) the hub holds %d connections", target.user, n)
		}
		mustClose(t, target.nc, time.Second)
		if f := watcher.NextEvent("aws:DISCONNECT_USER"); f.Attributes["UserId"] != target.user {
			t.Fatalf("the room was told %+v", f)
		}
	}
}

// Ensure a caller that hangs up mid-call still gets its target disconnected
// and its call audited: once the revocation is durable, it goes on.
func TestRevocationCallerHangsUp(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	for attempt := 1; ; attempt++ {
		user := "deaf-" + parley.NewID()
		deaf := deafTarget(t, m, room, user)
		before := m.Hub.Count()
		// Hang up once the command is durable, while the deaf target's
		// 50 ms write deadline holds the delivery.
		cctx, cancel := context.WithCancel(ctx())
		done := make(chan error, 1)
		go func() {
			_, err := IVS(m).DisconnectUser(cctx, &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String(user), Reason: aws.String("bye")})
			done <- err
		}()
		var err error
	wait:
		for {
			select {
			case err = <-done:
				break wait
			default:
			}
			if p, _ := m.Store.PendingOutbox(ctx(), "test"); len(p) > 0 {
				cancel()
				err = <-done
				break
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err == nil {
			if attempt == 5 {
				t.Fatal("the call always finished before the test could hang up")
			}
			continue // finished before the hang-up: try again
		}
		mustClose(t, deaf, time.Second)
		eventually(t, "the hub forgets the target", func() bool { return m.Hub.Count() == before-1 })
		eventually(t, "the call is audited", func() bool {
			recs, _, err := m.Store.ListAudit(ctx(), m.Key.AccountID, parley.Page{MaxResults: 100})
			if err != nil {
				return false
			}
			for _, r := range recs {
				if r.Action == "DisconnectUser" && strings.HasSuffix(r.Target, " user "+user) && r.Caller == testKeyID && r.Result == "ok" {
					return true
				}
			}
			return false
		})
		return
	}
}

// Ensure a chat client's DISCONNECT_USER is audited in the room's account,
// as made by that chat user, so 'parley audit' shows it.
func TestRevocationFromClientAudited(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	mod := dial(t, m, token(t, m, room.Arn, "mod", capDisconnect))
	dial(t, m, token(t, m, room.Arn, "troll"))
	mod.Send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "kick", "UserId": "troll"})
	if f := mod.NextOf("EVENT"); f.EventName != "aws:DISCONNECT_USER" {
		t.Fatalf("moderator got %+v", f)
	}
	eventually(t, "the client's request is audited", func() bool {
		recs, _, _ := m.Store.ListAudit(ctx(), m.Key.AccountID, parley.Page{MaxResults: 100})
		for _, r := range recs {
			if r.Action == "DisconnectUser" && r.Caller == "chat:mod" && strings.HasSuffix(r.Target, " user troll") {
				return true
			}
		}
		return false
	})
}

// Ensure a membership removed and re-added in quick succession, even by
// concurrent calls, leaves the member's live device receiving the room
// exactly when the store says it is a member.
func TestMembershipChurn(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	alice, bob := registeredUser(t, m, acc, "alice@example.com"), registeredUser(t, m, acc, "bob@example.com")
	room := chimeRoom(t, m, acc, "churn")
	join(t, m, acc, room, alice)
	join(t, m, acc, room, bob)
	a := mustDevice(t, m, mustSession(t, m, acc, alice))
	b := mustDevice(t, m, mustSession(t, m, acc, bob))
	in := chimeInput{acc: acc, room: room, member: alice}

	for round := range 10 {
		// Sequential: remove then re-add at once. Then concurrent: a removal
		// and an addition racing, whichever the store ends with.
		in.remove(t, c)
		in.add(t, c)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); in.remove(nil, c) }()
		go func() { defer wg.Done(); in.add(nil, c) }()
		wg.Wait()

		member := false
		ms := must(c.ListRoomMemberships(ctx(), &chime.ListRoomMembershipsInput{AccountId: aws.String(acc), RoomId: aws.String(room)}))(t, "ListRoomMemberships")
		for _, x := range ms.RoomMemberships {
			member = member || aws.ToString(x.Member.MemberId) == alice
		}
		id := fmt.Sprintf("r%d", round)
		b.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": id, "RoomId": room, "Content": id})
		if f := b.Reply(id); f.Type != "MESSAGE" {
			t.Fatalf("round %d: bob's post = %+v", round, f)
		}
		got := false
		deadline := time.After(300 * time.Millisecond)
	read:
		for {
			select {
			case f := <-a.Frames():
				if f.Type == "MESSAGE" && f.Content == id {
					got = true
					break read
				}
			case <-deadline:
				break read
			}
		}
		if got != member {
			t.Fatalf("round %d: alice is a member: %v, her device received the room's message: %v", round, member, got)
		}
		if !member {
			in.add(t, c)
		}
	}
}

type chimeInput struct{ acc, room, member string }

// remove and add change the membership; t nil ignores the outcome (a race
// may find the member already gone or already there).
func (in chimeInput) remove(t *testing.T, c *chime.Client) {
	_, err := c.DeleteRoomMembership(ctx(), &chime.DeleteRoomMembershipInput{AccountId: aws.String(in.acc), RoomId: aws.String(in.room), MemberId: aws.String(in.member)})
	if t != nil && err != nil {
		t.Fatalf("DeleteRoomMembership: %v", err)
	}
}

func (in chimeInput) add(t *testing.T, c *chime.Client) {
	_, err := c.CreateRoomMembership(ctx(), &chime.CreateRoomMembershipInput{AccountId: aws.String(in.acc), RoomId: aws.String(in.room), MemberId: aws.String(in.member)})
	if t != nil && err != nil {
		t.Fatalf("CreateRoomMembership: %v", err)
	}
}
