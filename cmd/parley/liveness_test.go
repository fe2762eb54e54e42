package main

import (
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/gobwas/ws"
	"github.com/parley-chat/parley/internal/wstest"
)

// rawDial opens a messaging connection and hands back the bare socket,
// which nothing reads or writes until the test does (see wsDial for rcvbuf).
func rawDial(t *testing.T, m *Main, token string, rcvbuf int) (net.Conn, io.Reader) {
	t.Helper()
	nc, r, _, status, err := wsDial(t, m, "/", token, rcvbuf)
	if err != nil {
		t.Fatal(err)
	}
	if nc == nil {
		t.Fatalf("handshake refused with %d", status)
	}
	return nc, r
}

// Ensure a peer that stops answering pings is dropped, and one that
// answers stays connected.
func TestDeadPeerDropped(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.PingInterval = 500 * time.Millisecond })
	room := newRoom(t, m, nil)
	alive := dial(t, m, token(t, m, room.Arn, "alive", capSend))
	silent, r := rawDial(t, m, token(t, m, room.Arn, "silent"), 0)

	// The silent peer never writes, not even a pong; it reads only now,
	// to see what the server did meanwhile.
	time.Sleep(3 * time.Second)
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	pings := 0
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server kept a peer that answered no ping for 3s (ping interval 0.5s)")
			}
			break // the server closed the socket
		}
		if _, err := io.CopyN(io.Discard, r, h.Length); err != nil {
			break
		}
		if h.OpCode == ws.OpPing {
			pings++
		}
	}
	if pings == 0 {
		t.Fatal("the silent peer was dropped without being pinged first")
	}

	// The peer that answered pings is still in the room.
	id := wstest.RequestID()
	alive.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": id, "Content": "still here"})
	if f := alive.Reply(id); f.Type != "MESSAGE" || f.Content != "still here" {
		t.Fatalf("after pings, the live peer got %+v", f)
	}
}

// Ensure a reader that falls behind is disconnected with 1008 rather than
// stall its room: the other members receive every event meanwhile.
func TestSlowConsumerDropped(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.SendQueue = 100 })
	room := newRoom(t, m, nil)
	fast := dial(t, m, token(t, m, room.Arn, "fast"))
	slow, r := rawDial(t, m, token(t, m, room.Arn, "slow"), 4096)

	var fastGot atomic.Int64
	fastDone := make(chan struct{})
	const events = 1000
	go func() {
		defer close(fastDone)
		for f := range fast.Frames() {
			if f.Type == "EVENT" && f.EventName == "flood" {
				if fastGot.Add(1) == events {
					return
				}
			}
		}
	}()

	// Frames of about 1 KiB: more than the socket buffers (256 KiB each
	// way, doubled by Linux) and the server's queue (100 frames here) can
	// hold together.
	pad := strings.Repeat("x", 900)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ivs := IVS(m)
			for i := w; i < events; i += 8 {
				if _, err := ivs.SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("flood"),
					Attributes: map[string]string{"i": strconv.Itoa(i), "pad": pad}}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("SendEvent: %v", err)
	}
	select {
	case <-fastDone:
	case <-time.After(20 * time.Second):
		t.Fatalf("the room stalled behind its slow reader: the fast reader got %d of %d events", fastGot.Load(), events)
	}

	// Now the slow peer reads what was queued for it: some of the events,
	// then a close frame saying why it was dropped.
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := 0
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			t.Fatalf("slow reader: connection ended without a close frame after %d events: %v", got, err)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(r, payload); err != nil {
			t.Fatalf("slow reader: %v", err)
		}
		if h.OpCode == ws.OpClose {
			code, reason := ws.ParseCloseFrameData(payload)
			if code != ws.StatusPolicyViolation || reason != "slow consumer" {
				t.Fatalf("slow reader closed with %d %q, want 1008 \"slow consumer\"", code, reason)
			}
			break
		}
		var f frame
		if h.OpCode == ws.OpText && json.Unmarshal(payload, &f) == nil && f.EventName == "flood" {
			got++
		}
	}
	if got >= events {
		t.Fatalf("slow reader got all %d events; it was never behind, the test proves nothing", got)
	}
	t.Logf("slow reader got %d of %d events before its close frame", got, events)
}

// Ensure a reconnect storm, far more handshakes at once than the server
// serves together, is admitted in full and every client is in the room.
func TestHandshakeStorm(t *testing.T) {
	m := MustRunMain(t)
	room := newRoom(t, m, nil)
	const n = 300
	toks := make([]string, n)
	for i := range toks {
		toks[i] = token(t, m, room.Arn, "u"+strconv.Itoa(i), capSend)
	}
	clients := make([]*chatClient, n)
	statuses := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range toks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			clients[i], statuses[i], errs[i] = tryDial(t, m, "/", toks[i])
		}(i)
	}
	wg.Wait()
	for i, c := range clients {
		if errs[i] != nil {
			t.Fatalf("client %d of %d: %v", i, n, errs[i])
		}
		if c == nil {
			t.Fatalf("client %d of %d was refused with %d", i, n, statuses[i])
		}
	}
	id := wstest.RequestID()
	clients[0].Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": id, "Content": "all here?"})
	for _, c := range clients {
		if f := c.NextOf("MESSAGE"); f.Content != "all here?" {
			t.Fatalf("got %+v", f)
		}
	}
}
