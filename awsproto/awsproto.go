// Package awsproto holds what parley's AWS REST-JSON APIs share: request
// metadata carried through the context, body limits, JSON decoding that
// reports bad input as parley errors, and response writing.
package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/parley-chat/parley"
)

// MaxBody is the largest request body accepted. The largest legitimate
// IVS or Chime request is a few kilobytes.
const MaxBody = 1 << 20

// TimeFormat is how timestamps go on the wire (ISO 8601, UTC, milliseconds).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Time formats t for the wire.
func Time(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Info is per-request metadata, filled in as the request travels.
type Info struct {
	ID      string // x-amzn-RequestId
	API     string // "ivschat" or "chime", once known
	Op      string // the operation name, once routed
	Account string // the caller's account, once authenticated
	Status  int    // the response status, once written
}

type infoKey struct{}

// WithInfo returns ctx carrying a fresh Info with a new request ID.
func WithInfo(ctx context.Context) (context.Context, *Info) {
	i := &Info{ID: uuid.NewString()}
	return context.WithValue(ctx, infoKey{}, i), i
}

// InfoFrom returns the request's Info, or a throwaway one.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// ErrTooLarge is the cause when a body exceeds MaxBody.
var ErrTooLarge = errors.New("request body too large")

// ReadBody reads the whole body, up to MaxBody.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, &parley.Error{Kind: parley.KindInvalid, Message: "request body could not be read", Err: err}
	}
	if len(b) > MaxBody {
		return nil, &parley.Error{Kind: parley.KindInvalid, Message: fmt.Sprintf("request body exceeds %d bytes", MaxBody), Err: ErrTooLarge}
	}
	return b, nil
}

// Decode parses a JSON body into v. An empty body is {}; JSON null members
// leave fields unset; unknown members are ignored. Bad JSON or a member of
// the wrong type is KindInvalid naming the member.
func Decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	err := json.Unmarshal(body, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field == "":
		return &parley.Error{Kind: parley.KindInvalid, Message: "request body must be a JSON object", Err: err}
	case errors.As(err, &te):
		return parley.Invalid(te.Field, "must be of type %s", jsonType(te.Type.Kind().String()))
	default:
		return &parley.Error{Kind: parley.KindInvalid, Message: "request body is not valid JSON", Err: err}
	}
}

func jsonType(goKind string) string {
	switch goKind {
	case "int", "int32", "int64", "float64":
		return "number"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	case "bool":
		return "boolean"
	}
	return goKind
}

// WriteJSON writes v with status and the request ID header.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	info := InfoFrom(r.Context())
	info.Status = status
	h := w.Header()
	h.Set("x-amzn-RequestId", info.ID)
	if v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"message":"internal error"}`)
		status = http.StatusInternalServerError
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// WriteError writes an AWS error: the type in X-Amzn-ErrorType (which every
// SDK reads first) and body as given.
func WriteError(w http.ResponseWriter, r *http.Request, status int, errorType string, body any) {
	w.Header().Set("X-Amzn-ErrorType", errorType)
	WriteJSON(w, r, status, body)
}

// LogFailure logs an operation's server-side failure at ERROR, unless the
// client gave up first: its request's cancellation is what failed it, and
// that is no fault of the server's.
func LogFailure(r *http.Request, log *slog.Logger, op string, err error) {
	k := parley.KindOf(err)
	if k != parley.KindInternal && k != parley.KindUnavailable {
		return
	}
	if r.Context().Err() != nil {
		log.InfoContext(r.Context(), "operation cancelled by the client", "op", op, "err", err)
		return
	}
	log.ErrorContext(r.Context(), "operation failed", "op", op, "err", err)
}
