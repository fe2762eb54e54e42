package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/gobwas/ws"
)

// frame is a server-to-client messaging frame as a client sees it.
type frame struct {
	Type       string
	ID         string `json:"Id"`
	RequestID  string `json:"RequestId"`
	Content    string
	EventName  string
	Attributes map[string]string
	SendTime   string
	Sender     *struct {
		UserId     string
		Attributes map[string]string
	}
	ErrorCode    int
	ErrorMessage string
	Messages     []frame // MESSAGES, the answer to GET_MESSAGES
}

// chatClient is a raw WebSocket client of the messaging endpoint.
type chatClient struct {
	t        *testing.T
	nc       net.Conn
	protocol string
	frames   chan frame
	closed   chan ws.StatusCode // the close code the server sent, once
	wmu      sync.Mutex
}

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().UTC().Truncate(time.Millisecond)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// wsURL is the messaging URL of m.
func wsURL(m *Main) string { return "ws" + strings.TrimPrefix(m.URL, "http") }

// dialStatus tries to connect with token; it returns the HTTP status of a
// refused handshake, or the client on success (status 101).
func dialStatus(t *testing.T, m *Main, token string) (*chatClient, int) {
	t.Helper()
	return dialPath(t, m, "/", token)
}

// dialPath is dialStatus on another path.
func dialPath(t *testing.T, m *Main, path, token string) (*chatClient, int) {
	t.Helper()
	c, status, err := tryDial(t, m, path, token)
	if err != nil {
		t.Fatal(err)
	}
	return c, status
}

// tryDial is dialPath for goroutines other than the test's, which must not
// call t.Fatal: a failed dial is returned, not fatal.
func tryDial(t *testing.T, m *Main, path, token string) (*chatClient, int, error) {
	nc, r, protocol, status, err := wsDial(t, m, path, token, 0)
	if nc == nil {
		return nil, status, err
	}
	c := &chatClient{t: t, nc: nc, protocol: protocol, frames: make(chan frame, 1000), closed: make(chan ws.StatusCode, 1)}
	go c.read(r)
	return c, 101, nil
}

// wsDial opens a messaging connection with token as its subprotocol and
// returns the socket, a reader of what the server sends and the
// subprotocol it echoed; or, when the handshake is refused, the HTTP
// status; or a dial error. rcvbuf, when not
// zero, shrinks the socket's receive buffer, so that a peer that does not
// read pushes back on the server quickly.
func wsDial(t *testing.T, m *Main, path, token string, rcvbuf int) (net.Conn, io.Reader, string, int, error) {
	status := 0
	nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if rcvbuf == 0 {
			return nil
		}
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}); err != nil {
			return err
		}
		return serr
	}}
	// Generous: under -race on two cores a storm of handshakes, each
	// spending its token in SQLite, takes seconds to be served.
	d := ws.Dialer{Protocols: []string{token}, Timeout: 30 * time.Second, NetDial: nd.DialContext,
		OnStatusError: func(s int, _ []byte, _ io.Reader) { status = s }}
	nc, br, hs, err := d.Dial(context.Background(), wsURL(m)+path)
	if err != nil {
		if status == 0 {
			return nil, nil, "", 0, fmt.Errorf("dial: %w", err)
		}
		return nil, nil, "", status, nil
	}
	t.Cleanup(func() { nc.Close() })
	// br, when not nil, holds what the server sent right after the
	// handshake; it is read from, so it is not returned to gobwas's pool.
	var r io.Reader = nc
	if br != nil {
		r = io.MultiReader(br, nc)
	}
	return nc, bufio.NewReader(r), hs.Protocol, 101, nil
}

// dial connects with token and fails the test if refused.
func dial(t *testing.T, m *Main, token string) *chatClient {
	t.Helper()
	c, status := dialStatus(t, m, token)
	if c == nil {
		t.Fatalf("handshake refused with %d", status)
	}
	if c.protocol != token {
		t.Fatalf("subprotocol echoed %q, want the token", c.protocol)
	}
	return c
}

func (c *chatClient) read(r io.Reader) {
	defer close(c.frames)
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		switch h.OpCode {
		case ws.OpText:
			var f frame
			if err := json.Unmarshal(payload, &f); err != nil {
				c.t.Errorf("server sent a frame that is not JSON: %q", payload)
				continue
			}
			c.frames <- f
		case ws.OpPing:
			c.write(ws.NewPongFrame(payload))
		case ws.OpClose:
			code, _ := ws.ParseCloseFrameData(payload)
			c.closed <- code
			c.write(ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
			return
		}
	}
}

func (c *chatClient) write(f ws.Frame) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ws.WriteFrame(c.nc, ws.MaskFrameInPlace(f))
}

// send writes a request frame.
func (c *chatClient) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
}

func (c *chatClient) sendRaw(s string) { c.write(ws.NewTextFrame([]byte(s))) }

// next returns the next frame, failing after a few seconds.
func (c *chatClient) next() frame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatal("connection ended while a frame was expected")
		}
		return f
	case <-time.After(5 * time.Second):
		c.t.Fatal("no frame within 5s")
	}
	return frame{}
}

// nextOf returns the next frame of the given type, skipping others.
func (c *chatClient) nextOf(typ string) frame {
	c.t.Helper()
	for {
		if f := c.next(); f.Type == typ {
			return f
		}
	}
}

// nextEvent returns the next EVENT named name, skipping other frames.
func (c *chatClient) nextEvent(name string) frame {
	c.t.Helper()
	for {
		if f := c.next(); f.Type == "EVENT" && f.EventName == name {
			return f
		}
	}
}

// reply returns the next frame answering requestID, skipping others.
func (c *chatClient) reply(requestID string) frame {
	c.t.Helper()
	for {
		if f := c.next(); f.RequestID == requestID {
			return f
		}
	}
}

// wantClose waits for the server's close frame and returns its code.
func (c *chatClient) wantClose() ws.StatusCode {
	c.t.Helper()
	select {
	case code := <-c.closed:
		return code
	case <-time.After(5 * time.Second):
		c.t.Fatal("server did not close the connection")
	}
	return 0
}

// quiet asserts no frame arrives for a short while (nothing was sent to us).
func (c *chatClient) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if ok {
			c.t.Fatalf("unexpected frame %+v", f)
		}
		c.t.Fatal("connection ended unexpectedly")
	case <-time.After(d):
	}
}

// token mints a chat token through the SDK.
func token(t *testing.T, m *Main, roomARN *string, user string, caps ...types.ChatTokenCapability) string {
	t.Helper()
	out := must(IVS(m).CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: roomARN, UserId: aws.String(user),
		Capabilities: caps, Attributes: map[string]string{"name": user}}))(t, "CreateChatToken")
	return aws.ToString(out.Token)
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var reqSeq struct {
	sync.Mutex
	n int
}

// rid returns a fresh request ID.
func rid() string {
	reqSeq.Lock()
	defer reqSeq.Unlock()
	reqSeq.n++
	return fmt.Sprintf("req-%d", reqSeq.n)
}
