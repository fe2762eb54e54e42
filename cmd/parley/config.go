package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything parley serve can be told. Each field can be set by a
// flag or by the PARLEY_* environment variable named in its flag's usage.
type Config struct {
	Addr    string // listen address; "127.0.0.1:0" picks a free port
	DataDir string // where the embedded store keeps its files
	Store   string // "sqlite" (the embedded default, in DataDir) or a postgres:// URL
	Bus     string // "inmem" (the single-node default) or a nats:// URL

	Region          string // region shown at start and used for unsigned requests in insecure mode
	AccountID       string // account of the supplied or generated access key
	AccessKeyID     string // if set with SecretAccessKey, this credential is stored (its secret never printed)
	SecretAccessKey string
	// SecretAccessKeyFile, if set, is where SecretAccessKey is read from
	// (a file, unlike a flag, is not in the process list).
	SecretAccessKeyFile string
	secretOnCommandLine bool

	// InsecureDevAuth accepts any credentials without verifying signatures.
	// For local development only; off unless asked for.
	InsecureDevAuth bool

	ThrottleScale float64 // multiplies the AWS rate quotas and ChimeRate; 0 disables throttling
	ChimeRate     float64 // Chime API calls per second per account, region and operation; 0: none
	RoomQuota     int     // rooms per account and region; 0 means 50,000
	LoggingQuota  int     // logging configurations per account and region; 0 means 10
	TokenLifetime time.Duration
	// AuditRetention is how long audit records are kept (zero: forever);
	// AuditExport, if set, is a directory that receives each record before
	// it is removed.
	AuditRetention time.Duration
	AuditExport    string

	// LambdaEndpoints maps Lambda function ARNs (message review handlers,
	// bot events) to HTTP endpoints that stand in for them; ReviewTimeout
	// bounds each message review (IVS: 200 ms).
	LambdaEndpoints map[string]string
	ReviewTimeout   time.Duration
	PingInterval    time.Duration // WebSocket pings to detect dead peers
	SendQueue       int           // frames queued for a WebSocket client before it is dropped as slow
	FanoutBacklog   int           // frames a node's sockets may have queued before room traffic waits
	PublishWait     time.Duration // how long a message or event waits for the backlog before ThrottlingException
	ChatLogDir      string        // where logging configurations deliver; "" means <data>/chat-logs

	ChimeStrict     bool          // enforce AWS's per-account-type rules on Chime operations
	SessionLifetime time.Duration // how long a Chime device session lasts

	LogLevel  string // debug, info, warn, error
	LogFormat string // text or json

	ShutdownTimeout time.Duration

	// HeartbeatInterval is how often the node records that it is alive; Lease
	// is how long it may go without reaching the store or the bus before it
	// fences itself (drops every connection), and how long other nodes wait
	// for a node that stopped heartbeating before counting it gone.
	HeartbeatInterval time.Duration
	Lease             time.Duration
	CommandTimeout    time.Duration // how long a revocation waits for every node

	// Limits on what clients, authenticated or not, can make the server
	// hold. MaxConnections 0 means as many as the open-file limit allows,
	// less FileReserve kept for the store, the bus and logs; -1 means none.
	MaxConnections    int
	FileReserve       int
	HealthHeadroom    int           // of MaxConnections, kept for /healthz and /metrics
	ConnsPerIP        int           // connections from one address (IPv6: /64); 0: no limit
	HandshakeRate     float64       // WebSocket handshakes per second from one address; 0: no limit
	HandshakeBurst    int           // handshakes one address may start at once
	ReadHeaderTimeout time.Duration // how long a request's headers may take
	BodyTimeout       time.Duration // how long a request's body may take
	IdleTimeout       time.Duration // how long a keep-alive connection may idle
	MaxHeaderBytes    int
	// WebSocket control frames (pings) a client may send per second and at
	// once before it is closed with 1008.
	ControlRate  float64
	ControlBurst int

	// Regions a credential may be scoped to; ["*"] accepts any region name.
	Regions []string

	// DebugAddr, if set, serves net/http/pprof on its own listener (never on
	// the API port: profiles are not for the clients).
	DebugAddr string
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr: "127.0.0.1:8080", DataDir: "parley-data", Store: "sqlite", Bus: "inmem",
		Region: "us-east-1", ThrottleScale: 1, ChimeRate: 10, TokenLifetime: 60 * time.Minute,
		AuditRetention:  90 * 24 * time.Hour,
		LambdaEndpoints: map[string]string{}, ReviewTimeout: 200 * time.Millisecond, PingInterval: 30 * time.Second, SendQueue: 1024,
		FanoutBacklog: 1 << 16, PublishWait: time.Second,
		SessionLifetime: 12 * time.Hour, HeartbeatInterval: time.Second, Lease: 5 * time.Second, CommandTimeout: 10 * time.Second,
		LogLevel: "info", LogFormat: "text", ShutdownTimeout: 10 * time.Second,
		FileReserve: 256, HealthHeadroom: 16, ConnsPerIP: 1000, HandshakeRate: 20, HandshakeBurst: 100,
		ReadHeaderTimeout: 10 * time.Second, BodyTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10,
		Regions: AWSRegions, ControlRate: 5, ControlBurst: 20,
	}
}

