package control_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/sqlite"
)

// The control plane's conformance suite asserts one property, on every
// store and bus it runs over: when a revocation returns success, no live
// node holds a connection it names; when it returns an error, it is still
// carried out, or the node holding the connection fenced, within the lease
// plus a bounded time.

// Timing of the nodes under test: short, so the suite runs in seconds.
const (
	heartbeat = 100 * time.Millisecond
	lease     = time.Second
	timeout   = 2 * time.Second
)

// env is a store and bus to run the suite over.
type env struct {
	store func(t *testing.T) control.Store
	// bus connects a new node to the shared bus; isolated to a bus no other
	// node is on, as a node cut off from the others' bus would be.
	bus      func(t *testing.T) parley.Bus
	isolated func(t *testing.T) parley.Bus
}

// sockets stands in for a node's hub: the connections it holds, by key.
type sockets struct {
	mu      sync.Mutex
	open    map[string]bool
	applied []string // command IDs, in the order carried out
	fenced  bool
	hold    time.Duration // how long Apply takes, as a node busy closing would
}

func userKey(room, user string) string { return "ivs/" + room + "/" + user }
func deviceKey(user string) string     { return "chime/" + user }

func (s *sockets) Apply(cmds []parley.Command) {
	time.Sleep(s.hold)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cmds {
		s.applied = append(s.applied, c.ID)
		switch c.Op {
		case parley.OpDisconnectUser:
			delete(s.open, userKey(c.Room, c.User))
		case parley.OpDeleteRoom:
			for k := range s.open {
				if strings.HasPrefix(k, "ivs/"+c.Room+"/") {
					delete(s.open, k)
				}
			}
		case parley.OpSignOut:
			for _, u := range c.Users {
				delete(s.open, deviceKey(u))
			}
		}
	}
}

func (s *sockets) Fence() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open, s.fenced = map[string]bool{}, true
}

func (s *sockets) Unfence() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fenced = false
}

func (s *sockets) Revalidate(context.Context) {}

func (s *sockets) connect(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open[key] = true
}

func (s *sockets) holds(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open[key]
}

func (s *sockets) isFenced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fenced
}

func (s *sockets) order() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.applied...)
}

// node is one parley node as the control plane sees it.
type node struct {
	id      string
	plane   *control.Plane
	sockets *sockets
	bus     parley.Bus
	stopped bool
}

func (n *node) kill() {
	if !n.stopped {
		n.stopped = true
		n.plane.Stop()
		n.bus.Close(context.Background())
	}
}

type cluster struct {
	t     *testing.T
	store control.Store
	nodes []*node
}

func newCluster(t *testing.T, e env) *cluster {
	return &cluster{t: t, store: e.store(t)}
}

// add starts a node on bus, with cfg's zero fields set to the suite's timing.
func (c *cluster) add(bus parley.Bus, cfg control.Config) *node {
	c.t.Helper()
	n := &node{id: fmt.Sprintf("node-%d-%s", len(c.nodes), parley.NewID()), sockets: &sockets{open: map[string]bool{}}, bus: bus}
	cfg.NodeID = n.id
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = heartbeat
	}
	if cfg.Lease == 0 {
		cfg.Lease = lease
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = timeout
	}
	n.plane = control.New(c.store, bus, n.sockets, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	if err := n.plane.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(n.kill)
	c.nodes = append(c.nodes, n)
	return n
}

// start starts n nodes on the shared bus.
func (c *cluster) start(e env, n int) {
	for range n {
		c.add(e.bus(c.t), control.Config{})
	}
}

// noLiveNodeHolds fails t if a node that is running and unfenced holds key.
func (c *cluster) noLiveNodeHolds(key string) {
	c.t.Helper()
	for _, n := range c.nodes {
		if !n.stopped && n.sockets.holds(key) {
			c.t.Fatalf("%s still holds %s", n.id, key)
		}
	}
}

// eventually waits up to within for cond.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func disconnect(room, user string) parley.Command {
	return parley.Command{Op: parley.OpDisconnectUser, Scope: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, Room: room, User: user, Time: time.Now()}
}

func outboxEmpty(t *testing.T, s control.Store) {
	t.Helper()
	eventually(t, time.Second, "the outbox empties", func() bool {
		p, err := s.PendingOutbox(context.Background(), "observer")
		return err == nil && len(p) == 0
	})
}

// observer records what the control plane reports.
type observer struct {
	mu   sync.Mutex
	ops  []parley.Op
	took time.Duration
	err  error
}

