package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/chime/types"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/gobwas/ws"
)

// Chime returns a chime client for m with the test credential.
func Chime(m *Main) *chime.Client { return ChimeAs(m, testKeyID, testSecret) }

// ChimeAs returns a chime client with any credential.
func ChimeAs(m *Main, keyID, secret string) *chime.Client {
	return chime.NewFromConfig(awsConfig(keyID, secret, testRegion), func(o *chime.Options) { o.BaseEndpoint = aws.String(m.URL) })
}

// ext calls a parley extension under /parley/v1, signed for chime, and
// decodes the JSON answer into out (if not nil).
func ext(t *testing.T, m *Main, method, path, body string, out any) rawResponse {
	t.Helper()
	resp := signedRequest(t, m, method, path, []byte(body), "chime")
	if out != nil && resp.Status < 300 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, resp.Body)
		}
	}
	return resp
}

// typedAccount creates an account of the given type through the extension.
func typedAccount(t *testing.T, m *Main, name, typ string) string {
	t.Helper()
	var out struct {
		Account struct{ AccountId, AccountType string }
	}
	if resp := ext(t, m, "POST", "/parley/v1/accounts", fmt.Sprintf(`{"Name":%q,"AccountType":%q}`, name, typ), &out); resp.Status != http.StatusCreated {
		t.Fatalf("create %s account: %d %s", typ, resp.Status, resp.Body)
	}
	if out.Account.AccountType != typ {
		t.Fatalf("AccountType = %q, want %q", out.Account.AccountType, typ)
	}
	return out.Account.AccountId
}

// registeredUser creates a registered user with CreateUser.
func registeredUser(t *testing.T, m *Main, account, email string) string {
	t.Helper()
	u := must(Chime(m).CreateUser(ctx(), &chime.CreateUserInput{AccountId: aws.String(account), Email: aws.String(email)}))(t, "CreateUser")
	return aws.ToString(u.User.UserId)
}

// session signs a device in and returns its token; status is the HTTP answer.
func session(t *testing.T, m *Main, account, user string) (string, rawResponse) {
	t.Helper()
	var out struct {
		Session struct{ Token, UserId string }
	}
	resp := ext(t, m, "POST", "/parley/v1/accounts/"+account+"/users/"+user+"/sessions", "", &out)
	return out.Session.Token, resp
}

func mustSession(t *testing.T, m *Main, account, user string) string {
	t.Helper()
	tok, resp := session(t, m, account, user)
	if resp.Status != http.StatusCreated || tok == "" {
		t.Fatalf("device session: %d %s", resp.Status, resp.Body)
	}
	return tok
}

// device connects a signed-in device; status is the handshake's HTTP status.
func device(t *testing.T, m *Main, token string) (*chatClient, int) {
	t.Helper()
	return dialPath(t, m, "/parley/v1/device", token)
}

func mustDevice(t *testing.T, m *Main, token string) *chatClient {
	t.Helper()
	c, status := device(t, m, token)
	if c == nil {
		t.Fatalf("device refused with %d", status)
	}
	return c
}

