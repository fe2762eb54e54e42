package natsbus_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/bustest"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/natsbus"
)

func connect(t *testing.T, url string) *natsbus.Bus {
	t.Helper()
	b, err := natsbus.Connect(url, t.Name(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

func TestBus(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (parley.Bus, parley.Bus) {
		s := testenv.NATSServer(t, -1)
		return connect(t, s.ClientURL()), connect(t, s.ClientURL())
	})
}

// Ensure a bus knows when it has lost the server, refuses to publish
// meanwhile, and delivers again once the server is back.
func TestOutage(t *testing.T) {
	s := testenv.NATSServer(t, -1)
	port := s.Addr().String()
	a, b := connect(t, s.ClientURL()), connect(t, s.ClientURL())
	got := make(chan parley.Event, 10)
	if _, err := b.Subscribe(context.Background(), "s", func(ev parley.Event) { got <- ev }); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
	deadline := time.Now().Add(10 * time.Second)
	for a.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("bus still reports connected after the server stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := a.Publish(context.Background(), "s", parley.Event{Content: "lost"}); err == nil {
		t.Fatal("Publish succeeded while disconnected")
	}
	testenv.NATSServer(t, portOf(port))
	for !a.Connected() || !b.Connected() {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatal("bus did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The subscription survives the reconnection.
	for i := 0; ; i++ {
		a.Publish(context.Background(), "s", parley.Event{Content: "back"})
		select {
		case ev := <-got:
			if ev.Content != "back" {
				t.Fatalf("got %q", ev.Content)
			}
			return
		case <-time.After(100 * time.Millisecond):
			if i > 50 {
				t.Fatal("no delivery after reconnecting")
			}
		}
	}
}

func portOf(addr string) int {
	var p int
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			for _, c := range addr[i+1:] {
				p = p*10 + int(c-'0')
			}
			break
		}
	}
	return p
}

// Ensure the suite also passes against the machine's own NATS server.
func TestBusOnServer(t *testing.T) {
	url := testenv.NATSURL(t)
	bustest.Run(t, func(t *testing.T) (parley.Bus, parley.Bus) {
		return connect(t, url), connect(t, url)
	})
}
