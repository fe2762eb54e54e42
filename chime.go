package parley

import "time"

// ChimeAccountKey names a Chime account: the AWS account that owns it, and its ID.
type ChimeAccountKey struct {
	AWS     string `json:"aws"`
	Account string `json:"account"`
}

// Room names the account's room id.
func (k ChimeAccountKey) Room(id string) ChimeRoomKey {
	return ChimeRoomKey{ChimeAccountKey: k, Room: id}
}

// User names the account's user id.
func (k ChimeAccountKey) User(id string) ChimeUserKey {
	return ChimeUserKey{ChimeAccountKey: k, User: id}
}

// ChimeRoomKey names a Chime chat room. In a Command, Room is "" for a
// command on the whole account (OpSignOut), and the JSON leaves it out.
type ChimeRoomKey struct {
	ChimeAccountKey
	Room string `json:"room,omitempty"`
}

// Member names the room's member id, a user or a bot of its account.
func (k ChimeRoomKey) Member(id string) ChimeMemberKey {
	return ChimeMemberKey{ChimeRoomKey: k, Member: id}
}

// ChimeUserKey names a user of a Chime account.
type ChimeUserKey struct {
	ChimeAccountKey
	User string `json:"user"`
}

// ChimeMemberKey names a member (a user or a bot) of a Chime room.
type ChimeMemberKey struct {
	ChimeRoomKey
	Member string `json:"member"`
}

// ChimeAccountType is the kind of an Amazon Chime account.
type ChimeAccountType string

const (
	AccountTeam                ChimeAccountType = "Team"
	AccountEnterpriseDirectory ChimeAccountType = "EnterpriseDirectory"
	AccountEnterpriseLWA       ChimeAccountType = "EnterpriseLWA"
	AccountEnterpriseOIDC      ChimeAccountType = "EnterpriseOIDC"
)

// ChimeAccount is an Amazon Chime account. Chime is a global service: its
// resources are partitioned by AWS account only, not by region.
type ChimeAccount struct {
	AwsAccountID         string
	AccountID            string // lower-case UUID
	Name                 string
	Type                 ChimeAccountType
	Status               string // Active
	DefaultLicense       string
	SupportedLicenses    []string
	SigninDelegateGroups []string
	DisableRemoteControl bool
	EnableDialOut        bool
	// Chat retention in days; zero keeps messages until the room is deleted.
	RoomRetentionDays         int
	ConversationRetentionDays int
	CreateTime                time.Time
}

// Key names the account.
func (a *ChimeAccount) Key() ChimeAccountKey {
	return ChimeAccountKey{AWS: a.AwsAccountID, Account: a.AccountID}
}

// Chime user registration states.
const (
	UserUnregistered = "Unregistered"
	UserRegistered   = "Registered"
	UserSuspended    = "Suspended"
)

// ChimeUser is a user of a Chime account.
type ChimeUser struct {
	AwsAccountID       string
	AccountID          string
	UserID             string // lower-case UUID
	PrimaryEmail       string
	PrimaryNumber      string
	DisplayName        string
	LicenseType        string
	UserType           string // PrivateUser or SharedDevice
	RegistrationStatus string // Unregistered, Registered, Suspended
	InvitationStatus   string // Pending, Accepted, Failed; "" when never invited
	InviteID           string
	RegisteredOn       time.Time // zero when never registered
	InvitedOn          time.Time // zero when never invited
	AlexaEnabled       *bool
	AlexaRoomARN       string
	PersonalPIN        string
	InboundCalling     bool
	OutboundCalling    bool
	SMS                bool
	// SessionEpoch is bumped by every sign-out (LogoutUser, suspension). A
	// device session carries the epoch it was issued in and is valid only
	// while the user's epoch is unchanged, so one row update revokes every
	// session of the user at once, durably, on every node.
	SessionEpoch int64
	CreateTime   time.Time
}

