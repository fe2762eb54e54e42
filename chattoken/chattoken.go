// Package chattoken mints and opens IVS chat tokens.
//
// A token is the grant itself (room, user, capabilities, attributes, expiry
// times), sealed with AES-256-GCM under a server key that every node shares
// through the Store. It cannot be forged or altered without the key, so
// minting needs no write; single use is enforced when the token is spent, by
// Store.ConsumeToken on the token's random ID. The encoding is base64url
// without padding, which is safe as a WebSocket subprotocol (RFC 7230 tchar).
package chattoken

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

// KeySize is the length of the sealing key.
const KeySize = 32

// version prefixes every token so the format can change.
const version byte = 1

// Sealer mints and opens tokens with one key.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer for a KeySize-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, errors.New("chattoken: key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// NewKey returns a fresh random key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	return k, err
}

// claims is the sealed payload; short names keep tokens short.
type claims struct {
	ID      string            `json:"i"`
	Account string            `json:"a"`
	Region  string            `json:"g"`
	Room    string            `json:"r"`
	User    string            `json:"u"`
	Caps    []string          `json:"c,omitempty"`
	Attrs   map[string]string `json:"t,omitempty"`
	Issued  int64             `json:"n"`
	TokExp  int64             `json:"e"`
	SessExp int64             `json:"s"`
}

// Seal returns the token string for t. t.ID must be set and unique.
func (s *Sealer) Seal(t *parley.ChatToken) (string, error) {
	c := claims{ID: t.ID, Account: t.Room.AccountID, Region: t.Room.Region, Room: t.RoomID, User: t.UserID, Attrs: t.Attributes,
		Issued: t.IssueTime.UnixMilli(), TokExp: t.TokenExpires.UnixMilli(), SessExp: t.SessionExpires.UnixMilli()}
	for _, cap := range t.Capabilities {
		c.Caps = append(c.Caps, string(cap))
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead()+1)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := append([]byte{version}, s.aead.Seal(nonce, nonce, plain, []byte{version})...)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// ErrInvalid means the string is not a token this server minted.
var ErrInvalid = errors.New("chattoken: invalid token")

// Open returns the grant sealed in token, or ErrInvalid. It does not check
// expiry or single use; the caller does, against its clock and Store.
func (s *Sealer) Open(token string) (*parley.ChatToken, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < 1+ns+s.aead.Overhead() || raw[0] != version {
		return nil, ErrInvalid
	}
	plain, err := s.aead.Open(nil, raw[1:1+ns], raw[1+ns:], []byte{version})
	if err != nil {
		return nil, ErrInvalid
	}
	var c claims
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, ErrInvalid
	}
	t := &parley.ChatToken{ID: c.ID, Room: parley.Scope{AccountID: c.Account, Region: c.Region}, RoomID: c.Room, UserID: c.User,
		Attributes: c.Attrs, IssueTime: time.UnixMilli(c.Issued).UTC(), TokenExpires: time.UnixMilli(c.TokExp).UTC(),
		SessionExpires: time.UnixMilli(c.SessExp).UTC()}
	for _, cap := range c.Caps {
		t.Capabilities = append(t.Capabilities, parley.Capability(cap))
	}
	return t, nil
}
