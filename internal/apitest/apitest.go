// Package apitest builds a real service (SQLite in a temporary directory,
// the in-process bus) for tests and fuzz targets of the API packages, which
// drive their handlers without a network.
package apitest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/sqlite"
)

// Principal is the caller every request is made as.
var Principal = parley.Principal{AccessKeyID: "AKIAFUZZ", Service: "ivschat",
	Scope: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}}

// Service returns a service over a fresh SQLite store, closed with tb.
func Service(tb testing.TB) (*service.Services, *chattoken.Sealer) {
	tb.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "parley.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	key, err := chattoken.NewKey()
	if err != nil {
		tb.Fatal(err)
	}
	sealer, err := chattoken.NewSealer(key)
	if err != nil {
		tb.Fatal(err)
	}
	bus := inmem.New()
	tb.Cleanup(func() { bus.Close(context.Background()) })
	log := slog.New(slog.DiscardHandler)
	return service.New(service.Config{Store: store, Bus: bus, Control: Control(tb, store, bus, log), Clock: parley.SystemClock{},
		Tokens: sealer, Log: log}), sealer
}

// NoSockets is a node that holds no connection.
type NoSockets struct{}

func (NoSockets) Apply([]parley.Command)     {}
func (NoSockets) Fence()                     {}
func (NoSockets) Unfence()                   {}
func (NoSockets) Revalidate(context.Context) {}

// Control runs the control plane of a node without connections, stopped with tb.
func Control(tb testing.TB, store control.Store, bus parley.Bus, log *slog.Logger) *control.Plane {
	tb.Helper()
	p := control.New(store, bus, NoSockets{}, log, control.Config{NodeID: "apitest-" + parley.NewID(), Timeout: time.Second})
	if err := p.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	return p
}

// Request returns r as the server hands it to an API: with request info
// and the caller's principal in its context.
func Request(r *http.Request, p parley.Principal) *http.Request {
	ctx, _ := awsproto.WithInfo(r.Context())
	return r.WithContext(parley.NewContextWithPrincipal(ctx, p))
}

// Limiter records what it was asked and refuses with Err.
type Limiter struct {
	API, Op string
	Err     error
}

func (l *Limiter) Allow(_ context.Context, api, op string) error {
	l.API, l.Op = api, op
	return l.Err
}

// Unread is a request body that fails the test if it is read: for
// requests that must be refused (throttled, unauthenticated) before it is.
type Unread struct{ T testing.TB }

func (u Unread) Read([]byte) (int, error) {
	u.T.Error("the body of a request refused before it was read was read")
	return 0, io.EOF
}
