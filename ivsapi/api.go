// Package ivsapi serves the Amazon IVS Chat control plane (REST-JSON,
// API version 2020-07-14) on top of package service: it decodes and
// validates requests exactly as the IVS Chat model constrains them, and
// renders results and errors in the shapes the AWS SDKs and CLI expect.
package ivsapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/service"
)

// Limiter admits or throttles a call of op by the caller in ctx
// (KindThrottled with Limit set).
type Limiter interface {
	Allow(ctx context.Context, api, op string) error
}

// API is the IVS Chat control plane as an http.Handler.
type API struct {
	svc     Service
	limiter Limiter
	log     *slog.Logger
	mux     *http.ServeMux
}

// New returns the API; limiter may be nil to disable throttling.
func New(svc Service, limiter Limiter, log *slog.Logger) *API {
	a := &API{svc: svc, limiter: limiter, log: log, mux: http.NewServeMux()}
	a.handle("POST /CreateRoom", "CreateRoom", a.createRoom)
	a.handle("POST /GetRoom", "GetRoom", a.getRoom)
	a.handle("POST /UpdateRoom", "UpdateRoom", a.updateRoom)
	a.handle("POST /DeleteRoom", "DeleteRoom", a.deleteRoom)
	a.handle("POST /ListRooms", "ListRooms", a.listRooms)
	a.handle("POST /CreateChatToken", "CreateChatToken", a.createChatToken)
	a.handle("POST /SendEvent", "SendEvent", a.sendEvent)
	a.handle("POST /DeleteMessage", "DeleteMessage", a.deleteMessage)
	a.handle("POST /DisconnectUser", "DisconnectUser", a.disconnectUser)
	a.handle("POST /CreateLoggingConfiguration", "CreateLoggingConfiguration", a.createLoggingConfiguration)
	a.handle("POST /GetLoggingConfiguration", "GetLoggingConfiguration", a.getLoggingConfiguration)
	a.handle("POST /UpdateLoggingConfiguration", "UpdateLoggingConfiguration", a.updateLoggingConfiguration)
	a.handle("POST /DeleteLoggingConfiguration", "DeleteLoggingConfiguration", a.deleteLoggingConfiguration)
	a.handle("POST /ListLoggingConfigurations", "ListLoggingConfigurations", a.listLoggingConfigurations)
	a.handle("GET /tags/{resourceArn}", "ListTagsForResource", a.listTags)
	a.handle("POST /tags/{resourceArn}", "TagResource", a.tagResource)
	a.handle("DELETE /tags/{resourceArn}", "UntagResource", a.untagResource)
	a.handle("POST /parley/v1/CreateBan", "CreateBan", a.createBan)
	a.handle("POST /parley/v1/DeleteBan", "DeleteBan", a.deleteBan)
	a.handle("POST /parley/v1/ListBans", "ListBans", a.listBans)
	a.mux.HandleFunc("/", unknownOperation)
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// handle registers fn for op behind throttling and error rendering.
func (a *API) handle(pattern, op string, fn func(http.ResponseWriter, *http.Request, []byte) error) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		awsproto.InfoFrom(r.Context()).Op = op
		err := func() error {
			if a.limiter != nil {
				if err := a.limiter.Allow(r.Context(), "ivschat", op); err != nil {
					return err
				}
			}
			body, err := awsproto.ReadBody(r)
			if err != nil {
				return err
			}
			return fn(w, r, body)
		}()
		if err != nil {
			awsproto.LogFailure(r, a.log, op, err)
			WriteError(w, r, err)
		}
	})
}

// decode parses body into v and validates it with check.
func decode[T any](body []byte, check func(*T, *checker)) (*T, error) {
	v := new(T)
	if err := awsproto.Decode(body, v); err != nil {
		return nil, err
	}
	var c checker
	check(v, &c)
	return v, c.err()
}

func ok(w http.ResponseWriter, r *http.Request, v any) error {
	awsproto.WriteJSON(w, r, http.StatusOK, v)
	return nil
}

func noContent(w http.ResponseWriter, r *http.Request) error {
	awsproto.WriteJSON(w, r, http.StatusNoContent, nil)
	return nil
}

