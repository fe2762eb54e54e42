package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/smithy-go"
	"github.com/parley-chat/parley"
)

const (
	testKeyID   = "AKIAPARLEYTEST000001"
	testSecret  = "parley/test/secret/key/0000000000000001"
	testAccount = "123456789012"
	testRegion  = "us-east-1"
)

// MustRunMain starts a parley server on a free port with its data in a
// temporary directory, throttling and the per-address handshake rate off
// (every test client shares 127.0.0.1) unless configure turns them on.
func MustRunMain(t *testing.T, configure ...func(*Config)) *Main {
	t.Helper()
	return MustRunMainClock(t, nil, configure...)
}

// MustRunMainClock is MustRunMain with the server's clock set (nil: the system clock).
func MustRunMainClock(t *testing.T, clock parley.Clock, configure ...func(*Config)) *Main {
	t.Helper()
	m := NewMain()
	if clock != nil {
		m.Clock = clock
	}
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = filepath.Join(t.TempDir(), "data")
	m.Config.AccessKeyID, m.Config.SecretAccessKey, m.Config.AccountID = testKeyID, testSecret, testAccount
	m.Config.ThrottleScale = 0
	m.Config.HandshakeRate = 0
	for _, f := range configure {
		f(&m.Config)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func ctx() context.Context { return context.Background() }

// awsConfig returns SDK config for a credential and region, with retries off
// so that error tests see the first answer.
func awsConfig(keyID, secret, region string) aws.Config {
	return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1}
}

// IVS returns an ivschat client for m with the test credential.
func IVS(m *Main) *ivschat.Client { return IVSAs(m, testKeyID, testSecret, testRegion) }

// IVSAs returns an ivschat client for m with any credential and region.
func IVSAs(m *Main, keyID, secret, region string) *ivschat.Client {
	return ivschat.NewFromConfig(awsConfig(keyID, secret, region), func(o *ivschat.Options) { o.BaseEndpoint = aws.String(m.URL) })
}

// wantAPIError asserts err is an AWS API error with the given code and
// returns it, for errors.As checks on typed errors.
func wantAPIError(t *testing.T, what string, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("%s: code = %s (%v), want %s", what, ae.ErrorCode(), err, code)
	}
	return ae
}

// must returns v, failing the test if err is set: must(c.Op(...))(t, "Op").
func must[T any](v T, err error) func(t *testing.T, what string) T {
	return func(t *testing.T, what string) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// rawResponse is a raw HTTP answer.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// signedRequest sends a raw request to m signed with the test credential for service.
func signedRequest(t *testing.T, m *Main, method, path string, body []byte, service string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, m.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return do(t, sign(t, req, body, service, time.Now()))
}

// sign signs req with the test credential as of at, over payload (which
// need not be the body req carries).
func sign(t *testing.T, req *http.Request, payload []byte, service string, at time.Time) *http.Request {
	t.Helper()
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(ctx(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, hex.EncodeToString(sum[:]), service, testRegion, at); err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
