package ws

import (
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
)

// Reviewer runs a room's message review handler.
type Reviewer interface {
	// Review returns the handler's verdict, or an error when it cannot be had
	// (no endpoint for the Lambda, timeout, bad answer): then the room's
	// fallback result applies.
	Review(ctx context.Context, lambdaARN string, req ReviewRequest) (*ReviewResponse, error)
}

// ReviewRequest is what IVS Chat sends a review Lambda.
type ReviewRequest struct {
	Content    string            `json:"Content"`
	MessageID  string            `json:"MessageId"`
	RoomArn    string            `json:"RoomArn"`
	Attributes map[string]string `json:"Attributes"`
	Sender     ReviewSender      `json:"Sender"`
}

// ReviewSender is the sender in a ReviewRequest.
type ReviewSender struct {
	Attributes map[string]string `json:"Attributes"`
	UserID     string            `json:"UserId"`
	IP         string            `json:"Ip"`
}

// ReviewResponse is the Lambda's answer.
type ReviewResponse struct {
	ReviewResult string            `json:"ReviewResult"`
	Content      string            `json:"Content"`
	Attributes   map[string]string `json:"Attributes"`
}

// Caller calls a Lambda function (through its mapped endpoint); see package webhook.
type Caller interface {
	Call(ctx context.Context, target string, in, out any) error
}

// LambdaReviewer runs review handlers through a Caller, within Timeout
// (zero means 200 ms, the IVS limit).
type LambdaReviewer struct {
	Caller  Caller
	Timeout time.Duration
}

// Review calls the review Lambda and checks its verdict.
func (r *LambdaReviewer) Review(ctx context.Context, lambdaARN string, req ReviewRequest) (*ReviewResponse, error) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 200 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out ReviewResponse
	if err := r.Caller.Call(ctx, lambdaARN, req, &out); err != nil {
		return nil, err
	}
	if out.ReviewResult != string(parley.ReviewAllow) && out.ReviewResult != string(parley.ReviewDeny) {
		return nil, fmt.Errorf("review handler answered ReviewResult %q", out.ReviewResult)
	}
	return &out, nil
}

// review applies a room's review handler to a message: allowed, and the
// content and attributes to deliver (the handler may rewrite them).
func (h *Hub) review(info *parley.Room, ev parley.Event, ip string) (bool, string, map[string]string) {
	handler := info.MessageReviewHandler
	fallback := handler.FallbackResult != parley.ReviewDeny
	if h.cfg.Reviewer == nil {
		return fallback, ev.Content, ev.Attributes
	}
	resp, err := h.cfg.Reviewer.Review(context.Background(), handler.URI, ReviewRequest{
		Content: ev.Content, MessageID: ev.ID, RoomArn: info.ARN(), Attributes: ev.Attributes,
		Sender: ReviewSender{Attributes: ev.Sender.Attributes, UserID: ev.Sender.UserID, IP: ip},
	})
	if err != nil {
		h.log.Warn("message review failed; applying fallback", "room", info.ID, "fallback", handler.FallbackResult, "err", err)
		return fallback, ev.Content, ev.Attributes
	}
	if resp.ReviewResult == string(parley.ReviewDeny) {
		return false, "", nil
	}
	content, attributes := resp.Content, resp.Attributes
	if content == "" {
		content = ev.Content
	}
	if attributes == nil {
		attributes = ev.Attributes
	}
	return true, content, attributes
}
