package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// banJSON is a ban as the /parley/v1 ban operations answer it.
type banJSON struct {
	RoomArn    string `json:"roomArn,omitempty"`
	UserID     string `json:"userId"`
	Reason     string `json:"reason"`
	CreateTime string `json:"createTime"`
	ExpireTime string `json:"expireTime,omitempty"`
}

// printBan writes one ban as a line: user, room ("*" for every room), end
// ("never" until deleted), reason.
func printBan(w io.Writer, b banJSON) {
	room, end := b.RoomArn, b.ExpireTime
	if room == "" {
		room = "*"
	}
	if end == "" {
		end = "never"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", b.UserID, room, end, b.Reason)
}

// banFlags are the flags the ban subcommands share.
func banFlags(name string, stderr io.Writer) (*flag.FlagSet, *string, *string, *string) {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", os.Getenv("PARLEY_ENDPOINT"), "server URL (env PARLEY_ENDPOINT)")
	room := fs.String("room", "", "room ARN; empty for every room of the account in $AWS_REGION")
	user := fs.String("user", "", "user ID")
	return fs, endpoint, room, user
}

// banBody is a request body with roomIdentifier left out when room is empty.
func banBody(room string, members map[string]any) []byte {
	if room != "" {
		members["roomIdentifier"] = room
	}
	b, _ := json.Marshal(members)
	return b
}

// ban imposes a ban through CreateBan, signed with the exported AWS_* variables.
//
//	parley ban [--room ARN] --user ID --reason TEXT [--duration 1h]
func ban(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, endpoint, room, user := banFlags("ban", stderr)
	reason := fs.String("reason", "", "why (1-256 characters; the room is told)")
	duration := fs.Duration("duration", 0, "how long, in whole minutes (e.g. 30m, 24h); 0 until unbanned")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || *reason == "" || fs.NArg() > 0 {
		return errors.New("usage: parley ban [--room ARN] --user ID --reason TEXT [--duration 1h]")
	}
	members := map[string]any{"userId": *user, "reason": *reason}
	if *duration != 0 {
		if *duration < time.Minute || *duration%time.Minute != 0 {
			return fmt.Errorf("--duration %v: want whole minutes, at least 1m", *duration)
		}
		members["durationInMinutes"] = int(*duration / time.Minute)
	}
	out, err := signedCall(ctx, *endpoint, "ivschat", "POST", "/parley/v1/CreateBan", banBody(*room, members))
	if err != nil {
		return err
	}
	var b banJSON
	if err := json.Unmarshal(out, &b); err != nil {
		return fmt.Errorf("CreateBan answered %q: %w", out, err)
	}
	printBan(stdout, b)
	return nil
}

// unban lifts a ban through DeleteBan.
//
//	parley unban [--room ARN] --user ID
func unban(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, endpoint, room, user := banFlags("unban", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || fs.NArg() > 0 {
		return errors.New("usage: parley unban [--room ARN] --user ID")
	}
	_, err := signedCall(ctx, *endpoint, "ivschat", "POST", "/parley/v1/DeleteBan", banBody(*room, map[string]any{"userId": *user}))
	return err
}

// bans lists the bans in force through ListBans, every page.
//
//	parley bans [--room ARN] [--user ID]
func bans(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, endpoint, room, user := banFlags("bans", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: parley bans [--room ARN] [--user ID]")
	}
	next := ""
	for {
		members := map[string]any{"maxResults": 100}
		if *user != "" {
			members["userId"] = *user
		}
		if next != "" {
			members["nextToken"] = next
		}
		out, err := signedCall(ctx, *endpoint, "ivschat", "POST", "/parley/v1/ListBans", banBody(*room, members))
		if err != nil {
			return err
		}
		var page struct {
			Bans      []banJSON `json:"bans"`
			NextToken string    `json:"nextToken"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return fmt.Errorf("ListBans answered %q: %w", out, err)
		}
		for _, b := range page.Bans {
			printBan(stdout, b)
		}
		if next = page.NextToken; next == "" {
			return nil
		}
	}
}
