package chimeapi

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/service"
)

var (
	clientToken = regexp.MustCompile(`^[-_a-zA-Z0-9]{2,64}$`)
	roles       = []string{parley.RoleAdministrator, parley.RoleMember}
)

type roomJSON struct {
	RoomID           string `json:"RoomId"`
	Name             string `json:"Name"`
	AccountID        string `json:"AccountId"`
	CreatedBy        string `json:"CreatedBy"`
	CreatedTimestamp string `json:"CreatedTimestamp"`
	UpdatedTimestamp string `json:"UpdatedTimestamp"`
}

func roomOut(r *parley.ChimeRoom) roomJSON {
	return roomJSON{RoomID: r.RoomID, Name: r.Name, AccountID: r.AccountID, CreatedBy: r.CreatedBy,
		CreatedTimestamp: awsproto.Time(r.CreateTime), UpdatedTimestamp: awsproto.Time(r.UpdateTime)}
}

type membershipJSON struct {
	RoomID           string `json:"RoomId"`
	Member           struct{ MemberId, MemberType, Email, FullName, AccountId string }
	Role             string `json:"Role"`
	InvitedBy        string `json:"InvitedBy"`
	UpdatedTimestamp string `json:"UpdatedTimestamp"`
}

func membershipOut(m *parley.RoomMembership) membershipJSON {
	out := membershipJSON{RoomID: m.RoomID, Role: m.Role, InvitedBy: m.InvitedBy, UpdatedTimestamp: awsproto.Time(m.UpdateTime)}
	out.Member.MemberId, out.Member.MemberType, out.Member.Email, out.Member.FullName, out.Member.AccountId = m.MemberID, m.MemberType, m.Email, m.FullName, m.AccountID
	return out
}

type botJSON struct {
	BotID            string `json:"BotId"`
	UserID           string `json:"UserId"`
	DisplayName      string `json:"DisplayName"`
	BotType          string `json:"BotType"`
	Disabled         bool   `json:"Disabled"`
	CreatedTimestamp string `json:"CreatedTimestamp"`
	UpdatedTimestamp string `json:"UpdatedTimestamp"`
	BotEmail         string `json:"BotEmail"`
	SecurityToken    string `json:"SecurityToken"`
}

func botOut(b *parley.Bot) botJSON {
	return botJSON{BotID: b.BotID, UserID: b.BotID, DisplayName: b.DisplayName, BotType: "ChatBot", Disabled: b.Disabled,
		CreatedTimestamp: awsproto.Time(b.CreateTime), UpdatedTimestamp: awsproto.Time(b.UpdateTime), BotEmail: b.BotEmail, SecurityToken: b.SecurityToken}
}

func eventsConfigOut(b *parley.Bot) map[string]any {
	c := map[string]string{"BotId": b.BotID}
	if b.EventsEndpoint != "" {
		c["OutboundEventsHTTPSEndpoint"] = b.EventsEndpoint
	}
	if b.EventsLambda != "" {
		c["LambdaFunctionArn"] = b.EventsLambda
	}
	return map[string]any{"EventsConfiguration": c}
}

func (a *API) registerRooms() {
	a.add("POST", "/accounts/:accountId/rooms", "", "CreateRoom", a.createRoom)
	a.add("GET", "/accounts/:accountId/rooms", "", "ListRooms", a.listRooms)
	a.add("GET", "/accounts/:accountId/rooms/:roomId", "", "GetRoom", a.getRoom)
	a.add("POST", "/accounts/:accountId/rooms/:roomId", "", "UpdateRoom", a.updateRoom)
	a.add("DELETE", "/accounts/:accountId/rooms/:roomId", "", "DeleteRoom", a.deleteRoom)
	a.add("POST", "/accounts/:accountId/rooms/:roomId/memberships", "", "CreateRoomMembership", a.createMembership)
	a.add("POST", "/accounts/:accountId/rooms/:roomId/memberships", "batch-create", "BatchCreateRoomMembership", a.batchCreateMembership)
	a.add("GET", "/accounts/:accountId/rooms/:roomId/memberships", "", "ListRoomMemberships", a.listMemberships)
	a.add("POST", "/accounts/:accountId/rooms/:roomId/memberships/:memberId", "", "UpdateRoomMembership", a.updateMembership)
	a.add("DELETE", "/accounts/:accountId/rooms/:roomId/memberships/:memberId", "", "DeleteRoomMembership", a.deleteMembership)
	a.add("POST", "/accounts/:accountId/bots", "", "CreateBot", a.createBot)
	a.add("GET", "/accounts/:accountId/bots", "", "ListBots", a.listBots)
	a.add("GET", "/accounts/:accountId/bots/:botId", "", "GetBot", a.getBot)
	a.add("POST", "/accounts/:accountId/bots/:botId", "", "UpdateBot", a.updateBot)
	a.add("POST", "/accounts/:accountId/bots/:botId", "regenerate-security-token", "RegenerateSecurityToken", a.regenerateToken)
	a.add("PUT", "/accounts/:accountId/bots/:botId/events-configuration", "", "PutEventsConfiguration", a.putEventsConfig)
	a.add("GET", "/accounts/:accountId/bots/:botId/events-configuration", "", "GetEventsConfiguration", a.getEventsConfig)
	a.add("DELETE", "/accounts/:accountId/bots/:botId/events-configuration", "", "DeleteEventsConfiguration", a.deleteEventsConfig)
	a.add("GET", "/accounts/:accountId/retention-settings", "", "GetRetentionSettings", a.getRetention)
	a.add("PUT", "/accounts/:accountId/retention-settings", "", "PutRetentionSettings", a.putRetention)
	a.add("GET", "/parley/v1/accounts/:accountId/rooms/:roomId/messages", "", "parley:ListRoomMessages", a.listMessages)
}

