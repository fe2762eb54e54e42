package chimeapi_test

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/chimeapi"
	"github.com/parley-chat/parley/service"
)

// fakeService is a chimeapi.Service (and MessageReader) whose methods call
// its function fields, as wtf's mock package does. A call the test did not
// set up panics, so a request refused by validation proves it never
// reached the service.
type fakeService struct {
	CreateChimeAccountFn         func(ctx context.Context, name string, typ parley.ChimeAccountType) (*parley.ChimeAccount, error)
	GetChimeAccountFn            func(ctx context.Context, id string) (*parley.ChimeAccount, error)
	ListChimeAccountsFn          func(ctx context.Context, f parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error)
	UpdateChimeAccountFn         func(ctx context.Context, id string, name, license *string) (*parley.ChimeAccount, error)
	DeleteChimeAccountFn         func(ctx context.Context, id string) error
	UpdateChimeAccountSettingsFn func(ctx context.Context, id string, disableRemoteControl, enableDialOut *bool) error
	RetentionSettingsFn          func(ctx context.Context, accountID string) (*parley.ChimeAccount, error)
	PutRetentionSettingsFn       func(ctx context.Context, accountID string, roomDays, conversationDays int) error
	InviteUsersFn                func(ctx context.Context, accountID string, emails []string, userType string) ([]service.Invite, error)
	CreateChimeUserFn            func(ctx context.Context, accountID, username, email, userType string) (*parley.ChimeUser, error)
	GetChimeUserFn               func(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error)
	ListChimeUsersFn             func(ctx context.Context, accountID string, f parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error)
	UpdateChimeUserFn            func(ctx context.Context, accountID string, in service.UserUpdate) (*parley.ChimeUser, error)
	BatchUpdateUserFn            func(ctx context.Context, accountID string, items []service.UserUpdate) ([]service.UserError, error)
	ResetPersonalPINFn           func(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error)
	UpdateUserSettingsFn         func(ctx context.Context, accountID, userID string, inbound, outbound, sms bool) error
	LogoutUserFn                 func(ctx context.Context, accountID, userID string) error
	BatchSuspendUserFn           func(ctx context.Context, accountID string, ids []string) ([]service.UserError, error)
	BatchUnsuspendUserFn         func(ctx context.Context, accountID string, ids []string) ([]service.UserError, error)
	AcceptInvitationFn           func(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error)
	CreateDeviceSessionFn        func(ctx context.Context, sealer *chattoken.Sealer, accountID, userID string) (string, *parley.DeviceSession, error)
	ListAuditFn                  func(ctx context.Context, p parley.Page) ([]*parley.AuditRecord, string, error)
	CreateChimeRoomFn            func(ctx context.Context, accountID, name, clientToken string) (*parley.ChimeRoom, error)
	GetChimeRoomFn               func(ctx context.Context, accountID, roomID string) (*parley.ChimeRoom, error)
	ListChimeRoomsFn             func(ctx context.Context, accountID, memberID string, p parley.Page) ([]*parley.ChimeRoom, string, error)
	UpdateChimeRoomFn            func(ctx context.Context, accountID, roomID string, name *string) (*parley.ChimeRoom, error)
	DeleteChimeRoomFn            func(ctx context.Context, accountID, roomID string) error
	CreateRoomMembershipFn       func(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error)
	BatchCreateRoomMembershipFn  func(ctx context.Context, accountID, roomID string, items []service.MembershipItem) ([]service.MemberError, error)
	ListRoomMembershipsFn        func(ctx context.Context, accountID, roomID string, p parley.Page) ([]*parley.RoomMembership, string, error)
	UpdateRoomMembershipFn       func(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error)
	DeleteRoomMembershipFn       func(ctx context.Context, accountID, roomID, memberID string) error
	CreateBotFn                  func(ctx context.Context, accountID, displayName, domain string) (*parley.Bot, error)
	GetBotFn                     func(ctx context.Context, accountID, botID string) (*parley.Bot, error)
	ListBotsFn                   func(ctx context.Context, accountID string, p parley.Page) ([]*parley.Bot, string, error)
	UpdateBotFn                  func(ctx context.Context, accountID, botID string, fn func(*parley.Bot) error) (*parley.Bot, error)
	RegenerateSecurityTokenFn    func(ctx context.Context, accountID, botID string) (*parley.Bot, error)
	AuthenticateBotFn            func(ctx context.Context, token string) (*parley.Bot, error)
	PostAsBotFn                  func(ctx context.Context, b *parley.Bot, roomID, content string) (*parley.ChimeMessage, error)
	ListRoomMessagesFn           func(ctx context.Context, accountID, roomID string) ([]*parley.ChimeMessage, error)
}

