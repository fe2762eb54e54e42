package ivsapi

import (
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/awsproto"
)

// Request shapes. Pointers tell an absent member from a zero one.

type reviewHandlerJSON struct {
	URI            *string `json:"uri,omitempty"`
	FallbackResult *string `json:"fallbackResult,omitempty"`
}

type createRoomRequest struct {
	Name                            *string            `json:"name"`
	MaximumMessageRatePerSecond     *int               `json:"maximumMessageRatePerSecond"`
	MaximumMessageLength            *int               `json:"maximumMessageLength"`
	MessageReviewHandler            *reviewHandlerJSON `json:"messageReviewHandler"`
	Tags                            map[string]string  `json:"tags"`
	LoggingConfigurationIdentifiers []string           `json:"loggingConfigurationIdentifiers"`
}

type identifierRequest struct {
	Identifier *string `json:"identifier"`
}

type updateRoomRequest struct {
	Identifier                      *string            `json:"identifier"`
	Name                            *string            `json:"name"`
	MaximumMessageRatePerSecond     *int               `json:"maximumMessageRatePerSecond"`
	MaximumMessageLength            *int               `json:"maximumMessageLength"`
	MessageReviewHandler            *reviewHandlerJSON `json:"messageReviewHandler"`
	LoggingConfigurationIdentifiers *[]string          `json:"loggingConfigurationIdentifiers"`
}

type listRoomsRequest struct {
	Name                           *string `json:"name"`
	NextToken                      *string `json:"nextToken"`
	MaxResults                     *int    `json:"maxResults"`
	MessageReviewHandlerURI        *string `json:"messageReviewHandlerUri"`
	LoggingConfigurationIdentifier *string `json:"loggingConfigurationIdentifier"`
}

type createChatTokenRequest struct {
	RoomIdentifier           *string           `json:"roomIdentifier"`
	UserID                   *string           `json:"userId"`
	Capabilities             []string          `json:"capabilities"`
	SessionDurationInMinutes *int              `json:"sessionDurationInMinutes"`
	Attributes               map[string]string `json:"attributes"`
}

type sendEventRequest struct {
	RoomIdentifier *string           `json:"roomIdentifier"`
	EventName      *string           `json:"eventName"`
	Attributes     map[string]string `json:"attributes"`
}

type deleteMessageRequest struct {
	RoomIdentifier *string `json:"roomIdentifier"`
	ID             *string `json:"id"`
	Reason         *string `json:"reason"`
}

type disconnectUserRequest struct {
	RoomIdentifier *string `json:"roomIdentifier"`
	UserID         *string `json:"userId"`
	Reason         *string `json:"reason"`
}

type destinationJSON struct {
	S3 *struct {
		BucketName *string `json:"bucketName"`
	} `json:"s3,omitempty"`
	CloudWatchLogs *struct {
		LogGroupName *string `json:"logGroupName"`
	} `json:"cloudWatchLogs,omitempty"`
	Firehose *struct {
		DeliveryStreamName *string `json:"deliveryStreamName"`
	} `json:"firehose,omitempty"`
}

type createLoggingConfigurationRequest struct {
	Name                     *string           `json:"name"`
	DestinationConfiguration *destinationJSON  `json:"destinationConfiguration"`
	Tags                     map[string]string `json:"tags"`
}

type updateLoggingConfigurationRequest struct {
	Identifier               *string          `json:"identifier"`
	Name                     *string          `json:"name"`
	DestinationConfiguration *destinationJSON `json:"destinationConfiguration"`
}

type pageRequest struct {
	NextToken  *string `json:"nextToken"`
	MaxResults *int    `json:"maxResults"`
}

type tagRequest struct {
	Tags map[string]string `json:"tags"`
}

// Response shapes.

type roomJSON struct {
	ARN                             string             `json:"arn"`
	ID                              string             `json:"id"`
	Name                            string             `json:"name"`
	CreateTime                      string             `json:"createTime"`
	UpdateTime                      string             `json:"updateTime"`
	MaximumMessageRatePerSecond     *int               `json:"maximumMessageRatePerSecond,omitempty"`
	MaximumMessageLength            *int               `json:"maximumMessageLength,omitempty"`
	MessageReviewHandler            *reviewHandlerJSON `json:"messageReviewHandler,omitempty"`
	Tags                            map[string]string  `json:"tags"`
	LoggingConfigurationIdentifiers []string           `json:"loggingConfigurationIdentifiers"`
}

// roomOut renders a Room; summary leaves out the limits, as RoomSummary does.
func roomOut(r *parley.Room, summary bool) roomJSON {
	out := roomJSON{ARN: r.ARN(), ID: r.ID, Name: r.Name, CreateTime: awsproto.Time(r.CreateTime), UpdateTime: awsproto.Time(r.UpdateTime),
		Tags: r.Tags, LoggingConfigurationIdentifiers: make([]string, 0, len(r.LoggingConfigurationIDs))}
	if !summary {
		out.MaximumMessageRatePerSecond, out.MaximumMessageLength = &r.MaximumMessageRate, &r.MaximumMessageLength
	}
	if h := r.MessageReviewHandler; h != nil {
		fallback := string(h.FallbackResult)
		out.MessageReviewHandler = &reviewHandlerJSON{URI: &h.URI, FallbackResult: &fallback}
	}
	if out.Tags == nil {
		out.Tags = map[string]string{}
	}
	for _, id := range r.LoggingConfigurationIDs {
		out.LoggingConfigurationIdentifiers = append(out.LoggingConfigurationIdentifiers, r.Scope.ARN("logging-configuration", id))
	}
	return out
}

type configJSON struct {
	ARN                      string            `json:"arn"`
	ID                       string            `json:"id"`
	Name                     string            `json:"name"`
	CreateTime               string            `json:"createTime"`
	UpdateTime               string            `json:"updateTime"`
	DestinationConfiguration map[string]any    `json:"destinationConfiguration"`
	State                    string            `json:"state"`
	Tags                     map[string]string `json:"tags"`
}

func configOut(c *parley.LoggingConfiguration) configJSON {
	out := configJSON{ARN: c.ARN(), ID: c.ID, Name: c.Name, CreateTime: awsproto.Time(c.CreateTime), UpdateTime: awsproto.Time(c.UpdateTime),
		State: string(c.State), Tags: c.Tags}
	switch d := c.Destination; {
	case d.S3Bucket != "":
		out.DestinationConfiguration = map[string]any{"s3": map[string]string{"bucketName": d.S3Bucket}}
	case d.CloudWatchLogGroup != "":
		out.DestinationConfiguration = map[string]any{"cloudWatchLogs": map[string]string{"logGroupName": d.CloudWatchLogGroup}}
	default:
		out.DestinationConfiguration = map[string]any{"firehose": map[string]string{"deliveryStreamName": d.FirehoseStream}}
	}
	if out.Tags == nil {
		out.Tags = map[string]string{}
	}
	return out
}
