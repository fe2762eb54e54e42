package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlite"
)

// Ensure group-committed writes survive kill -9 at random moments: while
// 16 callers disconnect users and open connections flat out, the server is
// killed; after a restart every DisconnectUser that returned success has
// its audit record, and every token that opened a connection is spent.
func TestGroupCommitSurvivesKill9(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	for round := range 3 {
		p := startProcessArgs(t, "--data", dataDir, "--handshake-rate", "0", "--heartbeat", "100ms", "--lease", "1s")
		m := &Main{URL: p.URL}
		room := newRoom(t, m, nil)
		// The node killed in the round before is alive to the store until
		// its lease runs out; revocations wait for it until then.
		must(p.client().DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("warm-up")}))(t, "DisconnectUser")
		var (
			mu     sync.Mutex
			acked  []string // users whose DisconnectUser returned success
			spent  []string // tokens that opened a connection
			stop   = make(chan struct{})
			wg     sync.WaitGroup
			client = p.client()
		)
		tokens := make(chan string, 1000)
		for i := range 200 {
			tokens <- token(t, m, room.Arn, fmt.Sprint("viewer", round, "-", i))
		}
		close(tokens)
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if w%2 == 0 {
						user := fmt.Sprintf("target-%d-%d-%d", round, w, i)
						if _, err := client.DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String(user)}); err == nil {
							mu.Lock()
							acked = append(acked, user)
							mu.Unlock()
						}
						continue
					}
					tok, ok := <-tokens
					if !ok {
						return
					}
					if c, status, err := tryDial(t, m, "/", tok); err == nil && status == 101 {
						mu.Lock()
						spent = append(spent, tok)
						mu.Unlock()
						c.NC.Close()
					}
				}
			}()
		}
		time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		close(stop)
		wg.Wait()
		if len(acked) == 0 || len(spent) == 0 {
			t.Fatalf("round %d: %d calls and %d connections acknowledged before the kill; the test needs both", round, len(acked), len(spent))
		}

		// Every acknowledged call's audit record is in the file.
		st, err := sqlite.Open(ctx(), filepath.Join(dataDir, "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		targets := map[string]bool{}
		for next := ""; ; {
			recs, n, err := st.ListAudit(ctx(), testAccount, parley.Page{MaxResults: 1000, NextToken: next})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Action == "DisconnectUser" && r.Result == "ok" {
					_, user, _ := strings.Cut(r.Target, " user ")
					targets[user] = true
				}
			}
			if next = n; next == "" {
				break
			}
		}
		st.Close()
		for _, u := range acked {
			if !targets[u] {
				t.Fatalf("round %d: DisconnectUser of %s returned success before kill -9, and its audit record is gone", round, u)
			}
		}

		// Every token that opened a connection stays spent.
		p = startProcessArgs(t, "--data", dataDir, "--handshake-rate", "0", "--heartbeat", "100ms", "--lease", "1s")
		m = &Main{URL: p.URL}
		for _, tok := range spent {
			if _, status := dialStatus(t, m, tok); status != 401 {
				t.Fatalf("round %d: a token spent before kill -9 opened a connection again (status %d)", round, status)
			}
		}
		t.Logf("round %d: %d acknowledged DisconnectUser calls and %d spent tokens survived kill -9", round, len(acked), len(spent))
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// Ensure a token spent on one node just before that node crashes cannot be
// used on another.
func TestClusterTokenSpentBeforeCrash(t *testing.T) {
	c := startCluster(t, 1)
	n0 := c.nodes[0]
	p := startProcessArgs(t, "--store", c.store, "--bus", c.bus, "--heartbeat", "100ms", "--lease", "1s")
	doomed := &Main{URL: p.URL}
	room := newRoom(t, n0, nil)
	tok := token(t, n0, room.Arn, "u")
	dial(t, doomed, tok)
	p.cmd.Process.Kill()
	p.cmd.Wait()
	if _, status := dialStatus(t, n0, tok); status != 401 {
		t.Fatalf("a token spent on a node that then crashed opened a connection on another (status %d)", status)
	}
}

// Ensure the room cache forgets across nodes at once: a room deleted on
// node A, which node B has just read (and cached), refuses CreateChatToken
// and a handshake on B as soon as DeleteRoom returns.
func TestClusterRoomCacheInvalidation(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	room := newRoom(t, a, nil)
	early := token(t, b, room.Arn, "early") // B reads the room, and keeps it
	must(IVS(b).SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("warm")}))(t, "SendEvent on B")
	must(IVS(a).DeleteRoom(ctx(), &ivschat.DeleteRoomInput{Identifier: room.Arn}))(t, "DeleteRoom on A")
	_, err := IVS(b).CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("late")})
	wantAPIError(t, "CreateChatToken on B right after DeleteRoom on A", err, "ResourceNotFoundException")
	_, err = IVS(b).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("x")})
	wantAPIError(t, "DisconnectUser on B right after DeleteRoom on A", err, "ResourceNotFoundException")
	if _, status := dialStatus(t, b, early); status != 404 {
		t.Fatalf("a token of the deleted room connected on B (status %d), want 404", status)
	}

	// An update is seen at once too: the new message length applies on B.
	room2 := newRoom(t, a, nil)
	token(t, b, room2.Arn, "warm") // B reads the room, and keeps it
	must(IVS(a).UpdateRoom(ctx(), &ivschat.UpdateRoomInput{Identifier: room2.Arn, MaximumMessageLength: aws.Int32(5)}))(t, "UpdateRoom on A")
	cl := dial(t, b, token(t, b, room2.Arn, "writer", types.ChatTokenCapabilitySendMessage))
	cl.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r1", "Content": "too long"})
	if f := cl.Reply("r1"); f.Type != "ERROR" || f.ErrorCode != 413 {
		t.Fatalf("a message over the updated length, on a connection B opened after the update: %+v, want ERROR 413", f)
	}
}

