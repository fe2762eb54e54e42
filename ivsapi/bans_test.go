package ivsapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/internal/apitest"
	"github.com/parley-chat/parley/ivsapi"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/sqlite"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

var caller = parley.Principal{AccessKeyID: "AKIATEST", Scope: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, Service: "ivschat"}

// newAPI serves the IVS API on a fresh SQLite store, as the server would
// after authenticating caller. No node holds connections, so commands
// return at once.
func newAPI(t *testing.T) (*service.Rooms, *clock, func(op string, body any) (int, map[string]any)) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _ := chattoken.NewKey()
	sealer, err := chattoken.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	log := slog.New(slog.DiscardHandler)
	bus := inmem.New()
	svcs := service.New(service.Config{Store: st, Bus: bus, Control: apitest.Control(t, st, bus, log), Clock: c, Tokens: sealer, Log: log})
	svc := svcs.Rooms
	api := ivsapi.New(svcs.IVS(), nil, log)
	call := func(op string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		r := httptest.NewRequest("POST", op, strings.NewReader(string(b)))
		r = r.WithContext(parley.NewContextWithPrincipal(r.Context(), caller))
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		var out map[string]any
		json.Unmarshal(w.Body.Bytes(), &out)
		if typ := w.Header().Get("X-Amzn-ErrorType"); typ != "" {
			out["type"] = typ
		}
		return w.Code, out
	}
	return svc, c, call
}

// Ensure a ban's wire shapes, and that CreateChatToken names the ban and its
// end in an AccessDeniedException until the ban ends.
func TestBanShapes(t *testing.T) {
	_, c, call := newAPI(t)
	status, room := call("/CreateRoom", map[string]any{})
	if status != 200 {
		t.Fatalf("CreateRoom: %d %v", status, room)
	}
	arn := room["arn"].(string)

	status, ban := call("/parley/v1/CreateBan", map[string]any{"roomIdentifier": arn, "userId": "troll", "reason": "spam", "durationInMinutes": 10})
	want := map[string]any{"roomArn": arn, "userId": "troll", "reason": "spam", "createTime": "2026-03-04T05:06:07.000Z", "expireTime": "2026-03-04T05:16:07.000Z"}
	if status != 200 || len(ban) != len(want) {
		t.Fatalf("CreateBan = %d %v, want 200 %v", status, ban, want)
	}
	for k, v := range want {
		if ban[k] != v {
			t.Fatalf("CreateBan %s = %v, want %v", k, ban[k], v)
		}
	}
	status, e := call("/CreateChatToken", map[string]any{"roomIdentifier": arn, "userId": "troll"})
	if status != 403 || e["type"] != "AccessDeniedException" || !strings.Contains(e["message"].(string), "banned from room "+arn+" until 2026-03-04T05:16:07.000Z: spam") {
		t.Fatalf("CreateChatToken of a banned user = %d %v", status, e)
	}
	if status, _ := call("/CreateChatToken", map[string]any{"roomIdentifier": arn, "userId": "someone-else"}); status != 200 {
		t.Fatalf("CreateChatToken of another user = %d", status)
	}
	c.now = c.now.Add(10 * time.Minute)
	if status, e := call("/CreateChatToken", map[string]any{"roomIdentifier": arn, "userId": "troll"}); status != 200 {
		t.Fatalf("CreateChatToken at the ban's end = %d %v", status, e)
	}
	if status, list := call("/parley/v1/ListBans", map[string]any{}); status != 200 || len(list["bans"].([]any)) != 0 {
		t.Fatalf("ListBans after the end = %d %v", status, list)
	}

	status, ban = call("/parley/v1/CreateBan", map[string]any{"userId": "troll", "reason": "everywhere"})
	if _, has := ban["roomArn"]; status != 200 || has || ban["expireTime"] != nil {
		t.Fatalf("CreateBan from every room = %d %v, want no roomArn nor expireTime", status, ban)
	}
	if status, e := call("/CreateChatToken", map[string]any{"roomIdentifier": arn, "userId": "troll"}); status != 403 ||
		!strings.Contains(e["message"].(string), "every room of account 123456789012 in us-east-1 until the ban is deleted") {
		t.Fatalf("CreateChatToken under a ban from every room = %d %v", status, e)
	}
	if status, _ := call("/parley/v1/DeleteBan", map[string]any{"userId": "troll"}); status != 204 {
		t.Fatalf("DeleteBan = %d, want 204", status)
	}
	if status, e := call("/parley/v1/DeleteBan", map[string]any{"userId": "troll"}); status != 404 || e["type"] != "ResourceNotFoundException" {
		t.Fatalf("DeleteBan twice = %d %v, want 404 ResourceNotFoundException", status, e)
	}
}

// Ensure every constraint of the ban operations is a ValidationException
// listing each broken field, as AWS reports them all.
func TestBanValidation(t *testing.T) {
	_, _, call := newAPI(t)
	status, e := call("/parley/v1/CreateBan", map[string]any{"roomIdentifier": "nope", "reason": strings.Repeat("r", 257), "durationInMinutes": 525601})
	if status != 400 || e["type"] != "ValidationException" || e["reason"] != "FIELD_VALIDATION_FAILED" {
		t.Fatalf("CreateBan = %d %v", status, e)
	}
	var names []string
	for _, f := range e["fieldList"].([]any) {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	if got := strings.Join(names, ","); got != "roomIdentifier,userId,reason,durationInMinutes" {
		t.Fatalf("fieldList names %s, want roomIdentifier,userId,reason,durationInMinutes", got)
	}
	if status, e := call("/parley/v1/ListBans", map[string]any{"maxResults": 101, "nextToken": strings.Repeat("x", 1025)}); status != 400 || len(e["fieldList"].([]any)) != 2 {
		t.Fatalf("ListBans = %d %v, want maxResults and nextToken", status, e)
	}
	if status, e := call("/parley/v1/ListBans", map[string]any{"nextToken": "bad"}); status != 400 || e["type"] != "ValidationException" {
		t.Fatalf("ListBans with a bad token = %d %v", status, e)
	}
	if status, e := call("/parley/v1/Ban", map[string]any{}); status != 400 || e["reason"] != "UNKNOWN_OPERATION" {
		t.Fatalf("unknown extension = %d %v", status, e)
	}
}
