package main

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// hist is a log-linear histogram of durations in microseconds, safe for
// concurrent use: exact below 128 µs, then 64 buckets per power of two
// (within 1.6%). Client processes keep one for all their connections and
// print it for the orchestrator to merge.
type hist struct {
	counts [histBuckets]atomic.Int64
	max    atomic.Int64 // µs
}

const histBuckets = 128 + 64*57

func histIndex(us int64) int {
	if us < 0 {
		us = 0
	}
	if us < 128 {
		return int(us)
	}
	s := bits.Len64(uint64(us)) - 7
	i := 128 + (s-1)*64 + int(us>>s) - 64
	return min(i, histBuckets-1)
}

// histValue is the middle of bucket i, in µs.
func histValue(i int) int64 {
	if i < 128 {
		return int64(i)
	}
	s := (i-128)/64 + 1
	m := int64((i-128)%64 + 64)
	return m<<s + (1<<s)/2
}

func (h *hist) add(d time.Duration) {
	us := d.Microseconds()
	h.counts[histIndex(us)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

func (h *hist) count() int64 {
	var n int64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// merge adds o's counts to h.
func (h *hist) merge(o *hist) {
	for i := range o.counts {
		if n := o.counts[i].Load(); n != 0 {
			h.counts[i].Add(n)
		}
	}
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
}

// pct is the p-th percentile (p in 0..100; 100 is the exact maximum).
func (h *hist) pct(p float64) time.Duration {
	n := h.count()
	if n == 0 {
		return 0
	}
	if p >= 100 {
		return time.Duration(h.max.Load()) * time.Microsecond
	}
	rank := int64(float64(n)*p/100 + 0.999999)
	rank = max(rank, 1)
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(histValue(i), h.max.Load())) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

// String encodes h on one line: "max i:n,i:n,..." (non-empty buckets).
func (h *hist) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(h.max.Load(), 10))
	b.WriteByte(' ')
	first := true
	for i := range h.counts {
		if n := h.counts[i].Load(); n != 0 {
			if !first {
				b.WriteByte(',')
			}
			first = false
			fmt.Fprintf(&b, "%d:%d", i, n)
		}
	}
	if first {
		b.WriteByte('-')
	}
	return b.String()
}

// parseHist decodes String's format from two fields.
func parseHist(maxField, buckets string) (*hist, error) {
	h := new(hist)
	m, err := strconv.ParseInt(maxField, 10, 64)
	if err != nil {
		return nil, err
	}
	h.max.Store(m)
	if buckets == "-" {
		return h, nil
	}
	for _, kv := range strings.Split(buckets, ",") {
		k, v, _ := strings.Cut(kv, ":")
		i, err1 := strconv.Atoi(k)
		n, err2 := strconv.ParseInt(v, 10, 64)
		if err1 != nil || err2 != nil || i < 0 || i >= histBuckets {
			return nil, fmt.Errorf("bad histogram bucket %q", kv)
		}
		h.counts[i].Add(n)
	}
	return h, nil
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// latencies is the usual "p50 .. p99 .. max .." triple.
func (h *hist) latencies() string {
	return fmt.Sprintf("p50 %s  p99 %s  max %s", ms(h.pct(50)), ms(h.pct(99)), ms(h.pct(100)))
}
