// Package natsbus implements parley.Bus on NATS core publish/subscribe,
// for several parley nodes. Events are JSON; delivery is at most once and
// ordered per subject for one publisher, the contract of parley.Bus.
package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/parley-chat/parley"
)

// Bus is a parley.Bus on one NATS connection.
type Bus struct {
	nc  *nats.Conn
	log *slog.Logger
}

var _ parley.Bus = (*Bus)(nil)

// Connect connects to the NATS server(s) at url. The connection reconnects
// forever; Connected tells whether it is up now.
func Connect(url, name string, log *slog.Logger) (*Bus, error) {
	b := &Bus{log: log}
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.PingInterval(2*time.Second), nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("bus disconnected", "err", err) }),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("bus reconnected") }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subject := ""
			if s != nil {
				subject = s.Subject
			}
			log.Error("bus error", "subject", subject, "err", err)
		}))
	if err != nil {
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	b.nc = nc
	return b, nil
}

// Connected reports whether the connection to NATS is up.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// ErrClosed is returned by operations on a closed bus.
var ErrClosed = errors.New("natsbus: bus closed")

// Publish sends ev to subject. It fails when the connection is down rather
// than buffer the event for later: a revocation must not arrive late.
func (b *Bus) Publish(ctx context.Context, subject string, ev parley.Event) error {
	if b.nc.IsClosed() {
		return ErrClosed
	}
	if !b.nc.IsConnected() {
		return errors.New("natsbus: not connected")
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return b.nc.Publish(subject, data)
}

// Subscribe calls h for each event on subject until cancel. It returns once
// the server has registered the subscription, so that an event published
// afterwards from any node reaches h.
func (b *Bus) Subscribe(ctx context.Context, subject string, h func(parley.Event)) (func(), error) {
	if b.nc.IsClosed() {
		return nil, ErrClosed
	}
	sub, err := b.nc.Subscribe(subject, func(m *nats.Msg) {
		var ev parley.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			b.log.Error("undecodable bus event", "subject", m.Subject, "err", err)
			return
		}
		h(ev)
	})
	if err != nil {
		return nil, err
	}
	// A generous pending limit: a slow handler delays its own subject only.
	sub.SetPendingLimits(1<<20, 256<<20)
	// The caller's deadline bounds the round trip; without one, 5 seconds.
	fctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(fctx); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("natsbus: subscribe %s: %w", subject, err)
	}
	return func() { sub.Unsubscribe() }, nil
}

// Ping makes a round trip to the server within ctx. A server that stops
// answering without closing the connection fails it, long before NATS's own
// ping interval notices.
func (b *Bus) Ping(ctx context.Context) error {
	if !b.nc.IsConnected() {
		return errors.New("natsbus: not connected")
	}
	return b.nc.FlushWithContext(ctx)
}

// Close drains nothing: parley's events are not worth delaying shutdown for.
func (b *Bus) Close(ctx context.Context) error {
	b.nc.Close()
	return nil
}