// readSecret reads SecretAccessKeyFile into SecretAccessKey, if set.
func (c *Config) readSecret() error {
	if c.SecretAccessKeyFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.SecretAccessKeyFile)
	if err != nil {
		return fmt.Errorf("secret access key file: %w", err)
	}
	c.SecretAccessKey = strings.TrimRight(string(b), "\r\n")
	if c.SecretAccessKey == "" {
		return fmt.Errorf("secret access key file %s is empty", c.SecretAccessKeyFile)
	}
	return nil
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Store != "sqlite" && !isPostgres(c.Store):
		return fmt.Errorf("store %q: want sqlite or a postgres:// URL", c.Store)
	case c.Bus != "inmem" && !strings.HasPrefix(c.Bus, "nats://") && !strings.HasPrefix(c.Bus, "tls://"):
		return fmt.Errorf("bus %q: want inmem or a nats:// URL", c.Bus)
	case c.Lease < 2*c.HeartbeatInterval:
		return errors.New("the lease must be at least two heartbeat intervals")
	case (c.AccessKeyID == "") != (c.SecretAccessKey == ""):
		return errors.New("access key ID and secret access key must be given together")
	case c.AccountID != "" && !isAccountID(c.AccountID):
		return fmt.Errorf("account ID %q must be 12 digits", c.AccountID)
	case c.ThrottleScale < 0 || c.ChimeRate < 0:
		return errors.New("throttle scale and Chime rate must not be negative")
	case c.MaxConnections < -1 || c.ConnsPerIP < 0 || c.HandshakeRate < 0 || c.HandshakeBurst < 0 || c.FileReserve < 0 || c.ControlRate <= 0 || c.ControlBurst <= 0:
		return errors.New("connection limits must not be negative (max connections: -1 for none)")
	case c.MaxConnections > 0 && c.HealthHeadroom >= c.MaxConnections:
		return errors.New("the health headroom must be smaller than the connection limit")
	case len(c.Regions) == 0:
		return errors.New("at least one region must be accepted (--regions '*' for any)")
	}
	return nil
}

func isPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// flags binds c to a flag set; environment variables set the defaults.
func (c *Config) flags(fs *flag.FlagSet) {
	str := func(p *string, name, env, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+env+")")
	}
	str(&c.Addr, "addr", "PARLEY_ADDR", "listen address")
	str(&c.DataDir, "data", "PARLEY_DATA", "data directory of the embedded store")
	str(&c.Store, "store", "PARLEY_STORE", "state store: sqlite (embedded, in --data) or postgres://user@host/db")
	str(&c.Bus, "bus", "PARLEY_BUS", "message bus: inmem (one node) or nats://host:4222")
	str(&c.Region, "region", "PARLEY_REGION", "default region")
	str(&c.AccountID, "account-id", "PARLEY_ACCOUNT_ID", "AWS account ID of the supplied or generated access key")
	str(&c.AccessKeyID, "access-key-id", "PARLEY_ACCESS_KEY_ID", "access key ID to accept")
	if v, ok := os.LookupEnv("PARLEY_SECRET_ACCESS_KEY"); ok {
		c.SecretAccessKey = v
	}
	fs.Func("secret-access-key", "secret of that access key; visible in the process list, prefer --secret-access-key-file or the environment (env PARLEY_SECRET_ACCESS_KEY)",
		func(v string) error { c.SecretAccessKey, c.secretOnCommandLine = v, true; return nil })
	str(&c.SecretAccessKeyFile, "secret-access-key-file", "PARLEY_SECRET_ACCESS_KEY_FILE", "file holding the secret of that access key")
	str(&c.ChatLogDir, "chat-log-dir", "PARLEY_CHAT_LOG_DIR", "where logging configurations write chat logs (default <data>/chat-logs)")
	str(&c.DebugAddr, "debug-addr", "PARLEY_DEBUG_ADDR", "serve /debug/pprof on this address (off when empty)")
	str(&c.LogLevel, "log-level", "PARLEY_LOG_LEVEL", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "PARLEY_LOG_FORMAT", "log format: text or json")
	if v, ok := os.LookupEnv("PARLEY_INSECURE_DEV_AUTH"); ok {
		c.InsecureDevAuth, _ = strconv.ParseBool(v)
	}
	fs.BoolVar(&c.InsecureDevAuth, "insecure-dev-auth", c.InsecureDevAuth,
		"DEVELOPMENT ONLY: accept any credentials without checking signatures (env PARLEY_INSECURE_DEV_AUTH)")
	if v, ok := os.LookupEnv("PARLEY_THROTTLE_SCALE"); ok {
		c.ThrottleScale, _ = strconv.ParseFloat(v, 64)
	}
	fs.Float64Var(&c.ThrottleScale, "throttle-scale", c.ThrottleScale, "multiplier of the AWS API rate quotas; 0 disables throttling (env PARLEY_THROTTLE_SCALE)")
	if v, ok := os.LookupEnv("PARLEY_CHIME_RATE"); ok {
		c.ChimeRate, _ = strconv.ParseFloat(v, 64)
	}
	fs.Float64Var(&c.ChimeRate, "chime-rate", c.ChimeRate, "Chime API calls per second per account, region and operation (bursts as large), times --throttle-scale; 0: not throttled (env PARLEY_CHIME_RATE)")
	fs.IntVar(&c.RoomQuota, "room-quota", c.RoomQuota, "rooms per account and region (0: 50000)")
	fs.IntVar(&c.LoggingQuota, "logging-quota", c.LoggingQuota, "logging configurations per account and region (0: 10)")
	fs.DurationVar(&c.TokenLifetime, "token-lifetime", c.TokenLifetime, "how long a chat token can open a connection")
	fs.DurationVar(&c.AuditRetention, "audit-retention", c.AuditRetention, "how long audit records are kept, e.g. 2160h (90 days); 0 keeps them forever")
	fs.StringVar(&c.AuditExport, "audit-export", c.AuditExport, "directory that receives each audit record, as a line of JSON in audit-<date>.jsonl, before retention removes it")
	if v, ok := os.LookupEnv("PARLEY_LAMBDA_ENDPOINTS"); ok {
		for _, pair := range strings.Split(v, ",") {
			if arn, url, ok := strings.Cut(strings.TrimSpace(pair), "="); ok {
				c.LambdaEndpoints[arn] = url
			}
		}
	}
	lambda := func(v string) error {
		arn, url, ok := strings.Cut(v, "=")
		if !ok || !strings.HasPrefix(arn, "arn:aws:lambda:") {
			return errors.New("want arn:aws:lambda:...=http://...")
		}
		c.LambdaEndpoints[arn] = url
		return nil
	}
	fs.Func("lambda-endpoint", "ARN=URL: POST what AWS would send this Lambda function (message reviews, bot events) to URL; repeatable (env PARLEY_LAMBDA_ENDPOINTS, comma-separated)", lambda)
	fs.Func("review-endpoint", "the same as --lambda-endpoint", lambda)
	fs.DurationVar(&c.ReviewTimeout, "review-timeout", c.ReviewTimeout, "how long a message review may take before the fallback result applies")
	fs.DurationVar(&c.PingInterval, "ping-interval", c.PingInterval, "WebSocket ping interval; a peer that does not answer within an interval is dropped")
	fs.IntVar(&c.SendQueue, "send-queue", c.SendQueue, "frames queued for a WebSocket client that reads too slowly before it is dropped (close 1008)")
	fs.IntVar(&c.FanoutBacklog, "fanout-backlog", c.FanoutBacklog, "frames the node's sockets may have queued and not yet written (at most 8 a connection) before messages and events wait")
	fs.DurationVar(&c.PublishWait, "publish-wait", c.PublishWait, "how long a message or event waits for --fanout-backlog before it is refused (ThrottlingException, ERROR 429)")
	if v, ok := os.LookupEnv("PARLEY_CHIME_STRICT"); ok {
		c.ChimeStrict, _ = strconv.ParseBool(v)
	}
	fs.BoolVar(&c.ChimeStrict, "chime-strict", c.ChimeStrict, "enforce AWS's per-account-type rules on Chime operations (env PARLEY_CHIME_STRICT)")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", c.SessionLifetime, "how long a Chime device session lasts")
	fs.DurationVar(&c.Lease, "lease", c.Lease, "how long a node may lose the store or bus before it drops its connections")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat", c.HeartbeatInterval, "how often a node records that it is alive")
	fs.DurationVar(&c.CommandTimeout, "command-timeout", c.CommandTimeout, "how long a revocation waits for every node to confirm")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long shutdown may take")

	intv := func(p *int, name, env, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			*p, _ = strconv.Atoi(v)
		}
		fs.IntVar(p, name, *p, usage+" (env "+env+")")
	}
	dur := func(p *time.Duration, name, env, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			*p, _ = time.ParseDuration(v)
		}
		fs.DurationVar(p, name, *p, usage+" (env "+env+")")
	}
	intv(&c.MaxConnections, "max-connections", "PARLEY_MAX_CONNECTIONS", "connections held at most (0: the open-file limit less --file-reserve; -1: no limit)")
	intv(&c.FileReserve, "file-reserve", "PARLEY_FILE_RESERVE", "file descriptors kept for the store, bus and logs when --max-connections is 0")
	intv(&c.HealthHeadroom, "health-headroom", "PARLEY_HEALTH_HEADROOM", "of --max-connections, how many are kept for /healthz and /metrics")
	intv(&c.ConnsPerIP, "max-connections-per-ip", "PARLEY_MAX_CONNECTIONS_PER_IP", "connections from one address (IPv6: one /64); 0: no limit")
	if v, ok := os.LookupEnv("PARLEY_HANDSHAKE_RATE"); ok {
		c.HandshakeRate, _ = strconv.ParseFloat(v, 64)
	}
	fs.Float64Var(&c.HandshakeRate, "handshake-rate", c.HandshakeRate, "WebSocket handshakes per second from one address; 0: no limit (env PARLEY_HANDSHAKE_RATE)")
	intv(&c.HandshakeBurst, "handshake-burst", "PARLEY_HANDSHAKE_BURST", "WebSocket handshakes one address may start at once")
	dur(&c.ReadHeaderTimeout, "read-header-timeout", "PARLEY_READ_HEADER_TIMEOUT", "how long a request's headers may take to arrive")
	dur(&c.BodyTimeout, "body-timeout", "PARLEY_BODY_TIMEOUT", "how long a request's body may take to arrive")
	dur(&c.IdleTimeout, "idle-timeout", "PARLEY_IDLE_TIMEOUT", "how long an HTTP keep-alive connection may idle")
	intv(&c.MaxHeaderBytes, "max-header-bytes", "PARLEY_MAX_HEADER_BYTES", "largest request header block")
	if v, ok := os.LookupEnv("PARLEY_WS_CONTROL_RATE"); ok {
		c.ControlRate, _ = strconv.ParseFloat(v, 64)
	}
	fs.Float64Var(&c.ControlRate, "ws-control-rate", c.ControlRate, "WebSocket pings per second a client may send before it is closed with 1008 (env PARLEY_WS_CONTROL_RATE)")
	intv(&c.ControlBurst, "ws-control-burst", "PARLEY_WS_CONTROL_BURST", "WebSocket pings a client may send at once")
	if v, ok := os.LookupEnv("PARLEY_REGIONS"); ok {
		c.Regions = splitList(v)
	}
	fs.Func("regions", "comma-separated regions a credential may be scoped to, '*' for any (default: the AWS commercial regions; env PARLEY_REGIONS)",
		func(v string) error { c.Regions = splitList(v); return nil })
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// AWSRegions are the regions of the AWS commercial partition (ARNs here are
// arn:aws:...), the regions a credential may be scoped to by default.
var AWSRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
	"eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
	"me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// redacted returns the config as log attributes, secrets hidden.
func (c Config) redacted() []any {
	secret := ""
	if c.SecretAccessKey != "" {
		secret = "(set)"
	}
	store := c.Store
	if u, err := url.Parse(store); err == nil && u.User != nil {
		store = u.Redacted()
	}
	return []any{"addr", c.Addr, "data", c.DataDir, "store", store, "bus", c.Bus, "region", c.Region,
		"access_key_id", c.AccessKeyID, "secret_access_key", secret, "insecure_dev_auth", c.InsecureDevAuth,
		"throttle_scale", c.ThrottleScale, "log_level", strings.ToLower(c.LogLevel)}
}