func TestChimeAccounts(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	created := must(c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("Acme")}))(t, "CreateAccount")
	a := created.Account
	if a.AccountType != types.AccountTypeTeam || a.AccountStatus != types.AccountStatusActive || aws.ToString(a.AwsAccountId) != testAccount ||
		a.DefaultLicense != types.LicensePro || len(a.SupportedLicenses) != 2 || len(aws.ToString(a.AccountId)) != 36 || a.CreatedTimestamp == nil {
		t.Fatalf("CreateAccount = %+v", a)
	}
	id := a.AccountId
	got := must(c.GetAccount(ctx(), &chime.GetAccountInput{AccountId: id}))(t, "GetAccount")
	if aws.ToString(got.Account.Name) != "Acme" {
		t.Fatalf("GetAccount = %+v", got.Account)
	}
	upd := must(c.UpdateAccount(ctx(), &chime.UpdateAccountInput{AccountId: id, Name: aws.String("Acme Ltd"), DefaultLicense: types.LicenseBasic}))(t, "UpdateAccount")
	if aws.ToString(upd.Account.Name) != "Acme Ltd" || upd.Account.DefaultLicense != types.LicenseBasic {
		t.Fatalf("UpdateAccount = %+v", upd.Account)
	}
	var bad *types.BadRequestException
	if _, err := c.UpdateAccount(ctx(), &chime.UpdateAccountInput{AccountId: id, DefaultLicense: types.LicensePlus}); !errors.As(err, &bad) {
		t.Fatalf("UpdateAccount(unsupported license) = %v, want BadRequestException", err)
	}
	for i := 0; i < 4; i++ {
		must(c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String(fmt.Sprint("Other ", i))}))(t, "CreateAccount")
	}
	var names []string
	p := chime.NewListAccountsPaginator(c, &chime.ListAccountsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page := must(p.NextPage(ctx()))(t, "ListAccounts")
		for _, acc := range page.Accounts {
			names = append(names, aws.ToString(acc.Name))
		}
	}
	// Pages hold every account once. Their order is by creation time to the
	// millisecond, then by ID: accounts made in the same millisecond come
	// in any order (AWS documents none).
	slices.Sort(names)
	if strings.Join(names, ",") != "Acme Ltd,Other 0,Other 1,Other 2,Other 3" {
		t.Fatalf("ListAccounts = %v", names)
	}
	prefixed := must(c.ListAccounts(ctx(), &chime.ListAccountsInput{Name: aws.String("Acme")}))(t, "ListAccounts(name)")
	if len(prefixed.Accounts) != 1 {
		t.Fatalf("ListAccounts(name=Acme) = %d accounts", len(prefixed.Accounts))
	}

	settings := must(c.GetAccountSettings(ctx(), &chime.GetAccountSettingsInput{AccountId: id}))(t, "GetAccountSettings")
	if aws.ToBool(settings.AccountSettings.EnableDialOut) || aws.ToBool(settings.AccountSettings.DisableRemoteControl) {
		t.Fatalf("default settings = %+v", settings.AccountSettings)
	}
	must(c.UpdateAccountSettings(ctx(), &chime.UpdateAccountSettingsInput{AccountId: id, AccountSettings: &types.AccountSettings{EnableDialOut: aws.Bool(true)}}))(t, "UpdateAccountSettings")
	settings = must(c.GetAccountSettings(ctx(), &chime.GetAccountSettingsInput{AccountId: id}))(t, "GetAccountSettings")
	if !aws.ToBool(settings.AccountSettings.EnableDialOut) || aws.ToBool(settings.AccountSettings.DisableRemoteControl) {
		t.Fatalf("merged settings = %+v", settings.AccountSettings)
	}

	// DeleteAccount waits until every user is suspended.
	user := registeredUser(t, m, aws.ToString(id), "ann@example.com")
	var unprocessable *types.UnprocessableEntityException
	if _, err := c.DeleteAccount(ctx(), &chime.DeleteAccountInput{AccountId: id}); !errors.As(err, &unprocessable) {
		t.Fatalf("DeleteAccount with an active user = %v, want UnprocessableEntityException", err)
	}
	must(c.BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: id, UserIdList: []string{user}}))(t, "BatchSuspendUser")
	must(c.DeleteAccount(ctx(), &chime.DeleteAccountInput{AccountId: id}))(t, "DeleteAccount")
	var nf *types.NotFoundException
	if _, err := c.GetAccount(ctx(), &chime.GetAccountInput{AccountId: id}); !errors.As(err, &nf) {
		t.Fatalf("GetAccount(deleted) = %v, want NotFoundException", err)
	}
}

