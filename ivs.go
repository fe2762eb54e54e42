package parley

import (
	"strings"
	"time"
)

// Scope is the tenant a resource belongs to: an AWS account in a region.
// Resources are partitioned by Scope; one scope never sees another's.
type Scope struct {
	AccountID string
	Region    string
}

// ARN returns the IVS Chat ARN of a resource of kind ("room",
// "logging-configuration") with the given ID in this scope.
func (s Scope) ARN(kind, id string) string {
	return "arn:aws:ivschat:" + s.Region + ":" + s.AccountID + ":" + kind + "/" + id
}

// ParsedARN is an IVS Chat ARN taken apart.
type ParsedARN struct {
	Scope
	Kind string // "room" or "logging-configuration"
	ID   string
}

// ParseARN splits an IVS Chat ARN. It does not validate the parts; callers
// check the shape with the API's patterns first.
func ParseARN(arn string) (ParsedARN, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ivschat" {
		return ParsedARN{}, false
	}
	kind, id, ok := strings.Cut(parts[5], "/")
	if !ok {
		return ParsedARN{}, false
	}
	return ParsedARN{Scope: Scope{AccountID: parts[4], Region: parts[3]}, Kind: kind, ID: id}, true
}

// ReviewResult is what a message review handler decides.
type ReviewResult string

const (
	ReviewAllow ReviewResult = "ALLOW"
	ReviewDeny  ReviewResult = "DENY"
)

// MessageReviewHandler names a Lambda that reviews every message of a room.
type MessageReviewHandler struct {
	URI            string
	FallbackResult ReviewResult
}

// Room is an IVS Chat room.
type Room struct {
	Scope
	ID                      string
	Name                    string
	MaximumMessageRate      int // messages per second across the room
	MaximumMessageLength    int // in Unicode code points
	MessageReviewHandler    *MessageReviewHandler
	LoggingConfigurationIDs []string
	Tags                    map[string]string
	CreateTime              time.Time
	UpdateTime              time.Time
}

// ARN returns the room's ARN.
func (r *Room) ARN() string { return r.Scope.ARN("room", r.ID) }

// Room defaults and bounds from the IVS Chat model.
const (
	DefaultMaximumMessageRate   = 10
	DefaultMaximumMessageLength = 500
	DefaultSessionDuration      = 60 * time.Minute
	MaxTagsPerResource          = 50
	MaxLoggingConfigsPerRoom    = 3
)

// RoomUpdate lists the fields UpdateRoom changes; nil means unchanged.
type RoomUpdate struct {
	Name                    *string
	MaximumMessageRate      *int
	MaximumMessageLength    *int
	MessageReviewHandler    **MessageReviewHandler // non-nil pointer to nil removes the handler
	LoggingConfigurationIDs *[]string
	UpdateTime              time.Time
}

// RoomFilter selects rooms for ListRooms. Zero fields do not filter.
type RoomFilter struct {
	Scope
	Name                    string
	MessageReviewHandlerURI string
	LoggingConfigurationID  string
	MaxResults              int
	NextToken               string
}

// Destination is where a logging configuration delivers; exactly one field is set.
type Destination struct {
	S3Bucket           string
	CloudWatchLogGroup string
	FirehoseStream     string
}

// LoggingConfigurationState is the lifecycle state of a logging configuration.
type LoggingConfigurationState string

// LoggingActive is the only state parley reports: changes apply synchronously.
const LoggingActive LoggingConfigurationState = "ACTIVE"

// LoggingConfiguration is an IVS Chat logging configuration.
type LoggingConfiguration struct {
	Scope
	ID          string
	Name        string
	Destination Destination
	State       LoggingConfigurationState
	Tags        map[string]string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// ARN returns the logging configuration's ARN.
func (c *LoggingConfiguration) ARN() string { return c.Scope.ARN("logging-configuration", c.ID) }

// LoggingConfigurationUpdate lists what UpdateLoggingConfiguration changes; nil means unchanged.
type LoggingConfigurationUpdate struct {
	Name        *string
	Destination *Destination
	UpdateTime  time.Time
}

// Page selects one page of a listing.
type Page struct {
	MaxResults int
	NextToken  string
}

// Capability is what a chat token allows beyond reading.
type Capability string

const (
	CapSendMessage    Capability = "SEND_MESSAGE"
	CapDisconnectUser Capability = "DISCONNECT_USER"
	CapDeleteMessage  Capability = "DELETE_MESSAGE"
)

// ChatToken is what a chat token grants: one connection to one room as one
// user, until SessionExpires. The token must be used before TokenExpires.
type ChatToken struct {
	ID             string // unique; consumed on first use
	Room           Scope
	RoomID         string
	UserID         string
	Capabilities   []Capability
	Attributes     map[string]string
	IssueTime      time.Time
	TokenExpires   time.Time
	SessionExpires time.Time
}

// Can reports whether the token grants capability c.
func (t *ChatToken) Can(c Capability) bool {
	for _, have := range t.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

// AccessKey is a SigV4 credential; it belongs to exactly one AWS account.
type AccessKey struct {
	ID         string
	Secret     string
	AccountID  string
	CreateTime time.Time
}
