package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/ivsapi"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/sigv4"
	"github.com/prometheus/client_golang/prometheus"
)

// anyone authenticates every request.
type anyone struct{}

func (anyone) Begin(*http.Request) (sigv4.Finish, error) {
	return func([]byte) (parley.Principal, error) {
		return parley.Principal{Scope: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, Service: "ivschat"}, nil
	}, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Ensure a request the client gives up on is counted as 499, not 500, and
// not logged at ERROR.
func TestCancelledRequest(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	reg := prometheus.NewRegistry()
	served := make(chan struct{})
	ivs := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		awsproto.InfoFrom(r.Context()).Op = "ListRooms"
		<-r.Context().Done() // a store call that outlasts the client
		err := parley.Internal("store", r.Context().Err())
		awsproto.LogFailure(r, log, "ListRooms", err)
		ivsapi.WriteError(w, r, err)
		close(served)
	})
	srv := httptest.NewServer(server.New(anyone{}, ivs, ivs, log, reg, reg, server.Limits{}))
	defer srv.Close()
	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, "POST", srv.URL+"/ListRooms", strings.NewReader("{}"))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request was answered")
	}
	<-served
	deadline := time.Now().Add(2 * time.Second)
	for requests(t, reg, "499") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no 499 counted; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("a cancelled request was logged at ERROR:\n%s", logs.String())
	}
}

// requests is parley_requests_total summed over the series with status.
func requests(t *testing.T, reg *prometheus.Registry, status string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "parley_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == status {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
