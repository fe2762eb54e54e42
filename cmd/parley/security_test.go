package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/parley-chat/parley/internal/testclock"
)

// Ensure one account never sees or touches another's rooms, and regions are apart.
func TestTenancy(t *testing.T) {
	m := MustRunMain(t)
	var out bytes.Buffer
	if err := run(ctx(), []string{"keys", "create", "--data", m.Config.DataDir, "--account-id", "210987654321",
		"--access-key-id", "AKIAOTHERACCOUNT0001", "--secret-access-key", "other-secret"}, &out, &out); err != nil {
		t.Fatalf("keys create: %v\n%s", err, out.String())
	}
	a, b := IVS(m), IVSAs(m, "AKIAOTHERACCOUNT0001", "other-secret", testRegion)
	room := must(a.CreateRoom(ctx(), &ivschat.CreateRoomInput{Name: aws.String("private")}))(t, "CreateRoom")

	// Account B, using A's ARN verbatim, and using its own account in the ARN.
	ownARN := strings.Replace(aws.ToString(room.Arn), testAccount, "210987654321", 1)
	for _, arn := range []string{aws.ToString(room.Arn), ownARN} {
		var nf *types.ResourceNotFoundException
		if _, err := b.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: aws.String(arn)}); !errors.As(err, &nf) {
			t.Fatalf("B GetRoom(%s) = %v, want ResourceNotFoundException", arn, err)
		}
		if _, err := b.DeleteRoom(ctx(), &ivschat.DeleteRoomInput{Identifier: aws.String(arn)}); !errors.As(err, &nf) {
			t.Fatalf("B DeleteRoom(%s) = %v, want ResourceNotFoundException", arn, err)
		}
		if _, err := b.CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: aws.String(arn), UserId: aws.String("x")}); !errors.As(err, &nf) {
			t.Fatalf("B CreateChatToken(%s) = %v, want ResourceNotFoundException", arn, err)
		}
		if _, err := b.TagResource(ctx(), &ivschat.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"x": "y"}}); !errors.As(err, &nf) {
			t.Fatalf("B TagResource(%s) = %v, want ResourceNotFoundException", arn, err)
		}
	}
	if list := must(b.ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "B ListRooms"); len(list.Rooms) != 0 {
		t.Fatalf("B ListRooms = %d rooms, want 0", len(list.Rooms))
	}
	// The same account in another region is another partition.
	eu := IVSAs(m, testKeyID, testSecret, "eu-west-1")
	if list := must(eu.ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "eu ListRooms"); len(list.Rooms) != 0 {
		t.Fatalf("eu-west-1 ListRooms = %d rooms, want 0", len(list.Rooms))
	}
	euRoom := must(eu.CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "eu CreateRoom")
	if !strings.HasPrefix(aws.ToString(euRoom.Arn), "arn:aws:ivschat:eu-west-1:"+testAccount+":room/") {
		t.Fatalf("eu room ARN = %s", aws.ToString(euRoom.Arn))
	}
	// A's room is untouched.
	if got := must(a.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: room.Arn}))(t, "A GetRoom"); len(got.Tags) != 0 {
		t.Fatalf("A's room tags = %v, want none", got.Tags)
	}
}

// Ensure unsigned, badly signed, expired and unknown-key requests are refused
// with the 403 errors AWS clients know.
func TestAuthentication(t *testing.T) {
	m := MustRunMain(t)
	tests := []struct {
		name   string
		client *ivschat.Client
		code   string
	}{
		{"wrong secret", IVSAs(m, testKeyID, "not-the-secret", testRegion), "InvalidSignatureException"},
		{"unknown key", IVSAs(m, "AKIANOBODY0000000000", testSecret, testRegion), "UnrecognizedClientException"},
		{"anonymous", ivschat.NewFromConfig(aws.Config{Region: testRegion, Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1},
			func(o *ivschat.Options) { o.BaseEndpoint = aws.String(m.URL) }), "MissingAuthenticationTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.ListRooms(ctx(), &ivschat.ListRoomsInput{})
			ae := wantAPIError(t, "ListRooms", err, tt.code)
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
				t.Fatalf("status = %v, want 403", err)
			}
			if ae.ErrorMessage() == "" {
				t.Fatal("error has no message")
			}
		})
	}
	raw := []struct {
		name    string
		body    string
		signed  string
		at      time.Time
		errType string
	}{
		{"clock 20 minutes behind", `{}`, `{}`, time.Now().Add(-20 * time.Minute), "InvalidSignatureException"},
		{"clock 20 minutes ahead", `{}`, `{}`, time.Now().Add(20 * time.Minute), "InvalidSignatureException"},
		{"body not the one signed", `{"name":"a"}`, `{"name":"b"}`, time.Now(), "InvalidSignatureException"},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", m.URL+"/CreateRoom", strings.NewReader(tt.body))
			resp := do(t, sign(t, req, []byte(tt.signed), "ivschat", tt.at))
			if resp.Status != http.StatusForbidden || resp.Header.Get("X-Amzn-Errortype") != tt.errType {
				t.Fatalf("got %d %s %s, want 403 %s", resp.Status, resp.Header.Get("X-Amzn-Errortype"), resp.Body, tt.errType)
			}
		})
	}
	if list := must(IVS(m).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms"); len(list.Rooms) != 0 {
		t.Fatalf("a refused request created a room: %+v", list.Rooms)
	}
}

