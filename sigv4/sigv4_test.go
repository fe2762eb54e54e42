package sigv4_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sigv4"
)

type keys map[string]*parley.AccessKey

func (k keys) AccessKey(_ context.Context, id string) (*parley.AccessKey, error) {
	if key, ok := k[id]; ok {
		return key, nil
	}
	return nil, parley.Errorf(parley.KindNotFound, "no key")
}

var (
	now  = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	key  = &parley.AccessKey{ID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", AccountID: "123456789012"}
	ring = keys{key.ID: key}
)

func verifier() *sigv4.Verifier {
	return &sigv4.Verifier{Keys: ring, Services: []string{"ivschat", "chime"}, Now: func() time.Time { return now }}
}

// signed builds a server-side request as the SDK signer would sign it.
func signed(t *testing.T, method, target, body, service string, secret string, at time.Time) (*http.Request, []byte) {
	t.Helper()
	out := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, strings.NewReader(body))
	out.Header.Set("Content-Type", "application/json")
	h := sha256hex(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: secret}, out, h, service, "us-west-2", at); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body = io.NopCloser(bytes.NewReader(b))
	out.RequestURI = target
	return out, b
}

func TestVerifyOK(t *testing.T) {
	for _, target := range []string{"/CreateRoom", "/tags/arn%3Aaws%3Aivschat%3Aus-west-2%3A123456789012%3Aroom%2FabcdEFGH1234?tagKeys=b&tagKeys=a%20b", "/accounts/a%20b%2Fc/users?operation=suspend"} {
		r, body := signed(t, "POST", target, `{"name":"x"}`, "ivschat", key.Secret, now.Add(-time.Minute))
		p, err := verifier().Verify(r, body)
		if err != nil {
			t.Fatalf("Verify(%s): %v", target, err)
		}
		if p.AccountID != "123456789012" || p.Region != "us-west-2" || p.Service != "ivschat" || p.AccessKeyID != key.ID {
			t.Fatalf("Principal = %+v", p)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	tests := []struct {
		name  string
		req   func() (*http.Request, []byte)
		cause error
	}{
		{"unsigned", func() (*http.Request, []byte) {
			return httptest.NewRequest("POST", "/GetRoom", nil), nil
		}, sigv4.ErrMissing},
		{"wrong secret", func() (*http.Request, []byte) {
			return signed(t, "POST", "/GetRoom", "{}", "ivschat", "not-the-secret", now)
		}, sigv4.ErrSignature},
		{"tampered body", func() (*http.Request, []byte) {
			r, _ := signed(t, "POST", "/GetRoom", `{"identifier":"a"}`, "ivschat", key.Secret, now)
			return r, []byte(`{"identifier":"b"}`)
		}, sigv4.ErrSignature},
		{"tampered path", func() (*http.Request, []byte) {
			r, b := signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now)
			r.RequestURI = "/DeleteRoom"
			return r, b
		}, sigv4.ErrSignature},
		{"tampered signed header", func() (*http.Request, []byte) {
			r, b := signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now)
			r.Header.Set("Content-Type", "text/plain")
			return r, b
		}, sigv4.ErrSignature},
		{"expired", func() (*http.Request, []byte) {
			return signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now.Add(-16*time.Minute))
		}, sigv4.ErrSignature},
		{"future", func() (*http.Request, []byte) {
			return signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now.Add(16*time.Minute))
		}, sigv4.ErrSignature},
		{"other service", func() (*http.Request, []byte) {
			return signed(t, "POST", "/GetRoom", "{}", "s3", key.Secret, now)
		}, sigv4.ErrSignature},
		{"unknown key", func() (*http.Request, []byte) {
			r, b := signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIDEXAMPLE", "AKIDUNKNOWN", 1))
			return r, b
		}, sigv4.ErrUnknownKey},
		{"garbage header", func() (*http.Request, []byte) {
			r := httptest.NewRequest("POST", "/GetRoom", nil)
			r.Header.Set("Authorization", "Bearer xyz")
			return r, nil
		}, sigv4.ErrIncomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := tt.req()
			_, err := verifier().Verify(r, body)
			if !errors.Is(err, tt.cause) || parley.KindOf(err) != parley.KindUnauthenticated {
				t.Fatalf("Verify err = %v, want %v (unauthenticated)", err, tt.cause)
			}
		})
	}
}

