package ivsapi

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// Service is every operation the IVS Chat handlers call, as package service
// has them. It is declared here, where it is used, so that the handlers can
// be tested against a fake and the service split by domain without them
// noticing.
type Service interface {
	RoomService
	ChatService
	LoggingService
	TagService
	BanService
}

// RoomService is the room operations.
type RoomService interface {
	CreateRoom(ctx context.Context, in service.CreateRoomInput) (*parley.Room, error)
	GetRoom(ctx context.Context, arn parley.ParsedARN) (*parley.Room, error)
	UpdateRoom(ctx context.Context, arn parley.ParsedARN, in service.UpdateRoomInput) (*parley.Room, error)
	DeleteRoom(ctx context.Context, arn parley.ParsedARN) error
	ListRooms(ctx context.Context, in service.ListRoomsInput) ([]*parley.Room, string, error)
}

// ChatService is what acts on a room's chat: tokens, events and moderation.
type ChatService interface {
	CreateChatToken(ctx context.Context, in service.CreateChatTokenInput) (string, *parley.ChatToken, error)
	SendEvent(ctx context.Context, arn parley.ParsedARN, name string, attrs map[string]string) (string, error)
	DeleteMessage(ctx context.Context, arn parley.ParsedARN, messageID, reason string) (string, error)
	DisconnectUser(ctx context.Context, arn parley.ParsedARN, userID, reason string) error
}

// LoggingService is the logging configuration operations.
type LoggingService interface {
	CreateLoggingConfiguration(ctx context.Context, name string, dest parley.Destination, tags map[string]string) (*parley.LoggingConfiguration, error)
	GetLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) (*parley.LoggingConfiguration, error)
	UpdateLoggingConfiguration(ctx context.Context, arn parley.ParsedARN, name *string, dest *parley.Destination) (*parley.LoggingConfiguration, error)
	DeleteLoggingConfiguration(ctx context.Context, arn parley.ParsedARN) error
	ListLoggingConfigurations(ctx context.Context, p parley.Page) ([]*parley.LoggingConfiguration, string, error)
}

// TagService is the tagging of rooms and logging configurations.
type TagService interface {
	Tags(ctx context.Context, arn parley.ParsedARN) (map[string]string, error)
	TagResource(ctx context.Context, arn parley.ParsedARN, tags map[string]string) error
	UntagResource(ctx context.Context, arn parley.ParsedARN, keys []string) error
}

// BanService is parley's ban extension.
type BanService interface {
	CreateBan(ctx context.Context, in service.CreateBanInput) (*parley.Ban, error)
	DeleteBan(ctx context.Context, room *parley.ParsedARN, userID string) error
	ListBans(ctx context.Context, in service.ListBansInput) ([]*parley.Ban, string, error)
}
