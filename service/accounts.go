package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/parley-chat/parley"
)

// Accounts is Chime's accounts, users and their sessions: sign-in,
// LogoutUser and suspension.
type Accounts struct {
	*Core
	Store AccountStore
	Chime ChimeOptions
}

// AccountStore is what Accounts reads and writes.
type AccountStore interface {
	CreateChimeAccount(ctx context.Context, a *parley.ChimeAccount) error
	ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error)
	ListChimeAccounts(ctx context.Context, aws string, f parley.ChimeAccountFilter) (_ []*parley.ChimeAccount, next string, _ error)
	UpdateChimeAccount(ctx context.Context, k parley.ChimeAccountKey, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error)
	DeleteChimeAccount(ctx context.Context, k parley.ChimeAccountKey) error
	CreateChimeUser(ctx context.Context, u *parley.ChimeUser) error
	ChimeUser(ctx context.Context, k parley.ChimeUserKey) (*parley.ChimeUser, error)
	ListChimeUsers(ctx context.Context, a parley.ChimeAccountKey, f parley.ChimeUserFilter) (_ []*parley.ChimeUser, next string, _ error)
	UpdateChimeUser(ctx context.Context, k parley.ChimeUserKey, fn func(*parley.ChimeUser) error) (*parley.ChimeUser, error)
}

// Chime licenses a new account supports, and its default.
var (
	defaultLicenses = []string{"Basic", "Pro"}
	defaultLicense  = "Pro"
)

// ChimeOptions tune the Chime operations.
type ChimeOptions struct {
	// Strict enforces AWS's per-account-type rules (rooms, bots, CreateUser
	// and unsuspension only where AWS allows them). Off by default, so every
	// operation works on every account type.
	Strict bool
	// SessionLifetime is how long a device session lasts; zero means 12 hours.
	SessionLifetime time.Duration
	// Bots delivers bot events; nil delivers none.
	Bots BotCaller
}

// awsAccount returns the caller's AWS account; Chime is global, so the region does not partition it.
func awsAccount(ctx context.Context) (string, error) {
	sc, err := scope(ctx)
	return sc.AccountID, err
}

// accountKey names the caller's Chime account accountID.
func accountKey(ctx context.Context, accountID string) (parley.ChimeAccountKey, error) {
	aws, err := awsAccount(ctx)
	return parley.ChimeAccountKey{AWS: aws, Account: accountID}, err
}

func newUUID() string { return uuid.NewString() }

// CreateChimeAccount creates an account; typ is Team unless the parley
// extension asked for another type.
func (s *Accounts) CreateChimeAccount(ctx context.Context, name string, typ parley.ChimeAccountType) (*parley.ChimeAccount, error) {
	aws, err := awsAccount(ctx)
	if err != nil {
		return nil, err
	}
	if typ == "" {
		typ = parley.AccountTeam
	}
	a := &parley.ChimeAccount{AwsAccountID: aws, AccountID: newUUID(), Name: name, Type: typ, Status: "Active",
		DefaultLicense: defaultLicense, SupportedLicenses: defaultLicenses, SigninDelegateGroups: []string{}, CreateTime: s.Clock.Now()}
	return a, s.Store.CreateChimeAccount(ctx, a)
}

