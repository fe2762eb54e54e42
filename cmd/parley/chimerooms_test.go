package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/chime/types"
)

func chimeRoom(t *testing.T, m *Main, acc, name string) string {
	t.Helper()
	return aws.ToString(must(Chime(m).CreateRoom(ctx(), &chime.CreateRoomInput{AccountId: aws.String(acc), Name: aws.String(name)}))(t, "CreateRoom").Room.RoomId)
}

func join(t *testing.T, m *Main, acc, room, member string) {
	t.Helper()
	must(Chime(m).CreateRoomMembership(ctx(), &chime.CreateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: aws.String(member)}))(t, "CreateRoomMembership")
}

func TestChimeRoomsAndMemberships(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	u1, u2 := registeredUser(t, m, acc, "u1@example.com"), registeredUser(t, m, acc, "u2@example.com")

	in := &chime.CreateRoomInput{AccountId: aws.String(acc), Name: aws.String("general"), ClientRequestToken: aws.String("tok-123")}
	r1 := must(c.CreateRoom(ctx(), in))(t, "CreateRoom").Room
	again := must(c.CreateRoom(ctx(), in))(t, "CreateRoom again").Room
	if aws.ToString(again.RoomId) != aws.ToString(r1.RoomId) || !strings.HasPrefix(aws.ToString(r1.CreatedBy), "arn:aws:iam::"+testAccount+":user/") {
		t.Fatalf("idempotent CreateRoom: %+v then %+v", r1, again)
	}
	room := aws.ToString(r1.RoomId)
	other := chimeRoom(t, m, acc, "random")

	mem := must(c.CreateRoomMembership(ctx(), &chime.CreateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: aws.String(u1),
		Role: types.RoomMembershipRoleAdministrator}))(t, "CreateRoomMembership").RoomMembership
	if mem.Role != types.RoomMembershipRoleAdministrator || mem.Member.MemberType != types.MemberTypeUser || aws.ToString(mem.Member.Email) != "u1@example.com" {
		t.Fatalf("CreateRoomMembership = %+v", mem)
	}
	var conflict *types.ConflictException
	if _, err := c.CreateRoomMembership(ctx(), &chime.CreateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: aws.String(u1)}); !errors.As(err, &conflict) {
		t.Fatalf("CreateRoomMembership twice = %v, want ConflictException", err)
	}
	var nf *types.NotFoundException
	if _, err := c.CreateRoomMembership(ctx(), &chime.CreateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: aws.String("nobody")}); !errors.As(err, &nf) {
		t.Fatalf("CreateRoomMembership(unknown member) = %v, want NotFoundException", err)
	}
	bot := must(c.CreateBot(ctx(), &chime.CreateBotInput{AccountId: aws.String(acc), DisplayName: aws.String("Helper"), Domain: aws.String("corp.example")}))(t, "CreateBot").Bot
	if aws.ToString(bot.DisplayName) != "Helper (Bot)" || aws.ToString(bot.BotEmail) != "Helper-chimebot@corp.example" || aws.ToString(bot.UserId) != aws.ToString(bot.BotId) ||
		bot.BotType != types.BotTypeChatBot || len(aws.ToString(bot.SecurityToken)) != 40 {
		t.Fatalf("CreateBot = %+v", bot)
	}
	batch := must(c.BatchCreateRoomMembership(ctx(), &chime.BatchCreateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room),
		MembershipItemList: []types.MembershipItem{{MemberId: aws.String(u2)}, {MemberId: bot.BotId}, {MemberId: aws.String(u1)}, {MemberId: aws.String("ghost")}}}))(t, "BatchCreateRoomMembership")
	if len(batch.Errors) != 2 || batch.Errors[0].ErrorCode != types.ErrorCodeConflict || batch.Errors[1].ErrorCode != types.ErrorCodeNotFound {
		t.Fatalf("BatchCreateRoomMembership errors = %+v", batch.Errors)
	}
	list := must(c.ListRoomMemberships(ctx(), &chime.ListRoomMembershipsInput{AccountId: aws.String(acc), RoomId: aws.String(room)}))(t, "ListRoomMemberships")
	if len(list.RoomMemberships) != 3 {
		t.Fatalf("ListRoomMemberships = %d members, want 3", len(list.RoomMemberships))
	}
	var bad *types.BadRequestException
	if _, err := c.UpdateRoomMembership(ctx(), &chime.UpdateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: bot.BotId,
		Role: types.RoomMembershipRoleAdministrator}); !errors.As(err, &bad) {
		t.Fatalf("UpdateRoomMembership(bot) = %v, want BadRequestException", err)
	}
	upd := must(c.UpdateRoomMembership(ctx(), &chime.UpdateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: aws.String(u2),
		Role: types.RoomMembershipRoleAdministrator}))(t, "UpdateRoomMembership").RoomMembership
	if upd.Role != types.RoomMembershipRoleAdministrator {
		t.Fatalf("UpdateRoomMembership = %+v", upd)
	}
	byMember := must(c.ListRooms(ctx(), &chime.ListRoomsInput{AccountId: aws.String(acc), MemberId: aws.String(u2)}))(t, "ListRooms(member)")
	if len(byMember.Rooms) != 1 || aws.ToString(byMember.Rooms[0].RoomId) != room {
		t.Fatalf("ListRooms(member-id) = %+v", byMember.Rooms)
	}
	if all := must(c.ListRooms(ctx(), &chime.ListRoomsInput{AccountId: aws.String(acc)}))(t, "ListRooms"); len(all.Rooms) != 2 {
		t.Fatalf("ListRooms = %d rooms, want 2", len(all.Rooms))
	}
	renamed := must(c.UpdateRoom(ctx(), &chime.UpdateRoomInput{AccountId: aws.String(acc), RoomId: aws.String(room), Name: aws.String("general-2")}))(t, "UpdateRoom").Room
	if aws.ToString(renamed.Name) != "general-2" || !renamed.UpdatedTimestamp.After(*renamed.CreatedTimestamp) && !renamed.UpdatedTimestamp.Equal(*renamed.CreatedTimestamp) {
		t.Fatalf("UpdateRoom = %+v", renamed)
	}

	// A disabled bot cannot join; it can still be removed.
	must(c.UpdateBot(ctx(), &chime.UpdateBotInput{AccountId: aws.String(acc), BotId: bot.BotId, Disabled: aws.Bool(true)}))(t, "UpdateBot")
	if _, err := c.CreateRoomMembership(ctx(), &chime.CreateRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(other), MemberId: bot.BotId}); !errors.As(err, &bad) {
		t.Fatalf("adding a disabled bot = %v, want BadRequestException", err)
	}
	must(c.DeleteRoomMembership(ctx(), &chime.DeleteRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: bot.BotId}))(t, "DeleteRoomMembership(bot)")
	if _, err := c.DeleteRoomMembership(ctx(), &chime.DeleteRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: bot.BotId}); !errors.As(err, &nf) {
		t.Fatalf("DeleteRoomMembership of a non-member = %v, want NotFoundException", err)
	}
	must(c.DeleteRoom(ctx(), &chime.DeleteRoomInput{AccountId: aws.String(acc), RoomId: aws.String(room)}))(t, "DeleteRoom")
	if _, err := c.GetRoom(ctx(), &chime.GetRoomInput{AccountId: aws.String(acc), RoomId: aws.String(room)}); !errors.As(err, &nf) {
		t.Fatalf("GetRoom(deleted) = %v, want NotFoundException", err)
	}
	if rs := must(c.ListRooms(ctx(), &chime.ListRoomsInput{AccountId: aws.String(acc), MemberId: aws.String(u1)}))(t, "ListRooms(member)"); len(rs.Rooms) != 0 {
		t.Fatalf("memberships outlived the room: %+v", rs.Rooms)
	}
}

