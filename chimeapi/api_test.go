package chimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/chimeapi"
	"github.com/parley-chat/parley/internal/apitest"
	"github.com/parley-chat/parley/service"
)

const (
	acc   = "11111111-2222-3333-4444-555555555555"
	uid   = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	room  = "99999999-8888-7777-6666-555555555555"
	bot   = "bbbbbbbb-0000-0000-0000-000000000000"
	ts0   = "2026-03-04T05:06:07.000Z"
	ts1   = "2026-03-04T05:06:08.000Z"
	owner = "arn:aws:iam::123456789012:user/admin"
)

var (
	t0      = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	caller  = func() parley.Principal { p := apitest.Principal; p.Service = "chime"; return p }()
	sealer  = mustSealer()
	discard = slog.New(slog.DiscardHandler)
)

func mustSealer() *chattoken.Sealer {
	key, err := chattoken.NewKey()
	if err != nil {
		panic(err)
	}
	s, err := chattoken.NewSealer(key)
	if err != nil {
		panic(err)
	}
	return s
}

// serve sends one request to api as the server hands it over: with request
// info and the caller's principal in its context.
func serve(api http.Handler, method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://parley"+target, strings.NewReader(body))
	w := httptest.NewRecorder()
	api.ServeHTTP(w, apitest.Request(r, caller))
	return w
}

func account() *parley.ChimeAccount {
	return &parley.ChimeAccount{AwsAccountID: "123456789012", AccountID: acc, Name: "Acme", Type: parley.AccountTeam, Status: "Active",
		DefaultLicense: "Pro", SupportedLicenses: []string{"Basic", "Pro"}, SigninDelegateGroups: []string{"g"}, DisableRemoteControl: true,
		RoomRetentionDays: 30, CreateTime: t0}
}

const accountJSON = `{"AwsAccountId":"123456789012","AccountId":"` + acc + `","Name":"Acme","AccountType":"Team","CreatedTimestamp":"` + ts0 + `",` +
	`"DefaultLicense":"Pro","SupportedLicenses":["Basic","Pro"],"AccountStatus":"Active","SigninDelegateGroups":[{"GroupName":"g"}]}`

func user() *parley.ChimeUser {
	return &parley.ChimeUser{AwsAccountID: "123456789012", AccountID: acc, UserID: uid, PrimaryEmail: "a@example.com", DisplayName: "A",
		LicenseType: "Pro", UserType: "PrivateUser", RegistrationStatus: parley.UserRegistered, InvitationStatus: "Accepted", RegisteredOn: t0,
		InvitedOn: t0, AlexaEnabled: new(bool), PersonalPIN: "1234", InboundCalling: true, SMS: true}
}

const userFields = `"UserId":"` + uid + `","AccountId":"` + acc + `","PrimaryEmail":"a@example.com","DisplayName":"A","LicenseType":"Pro",` +
	`"UserType":"PrivateUser","UserRegistrationStatus":"Registered","UserInvitationStatus":"Accepted","RegisteredOn":"` + ts0 + `",` +
	`"InvitedOn":"` + ts0 + `","AlexaForBusinessMetadata":{"IsAlexaForBusinessEnabled":false}`

const (
	userJSON        = `{` + userFields + `,"PersonalPIN":"1234"}`
	userSummaryJSON = `{` + userFields + `}`
)

func chimeRoom() *parley.ChimeRoom {
	return &parley.ChimeRoom{AwsAccountID: "123456789012", AccountID: acc, RoomID: room, Name: "chat", CreatedBy: owner, CreateTime: t0,
		UpdateTime: t0.Add(time.Second)}
}

const roomJSON = `{"RoomId":"` + room + `","Name":"chat","AccountId":"` + acc + `","CreatedBy":"` + owner + `","CreatedTimestamp":"` + ts0 +
	`","UpdatedTimestamp":"` + ts1 + `"}`

func membership() *parley.RoomMembership {
	return &parley.RoomMembership{AccountID: acc, RoomID: room, MemberID: uid, MemberType: parley.MemberUser, Email: "a@example.com",
		FullName: "A", Role: parley.RoleMember, InvitedBy: owner, UpdateTime: t0}
}

const membershipJSON = `{"RoomId":"` + room + `","Member":{"MemberId":"` + uid + `","MemberType":"User","Email":"a@example.com","FullName":"A",` +
	`"AccountId":"` + acc + `"},"Role":"Member","InvitedBy":"` + owner + `","UpdatedTimestamp":"` + ts0 + `"}`

func chimeBot() *parley.Bot {
	return &parley.Bot{AccountID: acc, BotID: bot, DisplayName: "helper", BotEmail: "helper@example.com", SecurityToken: "sekret",
		EventsEndpoint: "https://example.com/hook", CreateTime: t0, UpdateTime: t0}
}

const botJSON = `{"BotId":"` + bot + `","UserId":"` + bot + `","DisplayName":"helper","BotType":"ChatBot","Disabled":false,` +
	`"CreatedTimestamp":"` + ts0 + `","UpdatedTimestamp":"` + ts0 + `","BotEmail":"helper@example.com","SecurityToken":"sekret"}`

// updateBot stands in for service.UpdateBot: it applies fn to chimeBot()
// and records the bot it made.
func updateBot(got *any) func(context.Context, string, string, func(*parley.Bot) error) (*parley.Bot, error) {
	return func(_ context.Context, a, id string, fn func(*parley.Bot) error) (*parley.Bot, error) {
		b := chimeBot()
		if err := fn(b); err != nil {
			return nil, err
		}
		*got = []any{a, id, b.Disabled, b.EventsEndpoint, b.EventsLambda}
		return b, nil
	}
}

