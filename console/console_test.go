package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cluster"
)

type fakeStore struct{ keys map[string]*parley.AccessKey }

func (s *fakeStore) AccessKey(_ context.Context, id string) (*parley.AccessKey, error) {
	if k, ok := s.keys[id]; ok {
		return k, nil
	}
	return nil, parley.NotFound(parley.ResourceRoom, id, "no key")
}

func (s *fakeStore) Secret(context.Context, string, func() ([]byte, error)) ([]byte, error) {
	return make([]byte, 32), nil
}

func (s *fakeStore) Nodes(context.Context) ([]*parley.Node, error) { return nil, nil }

// fakeAudit pages through records 2 at a time, with a cursor as the stores do.
type fakeAudit struct {
	recs  []*parley.AuditRecord
	calls int
}

func (a *fakeAudit) ListAudit(_ context.Context, p parley.Page) ([]*parley.AuditRecord, string, error) {
	a.calls++
	start := 0
	if p.NextToken != "" {
		start = int(p.NextToken[0] - '0')
	}
	end := min(start+2, len(a.recs))
	next := ""
	if end < len(a.recs) {
		next = string(rune('0' + end))
	}
	return a.recs[start:end], next, nil
}

type fakeCluster struct{}

func (fakeCluster) Ask(context.Context, cluster.Query, int) ([]cluster.Snapshot, error) {
	return nil, nil
}