func TestChimeUsers(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := must(c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("Team")}))(t, "CreateAccount").Account.AccountId

	inv := must(c.InviteUsers(ctx(), &chime.InviteUsersInput{AccountId: acc, UserEmailList: []string{"a@example.com", "b@example.com"}}))(t, "InviteUsers")
	if len(inv.Invites) != 2 || inv.Invites[0].Status != types.InviteStatusPending || inv.Invites[0].EmailStatus != types.EmailStatusSent ||
		aws.ToString(inv.Invites[1].EmailAddress) != "b@example.com" {
		t.Fatalf("InviteUsers = %+v", inv.Invites)
	}
	created := must(c.CreateUser(ctx(), &chime.CreateUserInput{AccountId: acc, Email: aws.String("Room@Example.com"), UserType: types.UserTypeSharedDevice}))(t, "CreateUser").User
	if created.UserRegistrationStatus != types.RegistrationStatusRegistered || created.UserType != types.UserTypeSharedDevice || len(aws.ToString(created.PersonalPIN)) != 10 {
		t.Fatalf("CreateUser = %+v", created)
	}
	var conflict *types.ConflictException
	if _, err := c.CreateUser(ctx(), &chime.CreateUserInput{AccountId: acc, Email: aws.String("room@example.com")}); !errors.As(err, &conflict) {
		t.Fatalf("CreateUser(same e-mail) = %v, want ConflictException", err)
	}
	list := must(c.ListUsers(ctx(), &chime.ListUsersInput{AccountId: acc}))(t, "ListUsers")
	if len(list.Users) != 3 || list.Users[0].UserRegistrationStatus != types.RegistrationStatusUnregistered || list.Users[0].PersonalPIN != nil {
		t.Fatalf("ListUsers = %+v", list.Users)
	}
	byEmail := must(c.ListUsers(ctx(), &chime.ListUsersInput{AccountId: acc, UserEmail: aws.String("B@example.com")}))(t, "ListUsers(email)")
	if len(byEmail.Users) != 1 || aws.ToString(byEmail.Users[0].PrimaryEmail) != "b@example.com" {
		t.Fatalf("ListUsers(user-email) = %+v", byEmail.Users)
	}
	shared := must(c.ListUsers(ctx(), &chime.ListUsersInput{AccountId: acc, UserType: types.UserTypeSharedDevice}))(t, "ListUsers(type)")
	if len(shared.Users) != 1 {
		t.Fatalf("ListUsers(user-type) = %d users", len(shared.Users))
	}
	accs := must(c.ListAccounts(ctx(), &chime.ListAccountsInput{UserEmail: aws.String("a@example.com")}))(t, "ListAccounts(user-email)")
	if len(accs.Accounts) != 1 || aws.ToString(accs.Accounts[0].AccountId) != aws.ToString(acc) {
		t.Fatalf("ListAccounts(user-email) = %+v", accs.Accounts)
	}

	uid := created.UserId
	got := must(c.GetUser(ctx(), &chime.GetUserInput{AccountId: acc, UserId: uid}))(t, "GetUser").User
	if aws.ToString(got.PersonalPIN) != aws.ToString(created.PersonalPIN) {
		t.Fatalf("GetUser PIN = %q, want %q", aws.ToString(got.PersonalPIN), aws.ToString(created.PersonalPIN))
	}
	reset := must(c.ResetPersonalPIN(ctx(), &chime.ResetPersonalPINInput{AccountId: acc, UserId: uid}))(t, "ResetPersonalPIN").User
	if p := aws.ToString(reset.PersonalPIN); len(p) != 10 || p == aws.ToString(created.PersonalPIN) {
		t.Fatalf("ResetPersonalPIN = %q", p)
	}
	upd := must(c.UpdateUser(ctx(), &chime.UpdateUserInput{AccountId: acc, UserId: uid, LicenseType: types.LicenseBasic}))(t, "UpdateUser").User
	if upd.LicenseType != types.LicenseBasic {
		t.Fatalf("UpdateUser = %+v", upd)
	}
	batch := must(c.BatchUpdateUser(ctx(), &chime.BatchUpdateUserInput{AccountId: acc, UpdateUserRequestItems: []types.UpdateUserRequestItem{
		{UserId: uid, LicenseType: types.LicensePro},
		{UserId: aws.String("00000000-0000-0000-0000-000000000000"), LicenseType: types.LicensePro},
		{UserId: uid, LicenseType: types.LicensePlus}, // not supported by the account
	}}))(t, "BatchUpdateUser")
	if len(batch.UserErrors) != 2 || batch.UserErrors[0].ErrorCode != types.ErrorCodeNotFound || batch.UserErrors[1].ErrorCode != types.ErrorCodeBadRequest {
		t.Fatalf("BatchUpdateUser errors = %+v", batch.UserErrors)
	}

	us := must(c.GetUserSettings(ctx(), &chime.GetUserSettingsInput{AccountId: acc, UserId: uid}))(t, "GetUserSettings")
	if !aws.ToBool(us.UserSettings.Telephony.InboundCalling) || !aws.ToBool(us.UserSettings.Telephony.SMS) {
		t.Fatalf("default telephony = %+v", us.UserSettings.Telephony)
	}
	must(c.UpdateUserSettings(ctx(), &chime.UpdateUserSettingsInput{AccountId: acc, UserId: uid, UserSettings: &types.UserSettings{
		Telephony: &types.TelephonySettings{InboundCalling: aws.Bool(false), OutboundCalling: aws.Bool(true), SMS: aws.Bool(false)}}}))(t, "UpdateUserSettings")
	us = must(c.GetUserSettings(ctx(), &chime.GetUserSettingsInput{AccountId: acc, UserId: uid}))(t, "GetUserSettings")
	if aws.ToBool(us.UserSettings.Telephony.InboundCalling) || !aws.ToBool(us.UserSettings.Telephony.OutboundCalling) {
		t.Fatalf("updated telephony = %+v", us.UserSettings.Telephony)
	}
}

