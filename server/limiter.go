package server

import (
	"context"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"golang.org/x/time/rate"
)

// IVSRates are the documented IVS Chat API call quotas, in calls per second
// per account and region (Amazon IVS Chat service quotas). None is adjustable at AWS.
var IVSRates = map[string]float64{
	"CreateChatToken": 200,
	"DeleteMessage":   100, "DisconnectUser": 100, "SendEvent": 100,
	"CreateRoom": 5, "DeleteRoom": 5, "GetRoom": 5, "ListRooms": 5, "UpdateRoom": 5,
	"CreateLoggingConfiguration": 3, "DeleteLoggingConfiguration": 3, "GetLoggingConfiguration": 3,
	"ListLoggingConfigurations": 3, "UpdateLoggingConfiguration": 3,
	"ListTagsForResource": 10, "TagResource": 10, "UntagResource": 10,
	// parley's ban extension: moderation calls as DisconnectUser, listing as ListRooms.
	"CreateBan": 100, "DeleteBan": 100, "ListBans": 5,
}

// Limiter throttles each operation per account and region with a token
// bucket whose rate and burst are the operation's quota.
type Limiter struct {
	rates    map[string]float64 // "api/op" -> calls per second
	defaults map[string]float64 // api -> calls per second of an operation not in rates
	scale    float64
	now      func() time.Time

	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
}

type bucketKey struct {
	scope   parley.Scope
	api, op string
}

// NewLimiter returns a limiter for the given per-API rates, multiplied by
// scale (1 enforces the AWS quotas; 0 disables throttling).
func NewLimiter(rates map[string]map[string]float64, scale float64) *Limiter {
	l := &Limiter{rates: map[string]float64{}, defaults: map[string]float64{}, scale: scale, now: time.Now, buckets: map[bucketKey]*rate.Limiter{}}
	for api, ops := range rates {
		for op, r := range ops {
			l.rates[api+"/"+op] = r
		}
	}
	return l
}

// SetClock makes the buckets refill by now (parley's clock, which tests
// pin). Call it before use.
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// SetDefault sets the rate, in calls per second, of each operation of api
// that has none of its own (0: those are not throttled). Call it before use.
func (l *Limiter) SetDefault(api string, perSecond float64) { l.defaults[api] = perSecond }

// Allow takes one token for the caller's (api, op) bucket or returns KindThrottled.
func (l *Limiter) Allow(ctx context.Context, api, op string) error {
	r, ok := l.rates[api+"/"+op]
	if !ok {
		r, ok = l.defaults[api]
	}
	if !ok || r <= 0 || l.scale <= 0 {
		return nil
	}
	p, _ := parley.PrincipalFromContext(ctx)
	k := bucketKey{p.Scope, api, op}
	l.mu.Lock()
	b := l.buckets[k]
	if b == nil {
		limit := r * l.scale
		b = rate.NewLimiter(rate.Limit(limit), max(1, int(limit)))
		l.buckets[k] = b
	}
	l.mu.Unlock()
	if !b.AllowN(l.now(), 1) {
		return &parley.Error{Kind: parley.KindThrottled, Message: "Rate exceeded for " + op, Limit: int(r * l.scale),
			Resource: &parley.Resource{Type: parley.ResourceRoom, ID: op}}
	}
	return nil
}
