package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/gobwas/ws"
	"github.com/parley-chat/parley/internal/wstest"
)

// frame and chatClient are the shared messaging client's, so the tests
// here read as they did when each package had its own.
type (
	frame      = wstest.Frame
	chatClient = wstest.Client
)

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
	return wstest.NewClient(t, nc, r, protocol), 101, nil
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
	if c.Protocol != token {
		t.Fatalf("subprotocol echoed %q, want the token", c.Protocol)
	}
	return c
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
