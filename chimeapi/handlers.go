package chimeapi

import (
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/service"
)

func (a *API) createAccount(w http.ResponseWriter, r *http.Request, _ params, body []byte) error {
	in, err := decode[struct{ Name *string }](body)
	if err != nil {
		return err
	}
	if err := checkName(in.Name); err != nil {
		return err
	}
	acc, err := a.svc.CreateChimeAccount(r.Context(), *in.Name, parley.AccountTeam)
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, map[string]any{"Account": accountOut(acc)})
}

// createTypedAccount is the parley extension that creates accounts of any
// type (the Chime API creates Team accounts only).
func (a *API) createTypedAccount(w http.ResponseWriter, r *http.Request, _ params, body []byte) error {
	in, err := decode[struct{ Name, AccountType *string }](body)
	if err != nil {
		return err
	}
	if err := checkName(in.Name); err != nil {
		return err
	}
	typ := parley.AccountTeam
	if in.AccountType != nil {
		if err := checkEnum("AccountType", in.AccountType, []string{"Team", "EnterpriseDirectory", "EnterpriseLWA", "EnterpriseOIDC"}); err != nil {
			return err
		}
		typ = parley.ChimeAccountType(*in.AccountType)
	}
	acc, err := a.svc.CreateChimeAccount(r.Context(), *in.Name, typ)
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, map[string]any{"Account": accountOut(acc)})
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	acc, err := a.svc.GetChimeAccount(r.Context(), p["accountId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"Account": accountOut(acc)})
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request, _ params, _ []byte) error {
	pg, err := page(r, 200)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := parley.ChimeAccountFilter{Page: pg}
	if q.Has("name") {
		name := q.Get("name")
		if err := checkName(&name); err != nil {
			return err
		}
		f.NamePrefix = name
	}
	if q.Has("user-email") {
		if f.UserEmail = q.Get("user-email"); checkEmail("UserEmail", f.UserEmail) != nil {
			return checkEmail("UserEmail", f.UserEmail)
		}
	}
	accs, next, err := a.svc.ListChimeAccounts(r.Context(), f)
	if err != nil {
		return err
	}
	out := []accountJSON{}
	for _, acc := range accs {
		out = append(out, accountOut(acc))
	}
	return reply(w, r, http.StatusOK, struct {
		Accounts  []accountJSON
		NextToken string `json:",omitempty"`
	}{out, next})
}

func (a *API) updateAccount(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ Name, DefaultLicense *string }](body)
	if err != nil {
		return err
	}
	if in.Name != nil {
		if err := checkName(in.Name); err != nil {
			return err
		}
	}
	if err := checkEnum("DefaultLicense", in.DefaultLicense, licenses); err != nil {
		return err
	}
	acc, err := a.svc.UpdateChimeAccount(r.Context(), p["accountId"], in.Name, in.DefaultLicense)
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"Account": accountOut(acc)})
}

func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	if err := a.svc.DeleteChimeAccount(r.Context(), p["accountId"]); err != nil {
		return err
	}
	return reply(w, r, http.StatusNoContent, nil)
}

type accountSettingsJSON struct {
	DisableRemoteControl *bool `json:"DisableRemoteControl,omitempty"`
	EnableDialOut        *bool `json:"EnableDialOut,omitempty"`
}

func (a *API) getAccountSettings(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	acc, err := a.svc.GetChimeAccount(r.Context(), p["accountId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"AccountSettings": accountSettingsJSON{&acc.DisableRemoteControl, &acc.EnableDialOut}})
}

func (a *API) updateAccountSettings(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ AccountSettings *accountSettingsJSON }](body)
	if err != nil {
		return err
	}
	if in.AccountSettings == nil {
		return parley.Invalid("AccountSettings", "is required")
	}
	if err := a.svc.UpdateChimeAccountSettings(r.Context(), p["accountId"], in.AccountSettings.DisableRemoteControl, in.AccountSettings.EnableDialOut); err != nil {
		return err
	}
	return reply(w, r, http.StatusNoContent, nil)
}

