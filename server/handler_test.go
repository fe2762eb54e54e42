package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/sigv4"
	"github.com/prometheus/client_golang/prometheus"
)

// authFunc is an Authenticator made of a function.
type authFunc func(r *http.Request) (sigv4.Finish, error)

func (f authFunc) Begin(r *http.Request) (sigv4.Finish, error) { return f(r) }

// signedAs authenticates every request as a caller signing for service.
func signedAs(service string) authFunc {
	return func(*http.Request) (sigv4.Finish, error) {
		return func([]byte) (parley.Principal, error) {
			return parley.Principal{AccessKeyID: "AKIATEST", Scope: parley.Scope{AccountID: "123456789012"}, Service: service}, nil
		}, nil
	}
}

// refusing fails every request with err, before (begin) or after reading the body.
func refusing(err error, begin bool) authFunc {
	return func(*http.Request) (sigv4.Finish, error) {
		if begin {
			return nil, err
		}
		return func([]byte) (parley.Principal, error) { return parley.Principal{}, err }, nil
	}
}

// recorder is an API that records what reached it.
type recorder struct {
	name      string
	principal parley.Principal
	body      string
	calls     int
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.calls++
	rec.principal, _ = parley.PrincipalFromContext(r.Context())
	b, _ := io.ReadAll(r.Body)
	rec.body = string(b)
	awsproto.WriteJSON(w, r, http.StatusOK, map[string]string{"api": rec.name})
}

func newServer(auth server.Authenticator) (*server.Server, *recorder, *recorder) {
	ivs, chime := &recorder{name: "ivschat"}, &recorder{name: "chime"}
	reg := prometheus.NewRegistry()
	return server.New(auth, ivs, chime, slog.New(slog.DiscardHandler), reg, reg, server.Limits{}), ivs, chime
}

func do(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, "http://parley"+target, strings.NewReader(body)))
	return w
}

// Ensure a request goes to the API its signing name names, with the
// caller's principal (region defaulted) and its body still readable.
func TestRouting(t *testing.T) {
	tests := []struct {
		service, target, want string
	}{
		{"ivschat", "/CreateRoom", "ivschat"},
		{"chime", "/accounts", "chime"},
		{"ivschat", "/accounts", "ivschat"}, // the signing name wins over the path
		{"chime", "/CreateRoom", "chime"},
		{"", "/CreateRoom", "ivschat"}, // unsigned: by path
		{"", "/accounts/x/users", "chime"},
		{"", "/parley/v1/audit", "chime"},
		{"", "/parley/v1/CreateBan", "ivschat"},
		{"", "/parley/v1/ListBans", "ivschat"},
		{"", "/parley/v1/DeleteBan", "ivschat"},
	}
	for _, tt := range tests {
		s, ivs, chime := newServer(signedAs(tt.service))
		w := do(s, "POST", tt.target, `{"x":1}`)
		got := map[*recorder]string{ivs: "ivschat", chime: "chime"}
		for rec, name := range got {
			if (rec.calls == 1) != (name == tt.want) {
				t.Errorf("%s %s: %s called %d times", tt.service, tt.target, name, rec.calls)
			}
			if rec.calls == 1 && (rec.body != `{"x":1}` || rec.principal.Region != "us-east-1" || rec.principal.AccessKeyID != "AKIATEST") {
				t.Errorf("%s %s: %s got body %q principal %+v", tt.service, tt.target, name, rec.body, rec.principal)
			}
		}
		if w.Code != 200 || w.Header().Get("x-amzn-RequestId") == "" {
			t.Errorf("%s %s: %d %v", tt.service, tt.target, w.Code, w.Header())
		}
	}
}

