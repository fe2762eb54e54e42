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
	// EventDisconnect asks every holder of UserID's connections in Room to close them.
	EventDisconnect EventType = "DISCONNECT"
	// EventDisconnectScope asks every holder of UserID's connections in any
	// room of the scope Room (RoomID unused) to close them, as EventDisconnect
	// does room by room: a ban from every room (issue 16). To be ported to
	// the control package's selectors (issue 10).
	EventDisconnectScope EventType = "DISCONNECT_SCOPE"
	// EventRoomDeleted asks every holder of the room's connections to close them.
	EventRoomDeleted EventType = "ROOM_DELETED"
	// EventRoomUpdated tells holders of the room's connections to reload its limits.
	EventRoomUpdated EventType = "ROOM_UPDATED"
	// EventSignOut asks every holder of device connections of Users (of the
	// Chime account RoomID, AWS account Room.AccountID) to close them.
	EventSignOut EventType = "SIGN_OUT"
	// EventMemberAdded and EventMemberRemoved tell the holders of a Chime
	// member's device connections (UserID in room RoomID of Chime account
	// Account) that it joined or left the room; EventChimeRoomDeleted ends
	// a Chime room's delivery.
	EventMemberAdded      EventType = "MEMBER_ADDED"
	EventMemberRemoved    EventType = "MEMBER_REMOVED"
	EventChimeRoomDeleted EventType = "CHIME_ROOM_DELETED"
	// EventAck confirms that a node carried out a command sent with ReplyTo.
	EventAck EventType = "ACK"
)

// ControlSubject carries commands every node must carry out and acknowledge
// (disconnections, room deletions), whether or not it holds connections of
// the room concerned.
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
	UserID     string            `json:"userId,omitempty"`
	Users      []string          `json:"users,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	SendTime   time.Time         `json:"sendTime"`
	ReplyTo    string            `json:"replyTo,omitempty"` // where nodes acknowledge a command
	Node       string            `json:"node,omitempty"`    // the acknowledging node
}

// System event names of the IVS Chat messaging protocol.
const (
	EventNameDeleteMessage  = "aws:DELETE_MESSAGE"
	EventNameDisconnectUser = "aws:DISCONNECT_USER"
)

// DisconnectNotice returns the room event that announces a disconnection
// command to the room: aws:DISCONNECT_USER with the command's ID.
func DisconnectNotice(cmd Event) Event {
	attrs := map[string]string{"UserId": cmd.UserID}
	if cmd.Reason != "" {
		attrs["Reason"] = cmd.Reason
	}
	return Event{Type: EventEvent, Room: cmd.Room, RoomID: cmd.RoomID, ID: cmd.ID, RequestID: cmd.RequestID,
		Name: EventNameDisconnectUser, Attributes: attrs, SendTime: cmd.SendTime}
}

// ChimeRoomSubject is the bus subject of a Chime room's traffic.
func ChimeRoomSubject(aws, account, roomID string) string {
	return "parley.chime." + aws + "." + account + "." + roomID
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