var (
	_ chimeapi.Service = (*fakeService)(nil)
)

func (f *fakeService) CreateChimeAccount(ctx context.Context, name string, typ parley.ChimeAccountType) (*parley.ChimeAccount, error) {
	return f.CreateChimeAccountFn(ctx, name, typ)
}

func (f *fakeService) GetChimeAccount(ctx context.Context, id string) (*parley.ChimeAccount, error) {
	return f.GetChimeAccountFn(ctx, id)
}

func (s *fakeService) ListChimeAccounts(ctx context.Context, f parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error) {
	return s.ListChimeAccountsFn(ctx, f)
}

func (f *fakeService) UpdateChimeAccount(ctx context.Context, id string, name, license *string) (*parley.ChimeAccount, error) {
	return f.UpdateChimeAccountFn(ctx, id, name, license)
}

func (f *fakeService) DeleteChimeAccount(ctx context.Context, id string) error {
	return f.DeleteChimeAccountFn(ctx, id)
}

func (f *fakeService) UpdateChimeAccountSettings(ctx context.Context, id string, disableRemoteControl, enableDialOut *bool) error {
	return f.UpdateChimeAccountSettingsFn(ctx, id, disableRemoteControl, enableDialOut)
}

func (f *fakeService) RetentionSettings(ctx context.Context, accountID string) (*parley.ChimeAccount, error) {
	return f.RetentionSettingsFn(ctx, accountID)
}

func (f *fakeService) PutRetentionSettings(ctx context.Context, accountID string, roomDays, conversationDays int) error {
	return f.PutRetentionSettingsFn(ctx, accountID, roomDays, conversationDays)
}

func (f *fakeService) InviteUsers(ctx context.Context, accountID string, emails []string, userType string) ([]service.Invite, error) {
	return f.InviteUsersFn(ctx, accountID, emails, userType)
}

func (f *fakeService) CreateChimeUser(ctx context.Context, accountID, username, email, userType string) (*parley.ChimeUser, error) {
	return f.CreateChimeUserFn(ctx, accountID, username, email, userType)
}

func (f *fakeService) GetChimeUser(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error) {
	return f.GetChimeUserFn(ctx, accountID, userID)
}

func (s *fakeService) ListChimeUsers(ctx context.Context, accountID string, f parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error) {
	return s.ListChimeUsersFn(ctx, accountID, f)
}

func (f *fakeService) UpdateChimeUser(ctx context.Context, accountID string, in service.UserUpdate) (*parley.ChimeUser, error) {
	return f.UpdateChimeUserFn(ctx, accountID, in)
}

func (f *fakeService) BatchUpdateUser(ctx context.Context, accountID string, items []service.UserUpdate) ([]service.UserError, error) {
	return f.BatchUpdateUserFn(ctx, accountID, items)
}

func (f *fakeService) ResetPersonalPIN(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error) {
	return f.ResetPersonalPINFn(ctx, accountID, userID)
}

func (f *fakeService) UpdateUserSettings(ctx context.Context, accountID, userID string, inbound, outbound, sms bool) error {
	return f.UpdateUserSettingsFn(ctx, accountID, userID, inbound, outbound, sms)
}

func (f *fakeService) LogoutUser(ctx context.Context, accountID, userID string) error {
	return f.LogoutUserFn(ctx, accountID, userID)
}

func (f *fakeService) BatchSuspendUser(ctx context.Context, accountID string, ids []string) ([]service.UserError, error) {
	return f.BatchSuspendUserFn(ctx, accountID, ids)
}

func (f *fakeService) BatchUnsuspendUser(ctx context.Context, accountID string, ids []string) ([]service.UserError, error) {
	return f.BatchUnsuspendUserFn(ctx, accountID, ids)
}

func (f *fakeService) AcceptInvitation(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error) {
	return f.AcceptInvitationFn(ctx, accountID, userID)
}