// Ensure back-pressure as a publisher sees it: while the room's sockets
// are behind, SendEvent is refused with 429 ThrottlingException and a
// chat client's SEND_MESSAGE with ERROR 429, each after waiting
// --publish-wait; once the clients that stopped reading are gone, both go
// through again.
func TestBackPressureRefusesPublishers(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.FanoutBacklog, c.PublishWait = 16, 200*time.Millisecond })
	room := newRoom(t, m, nil)
	sender := dial(t, m, token(t, m, room.Arn, "sender", capSend))
	errs := make(chan frame, 1)
	go func() { // the sender reads what the room sends, as a client does
		for f := range sender.Frames() {
			if f.Type == "ERROR" {
				select {
				case errs <- f:
				default:
				}
			}
		}
	}()
	// Three clients that stop reading: each counts for at most 8 frames,
	// so together they hold the node over its limit of 16.
	var deaf []net.Conn
	for i := range 3 {
		nc, _ := rawDial(t, m, token(t, m, room.Arn, fmt.Sprint("deaf", i)), 4096)
		deaf = append(deaf, nc)
	}
	pad := strings.Repeat("x", 900)
	var refused error
	var waited time.Duration
	for i := 0; i < 5000 && refused == nil; i++ {
		start := time.Now()
		_, err := IVS(m).SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("flood"),
			Attributes: map[string]string{"pad": pad}})
		refused, waited = err, time.Since(start)
	}
	if refused == nil {
		t.Fatal("5000 events to a room with three clients that stopped reading: none refused")
	}
	wantAPIError(t, "SendEvent with the sockets behind", refused, "ThrottlingException")
	var re interface{ HTTPStatusCode() int }
	if !errors.As(refused, &re) || re.HTTPStatusCode() != http.StatusTooManyRequests {
		t.Fatalf("SendEvent refused with %v, want HTTP 429", refused)
	}
	if waited < 200*time.Millisecond {
		t.Errorf("refused after %v, want after --publish-wait (200ms)", waited)
	}
	var te *types.ThrottlingException
	if !errors.As(refused, &te) || te.ResourceType != types.ResourceTypeRoom || (aws.ToString(te.ResourceId) != aws.ToString(room.Id) && aws.ToString(te.ResourceId) != aws.ToString(room.Arn)) {
		t.Errorf("refusal %v does not name the room (%+v)", refused, te)
	}
	sender.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "held", "Content": "hello"})
	select {
	case f := <-errs:
		if f.ErrorCode != 429 || f.RequestID != "held" {
			t.Fatalf("SEND_MESSAGE with the sockets behind: %+v, want ERROR 429", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SEND_MESSAGE with the sockets behind: no ERROR 429")
	}
	if n := m.Hub.Stats().Throttled; n < 2 {
		t.Errorf("throttled count %d, want at least 2", n)
	}

	for _, nc := range deaf {
		nc.(*net.TCPConn).SetLinger(0) // reset: the server's blocked writes fail at once
		nc.Close()
	}
	eventually(t, "SendEvent accepted once the deaf clients are gone", func() bool {
		_, err := IVS(m).SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("after")})
		return err == nil
	})
}
