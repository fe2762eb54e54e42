package awsproto_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// Ensure timestamps go on the wire in UTC with milliseconds.
func TestTime(t *testing.T) {
	at := time.Date(2026, 3, 4, 6, 6, 7, 891234567, time.FixedZone("CET", 3600))
	if got, want := awsproto.Time(at), "2026-03-04T05:06:07.891Z"; got != want {
		t.Fatalf("Time = %s, want %s", got, want)
	}
}

// Ensure each request gets its own ID, and a context without one still has an Info.
func TestInfo(t *testing.T) {
	ctx1, i1 := awsproto.WithInfo(context.Background())
	_, i2 := awsproto.WithInfo(context.Background())
	if i1.ID == "" || i1.ID == i2.ID || awsproto.InfoFrom(ctx1) != i1 {
		t.Fatalf("WithInfo IDs %q %q, InfoFrom %p want %p", i1.ID, i2.ID, awsproto.InfoFrom(ctx1), i1)
	}
	if i := awsproto.InfoFrom(context.Background()); i == nil || i.ID != "" {
		t.Fatalf("InfoFrom(no info) = %+v, want an empty Info", i)
	}
}

// Ensure a body is read whole up to MaxBody, and refused as KindInvalid
// (with ErrTooLarge) beyond it or when it cannot be read.
func TestReadBody(t *testing.T) {
	for _, n := range []int{0, 1, awsproto.MaxBody} {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, n)))
		if b, err := awsproto.ReadBody(r); err != nil || len(b) != n {
			t.Fatalf("ReadBody(%d bytes) = %d bytes, %v", n, len(b), err)
		}
	}
	r := httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, awsproto.MaxBody+1)))
	_, err := awsproto.ReadBody(r)
	if parley.KindOf(err) != parley.KindInvalid || !errors.Is(err, awsproto.ErrTooLarge) || parley.AsError(err).Message != "request body exceeds 1048576 bytes" {
		t.Fatalf("ReadBody(MaxBody+1) = %v, want KindInvalid ErrTooLarge", err)
	}
	r = httptest.NewRequest("POST", "/", iotest.ErrReader(errors.New("reset")))
	if _, err := awsproto.ReadBody(r); parley.KindOf(err) != parley.KindInvalid || parley.AsError(err).Message != "request body could not be read" {
		t.Fatalf("ReadBody(failing) = %v, want KindInvalid", err)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Body = nil
	if b, err := awsproto.ReadBody(r); b != nil || err != nil {
		t.Fatalf("ReadBody(nil body) = %q, %v", b, err)
	}
}

// Ensure Decode reads an empty body as {}, ignores unknown members and
// nulls, and reports bad input as KindInvalid naming the member.
func TestDecode(t *testing.T) {
	type inner struct {
		N *int `json:"n"`
	}
	type shape struct {
		Name  *string           `json:"name"`
		Count *int              `json:"count"`
		On    *bool             `json:"on"`
		List  []string          `json:"list"`
		Map   map[string]string `json:"map"`
		Inner *inner            `json:"inner"`
	}
	for _, body := range []string{``, "  \n\t", `null`, `{}`, `{"unknown":[1,{"x":2}]}`, `{"name":null}`} {
		var v shape
		if err := awsproto.Decode([]byte(body), &v); err != nil || v.Name != nil {
			t.Errorf("Decode(%q) = %+v, %v, want a zero value", body, v, err)
		}
	}
	var v shape
	if err := awsproto.Decode([]byte(` {"name":"a","count":3,"inner":{"n":1}} `), &v); err != nil || *v.Name != "a" || *v.Count != 3 || *v.Inner.N != 1 {
		t.Fatalf("Decode = %+v, %v", v, err)
	}
	tests := []struct {
		body, wantMessage string
		wantField         string
	}{
		{`{"name":`, "request body is not valid JSON", ""},
		{`{"name":"a"}x`, "request body is not valid JSON", ""},
		{"\xff", "request body is not valid JSON", ""},
		{`[]`, "request body must be a JSON object", ""},
		{`"a"`, "request body must be a JSON object", ""},
		{`1`, "request body must be a JSON object", ""},
		{`{"name":1}`, "name must be of type string", "name"},
		{`{"count":"1"}`, "count must be of type number", "count"},
		{`{"count":1.5}`, "count must be of type number", "count"},
		{`{"on":"yes"}`, "on must be of type boolean", "on"},
		{`{"list":{}}`, "list must be of type array", "list"},
		{`{"map":[]}`, "map must be of type object", "map"},
		{`{"inner":[]}`, "inner must be of type object", "inner"},
		{`{"inner":{"n":true}}`, "inner.n must be of type number", "inner.n"},
	}
	for _, tt := range tests {
		var v shape
		err := awsproto.Decode([]byte(tt.body), &v)
		e := parley.AsError(err)
		var field string
		if len(e.Fields) == 1 {
			field = e.Fields[0].Name
		}
		if e.Kind != parley.KindInvalid || e.Message != tt.wantMessage || field != tt.wantField {
			t.Errorf("Decode(%q) = %v (fields %+v), want %q naming %q", tt.body, err, e.Fields, tt.wantMessage, tt.wantField)
		}
	}
}