// Ensure the insecure development mode takes the account from the key and checks nothing else.
func TestInsecure(t *testing.T) {
	v := &sigv4.Verifier{Services: []string{"ivschat"}, Insecure: true, InsecureAccount: "000000000000", InsecureRegion: "us-east-1"}
	r, b := signed(t, "POST", "/GetRoom", "{}", "ivschat", "whatever", now.Add(-48*time.Hour))
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIDEXAMPLE", "111122223333", 1))
	p, err := v.Verify(r, b)
	if err != nil || p.AccountID != "111122223333" {
		t.Fatalf("Verify = %+v, %v; want account 111122223333", p, err)
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Ensure what AWS answers for temporary credentials, a future clock and a
// region its endpoint does not serve.
func TestVerifyAWSAnswers(t *testing.T) {
	tests := []struct {
		name    string
		req     func() (*http.Request, []byte)
		cause   error
		message string
	}{
		{"session token", func() (*http.Request, []byte) {
			r := httptest.NewRequest("POST", "http://127.0.0.1:8080/GetRoom", strings.NewReader("{}"))
			r.RequestURI = "/GetRoom"
			v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret, SessionToken: "made-up"}, r, sha256hex("{}"), "ivschat", "us-west-2", now)
			return r, []byte("{}")
		}, sigv4.ErrUnknownKey, "The security token included in the request is invalid."},
		{"future", func() (*http.Request, []byte) {
			return signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now.Add(20*time.Minute))
		}, sigv4.ErrSignature, "Signature not yet current: 20261123T122000Z is still later than 20261123T121500Z (20261123T120000Z + 15 min.)"},
		{"past", func() (*http.Request, []byte) {
			return signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now.Add(-20*time.Minute))
		}, sigv4.ErrSignature, "Signature expired: 20261123T114000Z is now earlier than 20261123T114500Z (20261123T120000Z - 15 min.)"},
		{"unknown region", func() (*http.Request, []byte) {
			r, b := signed(t, "POST", "/GetRoom", "{}", "ivschat", key.Secret, now)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-west-2/", "/xx-nowhere-1/", 1))
			return r, b
		}, sigv4.ErrSignature, "Credential should be scoped to a valid region, not 'xx-nowhere-1'. "},
		{"presigned past its expiry", func() (*http.Request, []byte) {
			return presigned(t, "POST", "/ListRooms", "{}", now.Add(-2*time.Minute), 60)
		}, sigv4.ErrSignature, "Signature expired: 20261123T115900Z is now earlier than 20261123T120000Z (20261123T120000Z - 60 sec.)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := tt.req()
			v := verifier()
			v.Regions = []string{"us-west-2", "eu-west-1"}
			_, err := v.Verify(r, body)
			if !errors.Is(err, tt.cause) || parley.AsError(err).Message != tt.message {
				t.Fatalf("Verify err = %v (%q), want %v %q", err, parley.AsError(err).Message, tt.cause, tt.message)
			}
		})
	}
}

// Ensure valid SigV4 the SDK's signer does not produce is accepted: a
// signed content-length of 0, a signed user-agent, presigned query strings.
func TestVerifyOtherSigners(t *testing.T) {
	t.Run("content-length 0", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://127.0.0.1:8080/accounts", nil)
		r.RequestURI = "/accounts"
		r.Header.Set("Content-Length", "0")
		r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
		r.Header.Set("Authorization", handSign(t, r, []string{"content-length", "host", "x-amz-date"}, "chime"))
		if _, err := verifier().Verify(r, nil); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("user-agent", func(t *testing.T) {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/ListRooms", nil)
		r.RequestURI = "/ListRooms"
		r.Header.Set("User-Agent", "curl/8  (x)")
		r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
		r.Header.Set("Authorization", handSign(t, r, []string{"host", "user-agent", "x-amz-date"}, "ivschat"))
		if _, err := verifier().Verify(r, nil); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
	for _, target := range []string{"/ListRooms", "/tags/arn%3Aaws%3Aivschat%3Aus-west-2%3A123456789012%3Aroom%2FabcdEFGH1234?tagKeys=b&tagKeys=a%20b"} {
		t.Run("presigned "+target, func(t *testing.T) {
			r, body := presigned(t, "POST", target, `{"maxResults":1}`, now.Add(-time.Minute), 300)
			p, err := verifier().Verify(r, body)
			if err != nil || p.AccountID != key.AccountID {
				t.Fatalf("Verify = %+v, %v", p, err)
			}
			r, _ = presigned(t, "POST", target, `{"maxResults":1}`, now.Add(-time.Minute), 300)
			if _, err := verifier().Verify(r, []byte(`{"maxResults":2}`)); !errors.Is(err, sigv4.ErrSignature) {
				t.Fatalf("Verify of another body = %v, want InvalidSignature", err)
			}
		})
	}
}

// Ensure Begin refuses unsigned and unknown-key requests without their body.
func TestBeginReadsNoBody(t *testing.T) {
	for _, auth := range []string{"", "AWS4-HMAC-SHA256 Credential=AKIDUNKNOWN/20261123/us-west-2/ivschat/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"} {
		r := httptest.NewRequest("POST", "/CreateRoom", nil)
		r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
		r.Header.Set("Authorization", auth)
		r.Body = io.NopCloser(poison{t})
		if _, err := verifier().Begin(r); parley.KindOf(err) != parley.KindUnauthenticated {
			t.Fatalf("Begin(%q) = %v, want unauthenticated", auth, err)
		}
	}
}

type poison struct{ t *testing.T }

func (p poison) Read([]byte) (int, error) { p.t.Fatal("body read"); return 0, io.EOF }

// presigned builds a server-side request presigned by the SDK's signer.
func presigned(t *testing.T, method, target, body string, at time.Time, expires int) (*http.Request, []byte) {
	t.Helper()
	in := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, strings.NewReader(body))
	q := in.URL.Query()
	q.Set("X-Amz-Expires", fmt.Sprint(expires))
	in.URL.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}, in, sha256hex(body), "ivschat", "us-west-2", at)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := url.Parse(u)
	out := httptest.NewRequest(method, u, strings.NewReader(body))
	out.RequestURI = parsed.RequestURI()
	return out, []byte(body)
}

// handSign signs r's headers as SigV4 prescribes, step by step, without the
// SDK (for what its signer cannot sign), over an empty body.
func handSign(t *testing.T, r *http.Request, headers []string, service string) string {
	t.Helper()
	var canon strings.Builder
	for _, h := range headers {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canon.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	creq := r.Method + "\n" + r.URL.EscapedPath() + "\n\n" + canon.String() + "\n" + strings.Join(headers, ";") + "\n" + sha256hex("")
	scope := now.Format("20060102") + "/us-west-2/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + now.Format("20060102T150405Z") + "\n" + scope + "\n" + sha256hex(creq)
	k := []byte("AWS4" + key.Secret)
	for _, part := range []string{now.Format("20060102"), "us-west-2", service, "aws4_request", toSign} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(part))
		k = m.Sum(nil)
	}
	return fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%x", key.ID, scope, strings.Join(headers, ";"), k)
}
