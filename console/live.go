package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cluster"
)

// askTimeout bounds how long a page waits for every node's snapshot; a
// node that has not answered by then is shown as not answering.
const askTimeout = 1500 * time.Millisecond

// nodeOut is a node as the cluster page shows it: the store's view
// (heartbeat, fenced) and, if it answered, its own snapshot.
type nodeOut struct {
	ID        string            `json:"id"`
	Heartbeat string            `json:"heartbeat"`
	AgeMillis int64             `json:"ageMillis"` // by the store's clock
	Live      bool              `json:"live"`      // heartbeat within the lease
	Fenced    bool              `json:"fenced"`
	This      bool              `json:"this"` // the node serving the console
	Snapshot  *cluster.Snapshot `json:"snapshot,omitempty"`
}

// snapshots returns every node the store knows, with the snapshots of
// those that answered q.
func (c *Console) snapshots(ctx context.Context, q cluster.Query) ([]nodeOut, error) {
	nodes, err := c.store.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	want := 0
	for _, n := range nodes {
		if n.Age < c.cfg.Lease && !n.Fenced {
			want++
		}
	}
	actx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	snaps, err := c.cluster.Ask(actx, q, want)
	if err != nil {
		c.log.WarnContext(ctx, "console: asking the nodes", "err", err)
	}
	out := make([]nodeOut, 0, len(nodes))
	for _, n := range nodes {
		o := nodeOut{ID: n.ID, Heartbeat: n.Heartbeat.Format(time.RFC3339Nano), AgeMillis: n.Age.Milliseconds(),
			Live: n.Age < c.cfg.Lease, Fenced: n.Fenced, This: n.ID == c.cfg.NodeID}
		for i := range snaps {
			if snaps[i].Node == n.ID {
				o.Snapshot = &snaps[i]
			}
		}
		out = append(out, o)
	}
	sortNodes(out)
	return out, nil
}

// live answers the rooms and devices pages: per node, the account's IVS
// rooms with connections (and the users of ?room=<arn>), and with
// ?devices=1 its Chime users' devices.
func (c *Console) live(w http.ResponseWriter, r *http.Request, s session) {
	q := cluster.Query{Account: s.Account, Region: s.Region, Devices: r.URL.Query().Get("devices") == "1"}
	if arn := r.URL.Query().Get("room"); arn != "" {
		a, ok := parley.ParseARN(arn)
		if !ok || a.Scope != (parley.Scope{AccountID: s.Account, Region: s.Region}) {
			writeError(w, parley.NotFound(parley.ResourceRoom, arn, "room %s not found", arn))
			return
		}
		q.Room = a.ID
	}
	nodes, err := c.snapshots(r.Context(), q)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": nodes})
}

// clusterPage answers the cluster page: every node, its health, its
// connections and an hour of samples.
func (c *Console) clusterPage(w http.ResponseWriter, r *http.Request, s session) {
	nodes, err := c.snapshots(r.Context(), cluster.Query{Account: s.Account, Region: s.Region, History: true})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": nodes, "leaseMillis": c.cfg.Lease.Milliseconds(), "node": c.cfg.NodeID})
}

