package ws

import (
	"slices"
	"strings"
	"sync/atomic"

	"github.com/parley-chat/parley"
)

// The APIs a connection speaks, as metrics and snapshots label them.
const (
	APIIVS   = "ivschat" // IVS Chat messaging
	APIChime = "chime"   // parley's Chime devices
)

// stats are the hub's counters. They only grow; metrics read them.
type stats struct {
	ivsMessages, ivsEvents atomic.Uint64
	chimeMessages          atomic.Uint64
	slowDrops              atomic.Uint64
	throttled              atomic.Uint64
}

// delivered counts a frame of type typ queued to n connections.
func (s *stats) delivered(api string, typ parley.EventType, n int) {
	switch {
	case api == APIChime:
		s.chimeMessages.Add(uint64(n))
	case typ == parley.EventMessage:
		s.ivsMessages.Add(uint64(n))
	default:
		s.ivsEvents.Add(uint64(n))
	}
}

// Stats are a node's counters since it started.
type Stats struct {
	IVSMessages   uint64 // IVS MESSAGE frames queued to connections (one per connection reached)
	IVSEvents     uint64 // IVS EVENT frames (SendEvent, DeleteMessage) queued to connections
	ChimeMessages uint64 // Chime room messages queued to devices
	SlowDrops     uint64 // connections dropped for not reading fast enough
	Throttled     uint64 // messages and events refused because the node's sockets were too far behind
	Backlog       int64  // frames taken and not yet written: queued to sockets (at most a few per connection), or to come of events not yet broadcast
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{IVSMessages: h.stats.ivsMessages.Load(), IVSEvents: h.stats.ivsEvents.Load(),
		ChimeMessages: h.stats.chimeMessages.Load(), SlowDrops: h.stats.slowDrops.Load(),
		Throttled: h.stats.throttled.Load(), Backlog: h.backlog.frames.Load() + h.backlog.pending.Load()}
}

// RoomConns is an IVS room's connections on this node.
type RoomConns struct {
	Scope       parley.Scope
	RoomID      string
	Connections int
	Users       []UserConns // by user ID; only when asked for
}

// UserConns is one user's connections to a room on this node.
type UserConns struct {
	UserID       string
	Connections  int
	Capabilities []parley.Capability
	Attributes   map[string]string // of the user's first connection
	IPs          []string
}

// Rooms returns the IVS rooms with connections on this node whose scope
// keep selects, by room ID, and their users if users is set.
func (h *Hub) Rooms(keep func(parley.Scope) bool, users bool) []RoomConns {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []RoomConns
	for k, r := range h.rooms {
		if !keep(k.scope) {
			continue
		}
		rc := RoomConns{Scope: k.scope, RoomID: k.id, Connections: len(r.conns)}
		if users {
			for id, cs := range r.users {
				u := UserConns{UserID: id, Connections: len(cs)}
				for _, c := range cs {
					if c.device == nil && u.Capabilities == nil {
						u.Capabilities, u.Attributes = c.caps.list(), c.attrs
					}
					if !slices.Contains(u.IPs, c.ip) {
						u.IPs = append(u.IPs, c.ip)
					}
				}
				rc.Users = append(rc.Users, u)
			}
			slices.SortFunc(rc.Users, func(a, b UserConns) int { return strings.Compare(a.UserID, b.UserID) })
		}
		out = append(out, rc)
	}
	slices.SortFunc(out, func(a, b RoomConns) int { return strings.Compare(a.RoomID, b.RoomID) })
	return out
}

// RoomCount returns how many IVS rooms have connections on this node.
func (h *Hub) RoomCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rooms)
}

// DeviceConns is a Chime user's signed-in devices on this node.
type DeviceConns struct {
	AwsAccountID, AccountID, UserID string
	Devices                         int
	Rooms                           int // Chime rooms delivered to the user's first device
	IPs                             []string
}

// Devices returns the Chime users of the AWS account aws with devices
// connected to this node, by account and user.
func (h *Hub) Devices(aws string) []DeviceConns {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []DeviceConns
	for k, cs := range h.devices {
		if k.AWS != aws || len(cs) == 0 {
			continue
		}
		d := DeviceConns{AwsAccountID: k.AWS, AccountID: k.Account, UserID: k.User, Devices: len(cs), Rooms: len(cs[0].rooms)}
		for _, c := range cs {
			if !slices.Contains(d.IPs, c.ip) {
				d.IPs = append(d.IPs, c.ip)
			}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b DeviceConns) int {
		return strings.Compare(a.AccountID+"/"+a.UserID, b.AccountID+"/"+b.UserID)
	})
	return out
}
