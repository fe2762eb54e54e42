package chimeapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// errorTypes maps each Kind to the Chime exception (sent in
// X-Amzn-ErrorType, which every SDK reads first), its status and the short
// ErrorCode of the body.
var errorTypes = map[parley.Kind]struct {
	typ    string
	status int
	code   string
}{
	parley.KindInvalid:         {"BadRequestException", http.StatusBadRequest, "BadRequest"},
	parley.KindNotFound:        {"NotFoundException", http.StatusNotFound, "NotFound"},
	parley.KindConflict:        {"ConflictException", http.StatusConflict, "Conflict"},
	parley.KindUnauthenticated: {"UnauthorizedClientException", http.StatusUnauthorized, "Unauthorized"},
	parley.KindForbidden:       {"ForbiddenException", http.StatusForbidden, "Forbidden"},
	parley.KindThrottled:       {"ThrottledClientException", http.StatusTooManyRequests, "Throttled"},
	parley.KindQuotaExceeded:   {"ResourceLimitExceededException", http.StatusBadRequest, "ResourceLimitExceeded"},
	parley.KindUnavailable:     {"ServiceUnavailableException", http.StatusServiceUnavailable, "ServiceUnavailable"},
	parley.KindInternal:        {"ServiceFailureException", http.StatusInternalServerError, "ServiceFailure"},
	parley.KindUnprocessable:   {"UnprocessableEntityException", http.StatusUnprocessableEntity, "Unprocessable"},
}

type errorJSON struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// WriteError renders err as a Chime error response.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := parley.AsError(err)
	t, ok := errorTypes[e.Kind]
	if !ok {
		t = errorTypes[parley.KindInternal]
	}
	msg := e.Message
	if e.Kind == parley.KindInternal {
		msg = "An internal error occurred."
	}
	awsproto.WriteError(w, r, t.status, t.typ, errorJSON{Code: t.code, Message: msg})
}

// unknownOperation answers a request that matches no Chime operation.
func unknownOperation(w http.ResponseWriter, r *http.Request) {
	awsproto.WriteError(w, r, http.StatusNotFound, "UnknownOperationException",
		errorJSON{Code: "NotFound", Message: "Unknown operation " + r.Method + " " + r.URL.EscapedPath()})
}