// tailEvent is one line of a room's live tail.
type tailEvent struct {
	Kind       string            `json:"kind"` // MESSAGE, EVENT, or COMMAND (a revocation the room's nodes carry out)
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Content    string            `json:"content,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Sender     string            `json:"sender,omitempty"`
	Time       time.Time         `json:"time"`
	User       string            `json:"user,omitempty"`
	Reason     string            `json:"reason,omitempty"`
}

// tail streams a room's traffic as server-sent events, from the bus where
// every node publishes it: ?room=<IVS room ARN>, or ?chime=<account>/<room>.
// Revocations that concern the room come from the control subject.
func (c *Console) tail(w http.ResponseWriter, r *http.Request, s session) {
	var subject string
	var concerns func(parley.Command) bool
	if arn := r.URL.Query().Get("room"); arn != "" {
		a, ok := parley.ParseARN(arn)
		sc := parley.Scope{AccountID: s.Account, Region: s.Region}
		if !ok || a.Kind != "room" || a.Scope != sc {
			writeError(w, parley.NotFound(parley.ResourceRoom, arn, "room %s not found", arn))
			return
		}
		subject = parley.RoomSubject(sc, a.ID)
		concerns = func(cmd parley.Command) bool {
			return cmd.Scope == sc && (cmd.Room == a.ID || cmd.Room == "") &&
				(cmd.Op == parley.OpDisconnectUser || cmd.Op == parley.OpDeleteRoom || cmd.Op == parley.OpUpdateRoom)
		}
	} else if k := r.URL.Query().Get("chime"); k != "" {
		account, room, ok := strings.Cut(k, "/")
		if !ok || account == "" || room == "" {
			writeError(w, parley.Invalid("chime", "must be <accountId>/<roomId>"))
			return
		}
		key := parley.ChimeAccountKey{AWS: s.Account, Account: account}.Room(room)
		subject = parley.ChimeRoomSubject(key)
		concerns = func(cmd parley.Command) bool {
			return cmd.Chime == key || cmd.Op == parley.OpSignOut && cmd.Chime.ChimeAccountKey == key.ChimeAccountKey
		}
	} else {
		writeError(w, parley.Invalid("room", "is required"))
		return
	}

	events := make(chan tailEvent, 256)
	var lost atomic.Int64
	push := func(e tailEvent) {
		select {
		case events <- e:
		default:
			lost.Add(1) // a browser that cannot keep up misses lines; it does not slow the bus
		}
	}
	ctx := r.Context()
	unsubRoom, err := c.bus.Subscribe(ctx, subject, func(ev parley.Event) {
		if ev.Type != parley.EventMessage && ev.Type != parley.EventEvent {
			return
		}
		e := tailEvent{Kind: string(ev.Type), ID: ev.ID, Name: ev.Name, Content: ev.Content, Attributes: ev.Attributes, Time: ev.SendTime}
		if ev.Sender != nil {
			e.Sender = ev.Sender.UserID
		}
		push(e)
	})
	if err != nil {
		writeError(w, &parley.Error{Kind: parley.KindUnavailable, Message: "message bus unavailable", Err: err})
		return
	}
	defer unsubRoom()
	unsubControl, err := c.bus.Subscribe(ctx, parley.ControlSubject, func(ev parley.Event) {
		if ev.Type != parley.EventControl {
			return
		}
		for _, cmd := range ev.Commands {
			if concerns(cmd) {
				push(tailEvent{Kind: "COMMAND", ID: cmd.ID, Name: string(cmd.Op), User: cmd.User + strings.Join(cmd.Users, ","), Reason: cmd.Reason, Time: cmd.Time})
			}
		}
	})
	if err == nil {
		defer unsubControl()
	}

	// A tail lasts as long as the page is open: no write deadline.
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n: tailing\n\n")
	rc.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	seen := map[string]bool{} // a command is re-published until every node confirms
	expires := time.Until(time.Unix(s.Expires, 0))
	end := time.NewTimer(expires)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-keepalive.C:
			if n := lost.Swap(0); n > 0 {
				fmt.Fprintf(w, "data: {\"kind\":\"LOST\",\"content\":\"%d lines skipped: the page fell behind\"}\n\n", n)
			} else {
				fmt.Fprint(w, ": keepalive\n\n")
			}
		case e := <-events:
			if e.Kind == "COMMAND" {
				if seen[e.ID] {
					continue
				}
				seen[e.ID] = true
			}
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// sortNodes keeps pages stable: the serving node first, then by ID.
func sortNodes(nodes []nodeOut) {
	slices.SortStableFunc(nodes, func(a, b nodeOut) int {
		if a.This != b.This {
			if a.This {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
}
