package wstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// Frame is a server-to-client messaging frame as a client sees it.
type Frame struct {
	Type       string
	ID         string `json:"Id"`
	RequestID  string `json:"RequestId"`
	RoomID     string `json:"RoomId"`
	Content    string
	EventName  string
	Attributes map[string]string
	SendTime   string
	Sender     *struct {
		UserID     string `json:"UserId"`
		Attributes map[string]string
	}
	ErrorCode    int
	ErrorMessage string
	Messages     []Frame // MESSAGES, the answer to GET_MESSAGES
}

// Client is a raw WebSocket client of a messaging endpoint. It answers
// pings and the server's close, and decodes each text frame as a Frame.
// Each package dials its own endpoint and hands the socket to NewClient.
type Client struct {
	t        *testing.T
	NC       net.Conn
	Protocol string // the subprotocol the server echoed
	frames   chan Frame
	closed   chan ws.StatusCode // the close code the server sent, once
	wmu      sync.Mutex
}

// NewClient reads what the server sends on nc, after the handshake, from
// r. protocol is the subprotocol the server echoed. NewClient does not
// call t.Fatal, so any goroutine may call it.
func NewClient(t *testing.T, nc net.Conn, r io.Reader, protocol string) *Client {
	c := &Client{t: t, NC: nc, Protocol: protocol, frames: make(chan Frame, 1000), closed: make(chan ws.StatusCode, 1)}
	go c.read(r)
	return c
}

// Frames delivers the frames the server sends; it is closed when the
// socket ends.
func (c *Client) Frames() <-chan Frame { return c.frames }

// Closed delivers the code of the server's close frame, if it sends one.
func (c *Client) Closed() <-chan ws.StatusCode { return c.closed }

func (c *Client) read(r io.Reader) {
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
			var f Frame
			if err := json.Unmarshal(payload, &f); err != nil {
				c.t.Errorf("server sent a frame that is not JSON: %q", payload)
				continue
			}
			c.frames <- f
		case ws.OpPing:
			c.Write(ws.NewPongFrame(payload))
		case ws.OpClose:
			code, _ := ws.ParseCloseFrameData(payload)
			c.closed <- code
			c.Write(ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
			return
		}
	}
}

// Write masks f and writes it.
func (c *Client) Write(f ws.Frame) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ws.WriteFrame(c.NC, ws.MaskFrameInPlace(f))
}

// Send writes v as a request frame.
func (c *Client) Send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.SendRaw(string(b))
}

// SendRaw writes s as a text frame.
func (c *Client) SendRaw(s string) { c.Write(ws.NewTextFrame([]byte(s))) }

// Next returns the next frame, failing after a few seconds.
func (c *Client) Next() Frame {
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
	return Frame{}
}

// NextOf returns the next frame of type typ, skipping others.
func (c *Client) NextOf(typ string) Frame {
	c.t.Helper()
	for {
		if f := c.Next(); f.Type == typ {
			return f
		}
	}
}

// NextEvent returns the next EVENT named name, skipping other frames.
func (c *Client) NextEvent(name string) Frame {
	c.t.Helper()
	for {
		if f := c.Next(); f.Type == "EVENT" && f.EventName == name {
			return f
		}
	}
}

// Reply returns the next frame answering requestID, skipping others.
func (c *Client) Reply(requestID string) Frame {
	c.t.Helper()
	for {
		if f := c.Next(); f.RequestID == requestID {
			return f
		}
	}
}

// WantClose waits for the server's close frame and returns its code.
func (c *Client) WantClose() ws.StatusCode {
	c.t.Helper()
	select {
	case code := <-c.closed:
		return code
	case <-time.After(5 * time.Second):
		c.t.Fatal("server did not close the connection")
	}
	return 0
}

// WantDropped waits for the socket to end and fails if the server sent a
// close frame: a drop without one makes clients reconnect.
func (c *Client) WantDropped() {
	c.t.Helper()
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			select {
			case code := <-c.closed:
				c.t.Fatalf("server sent close code %d; want the socket dropped without a close frame", code)
			default:
			}
			return
		case <-time.After(5 * time.Second):
			c.t.Fatal("connection still open")
		}
	}
}

// Quiet asserts no frame arrives for d.
func (c *Client) Quiet(d time.Duration) {
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

var requests struct {
	sync.Mutex
	n int
}

// RequestID returns a fresh request ID.
func RequestID() string {
	requests.Lock()
	defer requests.Unlock()
	requests.n++
	return fmt.Sprintf("req-%d", requests.n)
}
