// Package server composes parley's parts into one http.Handler: SigV4
// authentication, the IVS Chat and Chime APIs (told apart by the signing
// service name), health and metrics endpoints, structured request logs.
package server

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/ivsapi"
	"github.com/parley-chat/parley/sigv4"
	"github.com/parley-chat/parley/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Authenticator identifies the caller of a request whose body was read.
type Authenticator interface {
	Verify(r *http.Request, body []byte) (parley.Principal, error)
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

	metrics *metrics
	mux     *http.ServeMux
}

// New returns a Server; call Handler to serve it.
func New(auth Authenticator, ivs, chime http.Handler, log *slog.Logger, reg prometheus.Registerer, gatherer prometheus.Gatherer) *Server {
	s := &Server{Auth: auth, IVS: ivs, Chime: chime, Log: log, metrics: newMetrics(reg), mux: http.NewServeMux()}
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

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

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
		s.WS.ServeHTTP(rw, r)
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

	if s.Bots != nil && strings.HasPrefix(r.URL.Path, s.BotPrefix) {
		info.API = "chime"
		s.Bots.ServeHTTP(w, r) // bots authenticate with their security token
		return
	}
	body, err := awsproto.ReadBody(r)
	if err != nil {
		s.writeAuthError(w, r, info, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p, err := s.Auth.Verify(r, body)
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
	if e.Kind != parley.KindUnauthenticated {
		if e.Kind == parley.KindInternal {
			s.Log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", info.ID)
		}
		ivsapi.WriteError(w, r, err) // body limit and the like
		return
	}
	code := "AccessDeniedException"
	for _, c := range authCodes {
		if errors.Is(err, c) {
			code = c.Error()
		}
	}
	if apiFor("", r) == "chime" {
		// Chime's 401 UnauthorizedClientException is what its clients model for bad credentials.
		awsproto.WriteError(w, r, http.StatusForbidden, code, map[string]string{"Code": "Forbidden", "Message": e.Message})
		return
	}
	awsproto.WriteError(w, r, http.StatusForbidden, code, map[string]string{"__type": code, "message": e.Message})
}

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

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_requests_total",
			Help: "API requests by API, operation and HTTP status."}, []string{"api", "op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_request_duration_seconds",
			Help: "API request latency by API and operation.", Buckets: prometheus.DefBuckets}, []string{"api", "op"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}