func newConsole(t *testing.T, audit Audit) *Console {
	t.Helper()
	store := &fakeStore{keys: map[string]*parley.AccessKey{"AKIA1": {ID: "AKIA1", Secret: "s3cret", AccountID: "111111111111"}}}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := parley.PrincipalFromContext(r.Context())
		io.WriteString(w, p.AccessKeyID+" "+p.AccountID+" "+p.Region+" "+p.Service+" "+r.URL.Path)
	})
	c, err := New(context.Background(), store, audit, fakeCluster{}, nil, ok, ok, slog.New(slog.DiscardHandler), Config{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func do(c *Console, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://console.test"+path, strings.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return w
}

// signIn returns the session cookie of a successful sign-in.
func signIn(t *testing.T, c *Console) string {
	t.Helper()
	w := do(c, "POST", "/console/api/session", `{"accessKeyId":"AKIA1","secretAccessKey":"s3cret"}`, map[string]string{CSRFHeader: "1"})
	if w.Code != 200 {
		t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	ck := w.Result().Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != Prefix || strings.Contains(ck.Value, "s3cret") {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, path %s, no secret", ck, Prefix)
	}
	return ck.Name + "=" + ck.Value
}

// Ensure sign-in checks the secret, and a session calls the APIs as the
// operator's key, in the region chosen (the server's by default).
func TestSignInAndPrincipal(t *testing.T) {
	c := newConsole(t, &fakeAudit{})
	for _, body := range []string{`{"accessKeyId":"AKIA1","secretAccessKey":"wrong"}`, `{"accessKeyId":"AKIA2","secretAccessKey":"s3cret"}`} {
		if w := do(c, "POST", "/console/api/session", body, map[string]string{CSRFHeader: "1"}); w.Code != 401 {
			t.Fatalf("sign-in with %s: %d, want 401", body, w.Code)
		}
	}
	if w := do(c, "POST", "/console/api/session", `{"accessKeyId":"AKIA1","secretAccessKey":"s3cret","region":"not a region"}`, map[string]string{CSRFHeader: "1"}); w.Code != 400 {
		t.Fatalf("sign-in with a bad region: %d, want 400", w.Code)
	}
	cookie := signIn(t, c)
	w := do(c, "POST", "/console/api/ivschat/ListRooms", `{}`, map[string]string{"Cookie": cookie, CSRFHeader: "1"})
	if got, want := w.Body.String(), "AKIA1 111111111111 eu-west-1 ivschat /ListRooms"; got != want {
		t.Fatalf("IVS call as %q, want %q", got, want)
	}
	w = do(c, "GET", "/console/api/chime/accounts", ``, map[string]string{"Cookie": cookie})
	if got, want := w.Body.String(), "AKIA1 111111111111 eu-west-1 chime /accounts"; got != want {
		t.Fatalf("Chime call as %q, want %q", got, want)
	}
	// A tampered cookie is no session.
	bad := cookie[:len(cookie)-2] + "xx"
	if w := do(c, "GET", "/console/api/session", ``, map[string]string{"Cookie": bad}); w.Code != 401 {
		t.Fatalf("tampered session: %d, want 401", w.Code)
	}
	// Nor is one whose key was deleted.
	delete(c.store.(*fakeStore).keys, "AKIA1")
	if w := do(c, "GET", "/console/api/session", ``, map[string]string{"Cookie": cookie}); w.Code != 401 {
		t.Fatalf("session of a deleted key: %d, want 401", w.Code)
	}
}

// Ensure requests another site could make are refused before they reach an API.
func TestCrossSite(t *testing.T) {
	c := newConsole(t, &fakeAudit{})
	cookie := signIn(t, c)
	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		want   int
	}{
		{"write without the header", "POST", map[string]string{}, 403},
		{"write from another origin", "POST", map[string]string{CSRFHeader: "1", "Origin": "http://evil.example"}, 403},
		{"write cross-site", "POST", map[string]string{CSRFHeader: "1", "Sec-Fetch-Site": "cross-site"}, 403},
		{"write same-site, other origin", "POST", map[string]string{CSRFHeader: "1", "Sec-Fetch-Site": "same-site"}, 403},
		{"read cross-site", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"write same-origin", "POST", map[string]string{CSRFHeader: "1", "Origin": "http://console.test", "Sec-Fetch-Site": "same-origin"}, 200},
	} {
		tc.hdr["Cookie"] = cookie
		if w := do(c, tc.method, "/console/api/ivschat/CreateRoom", `{}`, tc.hdr); w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
	}
	if w := do(c, "POST", "/console/api/session", `{"accessKeyId":"AKIA1","secretAccessKey":"s3cret"}`, nil); w.Code != 403 {
		t.Errorf("sign-in without the header: %d, want 403 (login CSRF)", w.Code)
	}
}

// Ensure the audit page reads the trail incrementally and filters it, newest first.
func TestAuditTrail(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	a := &fakeAudit{}
	for i, act := range []string{"DisconnectUser", "LogoutUser", "DisconnectUser"} {
		a.recs = append(a.recs, &parley.AuditRecord{ID: string(rune('a' + i)), Time: t0.Add(time.Duration(i) * time.Minute), Caller: "AKIA1", Action: act, Target: "room/r" + string(rune('0'+i)), Result: "ok"})
	}
	c := newConsole(t, a)
	cookie := signIn(t, c)
	get := func(q string) string {
		w := do(c, "GET", "/console/api/audit?"+q, ``, map[string]string{"Cookie": cookie})
		if w.Code != 200 {
			t.Fatalf("audit?%s: %d %s", q, w.Code, w.Body)
		}
		return w.Body.String()
	}
	body := get("action=DisconnectUser")
	if i, j := strings.Index(body, `"id":"c"`), strings.Index(body, `"id":"a"`); i < 0 || j < 0 || i > j || strings.Contains(body, `"id":"b"`) {
		t.Fatalf("audit?action=DisconnectUser = %s, want c then a", body)
	}
	if body := get("since=2026-11-30T10:01&target=r1"); !strings.Contains(body, `"matched":1`) || !strings.Contains(body, `"id":"b"`) {
		t.Fatalf("audit?since&target = %s, want b only", body)
	}
	// A new record shows up; the refresh starts from the last full page.
	a.recs = append(a.recs, &parley.AuditRecord{ID: "d", Time: t0.Add(time.Hour), Action: "CreateBan", Caller: "AKIA1"})
	a.calls = 0
	if body := get(""); !strings.HasPrefix(body, `{"actions":["CreateBan","DisconnectUser","LogoutUser"]`) || !strings.Contains(body, `"records":[{"id":"d"`) {
		t.Fatalf("audit after a new record = %s, want d first", body)
	}
	if a.calls > 2 {
		t.Fatalf("refresh read %d pages, want at most 2 (from the cursor on)", a.calls)
	}
}