func (a *API) createRoom(w http.ResponseWriter, r *http.Request, body []byte) error {
	var configs []parley.ParsedARN
	in, err := decode(body, func(in *createRoomRequest, c *checker) {
		c.optLength("name", in.Name, 0, 128, namePattern)
		c.intRange("maximumMessageRatePerSecond", in.MaximumMessageRatePerSecond, 1, 100)
		c.intRange("maximumMessageLength", in.MaximumMessageLength, 1, 500)
		c.reviewHandler(in.MessageReviewHandler)
		c.tags("tags", in.Tags)
		configs = c.configList(in.LoggingConfigurationIdentifiers)
	})
	if err != nil {
		return err
	}
	room, err := a.svc.CreateRoom(r.Context(), service.CreateRoomInput{
		Name: deref(in.Name), MaximumMessageRate: deref(in.MaximumMessageRatePerSecond), MaximumMessageLength: deref(in.MaximumMessageLength),
		MessageReviewHandler: handler(in.MessageReviewHandler), Tags: in.Tags, LoggingConfigurationIDs: configs,
	})
	if err != nil {
		return err
	}
	return ok(w, r, roomOut(room, false))
}

func (a *API) getRoom(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	if _, err := decode(body, func(in *identifierRequest, c *checker) { arn = c.arn("identifier", in.Identifier, roomARN) }); err != nil {
		return err
	}
	room, err := a.svc.GetRoom(r.Context(), arn)
	if err != nil {
		return err
	}
	return ok(w, r, roomOut(room, false))
}

func (a *API) updateRoom(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	var configs []parley.ParsedARN
	in, err := decode(body, func(in *updateRoomRequest, c *checker) {
		arn = c.arn("identifier", in.Identifier, roomARN)
		c.optLength("name", in.Name, 0, 128, namePattern)
		c.intRange("maximumMessageRatePerSecond", in.MaximumMessageRatePerSecond, 1, 100)
		c.intRange("maximumMessageLength", in.MaximumMessageLength, 1, 500)
		c.reviewHandler(in.MessageReviewHandler)
		if in.LoggingConfigurationIdentifiers != nil {
			configs = c.configList(*in.LoggingConfigurationIdentifiers)
		}
	})
	if err != nil {
		return err
	}
	u := service.UpdateRoomInput{Name: in.Name, MaximumMessageRate: in.MaximumMessageRatePerSecond, MaximumMessageLength: in.MaximumMessageLength,
		MessageReviewHandler: handler(in.MessageReviewHandler)}
	if in.MessageReviewHandler != nil && u.MessageReviewHandler == nil {
		u.MessageReviewHandler = &parley.MessageReviewHandler{} // present but empty: remove
	}
	if in.LoggingConfigurationIdentifiers != nil {
		u.LoggingConfigurationIDs = &configs
	}
	room, err := a.svc.UpdateRoom(r.Context(), arn, u)
	if err != nil {
		return err
	}
	return ok(w, r, roomOut(room, false))
}

func (a *API) deleteRoom(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	if _, err := decode(body, func(in *identifierRequest, c *checker) { arn = c.arn("identifier", in.Identifier, roomARN) }); err != nil {
		return err
	}
	if err := a.svc.DeleteRoom(r.Context(), arn); err != nil {
		return err
	}
	return noContent(w, r)
}

func (a *API) listRooms(w http.ResponseWriter, r *http.Request, body []byte) error {
	var configARNp *parley.ParsedARN
	in, err := decode(body, func(in *listRoomsRequest, c *checker) {
		c.optLength("name", in.Name, 0, 128, namePattern)
		c.optLength("nextToken", in.NextToken, 0, 1024, nil)
		c.intRange("maxResults", in.MaxResults, 1, 50)
		c.optLength("messageReviewHandlerUri", in.MessageReviewHandlerURI, 0, 170, lambdaARN)
		if in.LoggingConfigurationIdentifier != nil {
			p := c.arn("loggingConfigurationIdentifier", in.LoggingConfigurationIdentifier, configARN)
			configARNp = &p
		}
	})
	if err != nil {
		return err
	}
	rooms, next, err := a.svc.ListRooms(r.Context(), service.ListRoomsInput{Name: deref(in.Name), MessageReviewHandlerURI: deref(in.MessageReviewHandlerURI),
		LoggingConfiguration: configARNp, MaxResults: deref(in.MaxResults), NextToken: deref(in.NextToken)})
	if err != nil {
		return err
	}
	out := struct {
		Rooms     []roomJSON `json:"rooms"`
		NextToken string     `json:"nextToken,omitempty"`
	}{Rooms: make([]roomJSON, 0, len(rooms)), NextToken: next}
	for _, room := range rooms {
		out.Rooms = append(out.Rooms, roomOut(room, true))
	}
	return ok(w, r, out)
}