// Ensure every bound of the Chime model is enforced, as BadRequestException,
// and that another AWS account sees nothing.
func TestChimeValidationAndTenancy(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := must(c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("A")}))(t, "CreateAccount").Account.AccountId
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = fmt.Sprint("u", i)
	}
	emails := make([]string, 51)
	for i := range emails {
		emails[i] = fmt.Sprintf("u%d@example.com", i)
	}
	items := make([]types.UpdateUserRequestItem, 21)
	for i := range items {
		items[i] = types.UpdateUserRequestItem{UserId: aws.String(fmt.Sprint("u", i))}
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"account name too long", func() error {
			_, err := c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String(strings.Repeat("n", 101))})
			return err
		}},
		{"blank account name", func() error {
			_, err := c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("   ")})
			return err
		}},
		{"51 users to suspend", func() error {
			_, err := c.BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: acc, UserIdList: ids})
			return err
		}},
		{"51 users to unsuspend", func() error {
			_, err := c.BatchUnsuspendUser(ctx(), &chime.BatchUnsuspendUserInput{AccountId: acc, UserIdList: ids})
			return err
		}},
		{"51 invitations", func() error {
			_, err := c.InviteUsers(ctx(), &chime.InviteUsersInput{AccountId: acc, UserEmailList: emails})
			return err
		}},
		{"21 user updates", func() error {
			_, err := c.BatchUpdateUser(ctx(), &chime.BatchUpdateUserInput{AccountId: acc, UpdateUserRequestItems: items})
			return err
		}},
		{"bad e-mail", func() error {
			_, err := c.InviteUsers(ctx(), &chime.InviteUsersInput{AccountId: acc, UserEmailList: []string{"not-an-email"}})
			return err
		}},
		{"bad license", func() error {
			_, err := c.UpdateAccount(ctx(), &chime.UpdateAccountInput{AccountId: acc, DefaultLicense: "Gold"})
			return err
		}},
		{"page size 201", func() error {
			_, err := c.ListAccounts(ctx(), &chime.ListAccountsInput{MaxResults: aws.Int32(201)})
			return err
		}},
		{"bad next token", func() error {
			_, err := c.ListUsers(ctx(), &chime.ListUsersInput{AccountId: acc, NextToken: aws.String("garbage")})
			return err
		}},
	}
	for _, tt := range tests {
		var bad *types.BadRequestException
		if err := tt.call(); !errors.As(err, &bad) {
			t.Errorf("%s: %v, want BadRequestException", tt.name, err)
		}
	}
	// A whitespace-only path label, as the CLI sends it.
	if resp := signedRequest(t, m, "GET", "/accounts/%20", nil, "chime"); resp.Status != 400 || resp.Header.Get("X-Amzn-Errortype") != "BadRequestException" {
		t.Fatalf("GET /accounts/%%20: %d %s", resp.Status, resp.Header.Get("X-Amzn-Errortype"))
	}
	var body struct{ Code, Message string }
	resp := signedRequest(t, m, "GET", "/accounts/nope", nil, "chime")
	json.Unmarshal(resp.Body, &body)
	if resp.Status != 404 || resp.Header.Get("X-Amzn-Errortype") != "NotFoundException" || body.Code != "NotFound" || body.Message == "" {
		t.Fatalf("GET /accounts/nope: %d %s %s", resp.Status, resp.Header.Get("X-Amzn-Errortype"), resp.Body)
	}

	var out bytes.Buffer
	if err := run(ctx(), []string{"keys", "create", "--data", m.Config.DataDir, "--account-id", "210987654321",
		"--access-key-id", "AKIAOTHERACCOUNT0002", "--secret-access-key", "other"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	other := ChimeAs(m, "AKIAOTHERACCOUNT0002", "other")
	var nf *types.NotFoundException
	if _, err := other.GetAccount(ctx(), &chime.GetAccountInput{AccountId: acc}); !errors.As(err, &nf) {
		t.Fatalf("other AWS account GetAccount = %v, want NotFoundException", err)
	}
	if _, err := other.LogoutUser(ctx(), &chime.LogoutUserInput{AccountId: acc, UserId: aws.String("x")}); !errors.As(err, &nf) {
		t.Fatalf("other AWS account LogoutUser = %v, want NotFoundException", err)
	}
	if l := must(other.ListAccounts(ctx(), &chime.ListAccountsInput{}))(t, "ListAccounts"); len(l.Accounts) != 0 {
		t.Fatalf("other AWS account lists %d accounts", len(l.Accounts))
	}
}

// Ensure LogoutUser closes every device of the user before it returns, the
// old sessions never connect again, and the user can sign in anew.
func TestLogoutUserClosesDevices(t *testing.T) {
	m := MustRunMain(t)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	alice, bob := registeredUser(t, m, acc, "alice@example.com"), registeredUser(t, m, acc, "bob@example.com")
	tok1, tok2 := mustSession(t, m, acc, alice), mustSession(t, m, acc, alice)
	phone, laptop := mustDevice(t, m, tok1), mustDevice(t, m, tok2)
	bobs := mustDevice(t, m, mustSession(t, m, acc, bob))
	if n := m.Hub.DeviceCount(); n != 3 {
		t.Fatalf("%d devices connected, want 3", n)
	}

	must(Chime(m).LogoutUser(ctx(), &chime.LogoutUserInput{AccountId: aws.String(acc), UserId: aws.String(alice)}))(t, "LogoutUser")
	if n := m.Hub.DeviceCount(); n != 1 {
		t.Fatalf("after LogoutUser %d devices connected, want 1 (bob's)", n)
	}
	for _, d := range []*chatClient{phone, laptop} {
		if f := d.Next(); f.Type != "EVENT" || f.EventName != "parley:SIGNED_OUT" || f.Attributes["Reason"] != "logout" {
			t.Fatalf("device got %+v, want parley:SIGNED_OUT", f)
		}
		if code := d.WantClose(); code != ws.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	bobs.Quiet(50 * time.Millisecond)
	for _, tok := range []string{tok1, tok2} {
		if _, status := device(t, m, tok); status != http.StatusUnauthorized {
			t.Fatalf("old session after LogoutUser: %d, want 401", status)
		}
	}
	mustDevice(t, m, mustSession(t, m, acc, alice)) // signing in again works
	u := must(Chime(m).GetUser(ctx(), &chime.GetUserInput{AccountId: aws.String(acc), UserId: aws.String(alice)}))(t, "GetUser").User
	if u.UserRegistrationStatus != types.RegistrationStatusRegistered {
		t.Fatalf("LogoutUser changed the user: %+v", u)
	}
}

// Ensure BatchSuspendUser signs suspended users out everywhere at once,
// refuses them new sessions, reports unknown IDs per item, and that
// BatchUnsuspendUser lets them sign in again (with new sessions only).
func TestSuspension(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	u1, u2, u3 := registeredUser(t, m, acc, "u1@example.com"), registeredUser(t, m, acc, "u2@example.com"), registeredUser(t, m, acc, "u3@example.com")
	old1 := mustSession(t, m, acc, u1)
	d1, d2, d3 := mustDevice(t, m, old1), mustDevice(t, m, mustSession(t, m, acc, u2)), mustDevice(t, m, mustSession(t, m, acc, u3))

	out := must(c.BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: aws.String(acc), UserIdList: []string{u1, "no-such-user", u2}}))(t, "BatchSuspendUser")
	if len(out.UserErrors) != 1 || aws.ToString(out.UserErrors[0].UserId) != "no-such-user" || out.UserErrors[0].ErrorCode != types.ErrorCodeNotFound {
		t.Fatalf("UserErrors = %+v", out.UserErrors)
	}
	if n := m.Hub.DeviceCount(); n != 1 {
		t.Fatalf("after BatchSuspendUser %d devices connected, want 1", n)
	}
	for _, d := range []*chatClient{d1, d2} {
		if f := d.Next(); f.EventName != "parley:SIGNED_OUT" || f.Attributes["Reason"] != "suspended" {
			t.Fatalf("suspended device got %+v", f)
		}
		d.WantClose()
	}
	d3.Quiet(50 * time.Millisecond)
	if u := must(c.GetUser(ctx(), &chime.GetUserInput{AccountId: aws.String(acc), UserId: aws.String(u1)}))(t, "GetUser").User; u.UserRegistrationStatus != types.RegistrationStatusSuspended {
		t.Fatalf("status = %s, want Suspended", u.UserRegistrationStatus)
	}
	if _, status := device(t, m, old1); status != http.StatusForbidden {
		t.Fatalf("old session of a suspended user: %d, want 403", status)
	}
	var body struct{ Code, Message string }
	_, resp := session(t, m, acc, u1)
	json.Unmarshal(resp.Body, &body)
	if resp.Status != http.StatusForbidden || resp.Header.Get("X-Amzn-Errortype") != "ForbiddenException" || !strings.Contains(body.Message, "suspended") {
		t.Fatalf("new session for a suspended user: %d %s", resp.Status, resp.Body)
	}
	// Suspending again is harmless.
	again := must(c.BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: aws.String(acc), UserIdList: []string{u1}}))(t, "BatchSuspendUser again")
	if len(again.UserErrors) != 0 {
		t.Fatalf("second suspension errors = %+v", again.UserErrors)
	}

	un := must(c.BatchUnsuspendUser(ctx(), &chime.BatchUnsuspendUserInput{AccountId: aws.String(acc), UserIdList: []string{u1, u3, "no-such-user"}}))(t, "BatchUnsuspendUser")
	if len(un.UserErrors) != 1 || un.UserErrors[0].ErrorCode != types.ErrorCodeNotFound {
		t.Fatalf("BatchUnsuspendUser errors = %+v", un.UserErrors)
	}
	if u := must(c.GetUser(ctx(), &chime.GetUserInput{AccountId: aws.String(acc), UserId: aws.String(u1)}))(t, "GetUser").User; u.UserRegistrationStatus != types.RegistrationStatusRegistered {
		t.Fatalf("after unsuspension status = %s, want Registered", u.UserRegistrationStatus)
	}
	if _, status := device(t, m, old1); status != http.StatusUnauthorized {
		t.Fatalf("a session from before the suspension: %d, want 401", status)
	}
	mustDevice(t, m, mustSession(t, m, acc, u1))
	d3.Quiet(50 * time.Millisecond) // u3 was never suspended and stays connected
}

