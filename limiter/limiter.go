package limiter

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Ticket is one start admitted by Acquire; Release takes it back, so that
// each outcome is matched to its own start. The zero Ticket is valid for
// Release (a start the limiter does not remember).
type Ticket struct {
	seq   uint64        // 1 for the first start; 0 for an unknown one
	at    time.Time     // when Acquire admitted it
	level int           // requests in flight right after it started
	gap   time.Duration // since the previous start; noGap for the first
	// refill says that it refilled a place of a learned concurrency
	// limit within quickRefill of the answer that gave it back (after
	// the refill delay, if any).
	refill bool
	// opening says that it went out in the opening, paced, beyond the
	// initial window.
	opening bool
}

// noGap is the gap of the first start, which has no previous one.
const noGap = time.Duration(math.MaxInt64)

// Outcome is how one request ended, for the limiter to adapt.
type Outcome struct {
	Throttled  bool          // 429
	Success    bool          // a whole image arrived
	RetryAfter time.Duration // the server's Retry-After on a 429, zero if absent
	// Latency is the request's round trip as the caller measures it: from
	// sending the request to the end of its answer (or its failure). It
	// leaves out the caller's own work between Acquire and sending. The
	// limiter uses it for the server's fastest round trip (slow start's
	// pacing) and to tell a request the server accepted from an instant
	// 429; it never uses it to find the start, which the Ticket carries.
	Latency time.Duration
}

// Tuning of the adaptive limiter. The figures come from the simulation in
// sim_test.go; see its doc comment before changing them.
const (
	// lastTripCount is the least count of accepted starts over slow
	// start's last round trip before the first rate 429 that bounds the
	// first estimate from below.
	lastTripCount = 8
	// initialWindow requests may start at once before anything has come
	// back.
	initialWindow = 2
	// openingPace spaces further starts before anything has come back
	// or been refused (the opening), one each openingPace, without
	// growing slow start's window: a server that answers slowly and
	// caps the requests in flight has its places filled within a few
	// paces instead of waiting a round trip with two (a cap of 4 at
	// 500 ms: 4 in flight at 0.5 s instead of 1.3 s), while a rate limit
	// sees 4 starts a second, below most, and slow start after the
	// first answer goes on as before. A shorter pace cost (a) its 1.05×
	// in simulation: at 125 ms slow start's first 429 came in a run of
	// 0.38 s, whose count is rough (1.062×).
	openingPace = 250 * time.Millisecond
	// startupGain paces slow start at this multiple of window/latency, so
	// the window's growth is spread over a round trip instead of bursting.
	startupGain = 1.0
	// windowGain paces starts at this multiple of window/latency once a
	// 429 has been seen, so a raised window is not spent in one burst.
	windowGain = 1.25
	// rateMargin is how far below the estimated server rate starts are
	// paced after a rate 429: the server's burst allowance absorbs the
	// remaining error instead of a further 429.
	rateMargin = 0.02
	// rateWindow is how far back the delivery rate is measured when no
	// earlier 429 bounds the interval, and the window over which a server
	// that counts refused requests is taken to count.
	rateWindow = time.Second
	// probePlateau is how long the pacing rate stays at its post-429 value
	// before it starts probing upward.
	probePlateau = 2 * time.Second
	// firstPlateau replaces probePlateau after the first rate estimate,
	// which counts slow start's speeding-up starts and so is low as a
	// rule: an estimate low by a fifth is made up in about three seconds.
	firstPlateau = 500 * time.Millisecond
	// plateauGrowth is what the plateau is multiplied by each time a
	// probe finds the same rate again: a confirmed limit is probed
	// rarely, so that few requests pay a 429's Retry-After.
	plateauGrowth = 4
	// probeSlope is the pacing rate's growth, as a fraction of the
	// estimated server rate per second, once the plateau is over.
	probeSlope = 0.02
	// probeAccel is how fast that growth grows, as a fraction of the
	// estimated rate per second squared.
	probeAccel = 0.03
	// concProbeSuccesses is how many successes per unit of window pass
	// before a level refused twice is tried again (doubling per further
	// refusal).
	concProbeSuccesses = 16
	// concRetrySuccesses is how many successes per unit of window pass
	// before a level refused once is tried again: soon enough that a
	// rate limit's 429 misread as a concurrency limit's does not hold the
	// window down for long, late enough that a real concurrency limit is
	// not refused twice within a few round trips.
	concRetrySuccesses = 8
	// concSureRounds is how many round trips of successes at a learned
	// concurrency limit pass before refills go unpaced.
	concSureRounds = 4
	// quickRefill is how soon after an answer (and the refill delay, if
	// any) a refill leaves to count as a quick one. Once minQuickRefills
	// quick refills went through, a quick refill refused at the learned
	// limit is taken for a server that counted the request before it out
	// late (a loaded one): the limit stands, and refills wait
	// minRefillDelay after each answer, doubling per further such
	// refusal up to maxRefillDelay; after maxLagRefusals of them, a
	// refusal is classified as any other.
	quickRefill     = 5 * time.Millisecond
	minQuickRefills = 2
	minRefillDelay  = 4 * time.Millisecond
	maxRefillDelay  = 32 * time.Millisecond
	maxLagRefusals  = 3
	// maxPause caps how long a Retry-After can hold back every new start.
	maxPause = time.Minute
	// historySize is how many recent starts and successes are remembered.
	historySize = 256
	// pacedWindowSlack is how much window pacing at rate r keeps beyond
	// r × the fastest round trip, so that a slowing server does not pile
	// up requests while variation in latency still finds a free slot.
	pacedWindowSlack = 1.5
	// heldAvgWeight is the weight, as 1/heldAvgWeight, of the newest
	// success in the average of how long requests hold their place.
	heldAvgWeight = 16
	// acceptLatencies is how many of a 429's round trips a request must
	// have been in flight to count as accepted by the server: 429s come
	// back at once, accepted requests take far longer.
	acceptLatencies = 4
	// minAcceptAge is the least time in flight that counts as accepted,
	// whatever the 429's round trip.
	minAcceptAge = 5 * time.Millisecond
	// gapTolerance tells a concurrency limit from a rate limit that
	// allows no burst: a 429 at a level the server never accepted is a
	// concurrency limit's only if its start followed the previous one by
	// more than this multiple of the shortest gap between two starts the
	// server accepted; a closer start may have been refused for coming
	// too soon (the multiple leaves room for varying delays).
	gapTolerance = 1.1
	// maxMargin bounds the margin learned from 429s that came while
	// pacing below the estimate (a machine or network whose delays vary
	// a lot).
	maxMargin = 0.15
	// burstlessMargin replaces rateMargin when the estimate is the
	// closest two accepted starts of a server with no burst allowance:
	// a bound from below, so pacing needs less room.
	burstlessMargin = 0.015
	// burstless is how much faster than the counted rate the closest two
	// accepted starts may follow each other for the server to count as
	// allowing no burst (whose rate the closest accepted starts bound
	// from below); a server with a burst allowance lets starts through
	// at once.
	burstless = 2.5
	// windowGuard is how much longer than rateWindow the limiter's own
	// log of starts is kept for a server that counts refused requests
	// over a window, to start with, at most; each 429 in that mode
	// doubles it, up to maxWindowGuard. A 429 beyond that, or two
	// within a window, end the mode, and starts are paced at the
	// window's count instead. The guard covers what the time each
	// request reached the server may be off by beyond what its round
	// trip says (the fastest round trip's own way there, a server whose
	// own time varies), of the order of the requests' way to the server,
	// which the 429s' round trips measure (they are all way, there and
	// back): it starts at twice the slowest 429's so far, at least
	// minWindowGuard. Each window is that much longer, 9 times over
	// scenario (e): 8 ms where 429s take 0.5-1 ms (the binary on a quiet
	// machine) was 72 ms of a 9.3 s run; 2 ms met 429s in the mode on a
	// loaded machine once arrivals were timed less carefully.
	minWindowGuard = 4 * time.Millisecond
	windowGuard    = 8 * time.Millisecond
	maxWindowGuard = 64 * time.Millisecond
	// tentativeWindows is how many windows window mode entered at the
	// run's first rate 429 stays tentative: a second 429 within them
	// ends the mode at once (a token bucket with a larger burst at a
	// lower rate, which answered slow start as the window would, refuses
	// a start of each window the mode sends, 1-2 windows apart), instead
	// of widening the guard up to maxWindowGuard one 429 at a time (five
	// 429s for a bucket of 5 a second with a burst of 3).
	tentativeWindows = 3
	// arrivalSlack bounds how much of a round trip's excess over the
	// fastest one window mode takes for a delay on the request's way to
	// the server (timing the window's edge from when it arrived): a
	// server whose own time varies would otherwise slow the mode by
	// that variation, at most this much a window. A 429 in the mode
	// lifts the bound for the requests started before it (arrivedLocked).
	arrivalSlack = 32 * time.Millisecond
	// windowPlateau is how long window mode keeps its count before it
	// probes one higher, once a full window at that count passed with
	// no 429; each probe that passes doubles the next step, each one
	// refused multiplies the plateau by plateauGrowth. A probe that a
	// real window refuses costs a slot of the next window (it counts the
	// refused request): long, so that a short run at a window's count
	// pays nothing, while a count taken from a server that is no such
	// window is not kept for the whole run.
	windowPlateau = 10 * time.Second
	// idleGaps is how many pacing intervals apart two starts must be for
	// the time between them beyond that to count as the client's own
	// idleness, left out of the time the server's rate is counted over.
	idleGaps = 3
	// sameRate is how close, as a fraction, two successive rate estimates
	// must be for the second to count as the same limit found again (and
	// so grow the probe plateau).
	sameRate = 0.05
	// fitNarrow is how wide, as a fraction of its low end, the range of
	// rates at which a token bucket fits the run may be for the limiter to
	// pace at its low end: the count between two 429s is off by a request
	// over a short run, the fit is not.
	fitNarrow = 0.10
	// fitPlateau is the least probe plateau after a rate found by a fit:
	// the server's rate is known to a few percent, and a probe costs a
	// 429.
	fitPlateau = 8 * time.Second
	// maxRefute is the longest a probe waits for the pace to rule out
	// the slower of the buckets that fit a rate 429's replay.
	maxRefute = 4 * time.Second
	// maxFitBurst is the largest burst allowance a fit tries: a fit
	// replays the run for each burst and each step of a bisection, under
	// the lock (about 1.5 ms for a whole history of 256 starts that no
	// bucket fits).
	maxFitBurst = 16
	// fitStepShare is how far into the range of a narrow fit, from its
	// low end, the pace steps up once it has held at the low end for
	// fitDwell with no 429. The server's rate is anywhere in the range
	// (slow start's few starts bound it to 5-10%, and the low end is
	// 2-5% below the rate as a rule), so the low end gives up that much
	// of the run; a bucket with a burst allowance absorbs a pace a
	// little above its rate for a long time, and the dwell below its
	// rate has saved some of the allowance. Half-way into the range,
	// a third 429 came on some seeds of scenario (a); a quarter in, on
	// none (simulation and grid).
	fitStepShare = 0.25
	fitDwell     = 2 * time.Second
)