func (a *API) createChatToken(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	var caps []parley.Capability
	in, err := decode(body, func(in *createChatTokenRequest, c *checker) {
		arn = c.arn("roomIdentifier", in.RoomIdentifier, roomARN)
		if c.required("userId", in.UserID != nil) {
			c.length("userId", *in.UserID, 1, 128, nil)
		}
		for _, cap := range in.Capabilities {
			switch parley.Capability(cap) {
			case parley.CapSendMessage, parley.CapDisconnectUser, parley.CapDeleteMessage:
				caps = append(caps, parley.Capability(cap))
			default:
				c.fail("capabilities", "must be one of SEND_MESSAGE, DISCONNECT_USER, DELETE_MESSAGE")
			}
		}
		c.intRange("sessionDurationInMinutes", in.SessionDurationInMinutes, 1, 180)
		c.attributes("attributes", in.Attributes)
	})
	if err != nil {
		return err
	}
	tok, grant, err := a.svc.CreateChatToken(r.Context(), service.CreateChatTokenInput{Room: arn, UserID: *in.UserID, Capabilities: caps,
		SessionDuration: time.Duration(deref(in.SessionDurationInMinutes)) * time.Minute, Attributes: in.Attributes})
	if err != nil {
		return err
	}
	return ok(w, r, map[string]string{"token": tok, "tokenExpirationTime": awsproto.Time(grant.TokenExpires),
		"sessionExpirationTime": awsproto.Time(grant.SessionExpires)})
}

func (a *API) sendEvent(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	in, err := decode(body, func(in *sendEventRequest, c *checker) {
		arn = c.arn("roomIdentifier", in.RoomIdentifier, roomARN)
		if c.required("eventName", in.EventName != nil) {
			c.length("eventName", *in.EventName, 1, 100, nil)
		}
		c.attributes("attributes", in.Attributes)
	})
	if err != nil {
		return err
	}
	id, err := a.svc.SendEvent(r.Context(), arn, *in.EventName, in.Attributes)
	if err != nil {
		return err
	}
	return ok(w, r, map[string]string{"id": id})
}

func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	in, err := decode(body, func(in *deleteMessageRequest, c *checker) {
		arn = c.arn("roomIdentifier", in.RoomIdentifier, roomARN)
		if c.required("id", in.ID != nil) {
			c.length("id", *in.ID, 12, 12, messageID)
		}
		c.optLength("reason", in.Reason, 1, 256, nil)
	})
	if err != nil {
		return err
	}
	id, err := a.svc.DeleteMessage(r.Context(), arn, *in.ID, deref(in.Reason))
	if err != nil {
		return err
	}
	return ok(w, r, map[string]string{"id": id})
}

func (a *API) disconnectUser(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	in, err := decode(body, func(in *disconnectUserRequest, c *checker) {
		arn = c.arn("roomIdentifier", in.RoomIdentifier, roomARN)
		if c.required("userId", in.UserID != nil) {
			c.length("userId", *in.UserID, 1, 128, nil)
		}
		c.optLength("reason", in.Reason, 1, 256, nil)
	})
	if err != nil {
		return err
	}
	if err := a.svc.DisconnectUser(r.Context(), arn, *in.UserID, deref(in.Reason)); err != nil {
		return err
	}
	return ok(w, r, struct{}{})
}

func (a *API) createLoggingConfiguration(w http.ResponseWriter, r *http.Request, body []byte) error {
	var dest parley.Destination
	in, err := decode(body, func(in *createLoggingConfigurationRequest, c *checker) {
		c.optLength("name", in.Name, 0, 128, namePattern)
		if c.required("destinationConfiguration", in.DestinationConfiguration != nil) {
			dest = c.destination(in.DestinationConfiguration)
		}
		c.tags("tags", in.Tags)
	})
	if err != nil {
		return err
	}
	cfg, err := a.svc.CreateLoggingConfiguration(r.Context(), deref(in.Name), dest, in.Tags)
	if err != nil {
		return err
	}
	return ok(w, r, configOut(cfg))
}