// Ensure a Team account's suspended user comes back through InviteUsers,
// and an invited user signs in only after accepting the invitation.
func TestTeamSuspensionAndInvitation(t *testing.T) {
	m := MustRunMain(t)
	c := Chime(m)
	acc := aws.ToString(must(c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("Team")}))(t, "CreateAccount").Account.AccountId)
	must(c.InviteUsers(ctx(), &chime.InviteUsersInput{AccountId: aws.String(acc), UserEmailList: []string{"new@example.com"}}))(t, "InviteUsers")
	uid := aws.ToString(must(c.ListUsers(ctx(), &chime.ListUsersInput{AccountId: aws.String(acc)}))(t, "ListUsers").Users[0].UserId)
	if _, resp := session(t, m, acc, uid); resp.Status != http.StatusForbidden {
		t.Fatalf("session before accepting: %d, want 403", resp.Status)
	}
	if resp := ext(t, m, "POST", "/parley/v1/accounts/"+acc+"/users/"+uid+"/accept-invitation", "", nil); resp.Status != 200 {
		t.Fatalf("accept-invitation: %d %s", resp.Status, resp.Body)
	}
	u := must(c.GetUser(ctx(), &chime.GetUserInput{AccountId: aws.String(acc), UserId: aws.String(uid)}))(t, "GetUser").User
	if u.UserRegistrationStatus != types.RegistrationStatusRegistered || u.UserInvitationStatus != types.InviteStatusAccepted || u.RegisteredOn == nil {
		t.Fatalf("after accepting: %+v", u)
	}
	d := mustDevice(t, m, mustSession(t, m, acc, uid))
	must(c.BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: aws.String(acc), UserIdList: []string{uid}}))(t, "BatchSuspendUser")
	d.NextOf("EVENT")
	d.WantClose()
	must(c.InviteUsers(ctx(), &chime.InviteUsersInput{AccountId: aws.String(acc), UserEmailList: []string{"new@example.com"}}))(t, "InviteUsers again")
	u = must(c.GetUser(ctx(), &chime.GetUserInput{AccountId: aws.String(acc), UserId: aws.String(uid)}))(t, "GetUser").User
	if u.UserRegistrationStatus != types.RegistrationStatusRegistered {
		t.Fatalf("re-invited user status = %s, want Registered", u.UserRegistrationStatus)
	}
	mustDevice(t, m, mustSession(t, m, acc, uid))
}