func TestChimeBotsAndRetention(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	var bots []string
	for i := 0; i < 10; i++ {
		b := must(c.CreateBot(ctx(), &chime.CreateBotInput{AccountId: aws.String(acc), DisplayName: aws.String(fmt.Sprint("bot", i))}))(t, "CreateBot").Bot
		bots = append(bots, aws.ToString(b.BotId))
	}
	var limit *types.ResourceLimitExceededException
	if _, err := c.CreateBot(ctx(), &chime.CreateBotInput{AccountId: aws.String(acc), DisplayName: aws.String("eleventh")}); !errors.As(err, &limit) {
		t.Fatalf("11th bot = %v, want ResourceLimitExceededException", err)
	}
	page := must(c.ListBots(ctx(), &chime.ListBotsInput{AccountId: aws.String(acc), MaxResults: aws.Int32(4)}))(t, "ListBots")
	if len(page.Bots) != 4 || page.NextToken == nil {
		t.Fatalf("ListBots page = %d bots, next %v", len(page.Bots), page.NextToken)
	}
	first := must(c.GetBot(ctx(), &chime.GetBotInput{AccountId: aws.String(acc), BotId: aws.String(bots[0])}))(t, "GetBot").Bot
	regen := must(c.RegenerateSecurityToken(ctx(), &chime.RegenerateSecurityTokenInput{AccountId: aws.String(acc), BotId: aws.String(bots[0])}))(t, "RegenerateSecurityToken").Bot
	if aws.ToString(regen.SecurityToken) == aws.ToString(first.SecurityToken) {
		t.Fatal("RegenerateSecurityToken kept the token")
	}
	var bad *types.BadRequestException
	if _, err := c.PutEventsConfiguration(ctx(), &chime.PutEventsConfigurationInput{AccountId: aws.String(acc), BotId: aws.String(bots[0]),
		OutboundEventsHTTPSEndpoint: aws.String("https://bot.example"), LambdaFunctionArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f")}); !errors.As(err, &bad) {
		t.Fatalf("PutEventsConfiguration with both = %v, want BadRequestException", err)
	}
	put := must(c.PutEventsConfiguration(ctx(), &chime.PutEventsConfigurationInput{AccountId: aws.String(acc), BotId: aws.String(bots[0]),
		OutboundEventsHTTPSEndpoint: aws.String("https://bot.example/events")}))(t, "PutEventsConfiguration").EventsConfiguration
	got := must(c.GetEventsConfiguration(ctx(), &chime.GetEventsConfigurationInput{AccountId: aws.String(acc), BotId: aws.String(bots[0])}))(t, "GetEventsConfiguration").EventsConfiguration
	if aws.ToString(put.OutboundEventsHTTPSEndpoint) != "https://bot.example/events" || aws.ToString(got.OutboundEventsHTTPSEndpoint) != "https://bot.example/events" {
		t.Fatalf("events configuration = %+v / %+v", put, got)
	}
	must(c.DeleteEventsConfiguration(ctx(), &chime.DeleteEventsConfigurationInput{AccountId: aws.String(acc), BotId: aws.String(bots[0])}))(t, "DeleteEventsConfiguration")
	got = must(c.GetEventsConfiguration(ctx(), &chime.GetEventsConfigurationInput{AccountId: aws.String(acc), BotId: aws.String(bots[0])}))(t, "GetEventsConfiguration").EventsConfiguration
	if got.OutboundEventsHTTPSEndpoint != nil || aws.ToString(got.BotId) != bots[0] {
		t.Fatalf("after delete = %+v", got)
	}

	putRet := must(c.PutRetentionSettings(ctx(), &chime.PutRetentionSettingsInput{AccountId: aws.String(acc), RetentionSettings: &types.RetentionSettings{
		RoomRetentionSettings: &types.RoomRetentionSettings{RetentionDays: aws.Int32(30)}}}))(t, "PutRetentionSettings")
	// The model's output: the settings as stored.
	if putRet.RetentionSettings == nil || aws.ToInt32(putRet.RetentionSettings.RoomRetentionSettings.RetentionDays) != 30 || putRet.RetentionSettings.ConversationRetentionSettings != nil {
		t.Fatalf("PutRetentionSettings answered %+v", putRet.RetentionSettings)
	}
	ret := must(c.GetRetentionSettings(ctx(), &chime.GetRetentionSettingsInput{AccountId: aws.String(acc)}))(t, "GetRetentionSettings")
	if aws.ToInt32(ret.RetentionSettings.RoomRetentionSettings.RetentionDays) != 30 || ret.RetentionSettings.ConversationRetentionSettings != nil {
		t.Fatalf("retention = %+v", ret.RetentionSettings)
	}
	if _, err := c.PutRetentionSettings(ctx(), &chime.PutRetentionSettingsInput{AccountId: aws.String(acc), RetentionSettings: &types.RetentionSettings{
		RoomRetentionSettings: &types.RoomRetentionSettings{RetentionDays: aws.Int32(5476)}}}); !errors.As(err, &bad) {
		t.Fatalf("retention 5476 days = %v, want BadRequestException", err)
	}

	// Strict mode keeps rooms and bots to Enterprise accounts.
	strict := MustRunMain(t, func(c *Config) { c.ChimeStrict = true })
	team := must(Chime(strict).CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("Team")}))(t, "CreateAccount").Account.AccountId
	var forbidden *types.ForbiddenException
	if _, err := Chime(strict).ListRooms(ctx(), &chime.ListRoomsInput{AccountId: team}); !errors.As(err, &forbidden) || !strings.Contains(forbidden.ErrorMessage(), "not an Enterprise Chime Account") {
		t.Fatalf("strict ListRooms on Team = %v, want ForbiddenException", err)
	}
}

