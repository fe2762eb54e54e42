package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
)

func roomARN(id string) string { return "arn:aws:ivschat:us-east-1:" + testAccount + ":room/" + id }

// Ensure a room goes through its whole life as the IVS Chat API describes it.
func TestRoomLifecycle(t *testing.T) {
	m := MustRunMain(t)
	c := IVS(m)

	created := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom")
	if got := aws.ToString(created.Id); len(got) != 12 || aws.ToString(created.Arn) != roomARN(got) {
		t.Fatalf("CreateRoom id=%q arn=%q", got, aws.ToString(created.Arn))
	}
	if aws.ToInt32(created.MaximumMessageLength) != 500 || aws.ToInt32(created.MaximumMessageRatePerSecond) != 10 {
		t.Fatalf("defaults: length=%d rate=%d, want 500 and 10", aws.ToInt32(created.MaximumMessageLength), aws.ToInt32(created.MaximumMessageRatePerSecond))
	}
	if created.CreateTime == nil || !created.CreateTime.Equal(*created.UpdateTime) || time.Since(*created.CreateTime) > time.Minute {
		t.Fatalf("times: create=%v update=%v", created.CreateTime, created.UpdateTime)
	}
	if created.Tags == nil || created.LoggingConfigurationIdentifiers == nil || created.MessageReviewHandler != nil {
		t.Fatalf("CreateRoom tags=%v configs=%v handler=%v, want {} [] and none", created.Tags, created.LoggingConfigurationIdentifiers, created.MessageReviewHandler)
	}

	got := must(c.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: created.Arn}))(t, "GetRoom")
	if aws.ToString(got.Id) != aws.ToString(created.Id) || !got.CreateTime.Equal(*created.CreateTime) {
		t.Fatalf("GetRoom = %+v", got)
	}

	time.Sleep(2 * time.Millisecond) // so updateTime moves on at millisecond resolution
	lambda := "arn:aws:lambda:us-east-1:123456789012:function:review"
	updated := must(c.UpdateRoom(ctx(), &ivschat.UpdateRoomInput{Identifier: created.Arn, Name: aws.String("lobby"),
		MaximumMessageLength: aws.Int32(100), MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String(lambda), FallbackResult: types.FallbackResultDeny}}))(t, "UpdateRoom")
	if aws.ToString(updated.Name) != "lobby" || aws.ToInt32(updated.MaximumMessageLength) != 100 || aws.ToInt32(updated.MaximumMessageRatePerSecond) != 10 ||
		aws.ToString(updated.MessageReviewHandler.Uri) != lambda || updated.MessageReviewHandler.FallbackResult != types.FallbackResultDeny {
		t.Fatalf("UpdateRoom = %+v", updated)
	}
	if !updated.UpdateTime.After(*created.UpdateTime) || !updated.CreateTime.Equal(*created.CreateTime) {
		t.Fatalf("UpdateRoom times: create=%v update=%v", updated.CreateTime, updated.UpdateTime)
	}
	removed := must(c.UpdateRoom(ctx(), &ivschat.UpdateRoomInput{Identifier: created.Arn,
		MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String("")}}))(t, "UpdateRoom(remove handler)")
	if removed.MessageReviewHandler != nil || aws.ToString(removed.Name) != "lobby" {
		t.Fatalf("UpdateRoom(uri \"\") handler = %+v, name = %q", removed.MessageReviewHandler, aws.ToString(removed.Name))
	}

	list := must(c.ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms")
	if len(list.Rooms) != 1 || aws.ToString(list.Rooms[0].Name) != "lobby" || list.NextToken != nil {
		t.Fatalf("ListRooms = %+v", list)
	}

	must(c.DeleteRoom(ctx(), &ivschat.DeleteRoomInput{Identifier: created.Arn}))(t, "DeleteRoom")
	_, err := c.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: created.Arn})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != aws.ToString(created.Id) || nf.ResourceType != types.ResourceTypeRoom {
		t.Fatalf("GetRoom(deleted) err = %v, want ResourceNotFoundException for %s", err, aws.ToString(created.Id))
	}
	_, err = c.DeleteRoom(ctx(), &ivschat.DeleteRoomInput{Identifier: created.Arn})
	if !errors.As(err, &nf) {
		t.Fatalf("DeleteRoom(deleted) err = %v, want ResourceNotFoundException", err)
	}
}

