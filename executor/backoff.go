package executor

import "time"

// Backoff bases and cap: transient failures back off from 500ms,
// throttled requests without a Retry-After from 250ms; no wait exceeds
// 30s.
const (
	TransientBackoffBase = 500 * time.Millisecond
	ThrottleBackoffBase  = 250 * time.Millisecond
	BackoffCap           = 30 * time.Second
)

// Backoff returns the wait before retry number n (from 1) under
// exponential backoff with full jitter: a uniformly random duration in
// [0, min(cap, base·2^(n-1))). rnd returns a float64 in [0, 1).
func Backoff(n int, base, cap time.Duration, rnd func() float64) time.Duration {
	if n < 1 {
		n = 1
	}
	ceiling := base
	for i := 1; i < n && ceiling < cap; i++ {
		ceiling *= 2
	}
	if ceiling > cap || ceiling <= 0 {
		ceiling = cap
	}
	f := rnd()
	if f < 0 || f >= 1 {
		f = 0
	}
	return time.Duration(f * float64(ceiling))
}
