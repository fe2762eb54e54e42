package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