func (a *API) createRoom(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ Name, ClientRequestToken *string }](body)
	if err != nil {
		return err
	}
	if in.Name == nil || !nonEmpty.MatchString(*in.Name) {
		return parley.Invalid("Name", "is required and must not be blank")
	}
	if in.ClientRequestToken != nil && !clientToken.MatchString(*in.ClientRequestToken) {
		return parley.Invalid("ClientRequestToken", "must be 2 to 64 of [-_a-zA-Z0-9]")
	}
	room, err := a.svc.CreateChimeRoom(r.Context(), p["accountId"], *in.Name, deref(in.ClientRequestToken))
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, map[string]any{"Room": roomOut(room)})
}

func (a *API) listRooms(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	pg, err := page(r, 99)
	if err != nil {
		return err
	}
	rooms, next, err := a.svc.ListChimeRooms(r.Context(), p["accountId"], r.URL.Query().Get("member-id"), pg)
	if err != nil {
		return err
	}
	out := []roomJSON{}
	for _, room := range rooms {
		out = append(out, roomOut(room))
	}
	return reply(w, r, http.StatusOK, struct {
		Rooms     []roomJSON
		NextToken string `json:",omitempty"`
	}{out, next})
}

func (a *API) getRoom(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	room, err := a.svc.GetChimeRoom(r.Context(), p["accountId"], p["roomId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"Room": roomOut(room)})
}

func (a *API) updateRoom(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ Name *string }](body)
	if err != nil {
		return err
	}
	if in.Name != nil && !nonEmpty.MatchString(*in.Name) {
		return parley.Invalid("Name", "must not be blank")
	}
	room, err := a.svc.UpdateChimeRoom(r.Context(), p["accountId"], p["roomId"], in.Name)
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"Room": roomOut(room)})
}

func (a *API) deleteRoom(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	if err := a.svc.DeleteChimeRoom(r.Context(), p["accountId"], p["roomId"]); err != nil {
		return err
	}
	return reply(w, r, http.StatusNoContent, nil)
}

func (a *API) createMembership(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ MemberId, Role *string }](body)
	if err != nil {
		return err
	}
	if in.MemberId == nil || !nonEmpty.MatchString(*in.MemberId) {
		return parley.Invalid("MemberId", "is required")
	}
	if err := checkEnum("Role", in.Role, roles); err != nil {
		return err
	}
	m, err := a.svc.CreateRoomMembership(r.Context(), p["accountId"], p["roomId"], *in.MemberId, deref(in.Role))
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, map[string]any{"RoomMembership": membershipOut(m)})
}

func (a *API) batchCreateMembership(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct {
		MembershipItemList []struct{ MemberId, Role *string }
	}](body)
	if err != nil {
		return err
	}
	if in.MembershipItemList == nil {
		return parley.Invalid("MembershipItemList", "is required")
	}
	if len(in.MembershipItemList) > 50 {
		return parley.Invalid("MembershipItemList", "must have at most 50 items")
	}
	var items []service.MembershipItem
	for _, it := range in.MembershipItemList {
		if it.MemberId == nil || !nonEmpty.MatchString(*it.MemberId) {
			return parley.Invalid("MembershipItemList.MemberId", "is required")
		}
		if err := checkEnum("MembershipItemList.Role", it.Role, roles); err != nil {
			return err
		}
		items = append(items, service.MembershipItem{MemberID: *it.MemberId, Role: deref(it.Role)})
	}
	errs, err := a.svc.BatchCreateRoomMembership(r.Context(), p["accountId"], p["roomId"], items)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, e := range errs {
		out = append(out, map[string]string{"MemberId": e.MemberID, "ErrorCode": e.Code, "ErrorMessage": e.Message})
	}
	return reply(w, r, http.StatusCreated, map[string]any{"Errors": out})
}