func (a *API) getLoggingConfiguration(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	if _, err := decode(body, func(in *identifierRequest, c *checker) { arn = c.arn("identifier", in.Identifier, configARN) }); err != nil {
		return err
	}
	cfg, err := a.svc.GetLoggingConfiguration(r.Context(), arn)
	if err != nil {
		return err
	}
	return ok(w, r, configOut(cfg))
}

func (a *API) updateLoggingConfiguration(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	var dest *parley.Destination
	in, err := decode(body, func(in *updateLoggingConfigurationRequest, c *checker) {
		arn = c.arn("identifier", in.Identifier, configARN)
		c.optLength("name", in.Name, 0, 128, namePattern)
		if in.DestinationConfiguration != nil {
			d := c.destination(in.DestinationConfiguration)
			dest = &d
		}
	})
	if err != nil {
		return err
	}
	cfg, err := a.svc.UpdateLoggingConfiguration(r.Context(), arn, in.Name, dest)
	if err != nil {
		return err
	}
	return ok(w, r, configOut(cfg))
}

func (a *API) deleteLoggingConfiguration(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	if _, err := decode(body, func(in *identifierRequest, c *checker) { arn = c.arn("identifier", in.Identifier, configARN) }); err != nil {
		return err
	}
	if err := a.svc.DeleteLoggingConfiguration(r.Context(), arn); err != nil {
		return err
	}
	return noContent(w, r)
}

func (a *API) listLoggingConfigurations(w http.ResponseWriter, r *http.Request, body []byte) error {
	in, err := decode(body, func(in *pageRequest, c *checker) {
		c.optLength("nextToken", in.NextToken, 0, 1024, nil)
		c.intRange("maxResults", in.MaxResults, 1, 50)
	})
	if err != nil {
		return err
	}
	configs, next, err := a.svc.ListLoggingConfigurations(r.Context(), parley.Page{MaxResults: deref(in.MaxResults), NextToken: deref(in.NextToken)})
	if err != nil {
		return err
	}
	out := struct {
		LoggingConfigurations []configJSON `json:"loggingConfigurations"`
		NextToken             string       `json:"nextToken,omitempty"`
	}{LoggingConfigurations: make([]configJSON, 0, len(configs)), NextToken: next}
	for _, c := range configs {
		out.LoggingConfigurations = append(out.LoggingConfigurations, configOut(c))
	}
	return ok(w, r, out)
}

// resourceARNFrom validates the {resourceArn} path label.
func resourceARNFrom(r *http.Request, c *checker) parley.ParsedARN {
	v := r.PathValue("resourceArn")
	return c.arn("resourceArn", &v, resourceARN)
}

func (a *API) listTags(w http.ResponseWriter, r *http.Request, _ []byte) error {
	var c checker
	arn := resourceARNFrom(r, &c)
	if err := c.err(); err != nil {
		return err
	}
	tags, err := a.svc.Tags(r.Context(), arn)
	if err != nil {
		return err
	}
	return ok(w, r, map[string]any{"tags": tags})
}

func (a *API) tagResource(w http.ResponseWriter, r *http.Request, body []byte) error {
	var arn parley.ParsedARN
	in, err := decode(body, func(in *tagRequest, c *checker) {
		arn = resourceARNFrom(r, c)
		if c.required("tags", in.Tags != nil) {
			c.tags("tags", in.Tags)
		}
	})
	if err != nil {
		return err
	}
	if err := a.svc.TagResource(r.Context(), arn, in.Tags); err != nil {
		return err
	}
	return ok(w, r, struct{}{})
}

func (a *API) untagResource(w http.ResponseWriter, r *http.Request, _ []byte) error {
	var c checker
	arn := resourceARNFrom(r, &c)
	keys, present := r.URL.Query()["tagKeys"]
	if c.required("tagKeys", present) {
		if len(keys) > parley.MaxTagsPerResource {
			c.fail("tagKeys", "must have at most %d items", parley.MaxTagsPerResource)
		}
		for _, k := range keys {
			c.length("tagKeys", k, 1, 128, nil)
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	if err := a.svc.UntagResource(r.Context(), arn, keys); err != nil {
		return err
	}
	return ok(w, r, struct{}{})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func handler(h *reviewHandlerJSON) *parley.MessageReviewHandler {
	if h == nil || h.URI == nil || *h.URI == "" {
		return nil
	}
	return &parley.MessageReviewHandler{URI: *h.URI, FallbackResult: parley.ReviewResult(deref(h.FallbackResult))}
}