// Ensure DeleteRoom and DeleteLoggingConfiguration answer 204 with no body, as modeled.
func TestDeleteStatus(t *testing.T) {
	m := MustRunMain(t)
	room := must(IVS(m).CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom")
	resp := signedRequest(t, m, "POST", "/DeleteRoom", []byte(`{"identifier":"`+aws.ToString(room.Arn)+`"}`), "ivschat")
	if resp.Status != http.StatusNoContent || len(resp.Body) != 0 || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("DeleteRoom: %d %q request-id=%q, want 204, empty body and a request id", resp.Status, resp.Body, resp.Header.Get("x-amzn-RequestId"))
	}
	cfg := must(IVS(m).CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{
		DestinationConfiguration: &types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String("my-bucket")}}}))(t, "CreateLoggingConfiguration")
	resp = signedRequest(t, m, "POST", "/DeleteLoggingConfiguration", []byte(`{"identifier":"`+aws.ToString(cfg.Arn)+`"}`), "ivschat")
	if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("DeleteLoggingConfiguration: %d %q, want 204 and no body", resp.Status, resp.Body)
	}
}

// Ensure every constraint the IVS model sets is enforced by the server with
// a ValidationException naming the field, since the SDKs check almost nothing.
func TestValidation(t *testing.T) {
	m := MustRunMain(t)
	c := IVS(m)
	room := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom")
	long := strings.Repeat("x", 129)
	tooManyTags := map[string]string{}
	for i := 0; i < 51; i++ {
		tooManyTags[fmt.Sprint("k", i)] = "v"
	}
	bigAttrs := map[string]string{"k": strings.Repeat("é", 600)} // 1200 bytes in UTF-8
	s3 := func(b string) types.DestinationConfiguration {
		return &types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String(b)}}
	}
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"CreateRoom name pattern", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{Name: aws.String("has space")})
			return err
		}, "name"},
		{"CreateRoom name length", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{Name: aws.String(long)})
			return err
		}, "name"},
		{"CreateRoom rate 0", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{MaximumMessageRatePerSecond: aws.Int32(0)})
			return err
		}, "maximumMessageRatePerSecond"},
		{"CreateRoom rate 101", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{MaximumMessageRatePerSecond: aws.Int32(101)})
			return err
		}, "maximumMessageRatePerSecond"},
		{"CreateRoom length 501", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{MaximumMessageLength: aws.Int32(501)})
			return err
		}, "maximumMessageLength"},
		{"CreateRoom handler uri", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String("https://example.com")}})
			return err
		}, "messageReviewHandler.uri"},
		{"CreateRoom handler fallback", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{MessageReviewHandler: &types.MessageReviewHandler{FallbackResult: "MAYBE"}})
			return err
		}, "messageReviewHandler.fallbackResult"},
		{"CreateRoom 51 tags", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{Tags: tooManyTags})
			return err
		}, "tags"},
		{"CreateRoom aws: tag", func() error {
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{Tags: map[string]string{"aws:x": "y"}})
			return err
		}, "tags"},
		{"CreateRoom 4 logging configurations", func() error {
			arn := "arn:aws:ivschat:us-east-1:" + testAccount + ":logging-configuration/ABcdef34ghIJ"
			_, err := c.CreateRoom(ctx(), &ivschat.CreateRoomInput{LoggingConfigurationIdentifiers: []string{arn, arn, arn, arn}})
			return err
		}, "loggingConfigurationIdentifiers"},
		{"GetRoom not an ARN", func() error {
			_, err := c.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: aws.String("abcdEFGH1234")})
			return err
		}, "identifier"},
		{"GetRoom logging ARN", func() error {
			_, err := c.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: aws.String("arn:aws:ivschat:us-east-1:" + testAccount + ":logging-configuration/ABcdef34ghIJ")})
			return err
		}, "identifier"},
		{"UpdateRoom length 0", func() error {
			_, err := c.UpdateRoom(ctx(), &ivschat.UpdateRoomInput{Identifier: room.Arn, MaximumMessageLength: aws.Int32(0)})
			return err
		}, "maximumMessageLength"},
		{"ListRooms maxResults 51", func() error {
			_, err := c.ListRooms(ctx(), &ivschat.ListRoomsInput{MaxResults: aws.Int32(51)})
			return err
		}, "maxResults"},
		{"ListRooms bad token", func() error {
			_, err := c.ListRooms(ctx(), &ivschat.ListRoomsInput{NextToken: aws.String("nonsense")})
			return err
		}, "nextToken"},
		{"CreateChatToken capability", func() error {
			_, err := c.CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("u"), Capabilities: []types.ChatTokenCapability{"FLY"}})
			return err
		}, "capabilities"},
		{"CreateChatToken session 181", func() error {
			_, err := c.CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("u"), SessionDurationInMinutes: aws.Int32(181)})
			return err
		}, "sessionDurationInMinutes"},
		{"CreateChatToken userId too long", func() error {
			_, err := c.CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String(long)})
			return err
		}, "userId"},
		{"CreateChatToken attributes 1 KB", func() error {
			_, err := c.CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("u"), Attributes: bigAttrs})
			return err
		}, "attributes"},
		{"SendEvent name too long", func() error {
			_, err := c.SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String(strings.Repeat("e", 101))})
			return err
		}, "eventName"},
		{"DeleteMessage id length", func() error {
			_, err := c.DeleteMessage(ctx(), &ivschat.DeleteMessageInput{RoomIdentifier: room.Arn, Id: aws.String("short")})
			return err
		}, "id"},
		{"DeleteMessage reason length", func() error {
			_, err := c.DeleteMessage(ctx(), &ivschat.DeleteMessageInput{RoomIdentifier: room.Arn, Id: aws.String("abcdEFGH1234"), Reason: aws.String(strings.Repeat("r", 257))})
			return err
		}, "reason"},
		{"DisconnectUser empty user", func() error {
			_, err := c.DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("")})
			return err
		}, "userId"},
		{"CreateLoggingConfiguration bucket", func() error {
			_, err := c.CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: s3("UPPER")})
			return err
		}, "destinationConfiguration.s3.bucketName"},
		{"TagResource bad ARN", func() error {
			_, err := c.TagResource(ctx(), &ivschat.TagResourceInput{ResourceArn: aws.String("arn:aws:ivschat:us-east-1:1:channel/x"), Tags: map[string]string{"a": "b"}})
			return err
		}, "resourceArn"},
		{"UntagResource long key", func() error {
			_, err := c.UntagResource(ctx(), &ivschat.UntagResourceInput{ResourceArn: room.Arn, TagKeys: []string{long}})
			return err
		}, "tagKeys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ve *types.ValidationException
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want ValidationException", err)
			}
			if ve.Reason != types.ValidationExceptionReasonFieldValidationFailed {
				t.Fatalf("reason = %q, want FIELD_VALIDATION_FAILED", ve.Reason)
			}
			if len(ve.FieldList) == 0 || aws.ToString(ve.FieldList[0].Name) != tt.field || aws.ToString(ve.FieldList[0].Message) == "" {
				t.Fatalf("fieldList = %+v, want %s first", ve.FieldList, tt.field)
			}
		})
	}
}

