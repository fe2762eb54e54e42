package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testExpireAudit: records made before the cut are removed oldest first,
// across accounts, only once export has taken them; newer ones stay.
func testExpireAudit(t *testing.T, s parley.Store) {
	for i := range 5 {
		for _, aws := range []string{awsA, awsB} {
			must(t, "AppendAudit", s.AppendAudit(ctx(), &parley.AuditRecord{ID: fmt.Sprint(aws, "-old", i), Time: t0.Add(time.Duration(i) * time.Minute),
				AwsAccountID: aws, Action: "DisconnectUser", Result: "ok"}))
		}
	}
	must(t, "AppendAudit", s.AppendAudit(ctx(), &parley.AuditRecord{ID: "new", Time: t0.Add(time.Hour), AwsAccountID: awsA, Action: "LogoutUser", Result: "ok"}))

	if _, err := s.ExpireAudit(ctx(), t0.Add(time.Hour), 4, func([]*parley.AuditRecord) error { return errors.New("disk full") }); err == nil {
		t.Fatal("ExpireAudit succeeded with its export failing")
	}
	var exported []string
	export := func(recs []*parley.AuditRecord) error {
		for _, r := range recs {
			exported = append(exported, r.ID)
		}
		return nil
	}
	n, err := s.ExpireAudit(ctx(), t0.Add(time.Hour), 4, export)
	must(t, "ExpireAudit", err)
	if want := fmt.Sprint([]string{awsA + "-old0", awsB + "-old0", awsA + "-old1", awsB + "-old1"}); n != 4 || fmt.Sprint(exported) != want {
		t.Fatalf("removed %d, exported %v; want the 4 oldest %v", n, exported, want)
	}
	n, err = s.ExpireAudit(ctx(), t0.Add(time.Hour), 100, export)
	must(t, "ExpireAudit", err)
	if n != 6 || len(exported) != 10 {
		t.Fatalf("second pass removed %d (exported %d in all), want the 6 left of the 10 old ones", n, len(exported))
	}
	if n, err := s.ExpireAudit(ctx(), t0.Add(time.Hour), 100, export); err != nil || n != 0 {
		t.Fatalf("a pass with nothing old: %d, %v", n, err)
	}
	recs, _, err := s.ListAudit(ctx(), awsA, parley.Page{MaxResults: 100})
	must(t, "ListAudit", err)
	if len(recs) != 1 || recs[0].ID != "new" {
		t.Fatalf("left %v, want only the new record", recs)
	}
	must(t, "Compact", s.Compact(ctx()))
}
