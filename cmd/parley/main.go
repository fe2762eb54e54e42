// Command parley runs the parley chat server, a self-hostable service that
// speaks the Amazon IVS Chat and Amazon Chime chat APIs.
//
//	parley [serve] [flags]      run the server (the default)
//	parley keys create [flags]  add an access key for an account
//	parley keys list [flags]    list access keys
//	parley env [flags]          print shell exports for the AWS CLI and SDKs
//	parley audit [flags]        print the audit trail of revocations
//	parley call METHOD PATH     send a SigV4-signed request (for the /parley/v1 extensions)
//	parley ban|unban|bans       impose, lift and list bans (signed with the exported AWS_* variables)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on --debug-addr
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cache"
	"github.com/parley-chat/parley/chatlog"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/chimeapi"
	nodes "github.com/parley-chat/parley/cluster"
	"github.com/parley-chat/parley/console"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/ivsapi"
	"github.com/parley-chat/parley/metrics"
	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/retention"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/sigv4"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/webhook"
	"github.com/parley-chat/parley/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "keys":
		return keys(ctx, args, stdout, stderr)
	case "env":
		return env(ctx, args, stdout, stderr)
	case "audit":
		return audit(ctx, args, stdout, stderr)
	case "call":
		return call(ctx, args, stdout, stderr)
	case "ban":
		return ban(ctx, args, stdout, stderr)
	case "unban":
		return unban(ctx, args, stdout, stderr)
	case "bans":
		return bans(ctx, args, stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (want serve, keys, env, audit, call, ban, unban or bans)", cmd)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain()
	fs := flag.NewFlagSet("parley serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m.Config.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	m.Log = newLogger(stderr, m.Config)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		return err
	}
	m.printBanner(stdout)
	<-ctx.Done()
	m.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	return m.Close(sctx)
}

func newLogger(w io.Writer, c Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Main is a running parley server: what it opened, in the order Close undoes it.
type Main struct {
	Config Config
	Log    *slog.Logger
	Clock  parley.Clock

	Store Store
	Bus   parley.Bus
	Hub   *ws.Hub
	// Control is this node's end of the revocation protocol.
	Control *control.Plane
	// Cluster answers and asks for the nodes' snapshots (the console's views).
	Cluster *nodes.Cluster
	NodeID  string
	Key     *parley.AccessKey // the credential printed at start
	URL     string            // http://host:port once listening

	http     *http.Server
	ln       net.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	registry *prometheus.Registry
	chatLog  *chatlog.Logger
	// What every request reads, kept current by the control plane: rooms
	// as the hub and the hot service paths read them, access keys as
	// signatures are checked with them, and Chime accounts as room calls
	// and devices read them.
	rooms    *cache.Rooms
	keys     *cache.Keys
	accounts *cache.Accounts
	debug    *http.Server
}

// Store is what Main needs of a store: the parley.Store and a health check.
type Store interface {
	parley.Store
	Ping(ctx context.Context) error
}

// openStore opens the store the configuration names.
func openStore(ctx context.Context, c Config) (Store, error) {
	if isPostgres(c.Store) {
		return postgres.Open(ctx, c.Store, "")
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone; it holds secrets.
	if err := os.Chmod(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(c.DataDir, "parley.db"))
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Log: slog.New(slog.DiscardHandler), Clock: parley.SystemClock{}}
}

// Run opens the store and bus, builds the server and starts serving. It
// returns once the listener accepts connections.
func (m *Main) Run(ctx context.Context) (err error) {
	if err := m.configure(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.Close(context.Background())
		}
	}()
	c := m.Config

	if m.Store, err = openStore(ctx, c); err != nil {
		return err
	}
	m.NodeID = parley.NewID()
	if m.Bus, err = openBus(c, m.NodeID, m.Log); err != nil {
		return err
	}
	if m.Key, err = ensureKey(ctx, m.Store, c, m.Clock); err != nil {
		return err
	}
	sealer, err := tokenSealer(ctx, m.Store)
	if err != nil {
		return err
	}
	m.chatLog = m.newChatLog()
	lambdas := &webhook.Client{Lambdas: c.LambdaEndpoints}
	svc := m.newService(sealer, lambdas)
	m.Hub = m.newHub(svc, sealer, lambdas)
	if err := m.Hub.Run(ctx); err != nil {
		return err
	}
	m.registry = prometheus.NewRegistry()
	ops := metrics.New(m.registry, m.NodeID, m.Hub)
	svc.Core.Gate = m.Hub
	// Each cache forgets what a command changed before the hub applies it.
	sockets := m.accounts.Invalidating(m.keys.Invalidating(m.rooms.Invalidating(m.Hub)))
	m.Control = control.New(m.Store, m.Bus, sockets, m.Log, control.Config{NodeID: m.NodeID, Heartbeat: c.HeartbeatInterval, Lease: c.Lease, Timeout: c.CommandTimeout, Observer: ops})
	ops.SetControl(m.Control)
	svc.Core.Control = m.Control
	if err := m.Control.Start(ctx); err != nil {
		return err
	}
	m.Cluster = nodes.New(m.Bus, m.Hub, m.Control, m.Log, nodes.Config{NodeID: m.NodeID})
	if err := m.Cluster.Start(ctx); err != nil {
		return err
	}

	srv, err := m.newServer(ctx, svc, sealer, ops)
	if err != nil {
		return err
	}
	if err := m.listen(srv); err != nil {
		return err
	}
	m.startBackground()
	m.Log.Info("listening", "url", m.URL)
	return nil
}