func (a *API) inviteUsers(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct {
		UserEmailList []string
		UserType      *string
	}](body)
	if err != nil {
		return err
	}
	if in.UserEmailList == nil {
		return parley.Invalid("UserEmailList", "is required")
	}
	if len(in.UserEmailList) > 50 {
		return parley.Invalid("UserEmailList", "must have at most 50 addresses")
	}
	for _, e := range in.UserEmailList {
		if err := checkEmail("UserEmailList", e); err != nil {
			return err
		}
	}
	if err := checkEnum("UserType", in.UserType, userTypes); err != nil {
		return err
	}
	invites, err := a.svc.InviteUsers(r.Context(), p["accountId"], in.UserEmailList, deref(in.UserType))
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, inv := range invites {
		out = append(out, map[string]string{"InviteId": inv.InviteID, "Status": inv.Status, "EmailAddress": inv.Email, "EmailStatus": inv.EmailStatus})
	}
	return reply(w, r, http.StatusCreated, map[string]any{"Invites": out})
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ Username, Email, UserType *string }](body)
	if err != nil {
		return err
	}
	if in.Email == nil {
		return parley.Invalid("Email", "is required")
	}
	if err := checkEmail("Email", *in.Email); err != nil {
		return err
	}
	if err := checkEnum("UserType", in.UserType, userTypes); err != nil {
		return err
	}
	u, err := a.svc.CreateChimeUser(r.Context(), p["accountId"], deref(in.Username), *in.Email, deref(in.UserType))
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, map[string]any{"User": userOut(u, true)})
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	u, err := a.svc.GetChimeUser(r.Context(), p["accountId"], p["userId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"User": userOut(u, true)})
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	pg, err := page(r, 200)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := parley.ChimeUserFilter{Page: pg}
	if q.Has("user-email") {
		if f.Email = q.Get("user-email"); checkEmail("UserEmail", f.Email) != nil {
			return checkEmail("UserEmail", f.Email)
		}
	}
	if q.Has("user-type") {
		f.UserType = q.Get("user-type")
		if err := checkEnum("UserType", &f.UserType, userTypes); err != nil {
			return err
		}
	}
	users, next, err := a.svc.ListChimeUsers(r.Context(), p["accountId"], f)
	if err != nil {
		return err
	}
	out := []userJSON{}
	for _, u := range users {
		out = append(out, userOut(u, false))
	}
	return reply(w, r, http.StatusOK, struct {
		Users     []userJSON
		NextToken string `json:",omitempty"`
	}{out, next})
}

// userUpdateJSON is UpdateUser's body and a BatchUpdateUser item.
type userUpdateJSON struct {
	UserID                   *string `json:"UserId"`
	LicenseType              *string
	UserType                 *string
	AlexaForBusinessMetadata *alexaJSON
}

func (u *userUpdateJSON) check() error {
	if err := checkEnum("LicenseType", u.LicenseType, licenses); err != nil {
		return err
	}
	return checkEnum("UserType", u.UserType, userTypes)
}

func (u *userUpdateJSON) update(id string) service.UserUpdate {
	out := service.UserUpdate{UserID: id, LicenseType: u.LicenseType, UserType: u.UserType}
	if m := u.AlexaForBusinessMetadata; m != nil {
		out.AlexaEnabled, out.AlexaRoomARN = m.IsAlexaForBusinessEnabled, m.AlexaForBusinessRoomArn
	}
	return out
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[userUpdateJSON](body)
	if err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	u, err := a.svc.UpdateChimeUser(r.Context(), p["accountId"], in.update(p["userId"]))
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"User": userOut(u, true)})
}

func (a *API) batchUpdateUser(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct{ UpdateUserRequestItems []userUpdateJSON }](body)
	if err != nil {
		return err
	}
	if in.UpdateUserRequestItems == nil {
		return parley.Invalid("UpdateUserRequestItems", "is required")
	}
	if len(in.UpdateUserRequestItems) > 20 {
		return parley.Invalid("UpdateUserRequestItems", "must have at most 20 items")
	}
	var items []service.UserUpdate
	for _, it := range in.UpdateUserRequestItems {
		if it.UserID == nil || !nonEmpty.MatchString(*it.UserID) {
			return parley.Invalid("UpdateUserRequestItems.UserId", "is required")
		}
		if err := it.check(); err != nil {
			return err
		}
		items = append(items, it.update(*it.UserID))
	}
	errs, err := a.svc.BatchUpdateUser(r.Context(), p["accountId"], items)
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, userErrorsOut(errs))
}

