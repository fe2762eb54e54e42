// Package server composes parley's parts into one http.Handler: SigV4
// authentication, the IVS Chat and Chime APIs (told apart by the signing
// service name), health and metrics endpoints, structured request logs.
package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/chimeapi"
	"github.com/parley-chat/parley/ivsapi"
	"github.com/parley-chat/parley/sigv4"
	"github.com/parley-chat/parley/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Authenticator identifies the caller of a request in two steps: Begin
// from the request line and headers alone, so that a request without valid
// credentials is refused before its body is read, then the returned
// function over the body.
type Authenticator interface {
	Begin(r *http.Request) (sigv4.Finish, error)
}

// Limits bound what a client can make the server hold before and while a
// request is authenticated. Zero values mean no limit.
type Limits struct {
	BodyTimeout time.Duration // how long a request body may take to arrive
	// HandshakeRate and HandshakeBurst are the WebSocket handshakes one
	// address (IPv4 address, IPv6 /64) may start, per second and at once.
	HandshakeRate  float64
	HandshakeBurst int
}

// Server is parley's HTTP front.
type Server struct {
	Auth  Authenticator
	IVS   http.Handler // the IVS Chat API
	Chime http.Handler // the Chime API and parley's /parley/v1 extensions
	// Bots serves BotPrefix, where Chime bots authenticate with their
	// security token instead of SigV4.
	Bots      http.Handler
	BotPrefix string
	WS        http.Handler // the IVS Chat messaging WebSocket endpoint, on any path
	Log       *slog.Logger
	// Health, if set, is consulted by /healthz.
	Health func(r *http.Request) error
	// Console, if set, serves the operator console under /console/.
	Console http.Handler

	limits     Limits
	handshakes *addrLimiter
	metrics    *metrics
	mux        *http.ServeMux
}

// New returns a Server; call Handler to serve it.
func New(auth Authenticator, ivs, chime http.Handler, log *slog.Logger, reg prometheus.Registerer, gatherer prometheus.Gatherer, limits Limits) *Server {
	s := &Server{Auth: auth, IVS: ivs, Chime: chime, Log: log, metrics: newMetrics(reg), mux: http.NewServeMux(), limits: limits}
	if limits.HandshakeRate > 0 {
		s.handshakes = newAddrLimiter(limits.HandshakeRate, max(1, limits.HandshakeBurst))
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("/", s.api)
	s.mux.HandleFunc("/console", s.console)
	s.mux.HandleFunc("/console/", s.console)
	return s
}

// console serves the operator console, which authenticates with its own
// session cookie, not SigV4.
func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	if s.Console == nil || ws.IsUpgrade(r) {
		s.api(w, r)
		return
	}
	s.Console.ServeHTTP(w, r)
}

