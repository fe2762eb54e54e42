package chimeapi

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/service"
)

// Service is every operation the Chime handlers call, as package service
// has them. It is declared here, where it is used, so that the handlers can
// be tested against a fake and the service split by domain without them
// noticing.
type Service interface {
	AccountService
	UserService
	SessionService
	RoomService
	BotService
}

// AccountService is the account operations, settings and retention included.
type AccountService interface {
	CreateChimeAccount(ctx context.Context, name string, typ parley.ChimeAccountType) (*parley.ChimeAccount, error)
	GetChimeAccount(ctx context.Context, id string) (*parley.ChimeAccount, error)
	ListChimeAccounts(ctx context.Context, f parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error)
	UpdateChimeAccount(ctx context.Context, id string, name, license *string) (*parley.ChimeAccount, error)
	DeleteChimeAccount(ctx context.Context, id string) error
	UpdateChimeAccountSettings(ctx context.Context, id string, disableRemoteControl, enableDialOut *bool) error
	RetentionSettings(ctx context.Context, accountID string) (*parley.ChimeAccount, error)
	PutRetentionSettings(ctx context.Context, accountID string, roomDays, conversationDays int) error
}

// UserService is the user operations.
type UserService interface {
	InviteUsers(ctx context.Context, accountID string, emails []string, userType string) ([]service.Invite, error)
	CreateChimeUser(ctx context.Context, accountID, username, email, userType string) (*parley.ChimeUser, error)
	GetChimeUser(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error)
	ListChimeUsers(ctx context.Context, accountID string, f parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error)
	UpdateChimeUser(ctx context.Context, accountID string, in service.UserUpdate) (*parley.ChimeUser, error)
	BatchUpdateUser(ctx context.Context, accountID string, items []service.UserUpdate) ([]service.UserError, error)
	ResetPersonalPIN(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error)
	UpdateUserSettings(ctx context.Context, accountID, userID string, inbound, outbound, sms bool) error
}

// SessionService is what signs users in and out, and the audit trail of it.
type SessionService interface {
	LogoutUser(ctx context.Context, accountID, userID string) error
	BatchSuspendUser(ctx context.Context, accountID string, ids []string) ([]service.UserError, error)
	BatchUnsuspendUser(ctx context.Context, accountID string, ids []string) ([]service.UserError, error)
	AcceptInvitation(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error)
	CreateDeviceSession(ctx context.Context, sealer *chattoken.Sealer, accountID, userID string) (string, *parley.DeviceSession, error)
	ListAudit(ctx context.Context, p parley.Page) ([]*parley.AuditRecord, string, error)
}

// RoomService is the chat room and membership operations.
type RoomService interface {
	CreateChimeRoom(ctx context.Context, accountID, name, clientToken string) (*parley.ChimeRoom, error)
	GetChimeRoom(ctx context.Context, accountID, roomID string) (*parley.ChimeRoom, error)
	ListChimeRooms(ctx context.Context, accountID, memberID string, p parley.Page) ([]*parley.ChimeRoom, string, error)
	UpdateChimeRoom(ctx context.Context, accountID, roomID string, name *string) (*parley.ChimeRoom, error)
	DeleteChimeRoom(ctx context.Context, accountID, roomID string) error
	CreateRoomMembership(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error)
	BatchCreateRoomMembership(ctx context.Context, accountID, roomID string, items []service.MembershipItem) ([]service.MemberError, error)
	ListRoomMemberships(ctx context.Context, accountID, roomID string, p parley.Page) ([]*parley.RoomMembership, string, error)
	UpdateRoomMembership(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error)
	DeleteRoomMembership(ctx context.Context, accountID, roomID, memberID string) error
	ListRoomMessages(ctx context.Context, accountID, roomID string) ([]*parley.ChimeMessage, error)
}

// BotService is the bot operations, posting as a bot included.
type BotService interface {
	CreateBot(ctx context.Context, accountID, displayName, domain string) (*parley.Bot, error)
	GetBot(ctx context.Context, accountID, botID string) (*parley.Bot, error)
	ListBots(ctx context.Context, accountID string, p parley.Page) ([]*parley.Bot, string, error)
	UpdateBot(ctx context.Context, accountID, botID string, fn func(*parley.Bot) error) (*parley.Bot, error)
	RegenerateSecurityToken(ctx context.Context, accountID, botID string) (*parley.Bot, error)
	// AuthenticateBot returns the bot holding a security token; a bot's
	// request is authenticated by it before its body is read.
	AuthenticateBot(ctx context.Context, token string) (*parley.Bot, error)
	PostAsBot(ctx context.Context, b *parley.Bot, roomID, content string) (*parley.ChimeMessage, error)
}
