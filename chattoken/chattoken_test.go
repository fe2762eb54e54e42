package chattoken_test

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
)

func sealer(t *testing.T) *chattoken.Sealer {
	t.Helper()
	k, err := chattoken.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := chattoken.NewSealer(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var grant = &parley.ChatToken{
	ID: "tokid", Room: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, RoomID: "abcdEFGH1234", UserID: "user/with spaces ü",
	Capabilities: []parley.Capability{parley.CapSendMessage, parley.CapDisconnectUser}, Attributes: map[string]string{"displayName": "Bob"},
	IssueTime: time.UnixMilli(1700000000000).UTC(), TokenExpires: time.UnixMilli(1700003600000).UTC(), SessionExpires: time.UnixMilli(1700010800000).UTC(),
}

// RFC 7230 tchar: what a WebSocket subprotocol may contain.
var tchars = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func TestRoundTrip(t *testing.T) {
	s := sealer(t)
	tok, err := s.Seal(grant)
	if err != nil {
		t.Fatal(err)
	}
	if !tchars.MatchString(tok) {
		t.Fatalf("token %q is not subprotocol-safe", tok)
	}
	got, err := s.Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, grant) {
		t.Fatalf("Open = %+v\nwant %+v", got, grant)
	}
	if tok2, _ := s.Seal(grant); tok2 == tok {
		t.Fatal("two seals of the same grant are identical; nonce not random")
	}
}

func TestForgery(t *testing.T) {
	s := sealer(t)
	tok, _ := s.Seal(grant)
	// Flip each byte position in turn: every altered token must be refused.
	for i := 0; i < len(tok); i++ {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := s.Open(string(b)); err == nil && string(b) != tok {
			// Changing the last char can leave decoded bytes equal (unused low bits).
			if got, _ := s.Open(string(b)); !reflect.DeepEqual(got, grant) {
				t.Fatalf("altered token at %d opened to a different grant", i)
			}
		}
	}
	if _, err := sealer(t).Open(tok); err == nil {
		t.Fatal("token opened under another server's key")
	}
	for _, junk := range []string{"", "abc", "AAAA", "not base64!"} {
		if _, err := s.Open(junk); err == nil {
			t.Fatalf("Open(%q) succeeded", junk)
		}
	}
}

// Ensure a device session round-trips and is never accepted as a chat token, nor the reverse.
func TestSessionKinds(t *testing.T) {
	s := sealer(t)
	d := &parley.DeviceSession{ID: "s1", AwsAccountID: "123456789012", AccountID: "acc", UserID: "usr", Epoch: 7,
		IssueTime: time.UnixMilli(1700000000000).UTC(), Expires: time.UnixMilli(1700043200000).UTC()}
	tok, err := s.SealSession(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenSession(tok)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("OpenSession = %+v, %v; want %+v", got, err, d)
	}
	if _, err := s.Open(tok); err == nil {
		t.Fatal("a device session opened as a chat token")
	}
	chat, _ := s.Seal(grant)
	if _, err := s.OpenSession(chat); err == nil {
		t.Fatal("a chat token opened as a device session")
	}
}
