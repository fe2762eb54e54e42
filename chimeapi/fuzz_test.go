package chimeapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/apitest"
)

// FuzzChimeAPI sends any body, with any path labels, to every Chime
// operation (and extension) of a real service. Whatever the input, the
// answer is a client error or success, never a server error, and an error
// is one the AWS clients can parse: X-Amzn-ErrorType and a JSON body.
func FuzzChimeAPI(f *testing.F) {
	svc, sealer := apitest.Service(f)
	a := New(svc.Chime(), sealer, nil, nil)
	p := apitest.Principal
	p.Service = "chime"
	for i, body := range []string{`{}`, `{"Name":"Acme"}`, `{"Email":"a@example.com","UserType":"PrivateUser"}`,
		`{"UserIdList":["u1","u2"]}`, `{"UserEmailList":["a@example.com"]}`, `{"RetentionSettings":{"RoomRetentionSettings":{"RetentionDays":30}}}`,
		`{"MemberId":"m","Role":"Administrator"}`, `{"DisplayName":"bot","Domain":"example.com"}`, `{"Content":"hi"}`,
		`{"AccountSettings":{"DisableRemoteControl":true}}`, `[]`, `{"Name":1}`, "\xff"} {
		f.Add(byte(i), "acc-"+string(rune('a'+i)), "id", "", body)
	}
	f.Fuzz(func(t *testing.T, route byte, account, id, query, body string) {
		rt := a.routes[int(route)%len(a.routes)]
		segs := make([]string, len(rt.path))
		for i, s := range rt.path {
			switch {
			case s == ":accountId":
				segs[i] = url.PathEscape(account)
			case strings.HasPrefix(s, ":"):
				segs[i] = url.PathEscape(id)
			default:
				segs[i] = s
			}
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			q = url.Values{}
		}
		if rt.op != "" {
			q.Set("operation", rt.op)
		}
		target := "/" + strings.Join(segs, "/") + "?" + q.Encode()
		r := httptest.NewRequest(rt.method, "http://parley"+target, bytes.NewReader([]byte(body)))
		w := httptest.NewRecorder()
		a.ServeHTTP(w, apitest.Request(r, p))
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, target, body, w.Code, w.Body)
		}
		if w.Code >= 400 && (w.Header().Get("X-Amzn-ErrorType") == "" || !json.Valid(w.Body.Bytes())) {
			t.Fatalf("%s %s %q: error %d without a type or JSON body: %q", rt.method, target, body, w.Code, w.Body)
		}
		if w.Code < 300 && w.Code != http.StatusNoContent && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s %q: %d body is not JSON", rt.method, target, body, w.Code)
		}
	})
}
