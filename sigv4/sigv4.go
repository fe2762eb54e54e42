// Package sigv4 verifies AWS Signature Version 4 on incoming requests.
//
// Rather than re-implementing canonicalisation, it rebuilds the request from
// exactly the headers the client signed and has the AWS SDK's own v4 signer
// sign it with the stored secret; the request is authentic when both
// signatures match (compared in constant time).
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
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

// Verifier checks signatures against Keys.
type Verifier struct {
	Keys     Keys
	Services []string         // accepted signing names, e.g. "ivschat", "chime"
	Now      func() time.Time // zero means time.Now
	MaxSkew  time.Duration    // zero means 15 minutes, as AWS allows

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
)

var (
	regionPattern  = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

func fail(cause error, format string, args ...any) error {
	return &parley.Error{Kind: parley.KindUnauthenticated, Message: fmt.Sprintf(format, args...), Err: cause}
}

// authHeader is the parsed Authorization header.
type authHeader struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

func parseAuth(h string) (authHeader, error) {
	var a authHeader
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return a, fail(ErrIncomplete, "Authorization header requires the %s algorithm", algorithm)
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != terminator {
				return a, fail(ErrIncomplete, "Credential must have the form <key>/<date>/<region>/<service>/aws4_request")
			}
			a.keyID, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
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

// Verify authenticates r, whose body has already been read into body. It
// returns the caller or an *parley.Error of KindUnauthenticated whose cause
// is one of the sentinel errors above.
func (v *Verifier) Verify(r *http.Request, body []byte) (parley.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if v.Insecure {
			return parley.Principal{Scope: parley.Scope{AccountID: v.InsecureAccount, Region: v.InsecureRegion}, Service: ""}, nil
		}
		return parley.Principal{}, fail(ErrMissing, "Missing Authentication Token")
	}
	a, err := parseAuth(h)
	if err != nil {
		return parley.Principal{}, err
	}
	if !regionPattern.MatchString(a.region) {
		return parley.Principal{}, fail(ErrSignature, "Credential should be scoped to a valid region, not '%s'", a.region)
	}
	if !v.serviceOK(a.service) {
		return parley.Principal{}, fail(ErrSignature, "Credential should be scoped to correct service: %s", strings.Join(v.Services, " or "))
	}
	p := parley.Principal{AccessKeyID: a.keyID, Scope: parley.Scope{Region: a.region}, Service: a.service}
	if v.Insecure {
		p.AccountID = v.InsecureAccount
		if accountPattern.MatchString(a.keyID) {
			p.AccountID = a.keyID
		}
		return p, nil
	}

	signed := map[string]bool{}
	for _, name := range a.signedHeaders {
		signed[name] = true
	}
	if !signed["host"] || !signed["x-amz-date"] {
		return parley.Principal{}, fail(ErrIncomplete, "SignedHeaders must include host and x-amz-date")
	}
	at, err := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return parley.Principal{}, fail(ErrIncomplete, "X-Amz-Date must be a date of the form %s", amzDate)
	}
	if at.Format(scopeDate) != a.date {
		return parley.Principal{}, fail(ErrSignature, "Credential should be scoped to a valid date: %s", at.Format(scopeDate))
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = 15 * time.Minute
	}
	if d := now.Sub(at); d > skew || d < -skew {
		return parley.Principal{}, fail(ErrSignature, "Signature expired: %s is now earlier than %s (%s - %s.)",
			at.Format(amzDate), now.Add(-skew).UTC().Format(amzDate), now.UTC().Format(amzDate), skew)
	}

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != payloadHash {
		return parley.Principal{}, fail(ErrSignature, "The provided x-amz-content-sha256 header does not match the computed hash of the body")
	}

	key, err := v.Keys.AccessKey(r.Context(), a.keyID)
	if parley.KindOf(err) == parley.KindNotFound {
		return parley.Principal{}, fail(ErrUnknownKey, "The security token included in the request is invalid.")
	}
	if err != nil {
		return parley.Principal{}, err
	}

	clone, err := rebuild(r, a.signedHeaders)
	if err != nil {
		return parley.Principal{}, err
	}
	creds := aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, clone, payloadHash, a.service, a.region, at); err != nil {
		return parley.Principal{}, parley.Internal("sigv4.Verify", err)
	}
	want, _ := parseAuth(clone.Header.Get("Authorization"))
	if !hmac.Equal([]byte(want.signature), []byte(a.signature)) {
		return parley.Principal{}, fail(ErrSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	p.AccountID = key.AccountID
	return p, nil
}

func (v *Verifier) serviceOK(s string) bool {
	for _, ok := range v.Services {
		if s == ok {
			return true
		}
	}
	return false
}

// rebuild returns a request carrying only what the client signed, as the
// client sent it: method, escaped path and query, host and signed headers.
func rebuild(r *http.Request, signedHeaders []string) (*http.Request, error) {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return nil, fail(ErrSignature, "request URI cannot be parsed")
	}
	clone := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "http", Host: r.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	for _, name := range signedHeaders {
		switch name {
		case "host":
		case "content-length":
			// The signer signs content-length from the field, and only when positive.
			n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
			if err != nil {
				n = r.ContentLength
			}
			clone.ContentLength = n
		default:
			clone.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	return clone, nil
}
