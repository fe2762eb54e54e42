package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// maxTrail is how many of an account's most recent audit records a node
// keeps in memory for the audit page.
const maxTrail = 50000

// trail is an account's audit trail as far as this node has read it. The
// store lists records oldest first with a cursor, so each refresh reads
// from the last page it saw on, not the whole trail again.
type trail struct {
	records []*parley.AuditRecord
	ids     map[string]bool
	cursor  string // the NextToken of the last full page read
}

// refresh reads the records written since the last refresh.
func (c *Console) refresh(ctx context.Context, aws string) ([]*parley.AuditRecord, error) {
	c.auditMu.Lock()
	defer c.auditMu.Unlock()
	t := c.trails[aws]
	if t == nil {
		t = &trail{ids: map[string]bool{}}
		c.trails[aws] = t
	}
	token := t.cursor
	for {
		recs, next, err := c.audit.ListAudit(ctx, parley.Page{MaxResults: 200, NextToken: token})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if !t.ids[r.ID] {
				t.ids[r.ID] = true
				t.records = append(t.records, r)
			}
		}
		if next == "" {
			break
		}
		token, t.cursor = next, next
	}
	if n := len(t.records) - maxTrail; n > 0 {
		for _, r := range t.records[:n] {
			delete(t.ids, r.ID)
		}
		t.records = append([]*parley.AuditRecord(nil), t.records[n:]...)
	}
	return t.records, nil
}

// auditFilter selects records: action exact, caller exact, target a
// substring, and a time range; zero fields do not filter.
type auditFilter struct {
	action, caller, target string
	since, until           time.Time
}

func (f auditFilter) keep(r *parley.AuditRecord) bool {
	return (f.action == "" || r.Action == f.action) && (f.caller == "" || r.Caller == f.caller) &&
		(f.target == "" || strings.Contains(r.Target, f.target)) &&
		(f.since.IsZero() || !r.Time.Before(f.since)) && (f.until.IsZero() || r.Time.Before(f.until))
}

func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, parley.Invalid(field, "is not a time (RFC 3339, or 2006-01-02T15:04 in UTC)")
}

// auditTrail answers the audit page: the account's records, newest first,
// filtered by ?action=&caller=&target=&since=&until=, at most ?limit=
// (default 200), with the actions and callers seen, for the filters' menus.
func (c *Console) auditTrail(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	f := auditFilter{action: q.Get("action"), caller: q.Get("caller"), target: q.Get("target")}
	var err error
	if f.since, err = parseTime("since", q.Get("since")); err != nil {
		writeError(w, err)
		return
	}
	if f.until, err = parseTime("until", q.Get("until")); err != nil {
		writeError(w, err)
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	recs, err := c.refresh(r.Context(), s.Account)
	if err != nil {
		writeError(w, err)
		return
	}
	type recordOut struct {
		ID     string `json:"id"`
		Time   string `json:"time"`
		Caller string `json:"caller"`
		Action string `json:"action"`
		Target string `json:"target"`
		Detail string `json:"detail,omitempty"`
		Result string `json:"result"`
	}
	out := []recordOut{}
	actions, callers := map[string]bool{}, map[string]bool{}
	matched := 0
	for i := len(recs) - 1; i >= 0; i-- {
		rec := recs[i]
		actions[rec.Action], callers[rec.Caller] = true, true
		if !f.keep(rec) {
			continue
		}
		matched++
		if len(out) < limit {
			out = append(out, recordOut{ID: rec.ID, Time: awsproto.Time(rec.Time), Caller: rec.Caller, Action: rec.Action,
				Target: rec.Target, Detail: rec.Detail, Result: rec.Result})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": out, "matched": matched, "actions": keys(actions), "callers": keys(callers)})
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) { slices.Sort(s) }