// configure reads the secret access key file, validates the configuration
// and logs it, with a warning for each setting that weakens security.
func (m *Main) configure() error {
	if err := m.Config.readSecret(); err != nil {
		return err
	}
	c := m.Config
	if err := c.Validate(); err != nil {
		return err
	}
	m.Log.Info("starting parley", c.redacted()...)
	if c.secretOnCommandLine {
		m.Log.Warn("the secret access key was given with --secret-access-key, which other users can read in the process list; prefer --secret-access-key-file or PARLEY_SECRET_ACCESS_KEY")
	}
	if c.InsecureDevAuth {
		m.Log.Warn("INSECURE DEVELOPMENT MODE: request signatures are NOT verified and any credentials are accepted. Never run this way where others can reach the port.")
	}
	return nil
}

// openBus opens the bus the configuration names: in-process, or NATS with
// the node's name.
func openBus(c Config, nodeID string, log *slog.Logger) (parley.Bus, error) {
	if c.Bus == "inmem" {
		return inmem.New(), nil
	}
	return natsbus.Connect(c.Bus, "parley-"+nodeID, log)
}

// tokenSealer returns the sealer of chat and session tokens, with the key
// kept in the store (made on first start), so every node shares it.
func tokenSealer(ctx context.Context, s Store) (*chattoken.Sealer, error) {
	tokenKey, err := s.Secret(ctx, "chat-token-key", chattoken.NewKey)
	if err != nil {
		return nil, fmt.Errorf("chat token key: %w", err)
	}
	return chattoken.NewSealer(tokenKey)
}

// newChatLog returns the writer of rooms' chat logs, under ChatLogDir or
// else <data>/chat-logs.
func (m *Main) newChatLog() *chatlog.Logger {
	logDir := m.Config.ChatLogDir
	if logDir == "" {
		logDir = filepath.Join(m.Config.DataDir, "chat-logs")
	}
	return &chatlog.Logger{Root: logDir, Store: m.Store, Log: m.Log, Encode: ws.Frame}
}

// newService builds the operations layer on the store, the bus and the
// chat log. Its control plane is set once that is built (it needs the hub,
// which needs the service).
//
// What every request reads is kept in memory, current by the control
// plane's commands: rooms, access keys (for newServer) and Chime accounts.
func (m *Main) newService(sealer *chattoken.Sealer, lambdas *webhook.Client) *service.Services {
	c := m.Config
	svc := service.New(service.Config{Store: m.Store, Bus: m.Bus, Clock: m.Clock, Tokens: sealer, Log: m.Log, ChatLog: m.chatLog,
		Chime:  service.ChimeOptions{Strict: c.ChimeStrict, SessionLifetime: c.SessionLifetime, Bots: lambdas},
		Limits: service.Limits{RoomsPerAccount: c.RoomQuota, LoggingConfigurationsPerAccount: c.LoggingQuota, TokenLifetime: c.TokenLifetime}})
	m.rooms = cache.NewRooms(m.Store, m.Clock.Now)
	m.keys = cache.NewKeys(m.Store, m.Clock.Now)
	m.accounts = cache.NewAccounts(m.Store, m.Clock.Now)
	svc.Rooms.Lookup = m.rooms
	svc.ChimeRooms.AccountLookup = m.accounts
	return svc
}

