package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/sqlstore"
)

// banned opens a store holding some bans of a scope, none of the users the
// benchmarks ask about.
func banned(b *testing.B) (*sqlstore.Store, parley.Scope) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	sc := parley.Scope{AccountID: "123456789012", Region: "us-east-1"}
	for i := range 100 {
		if err := s.PutBan(context.Background(), &parley.Ban{Scope: sc, UserID: fmt.Sprint("banned", i), Reason: "r", CreateTime: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	return s, sc
}

// The reads every handshake and API call makes, on a file store, one
// goroutine per core: go test -bench . ./sqlite
func BenchmarkActiveBan(b *testing.B) {
	s, sc := banned(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.ActiveBan(context.Background(), sc, "room", fmt.Sprint("user", i), time.Now()); parley.KindOf(err) != parley.KindNotFound {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLiveNodes(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Heartbeat(context.Background(), "node-1", false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.LiveNodes(context.Background(), 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The store's part of a handshake as the WebSocket handler makes it: the
// token spent unless its user is banned, from a goroutine of its own (as
// net/http serves each connection), 64 at a time per core.
func BenchmarkHandshake(b *testing.B) {
	s, sc := banned(b)
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			done := make(chan error, 1)
			go func() {
				tok := &parley.ChatToken{ID: fmt.Sprint("token", i), Room: sc, RoomID: "room", UserID: fmt.Sprint("user", i), TokenExpires: time.Now().Add(time.Minute)}
				done <- s.ConsumeToken(context.Background(), tok, time.Now())
			}()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	})
}
