// Package metrics exports what an operator of parley in production
// watches, as Prometheus metrics: open connections, rooms with
// connections, frames delivered, slow-consumer drops, WebSocket handshakes
// by result, revocation latency, commands waiting for acknowledgement,
// fencing, and the health of the store and the bus.
//
// Gauges and counters are read from the node's parts when Prometheus
// scrapes, so nothing is counted twice and nothing needs updating; only
// the handshake counter and the revocation histogram are kept here.
package metrics

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/ws"
	"github.com/prometheus/client_golang/prometheus"
)

// Hub is the node's connections, as metrics read them.
type Hub interface {
	Count() int
	DeviceCount() int
	RoomCount() int
	Stats() ws.Stats
}

// Control is the node's control plane, as metrics read it.
type Control interface {
	Stats() control.Stats
}

// Metrics is one node's operational metrics.
type Metrics struct {
	node    string
	hub     Hub
	control Control

	handshakes *prometheus.CounterVec
	revocation *prometheus.HistogramVec
	failed     *prometheus.CounterVec
}

// RevocationBuckets are the revocation latency histogram's buckets, in
// seconds: a healthy revocation takes milliseconds, a target that does not
// read costs up to about 150 ms, a dead node up to the lease, and a call
// gives up at the command timeout (10 s by default).
var RevocationBuckets = []float64{.002, .005, .01, .025, .05, .1, .15, .25, .5, 1, 2.5, 5, 10, 30}

// New returns the node's metrics, registered with reg. Control may be set
// later (SetControl), since the control plane is built after the hub.
func New(reg prometheus.Registerer, node string, hub Hub) *Metrics {
	m := &Metrics{node: node, hub: hub,
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_ws_handshakes_total",
			Help: "WebSocket handshakes by API (ivschat, chime) and result: accepted, or the refusal (unauthorized, forbidden, not_found, unavailable, error, bad_request, abandoned)."},
			[]string{"api", "result"}),
		revocation: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_revocation_duration_seconds",
			Help:    "Revocations (DisconnectUser, bans, DeleteRoom, sign-outs, membership removals) from the call until every live node confirmed no matching socket is left, by command.",
			Buckets: RevocationBuckets}, []string{"op"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_revocation_failures_total",
			Help: "Revocations that did not get every live node's confirmation within the command timeout, by command."}, []string{"op"}),
	}
	reg.MustRegister(m.handshakes, m.revocation, m.failed, (*collector)(m))
	return m
}

// SetControl makes the metrics read the control plane; call before serving.
func (m *Metrics) SetControl(c Control) { m.control = c }

// Revoked implements control.Observer.
func (m *Metrics) Revoked(cmds []parley.Command, took time.Duration, err error) {
	op := string(cmds[0].Op)
	for _, c := range cmds[1:] {
		if string(c.Op) != op {
			op = "mixed"
		}
	}
	m.revocation.WithLabelValues(op).Observe(took.Seconds())
	if err != nil {
		m.failed.WithLabelValues(op).Inc()
	}
}

var _ control.Observer = (*Metrics)(nil)

// Handshakes counts the WebSocket handshakes next serves by result, read
// from the status it answers: 101 (the connection hijacked) is accepted,
// any other status a refusal. next is the hub, which answers refusals with
// a plain HTTP status (see ws.Hub.ServeHTTP).
func (m *Metrics) Handshakes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := ws.APIIVS
		if r.URL.Path == ws.DevicePath {
			api = ws.APIChime
		}
		rec := &handshake{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		m.handshakes.WithLabelValues(api, result(rec)).Inc()
	})
}

func result(h *handshake) string {
	if h.hijacked {
		return "accepted"
	}
	switch h.status {
	case 0:
		return "abandoned" // the client left while waiting its turn
	case http.StatusUnauthorized:
		return "unauthorized" // bad, expired, spent or revoked token or session
	case http.StatusForbidden:
		return "forbidden" // banned, or a suspended user
	case http.StatusNotFound:
		return "not_found" // the room is gone
	case http.StatusServiceUnavailable:
		return "unavailable" // fenced or shutting down
	case http.StatusBadRequest:
		return "bad_request"
	}
	if h.status >= 500 {
		return "error"
	}
	return "status_" + strconv.Itoa(h.status)
}

