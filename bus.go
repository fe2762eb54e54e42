package parley

import (
	"context"
	"time"
)

// EventType says what an Event carries.
type EventType string

const (
	// EventMessage is a chat message to broadcast to a room.
	EventMessage EventType = "MESSAGE"
	// EventEvent is a named event (aws:DELETE_MESSAGE, aws:DISCONNECT_USER or
	// an application event from SendEvent) to broadcast to a room.
	EventEvent EventType = "EVENT"
	// EventControl carries Commands on ControlSubject; EventAck is a
	// node's answer that it carried them out.
	EventControl EventType = "CONTROL"
	EventAck     EventType = "ACK"
)

// ControlSubject carries the commands every node must carry out and
// acknowledge, whether or not it holds connections they concern.
const ControlSubject = "parley.control"

// Sender is who sent a message.
type Sender struct {
	UserID     string            `json:"userId"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Event is what travels on the Bus between the API layer and whatever holds
// live connections, possibly on other nodes.
type Event struct {
	Type       EventType         `json:"type"`
	Room       Scope             `json:"room"`
	RoomID     string            `json:"roomId"`
	Account    string            `json:"account,omitempty"` // the Chime account of a Chime room
	ID         string            `json:"id,omitempty"`
	RequestID  string            `json:"requestId,omitempty"`
	Name       string            `json:"name,omitempty"`
	Content    string            `json:"content,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Sender     *Sender           `json:"sender,omitempty"`
	SendTime   time.Time         `json:"sendTime"`

	// Control traffic: the commands of an EventControl, where nodes
	// acknowledge them, and the node that sends an EventAck.
	Commands []Command `json:"commands,omitempty"`
	ReplyTo  string    `json:"replyTo,omitempty"`
	Node     string    `json:"node,omitempty"`
}

// System event names of the IVS Chat messaging protocol.
const (
	EventNameDeleteMessage  = "aws:DELETE_MESSAGE"
	EventNameDisconnectUser = "aws:DISCONNECT_USER"
)

// ChimeRoomSubject is the bus subject of a Chime room's traffic.
func ChimeRoomSubject(r ChimeRoomKey) string {
	return "parley.chime." + r.AWS + "." + r.Account + "." + r.Room
}

// RoomSubject is the bus subject of a room's traffic.
func RoomSubject(s Scope, roomID string) string {
	return "parley.room." + s.AccountID + "." + s.Region + "." + roomID
}

// Bus carries Events between nodes. Delivery is at most once and ordered
// per subject for one publisher; nothing is persisted, so anything that must
// survive a missed event is also checked against the Store.
//
// Implementations: inmem (one process) and, later, natsbus. Both run the
// conformance suite in package bustest.
type Bus interface {
	// Publish sends ev to every current subscriber of subject.
	Publish(ctx context.Context, subject string, ev Event) error
	// Subscribe calls h for each event published on subject until cancel is
	// called. h runs on the bus's goroutine and must not block.
	Subscribe(ctx context.Context, subject string, h func(Event)) (cancel func(), err error)
	// Close stops delivery and releases resources.
	Close(ctx context.Context) error
}

// Clock is the only source of "now" in parley, so tests can pin time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now in UTC, truncated to milliseconds as the wire carries it.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