// New returns an Adaptive limiter that never lets more than max
// requests be in flight, starts below that, and adapts to 429s.
//
// It starts with a small window that grows by one per success (TCP slow
// start, paced at window/latency so growth is spread over a round trip).
// Until something comes back or is refused, one more request starts each
// openingPace beyond that window (the opening). A 429 of such a start,
// while the ones before it are still in flight, reads as a limit on the
// requests in flight at that many; any other 429 before anything came
// back holds one request in flight until one comes back. After that, each fresh 429 is classified by its level,
// the number of requests in flight when the throttled request started,
// and its gap, the time since the start before it. Above every level the
// server has accepted (requests that succeeded, or are still in flight
// well past the time a 429 takes), and no closer to the previous start
// than the closest two accepted starts, the server limits concurrency,
// and the window becomes the highest accepted level. Otherwise it limits
// the rate, and starts are paced just below its estimated rate: what it
// accepted since the previous rate 429 (since the probe began, when a
// probe found it; or in the last second), but at least 1/gap of the
// closest two accepted starts when the server allows no burst (and, for
// the first, at least what its last round trip accepted). While the whole
// run is remembered, the rate 429 also replays it against a token bucket
// full at the first start: when only bursts of 2 or more at a narrow
// range of rates answer every start as the server did, allowing for how
// much the requests' delays varied, starts are paced at the least of
// those rates, a quarter into their range after a while (at once when the
// pace since the cut, accepted, was there), and probed only after a long
// plateau (when slower buckets
// with a larger burst fit too, the run is replayed again once the pace,
// accepted, has ruled them out, and the probe waits for that). A 429 soon
// after a rate cut holds starts back, for twice as long each time (in a
// run younger than half a window, counting the rate again over the whole
// run, when that is lower); when
// the start before it was refused too, and the run spans half a window
// at least, the server is taken to count refused requests over a window
// of a second, and starts follow the limiter's own log of starts instead
// of a pace: as many as the window let through, each as soon as the
// window has room, timed from when each request reached the server at
// the latest, not from its start (until 429s in that mode say the
// server is no such window). The run's first rate 429 does the same when
// the start before it was refused too and the window before that held
// as many starts as the server ever accepted in one, all accepted; a
// second 429 within that mode's first windows ends it, and counts as a
// rate 429. All three limits are probed upward
// afterwards: the rate after a plateau, slowly at first and faster and
// faster, the plateau growing each time the same rate is found again; a window's count after a long
// plateau, by a step that doubles each time a window at the higher count
// passes with its starts spread out, the plateau growing each time one
// is refused; a
// concurrency limit refused once after a few round trips, then more and
// more rarely. A Retry-After
// pauses all new starts only for the part that certainly applies to
// everyone: one second less than it says, as HTTP rounds up to whole
// seconds; the throttled request itself waits the whole Retry-After in
// the executor.
//
// On a loaded machine the pace holds its rate: a start that comes a
// little late keeps its place in the pace (when the server allows a
// burst), the count between two 429s leaves out time in which the client
// sent nothing though the pace allowed it, the limit on requests in
// flight counts how long they hold their place, and a 429 that came back
// late (it reached the server with later starts) leaves the estimate of a
// server with a burst allowance as it was, once a window.
func New(max int, clock Clock) *Adaptive {
	if max < 1 {
		max = 1
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &Adaptive{
		clock:      clock,
		max:        max,
		window:     math.Min(initialWindow, float64(max)),
		wake:       make(chan struct{}),
		refused:    make([]int, max+2),
		minGapEver: noGap,
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

// event is a remembered request start: its Ticket's sequence number,
// when, how many requests were in flight right after it (its "level"),
// and how it ended.
type event struct {
	seq   uint64
	at    time.Time
	level int
	gap   time.Duration
	fate  fate
	// lat is the request's round trip as the caller measured it, and
	// sent when it left (Release's time less lat); both zero until it
	// ended, or when the caller did not measure it.
	lat  time.Duration
	sent time.Time
}

// arrivedLocked is when the server may have seen e's request, at the
// latest, as far as the limiter knows now: a server that counts starts
// over a window counted it then. That is when it left, as the caller's
// Latency says (later than its start by the caller's own work in
// between), plus, up to arrivalSlack, what of its round trip may have
// been a delay on its way there (a loaded machine's scheduling): all of
// a 429's, which came back at once (the fastest 429 so far is no bound:
// the first one is the fastest), and of an accepted request's what
// exceeds the fastest accepted round trip known now, not when it ended:
// early in a run the few known are not the fastest, and a request that
// left late then was taken to have arrived on time. A request that
// started before window mode's last 429 may have taken all of that
// excess: the 429 showed that the server saw some of the window's
// requests later than the bound put them.
func (l *Adaptive) arrivedLocked(e *event) time.Time {
	if e.lat <= 0 || e.fate == failed {
		return e.at
	}
	way := e.lat
	if e.fate == succeeded {
		way -= l.minLat
	}
	slack := arrivalSlack
	if !e.at.After(l.winWholeWays) {
		slack = way
	}
	if r := e.sent.Add(min(max(way, 0), slack)); r.After(e.at) {
		return r
	}
	return e.at
}

// Adaptive is the limiter New returns; it is safe for concurrent use.
// Every Acquire that returns no error is matched by one Release of its
// Ticket. All fields are guarded by mu.
type Adaptive struct {
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
	// learning is set while one request is held in flight after a 429
	// that came before anything got through, until one succeeds: the
	// limit's kind is not known yet.
	learning bool
	// concProbeAt is the success count at which the window is probed one
	// higher; refused[k] counts 429s that cut the window below k.
	concProbeAt int
	refused     []int
	// concLevel, after a concurrency 429 and while no rate is paced, is
	// the level the server accepted then: a start that brings the
	// requests in flight back up to it refills a place an answer has
	// given back (unpaced from concSure on).
	concLevel int
	// concSure is the success count from which concLevel's refills go
	// unpaced: a few round trips after the cut with no 429 at a level
	// the server accepted (which a place given back late, or a rate
	// limit, would have answered).
	concSure int
	// lastFree is when the last request ended. refillDelay is how long
	// after it a refill waits, once refills were refused at a level the
	// server had accepted (lagRefusals times): the server counts a
	// request out a little after its answer has come.
	lastFree    time.Time
	refillDelay time.Duration
	lagRefusals int
	// quickRefills counts refills at a learned concurrency limit that
	// left within quickRefill of an answer and succeeded: a server
	// whose place is free once its answer has come.
	quickRefills int

	rate        float64   // pacing after a rate 429, starts a second; 0 unpaced
	rateEst     float64   // estimated sustainable server rate
	rateSince   time.Time // when rate was last set from a 429
	plateau     time.Duration
	lastRateHit time.Time // start of the last request throttled for rate
	streak      int       // rate 429s soon after the last rate cut
	paceFrom    time.Time // where the next rate 429's count begins, if later than lastRateHit: the end of a long rate hold
	// countsRefused is set once 429s came soon after a rate cut: the
	// server seems to count refused requests too.
	countsRefused bool
	// winLimit, once countsRefused, is how many starts the server lets
	// through in a window of rateWindow, refused ones counted: starts then
	// follow the limiter's own log of starts instead of a pace, so that
	// a whole window's allowance goes out as soon as the window has room.
	// winGuard lengthens the window for the requests' varying delays;
	// winSince is when the mode began, winRefused the start of the last
	// request refused in it.
	winLimit   int
	winGuard   time.Duration
	winSince   time.Time
	winRefused time.Time
	// winWholeWays is the start of the last 429 in window mode: the
	// requests started until then are taken to have arrived as late as
	// their round trips allow (arrivedLocked). winAnswered is when that
	// 429 came back.
	winWholeWays time.Time
	winAnswered  time.Time
	// winProbeAt is when window mode next tries a count winStep higher,
	// if the window is full then; winBase is the highest count the
	// server let through, and winPlateau how long the mode stays at a
	// count a probe found refused before it probes again.
	winProbeAt time.Time
	winBase    int
	winStep    int
	winPlateau time.Duration
	noWindow   bool // window mode ended: the server is no such window
	// winTentative marks window mode entered at the run's first rate
	// 429: a second 429 within its first tentativeWindows windows ends
	// it.
	winTentative bool
	rateCuts     int  // rate cuts so far (not counting holds)
	noBurst      bool // a rate estimate came from the closest accepted starts
	// refitAt, when not zero, is when the run is replayed against a token
	// bucket again: a rate 429's replay fit a narrow range of fast rates
	// and slower buckets too, which the pace, accepted until then, rules
	// out.
	refitAt time.Time
	// fitStepAt, when not zero, is when the pace steps up to fitStep,
	// into the range of a narrow fit, from its low end.
	fitStepAt    time.Time
	fitStep      float64
	jitterMargin float64   // least margin, learned from 429s below the estimate
	nextStart    time.Time // pacing: no start before this
	pauseUntil   time.Time // Retry-After: no start before this
	lastCut      time.Time // 429s of requests started before this are stale
	minLat       time.Duration
	heldAvg      time.Duration // how long successful requests held their place, averaged
	firstStart   time.Time
	lastStart    time.Time

	// trace, when set by tests, receives state changes.
	trace func(format string, args ...any)

	successes  int
	min429Lat  time.Duration // the fastest 429's round trip
	max429Lat  time.Duration // the slowest 429's round trip
	minGapEver time.Duration // the closest two accepted starts seen at any 429
	seq        uint64        // the last Ticket's sequence number
	history    history       // recent starts
	arrivals   []time.Time   // windowGateLocked's scratch
	replay     []replayStart // bucketFitsLocked's scratch
	fits       []bucketFit   // bucketFitsLocked's result
}

// Acquire blocks until one more request may start or ctx is done. The
// Ticket it returns goes back to Release when the request has ended.
func (l *Adaptive) Acquire(ctx context.Context) (Ticket, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Ticket{}, err
		}
		l.mu.Lock()
		now := l.clock.Now()
		t, wait, ok := l.admitLocked(now)
		wake := l.wake
		l.mu.Unlock()
		if ok {
			return t, nil
		}
		var timer <-chan time.Time
		if wait > 0 {
			timer = l.clock.After(wait)
		}
		select {
		case <-ctx.Done():
			return Ticket{}, ctx.Err()
		case <-wake:
		case <-timer:
		}
	}
}

// admitLocked starts a request if the window and pacing allow it now;
// otherwise it returns how long until pacing might allow it (zero when
// only a Release can help).
func (l *Adaptive) admitLocked(now time.Time) (Ticket, time.Duration, bool) {
	opening := false
	if l.inflight >= l.limitLocked(now) {
		if !l.openingLocked() {
			return Ticket{}, 0, false
		}
		// The opening: one more start each openingPace until
		// something comes back or is refused.
		if d := l.lastStart.Add(openingPace).Sub(now); d > 0 {
			return Ticket{}, d, false
		}
		opening = true
	}
	if !l.refitAt.IsZero() && !now.Before(l.refitAt) {
		l.refitLocked(now)
	}
	if !l.fitStepAt.IsZero() && !now.Before(l.fitStepAt) {
		l.fitStepAt = time.Time{}
		if l.rate > 0 && l.winLimit == 0 && l.fitStep > l.rate {
			l.rate = l.fitStep
			l.rateEst = max(l.rateEst, l.fitStep)
			l.tracef("fit step rate=%.2f", l.rate)
		}
	}
	gate := l.nextStart
	refill := false
	if l.winLimit > 0 {
		gate = l.windowGateLocked(now)
	} else if l.inflight < l.concLevel && l.rate <= 0 {
		refill = true
		if l.successes >= l.concSure {
			// A place of a concurrency limit the server has held
			// to for a few round trips: refilled as soon as it is
			// free, not paced (answers that come close together
			// would otherwise leave places empty for a pacing
			// interval).
			gate = time.Time{}
		}
		if free := l.lastFree.Add(l.refillDelay); free.After(gate) {
			gate = free
		}
	}
	if l.pauseUntil.After(gate) {
		gate = l.pauseUntil
	}
	if d := gate.Sub(now); d > 0 {
		return Ticket{}, d, false
	}
	l.inflight++
	if l.firstStart.IsZero() {
		l.firstStart = now
	}
	l.seq++
	t := Ticket{seq: l.seq, at: now, level: l.inflight, gap: noGap, refill: refill && now.Sub(l.lastFree) <= l.refillDelay+quickRefill, opening: opening}
	if !l.lastStart.IsZero() {
		t.gap = now.Sub(l.lastStart)
	}
	l.lastStart = now
	l.history.push(event{seq: t.seq, at: now, level: t.level, gap: t.gap})
	if iv := l.intervalLocked(now); iv > 0 && l.winLimit == 0 {
		// A start a little late (a timer that fired late, a worker
		// that was busy) keeps its place in the pace, so that the pace
		// is the rate and not 1/(interval + lateness).
		base := l.nextStart
		if floor := now.Add(-l.lateAllowanceLocked(iv)); base.Before(floor) {
			base = floor
		}
		l.nextStart = base.Add(iv)
	}
	return t, 0, true
}

// openingLocked reports whether the limiter is in the opening: starts
// went out, none came back, none was refused, nothing was learned, and
// fewer than max are in flight.
func (l *Adaptive) openingLocked() bool {
	return l.successes == 0 && l.lastCut.IsZero() && !l.firstStart.IsZero() &&
		!l.throttled && !l.learning && l.rate <= 0 && l.winLimit == 0 && l.inflight < l.max
}

// lateAllowanceLocked is how late after its due time a paced start may
// come and still keep its place in the pace of interval iv, so that the
// next one follows it sooner: half an interval when the server let two
// starts through much closer than its rate (a burst allowance takes the
// closer start), none otherwise (a server with no burst allowance refuses
// a start closer than its interval).
func (l *Adaptive) lateAllowanceLocked(iv time.Duration) time.Duration {
	if l.rate <= 0 || l.noBurst || l.countsRefused || l.minGapEver == noGap {
		return 0
	}
	if float64(time.Second)/float64(max(l.minGapEver, time.Nanosecond)) <= burstless*l.rateEst {
		return 0
	}
	return iv / 2
}

// limitLocked is the current concurrency limit.
func (l *Adaptive) limitLocked(now time.Time) int {
	w := l.window
	if l.winLimit > 0 {
		// A window's allowance goes out at once.
		w = math.Max(w, float64(l.winLimit))
	} else if r := l.currentRateLocked(now); r > 0 && l.minLat > 0 {
		// Paced: enough window for the rate with some latency
		// variation, so a slowing server does not pile up requests;
		// requests hold their place longer than the fastest round
		// trip (the caller's own work on each response, a loaded
		// machine), which the average of how long they held it
		// counts.
		lat := max(l.minLat, l.heldAvg)
		w = math.Min(w, math.Ceil(r*lat.Seconds()*pacedWindowSlack)+1)
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
func (l *Adaptive) currentRateLocked(now time.Time) float64 {
	if l.winLimit > 0 {
		return float64(l.winLimit) / rateWindow.Seconds()
	}
	if l.rate <= 0 {
		return 0
	}
	t := now.Sub(l.rateSince) - l.plateau
	if t <= 0 {
		return l.rate
	}
	// Slow near the estimate, faster and faster beyond it: an estimate
	// too low by half is made up in a few seconds.
	x := t.Seconds()
	return l.rate + l.rateEst*(probeSlope*x+probeAccel*x*x)
}

// intervalLocked is the pacing interval between starts, zero if unpaced.
func (l *Adaptive) intervalLocked(now time.Time) time.Duration {
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

// Release records how the request started with t ended.
func (l *Adaptive) Release(t Ticket, o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if t.seq == 0 {
		// Not a start of this limiter's: assume the worst, that it
		// started just now at the current level.
		t = Ticket{at: now, level: l.inflight, gap: noGap}
	}
	f := failed
	switch {
	case o.Throttled:
		f = throttled
	case o.Success:
		f = succeeded
	}
	if f == throttled && o.Latency > l.max429Lat {
		l.max429Lat = o.Latency
	}
	if e := l.history.find(t.seq); e != nil {
		e.fate = f
		if o.Latency > 0 {
			e.lat = o.Latency
			e.sent = now.Add(-o.Latency)
		}
	}
	if l.inflight > 0 {
		l.inflight--
	}
	l.lastFree = now
	if f == succeeded && t.refill {
		l.quickRefills++
	}
	if f == succeeded && !t.at.IsZero() {
		// How long a request holds its place, the caller's own work
		// on the response included, averaged over the last few.
		held := now.Sub(t.at)
		if l.heldAvg == 0 {
			l.heldAvg = held
		} else {
			l.heldAvg += (held - l.heldAvg) / heldAvgWeight
		}
	}
	switch f {
	case throttled:
		l.onThrottle(now, t, o)
	case succeeded:
		l.onSuccess(o.Latency)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *Adaptive) onSuccess(lat time.Duration) {
	l.successes++
	l.learning = false
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
// a few round trips' worth while c+1 has been refused at most once (a
// single 429 can be a rate limit's, not a concurrency limit's), then more
// and more.
func (l *Adaptive) probeAfter(c int) int {
	f := 0
	if c+1 < len(l.refused) {
		f = l.refused[c+1]
	}
	if f <= 1 {
		return concRetrySuccesses * c
	}
	return concProbeSuccesses * c << min(f-2, 16)
}

func (l *Adaptive) onThrottle(now time.Time, t Ticket, o Outcome) {
	start, level := t.at, t.level
	if o.RetryAfter > time.Second && !start.Before(l.pauseUntil) {
		pause := min(o.RetryAfter-time.Second, maxPause)
		if until := now.Add(pause); until.After(l.pauseUntil) {
			l.pauseUntil = until
		}
	}
	// modeEnded says that this 429 ended a tentative window mode: the
	// server had let the window's count through at once, more in
	// flight than ever before, so it limits the rate, not the requests
	// in flight.
	modeEnded := false
	if l.winLimit > 0 {
		if start.Before(l.winSince) || !l.windowRefusedLocked(now, start) {
			return
		}
		modeEnded = true
	}
	if start.Before(l.lastCut) {
		return // started before the last cut: already accounted for
	}
	l.lastCut = now
	l.fitStepAt = time.Time{}
	// A request still in flight this long after its start got past the
	// server's admission: 429s come back at once.
	// The fastest 429 is the one whose way varied least.
	if o.Latency > 0 && (l.min429Lat == 0 || o.Latency < l.min429Lat) {
		l.min429Lat = o.Latency
	}
	acceptAge := max(acceptLatencies*l.min429Lat, minAcceptAge)
	accepted := l.history.acceptedLevel(now.Add(-acceptAge))
	minGap := l.history.minAcceptedGap(now.Add(-acceptAge))
	// The closest accepted starts ever: the history forgets the first
	// ones, which went out together before anything was known.
	l.minGapEver = min(l.minGapEver, minGap)
	l.tracef("429 level=%d gap=%v accepted=%d mingap=%v window=%.0f rate=%.2f refill=%v quick=%d", level, t.gap, accepted, minGap, l.window, l.rate, t.refill, l.quickRefills)
	if t.opening && l.successes == 0 && accepted > 0 && level > accepted {
		// A start of the opening refused while the ones before it,
		// paced alike, are still in flight, accepted: the server holds
		// no more (a rate limit that refused it for coming too soon
		// reads as such at its next 429, and the window is tried
		// again soon).
		l.tracef("opening refused: window=%d", accepted)
		l.throttled = true
		l.refused[min(accepted+1, len(l.refused)-1)]++
		l.window = float64(accepted)
		l.concLevel = accepted
		l.concSure = concSureRounds * accepted
		l.concProbeAt = l.probeAfter(accepted)
		return
	}
	if accepted == 0 || l.successes == 0 {
		// Nothing got through yet, or nothing came back: nothing tells
		// a concurrency limit from a rate limit, and a count over so
		// short a run (the two first starts, the second refused after
		// the first had been on its way a while) is no rate. Hold one
		// request in flight until one comes back, and let slow start
		// go on from there.
		l.window = 1
		l.learning = true
		return
	}
	if t.refill && level == l.concLevel && l.rate <= 0 && l.successes >= l.concSure && l.quickRefills >= minQuickRefills && l.lagRefusals < maxLagRefusals {
		// A refill refused right after an answer, at the level the
		// server has held to for a few round trips (one more is what
		// it refuses), where such refills went through before: the
		// server counted the request whose answer freed the place a
		// little after that answer came, this time (a loaded server).
		// The limit stands; refills wait a little after each answer
		// (a rate limit refuses again, and is found then).
		l.lagRefusals++
		l.refillDelay = min(max(2*l.refillDelay, minRefillDelay), maxRefillDelay)
		l.tracef("refill refused: delay=%v", l.refillDelay)
		return
	}
	l.throttled = true
	l.learning = false
	tooSoon := float64(t.gap) < gapTolerance*float64(minGap)
	if level > accepted && !tooSoon && !modeEnded {
		// Concurrency limit: the server never accepted this many.
		c := max(1, accepted)
		if c+1 < len(l.refused) {
			l.refused[c+1]++
		}
		l.window = float64(c)
		l.concLevel = c
		l.concSure = l.successes + concSureRounds*c
		l.concProbeAt = l.successes + l.probeAfter(c)
		return
	}
	// Rate limit: pace just below what the server accepted.
	if l.window < float64(l.max) && !start.Before(l.firstStart.Add(rateWindow/2)) {
		// A rate 429 in a run old enough for its count to say
		// something. A window cut by one earlier 429 came from slow
		// start's starts, or from a few that reached the server
		// together, which a rate limit explains as well: the pace
		// bounds what is in flight now, and a concurrency limit, if
		// there is one, is found again.
		if c := int(l.window) + 1; c >= len(l.refused) || l.refused[c] <= 1 {
			l.window = float64(l.max)
			l.tracef("window=%d: the rate explains the earlier 429", l.max)
		}
	}
	// prev is the start right before this one, when it was refused too
	// and the server may still be a window that counts refused requests
	// (its mode did not end).
	var prev *event
	if !l.noWindow {
		if e := l.history.find(t.seq - 1); e != nil && e.fate == throttled {
			prev = e
		}
	}
	if prev != nil && l.lastRateHit.IsZero() &&
		start.Sub(prev.at) < rateWindow/2 && !start.Before(l.firstStart.Add(rateWindow/2)) {
		// The run's first rate 429, of the start right after a refused
		// one, which came when the window before it held n starts, all
		// of them known to be accepted, and none held more: a window
		// that counts refused requests refuses every start until its
		// oldest have left it, and slow start's next start after the
		// first refusal comes before that, with n starts in the window
		// before it still (refused ones counted). Read as such a window
		// now, not at a third refusal soon after a rate cut, the mode
		// saves a slot of each window for the rest of the run: each
		// start follows the one n before it by a window, so the last
		// one comes 9 windows after this one in scenario (e) (0.800 s
		// instead of 0.883 s). A token bucket with a burst of 2 that
		// refused slow start's first starts as the window did accepts
		// this one (it has a token again: scenario a-13rps); one with
		// a larger burst at a lower rate may refuse it too, and then
		// refuses again within the mode's first windows, which ends the
		// mode (tentativeWindows). While some of the window's starts
		// are not known to be accepted (a loaded machine's slow
		// answers), n would be low, and a server that refuses nothing
		// at that count would be held to it until the mode's probe:
		// the third refusal decides then.
		from := prev.at.Add(-rateWindow)
		n := l.history.startedSince(from, prev.at)
		if n > 0 && l.history.acceptedSince(from, prev.at.Add(-time.Nanosecond), now.Add(-acceptAge)) == n &&
			l.history.maxAcceptedInWindow(rateWindow, now.Add(-acceptAge)) <= n && l.history.startedSince(start.Add(-rateWindow), start) >= n {
			l.countsRefused = true
			l.enterWindowLocked(now, n)
			l.winTentative = true
			return
		}
	}
	var est float64
	margin := rateMargin
	cur := l.currentRateLocked(now)
	if !l.lastRateHit.IsZero() && start.Sub(l.lastRateHit) < rateWindow/2 {
		// Soon after the last rate 429: the server still counts what
		// came before the cut (a window that counts refused requests
		// too refuses everything until it has drained), or the cut was
		// not deep enough. Counting accepted requests over so short a
		// time says little: hold back starts for twice as many pacing
		// intervals as the last time, which drains any window, and
		// leave the estimate to the next 429 that comes later. The
		// first such 429 also bounds the estimate by what the last
		// whole window accepted (a run younger than a window counts as
		// one), which a window that let its allowance through at once
		// overstates no longer; not for a server that allows no burst,
		// whose rate the closest two starts it accepted bound from
		// below (the last window's count, slow start's slower starts
		// among them, is low). When the start before this one was
		// refused too, the server refuses everything for a while: it
		// counts refused requests, so later cuts skip them. Otherwise,
		// later, the margin below the estimate was too thin for how
		// much the requests' way to the server varies: widen it.
		if prev != nil {
			l.countsRefused = true
			// The window's allowance: the most it let through in one
			// window, but no more than came in the window before this
			// 429, refused requests counted too.
			n := min(l.history.maxAcceptedInWindow(rateWindow, now.Add(-acceptAge)), l.history.startedSince(start.Add(-rateWindow), start))
			// A count over less than a whole window says nothing of
			// what a window allows: the mode waits for a run (and a
			// log of starts) that spans one.
			if n > 0 && !l.noWindow && !start.Before(l.firstStart.Add(rateWindow/2)) {
				l.enterWindowLocked(now, n)
				return
			}
		}
		switch {
		case l.streak == 0 && l.rateCuts == 1 && !l.noBurst && !start.Before(l.firstStart.Add(rateWindow/2)):
			if w := l.acceptedRateLocked(start, now.Add(-acceptAge)); w < l.rateEst {
				l.rateEst = w
				l.rate = w * (1 - rateMargin)
			}
		case l.rateCuts == 1 && start.Before(l.firstStart.Add(rateWindow/2)):
			// The first estimate counted a run of a few round trips,
			// too few to say much: count again over the whole run,
			// now longer.
			d := start.Sub(l.firstStart)
			if w := float64(l.history.acceptedSince(l.firstStart.Add(-time.Nanosecond), start, now.Add(-acceptAge))) / d.Seconds(); d > 0 && w > 0 && w < l.rateEst {
				l.tracef("young run's rate %.2f", w)
				l.rateEst = w
				l.rate = w * (1 - rateMargin)
			}
		case l.streak == 0 && l.noBurst:
			l.widenMargin()
			l.rate = math.Min(l.rate, l.rateEst*(1-l.jitterMargin))
		}
		l.streak++
		l.rateSince = now
		l.lastRateHit = start
		l.nextStart = now.Add(time.Duration(float64(time.Second) / l.rate * float64(int(1)<<min(l.streak, 6))))
		l.paceFrom = l.nextStart
		if !l.countsRefused && 1<<min(l.streak, 6) <= idleGaps {
			// A hold of a few intervals: what the server's allowance
			// saved meanwhile is spent after it, so the next count
			// runs from this refused start, not from the hold's end.
			l.paceFrom = start
		}
		l.tracef("rate hold streak=%d until %v", l.streak, l.nextStart.Sub(now))
		return
	}
	from := l.lastRateHit
	if l.paceFrom.After(from) {
		from = l.paceFrom
	}
	if !l.lastRateHit.IsZero() && start.Sub(from) >= rateWindow/2 {
		// Between two rate 429s the server's allowance was used up at
		// both ends, so what it accepted in between is its rate, give or
		// take one request. (Between starts held back long after the
		// first and the second it was not used up: that part does not
		// count. A short hold, or the start skipped after a cut, counts:
		// what the allowance saved then was spent later in the count.)
		// Paced below the rate for part of that time (the plateau),
		// the client did not use the allowance up, and that count is
		// low; a server that counts refused requests over a window
		// accepted its rate in the last window before the 429.
		d := start.Sub(from)
		if cur > 0 && !l.countsRefused {
			// Time in which the client sent nothing though the pace
			// allowed it (a machine that did not run it, a caller
			// with nothing to send) did not use the allowance up
			// either: it does not count.
			d -= l.history.idleSince(from, start, time.Duration(idleGaps*float64(time.Second)/cur))
			d = max(d, rateWindow/2)
		}
		n := float64(l.history.acceptedSince(from, start, now.Add(-acceptAge)))
		est = n / d.Seconds()
		// From one refused start to the next, the count is off by a
		// request at most: half the margin of a first estimate is room
		// enough.
		margin = math.Min(rateMargin/2, math.Max(rateMargin/3, 1/math.Max(n, 1)))
		if last := l.acceptedRateLocked(start, now.Add(-acceptAge)); l.countsRefused && last > est {
			est = last
		}
		if pf := l.rateSince.Add(l.plateau); pf.After(from) && start.Sub(pf) >= rateWindow/2 {
			// Refused while probing: paced below the rate during the
			// plateau, the server's allowance overflowed, and the count
			// since the last cut is low. Count from the probe's start,
			// less one for what the allowance may have held then.
			if p := float64(l.history.acceptedSince(pf, start, now.Add(-acceptAge))-1) / start.Sub(pf).Seconds(); p > est {
				est = p
			}
			// The probe sped up through the rate and ran the allowance
			// out within the last window: what that window accepted,
			// less one, is closer when the probe started far below.
			if start.Sub(pf) >= rateWindow {
				if w := float64(l.history.acceptedSince(start.Add(-rateWindow), start, now.Add(-acceptAge))-1) / rateWindow.Seconds(); w > est {
					est = min(w, cur)
				}
			}
		}
	} else {
		// The first rate 429: what was accepted in the last window, or
		// since the first start in a run younger than that. (A server
		// that counts over a window let all it allows through at once:
		// the 429s that follow soon correct that.)
		from := start.Add(-rateWindow)
		if from.Before(l.firstStart) {
			from = l.firstStart.Add(-time.Nanosecond)
		}
		d := max(start.Sub(from), time.Millisecond)
		if cur > 0 && !l.countsRefused {
			// Not the first: one soon after a hold that began less
			// than half a window after the 429 before. The time the
			// client sent nothing, though the pace allowed it (the
			// holds), did not use the allowance up: it does not count.
			d -= l.history.idleSince(from, start, time.Duration(idleGaps*float64(time.Second)/cur))
			d = max(d, rateWindow/2)
		}
		est = float64(l.history.acceptedSince(from, start, now.Add(-acceptAge))) / d.Seconds()
		if rtt := l.minLat; cur == 0 && rtt > 0 && start.Sub(l.firstStart) > 2*rtt && rtt < rateWindow/2 {
			// Slow start's starts sped up over the count, which is low
			// as a rule; over its last round trip they went out as fast
			// as the server let them, less one for what its allowance
			// held. A count of a few is too rough for that: off by one,
			// it is off by a third.
			if n := l.history.acceptedSince(start.Add(-rtt), start, now.Add(-acceptAge)) - 1; n >= lastTripCount {
				if r := float64(n) / rtt.Seconds(); r > est {
					l.tracef("rate over the last round trip %.2f, over the run %.2f", r, est)
					est = r
				}
			}
		}
	}
	if gapRate := float64(time.Second) / float64(minGap); minGap < noGap && (l.noBurst || level > accepted && !modeEnded || float64(time.Second)/float64(l.minGapEver) <= burstless*est) {
		// Refused for coming too soon at a level never accepted, or
		// the server never let two requests through much closer than
		// its average (or was found to allow no burst before: a low
		// count after holds is no sign of one): a rate limit with no
		// burst allowance. It lets requests through no closer than
		// 1/rate, so the closest it let through bound its rate from
		// below. (The count above is low
		// when the starts were speeding up or paced below the rate.)
		if gapRate >= est {
			est = gapRate
			margin = burstlessMargin
			l.noBurst = true
		}
	}
	if l.countsRefused {
		// What a window accepts is a whole count, which the last
		// window's count found: little room is needed.
		margin = min(margin, burstlessMargin)
	}
	if (l.noBurst || l.countsRefused) && l.rateCuts > 0 && now.Sub(l.rateSince) < l.plateau && est >= l.rate*(1-sameRate) {
		// Refused while pacing below the estimate, before any probe,
		// though the server accepted about all that was sent, by a
		// server with no burst allowance to absorb early arrivals: the
		// margin is too thin for how much the requests' way to the
		// server varies, and the estimate stands.
		l.widenMargin()
		est = l.rateEst
	} else if cur > 0 && est > cur {
		est = cur
	}
	margin = max(margin, l.jitterMargin)
	l.rateCuts++
	if est <= 0 {
		est = 1 / rateWindow.Seconds()
	}
	same := sameRate
	if l.rateCuts == 2 {
		// The first estimate counted few starts: it is rougher.
		same *= 2
	}
	switch {
	case l.rateEst > 0 && math.Abs(est-l.rateEst) < same*l.rateEst:
		l.plateau = max(l.plateau, probePlateau) * plateauGrowth
		// The same rate found again: each count is off by up to one
		// request over its span, so the two together say more.
		est = (est + l.rateEst) / 2
	case l.rateEst == 0 && !l.noBurst && !l.countsRefused:
		// The first estimate counts slow start's starts, which were
		// speeding up: low, as a rule, so probed soon.
		l.plateau = firstPlateau
	default:
		l.plateau = probePlateau
	}
	l.streak = 0
	l.rateEst = est
	l.rate = est * (1 - margin)
	l.refitAt = time.Time{}
	if fits, ok := l.bucketFitsLocked(start, now.Add(-acceptAge)); ok {
		if lo, hi, narrow := narrowFit(fits); narrow {
			// Replayed against a token bucket full at the first
			// start, the run's starts and their answers fit only a
			// burst allowance of two or more and rates from lo to hi,
			// close together: a count of a few requests is rougher
			// than that (off by one in ten, it paces above the rate
			// or well below it). The server's rate is at least lo:
			// pace there, where the allowance absorbs what the
			// requests' way varies, and probe late.
			l.paceAtFitLocked(now, lo, hi, 0)
			l.tracef("bucket fit %.2f-%.2f", lo, hi)
		} else if d, ok := refuteSlow(fits, l.rate); ok && d <= maxRefute {
			// Slower buckets fit too, with a larger allowance (the
			// pace, accepted for d, rules them out), or the fastest
			// fit too wide a range (the starts accepted by the
			// plateau's end narrow it): replay again then, before the
			// probe begins.
			l.plateau = max(l.plateau, d)
			l.refitAt = now.Add(l.plateau)
			l.tracef("bucket fit wide: refit in %v", l.plateau)
		}
	}
	l.rateSince = now
	l.lastRateHit = start
	// A server that counts refused requests over a window refuses
	// everything until they have left it: skip a start for each.
	slots := 1.0
	if l.countsRefused {
		slots += float64(l.history.refusedSince(start.Add(-rateWindow), start))
	}
	l.nextStart = now.Add(time.Duration(slots * float64(time.Second) / l.rate))
	l.paceFrom = l.nextStart
	if !l.countsRefused {
		// The allowance was used up at this start: the next count runs
		// from it. From the skipped start's end instead, it would take
		// in what the allowance saved while that start was skipped,
		// and find the pace it was made at again.
		l.paceFrom = start
	}
	l.tracef("rate est=%.2f rate=%.2f plateau=%v skip=%.1f", l.rateEst, l.rate, l.plateau, slots)
}

// refitLocked replays the run against a token bucket again, at refitAt: a
// narrow fit now sets the pace and the plateau as at a 429.
func (l *Adaptive) refitLocked(now time.Time) {
	l.refitAt = time.Time{}
	if l.rate <= 0 || l.winLimit > 0 {
		return
	}
	upTo := now.Add(-max(acceptLatencies*l.min429Lat, minAcceptAge))
	fits, ok := l.bucketFitsLocked(upTo, upTo)
	if !ok {
		return
	}
	lo, hi, narrow := narrowFit(fits)
	if !narrow {
		return
	}
	// The pace since the last cut went through the plateau accepted:
	// up to the step, it holds.
	l.paceAtFitLocked(now, lo, hi, l.rate)
	l.rateSince = now
	l.tracef("bucket refit %.2f-%.2f", lo, hi)
}

// paceAtFitLocked paces a quarter into the range of a narrow fit from lo
// to hi, and probes only after a long plateau: the server's rate is
// known to a few percent. A pace held (accepted since the last cut; 0
// for none) up to that holds; from below it, the pace steps up after
// fitDwell, unless a 429 comes first.
func (l *Adaptive) paceAtFitLocked(now time.Time, lo, hi, held float64) {
	l.fitStep = lo + fitStepShare*(hi-lo)
	r := max(lo, min(held, l.fitStep))
	l.rateEst, l.rate = r, r
	l.fitStepAt = time.Time{}
	if r < l.fitStep {
		l.fitStepAt = now.Add(fitDwell)
	}
	l.plateau = max(l.plateau, fitPlateau)
}

// bucketFit is a burst allowance and the range of rates at which a token
// bucket of that burst answers a run's starts as the server did.
type bucketFit struct {
	burst, lo, hi float64
}

// bucketFitsLocked replays the run's starts up to upTo, and their answers,
// against a token bucket full at the first start (a start in flight since
// acceptedBefore counts as accepted), and returns, for each whole burst
// allowance that fits, the range of rates at which a bucket of that burst
// answers each start as the server did, each start taken to have reached
// the server as much earlier or later than its start says as the run's
// delays allow (delays that vary much widen the ranges). ok is false when
// the run is not all remembered, an answer is not known, nothing fits, or
// a bucket with no burst allowance fits (pacing at the least rate that
// fits would leave it no room), and when the server was read as no token
// bucket already: one allowing no burst, or counting refused requests.
func (l *Adaptive) bucketFitsLocked(upTo, acceptedBefore time.Time) ([]bucketFit, bool) {
	if l.noBurst || l.countsRefused {
		return nil, false
	}
	if l.seq > historySize {
		return nil, false // the first starts are forgotten
	}
	rs := l.replay[:0]
	steady := true
	// skew bounds how much later than its start the server may have
	// seen a request: the most a request waited between its start and
	// its sending, plus the longest way to the server, which no 429's
	// round trip exceeds (a 429 comes back at once).
	var waited, way time.Duration
	l.history.each(func(e *event) bool {
		if e.at.After(upTo) {
			return true
		}
		if e.lat > 0 {
			waited = max(waited, e.sent.Sub(e.at))
			if e.fate == throttled {
				way = max(way, e.lat)
			}
		}
		switch {
		case e.fate == throttled:
			rs = append(rs, replayStart{at: e.at.Sub(l.firstStart).Seconds()})
		case e.accepted(acceptedBefore):
			rs = append(rs, replayStart{at: e.at.Sub(l.firstStart).Seconds(), accepted: true})
		default:
			steady = false // failed, or its answer is not known yet
		}
		return steady
	})
	l.replay = rs
	if !steady || len(rs) == 0 {
		return nil, false
	}
	skew := (waited + way).Seconds()
	slices.Reverse(rs) // oldest first
	accepted := 0
	for _, r := range rs {
		if r.accepted {
			accepted++
		}
	}
	fits := l.fits[:0]
	for b := 1; b <= min(maxFitBurst, accepted); b++ {
		rmin, rmax := bucketBounds(rs, float64(b), skew)
		if rmin >= rmax {
			continue
		}
		if b < 2 {
			return nil, false
		}
		fits = append(fits, bucketFit{burst: float64(b), lo: rmin, hi: rmax})
	}
	l.fits = fits
	return fits, len(fits) > 0
}

// narrowFit is the range of rates lo to hi of all fits, and whether it is
// narrow (within fitNarrow).
func narrowFit(fits []bucketFit) (lo, hi float64, ok bool) {
	lo = math.Inf(1)
	for _, f := range fits {
		lo, hi = min(lo, f.lo), max(hi, f.hi)
	}
	return lo, hi, hi > 0 && hi <= lo*(1+fitNarrow)
}

// refuteSlow is how long starts paced at pace, all accepted, take to rule
// out the fits whose rates are below those of the fastest by more than
// fitNarrow: a bucket of burst b and rate r < pace refuses a start by
// b/(pace - r) after it was last empty. It is zero when there are none
// (the accepted starts may still narrow the fastest fits' range), and ok
// is false when a slower fit is not below the pace.
func refuteSlow(fits []bucketFit, pace float64) (d time.Duration, ok bool) {
	top := 0.0
	for _, f := range fits {
		top = max(top, f.hi)
	}
	var wait float64
	for _, f := range fits {
		switch {
		case f.hi > top/(1+fitNarrow):
			// One of the fastest.
		case f.hi >= pace:
			return 0, false
		default:
			wait = max(wait, f.burst/(pace-f.hi))
		}
	}
	// A pace a hair above a fit's rate would take ages (and overflow a
	// Duration): a day is as good as never.
	return time.Duration(min(wait, 86400) * float64(time.Second)), true
}

// replayStart is a start as bucketFitsLocked replays it: its time, in
// seconds from the first, and whether the server accepted it.
type replayStart struct {
	at       float64
	accepted bool
}

// bucketBounds is, for a token bucket of burst b full at the first of rs,
// the least rate at which each accepted start finds a token, and the rate
// below which no refused one does. A bucket's level at each start grows
// with its rate, so each is a bound: the rates that fit are rmin to rmax,
// none when rmin >= rmax.
func bucketBounds(rs []replayStart, b, skew float64) (rmin, rmax float64) {
	const lowest, highest = 0.01, 1e5 // starts a second
	accepts := func(r float64) bool { a, _ := replayBucket(rs, b, r, skew); return a }
	refuses := func(r float64) bool { _, f := replayBucket(rs, b, r, skew); return f }
	if !accepts(highest) || !refuses(lowest) {
		return 1, 0
	}
	// Bisect in the logarithm of the rate, to a few parts in a hundred
	// thousand: the last rate at which below holds, and the first at
	// which it does not.
	bisect := func(below func(float64) bool) (float64, float64) {
		lo, hi := lowest, highest
		for range 20 {
			if m := math.Sqrt(lo * hi); below(m) {
				lo = m
			} else {
				hi = m
			}
		}
		return lo, hi
	}
	rmin = lowest
	if !accepts(lowest) {
		_, rmin = bisect(func(r float64) bool { return !accepts(r) })
	}
	if !refuses(rmin) {
		return 1, 0 // the refused starts want a lower rate still
	}
	rmax = highest
	if !refuses(highest) {
		rmax, _ = bisect(refuses)
	}
	return rmin, rmax
}

// replayBucket replays rs against a token bucket of burst b and rate r,
// full at the first start: whether each accepted start found a token, and
// whether each refused one found none, when each may have reached the
// server up to skew seconds later or earlier than its start says, relative
// to the start before it, and so in another order than their starts: the
// accepted starts up to skew after a refused one may have taken tokens
// before it came.
func replayBucket(rs []replayStart, b, r, skew float64) (acceptsOK, refusalsOK bool) {
	acceptsOK, refusalsOK = true, true
	tokens, last := b, rs[0].at // the level at last: full at the first start, then just after each accepted one
	for i, s := range rs {
		dt := s.at - last
		if s.accepted {
			if math.Min(b, tokens+(dt+skew)*r) < 1 {
				acceptsOK = false
			}
		} else {
			// The accepted starts just after it may have reached the
			// server first, and taken tokens it would have found.
			ahead := 0.0
			for _, n := range rs[i+1:] {
				if n.at > s.at+skew {
					break
				}
				if n.accepted {
					ahead++
				}
			}
			if math.Min(b, tokens+max(dt-skew, 0)*r)-ahead >= 1 {
				refusalsOK = false
			}
		}
		// The level moves on at the starts that took a token only: a
		// refusal's allowance counts from the last of those, however
		// many refusals came between.
		if s.accepted {
			tokens = math.Min(b, tokens+dt*r) - 1
			last = s.at
		}
	}
	return acceptsOK, refusalsOK
}

// enterWindowLocked starts window mode at a count of n starts a window.
func (l *Adaptive) enterWindowLocked(now time.Time, n int) {
	l.winLimit = n
	l.winGuard = min(max(2*l.max429Lat, minWindowGuard), windowGuard)
	l.winSince = now
	l.winRefused = time.Time{}
	l.winWholeWays = time.Time{}
	l.winAnswered = time.Time{}
	l.winBase = n
	l.winStep = 1
	l.winPlateau = windowPlateau
	l.winProbeAt = now.Add(windowPlateau)
	l.winTentative = false
	l.tracef("window mode limit=%d", n)
}

// windowGateLocked is when the next start may go out in window mode: at
// once while fewer than winLimit starts (refused ones too) went out in the
// last window, else when the oldest of the last winLimit has left it.
func (l *Adaptive) windowGateLocked(now time.Time) time.Time {
	span := rateWindow + l.winGuard
	if !now.Before(l.winProbeAt) && l.history.startedSince(now.Add(-span), now.Add(time.Nanosecond)) >= l.winLimit {
		// A full window at the count and no 429 since the plateau
		// began: the server may allow more.
		if l.winLimit > l.winBase {
			// The last probe's window passed clean.
			l.winBase = l.winLimit
			l.winStep *= 2
		}
		l.winLimit = l.winBase + l.winStep
		l.winProbeAt = now.Add(span)
		l.tracef("window probe limit=%d", l.winLimit)
	}
	// The server counted each start when it arrived, which may be later
	// than the start by the caller's own work before sending and the
	// way to the server (known once the request ended), more for some
	// starts than for others: the window's edge is the winLimit-th
	// latest arrival.
	arr := l.arrivals[:0]
	l.history.each(func(e *event) bool {
		if !e.at.After(now.Add(-2 * span)) {
			return false
		}
		if a := l.arrivedLocked(e); a.After(now.Add(-span)) {
			arr = append(arr, a)
		}
		return true
	})
	l.arrivals = arr
	var gate time.Time
	if len(arr) >= l.winLimit {
		slices.SortFunc(arr, func(a, b time.Time) int { return b.Compare(a) })
		gate = arr[l.winLimit-1].Add(span)
	}
	if l.winLimit > l.winBase {
		// A probe spreads its starts over the window: a server that
		// counts over a window refuses the count all the same, one
		// that limits the rate with a small burst lets it through.
		if spread := l.lastStart.Add(span / time.Duration(l.winLimit)); spread.After(gate) {
			gate = spread
		}
	}
	return gate
}

// windowRefusedLocked adapts window mode to a 429 of a start it let
// through: the window's edge was too close for how much the requests'
// delays vary, and the guard doubles; once it is long, the server is no
// such window after all, and starts are paced at the window's count a
// window, as for any rate limit. A second 429 in the first windows of a
// mode entered at the run's first rate 429 ends it at once, and asRate
// says that the 429 is then to be counted as any rate 429: the mode had
// let a window's count through at once, which a server that is no such
// window answered.
func (l *Adaptive) windowRefusedLocked(now, start time.Time) (asRate bool) {
	if start.Before(l.winAnswered) {
		// Sent before the mode's last 429 came back, with the start
		// it answered (a few let out together after a stall): the
		// same window's edge, already answered.
		if start.After(l.winWholeWays) {
			l.winWholeWays = start
		}
		return false
	}
	l.winAnswered = now
	if l.winLimit > l.winBase {
		// A probe's count was refused: back to the last one that
		// passed, and probe more rarely.
		l.winLimit = l.winBase
		l.winStep = 1
		l.winPlateau *= plateauGrowth
		l.winProbeAt = now.Add(l.winPlateau)
		l.tracef("window probe refused: limit=%d plateau=%v", l.winLimit, l.winPlateau)
		return false
	}
	l.winProbeAt = now.Add(l.winPlateau)
	// The window's edge was too early for the way some of its requests
	// took to the server: until it has passed, each of them is taken to
	// have arrived as late as its round trip allows (a loaded machine
	// held a few back by more than arrivalSlack; the next start a window
	// after the capped arrival of another was refused again, and the
	// mode ended: 11.58 s instead of 10.2 s in scenario (e)).
	l.winWholeWays = start
	again := !l.winRefused.IsZero() && start.Sub(l.winRefused) < rateWindow
	// A mode entered at the run's first rate 429 may have taken a
	// token bucket with a larger burst at a lower rate for a window:
	// such a bucket refuses again within the mode's first windows, the
	// guard widened or not, where a window whose requests' delays vary
	// is done with 429s once the guard is wide enough (its first 429
	// widens it, as for any window).
	tentative := l.winTentative && !l.winRefused.IsZero() && now.Sub(l.winSince) < tentativeWindows*rateWindow
	l.winRefused = start
	if tentative {
		l.tracef("tentative window mode ends")
		l.endWindowLocked()
		return true
	}
	if l.winGuard < maxWindowGuard && !again {
		l.winGuard *= 2
		l.tracef("window 429: guard=%v", l.winGuard)
		return false
	}
	l.tracef("window mode ends")
	l.lastCut = now
	l.lastRateHit = start
	l.rateEst = float64(l.winLimit) / rateWindow.Seconds()
	l.rate = l.rateEst * (1 - rateMargin)
	l.rateSince = now
	l.plateau = probePlateau
	l.nextStart = now.Add(time.Duration(float64(time.Second) / l.rate))
	l.endWindowLocked()
	return false
}

// endWindowLocked ends window mode for the rest of the run: the server
// is no window that counts refused requests.
func (l *Adaptive) endWindowLocked() {
	l.winLimit = 0
	l.noWindow = true
	l.countsRefused = false
}

// widenMargin doubles the margin learned from 429s that came while
// pacing below the estimate, up to maxMargin.
func (l *Adaptive) widenMargin() {
	l.jitterMargin = math.Min(maxMargin, math.Max(2*l.jitterMargin, rateMargin))
	l.tracef("margin %.3f", l.jitterMargin)
}

func (l *Adaptive) tracef(format string, args ...any) {
	if l.trace != nil {
		l.trace(format, args...)
	}
}

// acceptedRateLocked is the rate of accepted starts in the rateWindow
// before start (a start in flight since acceptedBefore counts as accepted),
// over a whole window however young the run is.
func (l *Adaptive) acceptedRateLocked(start, acceptedBefore time.Time) float64 {
	from := start.Add(-rateWindow)
	if from.Before(l.firstStart) {
		from = l.firstStart.Add(-time.Nanosecond)
	}
	return float64(l.history.acceptedSince(from, start, acceptedBefore)) / rateWindow.Seconds()
}

// Rate reports the pacing rate, in starts a second, when the limiter has
// learned that the server limits the rate of requests; zero when it
// limits only how many are in flight.
func (l *Adaptive) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.currentRateLocked(l.clock.Now())
}

// Learning reports whether the limiter holds requests back after a 429
// without knowing yet whether the server limits the rate or the requests
// in flight: nothing had come back when it came, nor since. Limit is
// then 1, and Rate 0, for now only.
func (l *Adaptive) Learning() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.learning
}

// Limit reports the current concurrency limit.
func (l *Adaptive) Limit() int {
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

// find returns the remembered start of Ticket seq, nil if it is not
// remembered (seq 0, or overwritten by newer starts).
func (h *history) find(seq uint64) *event {
	if seq == 0 {
		return nil
	}
	var found *event
	h.each(func(e *event) bool {
		if e.seq == seq {
			found = e
			return false
		}
		return e.seq > seq
	})
	return found
}

// accepted reports whether the server let e's request through: it
// succeeded, or it is still in flight and started before acceptedBefore.
func (e *event) accepted(acceptedBefore time.Time) bool {
	return e.fate == succeeded || e.fate == inFlight && e.at.Before(acceptedBefore)
}

// minAcceptedGap is the shortest time between two accepted starts with
// no accepted start between them, noGap when fewer than two are
// remembered. Refused starts do not count: a server that limits the rate
// lets the next request through by the time since the last one it let
// through.
func (h *history) minAcceptedGap(acceptedBefore time.Time) time.Duration {
	g := noGap
	var next time.Time // the accepted start after the one looked at
	h.each(func(e *event) bool {
		if !e.accepted(acceptedBefore) {
			return true
		}
		if !next.IsZero() {
			g = min(g, next.Sub(e.at))
		}
		next = e.at
		return true
	})
	return g
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

// refusedSince counts throttled starts with from < at <= to.
func (h *history) refusedSince(from, to time.Time) int {
	n := 0
	h.each(func(e *event) bool {
		if !e.at.After(from) {
			return false
		}
		if !e.at.After(to) && e.fate == throttled {
			n++
		}
		return true
	})
	return n
}

// startedSince counts starts, whatever their fate, with from < at < to.
func (h *history) startedSince(from, to time.Time) int {
	n := 0
	h.each(func(e *event) bool {
		if !e.at.After(from) {
			return false
		}
		if e.at.Before(to) {
			n++
		}
		return true
	})
	return n
}

// maxAcceptedInWindow is the most accepted starts remembered within any
// span of length w.
func (h *history) maxAcceptedInWindow(w time.Duration, acceptedBefore time.Time) int {
	best := 0
	h.each(func(e *event) bool {
		if !e.accepted(acceptedBefore) {
			return true
		}
		// Accepted starts from e.at up to, not including, e.at+w.
		n := 0
		h.each(func(f *event) bool {
			if f.at.Before(e.at) {
				return false
			}
			if f.at.Before(e.at.Add(w)) && f.accepted(acceptedBefore) {
				n++
			}
			return true
		})
		best = max(best, n)
		return true
	})
	return best
}

// idleSince is the time between starts with from < at <= to, the first of
// them and to included, beyond gap: how long in all the starts were
// further apart than gap.
func (h *history) idleSince(from, to time.Time, gap time.Duration) time.Duration {
	var idle time.Duration
	next := to
	h.each(func(e *event) bool {
		if !e.at.After(from) {
			return false
		}
		if e.at.After(to) {
			return true
		}
		if d := next.Sub(e.at); d > gap {
			idle += d - gap
		}
		next = e.at
		return true
	})
	return idle
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