// Ensure room messages reach exactly the members' devices, and that
// DeleteRoomMembership stops delivery to the removed member's devices and
// refuses their posts before it returns, while the others keep chatting.
func TestLiveChimeRoom(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	alice, bob, carol := registeredUser(t, m, acc, "alice@example.com"), registeredUser(t, m, acc, "bob@example.com"), registeredUser(t, m, acc, "carol@example.com")
	room := chimeRoom(t, m, acc, "team")
	join(t, m, acc, room, alice)
	join(t, m, acc, room, bob)
	a1, a2 := mustDevice(t, m, mustSession(t, m, acc, alice)), mustDevice(t, m, mustSession(t, m, acc, alice))
	b1 := mustDevice(t, m, mustSession(t, m, acc, bob))
	c1 := mustDevice(t, m, mustSession(t, m, acc, carol)) // not a member

	a1.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "hi", "RoomId": room, "Content": "hello team"})
	for _, d := range []*chatClient{a1, a2, b1} {
		f := d.NextOf("MESSAGE")
		if f.Content != "hello team" || f.Sender.UserID != alice || f.Sender.Attributes["DisplayName"] != "alice" || f.RequestID != "hi" || len(f.ID) != 36 {
			t.Fatalf("MESSAGE = %+v", f)
		}
	}
	c1.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "intrude", "RoomId": room, "Content": "let me in"})
	if f := c1.Next(); f.Type != "ERROR" || f.ErrorCode != 403 || f.RequestID != "intrude" {
		t.Fatalf("non-member post = %+v, want ERROR 403", f)
	}

	must(c.DeleteRoomMembership(ctx(), &chime.DeleteRoomMembershipInput{AccountId: aws.String(acc), RoomId: aws.String(room), MemberId: aws.String(alice)}))(t, "DeleteRoomMembership")
	for _, d := range []*chatClient{a1, a2} {
		if f := d.NextOf("EVENT"); f.EventName != "parley:MEMBERSHIP_REMOVED" {
			t.Fatalf("removed member's device got %+v", f)
		}
	}
	if f := b1.NextEvent("parley:MEMBERSHIP_CHANGED"); f.Attributes["MemberId"] != alice || f.Attributes["Change"] != "removed" {
		t.Fatalf("remaining member got %+v", f)
	}
	a2.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "still", "RoomId": room, "Content": "am I here?"})
	if f := a2.Reply("still"); f.Type != "ERROR" || f.ErrorCode != 403 {
		t.Fatalf("removed member's post = %+v, want ERROR 403", f)
	}
	b1.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "b", "RoomId": room, "Content": "just us"})
	if f := b1.Reply("b"); f.Type != "MESSAGE" {
		t.Fatalf("bob's post = %+v", f)
	}
	a1.Quiet(100 * time.Millisecond)
	a2.Quiet(10 * time.Millisecond)

	// Adding her back restores access, on the devices already connected.
	join(t, m, acc, room, alice)
	if f := a1.NextOf("EVENT"); f.EventName != "parley:MEMBERSHIP_ADDED" {
		t.Fatalf("re-added member's device got %+v", f)
	}
	b1.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "b2", "RoomId": room, "Content": "welcome back"})
	if f := a1.NextOf("MESSAGE"); f.Content != "welcome back" {
		t.Fatalf("re-added member got %+v", f)
	}
	// History, for members only.
	a1.Send(map[string]any{"Action": "GET_MESSAGES", "RequestId": "h", "RoomId": room, "Limit": 10})
	h := a1.Reply("h")
	var hist struct {
		Messages []frame
	}
	_ = hist
	if h.Type != "MESSAGES" {
		t.Fatalf("GET_MESSAGES answered %+v", h)
	}
	c1.Send(map[string]any{"Action": "GET_MESSAGES", "RequestId": "h2", "RoomId": room})
	if f := c1.Reply("h2"); f.ErrorCode != 403 {
		t.Fatalf("non-member GET_MESSAGES = %+v, want ERROR 403", f)
	}

	must(c.DeleteRoom(ctx(), &chime.DeleteRoomInput{AccountId: aws.String(acc), RoomId: aws.String(room)}))(t, "DeleteRoom")
	b1.NextEvent("parley:ROOM_DELETED")
	b1.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "gone", "RoomId": room, "Content": "hello?"})
	if f := b1.Reply("gone"); f.ErrorCode != 403 {
		t.Fatalf("post to a deleted room = %+v", f)
	}
}