// Ensure the documented quotas throttle with a ThrottlingException carrying
// the limit: typed where the model lists it (SendEvent), by code elsewhere.
func TestThrottling(t *testing.T) {
	// The buckets refill by parley's clock, pinned here: how fast the calls
	// go (the race detector, a loaded machine) does not matter.
	clock := testclock.New()
	m := MustRunMainClock(t, clock, func(c *Config) { c.ThrottleScale = 1 })
	c := IVS(m)
	created := 0
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		if _, err = c.CreateRoom(ctx(), &ivschat.CreateRoomInput{}); err == nil {
			created++
		}
	}
	wantAPIError(t, "CreateRoom past 5/s", err, "ThrottlingException")
	if created != 5 {
		t.Fatalf("%d CreateRoom calls passed before throttling, want 5 (a burst of one second)", created)
	}
	room := must(c.ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms") // its own bucket
	sent := 0
	var throttled *types.ThrottlingException
	for ; sent < 200 && throttled == nil; sent++ {
		_, err := c.SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Rooms[0].Arn, EventName: aws.String("e")})
		if err != nil && !errors.As(err, &throttled) {
			t.Fatalf("SendEvent: %v", err)
		}
	}
	if throttled == nil || sent != 101 || throttled.Limit != 100 || aws.ToString(throttled.ResourceId) == "" {
		t.Fatalf("SendEvent throttled at call %d: %+v, want the 101st with a ThrottlingException of limit 100", sent, throttled)
	}
	// A second later the bucket has refilled.
	clock.Advance(time.Second)
	must(c.SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Rooms[0].Arn, EventName: aws.String("e")}))(t, "SendEvent a second later")
}

// Ensure the insecure development mode is off by default and, when asked
// for, accepts any credential with the account taken from the key.
func TestInsecureDevAuth(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.InsecureDevAuth = true })
	c := IVSAs(m, "111122223333", "anything", "ap-south-1")
	room := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom")
	if !strings.HasPrefix(aws.ToString(room.Arn), "arn:aws:ivschat:ap-south-1:111122223333:room/") {
		t.Fatalf("ARN = %s, want account 111122223333 in ap-south-1", aws.ToString(room.Arn))
	}
	if d := DefaultConfig(); d.InsecureDevAuth {
		t.Fatal("insecure mode is on by default")
	}
}

