// Package cluster answers "what does the whole cluster look like now": any
// node asks on the bus, and every node answers with a snapshot of its own
// connections, its control plane's state and an hour of its samples. It is
// the request/reply the control plane uses for acknowledgements, for
// reading instead of revoking, so that any node can serve the console and
// show every node.
package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/ws"
)

// Subject is where nodes are asked for their snapshots.
const Subject = "parley.cluster.snapshot"

// The events of the exchange: a query (its filter in Content, JSON) and a
// node's answer (its Snapshot in Content, JSON).
const (
	eventQuery parley.EventType = "SNAPSHOT_QUERY"
	eventReply parley.EventType = "SNAPSHOT"
)

// Hub is a node's connections, as snapshots read them.
type Hub interface {
	Count() int
	DeviceCount() int
	RoomCount() int
	Stats() ws.Stats
	Rooms(keep func(parley.Scope) bool, users bool) []ws.RoomConns
	Devices(aws string) []ws.DeviceConns
}

// Control is a node's control plane, as snapshots read it.
type Control interface {
	Stats() control.Stats
}

// Query selects what nodes put in their snapshots. A tenant's view asks
// only for its own AWS account's rooms and devices.
type Query struct {
	Account string `json:"account"`          // the AWS account whose rooms and devices to list
	Region  string `json:"region,omitempty"` // the IVS rooms' region; empty for every region
	Room    string `json:"room,omitempty"`   // list this IVS room's users; empty: counts only
	Devices bool   `json:"devices,omitempty"`
	History bool   `json:"history,omitempty"` // include the last hour's samples and the control plane's state
}

// Snapshot is one node's answer.
type Snapshot struct {
	Node        string           `json:"node"`
	Time        time.Time        `json:"time"` // by the node's clock
	Connections int              `json:"connections"`
	Devices     int              `json:"devices"`
	Rooms       int              `json:"rooms"` // IVS rooms with connections, every account
	Delivered   uint64           `json:"delivered"`
	SlowDrops   uint64           `json:"slowDrops"`
	Control     *control.Stats   `json:"control,omitempty"`
	IVSRooms    []ws.RoomConns   `json:"ivsRooms,omitempty"` // the query's account's
	ChimeUsers  []ws.DeviceConns `json:"chimeUsers,omitempty"`
	History     []Sample         `json:"history,omitempty"`
}

// Sample is a node's state at one moment of the last hour.
type Sample struct {
	Time        int64   `json:"t"` // Unix seconds
	Connections int     `json:"c"` // chat connections and devices
	PerSecond   float64 `json:"m"` // messages and events delivered per second since the previous sample
}

// Config tunes a node's end; zero values take the defaults named.
type Config struct {
	NodeID string
	Every  time.Duration // how often to sample; zero means 5 seconds
	Keep   time.Duration // how much history to keep; zero means an hour
}

// Cluster is a node's end of the exchange: it answers queries and asks them.
type Cluster struct {
	bus     parley.Bus
	hub     Hub
	control Control
	cfg     Config
	log     *slog.Logger

	mu      sync.Mutex
	samples []Sample

	cancel func()
	wg     sync.WaitGroup
}

// New returns a node's end; Start runs it.
func New(bus parley.Bus, hub Hub, ctl Control, log *slog.Logger, cfg Config) *Cluster {
	if cfg.Every == 0 {
		cfg.Every = 5 * time.Second
	}
	if cfg.Keep == 0 {
		cfg.Keep = time.Hour
	}
	return &Cluster{bus: bus, hub: hub, control: ctl, cfg: cfg, log: log}
}

// Start answers queries and samples the node until Stop.
func (c *Cluster) Start(ctx context.Context) error {
	unsub, err := c.bus.Subscribe(ctx, Subject, func(ev parley.Event) {
		if ev.Type == eventQuery && ev.ReplyTo != "" {
			go c.answer(ev) // never block the bus's goroutine
		}
	})
	if err != nil {
		return err
	}
	bg, stop := context.WithCancel(context.Background())
	c.cancel = func() { stop(); unsub() }
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.sample(bg) }()
	return nil
}

