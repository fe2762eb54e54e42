// Package chimeapi serves the accounts and users part of the Amazon Chime
// API (REST-JSON, 2018-05-01) on top of package service, with Chime's own
// error format, and parley's extensions for signing devices in under
// /parley/v1 (Chime's own client protocol is not public).
package chimeapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/chattoken"
)

// Limiter admits or throttles a call of op by the caller in ctx
// (KindThrottled).
type Limiter interface {
	Allow(ctx context.Context, api, op string) error
}

// API is the Chime API as an http.Handler.
type API struct {
	svc     Service
	tokens  *chattoken.Sealer
	limiter Limiter
	log     *slog.Logger
	routes  []route
}

// route is one operation: method, path template (":x" segments are labels)
// and the value of the operation query parameter ("" for none).
type route struct {
	method, op, name string
	path             []string
	fn               func(w http.ResponseWriter, r *http.Request, p params, body []byte) error
}

// params are a request's decoded path labels.
type params map[string]string

// New returns the API; limiter may be nil to disable throttling.
func New(svc Service, tokens *chattoken.Sealer, limiter Limiter, log *slog.Logger) *API {
	a := &API{svc: svc, tokens: tokens, limiter: limiter, log: log}
	a.add("POST", "/accounts", "", "CreateAccount", a.createAccount)
	a.add("GET", "/accounts", "", "ListAccounts", a.listAccounts)
	a.add("GET", "/accounts/:accountId", "", "GetAccount", a.getAccount)
	a.add("POST", "/accounts/:accountId", "", "UpdateAccount", a.updateAccount)
	a.add("DELETE", "/accounts/:accountId", "", "DeleteAccount", a.deleteAccount)
	a.add("GET", "/accounts/:accountId/settings", "", "GetAccountSettings", a.getAccountSettings)
	a.add("PUT", "/accounts/:accountId/settings", "", "UpdateAccountSettings", a.updateAccountSettings)
	a.add("POST", "/accounts/:accountId/users", "add", "InviteUsers", a.inviteUsers)
	a.add("POST", "/accounts/:accountId/users", "create", "CreateUser", a.createUser)
	a.add("POST", "/accounts/:accountId/users", "suspend", "BatchSuspendUser", a.batchSuspendUser)
	a.add("POST", "/accounts/:accountId/users", "unsuspend", "BatchUnsuspendUser", a.batchUnsuspendUser)
	a.add("POST", "/accounts/:accountId/users", "", "BatchUpdateUser", a.batchUpdateUser)
	a.add("GET", "/accounts/:accountId/users", "", "ListUsers", a.listUsers)
	a.add("GET", "/accounts/:accountId/users/:userId", "", "GetUser", a.getUser)
	a.add("POST", "/accounts/:accountId/users/:userId", "", "UpdateUser", a.updateUser)
	a.add("POST", "/accounts/:accountId/users/:userId", "logout", "LogoutUser", a.logoutUser)
	a.add("POST", "/accounts/:accountId/users/:userId", "reset-personal-pin", "ResetPersonalPIN", a.resetPersonalPIN)
	a.add("GET", "/accounts/:accountId/users/:userId/settings", "", "GetUserSettings", a.getUserSettings)
	a.add("PUT", "/accounts/:accountId/users/:userId/settings", "", "UpdateUserSettings", a.updateUserSettings)
	// parley extensions.
	a.add("POST", "/parley/v1/accounts", "", "parley:CreateAccount", a.createTypedAccount)
	a.add("POST", "/parley/v1/accounts/:accountId/users/:userId/accept-invitation", "", "parley:AcceptInvitation", a.acceptInvitation)
	a.add("POST", "/parley/v1/accounts/:accountId/users/:userId/sessions", "", "parley:CreateDeviceSession", a.createSession)
	a.add("GET", "/parley/v1/audit", "", "parley:ListAudit", a.listAudit)
	a.registerRooms()
	return a
}

