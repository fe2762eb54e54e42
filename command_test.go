package parley_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Ensure commands keep the JSON the previous version wrote as parley.ChimeKey
// {AWS, Account, Room}: outbox rows and bus messages of a node not yet
// upgraded must still be read, and read the same. The serialised commands
// below were written by that version.
func TestCommandJSONCompatible(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123_000_000, time.UTC)
	acc := parley.ChimeAccountKey{AWS: "123456789012", Account: "acc"}
	for _, tc := range []struct {
		old  string
		want parley.Command
	}{
		{`{"id":"c1","op":"SignOut","chime":{"aws":"123456789012","account":"acc"},"users":["u1","u2"],"reason":"logout","time":"2026-11-30T12:00:00.123Z"}`,
			parley.Command{ID: "c1", Op: parley.OpSignOut, Chime: parley.ChimeRoomKey{ChimeAccountKey: acc}, Users: []string{"u1", "u2"}, Reason: "logout", Time: at}},
		{`{"id":"c2","op":"AddMember","chime":{"aws":"123456789012","account":"acc","room":"room"},"user":"u1","time":"2026-11-30T12:00:00.123Z"}`,
			parley.Command{ID: "c2", Op: parley.OpAddMember, Chime: acc.Room("room"), User: "u1", Time: at}},
		{`{"id":"c3","op":"DeleteChimeRoom","chime":{"aws":"123456789012","account":"acc","room":"room"},"requestId":"r","time":"2026-11-30T12:00:00.123Z"}`,
			parley.Command{ID: "c3", Op: parley.OpDeleteChimeRoom, Chime: acc.Room("room"), RequestID: "r", Time: at}},
		{`{"id":"c4","op":"DisconnectUser","scope":{"AccountID":"123456789012","Region":"us-east-1"},"room":"ivs","user":"u1","reason":"bye","time":"2026-11-30T12:00:00.123Z"}`,
			parley.Command{ID: "c4", Op: parley.OpDisconnectUser, Scope: parley.Scope{AccountID: "123456789012", Region: "us-east-1"}, Room: "ivs", User: "u1", Reason: "bye", Time: at}},
	} {
		var got parley.Command
		if err := json.Unmarshal([]byte(tc.old), &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", tc.old, err)
		}
		if got.Chime != tc.want.Chime || got.ID != tc.want.ID || got.Op != tc.want.Op || got.Scope != tc.want.Scope || !got.Time.Equal(tc.want.Time) {
			t.Errorf("Unmarshal(%s) = %+v, want %+v", tc.old, got, tc.want)
		}
		if b, err := json.Marshal(got); err != nil || string(b) != tc.old {
			t.Errorf("Marshal(Unmarshal(old)) = %s, %v\nwant %s", b, err, tc.old)
		}
		if b, err := json.Marshal(tc.want); err != nil || string(b) != tc.old {
			t.Errorf("Marshal(%+v) = %s, %v\nwant %s", tc.want, b, err, tc.old)
		}
	}
}

// Ensure the commands that make nodes forget what they keep in memory have
// a fixed JSON: parley keys of one version tells servers of another
// through the outbox. (A node of a version without them applies an Op it
// does not know as nothing, and acknowledges it: during an upgrade, such a
// node keeps what it has for the cache's TTL.)
func TestForgetCommandsJSON(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		cmd  parley.Command
		json string
	}{
		{parley.Command{ID: "c5", Op: parley.OpAccessKeyChanged, AccessKey: "AKIAEXAMPLE000000001", Time: at},
			`{"id":"c5","op":"AccessKeyChanged","accessKey":"AKIAEXAMPLE000000001","time":"2026-12-01T09:00:00Z"}`},
		{parley.Command{ID: "c6", Op: parley.OpChimeAccountChanged, Chime: parley.ChimeRoomKey{ChimeAccountKey: parley.ChimeAccountKey{AWS: "123456789012", Account: "acc"}}, Time: at},
			`{"id":"c6","op":"ChimeAccountChanged","chime":{"aws":"123456789012","account":"acc"},"time":"2026-12-01T09:00:00Z"}`},
	} {
		b, err := json.Marshal(tc.cmd)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%+v) = %s, %v\nwant %s", tc.cmd, b, err, tc.json)
		}
		var got parley.Command
		if err := json.Unmarshal([]byte(tc.json), &got); err != nil || got.ID != tc.cmd.ID || got.Op != tc.cmd.Op || got.AccessKey != tc.cmd.AccessKey ||
			got.Chime != tc.cmd.Chime || !got.Time.Equal(at) {
			t.Errorf("Unmarshal(%s) = %+v, %v, want %+v", tc.json, got, err, tc.cmd)
		}
	}
}
