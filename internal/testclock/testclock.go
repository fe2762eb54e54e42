// Package testclock is a parley.Clock that tests move by hand.
package testclock

import (
	"sync"
	"time"
)

// Clock is a parley.Clock tests move by hand, for rates, expiries and
// cache lifetimes.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Clock at the current time.
func New() *Clock { return &Clock{now: time.Now().UTC().Truncate(time.Millisecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
