package parley

import (
	"context"
	"time"
)

// Op is what a Command does to the connections it selects.
type Op string

// The commands every node carries out on its own connections.
const (
	// OpDisconnectUser closes User's connections in the IVS room (Scope,
	// Room), after telling the room with aws:DISCONNECT_USER.
	OpDisconnectUser Op = "DisconnectUser"
	// OpDeleteRoom closes every connection of the IVS room.
	OpDeleteRoom Op = "DeleteRoom"
	// OpUpdateRoom makes open connections of the IVS room reload its limits.
	OpUpdateRoom Op = "UpdateRoom"
	// OpSignOut signs Users of the Chime account out of every device.
	OpSignOut Op = "SignOut"
	// OpAddMember and OpRemoveMember start and end the delivery of the
	// Chime room to User's devices; the store has the last word on which.
	OpAddMember    Op = "AddMember"
	OpRemoveMember Op = "RemoveMember"
	// OpDeleteChimeRoom ends the delivery of the Chime room to every device.
	OpDeleteChimeRoom Op = "DeleteChimeRoom"
	// OpChimeAccountChanged says the Chime account (Chime, without a room)
	// was updated or deleted, and OpAccessKeyChanged that the access key
	// AccessKey was replaced. They close no connection: each node forgets
	// what it keeps in memory of them (package cache).
	OpChimeAccountChanged Op = "ChimeAccountChanged"
	OpAccessKeyChanged    Op = "AccessKeyChanged"
)

// Command is a revocation (or a change of who receives what, or of what
// nodes keep in memory) that every live node must carry out on its own
// connections and caches before the call that made it returns. Which
// fields select what it applies to depends on Op.
type Command struct {
	ID        string       `json:"id"`
	Op        Op           `json:"op"`
	Scope     Scope        `json:"scope,omitzero"`      // IVS: the room's account and region
	Room      string       `json:"room,omitempty"`      // IVS: the room ID
	Chime     ChimeRoomKey `json:"chime,omitzero"`      // Chime: account, and room for room commands
	User      string       `json:"user,omitempty"`      // the user (IVS) or member (Chime) concerned
	Users     []string     `json:"users,omitempty"`     // OpSignOut: the Chime users signed out
	AccessKey string       `json:"accessKey,omitempty"` // OpAccessKeyChanged: the access key ID
	Reason    string       `json:"reason,omitempty"`
	RequestID string       `json:"requestId,omitempty"` // the messaging request that asked for it, if any
	Time      time.Time    `json:"time"`
}

// DisconnectNotice returns the room event that announces an OpDisconnectUser
// command to the room: aws:DISCONNECT_USER with the command's ID.
func DisconnectNotice(cmd Command) Event {
	attrs := map[string]string{"UserId": cmd.User}
	if cmd.Reason != "" {
		attrs["Reason"] = cmd.Reason
	}
	return Event{Type: EventEvent, Room: cmd.Scope, RoomID: cmd.Room, ID: cmd.ID, RequestID: cmd.RequestID,
		Name: EventNameDisconnectUser, Attributes: attrs, SendTime: cmd.Time}
}

// OutboxEntry is a Command waiting to be carried out by every node. It is
// written in the same transaction as the change it enforces, so the two
// commit together or not at all, and it stays until every live node has
// carried it out or has fenced itself.
type OutboxEntry struct {
	ID      string    // the command's ID
	Seq     int64     // the order of commitment, assigned by the store
	Command []byte    // the command, encoded by the control plane
	Created time.Time // by the store's clock
}

type outboxKey struct{}

// WithOutbox returns a context whose store writes also append entries to
// the outbox, in the same transaction.
func WithOutbox(ctx context.Context, entries ...*OutboxEntry) context.Context {
	return context.WithValue(ctx, outboxKey{}, entries)
}

// OutboxFrom returns the entries WithOutbox attached to ctx.
func OutboxFrom(ctx context.Context) []*OutboxEntry {
	e, _ := ctx.Value(outboxKey{}).([]*OutboxEntry)
	return e
}
