package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/ws"
	"github.com/prometheus/client_golang/prometheus"
)

type fakeHub struct{}

func (fakeHub) Count() int       { return 3 }
func (fakeHub) DeviceCount() int { return 2 }
func (fakeHub) RoomCount() int   { return 1 }
func (fakeHub) Stats() ws.Stats  { return ws.Stats{IVSMessages: 7, IVSEvents: 1, SlowDrops: 4} }

type fakeControl struct{}

func (fakeControl) Stats() control.Stats {
	return control.Stats{Waiting: 5, Fenced: true, StoreUp: true, LastHealthy: time.Now()}
}

// Ensure scraped values come from the node's parts, with the labels the
// README and the Grafana dashboard use.
func TestCollect(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, "n1", fakeHub{})
	m.SetControl(fakeControl{})
	m.Revoked([]parley.Command{{Op: parley.OpDisconnectUser}}, 30*time.Millisecond, nil)
	m.Revoked([]parley.Command{{Op: parley.OpSignOut}}, 10*time.Second, parley.Errorf(parley.KindUnavailable, "late"))
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"parley_connections_open", map[string]string{"api": "ivschat", "node": "n1"}, 3},
		{"parley_connections_open", map[string]string{"api": "chime", "node": "n1"}, 2},
		{"parley_rooms_with_connections", map[string]string{"node": "n1"}, 1},
		{"parley_frames_delivered_total", map[string]string{"api": "ivschat", "type": "message"}, 7},
		{"parley_slow_consumer_drops_total", nil, 4},
		{"parley_control_commands_waiting", nil, 5},
		{"parley_node_fenced", map[string]string{"node": "n1"}, 1},
		{"parley_store_up", nil, 1},
		{"parley_bus_up", nil, 0},
		{"parley_revocation_failures_total", map[string]string{"op": "SignOut"}, 1},
		{"parley_revocation_duration_seconds", map[string]string{"op": "DisconnectUser"}, 1}, // a count
	} {
		if got, ok := value(t, reg, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

// value returns the value (a histogram's count) of the metric name with labels.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// Ensure handshakes are counted by the status the hub answers.
func TestHandshakes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, "n1", fakeHub{})
	for _, c := range []struct {
		path   string
		status int
		api    string
		result string
	}{
		{"/", http.StatusUnauthorized, "ivschat", "unauthorized"},
		{"/", http.StatusForbidden, "ivschat", "forbidden"},
		{ws.DevicePath, http.StatusServiceUnavailable, "chime", "unavailable"},
		{"/", 0, "ivschat", "abandoned"},
	} {
		h := m.Handshakes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.status != 0 {
				http.Error(w, "no", c.status)
			}
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", c.path, nil))
		if got, _ := value(t, reg, "parley_ws_handshakes_total", map[string]string{"api": c.api, "result": c.result}); got != 1 {
			t.Errorf("handshakes{%s,%s} = %v, want 1", c.api, c.result, got)
		}
	}
}

// Ensure the Grafana dashboard in ops/ only queries metrics that exist.
func TestDashboardMetrics(t *testing.T) {
	b, err := os.ReadFile("../ops/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := New(reg, "n1", fakeHub{})
	m.SetControl(fakeControl{})
	m.Revoked([]parley.Command{{Op: parley.OpDisconnectUser}}, time.Millisecond, errors.New("x"))
	m.handshakes.WithLabelValues("ivschat", "accepted").Inc()
	known := map[string]bool{"parley_requests_total": true, "parley_request_duration_seconds": true} // package server's
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		known[mf.GetName()] = true
	}
	for _, name := range regexp.MustCompile(`parley_[a-z_]+`).FindAllString(string(b), -1) {
		if base := strings.TrimSuffix(name, "_bucket"); !known[base] {
			t.Errorf("the dashboard queries %s, which parley does not export", name)
		}
	}
}