func (o *observer) Revoked(cmds []parley.Command, took time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ops = o.ops[:0]
	for _, c := range cmds {
		o.ops = append(o.ops, c.Op)
	}
	o.took, o.err = took, err
}

func (o *observer) last() ([]parley.Op, time.Duration, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]parley.Op(nil), o.ops...), o.took, o.err
}

func runSuite(t *testing.T, e env) {
	t.Run("EveryNodeClosesBeforeReturn", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 3)
		for _, n := range c.nodes {
			n.sockets.connect(userKey("r1", "alice"))
			n.sockets.connect(userKey("r1", "bob"))
		}
		if err := c.nodes[1].plane.Do(context.Background(), nil, disconnect("r1", "alice")); err != nil {
			t.Fatal(err)
		}
		c.noLiveNodeHolds(userKey("r1", "alice"))
		for _, n := range c.nodes {
			if !n.sockets.holds(userKey("r1", "bob")) {
				t.Fatalf("%s lost bob, who was not disconnected", n.id)
			}
		}
		outboxEmpty(t, c.store)
	})

	t.Run("ObserverAndStats", func(t *testing.T) {
		c := newCluster(t, e)
		obs := &observer{}
		c.add(e.bus(t), control.Config{Observer: obs})
		c.add(e.bus(t), control.Config{})
		c.nodes[1].sockets.connect(userKey("r1", "alice"))
		c.nodes[1].sockets.hold = 100 * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- c.nodes[0].plane.Do(context.Background(), nil, disconnect("r1", "alice")) }()
		eventually(t, time.Second, "the command counts as waiting", func() bool { return c.nodes[0].plane.Stats().Waiting == 1 })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		st := c.nodes[0].plane.Stats()
		if st.Waiting != 0 || st.Fenced || !st.StoreUp || !st.BusUp {
			t.Fatalf("Stats after the call = %+v, want nothing waiting, healthy", st)
		}
		ops, took, err := obs.last()
		if len(ops) != 1 || ops[0] != parley.OpDisconnectUser || err != nil || took < 100*time.Millisecond {
			t.Fatalf("observer saw %v in %v (err %v), want DisconnectUser in >= 100ms, the time node 1 held it", ops, took, err)
		}
	})

	t.Run("CallerCancelsMidCall", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 3)
		for _, n := range c.nodes {
			n.sockets.connect(userKey("r1", "alice"))
		}
		c.nodes[2].sockets.hold = 300 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		err := c.nodes[0].plane.Do(ctx, nil, disconnect("r1", "alice"))
		if err != nil {
			t.Fatalf("Do with the caller gone: %v (the revocation was durable: it must go on)", err)
		}
		c.noLiveNodeHolds(userKey("r1", "alice"))
	})

	t.Run("WriteFailsNothingHappens", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 2)
		c.nodes[1].sockets.connect(userKey("r1", "alice"))
		refused := parley.Errorf(parley.KindNotFound, "no such user")
		err := c.nodes[0].plane.Do(context.Background(), func(context.Context) error { return refused }, disconnect("r1", "alice"))
		if err != refused {
			t.Fatalf("Do = %v, want the write's error", err)
		}
		time.Sleep(3 * heartbeat)
		if !c.nodes[1].sockets.holds(userKey("r1", "alice")) {
			t.Fatal("a command whose write failed was carried out")
		}
	})

	t.Run("NodeKilled", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 3)
		for _, n := range c.nodes {
			n.sockets.connect(userKey("r1", "alice"))
		}
		c.nodes[2].kill() // no goodbye: its heartbeat just stops
		start := time.Now()
		if err := c.nodes[0].plane.Do(context.Background(), nil, disconnect("r1", "alice")); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > lease+500*time.Millisecond {
			t.Fatalf("Do took %s with a dead node, want at most the lease (%s) and a little", took, lease)
		}
		c.noLiveNodeHolds(userKey("r1", "alice"))
	})

	t.Run("NodeOffTheBusReadsTheOutbox", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 2)
		cut := c.add(e.isolated(t), control.Config{})
		for _, n := range c.nodes {
			n.sockets.connect(deviceKey("u1"))
		}
		cmd := parley.Command{Op: parley.OpSignOut, Chime: parley.ChimeRoomKey{ChimeAccountKey: parley.ChimeAccountKey{AWS: "123456789012", Account: "acc"}}, Users: []string{"u1"}, Reason: "logout", Time: time.Now()}
		if err := c.nodes[0].plane.Do(context.Background(), nil, cmd); err != nil {
			t.Fatal(err)
		}
		if cut.sockets.holds(deviceKey("u1")) {
			t.Fatal("the node off the bus still holds the device after Do returned")
		}
		c.noLiveNodeHolds(deviceKey("u1"))
		outboxEmpty(t, c.store)
	})

	t.Run("TimeoutStillCompletes", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 1)
		// Off the bus and slow to read the outbox: the caller gives up first.
		slow := c.add(e.isolated(t), control.Config{Heartbeat: 400 * time.Millisecond, Lease: 5 * time.Second})
		slow.sockets.connect(userKey("r1", "alice"))
		caller := c.add(e.bus(t), control.Config{Timeout: 150 * time.Millisecond})
		err := caller.plane.Do(context.Background(), nil, disconnect("r1", "alice"))
		if err == nil || !control.Queued(err) || parley.KindOf(err) != parley.KindUnavailable {
			t.Fatalf("Do = %v, want an Unavailable error after the commands were queued", err)
		}
		eventually(t, 5*time.Second+time.Second, "the slow node carries the command out", func() bool { return !slow.sockets.holds(userKey("r1", "alice")) })
		outboxEmpty(t, c.store)
	})

	t.Run("CommandsApplyInOrder", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 3)
		var want []string
		for i := range 20 {
			cmd := disconnect("r1", fmt.Sprintf("u%d", i))
			cmd.ID = fmt.Sprintf("cmd-%02d-%s", i, parley.NewID())
			want = append(want, cmd.ID)
			if err := c.nodes[i%3].plane.Do(context.Background(), nil, cmd); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range c.nodes {
			if got := n.sockets.order(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("%s applied\n%v\nwant\n%v", n.id, got, want)
			}
		}
	})

	// A program outside the nodes (parley keys) makes a change and returns
	// only once every live node carried its command out: over the bus, or
	// with no bus through the store, which the nodes read at each heartbeat.
	t.Run("CallerOutsideTheNodes", func(t *testing.T) {
		for _, viaBus := range []bool{true, false} {
			c := newCluster(t, e)
			c.start(e, 2)
			c.add(e.isolated(t), control.Config{}) // off the bus: it reads the outbox
			for _, n := range c.nodes {
				n.sockets.connect(userKey("r1", "alice"))
			}
			var bus parley.Bus
			if viaBus {
				bus = e.bus(t)
			}
			caller := control.NewCaller(c.store, bus, slog.New(slog.NewTextHandler(io.Discard, nil)), control.Config{Heartbeat: heartbeat, Lease: lease, Timeout: timeout})
			if n, err := caller.Do(context.Background(), nil, disconnect("r1", "alice")); err != nil || n != 3 {
				t.Fatalf("Caller.Do (bus %v) = %d, %v, want 3 nodes confirmed", viaBus, n, err)
			}
			c.noLiveNodeHolds(userKey("r1", "alice"))
			outboxEmpty(t, c.store)
		}
	})

	t.Run("CallerNoNodes", func(t *testing.T) {
		c := newCluster(t, e)
		caller := control.NewCaller(c.store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), control.Config{Heartbeat: heartbeat, Lease: lease, Timeout: timeout})
		refused := parley.Errorf(parley.KindNotFound, "no such key")
		if n, err := caller.Do(context.Background(), func(context.Context) error { return refused }, disconnect("r1", "alice")); err != refused || n != 0 {
			t.Fatalf("Caller.Do with a failing write = %d, %v, want the write's error", n, err)
		}
		outboxEmpty(t, c.store)
		start := time.Now()
		if n, err := caller.Do(context.Background(), nil, disconnect("r1", "alice")); n != 0 || err != nil {
			t.Fatalf("Caller.Do with no node running = %d, %v, want 0, nil", n, err)
		}
		if took := time.Since(start); took > heartbeat {
			t.Fatalf("Caller.Do with no node running took %s", took)
		}
	})

	t.Run("CallerTimesOut", func(t *testing.T) {
		c := newCluster(t, e)
		slow := c.add(e.isolated(t), control.Config{Heartbeat: 400 * time.Millisecond, Lease: 5 * time.Second})
		slow.sockets.connect(userKey("r1", "alice"))
		caller := control.NewCaller(c.store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), control.Config{Lease: 5 * time.Second, Timeout: 150 * time.Millisecond})
		n, err := caller.Do(context.Background(), nil, disconnect("r1", "alice"))
		if n != 0 || !control.Queued(err) || parley.KindOf(err) != parley.KindUnavailable {
			t.Fatalf("Caller.Do past its timeout = %d, %v, want 0 and an Unavailable error after the commands were queued", n, err)
		}
		eventually(t, 2*time.Second, "the slow node carries the command out", func() bool { return !slow.sockets.holds(userKey("r1", "alice")) })
		outboxEmpty(t, c.store)
	})

	t.Run("BatchOfFifty", func(t *testing.T) {
		c := newCluster(t, e)
		c.start(e, 3)
		var cmds []parley.Command
		for i := range 50 {
			u := fmt.Sprintf("user-%d", i)
			for _, n := range c.nodes {
				n.sockets.connect(deviceKey(u))
			}
			cmds = append(cmds, parley.Command{Op: parley.OpSignOut, Chime: parley.ChimeRoomKey{ChimeAccountKey: parley.ChimeAccountKey{AWS: "123456789012", Account: "acc"}}, Users: []string{u}, Reason: "suspended", Time: time.Now()})
		}
		// As BatchSuspendUser does: one transaction per user, then one delivery.
		for i := range cmds {
			if err := c.store.AppendOutbox(context.Background(), control.Entry(&cmds[i])); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.nodes[0].plane.Deliver(context.Background(), cmds...); err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			c.noLiveNodeHolds(deviceKey(fmt.Sprintf("user-%d", i)))
		}
		outboxEmpty(t, c.store)
	})
}