// Key names the user.
func (u *ChimeUser) Key() ChimeUserKey {
	return ChimeAccountKey{AWS: u.AwsAccountID, Account: u.AccountID}.User(u.UserID)
}

// DeviceSession is a signed-in device of a Chime user: what a session token grants.
type DeviceSession struct {
	ID           string
	AwsAccountID string
	AccountID    string
	UserID       string
	Epoch        int64
	IssueTime    time.Time
	Expires      time.Time
}

// UserKey names the user the session signs in.
func (d *DeviceSession) UserKey() ChimeUserKey {
	return ChimeAccountKey{AWS: d.AwsAccountID, Account: d.AccountID}.User(d.UserID)
}

// AuditRecord is one revocation or moderation call, kept for operators.
type AuditRecord struct {
	ID           string
	Time         time.Time
	AwsAccountID string
	Caller       string // the access key ID that made the call
	Action       string // the operation, e.g. "LogoutUser"
	Target       string // what it acted on, e.g. "account/<id>/user/<id>"
	Detail       string `json:",omitempty"` // what else it said, e.g. a ban's reason and duration
	Result       string // "ok" or the error
}

// ChimeRoom is a chat room of a Chime account.
type ChimeRoom struct {
	AwsAccountID string
	AccountID    string
	RoomID       string
	Name         string
	CreatedBy    string // the caller's IAM ARN
	ClientToken  string // CreateRoom's idempotency token, if any
	CreateTime   time.Time
	UpdateTime   time.Time
}

// Key names the room.
func (r *ChimeRoom) Key() ChimeRoomKey {
	return ChimeAccountKey{AWS: r.AwsAccountID, Account: r.AccountID}.Room(r.RoomID)
}

// Member types and roles of room memberships.
const (
	MemberUser          = "User"
	MemberBot           = "Bot"
	RoleAdministrator   = "Administrator"
	RoleMember          = "Member"
	MaxRoomsPerAccount  = 1500
	MaxMembersPerRoom   = 1000
	MaxBotsPerAccount   = 10
	DefaultBotDomain    = "example.com"
	DefaultHistoryLimit = 50
)

// RoomMembership is a user or bot in a Chime room. Email and FullName are
// copied from the member when it joins.
type RoomMembership struct {
	AwsAccountID string
	AccountID    string
	RoomID       string
	MemberID     string
	MemberType   string
	Email        string
	FullName     string
	Role         string
	InvitedBy    string
	UpdateTime   time.Time
}

// Key names the membership: the member in its room.
func (m *RoomMembership) Key() ChimeMemberKey {
	return ChimeAccountKey{AWS: m.AwsAccountID, Account: m.AccountID}.Room(m.RoomID).Member(m.MemberID)
}

// Bot is a Chime chat bot.
type Bot struct {
	AwsAccountID  string
	AccountID     string
	BotID         string
	DisplayName   string
	BotEmail      string
	Disabled      bool
	SecurityToken string
	// Events configuration: where room messages that mention or reach the
	// bot are delivered. At most one of the two is set.
	EventsEndpoint string
	EventsLambda   string
	CreateTime     time.Time
	UpdateTime     time.Time
}

// AccountKey names the account the bot belongs to.
func (b *Bot) AccountKey() ChimeAccountKey {
	return ChimeAccountKey{AWS: b.AwsAccountID, Account: b.AccountID}
}

// ChimeMessage is a message posted to a Chime room, kept as room history.
type ChimeMessage struct {
	AwsAccountID string
	AccountID    string
	RoomID       string
	MessageID    string
	SenderID     string // user or bot ID
	SenderName   string
	Content      string
	CreateTime   time.Time
}

// RoomKey names the room the message was posted to.
func (m *ChimeMessage) RoomKey() ChimeRoomKey {
	return ChimeAccountKey{AWS: m.AwsAccountID, Account: m.AccountID}.Room(m.RoomID)
}
