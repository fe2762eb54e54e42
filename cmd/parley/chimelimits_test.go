package main

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/chime/types"
)

// Ensure the Chime API is throttled at the rate the operator sets, per
// operation, with the 429 ThrottledClientException its clients model.
func TestChimeThrottling(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.ThrottleScale, c.ChimeRate = 1, 3 })
	c := Chime(m)
	passed := 0
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		if _, err = c.ListAccounts(ctx(), &chime.ListAccountsInput{}); err == nil {
			passed++
		}
	}
	var throttled *types.ThrottledClientException
	if !errors.As(err, &throttled) {
		t.Fatalf("ListAccounts past 3/s: %v, want ThrottledClientException", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusTooManyRequests {
		t.Fatalf("status of %v, want 429", err)
	}
	if passed < 3 || passed > 5 {
		t.Fatalf("%d calls passed before throttling, want about 3", passed)
	}
	must(c.CreateAccount(ctx(), &chime.CreateAccountInput{Name: ptr("own bucket")}))(t, "CreateAccount, another operation")

	// Off at a rate of 0.
	m = MustRunMain(t, func(c *Config) { c.ThrottleScale, c.ChimeRate = 1, 0 })
	for range 30 {
		must(Chime(m).ListAccounts(ctx(), &chime.ListAccountsInput{}))(t, "ListAccounts unthrottled")
	}
}

func ptr[T any](v T) *T { return &v }