// Ensure /healthz answers and /metrics counts requests by operation and status.
func TestHealthAndMetrics(t *testing.T) {
	m := MustRunMain(t)
	must(IVS(m).ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms")
	IVS(m).GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: aws.String(roomARN("missing00000"))})
	resp := do(t, mustRequest(t, "GET", m.URL+"/healthz"))
	if resp.Status != 200 || !strings.Contains(string(resp.Body), "ok") {
		t.Fatalf("/healthz = %d %s", resp.Status, resp.Body)
	}
	resp = do(t, mustRequest(t, "GET", m.URL+"/metrics"))
	for _, want := range []string{
		`parley_requests_total{api="ivschat",op="ListRooms",status="200"} 1`,
		`parley_requests_total{api="ivschat",op="GetRoom",status="404"} 1`,
		`parley_request_duration_seconds_bucket{api="ivschat",op="ListRooms"`,
	} {
		if !strings.Contains(string(resp.Body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Ensure the SigV4 cases AWS answers in its own way get its answers, end to
// end: temporary credentials, a signed content-length of 0, a clock ahead,
// a region AWS does not have, and presigned query strings.
func TestSigV4AsAWS(t *testing.T) {
	m := MustRunMain(t)
	sts := ivschat.NewFromConfig(aws.Config{Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "FwoGZXIvYXdzEBYaDmadeup")},
		func(o *ivschat.Options) { o.BaseEndpoint = aws.String(m.URL) })
	_, err := sts.ListRooms(ctx(), &ivschat.ListRoomsInput{})
	if ae := wantAPIError(t, "session token", err, "UnrecognizedClientException"); ae.ErrorMessage() != "The security token included in the request is invalid." {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err = IVSAs(m, testKeyID, testSecret, "xx-nowhere-1").ListRooms(ctx(), &ivschat.ListRoomsInput{})
	if ae := wantAPIError(t, "unknown region", err, "InvalidSignatureException"); !strings.Contains(ae.ErrorMessage(), "Credential should be scoped to a valid region") {
		t.Fatalf("message %q", ae.ErrorMessage())
	}

	req, _ := http.NewRequest("POST", m.URL+"/ListRooms", strings.NewReader("{}"))
	resp := do(t, sign(t, req, []byte("{}"), "ivschat", time.Now().Add(20*time.Minute)))
	if resp.Status != http.StatusForbidden || !strings.Contains(string(resp.Body), "Signature not yet current") {
		t.Fatalf("clock ahead: %d %s", resp.Status, resp.Body)
	}

	// GET with Content-Length: 0 among the signed headers, signed by hand.
	req, _ = http.NewRequest("GET", m.URL+"/accounts", nil)
	req.Header.Set("Content-Length", "0")
	at := time.Now().UTC()
	req.Header.Set("X-Amz-Date", at.Format("20060102T150405Z"))
	req.Header.Set("Authorization", handSign(req, at, []string{"content-length", "host", "x-amz-date"}, "chime"))
	req.ContentLength = 0
	raw := rawHTTP(t, m.URL)
	fmt.Fprintf(raw, "GET /accounts HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\n\r\n",
		req.Host, req.Header.Get("X-Amz-Date"), req.Header.Get("Authorization"))
	if s := readStatus(raw, 5*time.Second); s != http.StatusOK {
		t.Fatalf("signed content-length: 0: status %d, want 200", s)
	}

	// Presigned: the SDK's signer puts the signature in the query string.
	body := []byte(`{"name":"presigned"}`)
	req, _ = http.NewRequest("POST", m.URL+"/CreateRoom?X-Amz-Expires=60", bytes.NewReader(body))
	sum := sha256.Sum256(body)
	u, hdr, err := v4.NewSigner().PresignHTTP(ctx(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, req,
		hex.EncodeToString(sum[:]), "ivschat", testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("POST", u, bytes.NewReader(body))
	for k, v := range hdr {
		if k != "Host" {
			req.Header[k] = v
		}
	}
	if resp := do(t, req); resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"name":"presigned"`) {
		t.Fatalf("presigned CreateRoom: %d %s", resp.Status, resp.Body)
	}
	req, _ = http.NewRequest("POST", u, strings.NewReader(`{"name":"tampered"}`))
	if resp := do(t, req); resp.Status != http.StatusForbidden || resp.Header.Get("X-Amzn-Errortype") != "InvalidSignatureException" {
		t.Fatalf("presigned URL with another body: %d %s", resp.Status, resp.Body)
	}
}

// handSign signs req's headers for the test key as SigV4 prescribes, over
// an empty body, for what the SDK's signer cannot sign.
func handSign(req *http.Request, at time.Time, headers []string, service string) string {
	hexsum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	var canon strings.Builder
	for _, h := range headers {
		v := req.Header.Get(h)
		if h == "host" {
			v = req.Host
		}
		canon.WriteString(h + ":" + v + "\n")
	}
	creq := req.Method + "\n" + req.URL.EscapedPath() + "\n\n" + canon.String() + "\n" + strings.Join(headers, ";") + "\n" + hexsum("")
	scope := at.Format("20060102") + "/" + testRegion + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + at.Format("20060102T150405Z") + "\n" + scope + "\n" + hexsum(creq)
	k := []byte("AWS4" + testSecret)
	for _, part := range []string{at.Format("20060102"), testRegion, service, "aws4_request", toSign} {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(part))
		k = mac.Sum(nil)
	}
	return fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%x", testKeyID, scope, strings.Join(headers, ";"), k)
}