// Ensure refused credentials are answered with the AWS code of the
// failure, in the error format of the API the request was meant for.
func TestAuthErrors(t *testing.T) {
	unauth := func(cause error) error {
		return &parley.Error{Kind: parley.KindUnauthenticated, Message: "refused: " + cause.Error(), Err: cause}
	}
	tests := []struct {
		name   string
		err    error
		begin  bool
		target string
		status int
		typ    string
		body   string
	}{
		{"missing, IVS", unauth(sigv4.ErrMissing), true, "/CreateRoom", 403, "MissingAuthenticationTokenException",
			`{"__type":"MissingAuthenticationTokenException","message":"refused: MissingAuthenticationTokenException"}`},
		{"incomplete, IVS", unauth(sigv4.ErrIncomplete), true, "/GetRoom", 403, "IncompleteSignatureException",
			`{"__type":"IncompleteSignatureException","message":"refused: IncompleteSignatureException"}`},
		{"signature, IVS", unauth(sigv4.ErrSignature), false, "/GetRoom", 403, "InvalidSignatureException",
			`{"__type":"InvalidSignatureException","message":"refused: InvalidSignatureException"}`},
		{"unknown key, Chime", unauth(sigv4.ErrUnknownKey), true, "/accounts", 403, "UnrecognizedClientException",
			`{"Code":"Forbidden","Message":"refused: UnrecognizedClientException"}`},
		{"other, Chime", parley.Errorf(parley.KindUnauthenticated, "no"), false, "/accounts/x", 403, "AccessDeniedException",
			`{"Code":"Forbidden","Message":"no"}`},
		{"other, IVS", parley.Errorf(parley.KindUnauthenticated, "no"), false, "/ListRooms", 403, "AccessDeniedException",
			`{"__type":"AccessDeniedException","message":"no"}`},
		{"not an auth error, IVS", parley.Errorf(parley.KindInvalid, "bad date"), true, "/ListRooms", 400, "ValidationException",
			`{"__type":"ValidationException","message":"bad date","reason":"OTHER"}`},
		{"not an auth error, Chime", parley.Errorf(parley.KindInvalid, "bad date"), true, "/accounts", 400, "BadRequestException",
			`{"Code":"BadRequest","Message":"bad date"}`},
		{"internal, Chime", errors.New("keys unavailable"), false, "/accounts", 500, "ServiceFailureException",
			`{"Code":"ServiceFailure","Message":"An internal error occurred."}`},
	}
	for _, tt := range tests {
		s, ivs, chime := newServer(refusing(tt.err, tt.begin))
		w := do(s, "POST", tt.target, `{}`)
		if w.Code != tt.status || w.Header().Get("X-Amzn-ErrorType") != tt.typ || w.Body.String() != tt.body || ivs.calls+chime.calls != 0 {
			t.Errorf("%s: %d %s %s, want %d %s %s", tt.name, w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body, tt.status, tt.typ, tt.body)
		}
		if closes := w.Header().Get("Connection") == "close"; closes != tt.begin {
			t.Errorf("%s: Connection: close = %v, want %v (the body is not read)", tt.name, closes, tt.begin)
		}
	}
}

