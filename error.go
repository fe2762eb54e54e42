package parley

import (
	"errors"
	"fmt"
)

// Kind classifies an error. Each API maps a Kind to its own wire error at
// the edge (ivsapi, chimeapi, ws). The list is append-only: values may be
// persisted or compared across versions.
type Kind uint8

const (
	KindInternal        Kind = iota // zero value: anything unclassified is our fault
	KindInvalid                     // the request is malformed or breaks a constraint
	KindNotFound                    // the named resource does not exist (for this caller)
	KindConflict                    // the resource exists or is in a conflicting state
	KindUnauthenticated             // the caller could not be identified
	KindForbidden                   // the caller is known but not allowed
	KindThrottled                   // a rate limit was exceeded
	KindQuotaExceeded               // a count quota was exceeded
	KindUnavailable                 // a dependency is unavailable; retrying may help
	KindUnprocessable               // well-formed, but a precondition does not hold (Chime DeleteAccount with active users)
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "unauthenticated", "forbidden", "throttled", "quota exceeded", "unavailable", "unprocessable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ResourceType names the kind of resource an error is about, in IVS terms.
type ResourceType string

const (
	ResourceRoom                 ResourceType = "ROOM"
	ResourceLoggingConfiguration ResourceType = "LOGGING_CONFIGURATION"
)

// Resource identifies the resource an error is about.
type Resource struct {
	Type ResourceType
	ID   string
}

// FieldError says which request field broke which constraint.
type FieldError struct {
	Name    string // the wire member name, e.g. "maximumMessageLength"
	Message string
}

// Error is the one error type of parley. Message is safe to show to
// clients; Op and Err are for logs only.
type Error struct {
	Kind     Kind
	Op       string
	Message  string
	Resource *Resource
	Fields   []FieldError
	Limit    int
	Err      error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k with a formatted client-safe message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a KindNotFound error about the resource (t, id).
func NotFound(t ResourceType, id, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, args...), Resource: &Resource{Type: t, ID: id}}
}

// Invalid returns a KindInvalid error naming one offending field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Kind: KindInvalid, Message: field + " " + msg, Fields: []FieldError{{Name: field, Message: msg}}}
}

// Internal wraps cause as a KindInternal error; the cause is never shown to clients.
func Internal(op string, cause error) *Error {
	return &Error{Kind: KindInternal, Op: op, Message: "internal error", Err: cause}
}

// AsError returns the *Error in err's chain; anything else becomes KindInternal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal("", err)
}

// KindOf returns the Kind of err; nil has no kind and reports KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
