package chattoken_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
)

// FuzzOpen opens anything as a chat token and as a session token. Only
// what the sealer sealed opens, and then to exactly what it sealed: a
// token cannot be forged, altered, or passed off as the other kind.
func FuzzOpen(f *testing.F) {
	key := make([]byte, 32)
	s, err := chattoken.NewSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	grant := &parley.ChatToken{ID: "t1", Room: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, RoomID: "abcdEFGH1234",
		UserID: "alice", Capabilities: []parley.Capability{"SEND_MESSAGE"}, Attributes: map[string]string{"a": "b"},
		IssueTime: at, TokenExpires: at.Add(time.Hour), SessionExpires: at.Add(time.Hour)}
	session := &parley.DeviceSession{UserID: "u1", AwsAccountID: "123456789012", AccountID: "acc", Expires: at.Add(time.Hour)}
	chat, err := s.Seal(grant)
	if err != nil {
		f.Fatal(err)
	}
	sess, err := s.SealSession(session)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(chat)
	f.Add(sess)
	f.Add(chat[:len(chat)-1] + "A")
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		if g, err := s.Open(token); err == nil {
			if !reflect.DeepEqual(g, grant) {
				t.Fatalf("%q opened to %+v, which was never sealed", token, g)
			}
		}
		if d, err := s.OpenSession(token); err == nil {
			if !reflect.DeepEqual(d, session) {
				t.Fatalf("%q opened to session %+v, which was never sealed", token, d)
			}
		}
	})
}
