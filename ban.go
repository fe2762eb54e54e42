package parley

import (
	"fmt"
	"time"
)

// Ban keeps a user out of a room, or out of every room of its Scope, until
// ExpireTime or until it is deleted. IVS Chat has no ban: it is parley's
// extension, because only the server that owns both the tokens and the
// sockets can refuse a token minted before the ban.
type Ban struct {
	Scope
	RoomID     string // "" bans the user from every room of the scope
	UserID     string
	Reason     string
	CreateTime time.Time
	ExpireTime time.Time // zero: until deleted
}

// RoomARN returns the banned room's ARN, or "" for a ban from every room.
func (b *Ban) RoomARN() string {
	if b.RoomID == "" {
		return ""
	}
	return b.Scope.ARN("room", b.RoomID)
}

// ActiveAt reports whether the ban holds at now.
func (b *Ban) ActiveAt(now time.Time) bool {
	return b.ExpireTime.IsZero() || now.Before(b.ExpireTime)
}

// Until says when the ban ends, for messages.
func (b *Ban) Until() string {
	if b.ExpireTime.IsZero() {
		return "until the ban is deleted"
	}
	return "until " + b.ExpireTime.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Forbidden returns the error that refuses a banned user, naming the ban and its end.
func (b *Ban) Forbidden() *Error {
	where := "room " + b.RoomARN()
	if b.RoomID == "" {
		where = "every room of account " + b.AccountID + " in " + b.Region
	}
	msg := fmt.Sprintf("User %s is banned from %s %s", b.UserID, where, b.Until())
	if b.Reason != "" {
		msg += ": " + b.Reason
	}
	return &Error{Kind: KindForbidden, Message: msg}
}

// BanFilter selects bans for ListBans: those of Scope active at Now, newest
// first. Zero fields do not filter.
type BanFilter struct {
	Scope
	RoomID string // the bans keeping users out of this room, bans from every room included
	UserID string
	Now    time.Time
	Page
}

// MaxBanMinutes is the longest ban with an end: a year.
const MaxBanMinutes = 525600