// newHub builds this node's WebSocket hub; Run starts it.
func (m *Main) newHub(svc *service.Services, sealer *chattoken.Sealer, lambdas *webhook.Client) *ws.Hub {
	c := m.Config
	hubSvc := struct {
		*service.Rooms
		*service.ChimeRooms
	}{svc.Rooms, svc.ChimeRooms}
	return ws.NewHub(hubStore{m.Store, m.rooms}, m.Bus, hubSvc, sealer, m.Clock, m.Log, ws.Config{NodeID: m.NodeID, PingInterval: c.PingInterval, SendQueue: c.SendQueue,
		Backlog: c.FanoutBacklog, PublishWait: c.PublishWait,
		ControlRate: c.ControlRate, ControlBurst: c.ControlBurst,
		Reviewer: &ws.LambdaReviewer{Caller: lambdas, Timeout: c.ReviewTimeout}})
}

// newServer builds the HTTP handler: SigV4 verification, throttling, the
// IVS and Chime APIs, the WebSocket hub, bots, the console and health.
func (m *Main) newServer(ctx context.Context, svc *service.Services, sealer *chattoken.Sealer, ops *metrics.Metrics) (*server.Server, error) {
	c := m.Config
	limiter := server.NewLimiter(map[string]map[string]float64{"ivschat": server.IVSRates}, c.ThrottleScale)
	limiter.SetDefault("chime", c.ChimeRate)
	limiter.SetClock(m.Clock.Now)
	verifier := &sigv4.Verifier{Keys: m.keys, Services: []string{"ivschat", "chime"},
		Insecure: c.InsecureDevAuth, InsecureAccount: m.Key.AccountID, InsecureRegion: c.Region}
	if !slices.Contains(c.Regions, "*") {
		verifier.Regions = c.Regions
	}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	chime := chimeapi.New(svc.Chime(), sealer, limiter, m.Log)
	ivs := ivsapi.New(svc.IVS(), limiter, m.Log)
	srv := server.New(verifier, ivs, chime, m.Log, m.registry, m.registry,
		server.Limits{BodyTimeout: c.BodyTimeout, HandshakeRate: c.HandshakeRate, HandshakeBurst: c.HandshakeBurst})
	srv.Bots, srv.BotPrefix = http.HandlerFunc(chime.BotPost), chimeapi.BotPath
	srv.WS = ops.Handshakes(m.Hub)
	var err error
	if srv.Console, err = console.New(ctx, m.Store, svc.AuditLog, m.Cluster, m.Bus, ivs, chime, m.Log,
		console.Config{Region: c.Region, NodeID: m.NodeID, Lease: m.Control.Config().Lease}); err != nil {
		return nil, err
	}
	srv.Health = func(r *http.Request) error { return m.Store.Ping(r.Context()) }
	return srv, nil
}

// listen opens the listener, with the connection limits, and the HTTP
// server that will serve srv on it.
func (m *Main) listen(srv *server.Server) error {
	c := m.Config
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	maxConns := c.maxConnections()
	limited := &server.Listener{Listener: ln, Max: max(maxConns, 0), Headroom: c.HealthHeadroom, PerIP: c.ConnsPerIP,
		Log: m.Log, Refused: srv.ConnectionRefused}
	m.ln = limited
	m.registry.MustRegister(
		// WebSockets by API are parley_connections_open (package metrics).
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_open_connections",
			Help: "Connections the listener holds, HTTP and WebSocket, toward --max-connections."}, func() float64 { return float64(limited.Open()) }))
	m.URL = "http://" + m.ln.Addr().String()
	m.http = &http.Server{Handler: srv, ReadHeaderTimeout: c.ReadHeaderTimeout, IdleTimeout: c.IdleTimeout, MaxHeaderBytes: c.MaxHeaderBytes,
		ConnContext: server.ConnContext,
		// Accept errors and the like, in the log's format rather than Go's plain text.
		ErrorLog: slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)}
	m.Log.Info("connection limits", "max_connections", maxConns, "health_headroom", c.HealthHeadroom, "per_ip", c.ConnsPerIP,
		"handshake_rate_per_ip", c.HandshakeRate)
	return nil
}

// startBackground serves HTTP on the listener and starts the loops Close
// stops: retention (spent chat tokens, old audit records, free space), and the
// pprof server if asked for.
func (m *Main) startBackground() {
	c := m.Config
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		if err := m.http.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		defer m.wg.Done()
		retention.New(m.Store, retention.Config{Audit: c.AuditRetention, ExportDir: c.AuditExport}, m.Clock, m.Log).Run(bg)
	}()
	if c.DebugAddr != "" {
		dbg := &http.Server{Addr: c.DebugAddr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		m.debug = dbg
		go func() {
			if err := dbg.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Log.Error("debug server stopped", "err", err)
			}
		}()
		m.Log.Info("serving pprof", "addr", c.DebugAddr)
	}
}

