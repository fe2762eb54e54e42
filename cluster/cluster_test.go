package cluster

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/ws"
)

// fakeHub holds two rooms: one of account A, one of account B.
type fakeHub struct{ delivered uint64 }

func (h *fakeHub) Count() int       { return 3 }
func (h *fakeHub) DeviceCount() int { return 1 }
func (h *fakeHub) RoomCount() int   { return 2 }
func (h *fakeHub) Stats() ws.Stats  { return ws.Stats{IVSMessages: h.delivered} }
func (h *fakeHub) Rooms(keep func(parley.Scope) bool, users bool) []ws.RoomConns {
	var out []ws.RoomConns
	for _, r := range []ws.RoomConns{
		{Scope: parley.Scope{AccountID: "A", Region: "us-east-1"}, RoomID: "ra", Connections: 2, Users: []ws.UserConns{{UserID: "alice", Connections: 2}}},
		{Scope: parley.Scope{AccountID: "B", Region: "us-east-1"}, RoomID: "rb", Connections: 1, Users: []ws.UserConns{{UserID: "mallory", Connections: 1}}},
	} {
		if keep(r.Scope) {
			if !users {
				r.Users = nil
			}
			out = append(out, r)
		}
	}
	return out
}
func (h *fakeHub) Devices(aws string) []ws.DeviceConns {
	if aws != "A" {
		return nil
	}
	return []ws.DeviceConns{{AwsAccountID: "A", AccountID: "acc", UserID: "u1", Devices: 1}}
}

// Ensure every node answers a query, each with only the asking account's
// rooms and devices, and users only of the room asked about.
func TestAsk(t *testing.T) {
	bus := inmem.New()
	t.Cleanup(func() { bus.Close(context.Background()) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*Cluster
	for _, id := range []string{"n1", "n2"} {
		c := New(bus, &fakeHub{delivered: 10}, nil, log, Config{NodeID: id, Every: 20 * time.Millisecond})
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Stop)
		nodes = append(nodes, c)
	}
	time.Sleep(70 * time.Millisecond) // a few samples
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	snaps, err := nodes[0].Ask(ctx, Query{Account: "A", Room: "ra", Devices: true, History: true}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range snaps {
		ids = append(ids, s.Node)
		if len(s.IVSRooms) != 1 || s.IVSRooms[0].RoomID != "ra" || len(s.IVSRooms[0].Users) != 1 {
			t.Fatalf("%s answered rooms %+v, want only account A's ra with its users", s.Node, s.IVSRooms)
		}
		if len(s.ChimeUsers) != 1 || s.Connections != 3 || s.Delivered != 10 {
			t.Fatalf("%s answered %+v", s.Node, s)
		}
		if len(s.History) < 2 {
			t.Fatalf("%s history = %+v, want a few samples", s.Node, s.History)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"n1", "n2"}) {
		t.Fatalf("answers from %v, want n1 and n2", ids)
	}
	// Counts only: no users.
	snaps, _ = nodes[1].Ask(ctx, Query{Account: "B"}, 2)
	if len(snaps) != 2 || len(snaps[0].IVSRooms) != 1 || snaps[0].IVSRooms[0].Users != nil || snaps[0].ChimeUsers != nil {
		t.Fatalf("account B's counts = %+v", snaps)
	}
}

// Ensure history keeps only cfg.Keep worth of samples.
func TestHistoryBounded(t *testing.T) {
	c := New(inmem.New(), &fakeHub{}, nil, slog.New(slog.DiscardHandler), Config{Every: time.Second, Keep: 3 * time.Second})
	for i := range 10 {
		c.record(Sample{Time: int64(i)})
	}
	if len(c.samples) != 3 || c.samples[0].Time != 7 {
		t.Fatalf("samples = %+v, want the last 3", c.samples)
	}
}