// Ensure a body declared larger than MaxBody is refused before a byte of
// it is read, in the format of its API, and the connection with it.
func TestDeclaredBodyTooLarge(t *testing.T) {
	for _, tt := range []struct{ target, typ, body string }{
		{"/CreateRoom", "ValidationException", `{"__type":"ValidationException","message":"request body exceeds 1048576 bytes","reason":"OTHER"}`},
		{"/accounts", "BadRequestException", `{"Code":"BadRequest","Message":"request body exceeds 1048576 bytes"}`},
	} {
		s, ivs, chime := newServer(authFunc(func(*http.Request) (sigv4.Finish, error) {
			t.Error("an oversized request reached authentication")
			return nil, errors.New("unreachable")
		}))
		r := httptest.NewRequest("POST", "http://parley"+tt.target, strings.NewReader("{}"))
		r.ContentLength = awsproto.MaxBody + 1
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 400 || w.Header().Get("X-Amzn-ErrorType") != tt.typ || w.Body.String() != tt.body || w.Header().Get("Connection") != "close" ||
			ivs.calls+chime.calls != 0 {
			t.Errorf("%s: %d %v %s", tt.target, w.Code, w.Header(), w.Body)
		}
	}
	// A body that turns out larger than it said is cut when read.
	s, ivs, _ := newServer(signedAs("ivschat"))
	r := httptest.NewRequest("POST", "http://parley/CreateRoom", strings.NewReader(strings.Repeat("x", awsproto.MaxBody+1)))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 400 || w.Header().Get("X-Amzn-ErrorType") != "ValidationException" || w.Header().Get("Connection") != "close" || ivs.calls != 0 {
		t.Errorf("undeclared oversized body: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

// Ensure the bot endpoint skips SigV4 (bots authenticate with their token).
func TestBotsSkipSigV4(t *testing.T) {
	s, _, _ := newServer(refusing(errors.New("no SigV4 here"), true))
	bots := &recorder{name: "bots"}
	s.Bots, s.BotPrefix = bots, "/parley/v1/bot/rooms/"
	w := do(s, "POST", "/parley/v1/bot/rooms/r/messages", `{"Content":"hi"}`)
	if w.Code != 200 || bots.calls != 1 || bots.body != `{"Content":"hi"}` {
		t.Fatalf("bot post: %d %s, bots called %d times", w.Code, w.Body, bots.calls)
	}
}

// Ensure /healthz answers ok, or 503 when the health check fails.
func TestHealthz(t *testing.T) {
	s, _, _ := newServer(refusing(errors.New("unauthenticated"), true))
	if w := do(s, "GET", "/healthz", ``); w.Code != 200 || w.Body.String() != `{"status":"ok"}`+"\n" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("healthz = %d %q", w.Code, w.Body)
	}
	s.Health = func(*http.Request) error { return errors.New("store down") }
	if w := do(s, "GET", "/healthz", ``); w.Code != 503 || !strings.Contains(w.Body.String(), `{"status":"unavailable"}`) {
		t.Fatalf("failing healthz = %d %q", w.Code, w.Body)
	}
}

// Ensure a panicking API answers 500 in its error format.
func TestPanic(t *testing.T) {
	reg := prometheus.NewRegistry()
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	s := server.New(signedAs("ivschat"), boom, boom, slog.New(slog.DiscardHandler), reg, reg, server.Limits{})
	if w := do(s, "POST", "/GetRoom", `{}`); w.Code != 500 || w.Header().Get("X-Amzn-ErrorType") != "InternalServerException" {
		t.Fatalf("panic = %d %v %s", w.Code, w.Header(), w.Body)
	}
	if n := requests(t, reg, "500"); n != 1 {
		t.Fatalf("requests{status=500} = %v, want 1", n)
	}
}

// Ensure the per-address handshake rate refuses the handshakes beyond it.
func TestHandshakeRate(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := server.New(signedAs("ivschat"), nil, nil, slog.New(slog.DiscardHandler), reg, reg, server.Limits{HandshakeRate: 0.001, HandshakeBurst: 2})
	upgraded := 0
	s.WS = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { upgraded++; w.WriteHeader(http.StatusSwitchingProtocols) })
	handshake := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://parley/", nil)
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	for i := range 2 {
		if w := handshake("192.0.2.1:1000"); w.Code != 101 {
			t.Fatalf("handshake %d = %d, want 101", i, w.Code)
		}
	}
	if w := handshake("192.0.2.1:1001"); w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("third handshake = %d %v, want 429 with Retry-After", w.Code, w.Header())
	}
	if w := handshake("192.0.2.2:1000"); w.Code != 101 {
		t.Fatalf("another address = %d, want 101", w.Code)
	}
	if upgraded != 3 {
		t.Fatalf("WS reached %d times, want 3", upgraded)
	}
}