func (a *API) resetPersonalPIN(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	u, err := a.svc.ResetPersonalPIN(r.Context(), p["accountId"], p["userId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"User": userOut(u, true)})
}

func (a *API) getUserSettings(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	u, err := a.svc.GetChimeUser(r.Context(), p["accountId"], p["userId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"UserSettings": map[string]any{"Telephony": telephonyJSON{&u.InboundCalling, &u.OutboundCalling, &u.SMS}}})
}

func (a *API) updateUserSettings(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	in, err := decode[struct {
		UserSettings *struct{ Telephony *telephonyJSON }
	}](body)
	if err != nil {
		return err
	}
	if in.UserSettings == nil || in.UserSettings.Telephony == nil {
		return parley.Invalid("UserSettings.Telephony", "is required")
	}
	t := in.UserSettings.Telephony
	if t.InboundCalling == nil || t.OutboundCalling == nil || t.SMS == nil {
		return parley.Invalid("UserSettings.Telephony", "requires InboundCalling, OutboundCalling and SMS")
	}
	if err := a.svc.UpdateUserSettings(r.Context(), p["accountId"], p["userId"], *t.InboundCalling, *t.OutboundCalling, *t.SMS); err != nil {
		return err
	}
	return reply(w, r, http.StatusNoContent, nil)
}

func (a *API) logoutUser(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	if err := a.svc.LogoutUser(r.Context(), p["accountId"], p["userId"]); err != nil {
		return err
	}
	return reply(w, r, http.StatusNoContent, nil)
}

// userIDList reads the UserIdList of the suspension operations.
func userIDList(body []byte) ([]string, error) {
	in, err := decode[struct{ UserIdList []string }](body)
	if err != nil {
		return nil, err
	}
	if in.UserIdList == nil {
		return nil, parley.Invalid("UserIdList", "is required")
	}
	if len(in.UserIdList) > 50 {
		return nil, parley.Invalid("UserIdList", "must have at most 50 user IDs")
	}
	for _, id := range in.UserIdList {
		if !nonEmpty.MatchString(id) {
			return nil, parley.Invalid("UserIdList", "must not contain empty IDs")
		}
	}
	return in.UserIdList, nil
}

func (a *API) batchSuspendUser(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	ids, err := userIDList(body)
	if err != nil {
		return err
	}
	errs, err := a.svc.BatchSuspendUser(r.Context(), p["accountId"], ids)
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, userErrorsOut(errs))
}

func (a *API) batchUnsuspendUser(w http.ResponseWriter, r *http.Request, p params, body []byte) error {
	ids, err := userIDList(body)
	if err != nil {
		return err
	}
	errs, err := a.svc.BatchUnsuspendUser(r.Context(), p["accountId"], ids)
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, userErrorsOut(errs))
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	u, err := a.svc.AcceptInvitation(r.Context(), p["accountId"], p["userId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusOK, map[string]any{"User": userOut(u, true)})
}

func (a *API) createSession(w http.ResponseWriter, r *http.Request, p params, _ []byte) error {
	tok, d, err := a.svc.CreateDeviceSession(r.Context(), a.tokens, p["accountId"], p["userId"])
	if err != nil {
		return err
	}
	return reply(w, r, http.StatusCreated, map[string]any{"Session": map[string]string{"SessionId": d.ID, "AccountId": d.AccountID,
		"UserId": d.UserID, "Token": tok, "ExpiresAt": awsproto.Time(d.Expires)}})
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, _ params, _ []byte) error {
	pg, err := page(r, 200)
	if err != nil {
		return err
	}
	recs, next, err := a.svc.ListAudit(r.Context(), pg)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, rec := range recs {
		m := map[string]string{"Id": rec.ID, "Time": awsproto.Time(rec.Time), "Caller": rec.Caller, "Action": rec.Action,
			"Target": rec.Target, "Result": rec.Result}
		if rec.Detail != "" {
			m["Detail"] = rec.Detail
		}
		out = append(out, m)
	}
	return reply(w, r, http.StatusOK, struct {
		Records   []map[string]string
		NextToken string `json:",omitempty"`
	}{out, next})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}