func (a *API) listMemberships(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	pg, err := page(r, 99)
	if err != nil {
		return err
	}
	ms, next, err := a.svc.ListRoomMemberships(r.Context(), p["accountId"], p["roomId"], pg)
	if err != nil {
		return err
	}
	out := []membershipJSON{}
	for _, m := range ms {
		out = append(out, membershipOut(m))
	}
	return reply(w, r, http.StatusOK, struct {
		RoomMemberships []membershipJSON
		NextToken       string `json:",omitempty"`
	}{out, next})
}

func (a *API) updateMembership(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ Role *string }](body)
	if err != nil {
		return err
	}
	if err := checkEnum("Role", in.Role, roles); err != nil {
		return err
	}
	m, err := a.svc.UpdateRoomMembership(r.Context(), p["accountId"], p["roomId"], p["memberId"], deref(in.Role))
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"RoomMembership": membershipOut(m)})
}

func (a *API) deleteMembership(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	if err := a.svc.DeleteRoomMembership(r.Context(), p["accountId"], p["roomId"], p["memberId"]); err != nil {
		return err
	}
	return reply(w, r, http.StatusNoContent, nil)
}

func (a *API) createBot(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ DisplayName, Domain *string }](body)
	if err != nil {
		return err
	}
	if in.DisplayName == nil || !nonEmpty.MatchString(*in.DisplayName) {
		return parley.Invalid("DisplayName", "is required")
	}
	if in.Domain != nil && !nonEmpty.MatchString(*in.Domain) {
		return parley.Invalid("Domain", "must not be blank")
	}
	b, err := a.svc.CreateBot(r.Context(), p["accountId"], strings.TrimSpace(*in.DisplayName), deref(in.Domain))
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, map[string]any{"Bot": botOut(b)})
}

func (a *API) listBots(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	pg, err := page(r, 99)
	if err != nil {
		return err
	}
	bots, next, err := a.svc.ListBots(r.Context(), p["accountId"], pg)
	if err != nil {
		return err
	}
	out := []botJSON{}
	for _, b := range bots {
		out = append(out, botOut(b))
	}
	return reply(w, r, http.StatusOK, struct {
		Bots      []botJSON
		NextToken string `json:",omitempty"`
	}{out, next})
}

func (a *API) getBot(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	b, err := a.svc.GetBot(r.Context(), p["accountId"], p["botId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"Bot": botOut(b)})
}

func (a *API) updateBot(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ Disabled *bool }](body)
	if err != nil {
		return err
	}
	b, err := a.svc.UpdateBot(r.Context(), p["accountId"], p["botId"], func(b *parley.Bot) error {
		if in.Disabled != nil {
			b.Disabled = *in.Disabled
		}
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"Bot": botOut(b)})
}

