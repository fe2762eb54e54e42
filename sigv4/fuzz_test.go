package sigv4_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/parley-chat/parley"
)

// FuzzVerifyForged verifies requests whose Authorization header, date,
// query and body are anything at all. None may be accepted but the one
// request the seed genuinely signed (the fuzzer finds it again by dropping
// the seed's unsigned query, or leaving only separators, in whatever
// spelling of the header the parser allows): nobody without the secret can
// sign (and nothing may panic).
func FuzzVerifyForged(f *testing.F) {
	r, body := signedForFuzz(f, "POST", "/GetRoom", "", "{}", "ivschat")
	genuineAuthz, genuineDate := r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date")
	// part returns the value of key= in an Authorization header.
	part := func(authz, key string) string {
		i := strings.Index(authz, key+"=")
		if i < 0 {
			return ""
		}
		v, _, _ := strings.Cut(authz[i+len(key)+1:], ",")
		return strings.TrimSpace(v)
	}
	genuine := func(authz, date, query, b string) bool {
		for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
			if part(authz, k) != part(genuineAuthz, k) {
				return false
			}
		}
		// A query of bare separators ("&") has no parameters: it canonicalises
		// as the empty query the seed signed, and means the same request.
		q, err := url.ParseQuery(query)
		return date == genuineDate && err == nil && len(q) == 0 && b == string(body)
	}
	// A genuine signature, on a request with a query it did not sign.
	f.Add(r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), "x=1", string(body))
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-west-2/ivschat/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261123T120000Z", "", "")
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261123%2Fus-west-2%2Fivschat%2Faws4_request&X-Amz-Date=20261123T120000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request,SignedHeaders=,Signature=", "x", "a=%zz&b", "\x00")
	f.Fuzz(func(t *testing.T, authz, date, query, body string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/GetRoom", strings.NewReader(body))
		r.URL.RawQuery = query
		r.RequestURI = "/GetRoom?" + query
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", date)
		if _, err := verifier().Verify(r, []byte(body)); err == nil {
			if genuine(authz, date, query, body) {
				return
			}
			t.Fatalf("forged request accepted: %q %q %q", authz, date, query)
		} else if parley.KindOf(err) != parley.KindUnauthenticated {
			t.Fatalf("error of kind %v: %v", parley.KindOf(err), err)
		}
	})
}

// FuzzVerifySigned signs any request with aws-sdk-go-v2's signer (in the
// Authorization header and presigned) and verifies it: what the SDK signs
// must be accepted, and the same request with another body refused. This
// holds the canonicalisation here to the SDK's.
func FuzzVerifySigned(f *testing.F) {
	f.Add(byte(0), "/CreateRoom", "", "x-amz-meta", "v", `{"name":"a"}`)
	f.Add(byte(1), "/tags/arn%3Aaws%3Aivschat%3Aus-west-2%3A123456789012%3Aroom%2FabcdEFGH1234", "tagKeys=a%20b&tagKeys=c", "x-custom", "  a   b ", "")
	f.Add(byte(2), "/accounts/a%2Fb/users", "operation=suspend&max-results=10", "content-type", "application/json", "{}")
	f.Add(byte(3), "/a b/ü", "x=1+2&y=%7e", "x-amz-target", "", "\x00\xff")
	f.Fuzz(func(t *testing.T, m byte, path, query, hname, hvalue, body string) {
		method := []string{"GET", "POST", "PUT", "DELETE"}[int(m)%4]
		u, err := url.Parse("http://127.0.0.1:8080" + path)
		if err != nil || u.Path == "" || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
			return
		}
		if _, err := url.ParseQuery(query); err != nil || strings.ContainsAny(query, "# ") {
			return
		}
		req, err := http.NewRequest(method, u.String(), strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL.RawQuery = query
		if !validHeader(hname, hvalue) {
			return
		}
		req.Header.Set(hname, hvalue)
		ctx := context.Background()
		creds := aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
		// As it arrives: the wire form of the request line, the signed headers.
		arrive := func(target string, h http.Header, b string) *http.Request {
			r := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, strings.NewReader(b))
			r.RequestURI = target
			for k, v := range h {
				r.Header[k] = v
			}
			return r
		}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, sha256hex(body), "ivschat", "us-west-2", now); err != nil {
			return
		}
		target := req.URL.RequestURI()
		if _, err := verifier().Verify(arrive(target, req.Header, body), []byte(body)); err != nil {
			t.Fatalf("SDK-signed %s %s not accepted: %v", method, target, err)
		}
		if _, err := verifier().Verify(arrive(target, req.Header, body+"x"), []byte(body+"x")); err == nil {
			t.Fatalf("SDK-signed %s %s accepted with another body", method, target)
		}

		req.Header.Del("Authorization")
		req.Header.Del("X-Amz-Date")
		signedURL, hdr, err := v4.NewSigner().PresignHTTP(ctx, creds, req, sha256hex(body), "ivschat", "us-west-2", now)
		if err != nil {
			return
		}
		pu, _ := url.Parse(signedURL)
		if _, err := verifier().Verify(arrive(pu.RequestURI(), hdr, body), []byte(body)); err != nil {
			t.Fatalf("SDK-presigned %s %s not accepted: %v", method, pu.RequestURI(), err)
		}
	})
}

// validHeader reports whether a fuzzed header is one an HTTP request could
// carry and the signer would sign as it is.
func validHeader(name, value string) bool {
	if name == "" || len(name) > 64 || strings.ContainsAny(value, "\r\n\x00") {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	for _, c := range value {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	switch name {
	case "host", "authorization", "x-amz-date", "content-length", "user-agent", "expect", "transfer-encoding", "x-amz-content-sha256", "x-amz-security-token", "x-amzn-trace-id":
		return false
	}
	return true
}

func signedForFuzz(f *testing.F, method, target, query, body, service string) (*http.Request, []byte) {
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, strings.NewReader(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}, r, sha256hex(body), service, "us-west-2", now.Add(-time.Minute)); err != nil {
		f.Fatal(err)
	}
	return r, []byte(body)
}
