// Package console serves parley's operator console at /console/: a
// browser UI over the IVS and Chime resources of the signed-in account,
// who is connected where across the cluster, a live tail of rooms, the
// audit trail and the cluster's health.
//
// Every action the console takes is an API operation: its requests go to
// the same in-process IVS and Chime handlers the AWS clients reach, with
// the operator's access key as the principal, so they are validated,
// throttled and audited exactly as the API's, with that key as the
// caller, and a tenant sees only its own account. The console's own
// endpoints only read: sessions, the cluster's snapshots, the audit
// trail filtered, and room traffic from the bus.
//
// The pages are plain HTML, CSS and ES modules under assets/, embedded in
// the binary: no build step, nothing loaded from elsewhere.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/cluster"
	"golang.org/x/time/rate"
)

// Prefix is where the console is served.
const Prefix = "/console/"

//go:embed assets
var assets embed.FS

// Store is what the console reads from the store.
type Store interface {
	AccessKey(ctx context.Context, id string) (*parley.AccessKey, error)
	Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)
	Nodes(ctx context.Context) ([]*parley.Node, error)
}

// Audit reads the caller's audit trail (service.Service does).
type Audit interface {
	ListAudit(ctx context.Context, p parley.Page) ([]*parley.AuditRecord, string, error)
}

// Cluster asks every node for its snapshot (cluster.Cluster does).
type Cluster interface {
	Ask(ctx context.Context, q cluster.Query, want int) ([]cluster.Snapshot, error)
}

// Config tunes the console; zero values take the defaults named.
type Config struct {
	Region          string        // the region offered at sign-in; zero means us-east-1
	NodeID          string        // this node, as the cluster page names it
	Lease           time.Duration // a node silent this long is dead; zero means 5 seconds
	SessionLifetime time.Duration // zero means 12 hours
}

// Console is the operator console's HTTP handler.
type Console struct {
	store   Store
	audit   Audit
	cluster Cluster
	bus     parley.Bus
	ivs     http.Handler
	chime   http.Handler
	log     *slog.Logger
	cfg     Config
	sealer  *sealer
	mux     *http.ServeMux

	signins *rate.Limiter // failed sign-ins, per node: a brake on guessing

	auditMu sync.Mutex
	trails  map[string]*trail // by AWS account
}

// New returns the console. ivs and chime are the API handlers the AWS
// clients reach (with their throttling); the session key is shared
// through the store by every node.
func New(ctx context.Context, store Store, audit Audit, cl Cluster, bus parley.Bus, ivs, chime http.Handler, log *slog.Logger, cfg Config) (*Console, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Lease == 0 {
		cfg.Lease = 5 * time.Second
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	key, err := store.Secret(ctx, "console-session-key", newKey)
	if err != nil {
		return nil, err
	}
	s, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	c := &Console{store: store, audit: audit, cluster: cl, bus: bus, ivs: ivs, chime: chime, log: log, cfg: cfg, sealer: s,
		mux: http.NewServeMux(), signins: rate.NewLimiter(5, 20), trails: map[string]*trail{}}
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix(Prefix, http.FileServerFS(static))
	c.mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	})
	c.mux.HandleFunc("GET /console/api/config", c.config)
	c.mux.HandleFunc("POST /console/api/session", c.postSession)
	c.mux.HandleFunc("GET /console/api/session", c.authed(c.getSession))
	c.mux.HandleFunc("DELETE /console/api/session", c.deleteSession)
	c.mux.HandleFunc("/console/api/ivschat/", c.authed(c.passIVS))
	c.mux.HandleFunc("/console/api/chime/", c.authed(c.passChime))
	c.mux.HandleFunc("GET /console/api/live", c.authed(c.live))
	c.mux.HandleFunc("GET /console/api/cluster", c.authed(c.clusterPage))
	c.mux.HandleFunc("GET /console/api/audit", c.authed(c.auditTrail))
	c.mux.HandleFunc("GET /console/api/tail", c.authed(c.tail))
	c.mux.HandleFunc("/console/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, parley.Errorf(parley.KindNotFound, "no such console endpoint"))
	})
	return c, nil
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing but the console's own files, and no framing (clickjacking).
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.URL.Path == "/console" {
		http.Redirect(w, r, Prefix, http.StatusFound)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// authed runs h for a signed-in, same-origin request, with the operator's
// principal (account, region, access key) in its context.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkSameOrigin(r); err != nil {
			c.log.WarnContext(r.Context(), "console: refused a cross-site request", "method", r.Method, "path", r.URL.Path,
				"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
			writeError(w, err)
			return
		}
		s, err := c.current(r)
		if err != nil {
			writeError(w, err)
			return
		}
		p := parley.Principal{AccessKeyID: s.KeyID, Scope: parley.Scope{AccountID: s.Account, Region: s.Region}}
		h(w, r.WithContext(parley.NewContextWithPrincipal(r.Context(), p)), s)
	}
}

