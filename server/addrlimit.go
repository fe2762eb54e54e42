package server

import (
	"net/netip"
	"sync"

	"golang.org/x/time/rate"
)

// addrLimiter is a token bucket per remote address.
type addrLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[netip.Prefix]*rate.Limiter
}

// maxAddrBuckets is how many addresses are remembered before idle ones are
// forgotten; an idle bucket is full, so forgetting it changes nothing.
const maxAddrBuckets = 1 << 14

func newAddrLimiter(perSecond float64, burst int) *addrLimiter {
	return &addrLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[netip.Prefix]*rate.Limiter{}}
}

func (a *addrLimiter) allow(addr netip.Prefix) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.buckets[addr]
	if b == nil {
		if len(a.buckets) >= maxAddrBuckets {
			a.sweepLocked()
		}
		b = rate.NewLimiter(a.limit, a.burst)
		a.buckets[addr] = b
	}
	return b.Allow()
}

// sweepLocked forgets full buckets; if every bucket is in use (addresses
// beyond counting), it forgets them all rather than grow without bound.
func (a *addrLimiter) sweepLocked() {
	for k, b := range a.buckets {
		if b.Tokens() >= float64(a.burst) {
			delete(a.buckets, k)
		}
	}
	if len(a.buckets) >= maxAddrBuckets {
		clear(a.buckets)
	}
}
