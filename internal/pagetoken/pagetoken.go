// Package pagetoken encodes the opaque nextToken of keyset-paginated
// listings: the sort key of the last item returned, so a page never skips or
// repeats rows that stay put between calls.
package pagetoken

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// Key is the position after which the next page starts.
type Key struct {
	Time int64 // the sort time in Unix milliseconds
	ID   string
}

const prefix = "p1."

// Encode returns the token for k.
func Encode(k Key) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(k.Time, 10) + "." + k.ID))
}

// Decode parses a token made by Encode. Anything else is KindInvalid.
func Decode(token string) (Key, error) {
	bad := parley.Invalid("nextToken", "is not a valid pagination token")
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Key{}, bad
	}
	rest, ok := strings.CutPrefix(string(b), prefix)
	if !ok {
		return Key{}, bad
	}
	ts, id, ok := strings.Cut(rest, ".")
	if !ok || id == "" {
		return Key{}, bad
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Key{}, bad
	}
	return Key{Time: t, ID: id}, nil
}

// EncodeBan returns the position after a ban in a listing by create time, user and
// room. Room IDs never contain "/", so it separates room from user.
func EncodeBan(createMillis int64, roomID, userID string) string {
	return Encode(Key{Time: createMillis, ID: roomID + "/" + userID})
}

// DecodeBan parses a token made by EncodeBan. Anything else is KindInvalid.
func DecodeBan(token string) (createMillis int64, roomID, userID string, err error) {
	k, err := Decode(token)
	if err != nil {
		return 0, "", "", err
	}
	roomID, userID, ok := strings.Cut(k.ID, "/")
	if !ok || userID == "" {
		return 0, "", "", parley.Invalid("nextToken", "is not a valid pagination token")
	}
	return k.Time, roomID, userID, nil
}
