package ivsapi_test

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/ivsapi"
	"github.com/parley-chat/parley/service"
)

// fakeService is an ivsapi.Service whose methods call its function fields,
// as wtf's mock package does. A call the test did not set up panics, so a
// request refused by validation proves it never reached the service.
type fakeService struct {
	CreateRoomFn                 func(ctx context.Context, in service.CreateRoomInput) (*parley.Room, error)
	GetRoomFn                    func(ctx context.Context, arn parley.ParsedARN) (*parley.Room, error)
	UpdateRoomFn                 func(ctx context.Context, arn parley.ParsedARN, in service.UpdateRoomInput) (*parley.Room, error)
	DeleteRoomFn                 func(ctx context.Context, arn parley.ParsedARN) error
	ListRoomsFn                  func(ctx context.Context, in service.ListRoomsInput) ([]*parley.Room, string, error)
	CreateChatTokenFn            func(ctx context.Context, in service.CreateChatTokenInput) (string, *parley.ChatToken, error)
	SendEventFn                  func(ctx context.Context, arn parley.ParsedARN, name string, attrs map[string]string) (string, error)
	DeleteMessageFn              func(ctx context.Context, arn parley.ParsedARN, messageID, reason string) (string, error)
	DisconnectUserFn             func(ctx context.Context, arn parley.ParsedARN, userID, reason string) error
	CreateLoggingConfigurationFn func(ctx context.Context, name string, dest parley.Destination, tags map[string]string) (*parley.LoggingConfiguration, error)
	GetLoggingConfigurationFn    func(ctx context.Context, arn parley.ParsedARN) (*parley.LoggingConfiguration, error)
	UpdateLoggingConfigurationFn func(ctx context.Context, arn parley.ParsedARN, name *string, dest *parley.Destination) (*parley.LoggingConfiguration, error)
	DeleteLoggingConfigurationFn func(ctx context.Context, arn parley.ParsedARN) error
	ListLoggingConfigurationsFn  func(ctx context.Context, p parley.Page) ([]*parley.LoggingConfiguration, string, error)
	TagsFn                       func(ctx context.Context, arn parley.ParsedARN) (map[string]string, error)
	TagResourceFn                func(ctx context.Context, arn parley.ParsedARN, tags map[string]string) error
	UntagResourceFn              func(ctx context.Context, arn parley.ParsedARN, keys []string) error
	CreateBanFn                  func(ctx context.Context, in service.CreateBanInput) (*parley.Ban, error)
	DeleteBanFn                  func(ctx context.Context, room *parley.ParsedARN, userID string) error
	ListBansFn                   func(ctx context.Context, in service.ListBansInput) ([]*parley.Ban, string, error)
}

var _ ivsapi.Service = (*fakeService)(nil)

func (f *fakeService) CreateRoom(ctx context.Context, in service.CreateRoomInput) (*parley.Room, error) {
	return f.CreateRoomFn(ctx, in)
}

func (f *fakeService) GetRoom(ctx context.Context, arn parley.ParsedARN) (*parley.Room, error) {
	return f.GetRoomFn(ctx, arn)
}

func (f *fakeService) UpdateRoom(ctx context.Context, arn parley.ParsedARN, in service.UpdateRoomInput) (*parley.Room, error) {
	return f.UpdateRoomFn(ctx, arn, in)
}

func (f *fakeService) DeleteRoom(ctx context.Context, arn parley.ParsedARN) error {
	return f.DeleteRoomFn(ctx, arn)
}

func (f *fakeService) ListRooms(ctx context.Context, in service.ListRoomsInput) ([]*parley.Room, string, error) {
	return f.ListRoomsFn(ctx, in)
}

func (f *fakeService) CreateChatToken(ctx context.Context, in service.CreateChatTokenInput) (string, *parley.ChatToken, error) {
	return f.CreateChatTokenFn(ctx, in)
}

func (f *fakeService) SendEvent(ctx context.Context, arn parley.ParsedARN, name string, attrs map[string]string) (string, error) {
	return f.SendEventFn(ctx, arn, name, attrs)
}

func (f *fakeService) DeleteMessage(ctx context.Context, arn parley.ParsedARN, messageID, reason string) (string, error) {
	return f.DeleteMessageFn(ctx, arn, messageID, reason)
}

func (f *fakeService) DisconnectUser(ctx context.Context, arn parley.ParsedARN, userID, reason string) error {
	return f.DisconnectUserFn(ctx, arn, userID, reason)
}

func (f *fakeService) CreateLoggingConfiguration(ctx context.Context, name string, dest parley.Destination, tags map[string]string) (*parley.LoggingConfiguration, error) {
	return f.CreateLoggingConfigurationFn(ctx, name, dest, tags)
}

func (f *fakeService) GetLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) (*parley.LoggingConfiguration, error) {
	return f.GetLoggingConfigurationFn(ctx, arn)
}

func (f *fakeService) UpdateLoggingConfiguration(ctx context.Context, arn parley.ParsedARN, name *string, dest *parley.Destination) (*parley.LoggingConfiguration, error) {
	return f.UpdateLoggingConfigurationFn(ctx, arn, name, dest)
}

func (f *fakeService) DeleteLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) error {
	return f.DeleteLoggingConfigurationFn(ctx, arn)
}

func (f *fakeService) ListLoggingConfigurations(ctx context.Context, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
	return f.ListLoggingConfigurationsFn(ctx, p)
}

func (f *fakeService) Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error) {
	return f.TagsFn(ctx, arn)
}

func (f *fakeService) TagResource(ctx context.Context, arn parley.ParsedARN, tags map[string]string) error {
	return f.TagResourceFn(ctx, arn, tags)
}

func (f *fakeService) UntagResource(ctx context.Context, arn parley.ParsedARN, keys []string) error {
	return f.UntagResourceFn(ctx, arn, keys)
}

func (f *fakeService) CreateBan(ctx context.Context, in service.CreateBanInput) (*parley.Ban, error) {
	return f.CreateBanFn(ctx, in)
}

func (f *fakeService) DeleteBan(ctx context.Context, room *parley.ParsedARN, userID string) error {
	return f.DeleteBanFn(ctx, room, userID)
}

func (f *fakeService) ListBans(ctx context.Context, in service.ListBansInput) ([]*parley.Ban, string, error) {
	return f.ListBansFn(ctx, in)
}