// Stop ends sampling and answering.
func (c *Cluster) Stop() {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
}

func (c *Cluster) answer(ev parley.Event) {
	var q Query
	if err := json.Unmarshal([]byte(ev.Content), &q); err != nil || q.Account == "" {
		return
	}
	b, _ := json.Marshal(c.Local(q))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.bus.Publish(ctx, ev.ReplyTo, parley.Event{Type: eventReply, Node: c.cfg.NodeID, Content: string(b)}); err != nil {
		c.log.Warn("cluster: answering a snapshot query", "err", err)
	}
}

// Local returns this node's snapshot for q.
func (c *Cluster) Local(q Query) Snapshot {
	st := c.hub.Stats()
	s := Snapshot{Node: c.cfg.NodeID, Time: time.Now().UTC(), Connections: c.hub.Count(), Devices: c.hub.DeviceCount(),
		Rooms: c.hub.RoomCount(), Delivered: st.IVSMessages + st.IVSEvents + st.ChimeMessages, SlowDrops: st.SlowDrops}
	if c.control != nil && q.History {
		st := c.control.Stats()
		s.Control = &st
	}
	rooms := c.hub.Rooms(func(sc parley.Scope) bool {
		return sc.AccountID == q.Account && (q.Region == "" || sc.Region == q.Region)
	}, q.Room != "")
	for i := range rooms {
		if rooms[i].RoomID != q.Room {
			rooms[i].Users = nil
		}
	}
	s.IVSRooms = rooms
	if q.Devices {
		s.ChimeUsers = c.hub.Devices(q.Account)
	}
	if q.History {
		c.mu.Lock()
		s.History = append([]Sample(nil), c.samples...)
		c.mu.Unlock()
	}
	return s
}

// Ask puts q to every node and returns the snapshots that arrive before
// ctx ends or once want nodes have answered, whichever is first. Nodes
// that do not answer (dead, fenced, off the bus) are simply missing.
func (c *Cluster) Ask(ctx context.Context, q Query, want int) ([]Snapshot, error) {
	replyTo := "parley.reply." + parley.NewID()
	got := make(chan Snapshot, 64)
	unsub, err := c.bus.Subscribe(ctx, replyTo, func(ev parley.Event) {
		if ev.Type != eventReply {
			return
		}
		var s Snapshot
		if json.Unmarshal([]byte(ev.Content), &s) == nil {
			select {
			case got <- s:
			default:
			}
		}
	})
	if err != nil {
		return nil, err
	}
	defer unsub()
	b, _ := json.Marshal(q)
	if err := c.bus.Publish(ctx, Subject, parley.Event{Type: eventQuery, ReplyTo: replyTo, Node: c.cfg.NodeID, Content: string(b)}); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Snapshot
	for want <= 0 || len(out) < want {
		select {
		case s := <-got:
			if !seen[s.Node] {
				seen[s.Node] = true
				out = append(out, s)
			}
		case <-ctx.Done():
			return out, nil
		}
	}
	return out, nil
}

// sample records the node's connections and delivery rate every cfg.Every.
func (c *Cluster) sample(ctx context.Context) {
	t := time.NewTicker(c.cfg.Every)
	defer t.Stop()
	delivered := func() uint64 { st := c.hub.Stats(); return st.IVSMessages + st.IVSEvents + st.ChimeMessages }
	last, lastAt := delivered(), time.Now()
	c.record(Sample{Time: lastAt.Unix(), Connections: c.hub.Count() + c.hub.DeviceCount()})
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			d := delivered()
			rate := float64(d-last) / now.Sub(lastAt).Seconds()
			last, lastAt = d, now
			c.record(Sample{Time: now.Unix(), Connections: c.hub.Count() + c.hub.DeviceCount(), PerSecond: rate})
		}
	}
}

func (c *Cluster) record(s Sample) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples = append(c.samples, s)
	if n := int(c.cfg.Keep / c.cfg.Every); len(c.samples) > n {
		c.samples = append(c.samples[:0], c.samples[len(c.samples)-n:]...)
	}
}