func TestInmemSQLite(t *testing.T) {
	dir := t.TempDir()
	router := inmem.NewRouter()
	e := env{
		store: func(t *testing.T) control.Store {
			// One file per case, shared by the case's nodes.
			s, err := sqlite.Open(context.Background(), filepath.Join(dir, parley.NewID()+".db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		bus:      func(t *testing.T) parley.Bus { return router.Bus() },
		isolated: func(t *testing.T) parley.Bus { return inmem.New() },
	}
	runSuite(t, e)
}

// natsServer is a nats-server process, so that a test can kill or freeze it.
type natsServer struct {
	url string
	cmd *exec.Cmd
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nats-server"); err2 != nil {
			testenv.Unavailable(t, "the nats-server program (apt-get install nats-server)")
		}
		bin = "/usr/sbin/nats-server"
	}
	port := testenv.FreePort(t)
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &natsServer{url: fmt.Sprintf("nats://127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	eventually(t, 10*time.Second, "nats-server listens", func() bool { return testenv.Listening(s.url) })
	return s
}

func connectNATS(t *testing.T, url string) parley.Bus {
	t.Helper()
	b, err := natsbus.Connect(url, "control-test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

func openPostgres(t *testing.T, dsn string) control.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, testenv.PostgresSchema(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestNATSPostgres(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	shared := startNATS(t)
	e := env{
		store:    func(t *testing.T) control.Store { return openPostgres(t, dsn) },
		bus:      func(t *testing.T) parley.Bus { return connectNATS(t, shared.url) },
		isolated: func(t *testing.T) parley.Bus { return connectNATS(t, startNATS(t).url) },
	}
	runSuite(t, e)

	// Faults of the bus itself: the store carries the commands, and every
	// node fences itself within its lease.
	for _, fault := range []struct {
		name  string
		apply func(*natsServer)
	}{
		{"NATSKilled", func(s *natsServer) { s.cmd.Process.Kill() }},
		{"NATSFrozen", func(s *natsServer) { s.cmd.Process.Signal(syscall.SIGSTOP) }},
	} {
		t.Run(fault.name, func(t *testing.T) {
			nats := startNATS(t)
			c := newCluster(t, e)
			for range 3 {
				c.add(connectNATS(t, nats.url), control.Config{})
			}
			for _, n := range c.nodes {
				n.sockets.connect(userKey("r1", "alice"))
			}
			start := time.Now()
			fault.apply(nats)
			err := c.nodes[0].plane.Do(context.Background(), nil, disconnect("r1", "alice"))
			took := time.Since(start)
			// The store is up: the nodes read the command from the outbox.
			if err != nil {
				t.Fatalf("Do with the bus down and the store up: %v after %s", err, took)
			}
			c.noLiveNodeHolds(userKey("r1", "alice"))
			// The lease counts from the last healthy heartbeat, before the
			// fault; a heartbeat's round trip may take one more interval.
			for _, n := range c.nodes {
				eventually(t, lease+heartbeat-time.Since(start), n.id+" fences itself within the lease of the fault", n.sockets.isFenced)
			}
			if took > timeout {
				t.Fatalf("Do took %s, past its timeout of %s", took, timeout)
			}
			t.Logf("Do returned after %s with the bus down", took)
		})
	}
}