// Ensure responses carry the request ID, record their status, and that a
// nil value is a bodiless response (the 204s).
func TestWriteJSON(t *testing.T) {
	ctx, info := awsproto.WithInfo(context.Background())
	r := httptest.NewRequest("POST", "/", nil).WithContext(ctx)

	w := httptest.NewRecorder()
	awsproto.WriteJSON(w, r, http.StatusCreated, map[string]string{"a": "b"})
	if w.Code != 201 || w.Body.String() != `{"a":"b"}` || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("x-amzn-RequestId") != info.ID || info.Status != 201 {
		t.Fatalf("WriteJSON = %d %v %s, status %d", w.Code, w.Header(), w.Body, info.Status)
	}

	w = httptest.NewRecorder()
	awsproto.WriteJSON(w, r, http.StatusNoContent, nil)
	if w.Code != 204 || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" || w.Header().Get("x-amzn-RequestId") != info.ID || info.Status != 204 {
		t.Fatalf("WriteJSON(nil) = %d %v %q", w.Code, w.Header(), w.Body)
	}

	w = httptest.NewRecorder()
	awsproto.WriteJSON(w, r, http.StatusOK, func() {})
	if w.Code != 500 || w.Body.String() != `{"message":"internal error"}` {
		t.Fatalf("WriteJSON(unencodable) = %d %s, want 500", w.Code, w.Body)
	}

	w = httptest.NewRecorder()
	awsproto.WriteError(w, r, http.StatusNotFound, "NotFoundException", map[string]string{"Code": "NotFound"})
	if w.Code != 404 || w.Header().Get("X-Amzn-ErrorType") != "NotFoundException" || w.Body.String() != `{"Code":"NotFound"}` ||
		w.Header().Get("x-amzn-RequestId") != info.ID {
		t.Fatalf("WriteError = %d %v %s", w.Code, w.Header(), w.Body)
	}
}

// Ensure only server-side failures are logged, at ERROR, unless the client
// gave up first.
func TestLogFailure(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		cancelled bool
		want      string
	}{
		{"client error", parley.Errorf(parley.KindInvalid, "bad"), false, ""},
		{"not found", parley.Errorf(parley.KindNotFound, "gone"), false, ""},
		{"internal", parley.Internal("store", errors.New("disk")), false, "level=ERROR msg=\"operation failed\" op=Op"},
		{"unavailable", parley.Errorf(parley.KindUnavailable, "bus"), false, "level=ERROR msg=\"operation failed\" op=Op"},
		{"plain error", errors.New("boom"), false, "level=ERROR"},
		{"cancelled", parley.Internal("store", context.Canceled), true, "level=INFO msg=\"operation cancelled by the client\" op=Op"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		ctx, cancel := context.WithCancel(context.Background())
		if tt.cancelled {
			cancel()
		}
		awsproto.LogFailure(httptest.NewRequest("POST", "/", nil).WithContext(ctx), log, "Op", tt.err)
		cancel()
		if got := buf.String(); (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: logged %q, want %q", tt.name, got, tt.want)
		}
	}
}
