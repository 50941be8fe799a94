package executor

import (
	"context"
	"math"
	"sync"
	"time"
)

// Clock is the time source of the limiter and executor (inject a fake in tests).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// After waits for d to elapse and then sends the current time.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Limiter gates request starts. Acquire blocks until one more request may
// start (or ctx is done); every successful Acquire is matched by one Release
// reporting how that request ended.
type Limiter interface {
	Acquire(ctx context.Context) error
	Release(o Outcome)
	// Limit reports the current concurrency limit, for progress displays.
	Limit() int
}

// Outcome is how one request ended, for the limiter to adapt.
type Outcome struct {
	Throttled  bool          // 429
	Success    bool          // a whole image arrived
	RetryAfter time.Duration // the server's Retry-After on a 429, zero if absent
	Latency    time.Duration // from Acquire's return to Release
}

// Tuning of the adaptive limiter. The figures come from the simulation in
// limiter_sim_test.go; see its doc comment before changing them.
const (
	// initialWindow requests may start before anything has come back.
	initialWindow = 2
	// startupGain paces slow start at this multiple of window/latency, so
	// the window's growth is spread over a round trip instead of bursting.
	startupGain = 1.0
	// windowGain paces starts at this multiple of window/latency once a
	// 429 has been seen, so a raised window is not spent in one burst.
	windowGain = 1.25
	// rateMargin is how far below the estimated server rate starts are
	// paced after a rate 429: the server's burst allowance absorbs the
	// remaining error instead of a further 429.
	rateMargin = 0.03
	// rateWindow is how far back the delivery rate is measured when no
	// earlier 429 bounds the interval.
	rateWindow = time.Second
	// probePlateau is how long the pacing rate stays at its post-429 value
	// before it starts probing upward; it doubles each time a probe ends
	// in another 429 at about the same rate.
	probePlateau = 2 * time.Second
	// probeSlope is the pacing rate's growth, as a fraction of the
	// estimated server rate per second, once the plateau is over.
	probeSlope = 0.02
	// concProbeSuccesses is how many successes per unit of window pass
	// before a level refused twice is tried again (doubling per further
	// refusal); a level refused once is retried after one round trip.
	concProbeSuccesses = 16
	// maxPause caps how long a Retry-After can hold back every new start.
	maxPause = time.Minute
	// historySize is how many recent starts and successes are remembered.
	historySize = 256
)

