package chatlog_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/chatlog"
)

type store struct {
	room    *parley.Room
	configs map[string]*parley.LoggingConfiguration
}

func (s store) Room(_ context.Context, _ parley.Scope, id string) (*parley.Room, error) {
	return s.room, nil
}
func (s store) LoggingConfiguration(_ context.Context, _ parley.Scope, id string) (*parley.LoggingConfiguration, error) {
	if c, ok := s.configs[id]; ok {
		return c, nil
	}
	return nil, parley.NotFound(parley.ResourceLoggingConfiguration, id, "missing")
}

// Ensure files rotate past the size cap and by hour, and odd names stay inside the root.
func TestRotation(t *testing.T) {
	sc := parley.Scope{AccountID: "123456789012", Region: "us-east-1"}
	st := store{
		room: &parley.Room{Scope: sc, ID: "room00000001", LoggingConfigurationIDs: []string{"a", "b", "gone"}},
		configs: map[string]*parley.LoggingConfiguration{
			"a": {Destination: parley.Destination{FirehoseStream: "stream"}},
			"b": {Destination: parley.Destination{CloudWatchLogGroup: ".."}},
		},
	}
	root := t.TempDir()
	l := &chatlog.Logger{Root: filepath.Join(root, "logs"), Store: st, Log: slog.New(slog.DiscardHandler), MaxFileSize: 450,
		Encode: func(ev parley.Event) []byte { return []byte(`{"Content":"` + ev.Content + `"}`) }}
	defer l.Close()
	at := time.Date(2026, 11, 23, 10, 59, 0, 0, time.UTC)
	for i := 0; i < 6; i++ {
		l.Record(context.Background(), parley.Event{Type: parley.EventMessage, Room: sc, RoomID: "room00000001", Content: strings.Repeat("x", 50), SendTime: at})
	}
	l.Record(context.Background(), parley.Event{Type: parley.EventMessage, Room: sc, RoomID: "room00000001", Content: "next hour", SendTime: at.Add(time.Minute)})
	files, _ := filepath.Glob(filepath.Join(root, "logs", "firehose", "stream", "*"))
	want := []string{
		"123456789012_us-east-1_room00000001_2026-11-23T10.1.jsonl",
		"123456789012_us-east-1_room00000001_2026-11-23T10.2.jsonl",
		"123456789012_us-east-1_room00000001_2026-11-23T10.jsonl",
		"123456789012_us-east-1_room00000001_2026-11-23T11.jsonl",
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
		if st, _ := os.Stat(f); st.Size() > 450 {
			t.Errorf("%s is %d bytes, over the 450-byte cap", f, st.Size())
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("files = %v\nwant %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(root, "logs", "cloudwatch-logs", "_..")); err != nil {
		t.Fatalf("log group '..' was not kept inside the root: %v", err)
	}
}
