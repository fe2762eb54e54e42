package parley

import (
	"context"
	"time"
)

// Store persists parley's state. Every method is atomic. Methods return
// *Error with the kinds documented on each; any other failure is
// KindInternal. Lookups are scoped: a resource of another Scope is
// KindNotFound, exactly like one that does not exist.
//
// Chime resources are named by key (ChimeAccountKey, ChimeRoomKey and so
// on), so an account, a room and a member cannot be passed in each other's
// place.
//
// Implementation: package sqlstore, one store over SQL with two dialects,
// sqlite (the embedded default) and postgres. Both run the conformance
// suite in package storetest.
type Store interface {
	// CreateRoom stores a new room. KindQuotaExceeded (Limit set) when the
	// scope already holds maxRooms rooms; KindNotFound (ResourceLoggingConfiguration)
	// when a referenced logging configuration does not exist.
	CreateRoom(ctx context.Context, r *Room, maxRooms int) error
	// Room returns a room. KindNotFound.
	Room(ctx context.Context, s Scope, id string) (*Room, error)
	// UpdateRoom applies u and returns the updated room. KindNotFound for the
	// room or a referenced logging configuration.
	UpdateRoom(ctx context.Context, s Scope, id string, u RoomUpdate) (*Room, error)
	// DeleteRoom removes a room, its tags and its bans. KindNotFound.
	DeleteRoom(ctx context.Context, s Scope, id string) error
	// ListRooms returns rooms by UpdateTime descending, one page at a time.
	// next is "" on the last page. KindInvalid for a bad NextToken;
	// KindNotFound when filtering on a logging configuration that does not exist.
	ListRooms(ctx context.Context, f RoomFilter) (rooms []*Room, next string, err error)

	// CreateLoggingConfiguration stores a new logging configuration;
	// KindQuotaExceeded (Limit set) past max per scope.
	CreateLoggingConfiguration(ctx context.Context, c *LoggingConfiguration, max int) error
	// LoggingConfiguration returns one. KindNotFound.
	LoggingConfiguration(ctx context.Context, s Scope, id string) (*LoggingConfiguration, error)
	// UpdateLoggingConfiguration applies u. KindNotFound.
	UpdateLoggingConfiguration(ctx context.Context, s Scope, id string, u LoggingConfigurationUpdate) (*LoggingConfiguration, error)
	// DeleteLoggingConfiguration removes it and detaches it from every room
	// that used it. KindNotFound.
	DeleteLoggingConfiguration(ctx context.Context, s Scope, id string) error
	// ListLoggingConfigurations returns them by CreateTime, one page at a time.
	ListLoggingConfigurations(ctx context.Context, s Scope, p Page) (_ []*LoggingConfiguration, next string, _ error)

	// Tags returns the tags of the resource named by an IVS ARN. KindNotFound.
	Tags(ctx context.Context, arn ParsedARN) (map[string]string, error)
	// UpdateTags sets and then removes tags on a resource. KindInvalid when
	// the result would hold more than max tags; KindNotFound.
	UpdateTags(ctx context.Context, arn ParsedARN, set map[string]string, remove []string, max int) error

	// ConsumeToken records that chat token t was used, unless its user is
	// banned from its room at now (as ActiveBan tells): then t stays unspent
	// and the error is the ban's Forbidden. The ban is read in the spend's
	// own write: a ban committed before that write is seen (one committed
	// after it finds the connection the token opened). It succeeds once
	// per t.ID; every later call is KindConflict. The record may be
	// forgotten after t.TokenExpires, when t can no longer be used anyway.
	ConsumeToken(ctx context.Context, t *ChatToken, now time.Time) error
	// PurgeTokens forgets consumed tokens that expired before now.
	PurgeTokens(ctx context.Context, now time.Time) error

	// PutAccessKey stores a credential, replacing one with the same ID.
	PutAccessKey(ctx context.Context, k *AccessKey) error
	// AccessKey returns a credential. KindNotFound.
	AccessKey(ctx context.Context, id string) (*AccessKey, error)
	// AccessKeys lists every credential, oldest first.
	AccessKeys(ctx context.Context) ([]*AccessKey, error)

	// Secret returns the named server secret, storing gen() first if it does
	// not exist yet. Every node sharing the store gets the same value.
	Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)

	// CreateChimeAccount stores a new Chime account.
	CreateChimeAccount(ctx context.Context, a *ChimeAccount) error
	// ChimeAccount returns an account. KindNotFound.
	ChimeAccount(ctx context.Context, k ChimeAccountKey) (*ChimeAccount, error)
	// ListChimeAccounts lists the accounts of the AWS account aws by
	// creation, one page at a time.
	ListChimeAccounts(ctx context.Context, aws string, f ChimeAccountFilter) (_ []*ChimeAccount, next string, _ error)
	// UpdateChimeAccount applies fn to the account atomically; an error from fn aborts. KindNotFound.
	UpdateChimeAccount(ctx context.Context, k ChimeAccountKey, fn func(*ChimeAccount) error) (*ChimeAccount, error)
	// DeleteChimeAccount deletes an account and its users. KindUnprocessable
	// while a user of it is not suspended; KindNotFound.
	DeleteChimeAccount(ctx context.Context, k ChimeAccountKey) error

	// CreateChimeUser stores a new user. KindConflict when the account has a
	// user with the same e-mail address (case-insensitive); KindNotFound for the account.
	CreateChimeUser(ctx context.Context, u *ChimeUser) error
	// ChimeUser returns a user. KindNotFound.
	ChimeUser(ctx context.Context, k ChimeUserKey) (*ChimeUser, error)
	// ListChimeUsers lists an account's users by creation, one page at a time. KindNotFound for the account.
	ListChimeUsers(ctx context.Context, a ChimeAccountKey, f ChimeUserFilter) (_ []*ChimeUser, next string, _ error)
	// UpdateChimeUser applies fn to the user atomically; an error from fn aborts. KindNotFound.
	UpdateChimeUser(ctx context.Context, k ChimeUserKey, fn func(*ChimeUser) error) (*ChimeUser, error)

	// CreateChimeRoom stores a new room, or, when the account already has a
	// room created with the same non-empty ClientToken, returns that room and
	// created=false. KindQuotaExceeded (Limit set) past max rooms per account;
	// KindNotFound for the account.
	CreateChimeRoom(ctx context.Context, r *ChimeRoom, max int) (_ *ChimeRoom, created bool, _ error)
	// ChimeRoom returns a room. KindNotFound.
	ChimeRoom(ctx context.Context, k ChimeRoomKey) (*ChimeRoom, error)
	// ListChimeRooms lists an account's rooms (only memberID's when set) by creation.
	ListChimeRooms(ctx context.Context, a ChimeAccountKey, memberID string, p Page) (_ []*ChimeRoom, next string, _ error)
	// UpdateChimeRoom applies fn atomically. KindNotFound.
	UpdateChimeRoom(ctx context.Context, k ChimeRoomKey, fn func(*ChimeRoom) error) (*ChimeRoom, error)
	// DeleteChimeRoom removes a room, its memberships and its history. KindNotFound.
	DeleteChimeRoom(ctx context.Context, k ChimeRoomKey) error

	// AddMembership stores a membership. KindConflict if the member is in the
	// room already; KindQuotaExceeded past max members; KindNotFound for the room.
	AddMembership(ctx context.Context, m *RoomMembership, max int) error
	// Membership returns one membership. KindNotFound.
	Membership(ctx context.Context, k ChimeMemberKey) (*RoomMembership, error)
	// ListMemberships lists a room's memberships by member ID. KindNotFound for the room.
	ListMemberships(ctx context.Context, r ChimeRoomKey, p Page) (_ []*RoomMembership, next string, _ error)
	// UpdateMembership applies fn atomically. KindNotFound.
	UpdateMembership(ctx context.Context, k ChimeMemberKey, fn func(*RoomMembership) error) (*RoomMembership, error)
	// DeleteMembership removes a member from a room. KindNotFound if it is not a member.
	DeleteMembership(ctx context.Context, k ChimeMemberKey) error
	// RoomMembers returns the IDs of a room's members of memberType (User or Bot).
	RoomMembers(ctx context.Context, r ChimeRoomKey, memberType string) ([]string, error)
	// MemberRooms returns the IDs of every room memberID belongs to in the account.
	MemberRooms(ctx context.Context, a ChimeAccountKey, memberID string) ([]string, error)

	// CreateBot stores a bot. KindQuotaExceeded (Limit set) past max bots per account.
	CreateBot(ctx context.Context, b *Bot, max int) error
	// Bot returns a bot of the account. KindNotFound.
	Bot(ctx context.Context, a ChimeAccountKey, botID string) (*Bot, error)
	// BotByToken returns the bot whose security token is token. KindNotFound.
	BotByToken(ctx context.Context, token string) (*Bot, error)
	// ListBots lists an account's bots by creation.
	ListBots(ctx context.Context, a ChimeAccountKey, p Page) (_ []*Bot, next string, _ error)
	// UpdateBot applies fn atomically. KindNotFound.
	UpdateBot(ctx context.Context, a ChimeAccountKey, botID string, fn func(*Bot) error) (*Bot, error)

	// AppendMessage adds a message to its room's history. KindNotFound for the room.
	AppendMessage(ctx context.Context, m *ChimeMessage) error
	// Messages returns up to limit of a room's most recent messages created
	// at or after since, oldest first.
	Messages(ctx context.Context, r ChimeRoomKey, since time.Time, limit int) ([]*ChimeMessage, error)

	// Heartbeat records, by the store's clock, that node is alive, and
	// whether it is fenced (holds no connections and accepts none).
	Heartbeat(ctx context.Context, node string, fenced bool) error
	// LiveNodes returns the unfenced nodes whose last heartbeat is younger
	// than lease by the store's clock: the nodes that may hold connections.
	// One clock for every node, so a node's own clock cannot make it look
	// alive or dead.
	LiveNodes(ctx context.Context, lease time.Duration) ([]string, error)
	// RemoveNode forgets a node that shut down cleanly.
	RemoveNode(ctx context.Context, node string) error
	// Nodes returns every node that heartbeats into the store, live or
	// not, by ID, with the age of its last heartbeat by the store's clock.
	Nodes(ctx context.Context) ([]*Node, error)

	// AppendOutbox adds entries to the outbox. (Other writes add the
	// entries of a context made by WithOutbox in their own transaction.)
	AppendOutbox(ctx context.Context, entries ...*OutboxEntry) error
	// PendingOutbox returns the entries node has not acknowledged, in the
	// order they were committed.
	PendingOutbox(ctx context.Context, node string) ([]*OutboxEntry, error)
	// AckOutbox records that node carried out the entries.
	AckOutbox(ctx context.Context, node string, ids ...string) error
	// OutboxAcks returns the nodes that acknowledged the entry. KindNotFound
	// once the entry is gone: completed, when every live node had.
	OutboxAcks(ctx context.Context, id string) ([]string, error)
	// CompleteOutbox removes entries and their acknowledgements.
	CompleteOutbox(ctx context.Context, ids ...string) error
	// ExpireOutbox removes the entries older than age by the store's clock:
	// by then every node has carried them out or fenced itself.
	ExpireOutbox(ctx context.Context, age time.Duration) error
	// PutBan stores a ban, replacing the one of the same room (or of every
	// room) and user. KindNotFound (ResourceRoom) when b.RoomID names no
	// room of b.Scope.
	PutBan(ctx context.Context, b *Ban) error
	// DeleteBan removes the ban of userID from roomID ("" for every room)
	// and returns it. KindNotFound when there is none active at now.
	DeleteBan(ctx context.Context, s Scope, roomID, userID string, now time.Time) (*Ban, error)
	// ActiveBan returns the ban that keeps userID out of roomID at now: the
	// room's own or one from every room of the scope, whichever lasts
	// longer. KindNotFound when the user is not banned.
	ActiveBan(ctx context.Context, s Scope, roomID, userID string, now time.Time) (*Ban, error)
	// ListBans returns the bans f selects, newest first, one page at a time.
	// KindInvalid for a bad NextToken.
	ListBans(ctx context.Context, f BanFilter) (_ []*Ban, next string, _ error)

	// AppendAudit records a revocation or moderation call.
	AppendAudit(ctx context.Context, r *AuditRecord) error
	// ReplaceAudit replaces the record of r's account and ID (a call's
	// outcome, known after its record was written); KindNotFound if there
	// is none.
	ReplaceAudit(ctx context.Context, r *AuditRecord) error
	// ListAudit returns the AWS account's records, oldest first, one page at a time.
	ListAudit(ctx context.Context, aws string, p Page) (_ []*AuditRecord, next string, _ error)
	// ExpireAudit removes up to limit records, of every account, made
	// before the given time, oldest first, once export has taken them
	// (nothing is removed if it fails), and returns how many it removed.
	ExpireAudit(ctx context.Context, before time.Time, limit int, export func([]*AuditRecord) error) (int, error)

	// Compact gives the file system back the space of removed rows, where
	// the database does not do that itself.
	Compact(ctx context.Context) error

	Close() error
}

// Node is a server sharing the store, as its heartbeats describe it.
type Node struct {
	ID        string
	Heartbeat time.Time     // the last heartbeat, by the store's clock
	Age       time.Duration // how long ago that was, by the same clock
	Fenced    bool          // the node holds no connections and accepts none
}

// ChimeAccountFilter selects Chime accounts; zero fields do not filter.
type ChimeAccountFilter struct {
	NamePrefix string
	UserEmail  string // the account with a user of this e-mail address
	Page
}

// ChimeUserFilter selects Chime users; zero fields do not filter.
type ChimeUserFilter struct {
	Email    string // exact, case-insensitive
	UserType string
	Page
}