// Ensure a bot receives the room's messages at its events endpoint and
// posts with its security token.
func TestChimeBotMessaging(t *testing.T) {
	var mu sync.Mutex
	var events []map[string]any
	got := make(chan struct{}, 10)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		got <- struct{}{}
	}))
	defer endpoint.Close()
	m := MustRunMain(t)
	c := Chime(m)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	user := registeredUser(t, m, acc, "u@example.com")
	room := chimeRoom(t, m, acc, "ops")
	bot := must(c.CreateBot(ctx(), &chime.CreateBotInput{AccountId: aws.String(acc), DisplayName: aws.String("Ops")}))(t, "CreateBot").Bot
	must(c.PutEventsConfiguration(ctx(), &chime.PutEventsConfigurationInput{AccountId: aws.String(acc), BotId: bot.BotId,
		OutboundEventsHTTPSEndpoint: aws.String(endpoint.URL)}))(t, "PutEventsConfiguration")
	join(t, m, acc, room, user)
	join(t, m, acc, room, aws.ToString(bot.BotId))
	wait := func(typ string) map[string]any {
		t.Helper()
		for {
			select {
			case <-got:
				mu.Lock()
				ev := events[len(events)-1]
				mu.Unlock()
				if ev["EventType"] == typ {
					return ev
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("bot got no %s event", typ)
			}
		}
	}
	if ev := wait("Invite"); ev["Discussion"].(map[string]any)["DiscussionId"] != room || ev["InboundHttpsEndpointPath"] != "/parley/v1/bot/rooms/"+room+"/messages" {
		t.Fatalf("Invite event = %v", ev)
	}
	d := mustDevice(t, m, mustSession(t, m, acc, user))
	d.Send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "q", "RoomId": room, "Content": "deploy?"})
	if ev := wait("Message"); ev["Message"] != "deploy?" || ev["Sender"].(map[string]any)["SenderId"] != user {
		t.Fatalf("Message event = %v", ev)
	}

	post := func(token, content string) rawResponse {
		req, _ := http.NewRequest("POST", m.URL+"/parley/v1/bot/rooms/"+room+"/messages", strings.NewReader(`{"Content":"`+content+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		return do(t, req)
	}
	if resp := post(aws.ToString(bot.SecurityToken), "deploying"); resp.Status != http.StatusCreated {
		t.Fatalf("bot post: %d %s", resp.Status, resp.Body)
	}
	d.Reply("q") // the device's own message first
	if f := d.NextOf("MESSAGE"); f.Content != "deploying" || f.Sender.UserID != aws.ToString(bot.BotId) {
		t.Fatalf("device got %+v from the bot", f)
	}
	regen := must(c.RegenerateSecurityToken(ctx(), &chime.RegenerateSecurityTokenInput{AccountId: aws.String(acc), BotId: bot.BotId}))(t, "RegenerateSecurityToken").Bot
	if resp := post(aws.ToString(bot.SecurityToken), "old token"); resp.Status != http.StatusUnauthorized {
		t.Fatalf("post with the old token: %d, want 401", resp.Status)
	}
	must(c.UpdateBot(ctx(), &chime.UpdateBotInput{AccountId: aws.String(acc), BotId: bot.BotId, Disabled: aws.Bool(true)}))(t, "UpdateBot")
	if resp := post(aws.ToString(regen.SecurityToken), "disabled"); resp.Status != http.StatusForbidden {
		t.Fatalf("post by a disabled bot: %d, want 403", resp.Status)
	}
	resp := signedRequest(t, m, "GET", "/parley/v1/accounts/"+acc+"/rooms/"+room+"/messages", nil, "chime")
	b, _ := io.ReadAll(strings.NewReader(string(resp.Body)))
	if resp.Status != 200 || !strings.Contains(string(b), "deploy?") || !strings.Contains(string(b), "deploying") {
		t.Fatalf("room messages: %d %s", resp.Status, b)
	}
}
