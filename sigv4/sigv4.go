// Package sigv4 verifies AWS Signature Version 4 on incoming requests, signed
// in the Authorization header or presigned in the query string.
//
// Verification runs in two steps so that nobody without credentials makes
// the server read a body: Begin checks everything the request line and
// headers carry (the form of the signature, its scope and date, that the
// access key exists) and the returned function then checks the signature
// over the body, once read.
//
// The canonical request is built here rather than by re-signing with the
// AWS SDK's signer: that signer cannot express some requests that are valid
// SigV4 (a signed "content-length: 0", or a signed header it ignores, such as
// user-agent). Its output is the reference the tests and the fuzz target
// compare against.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/httpbinding"
	"github.com/parley-chat/parley"
)

// Sentinel causes; the server maps them to the AWS error codes clients know.
var (
	ErrMissing    = errors.New("MissingAuthenticationTokenException")
	ErrIncomplete = errors.New("IncompleteSignatureException")
	ErrSignature  = errors.New("InvalidSignatureException")
	ErrUnknownKey = errors.New("UnrecognizedClientException")
)

// Keys finds the credential for an access key ID (KindNotFound if none).
type Keys interface {
	AccessKey(ctx context.Context, id string) (*parley.AccessKey, error)
}

// Refresher is Keys that may answer from memory (package cache): a
// signature that does not match is checked again with the key read anew,
// so that a rotated secret works at once.
type Refresher interface {
	Refresh(ctx context.Context, id string) (*parley.AccessKey, error)
}

// Verifier checks signatures against Keys.
type Verifier struct {
	Keys     Keys
	Services []string         // accepted signing names, e.g. "ivschat", "chime"
	Now      func() time.Time // zero means time.Now
	MaxSkew  time.Duration    // zero means 15 minutes, as AWS allows
	// Regions, if set, are the only regions a credential may be scoped to;
	// others are refused as AWS refuses a region its endpoint does not serve.
	Regions []string

	// Insecure accepts any credentials without checking them: the account
	// is taken from a 12-digit access key ID, else InsecureAccount. It exists
	// for local development only and is never on by default.
	Insecure        bool
	InsecureAccount string
	InsecureRegion  string
}

const (
	algorithm  = "AWS4-HMAC-SHA256"
	amzDate    = "20060102T150405Z"
	scopeDate  = "20060102"
	terminator = "aws4_request"
	// maxPresignExpiry is the longest X-Amz-Expires AWS accepts (7 days).
	maxPresignExpiry = 7 * 24 * 60 * 60
)

var (
	regionPattern  = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

func fail(cause error, format string, args ...any) error {
	return &parley.Error{Kind: parley.KindUnauthenticated, Message: fmt.Sprintf(format, args...), Err: cause}
}

// auth is a request's signature, from the Authorization header or the query.
type auth struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
	amzDate                      string // X-Amz-Date
	presigned                    bool
	expires                      int // X-Amz-Expires, seconds; presigned only
}

// parseCredential splits <key>/<date>/<region>/<service>/aws4_request.
func (a *auth) parseCredential(v string) error {
	f := strings.Split(v, "/")
	if len(f) != 5 || f[4] != terminator {
		return fail(ErrIncomplete, "Credential must have the form <key>/<date>/<region>/<service>/aws4_request")
	}
	a.keyID, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
	return nil
}

func parseHeader(h string) (auth, error) {
	var a auth
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return a, fail(ErrIncomplete, "Authorization header requires the %s algorithm", algorithm)
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if err := a.parseCredential(v); err != nil {
				return a, err
			}
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.keyID == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return a, fail(ErrIncomplete, "Authorization header requires Credential, SignedHeaders and Signature")
	}
	return a, nil
}

func parseQuery(q url.Values) (auth, error) {
	var a auth
	a.presigned = true
	if q.Get("X-Amz-Algorithm") != algorithm {
		return a, fail(ErrIncomplete, "X-Amz-Algorithm must be %s", algorithm)
	}
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if q.Get(k) == "" {
			return a, fail(ErrIncomplete, "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date'. Re-examine the query-string parameters.")
		}
	}
	if err := a.parseCredential(q.Get("X-Amz-Credential")); err != nil {
		return a, err
	}
	a.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	a.signature = q.Get("X-Amz-Signature")
	a.amzDate = q.Get("X-Amz-Date")
	if e := q.Get("X-Amz-Expires"); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil || n < 1 || n > maxPresignExpiry {
			return a, fail(ErrIncomplete, "X-Amz-Expires must be a number of seconds from 1 to %d", maxPresignExpiry)
		}
		a.expires = n
	}
	return a, nil
}