func (c *Console) config(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"region": c.cfg.Region, "node": c.cfg.NodeID})
}

type signInRequest struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	Region          string `json:"region"`
}

func (c *Console) postSession(w http.ResponseWriter, r *http.Request) {
	// Signing in is a write too: another site must not sign the browser
	// in as someone else (login CSRF).
	if err := checkSameOrigin(r); err != nil {
		writeError(w, err)
		return
	}
	var in signInRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		writeError(w, parley.Errorf(parley.KindInvalid, "malformed sign-in request"))
		return
	}
	if c.signins.Tokens() < 1 {
		writeError(w, &parley.Error{Kind: parley.KindThrottled, Message: "too many failed sign-ins; wait a moment"})
		return
	}
	s, err := c.signIn(r.Context(), strings.TrimSpace(in.AccessKeyID), in.SecretAccessKey, strings.TrimSpace(in.Region))
	if err != nil {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		c.log.WarnContext(r.Context(), "console: sign-in refused", "access_key", in.AccessKeyID, "ip", ip, "err", err)
		c.signins.Allow() // only failures spend the brake's tokens
		writeError(w, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: signed in", "access_key", s.KeyID, "account", s.Account, "region", s.Region)
	c.setCookie(w, r, c.sealer.seal(s), int(c.cfg.SessionLifetime.Seconds()))
	writeJSON(w, http.StatusOK, sessionOut(s, c.cfg.NodeID))
}

func sessionOut(s session, node string) map[string]any {
	return map[string]any{"accessKeyId": s.KeyID, "accountId": s.Account, "region": s.Region,
		"expires": time.Unix(s.Expires, 0).UTC().Format(time.RFC3339), "node": node}
}

func (c *Console) getSession(w http.ResponseWriter, r *http.Request, s session) {
	writeJSON(w, http.StatusOK, sessionOut(s, c.cfg.NodeID))
}

func (c *Console) deleteSession(w http.ResponseWriter, r *http.Request) {
	if err := checkSameOrigin(r); err != nil {
		writeError(w, err)
		return
	}
	c.setCookie(w, r, "", -1)
	w.WriteHeader(http.StatusNoContent)
}

// passIVS hands /console/api/ivschat/<Operation> to the IVS Chat API as
// if the operator's key had signed it for the session's region.
func (c *Console) passIVS(w http.ResponseWriter, r *http.Request, s session) {
	c.pass(w, r, "/console/api/ivschat", "ivschat", c.ivs)
}

// passChime hands /console/api/chime/<path> to the Chime API.
func (c *Console) passChime(w http.ResponseWriter, r *http.Request, s session) {
	c.pass(w, r, "/console/api/chime", "chime", c.chime)
}

func (c *Console) pass(w http.ResponseWriter, r *http.Request, prefix, service string, h http.Handler) {
	p, _ := parley.PrincipalFromContext(r.Context())
	p.Service = service
	ctx, info := awsproto.WithInfo(parley.NewContextWithPrincipal(r.Context(), p))
	info.API, info.Account = service, p.AccountID
	start := time.Now()
	rec := &status{ResponseWriter: w}
	http.StripPrefix(prefix, h).ServeHTTP(rec, r.WithContext(ctx))
	c.log.LogAttrs(ctx, slog.LevelInfo, "console request", slog.String("request_id", info.ID), slog.String("api", service),
		slog.String("op", info.Op), slog.String("account", p.AccountID), slog.String("access_key", p.AccessKeyID),
		slog.Int("status", rec.code), slog.Duration("duration", time.Since(start)))
}

// status remembers a response's status for the log.
type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *status) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// writeError answers the console's own endpoints: {"message"} with the
// status the IVS API uses for the error's kind.
func writeError(w http.ResponseWriter, err error) {
	e := parley.AsError(err)
	code := map[parley.Kind]int{
		parley.KindInvalid: 400, parley.KindNotFound: 404, parley.KindConflict: 409, parley.KindUnauthenticated: 401,
		parley.KindForbidden: 403, parley.KindThrottled: 429, parley.KindUnavailable: 503,
	}[e.Kind]
	if code == 0 {
		code = 500
	}
	writeJSON(w, code, map[string]string{"message": e.Message})
}