func (a *API) add(method, path, op, name string, fn func(http.ResponseWriter, *http.Request, params, []byte) error) {
	a.routes = append(a.routes, route{method: method, op: op, name: name, path: strings.Split(strings.Trim(path, "/"), "/"), fn: fn})
}

// nonEmpty is the model's NonEmptyString.
var nonEmpty = regexp.MustCompile(`\S`)

// match reports whether segments fit the template and returns the labels.
func (rt *route) match(segments []string) (params, bool) {
	if len(segments) != len(rt.path) {
		return nil, false
	}
	p := params{}
	for i, want := range rt.path {
		if name, ok := strings.CutPrefix(want, ":"); ok {
			p[name] = segments[i]
		} else if segments[i] != want {
			return nil, false
		}
	}
	return p, true
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Labels are percent-encoded by the clients (a "/" in an ID arrives as
	// %2F), so the route is read from the escaped path, segment by segment.
	raw := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	segments := make([]string, len(raw))
	for i, s := range raw {
		v, err := url.PathUnescape(s)
		if err != nil {
			WriteError(w, r, parley.Errorf(parley.KindInvalid, "malformed path"))
			return
		}
		segments[i] = v
	}
	op := r.URL.Query().Get("operation")
	for i := range a.routes {
		rt := &a.routes[i]
		if rt.method != r.Method || rt.op != op {
			continue
		}
		p, ok := rt.match(segments)
		if !ok {
			continue
		}
		a.serve(w, r, rt, p)
		return
	}
	unknownOperation(w, r)
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, rt *route, p params) {
	awsproto.InfoFrom(r.Context()).Op = rt.name
	err := func() error {
		if a.limiter != nil {
			if err := a.limiter.Allow(r.Context(), "chime", rt.name); err != nil {
				return err
			}
		}
		for name, v := range p {
			if !nonEmpty.MatchString(v) {
				return parley.Invalid(name, "must not be empty")
			}
		}
		body, err := awsproto.ReadBody(r)
		if err != nil {
			return err
		}
		return rt.fn(w, r, p, body)
	}()
	if err != nil {
		awsproto.LogFailure(r, a.log, rt.name, err)
		WriteError(w, r, err)
	}
}

func reply(w http.ResponseWriter, r *http.Request, status int, v any) error {
	awsproto.WriteJSON(w, r, status, v)
	return nil
}

// decode parses a JSON body into a new T.
func decode[T any](body []byte) (*T, error) {
	v := new(T)
	return v, awsproto.Decode(body, v)
}

// Validation of the Chime model's constraints.
var (
	emailPattern = regexp.MustCompile(`^.+@.+\..+$`)
	licenses     = []string{"Basic", "Plus", "Pro", "ProTrial"}
	userTypes    = []string{"PrivateUser", "SharedDevice"}
)

func checkName(name *string) error {
	if name == nil {
		return parley.Invalid("Name", "is required")
	}
	if n := len([]rune(*name)); n < 1 || n > 100 || !nonEmpty.MatchString(*name) {
		return parley.Invalid("Name", "must be 1 to 100 characters and not blank")
	}
	return nil
}

func checkEnum(field string, v *string, values []string) error {
	if v == nil {
		return nil
	}
	for _, ok := range values {
		if *v == ok {
			return nil
		}
	}
	return parley.Invalid(field, "must be one of %s", strings.Join(values, ", "))
}

func checkEmail(field, v string) error {
	if !emailPattern.MatchString(v) {
		return parley.Invalid(field, "%q is not an e-mail address", v)
	}
	return nil
}

// page reads max-results (lo..hi) and next-token from the query.
func page(r *http.Request, hi int) (parley.Page, error) {
	q := r.URL.Query()
	p := parley.Page{NextToken: q.Get("next-token")}
	if v := q.Get("max-results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > hi {
			return p, parley.Invalid("MaxResults", "must be an integer from 1 to %d", hi)
		}
		p.MaxResults = n
	}
	return p, nil
}