func (f *fakeService) CreateDeviceSession(ctx context.Context, sealer *chattoken.Sealer, accountID, userID string) (string, *parley.DeviceSession, error) {
	return f.CreateDeviceSessionFn(ctx, sealer, accountID, userID)
}

func (f *fakeService) ListAudit(ctx context.Context, p parley.Page) ([]*parley.AuditRecord, string, error) {
	return f.ListAuditFn(ctx, p)
}

func (f *fakeService) CreateChimeRoom(ctx context.Context, accountID, name, clientToken string) (*parley.ChimeRoom, error) {
	return f.CreateChimeRoomFn(ctx, accountID, name, clientToken)
}

func (f *fakeService) GetChimeRoom(ctx context.Context, accountID, roomID string) (*parley.ChimeRoom, error) {
	return f.GetChimeRoomFn(ctx, accountID, roomID)
}

func (f *fakeService) ListChimeRooms(ctx context.Context, accountID, memberID string, p parley.Page) ([]*parley.ChimeRoom, string, error) {
	return f.ListChimeRoomsFn(ctx, accountID, memberID, p)
}

func (f *fakeService) UpdateChimeRoom(ctx context.Context, accountID, roomID string, name *string) (*parley.ChimeRoom, error) {
	return f.UpdateChimeRoomFn(ctx, accountID, roomID, name)
}

func (f *fakeService) DeleteChimeRoom(ctx context.Context, accountID, roomID string) error {
	return f.DeleteChimeRoomFn(ctx, accountID, roomID)
}

func (f *fakeService) CreateRoomMembership(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error) {
	return f.CreateRoomMembershipFn(ctx, accountID, roomID, memberID, role)
}

func (f *fakeService) BatchCreateRoomMembership(ctx context.Context, accountID, roomID string, items []service.MembershipItem) ([]service.MemberError, error) {
	return f.BatchCreateRoomMembershipFn(ctx, accountID, roomID, items)
}

func (f *fakeService) ListRoomMemberships(ctx context.Context, accountID, roomID string, p parley.Page) ([]*parley.RoomMembership, string, error) {
	return f.ListRoomMembershipsFn(ctx, accountID, roomID, p)
}

func (f *fakeService) UpdateRoomMembership(ctx context.Context, accountID, roomID, memberID, role string) (*parley.RoomMembership, error) {
	return f.UpdateRoomMembershipFn(ctx, accountID, roomID, memberID, role)
}

func (f *fakeService) DeleteRoomMembership(ctx context.Context, accountID, roomID, memberID string) error {
	return f.DeleteRoomMembershipFn(ctx, accountID, roomID, memberID)
}

func (f *fakeService) CreateBot(ctx context.Context, accountID, displayName, domain string) (*parley.Bot, error) {
	return f.CreateBotFn(ctx, accountID, displayName, domain)
}

func (f *fakeService) GetBot(ctx context.Context, accountID, botID string) (*parley.Bot, error) {
	return f.GetBotFn(ctx, accountID, botID)
}

func (f *fakeService) ListBots(ctx context.Context, accountID string, p parley.Page) ([]*parley.Bot, string, error) {
	return f.ListBotsFn(ctx, accountID, p)
}

func (f *fakeService) UpdateBot(ctx context.Context, accountID, botID string, fn func(*parley.Bot) error) (*parley.Bot, error) {
	return f.UpdateBotFn(ctx, accountID, botID, fn)
}

func (f *fakeService) RegenerateSecurityToken(ctx context.Context, accountID, botID string) (*parley.Bot, error) {
	return f.RegenerateSecurityTokenFn(ctx, accountID, botID)
}

func (f *fakeService) AuthenticateBot(ctx context.Context, token string) (*parley.Bot, error) {
	return f.AuthenticateBotFn(ctx, token)
}

func (f *fakeService) PostAsBot(ctx context.Context, b *parley.Bot, roomID, content string) (*parley.ChimeMessage, error) {
	return f.PostAsBotFn(ctx, b, roomID, content)
}

func (f *fakeService) ListRoomMessages(ctx context.Context, accountID, roomID string) ([]*parley.ChimeMessage, error) {
	return f.ListRoomMessagesFn(ctx, accountID, roomID)
}