// Ensure strict mode applies AWS's per-account-type rules, and the default does not.
func TestChimeStrictMode(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.ChimeStrict = true })
	c := Chime(m)
	team := must(c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("Team")}))(t, "CreateAccount").Account.AccountId
	var bad *types.BadRequestException
	if _, err := c.CreateUser(ctx(), &chime.CreateUserInput{AccountId: team, Email: aws.String("x@example.com")}); !errors.As(err, &bad) {
		t.Fatalf("strict CreateUser on Team = %v, want BadRequestException", err)
	}
	if _, err := c.BatchUnsuspendUser(ctx(), &chime.BatchUnsuspendUserInput{AccountId: team, UserIdList: []string{"x"}}); !errors.As(err, &bad) {
		t.Fatalf("strict BatchUnsuspendUser on Team = %v, want BadRequestException", err)
	}
	lwa := typedAccount(t, m, "LWA", "EnterpriseLWA")
	if _, err := c.InviteUsers(ctx(), &chime.InviteUsersInput{AccountId: aws.String(lwa), UserEmailList: []string{"x@example.com"}}); !errors.As(err, &bad) {
		t.Fatalf("strict InviteUsers on EnterpriseLWA = %v, want BadRequestException", err)
	}
	loose := MustRunMain(t)
	team2 := must(Chime(loose).CreateAccount(ctx(), &chime.CreateAccountInput{Name: aws.String("Team")}))(t, "CreateAccount").Account.AccountId
	must(Chime(loose).CreateUser(ctx(), &chime.CreateUserInput{AccountId: team2, Email: aws.String("x@example.com")}))(t, "permissive CreateUser on Team")
}

