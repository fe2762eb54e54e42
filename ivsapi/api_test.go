package ivsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/internal/apitest"
	"github.com/parley-chat/parley/ivsapi"
	"github.com/parley-chat/parley/service"
)

var (
	scope     = apitest.Principal.Scope
	roomID    = "abcdEFGH1234"
	configID  = "ABcdef34ghIJ"
	roomARN   = scope.ARN("room", roomID)
	configARN = scope.ARN("logging-configuration", configID)
	roomP     = parley.ParsedARN{Scope: scope, Kind: "room", ID: roomID}
	configP   = parley.ParsedARN{Scope: scope, Kind: "logging-configuration", ID: configID}
	lambda    = "arn:aws:lambda:us-east-1:123456789012:function:f"
	t0        = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
)

// serve sends one request to api as the server hands it over: with request
// info and the caller's principal in its context.
func serve(api http.Handler, method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://parley"+target, strings.NewReader(body))
	w := httptest.NewRecorder()
	api.ServeHTTP(w, apitest.Request(r, apitest.Principal))
	return w
}

func newFakeAPI(svc ivsapi.Service) *ivsapi.API {
	return ivsapi.New(svc, nil, slog.New(slog.DiscardHandler))
}

func fullRoom() *parley.Room {
	return &parley.Room{Scope: scope, ID: roomID, Name: "lobby", MaximumMessageRate: 5, MaximumMessageLength: 200,
		MessageReviewHandler:    &parley.MessageReviewHandler{URI: lambda, FallbackResult: parley.ReviewDeny},
		LoggingConfigurationIDs: []string{configID}, Tags: map[string]string{"k": "v"}, CreateTime: t0, UpdateTime: t0.Add(time.Second)}
}

func bareRoom() *parley.Room {
	return &parley.Room{Scope: scope, ID: roomID, MaximumMessageRate: 10, MaximumMessageLength: 500, CreateTime: t0, UpdateTime: t0}
}

func config() *parley.LoggingConfiguration {
	return &parley.LoggingConfiguration{Scope: scope, ID: configID, Name: "logs", Destination: parley.Destination{S3Bucket: "bucket"},
		State: parley.LoggingActive, CreateTime: t0, UpdateTime: t0}
}

const (
	fullRoomJSON = `{"arn":"arn:aws:ivschat:us-east-1:123456789012:room/abcdEFGH1234","id":"abcdEFGH1234","name":"lobby",` +
		`"createTime":"2026-03-04T05:06:07.000Z","updateTime":"2026-03-04T05:06:08.000Z","maximumMessageRatePerSecond":5,` +
		`"maximumMessageLength":200,"messageReviewHandler":{"uri":"arn:aws:lambda:us-east-1:123456789012:function:f","fallbackResult":"DENY"},` +
		`"tags":{"k":"v"},"loggingConfigurationIdentifiers":["arn:aws:ivschat:us-east-1:123456789012:logging-configuration/ABcdef34ghIJ"]}`
	bareRoomJSON = `{"arn":"arn:aws:ivschat:us-east-1:123456789012:room/abcdEFGH1234","id":"abcdEFGH1234","name":"",` +
		`"createTime":"2026-03-04T05:06:07.000Z","updateTime":"2026-03-04T05:06:07.000Z","maximumMessageRatePerSecond":10,` +
		`"maximumMessageLength":500,"tags":{},"loggingConfigurationIdentifiers":[]}`
	configJSON = `{"arn":"arn:aws:ivschat:us-east-1:123456789012:logging-configuration/ABcdef34ghIJ","id":"ABcdef34ghIJ","name":"logs",` +
		`"createTime":"2026-03-04T05:06:07.000Z","updateTime":"2026-03-04T05:06:07.000Z","destinationConfiguration":{"s3":{"bucketName":"bucket"}},` +
		`"state":"ACTIVE","tags":{}}`
)

func ptr[T any](v T) *T { return &v }