// ConnectionRefused counts a connection the Listener refused, by reason.
func (s *Server) ConnectionRefused(reason string) {
	s.metrics.connRefused.WithLabelValues(reason).Inc()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if Reserved(r.Context()) {
		// A connection in the headroom kept for observing a saturated server.
		w.Header().Set("Connection", "close")
		if r.URL.Path != "/healthz" && r.URL.Path != "/metrics" {
			s.metrics.connRefused.WithLabelValues("headroom").Inc()
			http.Error(w, "server at its connection limit", http.StatusServiceUnavailable)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.Health != nil {
		if err := s.Health(r); err != nil {
			s.Log.WarnContext(r.Context(), "health check failed", "err", err)
			http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// api authenticates a control-plane request and hands it to its API;
// WebSocket upgrades (authenticated by their chat token) go to WS.
func (s *Server) api(rw http.ResponseWriter, r *http.Request) {
	if s.WS != nil && ws.IsUpgrade(r) {
		s.upgrade(rw, r)
		return
	}
	start := time.Now()
	ctx, info := awsproto.WithInfo(r.Context())
	r = r.WithContext(ctx)
	w := &statusWriter{ResponseWriter: rw}
	defer func() {
		if p := recover(); p != nil {
			s.Log.ErrorContext(ctx, "panic serving request", "panic", p, "request_id", info.ID)
			if w.status == 0 {
				s.writeAuthError(w, r, info, parley.Internal("server", errors.New("panic")))
			}
		}
		s.finish(r, w, info, start)
	}()

	if r.ContentLength > awsproto.MaxBody {
		// Refused before a byte of it is read, and the connection with it:
		// draining the body for keep-alive is what the limit is against.
		w.Header().Set("Connection", "close")
		s.writeAuthError(w, r, info, &parley.Error{Kind: parley.KindInvalid,
			Message: fmt.Sprintf("request body exceeds %d bytes", awsproto.MaxBody), Err: awsproto.ErrTooLarge})
		return
	}
	if s.Bots != nil && strings.HasPrefix(r.URL.Path, s.BotPrefix) {
		info.API = "chime"
		s.bodyDeadline(w)
		s.Bots.ServeHTTP(w, r) // bots authenticate with their security token
		return
	}
	finish, err := s.Auth.Begin(r)
	if err != nil {
		w.Header().Set("Connection", "close") // the body is not read
		s.writeAuthError(w, r, info, err)
		return
	}
	s.bodyDeadline(w)
	body, err := awsproto.ReadBody(r)
	if err != nil {
		w.Header().Set("Connection", "close")
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s.metrics.slowBodies.Inc()
			s.Log.WarnContext(ctx, "request body too slow", "remote_addr", r.RemoteAddr, "timeout", s.limits.BodyTimeout, "request_id", info.ID)
			awsproto.WriteError(w, r, http.StatusRequestTimeout, "RequestTimeoutException",
				map[string]string{"message": "The request body did not arrive in time."})
			return
		}
		s.writeAuthError(w, r, info, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p, err := finish(body)
	if err != nil {
		s.writeAuthError(w, r, info, err)
		return
	}
	info.Account = p.AccountID
	if p.Region == "" {
		p.Region = "us-east-1"
	}
	r = r.WithContext(parley.NewContextWithPrincipal(ctx, p))
	switch apiFor(p.Service, r) {
	case "chime":
		info.API = "chime"
		s.Chime.ServeHTTP(w, r)
	default:
		info.API = "ivschat"
		s.IVS.ServeHTTP(w, r)
	}
}

// bodyDeadline bounds how long the request body may take to arrive. The
// server sets the connection's deadlines afresh for its next request.
func (s *Server) bodyDeadline(w http.ResponseWriter) {
	if s.limits.BodyTimeout > 0 {
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.limits.BodyTimeout))
	}
}

// apiFor picks the API: from the signing name, else (unsigned requests in
// insecure mode) from the path, since Chime paths all start with /accounts
// or /parley/ (but for the IVS ban extension).
func apiFor(service string, r *http.Request) string {
	if service != "" {
		return service
	}
	switch r.URL.Path {
	case "/parley/v1/CreateBan", "/parley/v1/DeleteBan", "/parley/v1/ListBans":
		return "ivschat" // parley's IVS extension
	}
	if strings.HasPrefix(r.URL.Path, "/accounts") || strings.HasPrefix(r.URL.Path, "/parley/") {
		return "chime"
	}
	return "ivschat"
}

// authCodes maps authentication failures to the error codes AWS answers with.
var authCodes = []error{sigv4.ErrMissing, sigv4.ErrIncomplete, sigv4.ErrSignature, sigv4.ErrUnknownKey}

// writeAuthError answers a request refused before it reached an API, in the
// error format of the API it was meant for.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, info *awsproto.Info, err error) {
	e := parley.AsError(err)
	chime := apiFor("", r) == "chime"
	if e.Kind != parley.KindUnauthenticated {
		if e.Kind == parley.KindInternal {
			s.Log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", info.ID)
		}
		if chime { // body limit and the like
			chimeapi.WriteError(w, r, err)
		} else {
			ivsapi.WriteError(w, r, err)
		}
		return
	}
	code := "AccessDeniedException"
	for _, c := range authCodes {
		if errors.Is(err, c) {
			code = c.Error()
		}
	}
	s.metrics.authRefused.WithLabelValues(code).Inc()
	s.Log.LogAttrs(r.Context(), slog.LevelWarn, "signature refused",
		slog.String("reason", code), slog.String("detail", e.Message), slog.String("key_id", sigv4.KeyID(r)),
		slog.String("remote_addr", r.RemoteAddr), slog.String("request_id", info.ID))
	if chime {
		// Chime's 401 UnauthorizedClientException is what its clients model for bad credentials.
		awsproto.WriteError(w, r, http.StatusForbidden, code, map[string]string{"Code": "Forbidden", "Message": e.Message})
		return
	}
	awsproto.WriteError(w, r, http.StatusForbidden, code, map[string]string{"__type": code, "message": e.Message})
}

// statusClientClosed is what request metrics and logs record for a request
// its client gave up on (nginx's 499): not a server error.
const statusClientClosed = 499

func (s *Server) finish(r *http.Request, w *statusWriter, info *awsproto.Info, start time.Time) {
	d := time.Since(start)
	op := info.Op
	if op == "" {
		op = "unknown"
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	if errors.Is(r.Context().Err(), context.Canceled) && status >= 500 {
		status = statusClientClosed
	}
	s.metrics.requests.WithLabelValues(info.API, op, strconv.Itoa(status)).Inc()
	s.metrics.latency.WithLabelValues(info.API, op).Observe(d.Seconds())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.Log.LogAttrs(r.Context(), level, "request",
		slog.String("request_id", info.ID), slog.String("api", info.API), slog.String("op", op),
		slog.String("account", info.Account), slog.Int("status", status), slog.Duration("duration", d))
}

// upgrade hands a WebSocket handshake to WS, within the per-address
// handshake rate, and records why one was refused.
func (s *Server) upgrade(rw http.ResponseWriter, r *http.Request) {
	if s.handshakes != nil && !s.handshakes.allow(AddrKey(remoteAddr(r))) {
		s.handshakeRefused(r, http.StatusTooManyRequests, "rate_limited")
		w := rw.Header()
		w.Set("Retry-After", "1")
		w.Set("Connection", "close")
		http.Error(rw, "too many handshakes from this address", http.StatusTooManyRequests)
		return
	}
	w := &handshakeWriter{ResponseWriter: rw}
	s.WS.ServeHTTP(w, r)
	switch {
	case w.status == 0 && !w.hijacked:
		s.handshakeRefused(r, 0, "abandoned") // the client left while it waited
	case w.status >= 300:
		s.handshakeRefused(r, w.status, reasonLabel(w.body.String()))
	}
}

func (s *Server) handshakeRefused(r *http.Request, status int, reason string) {
	s.metrics.handshakesRefused.WithLabelValues(reason).Inc()
	s.Log.LogAttrs(r.Context(), slog.LevelWarn, "handshake refused", slog.String("reason", reason),
		slog.Int("status", status), slog.String("path", r.URL.Path), slog.String("remote_addr", r.RemoteAddr))
}

func remoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(ap)
}

// reasonLabel turns a refusal's message into a metric label. The messages
// are the WebSocket layer's own, a fixed set; the length bound is a backstop.
func reasonLabel(msg string) string {
	msg = strings.ToLower(strings.TrimSpace(msg))
	if i := strings.IndexAny(msg, ":("); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	b := []byte(msg)
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}

// handshakeWriter remembers how a handshake was answered.
type handshakeWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
	body     bytes.Buffer // the start of a refusal's text
}

func (w *handshakeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *handshakeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if n := 128 - w.body.Len(); n > 0 {
		w.body.Write(b[:min(n, len(b))])
	}
	return w.ResponseWriter.Write(b)
}

func (w *handshakeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.ErrUnsupported
	}
	w.hijacked = true
	return h.Hijack()
}

func (w *handshakeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type metrics struct {
	requests          *prometheus.CounterVec
	latency           *prometheus.HistogramVec
	authRefused       *prometheus.CounterVec
	handshakesRefused *prometheus.CounterVec
	connRefused       *prometheus.CounterVec
	slowBodies        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_requests_total",
			Help: "API requests by API, operation and HTTP status."}, []string{"api", "op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_request_duration_seconds",
			Help: "API request latency by API and operation.", Buckets: prometheus.DefBuckets}, []string{"api", "op"}),
	}
	m.authRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_auth_refused_total",
		Help: "Requests refused by SigV4 authentication, by AWS error code."}, []string{"reason"})
	m.handshakesRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_handshakes_refused_total",
		Help: "WebSocket handshakes refused, by reason."}, []string{"reason"})
	m.connRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_connections_refused_total",
		Help: "Connections refused at a connection limit, by limit (max_connections, per_ip_connections, headroom)."}, []string{"reason"})
	m.slowBodies = prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_slow_bodies_total",
		Help: "Requests cut because their body did not arrive within the body timeout."})
	reg.MustRegister(m.requests, m.latency, m.authRefused, m.handshakesRefused, m.connRefused, m.slowBodies)
	return m
}
