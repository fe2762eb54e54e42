package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// cookieName is the console's session cookie. It holds the session sealed
// with AES-GCM under a key every node shares (from the store), so any node
// behind a load balancer serves any session, and the browser can neither
// read nor alter it; the secret access key is never in it.
const cookieName = "parley_console"

// session is who is signed in, in which region, until when.
type session struct {
	KeyID   string `json:"k"`
	Account string `json:"a"`
	Region  string `json:"r"`
	Expires int64  `json:"e"` // Unix seconds
}

// sealer seals sessions into cookie values.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead}, nil
}

func newKey() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

// sessionAD binds sealed values to their use, so that no other sealed value
// of parley's could pass for a session.
var sessionAD = []byte("parley console session v1")

func (s *sealer) seal(v session) string {
	b, _ := json.Marshal(v)
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, b, sessionAD))
}

func (s *sealer) open(value string) (session, bool) {
	var v session
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < s.aead.NonceSize() {
		return v, false
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], sessionAD)
	if err != nil || json.Unmarshal(plain, &v) != nil {
		return v, false
	}
	return v, true
}

// regionPattern is the shape of an AWS region name.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// dummySecret is compared against when the key ID is unknown, so that an
// unknown key takes as long to refuse as a wrong secret.
var dummySecret = sha256.Sum256([]byte("parley console: no such key"))

// checkSecret compares secrets in constant time (of their hashes, so that
// the length of the real one does not show either).
func checkSecret(got string, want *parley.AccessKey) bool {
	g := sha256.Sum256([]byte(got))
	w := dummySecret
	if want != nil {
		w = sha256.Sum256([]byte(want.Secret))
	}
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != nil
}

// signIn checks an access key and its secret and returns the session.
func (c *Console) signIn(ctx context.Context, keyID, secret, region string) (session, error) {
	if region == "" {
		region = c.cfg.Region
	}
	if !regionPattern.MatchString(region) {
		return session{}, parley.Invalid("region", "is not an AWS region name")
	}
	k, err := c.store.AccessKey(ctx, keyID)
	if err != nil && parley.KindOf(err) != parley.KindNotFound {
		return session{}, err
	}
	if !checkSecret(secret, k) {
		return session{}, parley.Errorf(parley.KindUnauthenticated, "the access key ID or the secret access key is wrong")
	}
	return session{KeyID: k.ID, Account: k.AccountID, Region: region, Expires: time.Now().Add(c.cfg.SessionLifetime).Unix()}, nil
}

// current returns the request's session: sealed by a node of this
// cluster, unexpired, and of an access key that still exists (deleting a
// key ends its console sessions).
func (c *Console) current(r *http.Request) (session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, errNoSession
	}
	s, ok := c.sealer.open(ck.Value)
	if !ok || time.Now().Unix() >= s.Expires {
		return session{}, errNoSession
	}
	k, err := c.store.AccessKey(r.Context(), s.KeyID)
	if err != nil {
		if parley.KindOf(err) == parley.KindNotFound {
			return session{}, errNoSession
		}
		return session{}, err
	}
	if k.AccountID != s.Account {
		return session{}, errNoSession
	}
	return s, nil
}

var errNoSession = parley.Errorf(parley.KindUnauthenticated, "not signed in")

// setCookie sends the session cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it), Secure behind TLS.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"})
}

// CSRFHeader must accompany every console API request that changes
// anything. A page of another site can only send it after a CORS
// preflight, which the console never grants.
const CSRFHeader = "X-Parley-Console"

// checkSameOrigin refuses requests another site's page could have made:
// a browser's Sec-Fetch-Site or Origin naming another site, and, for
// anything but reads, a request without CSRFHeader.
func checkSameOrigin(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errCrossSite
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return errCrossSite
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get(CSRFHeader) != "1" {
		return errCrossSite
	}
	return nil
}

var errCrossSite = parley.Errorf(parley.KindForbidden, "cross-site request refused: the console's API answers only its own pages")

// isCrossSite reports whether err is the refusal of checkSameOrigin.
func isCrossSite(err error) bool { return errors.Is(err, errCrossSite) }
