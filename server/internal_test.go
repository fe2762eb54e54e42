package server

import (
	"net/netip"
	"strings"
	"testing"
)

// Ensure a handshake refusal's message becomes a short, safe metric label.
func TestReasonLabel(t *testing.T) {
	for _, tt := range []struct{ msg, want string }{
		{"Token expired: at 12:00\n", "token_expired"},
		{"  Bad Request (missing key)", "bad_request"},
		{"", "unknown"},
		{": leading colon", "__leading_colon"},
		{strings.Repeat("a", 50), strings.Repeat("a", 40)},
		{"über", "__ber"},
	} {
		if got := reasonLabel(tt.msg); got != tt.want {
			t.Errorf("reasonLabel(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

// Ensure the per-address limiter forgets idle addresses rather than grow
// without bound, and keeps those still limited.
func TestAddrLimiterSweep(t *testing.T) {
	a := newAddrLimiter(0.000001, 1)
	busy := netip.MustParsePrefix("192.0.2.1/32")
	if !a.allow(busy) || a.allow(busy) {
		t.Fatal("a burst of 1 did not hold one handshake")
	}
	for i := range maxAddrBuckets - 1 {
		a.allow(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32))
	}
	if len(a.buckets) != maxAddrBuckets {
		t.Fatalf("%d buckets, want %d", len(a.buckets), maxAddrBuckets)
	}
	// Every bucket is in use: the next address sweeps them all away.
	if !a.allow(netip.MustParsePrefix("198.51.100.1/32")) || len(a.buckets) != 1 {
		t.Fatalf("after a full sweep: %d buckets, want 1", len(a.buckets))
	}
}