func (a *API) regenerateToken(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	b, err := a.svc.RegenerateSecurityToken(r.Context(), p["accountId"], p["botId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"Bot": botOut(b)})
}

func (a *API) putEventsConfig(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ OutboundEventsHTTPSEndpoint, LambdaFunctionArn *string }](body)
	if err != nil {
		return err
	}
	endpoint, lambda := deref(in.OutboundEventsHTTPSEndpoint), deref(in.LambdaFunctionArn)
	if (endpoint == "") == (lambda == "") {
		return parley.Errorf(parley.KindInvalid, "give either OutboundEventsHTTPSEndpoint or LambdaFunctionArn")
	}
	if lambda != "" && !strings.HasPrefix(lambda, "arn:aws:lambda:") {
		return parley.Invalid("LambdaFunctionArn", "must be a Lambda function ARN")
	}
	if endpoint != "" && !strings.HasPrefix(endpoint, "https://") && !strings.HasPrefix(endpoint, "http://") {
		return parley.Invalid("OutboundEventsHTTPSEndpoint", "must be an HTTPS URL")
	}
	b, err := a.svc.UpdateBot(r.Context(), p["accountId"], p["botId"], func(b *parley.Bot) error {
		b.EventsEndpoint, b.EventsLambda = endpoint, lambda
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, eventsConfigOut(b))
}

func (a *API) getEventsConfig(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	b, err := a.svc.GetBot(r.Context(), p["accountId"], p["botId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, eventsConfigOut(b))
}

func (a *API) deleteEventsConfig(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	if _, err := a.svc.UpdateBot(r.Context(), p["accountId"], p["botId"], func(b *parley.Bot) error {
		b.EventsEndpoint, b.EventsLambda = "", ""
		return nil
	}); err != nil {
		return err
	}
	return reply(w, r, http.StatusNoContent, nil)
}

type retentionJSON struct {
	RoomRetentionSettings         *struct{ RetentionDays *int } `json:",omitempty"`
	ConversationRetentionSettings *struct{ RetentionDays *int } `json:",omitempty"`
}

func (a *API) getRetention(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	acc, err := a.svc.RetentionSettings(r.Context(), p["accountId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"RetentionSettings": retention(acc.RoomRetentionDays, acc.ConversationRetentionDays)})
}

// retention renders retention days as the model's RetentionSettings (0: off).
func retention(room, conversation int) retentionJSON {
	var out retentionJSON
	if room > 0 {
		out.RoomRetentionSettings = &struct{ RetentionDays *int }{&room}
	}
	if conversation > 0 {
		out.ConversationRetentionSettings = &struct{ RetentionDays *int }{&conversation}
	}
	return out
}

func (a *API) putRetention(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ RetentionSettings *retentionJSON }](body)
	if err != nil {
		return err
	}
	if in.RetentionSettings == nil {
		return parley.Invalid("RetentionSettings", "is required")
	}
	days := func(field string, s *struct{ RetentionDays *int }) (int, error) {
		if s == nil || s.RetentionDays == nil {
			return 0, nil
		}
		if *s.RetentionDays < 1 || *s.RetentionDays > 5475 {
			return 0, parley.Invalid(field+".RetentionDays", "must be between 1 and 5475")
		}
		return *s.RetentionDays, nil
	}
	room, err := days("RoomRetentionSettings", in.RetentionSettings.RoomRetentionSettings)
	if err != nil {
		return err
	}
	conv, err := days("ConversationRetentionSettings", in.RetentionSettings.ConversationRetentionSettings)
	if err != nil {
		return err
	}
	if err := a.svc.PutRetentionSettings(r.Context(), p["accountId"], room, conv); err != nil {
		return err
	}
	// The model answers PutRetentionSettings with the settings, under a
	// 204 that cannot carry them (RFC 9110 forbids a body, and Go's server
	// refuses to write one); 200 is the status that delivers them, and
	// every SDK takes any 2xx as success.
	return reply(w, r, http.StatusOK, map[string]any{"RetentionSettings": retention(room, conv)})
}

// listMessages is the extension that returns a room's recent messages to
// an operator (devices use GET_MESSAGES on their socket).
func (a *API) listMessages(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	msgs, err := a.svc.ListRoomMessages(r.Context(), p["accountId"], p["roomId"])
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, m := range msgs {
		out = append(out, map[string]string{"MessageId": m.MessageID, "SenderId": m.SenderID, "SenderName": m.SenderName, "Content": m.Content,
			"CreatedTimestamp": awsproto.Time(m.CreateTime)})
	}
	return reply(w, r, http.StatusOK, map[string]any{"Messages": out})
}

// BotPost serves POST /parley/v1/bot/rooms/{roomId}/messages for bots,
// authenticated by their security token (Authorization: Bearer <token>)
// instead of SigV4.
func (a *API) BotPost(w http.ResponseWriter, r *http.Request) {
	awsproto.InfoFrom(r.Context()).Op = "parley:BotPostMessage"
	err := func() error {
		roomID, ok := strings.CutPrefix(r.URL.Path, BotPath)
		roomID, ok2 := strings.CutSuffix(roomID, "/messages")
		if !ok || !ok2 || roomID == "" || strings.Contains(roomID, "/") || r.Method != http.MethodPost {
			return parley.Errorf(parley.KindNotFound, "unknown bot operation")
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("Connection", "close") // the body is not read
			return parley.Errorf(parley.KindUnauthenticated, "a bot authenticates with Authorization: Bearer <SecurityToken>")
		}
		// Authenticated before a byte of the body is read, as a signed
		// request is.
		bot, err := a.svc.AuthenticateBot(r.Context(), token)
		if err != nil {
			w.Header().Set("Connection", "close")
			return err
		}
		body, err := awsproto.ReadBody(r)
		if err != nil {
			return err
		}
		in, err := decode[struct{ Content *string }](body)
		if err != nil {
			return err
		}
		if in.Content == nil || *in.Content == "" {
			return parley.Invalid("Content", "is required")
		}
		m, err := a.svc.PostAsBot(r.Context(), bot, roomID, *in.Content)
		if err != nil {
			return err
		}
		return reply(w, r, http.StatusCreated, map[string]any{"MessageId": m.MessageID})
	}()
	if err != nil {
		WriteError(w, r, err)
	}
}

// BotPath is the prefix of the bot endpoints.
const BotPath = "/parley/v1/bot/rooms/"
