package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/testenv"
)

// cluster is several parley nodes sharing PostgreSQL (in a schema of the
// test's own) and a NATS server that the test controls.
type cluster struct {
	t     *testing.T
	nodes []*Main
	nats  *server.Server
	port  int
	store string
	bus   string
}

// startCluster starts n nodes on one store and one bus.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := "t_" + strings.ToLower(parley.NewID())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	c := &cluster{t: t, nats: testenv.NATSServer(t, -1), store: u.String()}
	c.port = c.nats.Addr().(*net.TCPAddr).Port
	c.bus = c.nats.ClientURL()
	t.Cleanup(func() {
		if conn, err := pgx.Connect(context.Background(), dsn); err == nil {
			conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
			conn.Close(context.Background())
		}
	})
	for i := 0; i < n; i++ {
		c.nodes = append(c.nodes, c.node())
	}
	return c
}

// node starts one more node of the cluster.
func (c *cluster) node() *Main {
	return MustRunMain(c.t, func(cfg *Config) {
		cfg.Store, cfg.Bus = c.store, c.bus
		cfg.HeartbeatInterval, cfg.Lease, cfg.CommandTimeout = 100*time.Millisecond, time.Second, 5*time.Second
	})
}

// Ensure traffic crosses nodes, and a token opens one connection once on any node.
func TestClusterMessaging(t *testing.T) {
	c := startCluster(t, 3)
	a, b, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	room := newRoom(t, a, nil)
	tok := token(t, a, room.Arn, "x", capSend)
	x := dial(t, b, tok)
	if _, status := dialStatus(t, n3, tok); status != http.StatusUnauthorized {
		t.Fatalf("the same token on a third node: %d, want 401", status)
	}
	y := dial(t, n3, token(t, b, room.Arn, "y", capSend))
	y.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "m", "Content": "across nodes"})
	if f := x.NextOf("MESSAGE"); f.Content != "across nodes" || f.Sender.UserID != "y" {
		t.Fatalf("node B got %+v", f)
	}
	if f := y.Reply("m"); f.Type != "MESSAGE" {
		t.Fatalf("sender got %+v", f)
	}
	must(IVS(a).SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("app:x")}))(t, "SendEvent")
	x.NextEvent("app:x")
	y.NextEvent("app:x")
}

// Ensure every revocation called on one node closes the matching sockets on
// the others before it returns.
func TestClusterRevocation(t *testing.T) {
	c := startCluster(t, 3)
	n0, n1, n2 := c.nodes[0], c.nodes[1], c.nodes[2]

	room := newRoom(t, n0, nil)
	v1 := dial(t, n1, token(t, n0, room.Arn, "villain"))
	v2 := dial(t, n2, token(t, n0, room.Arn, "villain"))
	bystander := dial(t, n2, token(t, n0, room.Arn, "bystander"))
	must(IVS(n0).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("villain")}))(t, "DisconnectUser")
	if n1.Hub.Count() != 0 || n2.Hub.Count() != 1 {
		t.Fatalf("after DisconnectUser on node 0: node 1 holds %d, node 2 holds %d, want 0 and 1", n1.Hub.Count(), n2.Hub.Count())
	}
	v1.WantClose()
	v2.WantClose()
	bystander.NextEvent("aws:DISCONNECT_USER")

	acc := typedAccount(t, n1, "Corp", "EnterpriseLWA")
	alice, bob := registeredUser(t, n1, acc, "alice@example.com"), registeredUser(t, n1, acc, "bob@example.com")
	chimeRoomID := chimeRoom(t, n0, acc, "team")
	join(t, n0, acc, chimeRoomID, alice)
	join(t, n0, acc, chimeRoomID, bob)
	old := mustSession(t, n2, acc, alice)
	devices := []*chatClient{mustDevice(t, n0, old), mustDevice(t, n1, mustSession(t, n0, acc, alice)), mustDevice(t, n2, mustSession(t, n1, acc, alice))}
	must(Chime(n1).LogoutUser(ctx(), &chime.LogoutUserInput{AccountId: aws.String(acc), UserId: aws.String(alice)}))(t, "LogoutUser")
	for i, n := range c.nodes {
		if d := n.Hub.DeviceCount(); d != 0 {
			t.Fatalf("after LogoutUser node %d holds %d devices", i, d)
		}
	}
	for _, d := range devices {
		d.NextEvent("parley:SIGNED_OUT")
	}
	for _, n := range c.nodes {
		if _, status := device(t, n, old); status != http.StatusUnauthorized {
			t.Fatalf("old session on a node: %d, want 401", status)
		}
	}

	// DeleteRoomMembership on node 0 stops delivery to bob's device on node 2.
	bd := mustDevice(t, n2, mustSession(t, n2, acc, bob))
	ad := mustDevice(t, n1, mustSession(t, n1, acc, alice))
	must(Chime(n0).DeleteRoomMembership(ctx(), &chime.DeleteRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(chimeRoomID), MemberId: aws.String(bob)}))(t, "DeleteRoomMembership")
	bd.NextEvent("parley:MEMBERSHIP_REMOVED")
	ad.NextEvent("parley:MEMBERSHIP_CHANGED")
	bd.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "p", "RoomId": chimeRoomID, "Content": "hi"})
	if f := bd.Reply("p"); f.ErrorCode != 403 {
		t.Fatalf("removed member's post on node 2 = %+v", f)
	}

	// BatchSuspendUser on node 2 closes alice's device on node 1.
	must(Chime(n2).BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: aws.String(acc), UserIdList: []string{alice}}))(t, "BatchSuspendUser")
	if n1.Hub.DeviceCount() != 0 {
		t.Fatalf("after BatchSuspendUser node 1 holds %d devices", n1.Hub.DeviceCount())
	}
	ad.NextEvent("parley:SIGNED_OUT")
}