// handshake records what the hub answered.
type handshake struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (h *handshake) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *handshake) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.ResponseWriter.Write(b)
}

// Hijack hands the connection to the WebSocket upgrader.
func (h *handshake) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	h.hijacked = true
	return hj.Hijack()
}

// Flush passes flushes through.
func (h *handshake) Flush() {
	if f, ok := h.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// collector reads the node's gauges and counters at scrape time.
type collector Metrics

var (
	descConns = prometheus.NewDesc("parley_connections_open",
		"Open WebSocket connections on this node, by API (ivschat: chat clients, chime: signed-in devices).", []string{"api", "node"}, nil)
	descRooms = prometheus.NewDesc("parley_rooms_with_connections",
		"IVS rooms with at least one connection on this node.", []string{"node"}, nil)
	descDelivered = prometheus.NewDesc("parley_frames_delivered_total",
		"Messages and events queued to connections (one per connection reached), by API and type.", []string{"api", "type"}, nil)
	descSlow = prometheus.NewDesc("parley_slow_consumer_drops_total",
		"Connections dropped (close 1008) because they did not read fast enough.", nil, nil)
	descThrottled = prometheus.NewDesc("parley_messages_throttled_total",
		"Messages and events refused (ThrottlingException, ERROR 429) because this node's sockets were too far behind (--fanout-backlog).", nil, nil)
	descBacklog = prometheus.NewDesc("parley_fanout_backlog_frames",
		"Frames queued to this node's sockets and not yet written (at most 8 a connection).", nil, nil)
	descWaiting = prometheus.NewDesc("parley_control_commands_waiting",
		"Revocation commands of calls on this node waiting for every live node's acknowledgement.", nil, nil)
	descQueued = prometheus.NewDesc("parley_control_batches_queued",
		"Batches of commands waiting for this node's control worker to carry them out.", nil, nil)
	descFenced = prometheus.NewDesc("parley_node_fenced",
		"1 while this node has fenced itself (no store or bus for its lease): it holds no connections and refuses new ones.", []string{"node"}, nil)
	descStoreUp = prometheus.NewDesc("parley_store_up",
		"1 if this node's last heartbeat reached the store.", nil, nil)
	descBusUp = prometheus.NewDesc("parley_bus_up",
		"1 if this node's last heartbeat reached the bus (a round trip to NATS).", nil, nil)
	descHealthy = prometheus.NewDesc("parley_last_healthy_age_seconds",
		"Seconds since this node last reached both the store and the bus; it fences itself when this nears the lease.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descRooms, descDelivered, descSlow, descThrottled, descBacklog, descWaiting, descQueued, descFenced, descStoreUp, descBusUp, descHealthy} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descConns, float64(c.hub.Count()), ws.APIIVS, c.node)
	gauge(descConns, float64(c.hub.DeviceCount()), ws.APIChime, c.node)
	gauge(descRooms, float64(c.hub.RoomCount()), c.node)
	st := c.hub.Stats()
	counter(descDelivered, st.IVSMessages, ws.APIIVS, "message")
	counter(descDelivered, st.IVSEvents, ws.APIIVS, "event")
	counter(descDelivered, st.ChimeMessages, ws.APIChime, "message")
	counter(descSlow, st.SlowDrops)
	counter(descThrottled, st.Throttled)
	gauge(descBacklog, float64(st.Backlog))
	if c.control == nil {
		return
	}
	cs := c.control.Stats()
	gauge(descWaiting, float64(cs.Waiting))
	gauge(descQueued, float64(cs.Queued))
	gauge(descFenced, b2f(cs.Fenced), c.node)
	gauge(descStoreUp, b2f(cs.StoreUp))
	gauge(descBusUp, b2f(cs.BusUp))
	gauge(descHealthy, time.Since(cs.LastHealthy).Seconds())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
