package ivsapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// errorTypes maps each Kind to the IVS Chat exception and its modeled status.
var errorTypes = map[parley.Kind]struct {
	typ    string
	status int
}{
	parley.KindInvalid:         {"ValidationException", http.StatusBadRequest},
	parley.KindNotFound:        {"ResourceNotFoundException", http.StatusNotFound},
	parley.KindConflict:        {"ConflictException", http.StatusConflict},
	parley.KindUnauthenticated: {"AccessDeniedException", http.StatusForbidden},
	parley.KindForbidden:       {"AccessDeniedException", http.StatusForbidden},
	parley.KindThrottled:       {"ThrottlingException", http.StatusTooManyRequests},
	parley.KindQuotaExceeded:   {"ServiceQuotaExceededException", http.StatusPaymentRequired},
	parley.KindUnavailable:     {"InternalServerException", http.StatusInternalServerError},
	parley.KindInternal:        {"InternalServerException", http.StatusInternalServerError},
}

// Validation reasons.
const (
	reasonUnknownOperation = "UNKNOWN_OPERATION"
	reasonField            = "FIELD_VALIDATION_FAILED"
	reasonOther            = "OTHER"
)

type fieldJSON struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

type errorJSON struct {
	Type         string      `json:"__type"`
	Message      string      `json:"message"`
	Reason       string      `json:"reason,omitempty"`
	FieldList    []fieldJSON `json:"fieldList,omitempty"`
	ResourceID   *string     `json:"resourceId,omitempty"`
	ResourceType string      `json:"resourceType,omitempty"`
	Limit        *int        `json:"limit,omitempty"`
}

// WriteError renders err as an IVS Chat error response.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := parley.AsError(err)
	t, ok := errorTypes[e.Kind]
	if !ok {
		t = errorTypes[parley.KindInternal]
	}
	body := errorJSON{Type: t.typ, Message: e.Message}
	switch e.Kind {
	case parley.KindInvalid:
		body.Reason = reasonOther
		if len(e.Fields) > 0 {
			body.Reason = reasonField
		}
		for _, f := range e.Fields {
			body.FieldList = append(body.FieldList, fieldJSON{Name: f.Name, Message: f.Message})
		}
	case parley.KindNotFound, parley.KindConflict, parley.KindQuotaExceeded, parley.KindThrottled:
		// resourceType has one value in the model, ROOM, even for logging configurations.
		id := ""
		if e.Resource != nil {
			id = e.Resource.ID
		}
		body.ResourceID, body.ResourceType = &id, string(parley.ResourceRoom)
		if e.Kind == parley.KindQuotaExceeded || e.Kind == parley.KindThrottled {
			body.Limit = &e.Limit
		}
	case parley.KindInternal, parley.KindUnavailable:
		body.Message = "An internal error occurred."
	}
	awsproto.WriteError(w, r, t.status, t.typ, body)
}

// unknownOperation answers a request that matches no IVS Chat operation.
func unknownOperation(w http.ResponseWriter, r *http.Request) {
	awsproto.WriteError(w, r, http.StatusBadRequest, "ValidationException", errorJSON{Type: "ValidationException",
		Message: "Unknown operation " + r.Method + " " + r.URL.EscapedPath(), Reason: reasonUnknownOperation})
}