// Ensure every operation is routed to its service method with its input
// translated, and answers with its modeled status and shape.
func TestOperations(t *testing.T) {
	accounts := "/accounts/" + acc
	users := accounts + "/users"
	rooms := accounts + "/rooms/" + room
	bots := accounts + "/bots/" + bot
	userErrs := []service.UserError{{UserID: "u1", Code: "NotFound", Message: "no such user"}}
	const userErrsJSON = `{"UserErrors":[{"UserId":"u1","ErrorCode":"NotFound","ErrorMessage":"no such user"}]}`
	tests := []struct {
		name, method, target, body string
		// setup installs the one method the operation calls; it stores
		// what the method was called with in got.
		setup      func(f *fakeService, got *any)
		wantIn     any
		wantStatus int
		wantBody   string
	}{
		{"CreateAccount", "POST", "/accounts", `{"Name":"Acme"}`,
			func(f *fakeService, got *any) {
				f.CreateChimeAccountFn = func(_ context.Context, name string, typ parley.ChimeAccountType) (*parley.ChimeAccount, error) {
					*got = []any{name, typ}
					return account(), nil
				}
			},
			[]any{"Acme", parley.AccountTeam}, 201, `{"Account":` + accountJSON + `}`},
		{"parley:CreateAccount", "POST", "/parley/v1/accounts", `{"Name":"Acme","AccountType":"EnterpriseLWA"}`,
			func(f *fakeService, got *any) {
				f.CreateChimeAccountFn = func(_ context.Context, name string, typ parley.ChimeAccountType) (*parley.ChimeAccount, error) {
					*got = []any{name, typ}
					return account(), nil
				}
			},
			[]any{"Acme", parley.ChimeAccountType("EnterpriseLWA")}, 201, `{"Account":` + accountJSON + `}`},
		{"parley:CreateAccount default type", "POST", "/parley/v1/accounts", `{"Name":"Acme"}`,
			func(f *fakeService, got *any) {
				f.CreateChimeAccountFn = func(_ context.Context, name string, typ parley.ChimeAccountType) (*parley.ChimeAccount, error) {
					*got = []any{name, typ}
					return account(), nil
				}
			},
			[]any{"Acme", parley.AccountTeam}, 201, `{"Account":` + accountJSON + `}`},
		{"ListAccounts", "GET", "/accounts?name=Ac&user-email=a%40example.com&max-results=200&next-token=tok", ``,
			func(f *fakeService, got *any) {
				f.ListChimeAccountsFn = func(_ context.Context, fl parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error) {
					*got = fl
					return []*parley.ChimeAccount{account()}, "next", nil
				}
			},
			parley.ChimeAccountFilter{NamePrefix: "Ac", UserEmail: "a@example.com", Page: parley.Page{MaxResults: 200, NextToken: "tok"}}, 200,
			`{"Accounts":[` + accountJSON + `],"NextToken":"next"}`},
		{"ListAccounts empty", "GET", "/accounts", ``,
			func(f *fakeService, got *any) {
				f.ListChimeAccountsFn = func(_ context.Context, fl parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error) {
					*got = fl
					return nil, "", nil
				}
			},
			parley.ChimeAccountFilter{}, 200, `{"Accounts":[]}`},
		{"GetAccount", "GET", accounts, ``,
			func(f *fakeService, got *any) {
				f.GetChimeAccountFn = func(_ context.Context, id string) (*parley.ChimeAccount, error) { *got = id; return account(), nil }
			},
			acc, 200, `{"Account":` + accountJSON + `}`},
		{"GetAccount escaped label", "GET", "/accounts/a%2Fb", ``,
			func(f *fakeService, got *any) {
				f.GetChimeAccountFn = func(_ context.Context, id string) (*parley.ChimeAccount, error) { *got = id; return account(), nil }
			},
			"a/b", 200, `{"Account":` + accountJSON + `}`},
		{"UpdateAccount", "POST", accounts, `{"Name":"New","DefaultLicense":"Basic"}`,
			func(f *fakeService, got *any) {
				f.UpdateChimeAccountFn = func(_ context.Context, id string, name, license *string) (*parley.ChimeAccount, error) {
					*got = []any{id, *name, *license}
					return account(), nil
				}
			},
			[]any{acc, "New", "Basic"}, 200, `{"Account":` + accountJSON + `}`},
		{"UpdateAccount nothing", "POST", accounts, `{}`,
			func(f *fakeService, got *any) {
				f.UpdateChimeAccountFn = func(_ context.Context, id string, name, license *string) (*parley.ChimeAccount, error) {
					*got = []any{id, name, license}
					return account(), nil
				}
			},
			[]any{acc, (*string)(nil), (*string)(nil)}, 200, `{"Account":` + accountJSON + `}`},
		{"DeleteAccount", "DELETE", accounts, ``,
			func(f *fakeService, got *any) {
				f.DeleteChimeAccountFn = func(_ context.Context, id string) error { *got = id; return nil }
			},
			acc, 204, ``},
		{"GetAccountSettings", "GET", accounts + "/settings", ``,
			func(f *fakeService, got *any) {
				f.GetChimeAccountFn = func(_ context.Context, id string) (*parley.ChimeAccount, error) { *got = id; return account(), nil }
			},
			acc, 200, `{"AccountSettings":{"DisableRemoteControl":true,"EnableDialOut":false}}`},
		{"UpdateAccountSettings", "PUT", accounts + "/settings", `{"AccountSettings":{"EnableDialOut":true}}`,
			func(f *fakeService, got *any) {
				f.UpdateChimeAccountSettingsFn = func(_ context.Context, id string, remote, dial *bool) error {
					*got = []any{id, remote, *dial}
					return nil
				}
			},
			[]any{acc, (*bool)(nil), true}, 204, ``},
		{"InviteUsers", "POST", users + "?operation=add", `{"UserEmailList":["a@example.com"],"UserType":"SharedDevice"}`,
			func(f *fakeService, got *any) {
				f.InviteUsersFn = func(_ context.Context, id string, emails []string, typ string) ([]service.Invite, error) {
					*got = []any{id, emails, typ}
					return []service.Invite{{InviteID: "inv", Status: "Pending", Email: "a@example.com", EmailStatus: "Sent"}}, nil
				}
			},
			[]any{acc, []string{"a@example.com"}, "SharedDevice"}, 201,
			`{"Invites":[{"EmailAddress":"a@example.com","EmailStatus":"Sent","InviteId":"inv","Status":"Pending"}]}`},
		{"CreateUser", "POST", users + "?operation=create", `{"Username":" alice ","Email":"a@example.com"}`,
			func(f *fakeService, got *any) {
				f.CreateChimeUserFn = func(_ context.Context, id, name, email, typ string) (*parley.ChimeUser, error) {
					*got = []any{id, name, email, typ}
					return user(), nil
				}
			},
			[]any{acc, "alice", "a@example.com", ""}, 201, `{"User":` + userJSON + `}`},
		{"BatchSuspendUser", "POST", users + "?operation=suspend", `{"UserIdList":["u1","u2"]}`,
			func(f *fakeService, got *any) {
				f.BatchSuspendUserFn = func(_ context.Context, id string, ids []string) ([]service.UserError, error) {
					*got = []any{id, ids}
					return userErrs, nil
				}
			},
			[]any{acc, []string{"u1", "u2"}}, 200, userErrsJSON},
		{"BatchUnsuspendUser", "POST", users + "?operation=unsuspend", `{"UserIdList":[]}`,
			func(f *fakeService, got *any) {
				f.BatchUnsuspendUserFn = func(_ context.Context, id string, ids []string) ([]service.UserError, error) {
					*got = []any{id, ids}
					return nil, nil
				}
			},
			[]any{acc, []string{}}, 200, `{"UserErrors":[]}`},
		{"BatchUpdateUser", "POST", users, `{"UpdateUserRequestItems":[{"UserId":"u1","LicenseType":"Basic","AlexaForBusinessMetadata":{"IsAlexaForBusinessEnabled":true,"AlexaForBusinessRoomArn":"arn"}}]}`,
			func(f *fakeService, got *any) {
				f.BatchUpdateUserFn = func(_ context.Context, id string, items []service.UserUpdate) ([]service.UserError, error) {
					*got = []any{id, items}
					return userErrs, nil
				}
			},
			[]any{acc, []service.UserUpdate{{UserID: "u1", LicenseType: ptr("Basic"), AlexaEnabled: ptr(true), AlexaRoomARN: ptr("arn")}}}, 200, userErrsJSON},
		{"ListUsers", "GET", users + "?user-email=a%40example.com&user-type=PrivateUser&max-results=1", ``,
			func(f *fakeService, got *any) {
				f.ListChimeUsersFn = func(_ context.Context, id string, fl parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error) {
					*got = []any{id, fl}
					return []*parley.ChimeUser{user()}, "", nil
				}
			},
			[]any{acc, parley.ChimeUserFilter{Email: "a@example.com", UserType: "PrivateUser", Page: parley.Page{MaxResults: 1}}}, 200,
			`{"Users":[` + userSummaryJSON + `]}`},
		{"GetUser", "GET", users + "/" + uid, ``,
			func(f *fakeService, got *any) {
				f.GetChimeUserFn = func(_ context.Context, a, u string) (*parley.ChimeUser, error) {
					*got = []any{a, u}
					return user(), nil
				}
			},
			[]any{acc, uid}, 200, `{"User":` + userJSON + `}`},
		{"UpdateUser", "POST", users + "/" + uid, `{"UserType":"SharedDevice","UserId":"ignored"}`,
			func(f *fakeService, got *any) {
				f.UpdateChimeUserFn = func(_ context.Context, a string, in service.UserUpdate) (*parley.ChimeUser, error) {
					*got = []any{a, in}
					return user(), nil
				}
			},
			[]any{acc, service.UserUpdate{UserID: uid, UserType: ptr("SharedDevice")}}, 200, `{"User":` + userJSON + `}`},
		{"LogoutUser", "POST", users + "/" + uid + "?operation=logout", ``,
			func(f *fakeService, got *any) {
				f.LogoutUserFn = func(_ context.Context, a, u string) error { *got = []any{a, u}; return nil }
			},
			[]any{acc, uid}, 204, ``},
		{"ResetPersonalPIN", "POST", users + "/" + uid + "?operation=reset-personal-pin", ``,
			func(f *fakeService, got *any) {
				f.ResetPersonalPINFn = func(_ context.Context, a, u string) (*parley.ChimeUser, error) {
					*got = []any{a, u}
					return user(), nil
				}
			},
			[]any{acc, uid}, 200, `{"User":` + userJSON + `}`},
		{"GetUserSettings", "GET", users + "/" + uid + "/settings", ``,
			func(f *fakeService, got *any) {
				f.GetChimeUserFn = func(_ context.Context, a, u string) (*parley.ChimeUser, error) {
					*got = []any{a, u}
					return user(), nil
				}
			},
			[]any{acc, uid}, 200, `{"UserSettings":{"Telephony":{"InboundCalling":true,"OutboundCalling":false,"SMS":true}}}`},
		{"UpdateUserSettings", "PUT", users + "/" + uid + "/settings", `{"UserSettings":{"Telephony":{"InboundCalling":false,"OutboundCalling":true,"SMS":false}}}`,
			func(f *fakeService, got *any) {
				f.UpdateUserSettingsFn = func(_ context.Context, a, u string, in, out, sms bool) error {
					*got = []any{a, u, in, out, sms}
					return nil
				}
			},
			[]any{acc, uid, false, true, false}, 204, ``},
		{"parley:AcceptInvitation", "POST", "/parley/v1" + users + "/" + uid + "/accept-invitation", ``,
			func(f *fakeService, got *any) {
				f.AcceptInvitationFn = func(_ context.Context, a, u string) (*parley.ChimeUser, error) {
					*got = []any{a, u}
					return user(), nil
				}
			},
			[]any{acc, uid}, 200, `{"User":` + userJSON + `}`},
		{"parley:CreateDeviceSession", "POST", "/parley/v1" + users + "/" + uid + "/sessions", ``,
			func(f *fakeService, got *any) {
				f.CreateDeviceSessionFn = func(_ context.Context, s *chattoken.Sealer, a, u string) (string, *parley.DeviceSession, error) {
					*got = []any{s, a, u}
					return "tok", &parley.DeviceSession{ID: "sess", AccountID: a, UserID: u, Expires: t0}, nil
				}
			},
			[]any{sealer, acc, uid}, 201,
			`{"Session":{"AccountId":"` + acc + `","ExpiresAt":"` + ts0 + `","SessionId":"sess","Token":"tok","UserId":"` + uid + `"}}`},
		{"parley:ListAudit", "GET", "/parley/v1/audit?max-results=2", ``,
			func(f *fakeService, got *any) {
				f.ListAuditFn = func(_ context.Context, p parley.Page) ([]*parley.AuditRecord, string, error) {
					*got = p
					return []*parley.AuditRecord{{ID: "r1", Time: t0, Caller: "AKIA", Action: "LogoutUser", Target: "t", Result: "ok"},
						{ID: "r2", Time: t0, Caller: "AKIA", Action: "CreateBan", Target: "t", Detail: "spam", Result: "ok"}}, "next", nil
				}
			},
			parley.Page{MaxResults: 2}, 200,
			`{"Records":[{"Action":"LogoutUser","Caller":"AKIA","Id":"r1","Result":"ok","Target":"t","Time":"` + ts0 + `"},` +
				`{"Action":"CreateBan","Caller":"AKIA","Detail":"spam","Id":"r2","Result":"ok","Target":"t","Time":"` + ts0 + `"}],"NextToken":"next"}`},
		{"CreateRoom", "POST", accounts + "/rooms", `{"Name":"chat","ClientRequestToken":"tok-1"}`,
			func(f *fakeService, got *any) {
				f.CreateChimeRoomFn = func(_ context.Context, a, name, token string) (*parley.ChimeRoom, error) {
					*got = []any{a, name, token}
					return chimeRoom(), nil
				}
			},
			[]any{acc, "chat", "tok-1"}, 201, `{"Room":` + roomJSON + `}`},
		{"ListRooms", "GET", accounts + "/rooms?member-id=" + uid + "&max-results=99", ``,
			func(f *fakeService, got *any) {
				f.ListChimeRoomsFn = func(_ context.Context, a, member string, p parley.Page) ([]*parley.ChimeRoom, string, error) {
					*got = []any{a, member, p}
					return []*parley.ChimeRoom{chimeRoom()}, "next", nil
				}
			},
			[]any{acc, uid, parley.Page{MaxResults: 99}}, 200, `{"Rooms":[` + roomJSON + `],"NextToken":"next"}`},
		{"GetRoom", "GET", rooms, ``,
			func(f *fakeService, got *any) {
				f.GetChimeRoomFn = func(_ context.Context, a, r string) (*parley.ChimeRoom, error) {
					*got = []any{a, r}
					return chimeRoom(), nil
				}
			},
			[]any{acc, room}, 200, `{"Room":` + roomJSON + `}`},
		{"UpdateRoom", "POST", rooms, `{"Name":"renamed"}`,
			func(f *fakeService, got *any) {
				f.UpdateChimeRoomFn = func(_ context.Context, a, r string, name *string) (*parley.ChimeRoom, error) {
					*got = []any{a, r, *name}
					return chimeRoom(), nil
				}
			},
			[]any{acc, room, "renamed"}, 200, `{"Room":` + roomJSON + `}`},
		{"DeleteRoom", "DELETE", rooms, ``,
			func(f *fakeService, got *any) {
				f.DeleteChimeRoomFn = func(_ context.Context, a, r string) error { *got = []any{a, r}; return nil }
			},
			[]any{acc, room}, 204, ``},
		{"CreateRoomMembership", "POST", rooms + "/memberships", `{"MemberId":"` + uid + `","Role":"Administrator"}`,
			func(f *fakeService, got *any) {
				f.CreateRoomMembershipFn = func(_ context.Context, a, r, m, role string) (*parley.RoomMembership, error) {
					*got = []any{a, r, m, role}
					return membership(), nil
				}
			},
			[]any{acc, room, uid, "Administrator"}, 201, `{"RoomMembership":` + membershipJSON + `}`},
		{"BatchCreateRoomMembership", "POST", rooms + "/memberships?operation=batch-create", `{"MembershipItemList":[{"MemberId":"m1"},{"MemberId":"m2","Role":"Member"}]}`,
			func(f *fakeService, got *any) {
				f.BatchCreateRoomMembershipFn = func(_ context.Context, a, r string, items []service.MembershipItem) ([]service.MemberError, error) {
					*got = []any{a, r, items}
					return []service.MemberError{{MemberID: "m2", Code: "Conflict", Message: "already"}}, nil
				}
			},
			[]any{acc, room, []service.MembershipItem{{MemberID: "m1"}, {MemberID: "m2", Role: "Member"}}}, 201,
			`{"Errors":[{"ErrorCode":"Conflict","ErrorMessage":"already","MemberId":"m2"}]}`},
		{"ListRoomMemberships", "GET", rooms + "/memberships", ``,
			func(f *fakeService, got *any) {
				f.ListRoomMembershipsFn = func(_ context.Context, a, r string, p parley.Page) ([]*parley.RoomMembership, string, error) {
					*got = []any{a, r, p}
					return []*parley.RoomMembership{membership()}, "", nil
				}
			},
			[]any{acc, room, parley.Page{}}, 200, `{"RoomMemberships":[` + membershipJSON + `]}`},
		{"UpdateRoomMembership", "POST", rooms + "/memberships/" + uid, `{"Role":"Member"}`,
			func(f *fakeService, got *any) {
				f.UpdateRoomMembershipFn = func(_ context.Context, a, r, m, role string) (*parley.RoomMembership, error) {
					*got = []any{a, r, m, role}
					return membership(), nil
				}
			},
			[]any{acc, room, uid, "Member"}, 200, `{"RoomMembership":` + membershipJSON + `}`},
		{"DeleteRoomMembership", "DELETE", rooms + "/memberships/" + uid, ``,
			func(f *fakeService, got *any) {
				f.DeleteRoomMembershipFn = func(_ context.Context, a, r, m string) error { *got = []any{a, r, m}; return nil }
			},
			[]any{acc, room, uid}, 204, ``},
		{"CreateBot", "POST", accounts + "/bots", `{"DisplayName":" helper ","Domain":"example.com"}`,
			func(f *fakeService, got *any) {
				f.CreateBotFn = func(_ context.Context, a, name, domain string) (*parley.Bot, error) {
					*got = []any{a, name, domain}
					return chimeBot(), nil
				}
			},
			[]any{acc, "helper", "example.com"}, 201, `{"Bot":` + botJSON + `}`},
		{"ListBots", "GET", accounts + "/bots?max-results=1&next-token=t", ``,
			func(f *fakeService, got *any) {
				f.ListBotsFn = func(_ context.Context, a string, p parley.Page) ([]*parley.Bot, string, error) {
					*got = []any{a, p}
					return []*parley.Bot{chimeBot()}, "", nil
				}
			},
			[]any{acc, parley.Page{MaxResults: 1, NextToken: "t"}}, 200, `{"Bots":[` + botJSON + `]}`},
		{"GetBot", "GET", bots, ``,
			func(f *fakeService, got *any) {
				f.GetBotFn = func(_ context.Context, a, b string) (*parley.Bot, error) { *got = []any{a, b}; return chimeBot(), nil }
			},
			[]any{acc, bot}, 200, `{"Bot":` + botJSON + `}`},
		{"UpdateBot", "POST", bots, `{"Disabled":true}`,
			func(f *fakeService, got *any) { f.UpdateBotFn = updateBot(got) },
			[]any{acc, bot, true, "https://example.com/hook", ""}, 200, `{"Bot":` + strings.Replace(botJSON, `"Disabled":false`, `"Disabled":true`, 1) + `}`},
		{"UpdateBot nothing", "POST", bots, `{}`,
			func(f *fakeService, got *any) { f.UpdateBotFn = updateBot(got) },
			[]any{acc, bot, false, "https://example.com/hook", ""}, 200, `{"Bot":` + botJSON + `}`},
		{"RegenerateSecurityToken", "POST", bots + "?operation=regenerate-security-token", ``,
			func(f *fakeService, got *any) {
				f.RegenerateSecurityTokenFn = func(_ context.Context, a, b string) (*parley.Bot, error) { *got = []any{a, b}; return chimeBot(), nil }
			},
			[]any{acc, bot}, 200, `{"Bot":` + botJSON + `}`},
		{"PutEventsConfiguration", "PUT", bots + "/events-configuration", `{"LambdaFunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}`,
			func(f *fakeService, got *any) { f.UpdateBotFn = updateBot(got) },
			[]any{acc, bot, false, "", "arn:aws:lambda:us-east-1:123456789012:function:f"}, 201,
			`{"EventsConfiguration":{"BotId":"` + bot + `","LambdaFunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}}`},
		{"GetEventsConfiguration", "GET", bots + "/events-configuration", ``,
			func(f *fakeService, got *any) {
				f.GetBotFn = func(_ context.Context, a, b string) (*parley.Bot, error) { *got = []any{a, b}; return chimeBot(), nil }
			},
			[]any{acc, bot}, 200, `{"EventsConfiguration":{"BotId":"` + bot + `","OutboundEventsHTTPSEndpoint":"https://example.com/hook"}}`},
		{"DeleteEventsConfiguration", "DELETE", bots + "/events-configuration", ``,
			func(f *fakeService, got *any) { f.UpdateBotFn = updateBot(got) },
			[]any{acc, bot, false, "", ""}, 204, ``},
		{"GetRetentionSettings", "GET", accounts + "/retention-settings", ``,
			func(f *fakeService, got *any) {
				f.RetentionSettingsFn = func(_ context.Context, a string) (*parley.ChimeAccount, error) { *got = a; return account(), nil }
			},
			acc, 200, `{"RetentionSettings":{"RoomRetentionSettings":{"RetentionDays":30}}}`},
		{"PutRetentionSettings", "PUT", accounts + "/retention-settings",
			`{"RetentionSettings":{"RoomRetentionSettings":{"RetentionDays":1},"ConversationRetentionSettings":{"RetentionDays":5475}}}`,
			func(f *fakeService, got *any) {
				f.PutRetentionSettingsFn = func(_ context.Context, a string, r, c int) error { *got = []any{a, r, c}; return nil }
			},
			[]any{acc, 1, 5475}, 200,
			`{"RetentionSettings":{"RoomRetentionSettings":{"RetentionDays":1},"ConversationRetentionSettings":{"RetentionDays":5475}}}`},
		{"PutRetentionSettings off", "PUT", accounts + "/retention-settings", `{"RetentionSettings":{}}`,
			func(f *fakeService, got *any) {
				f.PutRetentionSettingsFn = func(_ context.Context, a string, r, c int) error { *got = []any{a, r, c}; return nil }
			},
			[]any{acc, 0, 0}, 200, `{"RetentionSettings":{}}`},
		{"parley:ListRoomMessages", "GET", "/parley/v1" + rooms + "/messages", ``,
			func(f *fakeService, got *any) {
				f.ListRoomMessagesFn = func(_ context.Context, a, r string) ([]*parley.ChimeMessage, error) {
					*got = []any{a, r}
					return []*parley.ChimeMessage{{MessageID: "m1", SenderID: uid, SenderName: "A", Content: "hi", CreateTime: t0}}, nil
				}
			},
			[]any{acc, room}, 200,
			`{"Messages":[{"Content":"hi","CreatedTimestamp":"` + ts0 + `","MessageId":"m1","SenderId":"` + uid + `","SenderName":"A"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fakeService
			var got any
			tt.setup(&f, &got)
			w := serve(chimeapi.New(&f, sealer, nil, discard), tt.method, tt.target, tt.body)
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody {
				t.Fatalf("%s %s = %d %s, want %d %s", tt.method, tt.target, w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if !reflect.DeepEqual(got, tt.wantIn) {
				t.Fatalf("service called with %#v, want %#v", got, tt.wantIn)
			}
			wantType := "application/json"
			if tt.wantStatus == http.StatusNoContent {
				wantType = ""
			}
			if got := w.Header().Get("Content-Type"); got != wantType {
				t.Fatalf("Content-Type = %q, want %q", got, wantType)
			}
			if w.Header().Get("x-amzn-RequestId") == "" || w.Header().Get("X-Amzn-ErrorType") != "" {
				t.Fatalf("headers %v, want a request ID and no error type", w.Header())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// wantError checks that w is a Chime error of typ with status and code, and
// returns its message.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, typ, code string) string {
	t.Helper()
	var e struct{ Code, Message string }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	if w.Code != status || w.Header().Get("X-Amzn-ErrorType") != typ || e.Code != code || e.Message == "" {
		t.Fatalf("got %d %s %s, want %d %s %s with a message", w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body, status, typ, code)
	}
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("error headers %v, want JSON and a request ID", w.Header())
	}
	return e.Message
}

// Ensure every bound of the Chime model is a BadRequestException naming
// the member, before the service is called.
func TestValidation(t *testing.T) {
	accounts := "/accounts/" + acc
	users := accounts + "/users"
	rooms := accounts + "/rooms/" + room
	bots := accounts + "/bots/" + bot
	list := func(n int, f string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(f, i)
		}
		return strings.Join(items, ",")
	}
	tests := []struct{ method, target, body, want string }{
		{"POST", "/accounts", `{}`, "Name is required"},
		{"POST", "/accounts", `{"Name":"` + strings.Repeat("n", 101) + `"}`, "Name must be 1 to 100 characters and not blank"},
		{"POST", "/accounts", `{"Name":"   "}`, "Name must be 1 to 100 characters and not blank"},
		{"POST", "/accounts", `{"Name":""}`, "Name must be 1 to 100 characters and not blank"},
		{"POST", "/parley/v1/accounts", `{"Name":"A","AccountType":"Galactic"}`, "AccountType must be one of Team, EnterpriseDirectory, EnterpriseLWA, EnterpriseOIDC"},
		{"POST", "/parley/v1/accounts", `{"AccountType":"Team"}`, "Name is required"},
		{"GET", "/accounts?name=", ``, "Name must be 1 to 100 characters and not blank"},
		{"GET", "/accounts?user-email=nope", ``, `UserEmail "nope" is not an e-mail address`},
		{"GET", "/accounts?max-results=201", ``, "MaxResults must be an integer from 1 to 200"},
		{"GET", "/accounts?max-results=0", ``, "MaxResults must be an integer from 1 to 200"},
		{"GET", "/accounts?max-results=ten", ``, "MaxResults must be an integer from 1 to 200"},
		{"POST", accounts, `{"Name":" "}`, "Name must be 1 to 100 characters and not blank"},
		{"POST", accounts, `{"DefaultLicense":"Gold"}`, "DefaultLicense must be one of Basic, Plus, Pro, ProTrial"},
		{"PUT", accounts + "/settings", `{}`, "AccountSettings is required"},
		{"POST", users + "?operation=add", `{}`, "UserEmailList is required"},
		{"POST", users + "?operation=add", `{"UserEmailList":[` + list(51, `"u%d@example.com"`) + `]}`, "UserEmailList must have at most 50 addresses"},
		{"POST", users + "?operation=add", `{"UserEmailList":["not-an-email"]}`, `UserEmailList "not-an-email" is not an e-mail address`},
		{"POST", users + "?operation=add", `{"UserEmailList":["a@example.com"],"UserType":"Robot"}`, "UserType must be one of PrivateUser, SharedDevice"},
		{"POST", users + "?operation=create", `{}`, "Email is required"},
		{"POST", users + "?operation=create", `{"Email":"a@b"}`, `Email "a@b" is not an e-mail address`},
		{"POST", users + "?operation=create", `{"Email":"a@example.com","UserType":"x"}`, "UserType must be one of PrivateUser, SharedDevice"},
		{"POST", users + "?operation=suspend", `{}`, "UserIdList is required"},
		{"POST", users + "?operation=suspend", `{"UserIdList":[` + list(51, `"u%d"`) + `]}`, "UserIdList must have at most 50 user IDs"},
		{"POST", users + "?operation=unsuspend", `{"UserIdList":[` + list(51, `"u%d"`) + `]}`, "UserIdList must have at most 50 user IDs"},
		{"POST", users + "?operation=unsuspend", `{"UserIdList":[" "]}`, "UserIdList must not contain empty IDs"},
		{"POST", users, `{}`, "UpdateUserRequestItems is required"},
		{"POST", users, `{"UpdateUserRequestItems":[` + list(21, `{"UserId":"u%d"}`) + `]}`, "UpdateUserRequestItems must have at most 20 items"},
		{"POST", users, `{"UpdateUserRequestItems":[{"LicenseType":"Pro"}]}`, "UpdateUserRequestItems.UserId is required"},
		{"POST", users, `{"UpdateUserRequestItems":[{"UserId":"u","LicenseType":"Gold"}]}`, "LicenseType must be one of Basic, Plus, Pro, ProTrial"},
		{"GET", users + "?user-email=x", ``, `UserEmail "x" is not an e-mail address`},
		{"GET", users + "?user-type=Robot", ``, "UserType must be one of PrivateUser, SharedDevice"},
		{"GET", users + "?max-results=201", ``, "MaxResults must be an integer from 1 to 200"},
		{"POST", users + "/" + uid, `{"UserType":"Robot"}`, "UserType must be one of PrivateUser, SharedDevice"},
		{"PUT", users + "/" + uid + "/settings", `{}`, "UserSettings.Telephony is required"},
		{"PUT", users + "/" + uid + "/settings", `{"UserSettings":{"Telephony":{"SMS":true}}}`,
			"UserSettings.Telephony requires InboundCalling, OutboundCalling and SMS"},
		{"POST", accounts + "/rooms", `{}`, "Name is required and must not be blank"},
		{"POST", accounts + "/rooms", `{"Name":"chat","ClientRequestToken":"x"}`, "ClientRequestToken must be 2 to 64 of [-_a-zA-Z0-9]"},
		{"POST", accounts + "/rooms", `{"Name":"chat","ClientRequestToken":"` + strings.Repeat("t", 65) + `"}`, "ClientRequestToken must be 2 to 64 of [-_a-zA-Z0-9]"},
		{"GET", accounts + "/rooms?max-results=100", ``, "MaxResults must be an integer from 1 to 99"},
		{"POST", rooms, `{"Name":" "}`, "Name must not be blank"},
		{"POST", rooms + "/memberships", `{}`, "MemberId is required"},
		{"POST", rooms + "/memberships", `{"MemberId":"m","Role":"Owner"}`, "Role must be one of Administrator, Member"},
		{"POST", rooms + "/memberships?operation=batch-create", `{}`, "MembershipItemList is required"},
		{"POST", rooms + "/memberships?operation=batch-create", `{"MembershipItemList":[` + list(51, `{"MemberId":"m%d"}`) + `]}`,
			"MembershipItemList must have at most 50 items"},
		{"POST", rooms + "/memberships?operation=batch-create", `{"MembershipItemList":[{"Role":"Member"}]}`, "MembershipItemList.MemberId is required"},
		{"POST", rooms + "/memberships?operation=batch-create", `{"MembershipItemList":[{"MemberId":"m","Role":"x"}]}`,
			"MembershipItemList.Role must be one of Administrator, Member"},
		{"GET", rooms + "/memberships?max-results=100", ``, "MaxResults must be an integer from 1 to 99"},
		{"POST", rooms + "/memberships/" + uid, `{"Role":"x"}`, "Role must be one of Administrator, Member"},
		{"POST", accounts + "/bots", `{}`, "DisplayName is required"},
		{"POST", accounts + "/bots", `{"DisplayName":"b","Domain":" "}`, "Domain must not be blank"},
		{"GET", accounts + "/bots?max-results=100", ``, "MaxResults must be an integer from 1 to 99"},
		{"PUT", bots + "/events-configuration", `{}`, "give either OutboundEventsHTTPSEndpoint or LambdaFunctionArn"},
		{"PUT", bots + "/events-configuration", `{"OutboundEventsHTTPSEndpoint":"https://x","LambdaFunctionArn":"arn:aws:lambda:x"}`,
			"give either OutboundEventsHTTPSEndpoint or LambdaFunctionArn"},
		{"PUT", bots + "/events-configuration", `{"LambdaFunctionArn":"arn:aws:sqs:x"}`, "LambdaFunctionArn must be a Lambda function ARN"},
		{"PUT", bots + "/events-configuration", `{"OutboundEventsHTTPSEndpoint":"ftp://x"}`, "OutboundEventsHTTPSEndpoint must be an HTTPS URL"},
		{"PUT", accounts + "/retention-settings", `{}`, "RetentionSettings is required"},
		{"PUT", accounts + "/retention-settings", `{"RetentionSettings":{"RoomRetentionSettings":{"RetentionDays":5476}}}`,
			"RoomRetentionSettings.RetentionDays must be between 1 and 5475"},
		{"PUT", accounts + "/retention-settings", `{"RetentionSettings":{"ConversationRetentionSettings":{"RetentionDays":0}}}`,
			"ConversationRetentionSettings.RetentionDays must be between 1 and 5475"},
		{"GET", "/parley/v1/audit?max-results=201", ``, "MaxResults must be an integer from 1 to 200"},
		{"GET", "/accounts/%20", ``, "accountId must not be empty"},
		{"GET", "/accounts/" + acc + "/users/%09", ``, "userId must not be empty"},
	}
	api := chimeapi.New(&fakeService{}, sealer, nil, discard)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			if msg := wantError(t, serve(api, tt.method, tt.target, tt.body), 400, "BadRequestException", "BadRequest"); msg != tt.want {
				t.Fatalf("message %q, want %q", msg, tt.want)
			}
		})
	}
}

// Ensure the bounds hold at their limits: the largest allowed values reach
// the service.
func TestValidationBounds(t *testing.T) {
	accounts := "/accounts/" + acc
	f := &fakeService{
		CreateChimeAccountFn: func(context.Context, string, parley.ChimeAccountType) (*parley.ChimeAccount, error) {
			return account(), nil
		},
		BatchSuspendUserFn: func(context.Context, string, []string) ([]service.UserError, error) { return nil, nil },
		ListChimeAccountsFn: func(context.Context, parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error) {
			return nil, "", nil
		},
		CreateChimeRoomFn: func(context.Context, string, string, string) (*parley.ChimeRoom, error) { return chimeRoom(), nil },
	}
	api := chimeapi.New(f, sealer, nil, discard)
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("%q", fmt.Sprint("u", i))
	}
	for _, tt := range []struct{ method, target, body string }{
		{"POST", "/accounts", `{"Name":"` + strings.Repeat("é", 100) + `"}`},
		{"POST", accounts + "/users?operation=suspend", `{"UserIdList":[` + strings.Join(ids, ",") + `]}`},
		{"GET", "/accounts?max-results=1", ``},
		{"POST", accounts + "/rooms", `{"Name":"r","ClientRequestToken":"` + strings.Repeat("t", 64) + `"}`},
	} {
		if w := serve(api, tt.method, tt.target, tt.body); w.Code >= 300 {
			t.Errorf("%s %s: %d %s, want success", tt.method, tt.target, w.Code, w.Body)
		}
	}
}

// Ensure requests the SDKs would never send get a clear 4xx, never a 500.
func TestMalformedRequests(t *testing.T) {
	api := chimeapi.New(&fakeService{}, sealer, nil, discard)
	tests := []struct{ name, body, want string }{
		{"bad JSON", `{"Name":`, "request body is not valid JSON"},
		{"not an object", `[]`, "request body must be a JSON object"},
		{"wrong type", `{"Name":1}`, "Name must be of type string"},
		{"oversized", `{"Name":"` + strings.Repeat("a", awsproto.MaxBody) + `"}`, "request body exceeds 1048576 bytes"},
	}
	for _, tt := range tests {
		if msg := wantError(t, serve(api, "POST", "/accounts", tt.body), 400, "BadRequestException", "BadRequest"); msg != tt.want {
			t.Errorf("%s: message %q, want %q", tt.name, msg, tt.want)
		}
	}
	for _, target := range []string{"GET /nothing", "PATCH /accounts", "POST /accounts?operation=create", "GET /accounts/" + acc + "/users/" + uid + "/x",
		"POST /accounts/" + acc + "/users?operation=fly", "DELETE /accounts", "GET /"} {
		method, path, _ := strings.Cut(target, " ")
		msg := wantError(t, serve(api, method, path, ``), 404, "UnknownOperationException", "NotFound")
		if want := "Unknown operation " + method + " " + strings.Split(path, "?")[0]; msg != want {
			t.Errorf("%s: message %q, want %q", target, msg, want)
		}
	}
}

// Ensure each Kind of service error is rendered as the Chime exception with
// its status and ErrorCode.
func TestErrors(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{parley.Errorf(parley.KindInvalid, "bad"), 400, "BadRequestException", `{"Code":"BadRequest","Message":"bad"}`},
		{parley.Errorf(parley.KindNotFound, "no account"), 404, "NotFoundException", `{"Code":"NotFound","Message":"no account"}`},
		{parley.Errorf(parley.KindConflict, "taken"), 409, "ConflictException", `{"Code":"Conflict","Message":"taken"}`},
		{parley.Errorf(parley.KindUnauthenticated, "who"), 401, "UnauthorizedClientException", `{"Code":"Unauthorized","Message":"who"}`},
		{parley.Errorf(parley.KindForbidden, "no"), 403, "ForbiddenException", `{"Code":"Forbidden","Message":"no"}`},
		{parley.Errorf(parley.KindThrottled, "slow"), 429, "ThrottledClientException", `{"Code":"Throttled","Message":"slow"}`},
		{parley.Errorf(parley.KindQuotaExceeded, "full"), 400, "ResourceLimitExceededException", `{"Code":"ResourceLimitExceeded","Message":"full"}`},
		{parley.Errorf(parley.KindUnavailable, "bus down"), 503, "ServiceUnavailableException", `{"Code":"ServiceUnavailable","Message":"bus down"}`},
		{parley.Internal("store", errors.New("disk")), 500, "ServiceFailureException", `{"Code":"ServiceFailure","Message":"An internal error occurred."}`},
		{errors.New("boom"), 500, "ServiceFailureException", `{"Code":"ServiceFailure","Message":"An internal error occurred."}`},
		{parley.Errorf(parley.KindUnprocessable, "strict"), 422, "UnprocessableEntityException", `{"Code":"Unprocessable","Message":"strict"}`},
	}
	for _, tt := range tests {
		f := &fakeService{GetChimeAccountFn: func(context.Context, string) (*parley.ChimeAccount, error) { return nil, tt.err }}
		w := serve(chimeapi.New(f, sealer, nil, discard), "GET", "/accounts/"+acc, ``)
		if w.Code != tt.wantStatus || w.Header().Get("X-Amzn-ErrorType") != tt.wantType || w.Body.String() != tt.wantBody {
			t.Errorf("%v: got %d %s %s, want %d %s %s", tt.err, w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body, tt.wantStatus, tt.wantType, tt.wantBody)
		}
	}
}

// Ensure every route names its operation for throttling, logs and metrics,
// and that a throttled call is refused before its body is read.
func TestOperationNames(t *testing.T) {
	a, u, r, b := "/accounts/"+acc, "/accounts/"+acc+"/users/"+uid, "/accounts/"+acc+"/rooms/"+room, "/accounts/"+acc+"/bots/"+bot
	ops := map[string]string{
		"POST /accounts": "CreateAccount", "GET /accounts": "ListAccounts", "GET " + a: "GetAccount", "POST " + a: "UpdateAccount",
		"DELETE " + a: "DeleteAccount", "GET " + a + "/settings": "GetAccountSettings", "PUT " + a + "/settings": "UpdateAccountSettings",
		"POST " + a + "/users?operation=add": "InviteUsers", "POST " + a + "/users?operation=create": "CreateUser",
		"POST " + a + "/users?operation=suspend": "BatchSuspendUser", "POST " + a + "/users?operation=unsuspend": "BatchUnsuspendUser",
		"POST " + a + "/users": "BatchUpdateUser", "GET " + a + "/users": "ListUsers", "GET " + u: "GetUser", "POST " + u: "UpdateUser",
		"POST " + u + "?operation=logout": "LogoutUser", "POST " + u + "?operation=reset-personal-pin": "ResetPersonalPIN",
		"GET " + u + "/settings": "GetUserSettings", "PUT " + u + "/settings": "UpdateUserSettings",
		"POST /parley/v1/accounts": "parley:CreateAccount", "POST /parley/v1" + u + "/accept-invitation": "parley:AcceptInvitation",
		"POST /parley/v1" + u + "/sessions": "parley:CreateDeviceSession", "GET /parley/v1/audit": "parley:ListAudit",
		"POST " + a + "/rooms": "CreateRoom", "GET " + a + "/rooms": "ListRooms", "GET " + r: "GetRoom", "POST " + r: "UpdateRoom",
		"DELETE " + r: "DeleteRoom", "POST " + r + "/memberships": "CreateRoomMembership",
		"POST " + r + "/memberships?operation=batch-create": "BatchCreateRoomMembership", "GET " + r + "/memberships": "ListRoomMemberships",
		"POST " + r + "/memberships/" + uid: "UpdateRoomMembership", "DELETE " + r + "/memberships/" + uid: "DeleteRoomMembership",
		"POST " + a + "/bots": "CreateBot", "GET " + a + "/bots": "ListBots", "GET " + b: "GetBot", "POST " + b: "UpdateBot",
		"POST " + b + "?operation=regenerate-security-token": "RegenerateSecurityToken", "PUT " + b + "/events-configuration": "PutEventsConfiguration",
		"GET " + b + "/events-configuration": "GetEventsConfiguration", "DELETE " + b + "/events-configuration": "DeleteEventsConfiguration",
		"GET " + a + "/retention-settings": "GetRetentionSettings", "PUT " + a + "/retention-settings": "PutRetentionSettings",
		"GET /parley/v1" + r + "/messages": "parley:ListRoomMessages",
	}
	for route, op := range ops {
		method, path, _ := strings.Cut(route, " ")
		l := &apitest.Limiter{Err: parley.Errorf(parley.KindThrottled, "Rate exceeded for %s", op)}
		api := chimeapi.New(&fakeService{}, sealer, l, discard)
		req := apitest.Request(httptest.NewRequest(method, "http://parley"+path, apitest.Unread{T: t}), caller)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		wantError(t, w, 429, "ThrottledClientException", "Throttled")
		if l.API != "chime" || l.Op != op || awsproto.InfoFrom(req.Context()).Op != op {
			t.Errorf("%s: limiter asked for %s %s, info op %q, want chime %s", route, l.API, l.Op, awsproto.InfoFrom(req.Context()).Op, op)
		}
	}
}

// Ensure a bot posts with its security token, and that the bot endpoint
// answers in Chime's error format.
func TestBotPost(t *testing.T) {
	var got []string
	f := &fakeService{
		AuthenticateBotFn: func(_ context.Context, token string) (*parley.Bot, error) {
			if token != "sekret" {
				return nil, parley.Errorf(parley.KindUnauthenticated, "bad token")
			}
			return &parley.Bot{BotID: "b1"}, nil
		},
		PostAsBotFn: func(_ context.Context, b *parley.Bot, roomID, content string) (*parley.ChimeMessage, error) {
			got = []string{b.BotID, roomID, content}
			return &parley.ChimeMessage{MessageID: "m1"}, nil
		}}
	api := chimeapi.New(f, sealer, nil, discard)
	post := func(method, path, auth, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://parley"+path, strings.NewReader(body))
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.BotPost(w, apitest.Request(r, parley.Principal{}))
		return w
	}
	path := chimeapi.BotPath + room + "/messages"
	if w := post("POST", path, "Bearer sekret", `{"Content":"hi"}`); w.Code != 201 || w.Body.String() != `{"MessageId":"m1"}` ||
		!reflect.DeepEqual(got, []string{"b1", room, "hi"}) {
		t.Fatalf("BotPost = %d %s with %v, want 201 m1", w.Code, w.Body, got)
	}
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		typ, code, msg                 string
	}{
		{"no token", "POST", path, "", `{"Content":"hi"}`, 401, "UnauthorizedClientException", "Unauthorized",
			"a bot authenticates with Authorization: Bearer <SecurityToken>"},
		{"basic auth", "POST", path, "Basic eDp5", `{"Content":"hi"}`, 401, "UnauthorizedClientException", "Unauthorized",
			"a bot authenticates with Authorization: Bearer <SecurityToken>"},
		{"revoked token", "POST", path, "Bearer revoked", `{"Content":"hi"}`, 401, "UnauthorizedClientException", "Unauthorized", "bad token"},
		{"no content", "POST", path, "Bearer sekret", `{"Content":""}`, 400, "BadRequestException", "BadRequest", "Content is required"},
		{"bad JSON", "POST", path, "Bearer sekret", `{`, 400, "BadRequestException", "BadRequest", "request body is not valid JSON"},
		{"GET", "GET", path, "Bearer sekret", ``, 404, "NotFoundException", "NotFound", "unknown bot operation"},
		{"no room", "POST", chimeapi.BotPath + "/messages", "Bearer sekret", `{"Content":"hi"}`, 404, "NotFoundException", "NotFound", "unknown bot operation"},
		{"nested", "POST", chimeapi.BotPath + "a/b/messages", "Bearer sekret", `{"Content":"hi"}`, 404, "NotFoundException", "NotFound", "unknown bot operation"},
		{"other suffix", "POST", chimeapi.BotPath + room, "Bearer sekret", `{"Content":"hi"}`, 404, "NotFoundException", "NotFound", "unknown bot operation"},
	}
	for _, tt := range tests {
		if msg := wantError(t, post(tt.method, tt.path, tt.auth, tt.body), tt.status, tt.typ, tt.code); msg != tt.msg {
			t.Errorf("%s: message %q, want %q", tt.name, msg, tt.msg)
		}
	}

	// A request without a valid token is refused before its body is read,
	// and the connection with it.
	for _, auth := range []string{"", "Bearer revoked"} {
		r := httptest.NewRequest("POST", "http://parley"+path, apitest.Unread{T: t})
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.BotPost(w, apitest.Request(r, parley.Principal{}))
		wantError(t, w, 401, "UnauthorizedClientException", "Unauthorized")
		if c := w.Header().Get("Connection"); c != "close" {
			t.Errorf("auth %q: Connection %q, want close", auth, c)
		}
	}
}