// maxConnections is the listener's connection limit: MaxConnections, or
// for 0 the open-file limit less FileReserve; -1 means none.
func (c Config) maxConnections() int {
	if c.MaxConnections == 0 {
		return connectionLimit(c.FileReserve)
	}
	return c.MaxConnections
}

// hubStore is the store as the hub reads it: rooms through the cache.
type hubStore struct {
	ws.Store
	rooms *cache.Rooms
}

func (s hubStore) Room(ctx context.Context, sc parley.Scope, id string) (*parley.Room, error) {
	return s.rooms.Room(ctx, sc, id)
}

// connectionLimit is the open-file limit less reserve, for the store, the
// bus and logs; at least 64.
func connectionLimit(reserve int) int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1 << 20
	}
	return max(int(rl.Cur)-reserve, 64)
}

// Close stops accepting requests, lets running ones finish, then closes the
// bus and the store.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.http != nil {
		if err := m.http.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if m.debug != nil {
		m.debug.Close()
	}
	if m.Cluster != nil {
		m.Cluster.Stop()
	}
	if m.Control != nil {
		m.Control.Stop()
	}
	if m.Hub != nil {
		errs = append(errs, m.Hub.Shutdown(ctx))
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.Bus != nil {
		errs = append(errs, m.Bus.Close(ctx))
	}
	if m.chatLog != nil {
		errs = append(errs, m.chatLog.Close())
	}
	if m.Store != nil {
		if m.NodeID != "" {
			m.Store.RemoveNode(ctx, m.NodeID) // others need not wait for a node that left
		}
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

func (m *Main) printBanner(w io.Writer) {
	mode := "SigV4 signatures verified"
	if m.Config.InsecureDevAuth {
		mode = "INSECURE: any credentials accepted"
	}
	fmt.Fprintf(w, `parley is running (%s)
  endpoint URL:       %s
  WebSocket URL:      %s
  region:             %s
  AWS account ID:     %s
  access key ID:      %s
  secret access key:  (not shown: parley env prints it)
  data directory:     %s

Use it from a shell:  eval "$(go run ./cmd/parley env --data %s)"
`, mode, m.URL, "ws"+strings.TrimPrefix(m.URL, "http"), m.Config.Region, m.Key.AccountID, m.Key.ID,
		m.Config.DataDir, m.Config.DataDir)
}

// ensureKey stores the configured credential, or generates one if the store
// has none, and returns the credential to print.
// A configured key already stored for another account is refused: moving
// a key between accounts is for keys create --replace, said on purpose.
// A stored key given a new secret is a change the running nodes must hear
// of: its command goes to the outbox with it, and each node forgets the old
// secret at its next heartbeat (nothing waits for them: this node is
// starting).
func ensureKey(ctx context.Context, s parley.Store, c Config, clock parley.Clock) (*parley.AccessKey, error) {
	if c.AccessKeyID != "" {
		account := c.AccountID
		if account == "" {
			account = "123456789012"
		}
		if c.SecretAccessKey == "" {
			return nil, errors.New("the access key's secret is empty")
		}
		old, err := s.AccessKey(ctx, c.AccessKeyID)
		switch {
		case err == nil && old.AccountID != account:
			return nil, fmt.Errorf("access key %s belongs to account %s, not %s (parley keys create --replace moves it)", c.AccessKeyID, old.AccountID, account)
		case err != nil && parley.KindOf(err) != parley.KindNotFound:
			return nil, err
		}
		k := &parley.AccessKey{ID: c.AccessKeyID, Secret: c.SecretAccessKey, AccountID: account, CreateTime: clock.Now()}
		if err == nil && old.Secret != k.Secret {
			cmd := keyChanged(k.ID, clock)
			ctx = parley.WithOutbox(ctx, control.Entry(&cmd))
		}
		return k, s.PutAccessKey(ctx, k)
	}
	keys, err := s.AccessKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		return keys[0], nil
	}
	account := c.AccountID
	if account == "" {
		account = parley.NewAccountID()
	}
	k := &parley.AccessKey{ID: parley.NewAccessKeyID(), Secret: parley.NewSecretAccessKey(), AccountID: account, CreateTime: clock.Now()}
	return k, s.PutAccessKey(ctx, k)
}
