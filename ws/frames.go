package ws

import (
	"encoding/json"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// Frame types the server sends, as the IVS Chat Messaging API names them.
const (
	typeMessage = "MESSAGE"
	typeEvent   = "EVENT"
	typeError   = "ERROR"
)

// senderJSON is MESSAGE.Sender.
type senderJSON struct {
	UserID     string            `json:"UserId"`
	Attributes map[string]string `json:"Attributes,omitempty"`
}

// outFrame is every server-to-client frame; unused members are omitted.
// Attribute values are always strings, or the JS client drops the frame.
type outFrame struct {
	Type         string            `json:"Type"`
	ID           string            `json:"Id"`
	RequestID    string            `json:"RequestId,omitempty"`
	RoomID       string            `json:"RoomId,omitempty"` // Chime room frames
	Content      *string           `json:"Content,omitempty"`
	EventName    string            `json:"EventName,omitempty"`
	Attributes   map[string]string `json:"Attributes,omitempty"`
	SendTime     string            `json:"SendTime,omitempty"`
	Sender       *senderJSON       `json:"Sender,omitempty"`
	ErrorCode    int               `json:"ErrorCode,omitempty"`
	ErrorMessage string            `json:"ErrorMessage,omitempty"`
}

// Frame renders room traffic (a message or an event) as the frame room
// members receive; chat logs record the same payload.
func Frame(ev parley.Event) []byte { return eventFrame(ev) }

// eventFrame renders a bus event as the frame room members receive.
func eventFrame(ev parley.Event) []byte {
	f := outFrame{ID: ev.ID, RequestID: ev.RequestID, Attributes: ev.Attributes, SendTime: awsproto.Time(ev.SendTime)}
	switch ev.Type {
	case parley.EventMessage:
		f.Type, f.Content = typeMessage, &ev.Content
		if ev.Sender != nil {
			f.Sender = &senderJSON{UserID: ev.Sender.UserID, Attributes: ev.Sender.Attributes}
		}
	default:
		f.Type, f.EventName = typeEvent, ev.Name
	}
	b, _ := json.Marshal(f)
	return b
}

// errorFrame renders an ERROR for one connection; code is a messaging error code.
func errorFrame(requestID string, code int, msg string) []byte {
	b, _ := json.Marshal(outFrame{Type: typeError, ID: parley.NewID(), RequestID: requestID, ErrorCode: code, ErrorMessage: msg})
	return b
}

// Client actions.
const (
	actionSendMessage    = "SEND_MESSAGE"
	actionDeleteMessage  = "DELETE_MESSAGE"
	actionDisconnectUser = "DISCONNECT_USER"
)

// request is a client-to-server frame. Members are raw so that a wrong type
// is reported as a 400 naming the member instead of failing the whole frame.
type request struct {
	Action     json.RawMessage `json:"Action"`
	RequestID  json.RawMessage `json:"RequestId"`
	Content    json.RawMessage `json:"Content"`
	Attributes json.RawMessage `json:"Attributes"`
	ID         json.RawMessage `json:"Id"`
	UserID     json.RawMessage `json:"UserId"`
	Reason     json.RawMessage `json:"Reason"`
	RoomID     json.RawMessage `json:"RoomId"` // Chime device requests
	Limit      json.RawMessage `json:"Limit"`
}

// str decodes an optional string member: absent or null is ("", false, nil).
func str(raw json.RawMessage) (string, bool, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, false
	}
	return s, true, true
}

// attrs decodes an optional map of string to string.
func attrs(raw json.RawMessage) (map[string]string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	return m, true
}

// attrSize is the UTF-8 size of keys and values, the measure of the 1 KB cap.
func attrSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// EventSignedOut tells a device why it is being closed: its user was
// signed out (LogoutUser) or suspended.
const EventSignedOut = "parley:SIGNED_OUT"

func signedOutFrame(reason string, at time.Time) []byte {
	b, _ := json.Marshal(outFrame{Type: typeEvent, ID: parley.NewID(), EventName: EventSignedOut,
		Attributes: map[string]string{"Reason": reason}, SendTime: awsproto.Time(at)})
	return b
}