// parse finds the signature of r, wherever it is; ok is false when there is none.
func parse(r *http.Request) (a auth, ok bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		a, err = parseHeader(h)
		a.amzDate = r.Header.Get("X-Amz-Date")
		return a, true, err
	}
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	if qerr != nil || (q.Get("X-Amz-Signature") == "" && q.Get("X-Amz-Credential") == "" && q.Get("X-Amz-Algorithm") == "") {
		return a, false, nil
	}
	a, err = parseQuery(q)
	return a, true, err
}

// KeyID returns the access key ID r claims to be signed with, if any, for
// logging a refused request.
func KeyID(r *http.Request) string {
	a, _, _ := parse(r)
	return a.keyID
}

// Finish verifies a request's signature over its body.
type Finish func(body []byte) (parley.Principal, error)

// Verify authenticates r, whose body has already been read into body. It
// returns the caller or an *parley.Error of KindUnauthenticated whose cause
// is one of the sentinel errors above.
func (v *Verifier) Verify(r *http.Request, body []byte) (parley.Principal, error) {
	finish, err := v.Begin(r)
	if err != nil {
		return parley.Principal{}, err
	}
	return finish(body)
}

// Begin checks what the request line and headers say of r without reading
// its body: the signature's form, scope and date, and that its access key
// exists. The returned Finish checks the signature itself.
func (v *Verifier) Begin(r *http.Request) (Finish, error) {
	a, signed, err := parse(r)
	if !signed {
		if v.Insecure {
			p := parley.Principal{Scope: parley.Scope{AccountID: v.InsecureAccount, Region: v.InsecureRegion}}
			return func([]byte) (parley.Principal, error) { return p, nil }, nil
		}
		return nil, fail(ErrMissing, "Missing Authentication Token")
	}
	if err != nil {
		return nil, err
	}
	if !regionPattern.MatchString(a.region) || (!v.Insecure && len(v.Regions) > 0 && !slices.Contains(v.Regions, a.region)) {
		return nil, fail(ErrSignature, "Credential should be scoped to a valid region, not '%s'. ", a.region)
	}
	if !slices.Contains(v.Services, a.service) {
		return nil, fail(ErrSignature, "Credential should be scoped to correct service: %s. ", strings.Join(v.Services, " or "))
	}
	p := parley.Principal{AccessKeyID: a.keyID, Scope: parley.Scope{Region: a.region}, Service: a.service}
	if v.Insecure {
		p.AccountID = v.InsecureAccount
		if accountPattern.MatchString(a.keyID) {
			p.AccountID = a.keyID
		}
		return func([]byte) (parley.Principal, error) { return p, nil }, nil
	}
	// Parley issues long-term keys only: a session token means temporary
	// credentials from STS, which it cannot have issued.
	if r.Header.Get("X-Amz-Security-Token") != "" || r.URL.Query().Get("X-Amz-Security-Token") != "" {
		return nil, fail(ErrUnknownKey, "The security token included in the request is invalid.")
	}

	if !slices.Contains(a.signedHeaders, "host") || (!a.presigned && !slices.Contains(a.signedHeaders, "x-amz-date")) {
		return nil, fail(ErrIncomplete, "SignedHeaders must include host and x-amz-date")
	}
	at, err := time.Parse(amzDate, a.amzDate)
	if err != nil {
		return nil, fail(ErrIncomplete, "X-Amz-Date must be a date of the form %s", amzDate)
	}
	if at.Format(scopeDate) != a.date {
		return nil, fail(ErrSignature, "Credential should be scoped to a valid date: %s", at.Format(scopeDate))
	}
	if err := v.checkTime(a, at); err != nil {
		return nil, err
	}

	key, err := v.Keys.AccessKey(r.Context(), a.keyID)
	if parley.KindOf(err) == parley.KindNotFound || (err == nil && key.Secret == "") {
		return nil, fail(ErrUnknownKey, "The security token included in the request is invalid.")
	}
	if err != nil {
		return nil, err
	}
	p.AccountID = key.AccountID
	return func(body []byte) (parley.Principal, error) {
		sum := sha256.Sum256(body)
		payloadHash := hex.EncodeToString(sum[:])
		if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != payloadHash {
			return parley.Principal{}, fail(ErrSignature, "The provided x-amz-content-sha256 header does not match the computed hash of the body")
		}
		creq, err := canonicalRequest(r, a, payloadHash)
		if err != nil {
			return parley.Principal{}, err
		}
		want := signature(key.Secret, a, at, creq)
		if !hmac.Equal([]byte(want), []byte(a.signature)) {
			if rk, ok := v.Keys.(Refresher); ok {
				if fresh, err := rk.Refresh(r.Context(), a.keyID); err == nil && fresh.Secret != "" && fresh.Secret != key.Secret &&
					fresh.AccountID == key.AccountID && hmac.Equal([]byte(signature(fresh.Secret, a, at, creq)), []byte(a.signature)) {
					return p, nil
				}
			}
			return parley.Principal{}, fail(ErrSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
		}
		return p, nil
	}, nil
}

// checkTime refuses a signature outside its validity, with AWS's messages.
func (v *Verifier) checkTime(a auth, at time.Time) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	now = now.UTC()
	skew := v.MaxSkew
	if skew == 0 {
		skew = 15 * time.Minute
	}
	mins := fmt.Sprintf("%d min.", int(skew/time.Minute))
	if at.Sub(now) > skew {
		return fail(ErrSignature, "Signature not yet current: %s is still later than %s (%s + %s)",
			at.Format(amzDate), now.Add(skew).Format(amzDate), now.Format(amzDate), mins)
	}
	if a.presigned && a.expires > 0 {
		if end := at.Add(time.Duration(a.expires) * time.Second); now.After(end) {
			return fail(ErrSignature, "Signature expired: %s is now earlier than %s (%s - %d sec.)",
				end.Format(amzDate), now.Format(amzDate), now.Format(amzDate), a.expires)
		}
		return nil
	}
	if now.Sub(at) > skew {
		return fail(ErrSignature, "Signature expired: %s is now earlier than %s (%s - %s)",
			at.Format(amzDate), now.Add(-skew).Format(amzDate), now.Format(amzDate), mins)
	}
	return nil
}

