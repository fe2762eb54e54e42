// Package chatlog delivers a room's messages and events to its logging
// configurations. AWS sends them to S3, CloudWatch Logs or Firehose; parley
// writes JSON lines to a folder per destination under a root directory:
//
//	<root>/s3/<bucketName>/
//	<root>/cloudwatch-logs/<logGroupName, "/" as "_">/
//	<root>/firehose/<deliveryStreamName>/
//
// In each, one file per room and hour, named
// <account>_<region>_<roomId>_<YYYY-MM-DDTHH>.jsonl, rotated to .1.jsonl,
// .2.jsonl, ... past MaxFileSize. Each line is one record:
//
//	{"event_timestamp":"…","type":"MESSAGE"|"EVENT","version":"1.0","room_arn":"…","payload":{…frame as clients receive it…}}
package chatlog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// Store is what the logger reads: rooms and their logging configurations.
type Store interface {
	Room(ctx context.Context, s parley.Scope, id string) (*parley.Room, error)
	LoggingConfiguration(ctx context.Context, s parley.Scope, id string) (*parley.LoggingConfiguration, error)
}

// Logger writes chat logs. Room and configuration lookups are cached for
// CacheTTL, so a change to a room's logging applies within that time.
type Logger struct {
	Root        string
	Store       Store
	Log         *slog.Logger
	MaxFileSize int64         // zero means 64 MiB
	CacheTTL    time.Duration // zero means 5 seconds
	// Encode renders an event as the frame clients receive; it is the payload of a record.
	Encode func(parley.Event) []byte

	mu    sync.Mutex
	cache map[cacheKey]cached
	files map[string]*file
}

type cacheKey struct {
	scope parley.Scope
	kind  string
	id    string
}

type cached struct {
	dirs    []string // for a room: its destination folders
	expires time.Time
}

type file struct {
	f    *os.File
	size int64
	base string // path without the .jsonl suffix
	part int
}

// record is one line of a chat log.
type record struct {
	EventTimestamp string `json:"event_timestamp"`
	Type           string `json:"type"`
	Version        string `json:"version"`
	RoomARN        string `json:"room_arn"`
	Payload        any    `json:"payload"`
}

// Record writes ev to every logging destination of its room. Failures are
// logged: chat delivery does not depend on logging.
func (l *Logger) Record(ctx context.Context, ev parley.Event) {
	dirs, err := l.destinations(ctx, ev.Room, ev.RoomID)
	if err != nil {
		if parley.KindOf(err) != parley.KindNotFound {
			l.Log.Error("chat log: finding destinations", "room", ev.RoomID, "err", err)
		}
		return
	}
	if len(dirs) == 0 {
		return
	}
	typ := "EVENT"
	if ev.Type == parley.EventMessage {
		typ = "MESSAGE"
	}
	line, err := json.Marshal(record{EventTimestamp: awsproto.Time(ev.SendTime), Type: typ, Version: "1.0",
		RoomARN: ev.Room.ARN("room", ev.RoomID), Payload: json.RawMessage(l.Encode(ev))})
	if err != nil {
		l.Log.Error("chat log: encoding", "err", err)
		return
	}
	line = append(line, '\n')
	name := fmt.Sprintf("%s_%s_%s_%s", ev.Room.AccountID, ev.Room.Region, ev.RoomID, ev.SendTime.UTC().Format("2006-01-02T15"))
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, dir := range dirs {
		if err := l.write(filepath.Join(dir, name), line); err != nil {
			l.Log.Error("chat log: writing", "dir", dir, "err", err)
		}
	}
}

// write appends line to the current part of base, rotating past the size cap.
func (l *Logger) write(base string, line []byte) error {
	if l.files == nil {
		l.files = map[string]*file{}
	}
	max := l.MaxFileSize
	if max == 0 {
		max = 64 << 20
	}
	f := l.files[base]
	if f != nil && f.size+int64(len(line)) > max {
		f.f.Close()
		f = &file{base: base, part: f.part + 1}
		if err := f.open(); err != nil {
			delete(l.files, base)
			return err
		}
		l.files[base] = f
	}
	if f == nil {
		// A new hour's file: close the ones of past hours of this room and destination.
		prefix := base[:strings.LastIndex(base, "_")+1]
		for b, old := range l.files {
			if strings.HasPrefix(b, prefix) {
				old.f.Close()
				delete(l.files, b)
			}
		}
		f = &file{base: base}
		if err := f.open(); err != nil {
			return err
		}
		l.files[base] = f
	}
	n, err := f.f.Write(line)
	f.size += int64(n)
	return err
}

func (f *file) open() error {
	if err := os.MkdirAll(filepath.Dir(f.base), 0o750); err != nil {
		return err
	}
	path := f.base + ".jsonl"
	if f.part > 0 {
		path = fmt.Sprintf("%s.%d.jsonl", f.base, f.part)
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return err
	}
	f.f, f.size = fh, st.Size()
	return nil
}

// destinations returns the folders of the room's logging configurations.
func (l *Logger) destinations(ctx context.Context, s parley.Scope, roomID string) ([]string, error) {
	key := cacheKey{s, "room", roomID}
	now := time.Now()
	l.mu.Lock()
	if c, ok := l.cache[key]; ok && now.Before(c.expires) {
		l.mu.Unlock()
		return c.dirs, nil
	}
	l.mu.Unlock()
	room, err := l.Store.Room(ctx, s, roomID)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, id := range room.LoggingConfigurationIDs {
		c, err := l.Store.LoggingConfiguration(ctx, s, id)
		if parley.KindOf(err) == parley.KindNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, l.dir(c.Destination))
	}
	ttl := l.CacheTTL
	if ttl == 0 {
		ttl = 5 * time.Second
	}
	l.mu.Lock()
	if l.cache == nil {
		l.cache = map[cacheKey]cached{}
	}
	l.cache[key] = cached{dirs: dirs, expires: now.Add(ttl)}
	l.mu.Unlock()
	return dirs, nil
}

// dir maps a destination to its folder. The API's patterns allow names
// such as ".."; those are prefixed so no name leaves its folder.
func (l *Logger) dir(d parley.Destination) string {
	kind, name := "firehose", d.FirehoseStream
	switch {
	case d.S3Bucket != "":
		kind, name = "s3", d.S3Bucket
	case d.CloudWatchLogGroup != "":
		kind, name = "cloudwatch-logs", strings.ReplaceAll(strings.Trim(d.CloudWatchLogGroup, "/"), "/", "_")
	}
	if name == "" || strings.Trim(name, ".") == "" {
		name = "_" + name
	}
	return filepath.Join(l.Root, kind, name)
}

// Close closes every open file.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for b, f := range l.files {
		f.f.Close()
		delete(l.files, b)
	}
	return nil
}
