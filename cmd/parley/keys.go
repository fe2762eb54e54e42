package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cache"
	"github.com/parley-chat/parley/control"
	"github.com/parley-chat/parley/natsbus"
)

// storeCommand parses a subcommand's flags (the server's, for --data and
// --store) and opens the store they name; the caller closes it.
func storeCommand(ctx context.Context, name string, args []string, stderr io.Writer, more ...func(*flag.FlagSet)) (Config, Store, error) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	for _, f := range more {
		f(fs)
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if err := c.readSecret(); err != nil {
		return c, nil, err
	}
	s, err := openStore(ctx, c)
	return c, s, err
}

// keys manages access keys in the store: "keys create" and "keys list".
func keys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		return fmt.Errorf("usage: parley keys create|list [flags]")
	}
	sub := args[0]
	var replace bool
	c, s, err := storeCommand(ctx, "keys "+sub, args[1:], stderr, func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.BoolVar(&replace, "replace", false, "replace the secret and account of an existing access key ID")
		}
	})
	if err != nil {
		return err
	}
	defer s.Close()
	if sub == "list" {
		ks, err := s.AccessKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range ks {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", k.ID, k.AccountID, k.CreateTime.Format("2006-01-02T15:04:05Z"))
		}
		return nil
	}
	if c.AccountID != "" && !isAccountID(c.AccountID) {
		return fmt.Errorf("account ID %q must be 12 digits", c.AccountID)
	}
	k := &parley.AccessKey{ID: c.AccessKeyID, Secret: c.SecretAccessKey, AccountID: c.AccountID, CreateTime: parley.SystemClock{}.Now()}
	generated := k.ID == ""
	switch {
	case generated && k.Secret != "":
		return errors.New("a secret needs its --access-key-id")
	case generated:
		k.ID, k.Secret = parley.NewAccessKeyID(), parley.NewSecretAccessKey()
	case k.Secret == "":
		// A key with an empty secret would let anyone who knows its ID sign.
		return errors.New("--access-key-id needs its secret: --secret-access-key-file, PARLEY_SECRET_ACCESS_KEY or --secret-access-key")
	}
	old, err := s.AccessKey(ctx, k.ID)
	switch {
	case err == nil && !replace:
		return fmt.Errorf("access key %s already exists (account %s); --replace replaces its secret and account", k.ID, old.AccountID)
	case err != nil && parley.KindOf(err) != parley.KindNotFound:
		return err
	}
	if k.AccountID == "" {
		k.AccountID = parley.NewAccountID()
	}
	var told string
	if old == nil {
		// No server keeps an unknown key ID in memory: nothing to tell.
		err = s.PutAccessKey(ctx, k)
	} else {
		told, err = replaceKey(ctx, c, s, stderr, k)
	}
	if err != nil {
		return err
	}
	secret := "(as given)"
	if generated { // nowhere else to learn it
		secret = k.Secret
	}
	fmt.Fprintf(stdout, "account ID:         %s\naccess key ID:      %s\nsecret access key:  %s\n", k.AccountID, k.ID, secret)
	if told != "" {
		fmt.Fprintf(stdout, "running servers:    %s\n", told)
	}
	return nil
}

// keyChanged is the command that makes every node forget access key id.
func keyChanged(id string, clock parley.Clock) parley.Command {
	return parley.Command{Op: parley.OpAccessKeyChanged, AccessKey: id, Time: clock.Now()}
}

// replaceKey stores k over the key of the same ID, and returns once every
// running server has forgotten the old one, saying how many did. It
// reaches them over NATS if the configuration names it, and through the
// store in any case: servers read commands there at each heartbeat. If a
// server does not confirm within the command timeout, the key is replaced
// all the same, with a warning of what that means.
func replaceKey(ctx context.Context, c Config, s Store, stderr io.Writer, k *parley.AccessKey) (string, error) {
	log := newLogger(stderr, c)
	var bus parley.Bus
	if c.Bus != "inmem" {
		b, err := natsbus.Connect(c.Bus, "parley-cli-"+parley.NewID(), log)
		if err != nil {
			log.Warn("no bus: telling the servers through the store", "err", err)
		} else {
			bus = b
			defer b.Close(context.WithoutCancel(ctx))
		}
	}
	caller := control.NewCaller(s, bus, log, control.Config{Heartbeat: c.HeartbeatInterval, Lease: c.Lease, Timeout: c.CommandTimeout})
	n, err := caller.Do(ctx, func(ctx context.Context) error { return s.PutAccessKey(ctx, k) }, keyChanged(k.ID, parley.SystemClock{}))
	switch {
	case err != nil && !control.Queued(err):
		return "", err
	case err != nil:
		fmt.Fprintf(stderr, "parley: warning: the key is replaced, but not every running server confirmed it: %v.\n"+
			"A server keeps a key in memory at most %s: one that did not confirm refuses the old secret at most %s after the change.\n",
			err, cache.KeyTTL, cache.KeyTTL)
		return fmt.Sprintf("%d confirmed, not all (see the warning)", n), nil
	case n == 0:
		return "none on this store", nil
	}
	return fmt.Sprintf("%d told; the old secret is refused from now on", n), nil
}

// env prints shell exports that point the AWS CLI and SDKs at this server,
// using the first access key (or the one named by --access-key-id).
func env(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, s, err := storeCommand(ctx, "env", args, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	var k *parley.AccessKey
	if c.AccessKeyID != "" {
		k, err = s.AccessKey(ctx, c.AccessKeyID)
	} else {
		var ks []*parley.AccessKey
		if ks, err = s.AccessKeys(ctx); err == nil && len(ks) == 0 {
			err = fmt.Errorf("no access keys in %s yet: start the server once first", c.DataDir)
		} else if err == nil {
			k = ks[0]
		}
	}
	if err != nil {
		return err
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_REGION=%s\nexport AWS_DEFAULT_REGION=%s\nexport PARLEY_ENDPOINT=%s\nexport PARLEY_ACCOUNT_ID=%s\n",
		q(k.ID), q(k.Secret), q(c.Region), q(c.Region), q("http://"+c.Addr), q(k.AccountID))
	return nil
}

// audit prints the audit trail of revocation and moderation calls of an
// AWS account (--account-id; every account with access keys when omitted).
func audit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, s, err := storeCommand(ctx, "audit", args, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	accounts := []string{c.AccountID}
	if c.AccountID == "" {
		ks, err := s.AccessKeys(ctx)
		if err != nil {
			return err
		}
		accounts = nil
		seen := map[string]bool{}
		for _, k := range ks {
			if !seen[k.AccountID] {
				seen[k.AccountID] = true
				accounts = append(accounts, k.AccountID)
			}
		}
	}
	for _, acct := range accounts {
		token := ""
		for {
			recs, next, err := s.ListAudit(ctx, acct, parley.Page{MaxResults: 200, NextToken: token})
			if err != nil {
				return err
			}
			for _, r := range recs {
				fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.Format("2006-01-02T15:04:05.000Z"),
					field(r.AwsAccountID), field(r.Caller), field(r.Action), field(r.Target), field(r.Result), field(r.Detail))
			}
			if token = next; token == "" {
				break
			}
		}
	}
	return nil
}

// field makes an audit field safe to print on one line: a value with a
// control character (a newline would forge a record, a tab a column), a
// quote, a backslash, or anything else unprintable is printed Go-quoted.
func field(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) || r == '"' || r == '\\' }) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}
