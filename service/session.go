package service

import (
	"context"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chattoken"
	"github.com/parley-chat/parley/control"
)

// signOut is the command that closes every device connection of the user.
func (s *Accounts) signOut(u parley.ChimeUserKey, reason string) parley.Command {
	return parley.Command{ID: parley.NewID(), Op: parley.OpSignOut, Chime: parley.ChimeRoomKey{ChimeAccountKey: u.ChimeAccountKey},
		Users: []string{u.User}, Reason: reason, Time: s.Clock.Now()}
}

func userTarget(accountID, userID string) string { return "account/" + accountID + "/user/" + userID }

// LogoutUser signs a user out of every device: the user's sessions are
// revoked (one row update, durable) and every live device connection is
// closed before it returns. The user may sign in again.
func (s *Accounts) LogoutUser(ctx context.Context, accountID, userID string) (err error) {
	a, err := accountKey(ctx, accountID)
	if err != nil {
		return err
	}
	k := a.User(userID)
	defer func() { s.audit(ctx, "LogoutUser", userTarget(accountID, userID), err) }()
	return s.Control.Do(ctx, func(ctx context.Context) error {
		_, err := s.Store.UpdateChimeUser(ctx, k, func(u *parley.ChimeUser) error {
			u.SessionEpoch++
			return nil
		})
		return err
	}, s.signOut(k, "logout"))
}

// BatchSuspendUser suspends users. For each, the status change and the
// revocation of its sessions are one atomic update, so no user is ever
// suspended but able to connect, or signed out but not suspended. Then
// every live device connection of the suspended users is closed.
func (s *Accounts) BatchSuspendUser(ctx context.Context, accountID string, ids []string) ([]UserError, error) {
	k, a, err := s.account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if s.Chime.Strict && a.Type != parley.AccountTeam && a.Type != parley.AccountEnterpriseLWA {
		return nil, parley.Errorf(parley.KindInvalid, "users of %s accounts are suspended in their directory", a.Type)
	}
	errs := []UserError{}
	var (
		cmds  []parley.Command
		fatal error
	)
	for _, id := range ids {
		// The suspension and its sign-out command commit together.
		cmd := s.signOut(k.User(id), "suspended")
		_, err := s.Store.UpdateChimeUser(parley.WithOutbox(ctx, control.Entry(&cmd)), k.User(id), func(u *parley.ChimeUser) error {
			if u.RegistrationStatus != parley.UserSuspended {
				u.RegistrationStatus = parley.UserSuspended
				u.SessionEpoch++
			}
			return nil
		})
		if err != nil {
			s.audit(ctx, "BatchSuspendUser", userTarget(accountID, id), err)
			if k := parley.KindOf(err); k == parley.KindInternal || k == parley.KindUnavailable {
				fatal = err
				break
			}
			errs = append(errs, userError(id, err))
			continue
		}
		cmds = append(cmds, cmd)
	}
	// The users suspended so far are signed out and audited even if the
	// batch stopped half-way.
	err = s.Control.Deliver(ctx, cmds...)
	for _, c := range cmds {
		s.audit(ctx, "BatchSuspendUser", userTarget(accountID, c.Users[0]), err)
	}
	if fatal != nil {
		return nil, fatal
	}
	return errs, err
}

// BatchUnsuspendUser returns suspended users to Registered; users that are
// not suspended are left alone.
func (s *Accounts) BatchUnsuspendUser(ctx context.Context, accountID string, ids []string) ([]UserError, error) {
	k, a, err := s.account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if s.Chime.Strict && a.Type != parley.AccountEnterpriseLWA {
		return nil, parley.Errorf(parley.KindInvalid, "only users of EnterpriseLWA accounts can be unsuspended; invite Team users again")
	}
	errs := []UserError{}
	for _, id := range ids {
		_, err := s.Store.UpdateChimeUser(ctx, k.User(id), func(u *parley.ChimeUser) error {
			if u.RegistrationStatus == parley.UserSuspended {
				u.RegistrationStatus = parley.UserRegistered
			}
			return nil
		})
		s.audit(ctx, "BatchUnsuspendUser", userTarget(accountID, id), err)
		if err != nil {
			if k := parley.KindOf(err); k == parley.KindInternal || k == parley.KindUnavailable {
				return nil, err
			}
			errs = append(errs, userError(id, err))
		}
	}
	return errs, nil
}

// AcceptInvitation registers an invited user, as following the e-mailed
// invitation would (that flow has no API).
func (s *Accounts) AcceptInvitation(ctx context.Context, accountID, userID string) (*parley.ChimeUser, error) {
	k, err := accountKey(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	return s.Store.UpdateChimeUser(ctx, k.User(userID), func(u *parley.ChimeUser) error {
		switch {
		case u.RegistrationStatus == parley.UserSuspended:
			return parley.Errorf(parley.KindForbidden, "user %s is suspended", userID)
		case u.InvitationStatus != "Pending":
			return parley.Errorf(parley.KindConflict, "user %s has no pending invitation", userID)
		}
		u.RegistrationStatus, u.InvitationStatus = parley.UserRegistered, "Accepted"
		if u.RegisteredOn.IsZero() {
			u.RegisteredOn = now
		}
		if u.DisplayName == "" {
			u.DisplayName, _, _ = strings.Cut(u.PrimaryEmail, "@")
		}
		return nil
	})
}

// CreateDeviceSession signs a registered user in on a device: the token
// opens the device WebSocket. Suspended and unregistered users are refused.
func (s *Accounts) CreateDeviceSession(ctx context.Context, sealer *chattoken.Sealer, accountID, userID string) (string, *parley.DeviceSession, error) {
	k, err := accountKey(ctx, accountID)
	if err != nil {
		return "", nil, err
	}
	u, err := s.Store.ChimeUser(ctx, k.User(userID))
	if err != nil {
		return "", nil, err
	}
	switch u.RegistrationStatus {
	case parley.UserSuspended:
		return "", nil, parley.Errorf(parley.KindForbidden, "user %s is suspended and cannot sign in", userID)
	case parley.UserUnregistered:
		return "", nil, parley.Errorf(parley.KindForbidden, "user %s has not accepted the invitation yet", userID)
	}
	life := s.Chime.SessionLifetime
	if life == 0 {
		life = 12 * time.Hour
	}
	now := s.Clock.Now()
	d := &parley.DeviceSession{ID: newUUID(), AwsAccountID: k.AWS, AccountID: k.Account, UserID: userID, Epoch: u.SessionEpoch,
		IssueTime: now, Expires: now.Add(life)}
	tok, err := sealer.SealSession(d)
	if err != nil {
		return "", nil, parley.Internal("service.CreateDeviceSession", err)
	}
	return tok, d, nil
}
