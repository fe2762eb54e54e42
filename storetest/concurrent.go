package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testConcurrentSmallWrites: writes made at once (which a store may commit
// together) each get their own answer. Of 20 spends of one token exactly
// one wins, the others are Conflict, and every audit record written
// alongside them is there.
func testConcurrentSmallWrites(t *testing.T, s parley.Store) {
	const n = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		other []error
	)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			err := s.ConsumeToken(ctx(), token("contested", "u", t0.Add(time.Hour)), t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case parley.KindOf(err) != parley.KindConflict:
				other = append(other, err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.ConsumeToken(ctx(), token(fmt.Sprint("own", i), "u", t0.Add(time.Hour)), t0); err != nil {
				mu.Lock()
				other = append(other, err)
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.AppendAudit(ctx(), &parley.AuditRecord{ID: fmt.Sprint("c", i), Time: t0, AwsAccountID: "333333333333", Action: "DisconnectUser", Result: "ok"}); err != nil {
				mu.Lock()
				other = append(other, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 || len(other) > 0 {
		t.Fatalf("%d of %d spends of one token won, want 1; other errors: %v", wins, n, other)
	}
	for i := range n {
		wantKind(t, "spending a token spent in the storm", s.ConsumeToken(ctx(), token(fmt.Sprint("own", i), "u", t0.Add(time.Hour)), t0), parley.KindConflict)
	}
	recs, _, err := s.ListAudit(ctx(), "333333333333", parley.Page{MaxResults: 100})
	must(t, "ListAudit", err)
	if len(recs) != n {
		t.Fatalf("%d audit records after %d concurrent appends", len(recs), n)
	}
}
