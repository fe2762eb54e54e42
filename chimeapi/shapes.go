package chimeapi

import (
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
	"github.com/parley-chat/parley/service"
)

type groupJSON struct {
	GroupName string `json:"GroupName"`
}

type accountJSON struct {
	AwsAccountID         string      `json:"AwsAccountId"`
	AccountID            string      `json:"AccountId"`
	Name                 string      `json:"Name"`
	AccountType          string      `json:"AccountType"`
	CreatedTimestamp     string      `json:"CreatedTimestamp"`
	DefaultLicense       string      `json:"DefaultLicense"`
	SupportedLicenses    []string    `json:"SupportedLicenses"`
	AccountStatus        string      `json:"AccountStatus"`
	SigninDelegateGroups []groupJSON `json:"SigninDelegateGroups"`
}

func accountOut(a *parley.ChimeAccount) accountJSON {
	out := accountJSON{AwsAccountID: a.AwsAccountID, AccountID: a.AccountID, Name: a.Name, AccountType: string(a.Type),
		CreatedTimestamp: awsproto.Time(a.CreateTime), DefaultLicense: a.DefaultLicense, SupportedLicenses: a.SupportedLicenses,
		AccountStatus: a.Status, SigninDelegateGroups: []groupJSON{}}
	for _, g := range a.SigninDelegateGroups {
		out.SigninDelegateGroups = append(out.SigninDelegateGroups, groupJSON{GroupName: g})
	}
	return out
}

type alexaJSON struct {
	IsAlexaForBusinessEnabled *bool   `json:"IsAlexaForBusinessEnabled,omitempty"`
	AlexaForBusinessRoomArn   *string `json:"AlexaForBusinessRoomArn,omitempty"`
}

type userJSON struct {
	UserID                   string     `json:"UserId"`
	AccountID                string     `json:"AccountId"`
	PrimaryEmail             string     `json:"PrimaryEmail,omitempty"`
	PrimaryProvisionedNumber string     `json:"PrimaryProvisionedNumber,omitempty"`
	DisplayName              string     `json:"DisplayName,omitempty"`
	LicenseType              string     `json:"LicenseType,omitempty"`
	UserType                 string     `json:"UserType,omitempty"`
	UserRegistrationStatus   string     `json:"UserRegistrationStatus,omitempty"`
	UserInvitationStatus     string     `json:"UserInvitationStatus,omitempty"`
	RegisteredOn             string     `json:"RegisteredOn,omitempty"`
	InvitedOn                string     `json:"InvitedOn,omitempty"`
	AlexaForBusinessMetadata *alexaJSON `json:"AlexaForBusinessMetadata,omitempty"`
	PersonalPIN              string     `json:"PersonalPIN,omitempty"`
}

// userOut renders a user; lists leave out the personal PIN, as AWS does.
func userOut(u *parley.ChimeUser, withPIN bool) userJSON {
	out := userJSON{UserID: u.UserID, AccountID: u.AccountID, PrimaryEmail: u.PrimaryEmail, PrimaryProvisionedNumber: u.PrimaryNumber,
		DisplayName: u.DisplayName, LicenseType: u.LicenseType, UserType: u.UserType, UserRegistrationStatus: u.RegistrationStatus,
		UserInvitationStatus: u.InvitationStatus}
	if !u.RegisteredOn.IsZero() {
		out.RegisteredOn = awsproto.Time(u.RegisteredOn)
	}
	if !u.InvitedOn.IsZero() {
		out.InvitedOn = awsproto.Time(u.InvitedOn)
	}
	if u.AlexaEnabled != nil || u.AlexaRoomARN != "" {
		out.AlexaForBusinessMetadata = &alexaJSON{IsAlexaForBusinessEnabled: u.AlexaEnabled}
		if u.AlexaRoomARN != "" {
			out.AlexaForBusinessMetadata.AlexaForBusinessRoomArn = &u.AlexaRoomARN
		}
	}
	if withPIN {
		out.PersonalPIN = u.PersonalPIN
	}
	return out
}

type userErrorJSON struct {
	UserID       string `json:"UserId"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func userErrorsOut(errs []service.UserError) map[string][]userErrorJSON {
	out := []userErrorJSON{}
	for _, e := range errs {
		out = append(out, userErrorJSON{UserID: e.UserID, ErrorCode: e.Code, ErrorMessage: e.Message})
	}
	return map[string][]userErrorJSON{"UserErrors": out}
}

type telephonyJSON struct {
	InboundCalling  *bool `json:"InboundCalling"`
	OutboundCalling *bool `json:"OutboundCalling"`
	SMS             *bool `json:"SMS"`
}