// Ensure the limiter enforces each operation's rate per caller scope,
// scaled, with defaults for operations without a rate of their own.
func TestLimiter(t *testing.T) {
	ctxFor := func(account string) context.Context {
		return parley.NewContextWithPrincipal(context.Background(), parley.Principal{Scope: parley.Scope{AccountID: account, Region: "us-east-1"}})
	}
	allowed := func(l *server.Limiter, ctx context.Context, api, op string, n int) int {
		ok := 0
		for range n {
			if l.Allow(ctx, api, op) == nil {
				ok++
			}
		}
		return ok
	}
	a, b := ctxFor("111111111111"), ctxFor("222222222222")
	l := server.NewLimiter(map[string]map[string]float64{"ivschat": server.IVSRates}, 1)
	if got := allowed(l, a, "ivschat", "CreateRoom", 10); got != 5 {
		t.Fatalf("CreateRoom allowed %d of 10 at once, want the burst of 5", got)
	}
	if got := allowed(l, b, "ivschat", "CreateRoom", 10); got != 5 {
		t.Fatalf("another account: allowed %d, want its own 5", got)
	}
	if got := allowed(l, a, "ivschat", "GetRoom", 10); got != 5 {
		t.Fatalf("GetRoom allowed %d, want its own bucket of 5", got)
	}
	err := l.Allow(a, "ivschat", "CreateRoom")
	e := parley.AsError(err)
	if e.Kind != parley.KindThrottled || e.Limit != 5 || e.Message != "Rate exceeded for CreateRoom" || e.Resource == nil || e.Resource.ID != "CreateRoom" {
		t.Fatalf("throttled = %+v", e)
	}
	if got := allowed(l, a, "chime", "CreateAccount", 100); got != 100 {
		t.Fatalf("an API without rates: allowed %d of 100", got)
	}
	l.SetDefault("chime", 2)
	if got := allowed(l, a, "chime", "CreateAccount", 10); got != 2 {
		t.Fatalf("chime default 2/s: allowed %d", got)
	}
	if got := allowed(server.NewLimiter(map[string]map[string]float64{"ivschat": server.IVSRates}, 0), a, "ivschat", "CreateRoom", 100); got != 100 {
		t.Fatalf("scale 0: allowed %d of 100, want no throttling", got)
	}
	l2 := server.NewLimiter(map[string]map[string]float64{"ivschat": server.IVSRates}, 2)
	if got := allowed(l2, a, "ivschat", "CreateRoom", 20); got != 10 {
		t.Fatalf("scale 2: allowed %d, want 10", got)
	}
	if e := parley.AsError(l2.Allow(a, "ivschat", "CreateRoom")); e.Limit != 10 {
		t.Fatalf("scale 2: limit %d, want 10", e.Limit)
	}
}

// Ensure the limiter's buckets refill by its clock.
func TestLimiterClock(t *testing.T) {
	now := parley.SystemClock{}.Now()
	l := server.NewLimiter(map[string]map[string]float64{"ivschat": {"GetRoom": 1}}, 1)
	l.SetClock(func() time.Time { return now })
	ctx := context.Background()
	if l.Allow(ctx, "ivschat", "GetRoom") != nil || l.Allow(ctx, "ivschat", "GetRoom") == nil {
		t.Fatal("a bucket of 1 did not hold one call")
	}
	now = now.Add(time.Second)
	if err := l.Allow(ctx, "ivschat", "GetRoom"); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}

// Ensure per-address limits count IPv4 addresses and IPv6 /64s.
func TestAddrKey(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"192.0.2.1:80", "192.0.2.1/32"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1/32"},
		{"[2001:db8:1:2:3:4:5:6]:80", "2001:db8:1:2::/64"},
	} {
		ap := netip.MustParseAddrPort(tt.addr)
		if got := server.AddrKey(net.TCPAddrFromAddrPort(ap)).String(); got != tt.want {
			t.Errorf("AddrKey(%s) = %s, want %s", tt.addr, got, tt.want)
		}
		if got := server.AddrKey(fakeAddr(tt.addr)).String(); got != tt.want {
			t.Errorf("AddrKey(%s as a string) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// Ensure the Listener refuses connections beyond Max and PerIP with a 503,
// counts them, and marks connections in the headroom as Reserved.
func TestListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refused []string
	var mu sync.Mutex
	l := &server.Listener{Listener: inner, Max: 2, Headroom: 1, Refused: func(reason string) { mu.Lock(); refused = append(refused, reason); mu.Unlock() }}
	defer l.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	first := <-accepted
	dial()
	second := <-accepted
	if server.Reserved(server.ConnContext(context.Background(), first)) || !server.Reserved(server.ConnContext(context.Background(), second)) {
		t.Fatal("want the first connection ordinary and the second in the headroom")
	}
	third := dial()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(third)
	if !strings.HasPrefix(string(b), "HTTP/1.1 503 ") {
		t.Fatalf("a third connection read %q, want a 503", b)
	}
	if l.Open() != 2 {
		t.Fatalf("Open = %d, want 2", l.Open())
	}
	first.Close()
	first.Close() // released once
	if l.Open() != 1 {
		t.Fatalf("Open after a close = %d, want 1", l.Open())
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(refused) != "[max_connections]" {
		t.Fatalf("refused %v, want [max_connections]", refused)
	}
}