// GetChimeAccount returns one of the caller's accounts.
func (s *Accounts) GetChimeAccount(ctx context.Context, id string) (*parley.ChimeAccount, error) {
	k, err := accountKey(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.Store.ChimeAccount(ctx, k)
}

// ListChimeAccounts lists the caller's accounts.
func (s *Accounts) ListChimeAccounts(ctx context.Context, f parley.ChimeAccountFilter) ([]*parley.ChimeAccount, string, error) {
	aws, err := awsAccount(ctx)
	if err != nil {
		return nil, "", err
	}
	if f.MaxResults == 0 {
		f.MaxResults = 100
	}
	return s.Store.ListChimeAccounts(ctx, aws, f)
}

// UpdateChimeAccount changes an account's name or default license.
func (s *Accounts) UpdateChimeAccount(ctx context.Context, id string, name, license *string) (*parley.ChimeAccount, error) {
	return s.updateAccount(ctx, id, func(a *parley.ChimeAccount) error {
		if license != nil {
			if !contains(a.SupportedLicenses, *license) {
				return parley.Invalid("DefaultLicense", "must be one of the account's supported licenses %v", a.SupportedLicenses)
			}
			a.DefaultLicense = *license
		}
		if name != nil {
			a.Name = *name
		}
		return nil
	})
}

// DeleteChimeAccount deletes an account whose users are all suspended;
// every node forgets it before it returns.
func (s *Accounts) DeleteChimeAccount(ctx context.Context, id string) error {
	k, err := accountKey(ctx, id)
	if err != nil {
		return err
	}
	return s.Control.Do(ctx, func(ctx context.Context) error { return s.Store.DeleteChimeAccount(ctx, k) }, s.accountChanged(k))
}

// UpdateChimeAccountSettings merges the settings given.
func (s *Accounts) UpdateChimeAccountSettings(ctx context.Context, id string, disableRemoteControl, enableDialOut *bool) error {
	_, err := s.updateAccount(ctx, id, func(a *parley.ChimeAccount) error {
		if disableRemoteControl != nil {
			a.DisableRemoteControl = *disableRemoteControl
		}
		if enableDialOut != nil {
			a.EnableDialOut = *enableDialOut
		}
		return nil
	})
	return err
}

// updateAccount applies fn to the caller's account id.
func (s *Accounts) updateAccount(ctx context.Context, id string, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error) {
	k, err := accountKey(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.updateChimeAccount(ctx, s.Store, k, fn)
}

// accountUpdater is a store that updates Chime accounts.
type accountUpdater interface {
	UpdateChimeAccount(ctx context.Context, k parley.ChimeAccountKey, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error)
}

// updateChimeAccount applies fn to account k in st, and every node forgets
// the account before it returns (nodes keep accounts in memory: package
// cache). If a node did not confirm, the change is made all the same and
// returned with the error: that node forgets the account within the lease.
func (s *Core) updateChimeAccount(ctx context.Context, st accountUpdater, k parley.ChimeAccountKey, fn func(*parley.ChimeAccount) error) (*parley.ChimeAccount, error) {
	var a *parley.ChimeAccount
	err := s.Control.Do(ctx, func(ctx context.Context) (err error) {
		a, err = st.UpdateChimeAccount(ctx, k, fn)
		return err
	}, s.accountChanged(k))
	return a, err
}

// accountChanged is the command that makes every node forget account k.
func (s *Core) accountChanged(k parley.ChimeAccountKey) parley.Command {
	return parley.Command{Op: parley.OpChimeAccountChanged, Chime: parley.ChimeRoomKey{ChimeAccountKey: k}, Time: s.Clock.Now()}
}

// Invite is the outcome of inviting one e-mail address.
type Invite struct {
	InviteID, Status, Email, EmailStatus string
}

// InviteUsers invites addresses to an account: a new address becomes an
// Unregistered user with a pending invitation; a suspended user is restored
// (the documented way back for Team accounts); an active user is unchanged.
func (s *Accounts) InviteUsers(ctx context.Context, accountID string, emails []string, userType string) ([]Invite, error) {
	k, a, err := s.account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if s.Chime.Strict && a.Type != parley.AccountTeam {
		return nil, parley.Errorf(parley.KindInvalid, "InviteUsers is supported for Team accounts only")
	}
	if userType == "" {
		userType = "PrivateUser"
	}
	invites := []Invite{}
	now := s.Clock.Now()
	for _, email := range emails {
		inviteID := newUUID()
		existing, _, err := s.Store.ListChimeUsers(ctx, k, parley.ChimeUserFilter{Email: email, Page: parley.Page{MaxResults: 1}})
		if err != nil {
			return nil, err
		}
		if len(existing) == 0 {
			u := &parley.ChimeUser{AwsAccountID: k.AWS, AccountID: k.Account, UserID: newUUID(), PrimaryEmail: email, LicenseType: a.DefaultLicense,
				UserType: userType, RegistrationStatus: parley.UserUnregistered, InvitationStatus: "Pending", InviteID: inviteID, InvitedOn: now,
				PersonalPIN: newPIN(""), InboundCalling: true, OutboundCalling: true, SMS: true, CreateTime: now}
			if err := s.Store.CreateChimeUser(ctx, u); err != nil {
				return nil, err
			}
		} else if existing[0].RegistrationStatus == parley.UserSuspended {
			if _, err := s.Store.UpdateChimeUser(ctx, k.User(existing[0].UserID), func(u *parley.ChimeUser) error {
				u.RegistrationStatus = parley.UserUnregistered
				if !u.RegisteredOn.IsZero() {
					u.RegistrationStatus = parley.UserRegistered
				}
				u.InvitationStatus, u.InviteID, u.InvitedOn = "Pending", inviteID, now
				return nil
			}); err != nil {
				return nil, err
			}
		}
		invites = append(invites, Invite{InviteID: inviteID, Status: "Pending", Email: email, EmailStatus: "Sent"})
	}
	return invites, nil
}

// account returns the key and the record of the caller's Chime account.
func (s *Accounts) account(ctx context.Context, accountID string) (parley.ChimeAccountKey, *parley.ChimeAccount, error) {
	return chimeAccount(ctx, s.Store, accountID)
}

// chimeAccount returns the key and the record of the caller's Chime account accountID.
func chimeAccount(ctx context.Context, st interface {
	ChimeAccount(ctx context.Context, k parley.ChimeAccountKey) (*parley.ChimeAccount, error)
}, accountID string) (parley.ChimeAccountKey, *parley.ChimeAccount, error) {
	k, err := accountKey(ctx, accountID)
	if err != nil {
		return k, nil, err
	}
	a, err := st.ChimeAccount(ctx, k)
	return k, a, err
}

// CreateChimeUser creates a registered user (directory and shared-device
// profiles in AWS; strict mode refuses it on Team accounts, as AWS does).
func (s *Accounts) CreateChimeUser(ctx context.Context, accountID, username, email, userType string) (*parley.ChimeUser, error) {
	k, a, err := s.account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if s.Chime.Strict && a.Type == parley.AccountTeam {
		return nil, parley.Errorf(parley.KindInvalid, "Service received a bad request: CreateUser is not supported for Team accounts")
	}
	if userType == "" {
		userType = "PrivateUser"
	}
	display := username
	if display == "" {
		display, _, _ = strings.Cut(email, "@")
	}
	now := s.Clock.Now()
	u := &parley.ChimeUser{AwsAccountID: k.AWS, AccountID: k.Account, UserID: newUUID(), PrimaryEmail: email, DisplayName: display,
		LicenseType: a.DefaultLicense, UserType: userType, RegistrationStatus: parley.UserRegistered, RegisteredOn: now,
		PersonalPIN: newPIN(""), InboundCalling: true, OutboundCalling: true, SMS: true, CreateTime: now}
	f := false
	u.AlexaEnabled = &f
	return u, s.Store.CreateChimeUser(ctx, u)
}

// GetChimeUser returns a user.
func (s *Accounts) GetChimeUser(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error) {
	k, err := accountKey(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.Store.ChimeUser(ctx, k.User(userID))
}

// ListChimeUsers lists an account's users.
func (s *Accounts) ListChimeUsers(ctx context.Context, accountID string, f parley.ChimeUserFilter) ([]*parley.ChimeUser, string, error) {
	k, err := accountKey(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	if f.MaxResults == 0 {
		f.MaxResults = 100
	}
	return s.Store.ListChimeUsers(ctx, k, f)
}

// UserUpdate lists what UpdateUser changes; nil means unchanged.
type UserUpdate struct {
	UserID       string
	LicenseType  *string
	UserType     *string
	AlexaEnabled *bool
	AlexaRoomARN *string
}

// UpdateChimeUser applies one update.
func (s *Accounts) UpdateChimeUser(ctx context.Context, accountID string, in UserUpdate) (*parley.ChimeUser, error) {
	k, a, err := s.account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.Store.UpdateChimeUser(ctx, k.User(in.UserID), func(u *parley.ChimeUser) error {
		if in.LicenseType != nil {
			if !contains(a.SupportedLicenses, *in.LicenseType) {
				return parley.Invalid("LicenseType", "must be one of the account's supported licenses %v", a.SupportedLicenses)
			}
			u.LicenseType = *in.LicenseType
		}
		if in.UserType != nil {
			u.UserType = *in.UserType
		}
		if in.AlexaEnabled != nil {
			u.AlexaEnabled = in.AlexaEnabled
		}
		if in.AlexaRoomARN != nil {
			u.AlexaRoomARN = *in.AlexaRoomARN
		}
		return nil
	})
}

// UserError is one failed item of a batch.
type UserError struct {
	UserID, Code, Message string
}

// chimeCode is the Chime ErrorCode of a per-item failure.
func chimeCode(err error) string {
	switch parley.KindOf(err) {
	case parley.KindNotFound:
		return "NotFound"
	case parley.KindInvalid:
		return "BadRequest"
	case parley.KindConflict:
		return "Conflict"
	case parley.KindForbidden:
		return "Forbidden"
	case parley.KindUnavailable:
		return "ServiceUnavailable"
	}
	return "ServiceFailure"
}

func userError(id string, err error) UserError {
	return UserError{UserID: id, Code: chimeCode(err), Message: parley.AsError(err).Message}
}

// BatchUpdateUser applies each update; failures are reported per item.
func (s *Accounts) BatchUpdateUser(ctx context.Context, accountID string, items []UserUpdate) ([]UserError, error) {
	if _, _, err := s.account(ctx, accountID); err != nil {
		return nil, err
	}
	errs := []UserError{}
	for _, it := range items {
		if _, err := s.UpdateChimeUser(ctx, accountID, it); err != nil {
			if k := parley.KindOf(err); k == parley.KindInternal || k == parley.KindUnavailable {
				return nil, err
			}
			errs = append(errs, userError(it.UserID, err))
		}
	}
	return errs, nil
}

// ResetPersonalPIN gives the user a new personal meeting PIN.
func (s *Accounts) ResetPersonalPIN(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error) {
	k, err := accountKey(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.Store.UpdateChimeUser(ctx, k.User(userID), func(u *parley.ChimeUser) error {
		u.PersonalPIN = newPIN(u.PersonalPIN)
		return nil
	})
}

// UpdateUserSettings replaces the user's telephony settings.
func (s *Accounts) UpdateUserSettings(ctx context.Context, accountID, userID string, inbound, outbound, sms bool) error {
	k, err := accountKey(ctx, accountID)
	if err != nil {
		return err
	}
	_, err = s.Store.UpdateChimeUser(ctx, k.User(userID), func(u *parley.ChimeUser) error {
		u.InboundCalling, u.OutboundCalling, u.SMS = inbound, outbound, sms
		return nil
	})
	return err
}

// newPIN returns 10 random digits, different from old.
func newPIN(old string) string {
	for {
		n, _ := rand.Int(rand.Reader, big.NewInt(1e10))
		if pin := fmt.Sprintf("%010d", n); pin != old {
			return pin
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