// Ensure every operation is routed to its service method with its input
// translated, and answers with its modeled status and shape.
func TestOperations(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		// setup installs the one method the operation calls; it stores
		// what the method was called with in got.
		setup      func(f *fakeService, got *any)
		wantIn     any
		wantStatus int
		wantBody   string
	}{
		{"CreateRoom", "POST", "/CreateRoom",
			`{"name":"lobby","maximumMessageRatePerSecond":5,"maximumMessageLength":200,"messageReviewHandler":{"uri":"` + lambda + `","fallbackResult":"DENY"},` +
				`"tags":{"k":"v"},"loggingConfigurationIdentifiers":["` + configARN + `"]}`,
			func(f *fakeService, got *any) {
				f.CreateRoomFn = func(_ context.Context, in service.CreateRoomInput) (*parley.Room, error) {
					*got = in
					return fullRoom(), nil
				}
			},
			service.CreateRoomInput{Name: "lobby", MaximumMessageRate: 5, MaximumMessageLength: 200,
				MessageReviewHandler: &parley.MessageReviewHandler{URI: lambda, FallbackResult: parley.ReviewDeny}, Tags: map[string]string{"k": "v"},
				LoggingConfigurationIDs: []parley.ParsedARN{configP}},
			200, fullRoomJSON},
		{"CreateRoom empty body", "POST", "/CreateRoom", ``,
			func(f *fakeService, got *any) {
				f.CreateRoomFn = func(_ context.Context, in service.CreateRoomInput) (*parley.Room, error) {
					*got = in
					return bareRoom(), nil
				}
			},
			service.CreateRoomInput{LoggingConfigurationIDs: []parley.ParsedARN{}}, 200, bareRoomJSON},
		{"CreateRoom empty handler uri", "POST", "/CreateRoom", `{"messageReviewHandler":{"uri":""}}`,
			func(f *fakeService, got *any) {
				f.CreateRoomFn = func(_ context.Context, in service.CreateRoomInput) (*parley.Room, error) {
					*got = in
					return bareRoom(), nil
				}
			},
			service.CreateRoomInput{LoggingConfigurationIDs: []parley.ParsedARN{}}, 200, bareRoomJSON},
		{"GetRoom", "POST", "/GetRoom", `{"identifier":"` + roomARN + `"}`,
			func(f *fakeService, got *any) {
				f.GetRoomFn = func(_ context.Context, arn parley.ParsedARN) (*parley.Room, error) {
					*got = arn
					return fullRoom(), nil
				}
			},
			roomP, 200, fullRoomJSON},
		{"UpdateRoom", "POST", "/UpdateRoom",
			`{"identifier":"` + roomARN + `","name":"hall","maximumMessageRatePerSecond":100,"maximumMessageLength":1,"loggingConfigurationIdentifiers":[]}`,
			func(f *fakeService, got *any) {
				f.UpdateRoomFn = func(_ context.Context, arn parley.ParsedARN, in service.UpdateRoomInput) (*parley.Room, error) {
					*got = []any{arn, in}
					return fullRoom(), nil
				}
			},
			[]any{roomP, service.UpdateRoomInput{Name: ptr("hall"), MaximumMessageRate: ptr(100), MaximumMessageLength: ptr(1),
				LoggingConfigurationIDs: &[]parley.ParsedARN{}}},
			200, fullRoomJSON},
		{"UpdateRoom removes the handler", "POST", "/UpdateRoom", `{"identifier":"` + roomARN + `","messageReviewHandler":{}}`,
			func(f *fakeService, got *any) {
				f.UpdateRoomFn = func(_ context.Context, arn parley.ParsedARN, in service.UpdateRoomInput) (*parley.Room, error) {
					*got = []any{arn, in}
					return bareRoom(), nil
				}
			},
			[]any{roomP, service.UpdateRoomInput{MessageReviewHandler: &parley.MessageReviewHandler{}}}, 200, bareRoomJSON},
		{"UpdateRoom sets the handler", "POST", "/UpdateRoom", `{"identifier":"` + roomARN + `","messageReviewHandler":{"uri":"` + lambda + `"}}`,
			func(f *fakeService, got *any) {
				f.UpdateRoomFn = func(_ context.Context, arn parley.ParsedARN, in service.UpdateRoomInput) (*parley.Room, error) {
					*got = []any{arn, in}
					return bareRoom(), nil
				}
			},
			[]any{roomP, service.UpdateRoomInput{MessageReviewHandler: &parley.MessageReviewHandler{URI: lambda}}}, 200, bareRoomJSON},
		{"DeleteRoom", "POST", "/DeleteRoom", `{"identifier":"` + roomARN + `"}`,
			func(f *fakeService, got *any) {
				f.DeleteRoomFn = func(_ context.Context, arn parley.ParsedARN) error { *got = arn; return nil }
			},
			roomP, 204, ``},
		{"ListRooms", "POST", "/ListRooms",
			`{"name":"lobby","nextToken":"tok","maxResults":50,"messageReviewHandlerUri":"` + lambda + `","loggingConfigurationIdentifier":"` + configARN + `"}`,
			func(f *fakeService, got *any) {
				f.ListRoomsFn = func(_ context.Context, in service.ListRoomsInput) ([]*parley.Room, string, error) {
					*got = in
					return []*parley.Room{fullRoom(), bareRoom()}, "next", nil
				}
			},
			service.ListRoomsInput{Name: "lobby", MessageReviewHandlerURI: lambda, LoggingConfiguration: &configP, MaxResults: 50, NextToken: "tok"},
			200, `{"rooms":[{"arn":"arn:aws:ivschat:us-east-1:123456789012:room/abcdEFGH1234","id":"abcdEFGH1234","name":"lobby",` +
				`"createTime":"2026-03-04T05:06:07.000Z","updateTime":"2026-03-04T05:06:08.000Z",` +
				`"messageReviewHandler":{"uri":"arn:aws:lambda:us-east-1:123456789012:function:f","fallbackResult":"DENY"},"tags":{"k":"v"},` +
				`"loggingConfigurationIdentifiers":["arn:aws:ivschat:us-east-1:123456789012:logging-configuration/ABcdef34ghIJ"]},` +
				`{"arn":"arn:aws:ivschat:us-east-1:123456789012:room/abcdEFGH1234","id":"abcdEFGH1234","name":"",` +
				`"createTime":"2026-03-04T05:06:07.000Z","updateTime":"2026-03-04T05:06:07.000Z","tags":{},"loggingConfigurationIdentifiers":[]}],` +
				`"nextToken":"next"}`},
		{"ListRooms empty", "POST", "/ListRooms", `{}`,
			func(f *fakeService, got *any) {
				f.ListRoomsFn = func(_ context.Context, in service.ListRoomsInput) ([]*parley.Room, string, error) {
					*got = in
					return nil, "", nil
				}
			},
			service.ListRoomsInput{}, 200, `{"rooms":[]}`},
		{"CreateChatToken", "POST", "/CreateChatToken",
			`{"roomIdentifier":"` + roomARN + `","userId":"alice","capabilities":["SEND_MESSAGE","DISCONNECT_USER","DELETE_MESSAGE"],` +
				`"sessionDurationInMinutes":180,"attributes":{"a":"b"}}`,
			func(f *fakeService, got *any) {
				f.CreateChatTokenFn = func(_ context.Context, in service.CreateChatTokenInput) (string, *parley.ChatToken, error) {
					*got = in
					return "tok", &parley.ChatToken{TokenExpires: t0.Add(time.Hour), SessionExpires: t0.Add(3 * time.Hour)}, nil
				}
			},
			service.CreateChatTokenInput{Room: roomP, UserID: "alice", Capabilities: []parley.Capability{parley.CapSendMessage, parley.CapDisconnectUser,
				parley.CapDeleteMessage}, SessionDuration: 180 * time.Minute, Attributes: map[string]string{"a": "b"}},
			200, `{"sessionExpirationTime":"2026-03-04T08:06:07.000Z","token":"tok","tokenExpirationTime":"2026-03-04T06:06:07.000Z"}`},
		{"SendEvent", "POST", "/SendEvent", `{"roomIdentifier":"` + roomARN + `","eventName":"app:hello","attributes":{"a":"b"}}`,
			func(f *fakeService, got *any) {
				f.SendEventFn = func(_ context.Context, arn parley.ParsedARN, name string, attrs map[string]string) (string, error) {
					*got = []any{arn, name, attrs}
					return "EVENTid12345", nil
				}
			},
			[]any{roomP, "app:hello", map[string]string{"a": "b"}}, 200, `{"id":"EVENTid12345"}`},
		{"DeleteMessage", "POST", "/DeleteMessage", `{"roomIdentifier":"` + roomARN + `","id":"MSGid1234567","reason":"spam"}`,
			func(f *fakeService, got *any) {
				f.DeleteMessageFn = func(_ context.Context, arn parley.ParsedARN, id, reason string) (string, error) {
					*got = []any{arn, id, reason}
					return "EVENTid12345", nil
				}
			},
			[]any{roomP, "MSGid1234567", "spam"}, 200, `{"id":"EVENTid12345"}`},
		{"DisconnectUser", "POST", "/DisconnectUser", `{"roomIdentifier":"` + roomARN + `","userId":"alice","reason":"bye"}`,
			func(f *fakeService, got *any) {
				f.DisconnectUserFn = func(_ context.Context, arn parley.ParsedARN, user, reason string) error {
					*got = []any{arn, user, reason}
					return nil
				}
			},
			[]any{roomP, "alice", "bye"}, 200, `{}`},
		{"CreateLoggingConfiguration", "POST", "/CreateLoggingConfiguration",
			`{"name":"logs","destinationConfiguration":{"s3":{"bucketName":"bucket"}},"tags":{"k":"v"}}`,
			func(f *fakeService, got *any) {
				f.CreateLoggingConfigurationFn = func(_ context.Context, name string, dest parley.Destination, tags map[string]string) (*parley.LoggingConfiguration, error) {
					*got = []any{name, dest, tags}
					return config(), nil
				}
			},
			[]any{"logs", parley.Destination{S3Bucket: "bucket"}, map[string]string{"k": "v"}}, 200, configJSON},
		{"GetLoggingConfiguration", "POST", "/GetLoggingConfiguration", `{"identifier":"` + configARN + `"}`,
			func(f *fakeService, got *any) {
				f.GetLoggingConfigurationFn = func(_ context.Context, arn parley.ParsedARN) (*parley.LoggingConfiguration, error) {
					*got = arn
					c := config()
					c.Destination, c.Tags = parley.Destination{CloudWatchLogGroup: "group"}, map[string]string{"k": "v"}
					return c, nil
				}
			},
			configP, 200, strings.Replace(strings.Replace(configJSON, `{"s3":{"bucketName":"bucket"}}`, `{"cloudWatchLogs":{"logGroupName":"group"}}`, 1),
				`"tags":{}`, `"tags":{"k":"v"}`, 1)},
		{"UpdateLoggingConfiguration", "POST", "/UpdateLoggingConfiguration",
			`{"identifier":"` + configARN + `","name":"","destinationConfiguration":{"firehose":{"deliveryStreamName":"stream"}}}`,
			func(f *fakeService, got *any) {
				f.UpdateLoggingConfigurationFn = func(_ context.Context, arn parley.ParsedARN, name *string, dest *parley.Destination) (*parley.LoggingConfiguration, error) {
					*got = []any{arn, name, dest}
					c := config()
					c.Destination = parley.Destination{FirehoseStream: "stream"}
					return c, nil
				}
			},
			[]any{configP, ptr(""), &parley.Destination{FirehoseStream: "stream"}}, 200,
			strings.Replace(configJSON, `{"s3":{"bucketName":"bucket"}}`, `{"firehose":{"deliveryStreamName":"stream"}}`, 1)},
		{"UpdateLoggingConfiguration unchanged", "POST", "/UpdateLoggingConfiguration", `{"identifier":"` + configARN + `"}`,
			func(f *fakeService, got *any) {
				f.UpdateLoggingConfigurationFn = func(_ context.Context, arn parley.ParsedARN, name *string, dest *parley.Destination) (*parley.LoggingConfiguration, error) {
					*got = []any{arn, name, dest}
					return config(), nil
				}
			},
			[]any{configP, (*string)(nil), (*parley.Destination)(nil)}, 200, configJSON},
		{"DeleteLoggingConfiguration", "POST", "/DeleteLoggingConfiguration", `{"identifier":"` + configARN + `"}`,
			func(f *fakeService, got *any) {
				f.DeleteLoggingConfigurationFn = func(_ context.Context, arn parley.ParsedARN) error { *got = arn; return nil }
			},
			configP, 204, ``},
		{"ListLoggingConfigurations", "POST", "/ListLoggingConfigurations", `{"maxResults":1,"nextToken":"tok"}`,
			func(f *fakeService, got *any) {
				f.ListLoggingConfigurationsFn = func(_ context.Context, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
					*got = p
					return []*parley.LoggingConfiguration{config()}, "next", nil
				}
			},
			parley.Page{MaxResults: 1, NextToken: "tok"}, 200, `{"loggingConfigurations":[` + configJSON + `],"nextToken":"next"}`},
		{"ListLoggingConfigurations empty", "POST", "/ListLoggingConfigurations", `{}`,
			func(f *fakeService, got *any) {
				f.ListLoggingConfigurationsFn = func(_ context.Context, p parley.Page) ([]*parley.LoggingConfiguration, string, error) {
					*got = p
					return nil, "", nil
				}
			},
			parley.Page{}, 200, `{"loggingConfigurations":[]}`},
		{"ListTagsForResource", "GET", "/tags/" + strings.ReplaceAll(roomARN, "/", "%2F"), ``,
			func(f *fakeService, got *any) {
				f.TagsFn = func(_ context.Context, arn parley.ParsedARN) (map[string]string, error) {
					*got = arn
					return map[string]string{"k": "v"}, nil
				}
			},
			roomP, 200, `{"tags":{"k":"v"}}`},
		{"TagResource", "POST", "/tags/" + strings.ReplaceAll(configARN, "/", "%2F"), `{"tags":{"k":"v"}}`,
			func(f *fakeService, got *any) {
				f.TagResourceFn = func(_ context.Context, arn parley.ParsedARN, tags map[string]string) error {
					*got = []any{arn, tags}
					return nil
				}
			},
			[]any{configP, map[string]string{"k": "v"}}, 200, `{}`},
		{"UntagResource", "DELETE", "/tags/" + strings.ReplaceAll(roomARN, "/", "%2F") + "?tagKeys=a&tagKeys=b", ``,
			func(f *fakeService, got *any) {
				f.UntagResourceFn = func(_ context.Context, arn parley.ParsedARN, keys []string) error {
					*got = []any{arn, keys}
					return nil
				}
			},
			[]any{roomP, []string{"a", "b"}}, 200, `{}`},
		{"CreateBan", "POST", "/parley/v1/CreateBan", `{"roomIdentifier":"` + roomARN + `","userId":"troll","reason":"spam","durationInMinutes":10}`,
			func(f *fakeService, got *any) {
				f.CreateBanFn = func(_ context.Context, in service.CreateBanInput) (*parley.Ban, error) {
					*got = in
					return &parley.Ban{Scope: scope, RoomID: roomID, UserID: "troll", Reason: "spam", CreateTime: t0, ExpireTime: t0.Add(10 * time.Minute)}, nil
				}
			},
			service.CreateBanInput{Room: &roomP, UserID: "troll", Reason: "spam", Duration: 10 * time.Minute}, 200,
			`{"roomArn":"arn:aws:ivschat:us-east-1:123456789012:room/abcdEFGH1234","userId":"troll","reason":"spam",` +
				`"createTime":"2026-03-04T05:06:07.000Z","expireTime":"2026-03-04T05:16:07.000Z"}`},
		{"CreateBan every room", "POST", "/parley/v1/CreateBan", `{"userId":"troll","reason":"spam"}`,
			func(f *fakeService, got *any) {
				f.CreateBanFn = func(_ context.Context, in service.CreateBanInput) (*parley.Ban, error) {
					*got = in
					return &parley.Ban{Scope: scope, UserID: "troll", Reason: "spam", CreateTime: t0}, nil
				}
			},
			service.CreateBanInput{UserID: "troll", Reason: "spam"}, 200, `{"userId":"troll","reason":"spam","createTime":"2026-03-04T05:06:07.000Z"}`},
		{"DeleteBan", "POST", "/parley/v1/DeleteBan", `{"roomIdentifier":"` + roomARN + `","userId":"troll"}`,
			func(f *fakeService, got *any) {
				f.DeleteBanFn = func(_ context.Context, room *parley.ParsedARN, user string) error {
					*got = []any{room, user}
					return nil
				}
			},
			[]any{&roomP, "troll"}, 204, ``},
		{"ListBans", "POST", "/parley/v1/ListBans", `{"roomIdentifier":"` + roomARN + `","userId":"troll","maxResults":100,"nextToken":"tok"}`,
			func(f *fakeService, got *any) {
				f.ListBansFn = func(_ context.Context, in service.ListBansInput) ([]*parley.Ban, string, error) {
					*got = in
					return []*parley.Ban{{Scope: scope, UserID: "troll", Reason: "spam", CreateTime: t0}}, "next", nil
				}
			},
			service.ListBansInput{Room: &roomP, UserID: "troll", MaxResults: 100, NextToken: "tok"}, 200,
			`{"bans":[{"userId":"troll","reason":"spam","createTime":"2026-03-04T05:06:07.000Z"}],"nextToken":"next"}`},
		{"ListBans empty", "POST", "/parley/v1/ListBans", `{}`,
			func(f *fakeService, got *any) {
				f.ListBansFn = func(_ context.Context, in service.ListBansInput) ([]*parley.Ban, string, error) {
					*got = in
					return nil, "", nil
				}
			},
			service.ListBansInput{}, 200, `{"bans":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fakeService
			var got any
			tt.setup(&f, &got)
			w := serve(newFakeAPI(&f), tt.method, tt.target, tt.body)
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

// ivsError is an IVS Chat error body.
type ivsError struct {
	Type         string `json:"__type"`
	Message      string `json:"message"`
	Reason       string `json:"reason"`
	FieldList    []struct{ Name, Message string }
	ResourceID   *string `json:"resourceId"`
	ResourceType string  `json:"resourceType"`
	Limit        *int    `json:"limit"`
}

// wantError checks that w is an IVS error of typ with status, and returns its body.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) ivsError {
	t.Helper()
	var e ivsError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	if w.Code != status || w.Header().Get("X-Amzn-ErrorType") != typ || e.Type != typ || e.Message == "" {
		t.Fatalf("got %d %s %s, want %d %s with a message", w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body, status, typ)
	}
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("error headers %v, want JSON and a request ID", w.Header())
	}
	return e
}

// Ensure every constraint of the IVS Chat model is a ValidationException
// naming each broken member in fieldList, before the service is called.
func TestValidation(t *testing.T) {
	long := strings.Repeat("x", 129)
	tags51 := map[string]string{}
	for i := range 51 {
		tags51[strings.Repeat("k", i+1)] = "v"
	}
	tooMany, _ := json.Marshal(tags51)
	room := `"roomIdentifier":"` + roomARN + `"`
	id := `"identifier":"` + roomARN + `"`
	tests := []struct {
		target, body string
		wantFields   []string
	}{
		{"/CreateRoom", `{"name":"has space"}`, []string{"name"}},
		{"/CreateRoom", `{"name":"` + long + `"}`, []string{"name"}},
		{"/CreateRoom", `{"maximumMessageRatePerSecond":0}`, []string{"maximumMessageRatePerSecond"}},
		{"/CreateRoom", `{"maximumMessageRatePerSecond":101}`, []string{"maximumMessageRatePerSecond"}},
		{"/CreateRoom", `{"maximumMessageLength":0,"maximumMessageRatePerSecond":-1}`, []string{"maximumMessageRatePerSecond", "maximumMessageLength"}},
		{"/CreateRoom", `{"maximumMessageLength":501}`, []string{"maximumMessageLength"}},
		{"/CreateRoom", `{"messageReviewHandler":{"uri":"https://example.com"}}`, []string{"messageReviewHandler.uri"}},
		{"/CreateRoom", `{"messageReviewHandler":{"uri":"arn:aws:lambda:us-east-1:123456789012:function:` + strings.Repeat("f", 130) + `"}}`,
			[]string{"messageReviewHandler.uri"}},
		{"/CreateRoom", `{"messageReviewHandler":{"fallbackResult":"MAYBE"}}`, []string{"messageReviewHandler.fallbackResult"}},
		{"/CreateRoom", `{"tags":` + string(tooMany) + `}`, []string{"tags"}},
		{"/CreateRoom", `{"tags":{"aws:x":"y"}}`, []string{"tags"}},
		{"/CreateRoom", `{"tags":{"AWS:x":"y"}}`, []string{"tags"}},
		{"/CreateRoom", `{"tags":{"":"y"}}`, []string{"tags"}},
		{"/CreateRoom", `{"tags":{"k":"` + strings.Repeat("v", 257) + `"}}`, []string{"tags"}},
		{"/CreateRoom", `{"loggingConfigurationIdentifiers":["` + configARN + `","` + configARN + `","` + configARN + `","` + configARN + `"]}`,
			[]string{"loggingConfigurationIdentifiers"}},
		{"/CreateRoom", `{"loggingConfigurationIdentifiers":["` + roomARN + `"]}`, []string{"loggingConfigurationIdentifiers"}},
		{"/GetRoom", `{}`, []string{"identifier"}},
		{"/GetRoom", `{"identifier":"abcdEFGH1234"}`, []string{"identifier"}},
		{"/GetRoom", `{"identifier":"` + configARN + `"}`, []string{"identifier"}},
		{"/GetRoom", `{"identifier":"` + roomARN + strings.Repeat("x", 128) + `"}`, []string{"identifier"}},
		{"/GetRoom", `{"identifier":""}`, []string{"identifier"}},
		{"/UpdateRoom", `{"maximumMessageLength":0}`, []string{"identifier", "maximumMessageLength"}},
		{"/UpdateRoom", `{` + id + `,"name":"a b","maximumMessageRatePerSecond":0,"loggingConfigurationIdentifiers":["x"]}`,
			[]string{"name", "maximumMessageRatePerSecond", "loggingConfigurationIdentifiers"}},
		{"/DeleteRoom", `{"identifier":"` + configARN + `"}`, []string{"identifier"}},
		{"/ListRooms", `{"maxResults":51}`, []string{"maxResults"}},
		{"/ListRooms", `{"maxResults":0}`, []string{"maxResults"}},
		{"/ListRooms", `{"nextToken":"` + strings.Repeat("t", 1025) + `","name":"a b","messageReviewHandlerUri":"x","loggingConfigurationIdentifier":"` + roomARN + `"}`,
			[]string{"name", "nextToken", "messageReviewHandlerUri", "loggingConfigurationIdentifier"}},
		{"/CreateChatToken", `{}`, []string{"roomIdentifier", "userId"}},
		{"/CreateChatToken", `{` + room + `,"userId":"u","capabilities":["FLY"]}`, []string{"capabilities"}},
		{"/CreateChatToken", `{` + room + `,"userId":"u","sessionDurationInMinutes":181}`, []string{"sessionDurationInMinutes"}},
		{"/CreateChatToken", `{` + room + `,"userId":"u","sessionDurationInMinutes":0}`, []string{"sessionDurationInMinutes"}},
		{"/CreateChatToken", `{` + room + `,"userId":"` + long + `"}`, []string{"userId"}},
		{"/CreateChatToken", `{` + room + `,"userId":""}`, []string{"userId"}},
		{"/CreateChatToken", `{` + room + `,"userId":"u","attributes":{"k":"` + strings.Repeat("é", 600) + `"}}`, []string{"attributes"}},
		{"/SendEvent", `{` + room + `}`, []string{"eventName"}},
		{"/SendEvent", `{` + room + `,"eventName":"` + strings.Repeat("e", 101) + `"}`, []string{"eventName"}},
		{"/SendEvent", `{` + room + `,"eventName":"e","attributes":{"k":"` + strings.Repeat("v", 1024) + `"}}`, []string{"attributes"}},
		{"/DeleteMessage", `{` + room + `}`, []string{"id"}},
		{"/DeleteMessage", `{` + room + `,"id":"short"}`, []string{"id"}},
		{"/DeleteMessage", `{` + room + `,"id":"abcd-FGH1234"}`, []string{"id"}},
		{"/DeleteMessage", `{` + room + `,"id":"abcdEFGH1234","reason":"` + strings.Repeat("r", 257) + `"}`, []string{"reason"}},
		{"/DeleteMessage", `{` + room + `,"id":"abcdEFGH1234","reason":""}`, []string{"reason"}},
		{"/DisconnectUser", `{` + room + `,"userId":""}`, []string{"userId"}},
		{"/DisconnectUser", `{"userId":"u","reason":"` + strings.Repeat("r", 257) + `"}`, []string{"roomIdentifier", "reason"}},
		{"/CreateLoggingConfiguration", `{}`, []string{"destinationConfiguration"}},
		{"/CreateLoggingConfiguration", `{"destinationConfiguration":{}}`, []string{"destinationConfiguration"}},
		{"/CreateLoggingConfiguration", `{"destinationConfiguration":{"s3":{"bucketName":"UPPER"}}}`, []string{"destinationConfiguration.s3.bucketName"}},
		{"/CreateLoggingConfiguration", `{"destinationConfiguration":{"s3":{"bucketName":"ab"}}}`, []string{"destinationConfiguration.s3.bucketName"}},
		{"/CreateLoggingConfiguration", `{"destinationConfiguration":{"s3":{}}}`, []string{"destinationConfiguration.s3.bucketName"}},
		{"/CreateLoggingConfiguration", `{"destinationConfiguration":{"cloudWatchLogs":{"logGroupName":"a b"}}}`,
			[]string{"destinationConfiguration.cloudWatchLogs.logGroupName"}},
		{"/CreateLoggingConfiguration", `{"destinationConfiguration":{"firehose":{"deliveryStreamName":"` + strings.Repeat("f", 65) + `"}}}`,
			[]string{"destinationConfiguration.firehose.deliveryStreamName"}},
		{"/CreateLoggingConfiguration", `{"name":"a b","destinationConfiguration":{"s3":{"bucketName":"bucket"},"firehose":{"deliveryStreamName":"s"}},"tags":{"aws:k":"v"}}`,
			[]string{"name", "destinationConfiguration", "tags"}},
		{"/GetLoggingConfiguration", `{"identifier":"` + roomARN + `"}`, []string{"identifier"}},
		{"/UpdateLoggingConfiguration", `{"identifier":"` + configARN + `","destinationConfiguration":{"s3":{"bucketName":"x"}}}`,
			[]string{"destinationConfiguration.s3.bucketName"}},
		{"/UpdateLoggingConfiguration", `{"name":"` + long + `"}`, []string{"identifier", "name"}},
		{"/DeleteLoggingConfiguration", `{}`, []string{"identifier"}},
		{"/ListLoggingConfigurations", `{"maxResults":51,"nextToken":"` + strings.Repeat("t", 1025) + `"}`, []string{"nextToken", "maxResults"}},
		{"/parley/v1/CreateBan", `{"roomIdentifier":"nope","reason":"` + strings.Repeat("r", 257) + `","durationInMinutes":525601}`,
			[]string{"roomIdentifier", "userId", "reason", "durationInMinutes"}},
		{"/parley/v1/CreateBan", `{"userId":"u"}`, []string{"reason"}},
		{"/parley/v1/DeleteBan", `{"userId":""}`, []string{"userId"}},
		{"/parley/v1/ListBans", `{"maxResults":101,"nextToken":"` + strings.Repeat("x", 1025) + `","userId":""}`, []string{"userId", "maxResults", "nextToken"}},
	}
	api := newFakeAPI(&fakeService{})
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.target, "/")+" "+strings.Join(tt.wantFields, ","), func(t *testing.T) {
			e := wantError(t, serve(api, "POST", tt.target, tt.body), 400, "ValidationException")
			var names, msgs []string
			for _, f := range e.FieldList {
				if f.Message == "" {
					t.Fatalf("fieldList %+v: a member without a message", e.FieldList)
				}
				names = append(names, f.Name)
				msgs = append(msgs, f.Name+": "+f.Message)
			}
			if e.Reason != "FIELD_VALIDATION_FAILED" || !reflect.DeepEqual(names, tt.wantFields) {
				t.Fatalf("reason %s fieldList %v, want FIELD_VALIDATION_FAILED %v", e.Reason, names, tt.wantFields)
			}
			if want := strings.Join(msgs, "; "); e.Message != want {
				t.Fatalf("message %q, want %q", e.Message, want)
			}
		})
	}
}

// Ensure the messages name each limit as the IVS model states it.
func TestValidationMessages(t *testing.T) {
	api := newFakeAPI(&fakeService{})
	tests := []struct{ target, body, want string }{
		{"/CreateRoom", `{"name":"` + strings.Repeat("x", 129) + `"}`, "name: must have length less than or equal to 128"},
		{"/CreateRoom", `{"name":"a b"}`, "name: must satisfy pattern ^[a-zA-Z0-9-_]*$"},
		{"/CreateRoom", `{"maximumMessageLength":501}`, "maximumMessageLength: must be between 1 and 500"},
		{"/CreateRoom", `{"tags":{"aws:k":"v"}}`, "tags: tag keys must not begin with aws:"},
		{"/CreateRoom", `{"loggingConfigurationIdentifiers":["a","b","c","d"]}`, "loggingConfigurationIdentifiers: must have at most 3 items"},
		{"/CreateRoom", `{"messageReviewHandler":{"fallbackResult":"x"}}`, "messageReviewHandler.fallbackResult: must be one of ALLOW, DENY"},
		{"/GetRoom", `{}`, "identifier: is required"},
		{"/GetRoom", `{"identifier":"x"}`, "identifier: must satisfy pattern ^arn:aws:ivschat:[a-z0-9-]+:[0-9]+:room/[a-zA-Z0-9-]+$"},
		{"/GetRoom", `{"identifier":""}`, "identifier: must have length greater than or equal to 1"},
		{"/GetRoom", "{\"identifier\":\"\xff\"}", "identifier: must satisfy pattern ^arn:aws:ivschat:[a-z0-9-]+:[0-9]+:room/[a-zA-Z0-9-]+$"}, // JSON decoding makes it U+FFFD
		{"/GetRoom", `{"identifier":"\xff"}`, "request body is not valid JSON"},
		{"/CreateChatToken", `{"roomIdentifier":"` + roomARN + `","userId":"u","capabilities":["FLY"]}`,
			"capabilities: must be one of SEND_MESSAGE, DISCONNECT_USER, DELETE_MESSAGE"},
		{"/SendEvent", `{"roomIdentifier":"` + roomARN + `","eventName":"e","attributes":{"k":"` + strings.Repeat("v", 1024) + `"}}`,
			"attributes: must not exceed 1 KB in total"},
		{"/CreateLoggingConfiguration", `{"destinationConfiguration":{}}`, "destinationConfiguration: must have exactly one of s3, cloudWatchLogs, firehose"},
		{"/CreateRoom", `{"tags":` + func() string { b, _ := json.Marshal(manyTags(51)); return string(b) }() + `}`, "tags: must have at most 50 tags"},
	}
	for _, tt := range tests {
		if e := wantError(t, serve(api, "POST", tt.target, tt.body), 400, "ValidationException"); e.Message != tt.want {
			t.Errorf("%s %s: message %q, want %q", tt.target, tt.body, e.Message, tt.want)
		}
	}
}

func manyTags(n int) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags[strings.Repeat("k", i+1)] = "v"
	}
	return tags
}

// Ensure the limits hold at their bounds: the largest and smallest allowed
// values reach the service.
func TestValidationBounds(t *testing.T) {
	f := &fakeService{
		CreateRoomFn: func(context.Context, service.CreateRoomInput) (*parley.Room, error) { return bareRoom(), nil },
		CreateChatTokenFn: func(context.Context, service.CreateChatTokenInput) (string, *parley.ChatToken, error) {
			return "t", &parley.ChatToken{}, nil
		},
		SendEventFn: func(context.Context, parley.ParsedARN, string, map[string]string) (string, error) { return "id", nil },
	}
	api := newFakeAPI(f)
	tags, _ := json.Marshal(manyTags(50))
	room := `"roomIdentifier":"` + roomARN + `"`
	for _, tt := range []struct{ target, body string }{
		{"/CreateRoom", `{"name":"` + strings.Repeat("x", 128) + `","maximumMessageRatePerSecond":1,"maximumMessageLength":500,"tags":` + string(tags) + `}`},
		{"/CreateRoom", `{"name":"","maximumMessageRatePerSecond":100,"maximumMessageLength":1,"tags":{"` + strings.Repeat("k", 128) + `":"` + strings.Repeat("v", 256) + `"}}`},
		{"/CreateRoom", `{"loggingConfigurationIdentifiers":["` + configARN + `","` + configARN + `","` + configARN + `"]}`},
		{"/CreateChatToken", `{` + room + `,"userId":"` + strings.Repeat("é", 128) + `","sessionDurationInMinutes":1,"capabilities":[]}`},
		{"/SendEvent", `{` + room + `,"eventName":"` + strings.Repeat("e", 100) + `","attributes":{"k":"` + strings.Repeat("v", 1023) + `"}}`},
	} {
		if w := serve(api, "POST", tt.target, tt.body); w.Code != 200 {
			t.Errorf("%s %.80s: %d %s, want 200", tt.target, tt.body, w.Code, w.Body)
		}
	}
}

// Ensure requests the SDKs would never send still get a clear 400, never a
// 500: bad JSON, wrong types, unknown operations and oversized bodies.
func TestMalformedRequests(t *testing.T) {
	f := &fakeService{ListRoomsFn: func(context.Context, service.ListRoomsInput) ([]*parley.Room, string, error) { return nil, "", nil }}
	api := newFakeAPI(f)
	tests := []struct {
		name, method, target, body string
		wantReason, wantMessage    string
	}{
		{"bad JSON", "POST", "/CreateRoom", `{"name":`, "OTHER", "request body is not valid JSON"},
		{"not an object", "POST", "/CreateRoom", `[1,2]`, "OTHER", "request body must be a JSON object"},
		{"a string", "POST", "/CreateRoom", `"x"`, "OTHER", "request body must be a JSON object"},
		{"not UTF-8", "POST", "/CreateRoom", "\xff", "OTHER", "request body is not valid JSON"},
		{"trailing data", "POST", "/ListRooms", `{}{}`, "OTHER", "request body is not valid JSON"},
		{"wrong type", "POST", "/CreateRoom", `{"maximumMessageLength":"ten"}`, "FIELD_VALIDATION_FAILED", "maximumMessageLength must be of type number"},
		{"wrong nested type", "POST", "/CreateRoom", `{"messageReviewHandler":{"uri":1}}`, "FIELD_VALIDATION_FAILED", "messageReviewHandler.uri must be of type string"},
		{"wrong map type", "POST", "/CreateRoom", `{"tags":[]}`, "FIELD_VALIDATION_FAILED", "tags must be of type object"},
		{"wrong list type", "POST", "/CreateChatToken", `{"capabilities":"SEND_MESSAGE"}`, "FIELD_VALIDATION_FAILED", "capabilities must be of type array"},
		{"fraction", "POST", "/ListRooms", `{"maxResults":1.5}`, "FIELD_VALIDATION_FAILED", "maxResults must be of type number"},
		{"missing identifier", "POST", "/GetRoom", `{}`, "FIELD_VALIDATION_FAILED", "identifier: is required"},
		{"null identifier", "POST", "/GetRoom", `{"identifier":null}`, "FIELD_VALIDATION_FAILED", "identifier: is required"},
		{"unknown operation", "POST", "/CreateChannel", `{}`, "UNKNOWN_OPERATION", "Unknown operation POST /CreateChannel"},
		{"wrong method", "GET", "/CreateRoom", ``, "UNKNOWN_OPERATION", "Unknown operation GET /CreateRoom"},
		{"root", "POST", "/", ``, "UNKNOWN_OPERATION", "Unknown operation POST /"},
		{"tags without an ARN", "GET", "/tags/", ``, "UNKNOWN_OPERATION", "Unknown operation GET /tags/"},
		{"unknown extension", "POST", "/parley/v1/Ban", `{}`, "UNKNOWN_OPERATION", "Unknown operation POST /parley/v1/Ban"},
		{"oversized body", "POST", "/CreateRoom", `{"name":"` + strings.Repeat("a", awsproto.MaxBody) + `"}`, "OTHER", "request body exceeds 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := wantError(t, serve(api, tt.method, tt.target, tt.body), 400, "ValidationException")
			if e.Reason != tt.wantReason || e.Message != tt.wantMessage {
				t.Fatalf("reason %s message %q, want %s %q", e.Reason, e.Message, tt.wantReason, tt.wantMessage)
			}
		})
	}
	// Empty, blank and null bodies are {}.
	for _, body := range []string{``, " \n", `null`, `{"unknown":1}`} {
		if w := serve(api, "POST", "/ListRooms", body); w.Code != 200 {
			t.Errorf("ListRooms %q: %d %s, want 200", body, w.Code, w.Body)
		}
	}
	// A body of exactly MaxBody is read.
	pad := `{"nextToken":null` + strings.Repeat(" ", awsproto.MaxBody-len(`{"nextToken":null}`)) + `}`
	if w := serve(api, "POST", "/ListRooms", pad); w.Code != 200 {
		t.Errorf("ListRooms of MaxBody bytes: %d %s, want 200", w.Code, w.Body)
	}
}

// Ensure the tag operations validate their path label and tagKeys query.
func TestTagValidation(t *testing.T) {
	api := newFakeAPI(&fakeService{})
	esc := func(s string) string { return strings.ReplaceAll(s, "/", "%2F") }
	keys51 := "?tagKeys=" + strings.TrimSuffix(strings.Repeat("k&tagKeys=", 51), "&tagKeys=")
	tests := []struct {
		method, target, body string
		wantFields           []string
	}{
		{"GET", "/tags/" + esc("arn:aws:ivschat:us-east-1:1:channel/x"), ``, []string{"resourceArn"}},
		{"GET", "/tags/nope", ``, []string{"resourceArn"}},
		{"POST", "/tags/" + esc(roomARN), `{}`, []string{"tags"}},
		{"POST", "/tags/nope", `{"tags":{"aws:k":"v"}}`, []string{"resourceArn", "tags"}},
		{"DELETE", "/tags/" + esc(roomARN), ``, []string{"tagKeys"}},
		{"DELETE", "/tags/" + esc(roomARN) + "?tagKeys=" + strings.Repeat("k", 129), ``, []string{"tagKeys"}},
		{"DELETE", "/tags/" + esc(roomARN) + "?tagKeys=", ``, []string{"tagKeys"}},
		{"DELETE", "/tags/" + esc(roomARN) + keys51, ``, []string{"tagKeys"}},
		{"DELETE", "/tags/nope?tagKeys=a", ``, []string{"resourceArn"}},
		{"DELETE", "/tags/" + esc(roomARN) + "?tagKeys=%FF", ``, []string{"tagKeys"}},
	}
	for _, tt := range tests {
		e := wantError(t, serve(api, tt.method, tt.target, tt.body), 400, "ValidationException")
		var names []string
		for _, f := range e.FieldList {
			names = append(names, f.Name)
		}
		if !reflect.DeepEqual(names, tt.wantFields) {
			t.Errorf("%s %.60s: fieldList %v, want %v", tt.method, tt.target, names, tt.wantFields)
		}
	}
}

// Ensure each Kind of service error is rendered as the IVS Chat exception
// with its modeled status and members.
func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"not found", parley.NotFound(parley.ResourceRoom, roomID, "room %s not found", roomID), 404,
			`{"__type":"ResourceNotFoundException","message":"room abcdEFGH1234 not found","resourceId":"abcdEFGH1234","resourceType":"ROOM"}`},
		{"not found without a resource", parley.Errorf(parley.KindNotFound, "gone"), 404,
			`{"__type":"ResourceNotFoundException","message":"gone","resourceId":"","resourceType":"ROOM"}`},
		{"conflict", &parley.Error{Kind: parley.KindConflict, Message: "busy", Resource: &parley.Resource{Type: parley.ResourceLoggingConfiguration, ID: configID}}, 409,
			`{"__type":"ConflictException","message":"busy","resourceId":"ABcdef34ghIJ","resourceType":"ROOM"}`},
		{"quota", &parley.Error{Kind: parley.KindQuotaExceeded, Message: "too many rooms", Limit: 50000}, 402,
			`{"__type":"ServiceQuotaExceededException","message":"too many rooms","resourceId":"","resourceType":"ROOM","limit":50000}`},
		{"throttled", &parley.Error{Kind: parley.KindThrottled, Message: "slow down", Limit: 5, Resource: &parley.Resource{Type: parley.ResourceRoom, ID: "GetRoom"}}, 429,
			`{"__type":"ThrottlingException","message":"slow down","resourceId":"GetRoom","resourceType":"ROOM","limit":5}`},
		{"forbidden", parley.Errorf(parley.KindForbidden, "banned"), 403, `{"__type":"AccessDeniedException","message":"banned"}`},
		{"unauthenticated", parley.Errorf(parley.KindUnauthenticated, "who?"), 403, `{"__type":"AccessDeniedException","message":"who?"}`},
		{"invalid without fields", parley.Errorf(parley.KindInvalid, "bad token"), 400,
			`{"__type":"ValidationException","message":"bad token","reason":"OTHER"}`},
		{"invalid with a field", parley.Invalid("nextToken", "is not a token"), 400,
			`{"__type":"ValidationException","message":"nextToken is not a token","reason":"FIELD_VALIDATION_FAILED","fieldList":[{"name":"nextToken","message":"is not a token"}]}`},
		{"internal", parley.Internal("store", errors.New("disk on fire")), 500,
			`{"__type":"InternalServerException","message":"An internal error occurred."}`},
		{"unavailable", &parley.Error{Kind: parley.KindUnavailable, Message: "bus down"}, 500,
			`{"__type":"InternalServerException","message":"An internal error occurred."}`},
		{"not a parley error", errors.New("boom"), 500, `{"__type":"InternalServerException","message":"An internal error occurred."}`},
		{"unprocessable", parley.Errorf(parley.KindUnprocessable, "no"), 500, `{"__type":"InternalServerException","message":"no"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeService{GetRoomFn: func(context.Context, parley.ParsedARN) (*parley.Room, error) { return nil, tt.err }}
			w := serve(newFakeAPI(f), "POST", "/GetRoom", `{"identifier":"`+roomARN+`"}`)
			var typed struct {
				Type string `json:"__type"`
			}
			json.Unmarshal(w.Body.Bytes(), &typed)
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody || w.Header().Get("X-Amzn-ErrorType") != typed.Type {
				t.Fatalf("got %d %s %s, want %d %s", w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// Ensure every route names its operation for throttling, logs and metrics,
// and that a throttled call is refused before its body is read.
func TestOperationNames(t *testing.T) {
	ops := map[string]string{
		"POST /CreateRoom": "CreateRoom", "POST /GetRoom": "GetRoom", "POST /UpdateRoom": "UpdateRoom", "POST /DeleteRoom": "DeleteRoom",
		"POST /ListRooms": "ListRooms", "POST /CreateChatToken": "CreateChatToken", "POST /SendEvent": "SendEvent",
		"POST /DeleteMessage": "DeleteMessage", "POST /DisconnectUser": "DisconnectUser",
		"POST /CreateLoggingConfiguration": "CreateLoggingConfiguration", "POST /GetLoggingConfiguration": "GetLoggingConfiguration",
		"POST /UpdateLoggingConfiguration": "UpdateLoggingConfiguration", "POST /DeleteLoggingConfiguration": "DeleteLoggingConfiguration",
		"POST /ListLoggingConfigurations": "ListLoggingConfigurations", "GET /tags/x": "ListTagsForResource", "POST /tags/x": "TagResource",
		"DELETE /tags/x": "UntagResource", "POST /parley/v1/CreateBan": "CreateBan", "POST /parley/v1/DeleteBan": "DeleteBan",
		"POST /parley/v1/ListBans": "ListBans",
	}
	for route, op := range ops {
		method, path, _ := strings.Cut(route, " ")
		l := &apitest.Limiter{Err: &parley.Error{Kind: parley.KindThrottled, Message: "Rate exceeded for " + op, Limit: 5,
			Resource: &parley.Resource{Type: parley.ResourceRoom, ID: op}}}
		api := ivsapi.New(&fakeService{}, l, slog.New(slog.DiscardHandler))
		r := httptest.NewRequest(method, "http://parley"+path, apitest.Unread{T: t})
		r = apitest.Request(r, apitest.Principal)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		e := wantError(t, w, 429, "ThrottlingException")
		if l.API != "ivschat" || l.Op != op || awsproto.InfoFrom(r.Context()).Op != op {
			t.Errorf("%s: limiter asked for %s %s, info op %q, want ivschat %s", route, l.API, l.Op, awsproto.InfoFrom(r.Context()).Op, op)
		}
		if e.Limit == nil || *e.Limit != 5 || e.ResourceID == nil || *e.ResourceID != op {
			t.Errorf("%s: %s, want limit 5 and resourceId %s", route, w.Body, op)
		}
	}
}

// Ensure the response carries the request's ID, which the server's logs carry too.
func TestRequestID(t *testing.T) {
	f := &fakeService{ListRoomsFn: func(context.Context, service.ListRoomsInput) ([]*parley.Room, string, error) { return nil, "", nil }}
	r := apitest.Request(httptest.NewRequest("POST", "http://parley/ListRooms", nil), apitest.Principal)
	w := httptest.NewRecorder()
	newFakeAPI(f).ServeHTTP(w, r)
	info := awsproto.InfoFrom(r.Context())
	if w.Header().Get("x-amzn-RequestId") != info.ID || info.Status != 200 || info.Op != "ListRooms" {
		t.Fatalf("request ID %q status %d op %q, want %q 200 ListRooms", w.Header().Get("x-amzn-RequestId"), info.Status, info.Op, info.ID)
	}
}
