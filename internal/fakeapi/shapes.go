package fakeapi

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Shape is the algorithm of the fake's rate limit (Config.RatePerSec and
// Config.Burst), after the reverse proxies that put one in front of an API.
type Shape int

// Rate limiter shapes.
const (
	// ShapeBucket is a token bucket: RatePerSec tokens a second, Burst at
	// most (0 means max(1, RatePerSec)), full at the start; a request
	// takes a token. Refused requests cost nothing.
	ShapeBucket Shape = iota
	// ShapeGCRA is a leaky bucket as the generic cell rate algorithm runs
	// it (nginx limit_req with burst=N nodelay, most API gateways): one
	// request each 1/RatePerSec, and Burst more at once (0 means none:
	// at 10/s, two requests 66 ms apart, the second is refused). Refused
	// requests cost nothing.
	ShapeGCRA
	// ShapeWindow is a sliding window of one second that admits
	// floor(RatePerSec) requests (at least 1) and counts every request
	// that arrives, refused ones too: a client that asks faster than the
	// limit keeps itself out. Burst is ignored.
	ShapeWindow
)

func (s Shape) String() string {
	switch s {
	case ShapeGCRA:
		return "gcra"
	case ShapeWindow:
		return "window"
	}
	return "bucket"
}

// ParseShape parses "bucket", "gcra" (or "leaky") or "window".
func ParseShape(s string) (Shape, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bucket", "":
		return ShapeBucket, nil
	case "gcra", "leaky":
		return ShapeGCRA, nil
	case "window":
		return ShapeWindow, nil
	}
	return 0, fmt.Errorf("unknown rate limiter shape %q: want bucket, gcra or window", s)
}

// shapeState is the state of the GCRA and window shapes.
type shapeState struct {
	tat time.Time   // GCRA: theoretical arrival time of the next request
	log []time.Time // window: arrivals in the last second, oldest first
}

// takeShaped admits a request by cfg's shape other than the bucket, or
// says how long until one would be admitted; a.mu held.
func (a *api) takeShaped(now time.Time) (ok bool, wait time.Duration) {
	rate := a.cfg.RatePerSec
	if rate <= 0 {
		return true, 0
	}
	st := &a.shape
	switch a.cfg.Shape {
	case ShapeGCRA:
		t := time.Duration(float64(time.Second) / rate)
		if st.tat.Before(now) {
			st.tat = now
		}
		if early := st.tat.Sub(now) - time.Duration(max(0, a.cfg.Burst))*t; early > 0 {
			return false, early
		}
		st.tat = st.tat.Add(t)
		return true, 0
	case ShapeWindow:
		limit := max(1, int(math.Floor(rate)))
		i := 0
		for i < len(st.log) && !st.log[i].After(now.Add(-time.Second)) {
			i++
		}
		st.log = append(st.log[i:], now)
		if n := len(st.log) - 1; n >= limit {
			// Admitted once the arrival limit places before this one
			// has left the window.
			return false, st.log[n-limit].Add(time.Second).Sub(now)
		}
		return true, 0
	}
	return a.take(now)
}
