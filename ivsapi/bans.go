package ivsapi

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/service"
)

// Bans are parley's extension of IVS Chat, served under /parley/v1 in the
// IVS wire style: POST with a JSON body, IVS errors, room ARNs.

type createBanRequest struct {
	RoomIdentifier    *string `json:"roomIdentifier"`
	UserID            *string `json:"userId"`
	Reason            *string `json:"reason"`
	DurationInMinutes *int    `json:"durationInMinutes"`
}

type deleteBanRequest struct {
	RoomIdentifier *string `json:"roomIdentifier"`
	UserID         *string `json:"userId"`
}

type listBansRequest struct {
	RoomIdentifier *string `json:"roomIdentifier"`
	UserID         *string `json:"userId"`
	MaxResults     *int    `json:"maxResults"`
	NextToken      *string `json:"nextToken"`
}

type banJSON struct {
	RoomArn    string `json:"roomArn,omitempty"` // absent: every room of the account in the region
	UserID     string `json:"userId"`
	Reason     string `json:"reason"`
	CreateTime string `json:"createTime"`
	ExpireTime string `json:"expireTime,omitempty"` // absent: until deleted
}

func banOut(b *parley.Ban) banJSON {
	out := banJSON{RoomArn: b.RoomARN(), UserID: b.UserID, Reason: b.Reason, CreateTime: awsproto.Time(b.CreateTime)}
	if !b.ExpireTime.IsZero() {
		out.ExpireTime = awsproto.Time(b.ExpireTime)
	}
	return out
}

// optRoom checks an optional roomIdentifier; nil means every room.
func (c *checker) optRoom(v *string) *parley.ParsedARN {
	if v == nil {
		return nil
	}
	arn := c.arn("roomIdentifier", v, roomARN)
	return &arn
}

func (c *checker) userID(v *string) {
	if c.required("userId", v != nil) {
		c.length("userId", *v, 1, 128, nil)
	}
}

func (a *API) createBan(w http.ResponseWriter, r *http.Request, body []byte) error {
	var room *parley.ParsedARN
	in, err := decode(body, func(in *createBanRequest, c *checker) {
		room = c.optRoom(in.RoomIdentifier)
		c.userID(in.UserID)
		if c.required("reason", in.Reason != nil) {
			c.length("reason", *in.Reason, 1, 256, nil)
		}
		c.intRange("durationInMinutes", in.DurationInMinutes, 1, parley.MaxBanMinutes)
	})
	if err != nil {
		return err
	}
	b, err := a.svc.CreateBan(r.Context(), service.CreateBanInput{Room: room, UserID: *in.UserID, Reason: *in.Reason,
		Duration: time.Duration(deref(in.DurationInMinutes)) * time.Minute})
	if err != nil {
		return err
	}
	return ok(w, r, banOut(b))
}

func (a *API) deleteBan(w http.ResponseWriter, r *http.Request, body []byte) error {
	var room *parley.ParsedARN
	in, err := decode(body, func(in *deleteBanRequest, c *checker) {
		room = c.optRoom(in.RoomIdentifier)
		c.userID(in.UserID)
	})
	if err != nil {
		return err
	}
	if err := a.svc.DeleteBan(r.Context(), room, *in.UserID); err != nil {
		return err
	}
	return noContent(w, r)
}

func (a *API) listBans(w http.ResponseWriter, r *http.Request, body []byte) error {
	var room *parley.ParsedARN
	in, err := decode(body, func(in *listBansRequest, c *checker) {
		room = c.optRoom(in.RoomIdentifier)
		c.optLength("userId", in.UserID, 1, 128, nil)
		c.intRange("maxResults", in.MaxResults, 1, 100)
		c.optLength("nextToken", in.NextToken, 0, 1024, nil)
	})
	if err != nil {
		return err
	}
	bans, next, err := a.svc.ListBans(r.Context(), service.ListBansInput{Room: room, UserID: deref(in.UserID),
		MaxResults: deref(in.MaxResults), NextToken: deref(in.NextToken)})
	if err != nil {
		return err
	}
	out := struct {
		Bans      []banJSON `json:"bans"`
		NextToken string    `json:"nextToken,omitempty"`
	}{Bans: make([]banJSON, 0, len(bans)), NextToken: next}
	for _, b := range bans {
		out.Bans = append(out.Bans, banOut(b))
	}
	return ok(w, r, out)
}