// Ensure revocations are in the audit trail, readable through the extension and the CLI.
func TestAudit(t *testing.T) {
	m := MustRunMain(t)
	acc := typedAccount(t, m, "Corp", "EnterpriseLWA")
	u := registeredUser(t, m, acc, "a@example.com")
	must(Chime(m).LogoutUser(ctx(), &chime.LogoutUserInput{AccountId: aws.String(acc), UserId: aws.String(u)}))(t, "LogoutUser")
	must(Chime(m).BatchSuspendUser(ctx(), &chime.BatchSuspendUserInput{AccountId: aws.String(acc), UserIdList: []string{u, "ghost"}}))(t, "BatchSuspendUser")
	room := newRoom(t, m, nil)
	must(IVS(m).DisconnectUser(ctx(), &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("troll")}))(t, "DisconnectUser")

	var out struct {
		Records []struct{ Caller, Action, Target, Result string }
	}
	if resp := ext(t, m, "GET", "/parley/v1/audit", "", &out); resp.Status != 200 {
		t.Fatalf("audit: %d %s", resp.Status, resp.Body)
	}
	var got []string
	for _, r := range out.Records {
		if r.Caller != testKeyID {
			t.Errorf("record %+v: caller %q, want %s", r, r.Caller, testKeyID)
		}
		got = append(got, r.Action+" "+r.Result)
	}
	want := []string{"LogoutUser ok", "BatchSuspendUser ok", "BatchSuspendUser user ghost not found", "DisconnectUser ok"}
	if strings.Join(got, "|") != strings.Join(want, "|") && strings.Join(got, "|") != strings.Join([]string{want[0], want[2], want[1], want[3]}, "|") {
		t.Fatalf("audit = %v, want %v", got, want)
	}
	var buf bytes.Buffer
	if err := run(ctx(), []string{"audit", "--data", m.Config.DataDir}, &buf, &buf); err != nil {
		t.Fatalf("parley audit: %v", err)
	}
	if s := buf.String(); !strings.Contains(s, "LogoutUser") || !strings.Contains(s, "account/"+acc+"/user/"+u) || !strings.Contains(s, "DisconnectUser") {
		t.Fatalf("parley audit printed:\n%s", s)
	}
}

// Ensure "parley call" reaches the extensions with the credentials "parley env" exports.
func TestCallCommand(t *testing.T) {
	m := MustRunMain(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("PARLEY_ENDPOINT", m.URL)
	var out bytes.Buffer
	if err := run(ctx(), []string{"call", "POST", "/parley/v1/accounts", `{"Name":"Via CLI","AccountType":"EnterpriseLWA"}`}, &out, &out); err != nil {
		t.Fatalf("parley call: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"AccountType":"EnterpriseLWA"`) {
		t.Fatalf("parley call printed %s", out.String())
	}
	out.Reset()
	err := run(ctx(), []string{"call", "GET", "/accounts/nope"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "NotFoundException") {
		t.Fatalf("parley call of a missing account: %v", err)
	}
}