// Ensure a dead node does not block revocations for longer than its lease:
// the others stop waiting for it once it stops heartbeating.
func TestClusterNodeLoss(t *testing.T) {
	c := startCluster(t, 2)
	n0 := c.nodes[0]
	p := startProcessArgs(t, "--store", c.store, "--bus", c.bus, "--heartbeat", "100ms", "--lease", "1s")
	dead := &Main{URL: p.URL}
	room := newRoom(t, n0, nil)
	victim := dial(t, dead, token(t, n0, room.Arn, "u"))
	survivor := dial(t, c.nodes[1], token(t, n0, room.Arn, "u"))
	p.cmd.Process.Kill()
	p.cmd.Wait()
	select {
	case <-victim.Frames():
	case <-time.After(5 * time.Second):
		t.Fatal("the killed node's client is still connected")
	}
	start := time.Now()
	must(IVS(n0).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("u")}))(t, "DisconnectUser with a dead node")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("DisconnectUser took %v with a dead node, want about the 1s lease", d)
	}
	survivor.WantClose()
}

// Ensure a NATS outage does not stop revocations while the store is up
// (the nodes read the command from the outbox), fences every node within
// the lease (their sockets dropped, new ones refused), and that the cluster
// recovers when NATS is back.
func TestClusterNATSOutage(t *testing.T) {
	c := startCluster(t, 2)
	n0, n1 := c.nodes[0], c.nodes[1]
	room := newRoom(t, n0, nil)
	cl := dial(t, n1, token(t, n0, room.Arn, "u"))
	c.nats.Shutdown()

	must(IVS(n0).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("u")}))(t, "DisconnectUser during a NATS outage")
	select {
	case <-cl.Closed():
	default:
		if n1.Hub.Count() != 0 {
			t.Fatal("DisconnectUser returned while the other node still held the target")
		}
	}
	eventually(t, "both nodes to fence", func() bool { return n0.Hub.Fenced() && n1.Hub.Fenced() })
	if _, status := dialStatus(t, n1, token(t, n0, room.Arn, "v")); status != http.StatusServiceUnavailable {
		t.Fatalf("connecting to a fenced node: %d, want 503", status)
	}

	testenv.NATSServer(t, c.port)
	eventually(t, "both nodes to unfence", func() bool { return !n0.Hub.Fenced() && !n1.Hub.Fenced() })
	back := dial(t, n1, token(t, n0, room.Arn, "u"))
	must(IVS(n0).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("u")}))(t, "DisconnectUser after the outage")
	back.WantClose()
}