// NewAdaptiveLimiter returns a Limiter that never lets more than max
// requests be in flight, starts below that, and adapts to 429s.
//
// It starts with a small window that grows by one per success (TCP slow
// start, paced at window/latency so growth is spread over a round trip).
// The first 429 ends slow start. Each fresh 429 is classified by its level,
// the number of requests in flight when the throttled request started:
// above every level the server has accepted (requests that succeeded, or
// are still in flight well past the time a 429 takes), the server limits
// concurrency, and the window becomes the highest accepted level;
// otherwise it limits the rate, and starts are paced just below the rate
// of accepted requests since the previous rate 429 (or over the last
// second). Both limits are probed upward slowly afterwards. A Retry-After
// pauses all new starts only for the part that certainly applies to
// everyone: one second less than it says, as HTTP rounds up to whole
// seconds; the throttled request itself waits the whole Retry-After in
// the executor.
func NewAdaptiveLimiter(max int, clock Clock) Limiter {
	if max < 1 {
		max = 1
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &adaptive{
		clock:   clock,
		max:     max,
		window:  math.Min(initialWindow, float64(max)),
		wake:    make(chan struct{}),
		refused: make([]int, max+2),
	}
}

// fate is what became of a remembered request start.
type fate uint8

const (
	inFlight fate = iota
	succeeded
	throttled
	failed
)

// event is a remembered request start: when, how many requests were in
// flight right after it (its "level"), and how it ended.
type event struct {
	at    time.Time
	level int
	fate  fate
}

// adaptive is the limiter NewAdaptiveLimiter returns. All fields are
// guarded by mu.
type adaptive struct {
	clock Clock
	max   int

	mu       sync.Mutex
	inflight int
	// wake is closed and replaced whenever a waiter may be able to start.
	wake chan struct{}

	// window is the concurrency window: slow start's, then the learned
	// concurrency ceiling or max.
	window    float64
	throttled bool // a 429 ended slow start
	// concProbeAt is the success count at which the window is probed one
	// higher; refused[k] counts 429s that cut the window below k.
	concProbeAt int
	refused     []int

	rate        float64   // pacing after a rate 429, starts a second; 0 unpaced
	rateEst     float64   // estimated sustainable server rate
	rateSince   time.Time // when rate was last set from a 429
	plateau     time.Duration
	lastRateHit time.Time // start of the last request throttled for rate
	nextStart   time.Time // pacing: no start before this
	pauseUntil  time.Time // Retry-After: no start before this
	lastCut     time.Time // 429s of requests started before this are stale
	minLat      time.Duration
	firstStart  time.Time

	// trace, when set by tests, receives state changes.
	trace func(format string, args ...any)

	successes int
	history   history // recent starts
}

// Acquire blocks until one more request may start or ctx is done.
func (l *adaptive) Acquire(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := l.clock.Now()
		wait, ok := l.admitLocked(now)
		wake := l.wake
		l.mu.Unlock()
		if ok {
			return nil
		}
		var timer <-chan time.Time
		if wait > 0 {
			timer = l.clock.After(wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-timer:
		}
	}
}

// admitLocked starts a request if the window and pacing allow it now;
// otherwise it returns how long until pacing might allow it (zero when
// only a Release can help).
func (l *adaptive) admitLocked(now time.Time) (time.Duration, bool) {
	if l.inflight >= l.limitLocked(now) {
		return 0, false
	}
	gate := l.nextStart
	if l.pauseUntil.After(gate) {
		gate = l.pauseUntil
	}
	if d := gate.Sub(now); d > 0 {
		return d, false
	}
	l.inflight++
	if l.firstStart.IsZero() {
		l.firstStart = now
	}
	l.history.push(event{at: now, level: l.inflight})
	if iv := l.intervalLocked(now); iv > 0 {
		base := l.nextStart
		if base.Before(now) {
			base = now
		}
		l.nextStart = base.Add(iv)
	}
	return 0, true
}

// limitLocked is the current concurrency limit.
func (l *adaptive) limitLocked(now time.Time) int {
	w := l.window
	if r := l.currentRateLocked(now); r > 0 && l.minLat > 0 {
		// Paced: enough window for the rate with some latency
		// variation, so a slowing server does not pile up requests.
		w = math.Min(w, math.Ceil(r*l.minLat.Seconds()*1.5)+1)
	}
	n := int(w)
	if n < 1 {
		n = 1
	}
	if n > l.max {
		n = l.max
	}
	return n
}

// currentRateLocked is the pacing rate now, including upward probing.
func (l *adaptive) currentRateLocked(now time.Time) float64 {
	if l.rate <= 0 {
		return 0
	}
	t := now.Sub(l.rateSince) - l.plateau
	if t <= 0 {
		return l.rate
	}
	return l.rate + probeSlope*l.rateEst*t.Seconds()
}

// intervalLocked is the pacing interval between starts, zero if unpaced.
func (l *adaptive) intervalLocked(now time.Time) time.Duration {
	if r := l.currentRateLocked(now); r > 0 {
		return time.Duration(float64(time.Second) / r)
	}
	if l.minLat > 0 && l.window < float64(l.max) {
		gain := startupGain
		if l.throttled {
			gain = windowGain
		}
		return time.Duration(float64(l.minLat) / (gain * l.window))
	}
	return 0
}

// Release records how a request started by Acquire ended.
func (l *adaptive) Release(o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	start := now.Add(-o.Latency)
	level := l.inflight
	f := failed
	switch {
	case o.Throttled:
		f = throttled
	case o.Success:
		f = succeeded
	}
	if e := l.history.match(start); e != nil {
		e.fate = f
		start, level = e.at, e.level
	}
	if l.inflight > 0 {
		l.inflight--
	}
	switch f {
	case throttled:
		l.onThrottle(now, start, level, o)
	case succeeded:
		l.onSuccess(o.Latency)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *adaptive) onSuccess(lat time.Duration) {
	l.successes++
	if lat > 0 && (l.minLat == 0 || lat < l.minLat) {
		l.minLat = lat
	}
	if !l.throttled {
		if l.window < float64(l.max) {
			l.window++
		}
		return
	}
	if l.window < float64(l.max) && l.successes >= l.concProbeAt {
		l.window++
		l.concProbeAt = l.successes + l.probeAfter(int(l.window))
		l.tracef("probe window=%.0f", l.window)
	}
}

// probeAfter is how many successes pass at window c before c+1 is tried:
// a round trip's worth while c+1 has been refused at most once (a single
// 429 can be a rate limit's, not a concurrency limit's), then more and more.
func (l *adaptive) probeAfter(c int) int {
	f := 0
	if c+1 < len(l.refused) {
		f = l.refused[c+1]
	}
	if f <= 1 {
		return c
	}
	return concProbeSuccesses * c << min(f-2, 16)
}

func (l *adaptive) onThrottle(now, start time.Time, level int, o Outcome) {
	if o.RetryAfter > time.Second && !start.Before(l.pauseUntil) {
		pause := min(o.RetryAfter-time.Second, maxPause)
		if until := now.Add(pause); until.After(l.pauseUntil) {
			l.pauseUntil = until
		}
	}
	if start.Before(l.lastCut) {
		return // started before the last cut: already accounted for
	}
	l.throttled = true
	l.lastCut = now
	// A request still in flight this long after its start got past the
	// server's admission: 429s come back at once.
	acceptAge := max(4*o.Latency, 5*time.Millisecond)
	accepted := l.history.acceptedLevel(now.Add(-acceptAge))
	l.tracef("429 level=%d accepted=%d window=%.0f rate=%.2f", level, accepted, l.window, l.rate)
	if level > accepted {
		// Concurrency limit: the server never accepted this many.
		c := max(1, accepted)
		if c+1 < len(l.refused) {
			l.refused[c+1]++
		}
		l.window = float64(c)
		l.concProbeAt = l.successes + l.probeAfter(c)
		return
	}
	// Rate limit: pace just below what the server accepted.
	var est float64
	margin := rateMargin
	if !l.lastRateHit.IsZero() && start.Sub(l.lastRateHit) >= rateWindow/2 {
		// Between two rate 429s the server's allowance was used up at
		// both ends, so what it accepted in between is its rate, give or
		// take one request.
		d := start.Sub(l.lastRateHit)
		n := float64(l.history.acceptedSince(l.lastRateHit, start, now.Add(-acceptAge)))
		est = n / d.Seconds()
		margin = math.Min(rateMargin, math.Max(rateMargin/3, 1/math.Max(n, 1)))
	} else {
		from := start.Add(-rateWindow)
		if from.Before(l.firstStart) {
			from = l.firstStart.Add(-time.Nanosecond)
		}
		d := max(start.Sub(from), time.Millisecond)
		est = float64(l.history.acceptedSince(from, start, now.Add(-acceptAge))) / d.Seconds()
	}
	if est <= 0 {
		est = 1 / rateWindow.Seconds()
	}
	if cur := l.currentRateLocked(now); cur > 0 && est > cur {
		est = cur
	}
	if l.rateEst > 0 && math.Abs(est-l.rateEst) < 0.05*l.rateEst {
		l.plateau *= 2
	} else {
		l.plateau = probePlateau
	}
	l.rateEst = est
	l.rate = est * (1 - margin)
	l.rateSince = now
	l.lastRateHit = start
	l.nextStart = now.Add(time.Duration(float64(time.Second) / l.rate))
	l.tracef("rate est=%.2f rate=%.2f plateau=%v", l.rateEst, l.rate, l.plateau)
}

func (l *adaptive) tracef(format string, args ...any) {
	if l.trace != nil {
		l.trace(format, args...)
	}
}

// Limit reports the current concurrency limit.
func (l *adaptive) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limitLocked(l.clock.Now())
}

// history is a fixed-size ring of recent starts, oldest overwritten.
type history struct {
	buf  [historySize]event
	n    int // events stored, at most historySize
	next int // index of the next write
}

func (h *history) push(e event) {
	h.buf[h.next] = e
	h.next = (h.next + 1) % historySize
	if h.n < historySize {
		h.n++
	}
}

// each calls f on events from newest to oldest while f returns true.
func (h *history) each(f func(*event) bool) {
	for i := 1; i <= h.n; i++ {
		if !f(&h.buf[(h.next-i+historySize)%historySize]) {
			return
		}
	}
}

// match returns the in-flight start nearest to at, nil if none is
// remembered.
func (h *history) match(at time.Time) *event {
	var best *event
	var bestD time.Duration
	h.each(func(e *event) bool {
		if e.fate != inFlight {
			return true
		}
		d := e.at.Sub(at)
		if d < 0 {
			d = -d
		}
		if best == nil || d < bestD {
			best, bestD = e, d
		}
		return true
	})
	return best
}

// accepted reports whether the server let e's request through: it
// succeeded, or it is still in flight and started before acceptedBefore.
func (e *event) accepted(acceptedBefore time.Time) bool {
	return e.fate == succeeded || e.fate == inFlight && e.at.Before(acceptedBefore)
}

// acceptedLevel is the highest level among accepted starts.
func (h *history) acceptedLevel(acceptedBefore time.Time) int {
	lvl := 0
	h.each(func(e *event) bool {
		if e.accepted(acceptedBefore) && e.level > lvl {
			lvl = e.level
		}
		return true
	})
	return lvl
}

// acceptedSince counts accepted starts with from < at <= to.
func (h *history) acceptedSince(from, to, acceptedBefore time.Time) int {
	n := 0
	h.each(func(e *event) bool {
		if e.at.After(from) && !e.at.After(to) && e.accepted(acceptedBefore) {
			n++
		}
		return true
	})
	return n
}
