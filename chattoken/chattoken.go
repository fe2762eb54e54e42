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

// Every token starts with a byte naming what it is, so that a chat token
// can never be taken for a device session or the other way round (the byte
// is also authenticated as additional data).
const (
	kindChat    byte = 1
	kindSession byte = 2
)

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
	return s.seal(kindChat, c)
}

func (s *Sealer) seal(kind byte, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead()+1)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := append([]byte{kind}, s.aead.Seal(nonce, nonce, plain, []byte{kind})...)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// open authenticates a token of kind and decodes its claims into v.
func (s *Sealer) open(kind byte, token string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < 1+ns+s.aead.Overhead() || raw[0] != kind {
		return ErrInvalid
	}
	plain, err := s.aead.Open(nil, raw[1:1+ns], raw[1+ns:], []byte{kind})
	if err != nil {
		return ErrInvalid
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return ErrInvalid
	}
	return nil
}

// ErrInvalid means the string is not a token this server minted.
var ErrInvalid = errors.New("chattoken: invalid token")

// Open returns the grant sealed in token, or ErrInvalid. It does not check
// expiry or single use; the caller does, against its clock and Store.
func (s *Sealer) Open(token string) (*parley.ChatToken, error) {
	var c claims
	if err := s.open(kindChat, token, &c); err != nil {
		return nil, err
	}
	t := &parley.ChatToken{ID: c.ID, Room: parley.Scope{AccountID: c.Account, Region: c.Region}, RoomID: c.Room, UserID: c.User,
		Attributes: c.Attrs, IssueTime: time.UnixMilli(c.Issued).UTC(), TokenExpires: time.UnixMilli(c.TokExp).UTC(),
		SessionExpires: time.UnixMilli(c.SessExp).UTC()}
	for _, cap := range c.Caps {
		t.Capabilities = append(t.Capabilities, parley.Capability(cap))
	}
	return t, nil
}

// sessionClaims is the sealed payload of a device session.
type sessionClaims struct {
	ID      string `json:"i"`
	Aws     string `json:"a"`
	Account string `json:"c"`
	User    string `json:"u"`
	Epoch   int64  `json:"e"`
	Issued  int64  `json:"n"`
	Expires int64  `json:"x"`
}

// SealSession returns the token of a device session.
func (s *Sealer) SealSession(d *parley.DeviceSession) (string, error) {
	return s.seal(kindSession, sessionClaims{ID: d.ID, Aws: d.AwsAccountID, Account: d.AccountID, User: d.UserID, Epoch: d.Epoch,
		Issued: d.IssueTime.UnixMilli(), Expires: d.Expires.UnixMilli()})
}

// OpenSession returns the device session sealed in token, or ErrInvalid. The
// caller checks expiry and that the user's session epoch still matches.
func (s *Sealer) OpenSession(token string) (*parley.DeviceSession, error) {
	var c sessionClaims
	if err := s.open(kindSession, token, &c); err != nil {
		return nil, err
	}
	return &parley.DeviceSession{ID: c.ID, AwsAccountID: c.Aws, AccountID: c.Account, UserID: c.User, Epoch: c.Epoch,
		IssueTime: time.UnixMilli(c.Issued).UTC(), Expires: time.UnixMilli(c.Expires).UTC()}, nil
}