// Ensure requests the SDKs would never send still get a clear 400, never a 500 or a hang.
func TestMalformedRequests(t *testing.T) {
	m := MustRunMain(t)
	tests := []struct {
		name, method, path, body, wantReason string
	}{
		{"bad JSON", "POST", "/CreateRoom", `{"name":`, "OTHER"},
		{"not an object", "POST", "/CreateRoom", `[1,2]`, "OTHER"},
		{"wrong type", "POST", "/CreateRoom", `{"maximumMessageLength":"ten"}`, "FIELD_VALIDATION_FAILED"},
		{"missing identifier", "POST", "/GetRoom", `{}`, "FIELD_VALIDATION_FAILED"},
		{"unknown operation", "POST", "/CreateChannel", `{}`, "UNKNOWN_OPERATION"},
		{"wrong method", "GET", "/CreateRoom", ``, "UNKNOWN_OPERATION"},
		{"oversized body", "POST", "/CreateRoom", `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, "OTHER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := signedRequest(t, m, tt.method, tt.path, []byte(tt.body), "ivschat")
			var body struct{ Type, Message, Reason string }
			json.Unmarshal(resp.Body, &body)
			var typed struct {
				Type string `json:"__type"`
			}
			json.Unmarshal(resp.Body, &typed)
			if resp.Status != 400 || resp.Header.Get("X-Amzn-Errortype") != "ValidationException" || typed.Type != "ValidationException" || body.Reason != tt.wantReason || body.Message == "" {
				t.Fatalf("got %d %s %s, want 400 ValidationException reason %s", resp.Status, resp.Header.Get("X-Amzn-Errortype"), resp.Body, tt.wantReason)
			}
		})
	}
}

// Ensure the Go paginator walks every room once, newest first.
func TestListRoomsPagination(t *testing.T) {
	m := MustRunMain(t)
	c := IVS(m)
	var want []string
	for i := 0; i < 7; i++ {
		r := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{Name: aws.String(fmt.Sprint("room", i))}))(t, "CreateRoom")
		want = append([]string{aws.ToString(r.Id)}, want...)
		time.Sleep(2 * time.Millisecond)
	}
	var got []string
	pages := 0
	p := ivschat.NewListRoomsPaginator(c, &ivschat.ListRoomsInput{MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page := must(p.NextPage(ctx()))(t, "ListRooms page")
		pages++
		for _, r := range page.Rooms {
			got = append(got, aws.ToString(r.Id))
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages: %v, want 3 pages: %v", pages, got, want)
	}
	named := must(c.ListRooms(ctx(), &ivschat.ListRoomsInput{Name: aws.String("room3")}))(t, "ListRooms(name)")
	if len(named.Rooms) != 1 || aws.ToString(named.Rooms[0].Name) != "room3" {
		t.Fatalf("ListRooms(name=room3) = %+v", named.Rooms)
	}
}

func TestLoggingConfigurations(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.LoggingQuota = 3 })
	c := IVS(m)
	dests := []types.DestinationConfiguration{
		&types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String("chat-logs")}},
		&types.DestinationConfigurationMemberCloudWatchLogs{Value: types.CloudWatchLogsDestinationConfiguration{LogGroupName: aws.String("/ivs/chat")}},
		&types.DestinationConfigurationMemberFirehose{Value: types.FirehoseDestinationConfiguration{DeliveryStreamName: aws.String("stream_1")}},
	}
	var arns []string
	for i, d := range dests {
		out := must(c.CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{
			Name: aws.String(fmt.Sprint("cfg", i)), DestinationConfiguration: d, Tags: map[string]string{"n": fmt.Sprint(i)}}))(t, "CreateLoggingConfiguration")
		if out.State != types.CreateLoggingConfigurationStateActive || fmt.Sprintf("%T", out.DestinationConfiguration) != fmt.Sprintf("%T", d) {
			t.Fatalf("CreateLoggingConfiguration = state %q destination %T", out.State, out.DestinationConfiguration)
		}
		arns = append(arns, aws.ToString(out.Arn))
	}
	_, err := c.CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: dests[0]})
	var q *types.ServiceQuotaExceededException
	if !errors.As(err, &q) || q.Limit != 3 {
		t.Fatalf("CreateLoggingConfiguration over quota: %v, want ServiceQuotaExceededException limit 3", err)
	}

	got := must(c.GetLoggingConfiguration(ctx(), &ivschat.GetLoggingConfigurationInput{Identifier: aws.String(arns[1])}))(t, "GetLoggingConfiguration")
	if lg, ok := got.DestinationConfiguration.(*types.DestinationConfigurationMemberCloudWatchLogs); !ok || aws.ToString(lg.Value.LogGroupName) != "/ivs/chat" || got.Tags["n"] != "1" {
		t.Fatalf("GetLoggingConfiguration = %+v", got)
	}
	upd := must(c.UpdateLoggingConfiguration(ctx(), &ivschat.UpdateLoggingConfigurationInput{Identifier: aws.String(arns[1]), DestinationConfiguration: dests[0]}))(t, "UpdateLoggingConfiguration")
	if _, ok := upd.DestinationConfiguration.(*types.DestinationConfigurationMemberS3); !ok || aws.ToString(upd.Name) != "cfg1" {
		t.Fatalf("UpdateLoggingConfiguration = %+v", upd)
	}

	room := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{LoggingConfigurationIdentifiers: arns[:2]}))(t, "CreateRoom")
	if strings.Join(room.LoggingConfigurationIdentifiers, ",") != strings.Join(arns[:2], ",") {
		t.Fatalf("room configs = %v, want %v", room.LoggingConfigurationIdentifiers, arns[:2])
	}
	byConfig := must(c.ListRooms(ctx(), &ivschat.ListRoomsInput{LoggingConfigurationIdentifier: aws.String(arns[0])}))(t, "ListRooms(config)")
	if len(byConfig.Rooms) != 1 {
		t.Fatalf("ListRooms(loggingConfigurationIdentifier) = %d rooms, want 1", len(byConfig.Rooms))
	}
	// Deleting a configuration detaches it from the rooms that use it.
	must(c.DeleteLoggingConfiguration(ctx(), &ivschat.DeleteLoggingConfigurationInput{Identifier: aws.String(arns[0])}))(t, "DeleteLoggingConfiguration")
	after := must(c.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: room.Arn}))(t, "GetRoom")
	if strings.Join(after.LoggingConfigurationIdentifiers, ",") != arns[1] {
		t.Fatalf("after delete, room configs = %v, want [%s]", after.LoggingConfigurationIdentifiers, arns[1])
	}
	_, err = c.CreateRoom(ctx(), &ivschat.CreateRoomInput{LoggingConfigurationIdentifiers: arns[:1]})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("CreateRoom with deleted config: %v, want ResourceNotFoundException", err)
	}

	list := must(c.ListLoggingConfigurations(ctx(), &ivschat.ListLoggingConfigurationsInput{MaxResults: aws.Int32(1)}))(t, "ListLoggingConfigurations")
	if len(list.LoggingConfigurations) != 1 || list.NextToken == nil {
		t.Fatalf("ListLoggingConfigurations page 1 = %d items, next %v", len(list.LoggingConfigurations), list.NextToken)
	}
	list = must(c.ListLoggingConfigurations(ctx(), &ivschat.ListLoggingConfigurationsInput{MaxResults: aws.Int32(1), NextToken: list.NextToken}))(t, "ListLoggingConfigurations")
	if len(list.LoggingConfigurations) != 1 || list.NextToken != nil {
		t.Fatalf("ListLoggingConfigurations page 2 = %d items, next %v", len(list.LoggingConfigurations), list.NextToken)
	}
}

// Ensure tags work on both resource kinds through the percent-encoded ARN path.
func TestTags(t *testing.T) {
	m := MustRunMain(t)
	c := IVS(m)
	room := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{Tags: map[string]string{"team": "a"}}))(t, "CreateRoom")
	cfg := must(c.CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{
		DestinationConfiguration: &types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String("b-1")}}}))(t, "CreateLoggingConfiguration")
	for _, arn := range []*string{room.Arn, cfg.Arn} {
		must(c.TagResource(ctx(), &ivschat.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"env": "dev", "key with space": "v/1"}}))(t, "TagResource")
		must(c.UntagResource(ctx(), &ivschat.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team", "absent"}}))(t, "UntagResource")
		got := must(c.ListTagsForResource(ctx(), &ivschat.ListTagsForResourceInput{ResourceArn: arn}))(t, "ListTagsForResource")
		if len(got.Tags) != 2 || got.Tags["env"] != "dev" || got.Tags["key with space"] != "v/1" {
			t.Fatalf("tags of %s = %v", aws.ToString(arn), got.Tags)
		}
	}
	many := map[string]string{}
	for i := 0; i < 49; i++ {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err := c.TagResource(ctx(), &ivschat.TagResourceInput{ResourceArn: room.Arn, Tags: many}) // 2 + 49 > 50
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("TagResource past 50 tags: %v, want ValidationException", err)
	}
	_, err = c.ListTagsForResource(ctx(), &ivschat.ListTagsForResourceInput{ResourceArn: aws.String(roomARN("missing00000"))})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != "missing00000" {
		t.Fatalf("ListTagsForResource(missing) = %v, want ResourceNotFoundException", err)
	}
}

// Ensure a chat token is bound to what was asked and expires as reported.
func TestCreateChatToken(t *testing.T) {
	m := MustRunMain(t)
	c := IVS(m)
	room := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom")
	before := time.Now().Add(-time.Second)
	out := must(c.CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("user-42"),
		Capabilities:             []types.ChatTokenCapability{types.ChatTokenCapabilitySendMessage, types.ChatTokenCapabilityDeleteMessage, types.ChatTokenCapabilitySendMessage},
		SessionDurationInMinutes: aws.Int32(30), Attributes: map[string]string{"displayName": "Ada"}}))(t, "CreateChatToken")
	if d := out.SessionExpirationTime.Sub(before); d < 30*time.Minute || d > 30*time.Minute+5*time.Second {
		t.Fatalf("sessionExpirationTime %v is %v after the call, want 30m", out.SessionExpirationTime, d)
	}
	if out.TokenExpirationTime.After(*out.SessionExpirationTime) || !out.TokenExpirationTime.After(before) {
		t.Fatalf("tokenExpirationTime %v, session %v", out.TokenExpirationTime, out.SessionExpirationTime)
	}
	tok := aws.ToString(out.Token)
	for _, r := range tok {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			t.Fatalf("token has %q, not base64url", r)
		}
	}
	key, err := m.Store.Secret(ctx(), "chat-token-key", nil)
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := chattoken.NewSealer(key)
	grant, err := sealer.Open(tok)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if grant.RoomID != aws.ToString(room.Id) || grant.UserID != "user-42" || grant.Attributes["displayName"] != "Ada" ||
		len(grant.Capabilities) != 2 || !grant.Can(parley.CapDeleteMessage) || grant.Can(parley.CapDisconnectUser) ||
		!grant.SessionExpires.Equal(*out.SessionExpirationTime) || !grant.TokenExpires.Equal(*out.TokenExpirationTime) {
		t.Fatalf("grant = %+v", grant)
	}
	_, err = c.CreateChatToken(ctx(), &ivschat.CreateChatTokenInput{RoomIdentifier: aws.String(roomARN("missing00000")), UserId: aws.String("u")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("CreateChatToken(missing room) = %v, want ResourceNotFoundException", err)
	}
}

// Ensure SendEvent and DeleteMessage answer as modeled and put their events
// on the bus for the room's connections (what the sockets then receive is
// tested in ws_test.go).
func TestRoomEventsReachTheBus(t *testing.T) {
	m := MustRunMain(t)
	c := IVS(m)
	room := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{}))(t, "CreateRoom")
	events := make(chan parley.Event, 10)
	cancel, err := m.Bus.Subscribe(ctx(), parley.RoomSubject(parley.Scope{AccountID: testAccount, Region: testRegion}, aws.ToString(room.Id)),
		func(ev parley.Event) { events <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	next := func() parley.Event {
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event on the bus")
		}
		return parley.Event{}
	}

	sent := must(c.SendEvent(ctx(), &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("app:poll"), Attributes: map[string]string{"q": "?"}}))(t, "SendEvent")
	if ev := next(); ev.Name != "app:poll" || ev.ID != aws.ToString(sent.Id) || ev.Attributes["q"] != "?" {
		t.Fatalf("SendEvent event = %+v, id %s", ev, aws.ToString(sent.Id))
	}
	del := must(c.DeleteMessage(ctx(), &ivschat.DeleteMessageInput{RoomIdentifier: room.Arn, Id: aws.String("abcdEFGH1234"), Reason: aws.String("spam")}))(t, "DeleteMessage")
	if ev := next(); ev.Name != "aws:DELETE_MESSAGE" || ev.ID != aws.ToString(del.Id) || ev.Attributes["MessageId"] != "abcdEFGH1234" ||
		ev.Attributes["MessageID"] != "abcdEFGH1234" || ev.Attributes["Reason"] != "spam" {
		t.Fatalf("DeleteMessage event = %+v", ev)
	}
	_, err = c.DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: aws.String(roomARN("missing00000")), UserId: aws.String("u")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DisconnectUser(missing room) = %v, want ResourceNotFoundException", err)
	}
}