// canonicalRequest is SigV4's canonical form of r as the client sent it.
func canonicalRequest(r *http.Request, a auth, payloadHash string) (string, error) {
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	if r.RequestURI == "" { // a request built in process, not read from the wire
		rawPath, rawQuery = r.URL.EscapedPath(), r.URL.RawQuery
	}
	if rawPath == "" {
		rawPath = "/"
	}
	if !strings.HasPrefix(rawPath, "/") {
		u, err := url.ParseRequestURI(r.RequestURI)
		if err != nil {
			return "", fail(ErrSignature, "request URI cannot be parsed")
		}
		rawPath = u.EscapedPath()
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	// Services other than S3 encode the path a second time.
	b.WriteString(httpbinding.EscapePath(rawPath, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(rawQuery, a.presigned))
	b.WriteByte('\n')
	for _, name := range a.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// canonicalQuery sorts the query's pairs by key, then value, each strictly
// URI-encoded; a presigned request's signature is not part of what it signs.
func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, v = unescape(k), unescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{httpbinding.EscapePath(k, true), httpbinding.EscapePath(v, true)})
	}
	// By key, then value: sorting "k=v" strings would put "00=" before "0=".
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// headerValue is a signed header's canonical value: its values trimmed,
// inner runs of spaces collapsed, joined by commas.
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "content-length":
		values = r.Header.Values("Content-Length")
		if len(values) == 0 && r.ContentLength >= 0 {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		values = r.TransferEncoding // the server moves it out of Header
	default:
		values = r.Header.Values(name)
	}
	out := make([]string, len(values)) // values may be the request's own slice
	for i, v := range values {
		out[i] = stripSpaces(v)
	}
	return strings.Join(out, ",")
}

// stripSpaces trims spaces and collapses inner runs of them to one.
func stripSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	prev := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && prev {
			continue
		}
		prev = s[i] == ' '
		b.WriteByte(s[i])
	}
	return b.String()
}

// signature is the hex HMAC of the string to sign under the derived key.
func signature(secret string, a auth, at time.Time, creq string) string {
	sum := sha256.Sum256([]byte(creq))
	scope := a.date + "/" + a.region + "/" + a.service + "/" + terminator
	toSign := algorithm + "\n" + at.Format(amzDate) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	k := hmacSHA256([]byte("AWS4"+secret), a.date)
	k = hmacSHA256(k, a.region)
	k = hmacSHA256(k, a.service)
	k = hmacSHA256(k, terminator)
	return hex.EncodeToString(hmacSHA256(k, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
