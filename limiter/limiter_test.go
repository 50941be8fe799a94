package limiter

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// All tests run in a synctest bubble: SystemClock is virtual there, so
// pacing and Retry-After pauses cost no real time and nothing depends on
// the machine's speed.

// limStuck is how long an Acquire must block to count as blocked: far longer
// than any pacing interval in these tests (in virtual time).
const limStuck = time.Second

// limAcquireN acquires n times and fails the test if any Acquire blocks.
// It returns the Tickets, oldest first.
func limAcquireN(t *testing.T, lim *Adaptive, n int) []Ticket {
	t.Helper()
	var ts []Ticket
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), limStuck)
		tk, err := lim.Acquire(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Acquire %d of %d: %v", i+1, n, err)
		}
		ts = append(ts, tk)
	}
	return ts
}

// limBlocked reports whether Acquire would block now (and undoes it if not).
func limBlocked(lim *Adaptive) bool {
	ctx, cancel := context.WithTimeout(context.Background(), limStuck)
	defer cancel()
	tk, err := lim.Acquire(ctx)
	if err != nil {
		return true
	}
	lim.Release(tk, Outcome{})
	return false
}

// limSucceed runs n sequential requests that succeed after lat.
func limSucceed(t *testing.T, lim *Adaptive, n int, lat time.Duration) {
	t.Helper()
	for range n {
		tk, err := lim.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(lat)
		lim.Release(tk, Outcome{Success: true, Latency: lat})
	}
}

func TestLimiterStartsBelowMax(t *testing.T) {
	tests := map[string]struct {
		max, want int
	}{
		"max 16":  {max: 16, want: initialWindow},
		"max 2":   {max: 2, want: 2},
		"max 1":   {max: 1, want: 1},
		"max 0":   {max: 0, want: 1},
		"max -3":  {max: -3, want: 1},
		"max 100": {max: 100, want: initialWindow},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(tc.max, SystemClock{})
				if got := lim.Limit(); got != tc.want {
					t.Errorf("Limit() = %d, want %d", got, tc.want)
				}
				limAcquireN(t, lim, tc.want)
				// Only the window starts at once; the opening's
				// next start waits its pace.
				ctx, cancel := context.WithTimeout(context.Background(), openingPace/2)
				defer cancel()
				if _, err := lim.Acquire(ctx); err == nil {
					t.Errorf("Acquire %d did not block with limit %d", tc.want+1, tc.want)
				}
			})
		})
	}
}

// TestLimiterOpening checks that before anything has come back, starts
// beyond the initial window go out one each openingPace, without
// growing slow start's window, and stop once an answer has come.
func TestLimiterOpening(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		tks := limAcquireN(t, lim, initialWindow)
		begin := time.Now()
		tks = append(tks, limAcquireN(t, lim, 2)...)
		if d := time.Since(begin); d != 2*openingPace {
			t.Errorf("two starts beyond the window took %v before any answer, want %v (one each openingPace)", d, 2*openingPace)
		}
		if tks[2].gap != openingPace || !tks[2].opening {
			t.Errorf("the opening's first start: gap %v, opening %v; want %v, true", tks[2].gap, tks[2].opening, openingPace)
		}
		if got := lim.Limit(); got != initialWindow {
			t.Errorf("Limit() = %d after the opening's starts, want slow start's %d", got, initialWindow)
		}
		// An answer ends the opening: slow start's window (3 after one
		// success) is below the 3 still in flight.
		lim.Release(tks[0], Outcome{Success: true, Latency: 600 * time.Millisecond})
		if !limBlocked(lim) {
			t.Error("a start beyond slow start's window went out after an answer had come")
		}
	})
}

// TestLimiterOpeningRefusalIsConcurrency checks that a start of the
// opening refused while the ones before it are still in flight, with
// nothing back yet, reads as a cap on the requests in flight at what is
// in flight, not as "nothing known" (one in flight until an answer).
func TestLimiterOpeningRefusalIsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		limAcquireN(t, lim, 4) // 2 at once, 2 paced
		tk := limAcquireN(t, lim, 1)[0]
		time.Sleep(time.Millisecond)
		lim.Release(tk, Outcome{Throttled: true, RetryAfter: time.Second, Latency: time.Millisecond})
		if lim.Learning() || lim.Limit() != 4 || lim.Rate() != 0 {
			t.Errorf("after the opening's fifth start was refused: Learning() = %v, Limit() = %d, Rate() = %v; want false, 4, 0",
				lim.Learning(), lim.Limit(), lim.Rate())
		}
	})
}

func TestLimiterGrowsOnSuccess(t *testing.T) {
	tests := map[string]struct {
		max, successes, want int
	}{
		"one success":      {max: 16, successes: 1, want: initialWindow + 1},
		"five successes":   {max: 16, successes: 5, want: initialWindow + 5},
		"stops at max":     {max: 4, successes: 20, want: 4},
		"reaches max fast": {max: 16, successes: 14, want: 16},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(tc.max, SystemClock{})
				limSucceed(t, lim, tc.successes, 100*time.Millisecond)
				if got := lim.Limit(); got != tc.want {
					t.Errorf("Limit() after %d successes = %d, want %d", tc.successes, got, tc.want)
				}
			})
		})
	}
}

func TestLimiterShrinksOn429(t *testing.T) {
	tests := map[string]struct {
		// inflight requests are started and left running long enough to
		// count as accepted, then one more is throttled at once: 150 ms
		// after them, no sooner than the server accepted starts before
		// (100 ms apart), so coming too soon does not explain the 429.
		inflight  int
		wantLimit int
	}{
		// Nothing above level 3 was ever accepted: a concurrency limit.
		"concurrency": {inflight: 3, wantLimit: 3},
		"down to one": {inflight: 1, wantLimit: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(16, SystemClock{})
				limSucceed(t, lim, 10, 100*time.Millisecond)
				before := lim.Limit()
				limAcquireN(t, lim, tc.inflight)
				time.Sleep(150 * time.Millisecond)
				tk := limAcquireN(t, lim, 1)[0]
				lim.Release(tk, Outcome{Throttled: true, RetryAfter: time.Second, Latency: time.Millisecond})
				got := lim.Limit()
				if got >= before || got != tc.wantLimit {
					t.Errorf("Limit() = %d after a 429 (was %d), want %d", got, before, tc.wantLimit)
				}
				if !limBlocked(lim) {
					t.Errorf("Acquire did not block with %d in flight and limit %d", tc.inflight, got)
				}
			})
		})
	}
}

// TestLimiterRate429Paces checks that a 429 at a level the server has
// accepted before (a rate limit) paces later starts instead of letting
// them all go at once.
func TestLimiterRate429Paces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		limSucceed(t, lim, 20, 100*time.Millisecond)
		// Level 1 was accepted 20 times; a 429 there is about rate.
		tk := limAcquireN(t, lim, 1)[0]
		lim.Release(tk, Outcome{Throttled: true, Latency: time.Millisecond})
		started := 0
		for !limBlocked(lim) {
			if _, err := lim.Acquire(context.Background()); err != nil {
				t.Fatal(err)
			}
			started++
			if started > 16 {
				break
			}
		}
		if started >= 16 {
			t.Errorf("%d requests started at once after a rate 429, want pacing", started)
		}
	})
}

// TestLimiterReleaseMatchesItsStart checks that an outcome is matched to
// the start of its own Ticket, not to the start nearest to the time its
// round trip says it began: here a 429 of the request started at level 1
// (a level accepted before, so a rate limit) must not be taken for the
// request started a millisecond later at level 2 (a concurrency limit).
func TestLimiterReleaseMatchesItsStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		limSucceed(t, lim, 1, 100*time.Millisecond)
		a := limAcquireN(t, lim, 1)[0] // level 1
		time.Sleep(time.Millisecond)
		limAcquireN(t, lim, 1) // level 2, still in flight
		time.Sleep(time.Millisecond)
		// A's round trip took the last millisecond only: the caller's
		// own work came first.
		lim.Release(a, Outcome{Throttled: true, Latency: time.Millisecond})
		if got := lim.Limit(); got < 2 {
			t.Errorf("Limit() = %d after a 429 at level 1, which was accepted before: want pacing, not a concurrency cut", got)
		}
	})
}

func TestLimiterRetryAfterPausesEveryone(t *testing.T) {
	tests := map[string]struct {
		retryAfter time.Duration
		wantPause  bool
	}{
		// HTTP rounds Retry-After up to whole seconds: "1" may mean 1 ms,
		// so it holds back only the throttled request.
		"one second":   {retryAfter: time.Second, wantPause: false},
		"absent":       {retryAfter: 0, wantPause: false},
		"five seconds": {retryAfter: 5 * time.Second, wantPause: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(16, SystemClock{})
				limSucceed(t, lim, 14, 100*time.Millisecond)
				held := limAcquireN(t, lim, 4) // then a 429 at level 5: a concurrency cut to 4
				time.Sleep(50 * time.Millisecond)
				tk := limAcquireN(t, lim, 1)[0]
				lim.Release(tk, Outcome{Throttled: true, RetryAfter: tc.retryAfter, Latency: time.Millisecond})
				for _, tk := range held {
					lim.Release(tk, Outcome{Success: true, Latency: 50 * time.Millisecond})
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_, err := lim.Acquire(ctx)
				if paused := err != nil; paused != tc.wantPause {
					t.Errorf("Acquire within a second of a 429 with Retry-After %v: err = %v, want paused %v",
						tc.retryAfter, err, tc.wantPause)
				}
				if tc.wantPause {
					if _, err := lim.Acquire(context.Background()); err != nil {
						t.Errorf("Acquire after the pause: %v", err)
					}
				}
			})
		})
	}
}

func TestLimiterAcquireHonoursContext(t *testing.T) {
	tests := map[string]struct {
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		"canceled before": {
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: context.Canceled,
		},
		"deadline while blocked": {
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Minute)
			},
			want: context.DeadlineExceeded,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(1, SystemClock{})
				limAcquireN(t, lim, 1) // the only slot, never released
				ctx, cancel := tc.ctx()
				defer cancel()
				if _, err := lim.Acquire(ctx); !errors.Is(err, tc.want) {
					t.Errorf("Acquire = %v, want %v", err, tc.want)
				}
			})
		})
	}
	t.Run("canceled while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lim := New(1, SystemClock{})
			limAcquireN(t, lim, 1)
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() {
				_, err := lim.Acquire(ctx)
				errc <- err
			}()
			synctest.Wait()
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("Acquire = %v, want context.Canceled", err)
			}
		})
	})
}

// TestLimiterNeverExceedsMax hammers the limiter from more goroutines
// than max with mixed outcomes and checks the in-flight count (run with
// -race).
func TestLimiterNeverExceedsMax(t *testing.T) {
	tests := map[string]struct {
		max, workers int
	}{
		"max 1":  {max: 1, workers: 4},
		"max 3":  {max: 3, workers: 8},
		"max 16": {max: 16, workers: 32},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(tc.max, SystemClock{})
				var inflight, peak atomic.Int64
				var wg sync.WaitGroup
				for w := range tc.workers {
					wg.Go(func() {
						for i := range 50 {
							tk, err := lim.Acquire(context.Background())
							if err != nil {
								t.Error(err)
								return
							}
							n := inflight.Add(1)
							for {
								p := peak.Load()
								if n <= p || peak.CompareAndSwap(p, n) {
									break
								}
							}
							if lim.Limit() > tc.max {
								t.Errorf("Limit() = %d > max %d", lim.Limit(), tc.max)
							}
							lat := time.Duration(1+(w*7+i*3)%20) * time.Millisecond
							time.Sleep(lat)
							inflight.Add(-1)
							switch (w + i) % 7 {
							case 0:
								lim.Release(tk, Outcome{Throttled: true, Latency: lat})
							case 1:
								lim.Release(tk, Outcome{Latency: lat}) // transient failure
							default:
								lim.Release(tk, Outcome{Success: true, Latency: lat})
							}
						}
					})
				}
				wg.Wait()
				if p := peak.Load(); p > int64(tc.max) || p < 1 {
					t.Errorf("peak in flight = %d, want 1..%d", p, tc.max)
				}
			})
		})
	}
}

// TestLimiterWithFakeClock checks that the limiter only uses the clock it
// is given.
func TestLimiterWithFakeClock(t *testing.T) {
	clk := &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	lim := New(4, clk)
	for range 6 {
		tk, err := lim.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		clk.advance(200 * time.Millisecond)
		lim.Release(tk, Outcome{Success: true, Latency: 200 * time.Millisecond})
	}
	if got := lim.Limit(); got != 4 {
		t.Errorf("Limit() = %d, want 4", got)
	}
}

// manualClock is a manual Clock; After fires on advance.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualTimer
}

type manualTimer struct {
	at time.Time
	c  chan time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, manualTimer{at: c.now.Add(d), c: ch})
	return ch
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.c <- c.now
	}
	c.waiters = kept
}

func BenchmarkLimiterAcquireRelease(b *testing.B) {
	lim := New(16, SystemClock{})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tk, err := lim.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			lim.Release(tk, Outcome{Success: true})
		}
	})
}

// TestLimiterNoBurstRateIsNotConcurrency checks that a 429 at a level the
// server never accepted, of a start that came sooner after the previous
// one than any two it accepted, is read as a rate limit with no burst
// allowance (paced near the closest accepted spacing), not as a
// concurrency limit of the levels it accepted.
func TestLimiterNoBurstRateIsNotConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		limSucceed(t, lim, 5, 100*time.Millisecond) // level 1, 100 ms apart
		limAcquireN(t, lim, 1)                      // level 1, 100 ms after the last
		time.Sleep(50 * time.Millisecond)
		b := limAcquireN(t, lim, 1)[0] // level 2, 50 ms after
		lim.Release(b, Outcome{Throttled: true, Latency: time.Millisecond})
		if got := lim.Limit(); got < 2 {
			t.Errorf("Limit() = %d after a 429 for coming too soon: want no concurrency cut", got)
		}
		if r := lim.Rate(); r < 9 || r > 12 {
			t.Errorf("Rate() = %.2f, want about 10/s (1/100 ms, the closest accepted spacing)", r)
		}
	})
}

// TestLimiterLearning checks that a 429 before anything got through holds
// one request in flight without claiming to know the kind of limit, and
// that the next 429, once something got through, tells the kind.
func TestLimiterLearning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		if lim.Learning() {
			t.Fatal("Learning() before any 429")
		}
		tks := limAcquireN(t, lim, 2)
		lim.Release(tks[1], Outcome{Throttled: true, RetryAfter: time.Second, Latency: time.Millisecond})
		if !lim.Learning() || lim.Limit() != 1 || lim.Rate() != 0 {
			t.Fatalf("after a 429 before anything got through: Learning() = %v, Limit() = %d, Rate() = %v; want true, 1, 0",
				lim.Learning(), lim.Limit(), lim.Rate())
		}
		time.Sleep(300 * time.Millisecond)
		lim.Release(tks[0], Outcome{Success: true, Latency: 300 * time.Millisecond})
		if lim.Learning() {
			t.Error("Learning() after a success: the hold is over")
		}
		// Two more, the second refused at once: a level the server
		// accepted, coming no later than it accepted one: a rate.
		tks = limAcquireN(t, lim, 1)
		time.Sleep(300 * time.Millisecond)
		lim.Release(tks[0], Outcome{Success: true, Latency: 300 * time.Millisecond})
		tks = limAcquireN(t, lim, 1)
		lim.Release(tks[0], Outcome{Throttled: true, RetryAfter: time.Second, Latency: time.Millisecond})
		if lim.Learning() {
			t.Errorf("Learning() after a 429 that came once a request got through (Limit %d, Rate %.2f)", lim.Limit(), lim.Rate())
		}
	})
}

// TestLimiterWindowAtSecondRefusal replays slow start's first second of
// scenario (e), a window of 10 a second that counts refused requests
// (refusals at 0.757 s and 0.800 s), and variants of it, up to the second
// refusal: window mode begins there, tentatively, only when that refusal
// follows a refused start, is the run's first rate 429, and the window
// before the first refusal held as many starts as any, all known to be
// accepted.
func TestLimiterWindowAtSecondRefusal(t *testing.T) {
	accepted := []float64{0, 0, 0.25, 0.302, 0.403, 0.478, 0.554, 0.614, 0.664, 0.714}
	tests := map[string]struct {
		accepted, refused []float64
		lat429            time.Duration // the 429s' round trip
		inFlight          int           // the last this many accepted starts have not ended
		want              int           // window mode's count, 0 for none
	}{
		"window":                  {accepted: accepted, refused: []float64{0.757, 0.800}, lat429: time.Millisecond, inFlight: 5, want: 10},
		"first refusal only":      {accepted: accepted, refused: []float64{0.757}, lat429: time.Millisecond, inFlight: 5},
		"accepted in between":     {accepted: append(slices.Clone(accepted), 0.800), refused: []float64{0.757, 0.857}, lat429: time.Millisecond, inFlight: 5},
		"refusals a window apart": {accepted: accepted, refused: []float64{0.3021, 0.800}, lat429: time.Millisecond, inFlight: 5},
		// 429s that took 60 ms: a request counts as accepted once in
		// flight for 240 ms, and the starts of the last 240 ms before
		// the first refusal are not known to be: their window's count
		// would be low.
		"answers not known": {accepted: accepted, refused: []float64{0.757, 0.800}, lat429: 60 * time.Millisecond, inFlight: 5},
		// A window before held 11 accepted starts: no window of 10.
		"more accepted before": {
			accepted: []float64{0, 0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 1.2, 1.3, 1.4, 1.45, 1.5, 1.55, 1.6, 1.65, 1.7},
			refused:  []float64{1.75, 1.8}, lat429: time.Millisecond,
		},
		// A run younger than half a window: no window's count yet.
		"young run": {accepted: []float64{0, 0, 0.1, 0.15, 0.2}, refused: []float64{0.25, 0.3}, lat429: time.Millisecond},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := limFitRun(tc.accepted, tc.refused, 300*time.Millisecond, tc.lat429)
			last := tc.refused[len(tc.refused)-1]
			at := l.firstStart.Add(time.Duration(last * float64(time.Second)))
			now := at.Add(tc.lat429)
			n := 0
			l.history.each(func(e *event) bool {
				e.level = 1
				if e.fate == succeeded && n < tc.inFlight {
					e.fate = inFlight
					n++
				}
				return true
			})
			l.successes = len(tc.accepted) - tc.inFlight
			l.inflight = tc.inFlight + 1
			l.mu.Lock()
			l.onThrottle(now, Ticket{seq: l.seq, at: at, level: 1, gap: 43 * time.Millisecond}, Outcome{Throttled: true, Latency: tc.lat429})
			got, tentative := l.winLimit, l.winTentative
			l.mu.Unlock()
			if got != tc.want || got > 0 && !tentative {
				t.Errorf("window mode's count %d (tentative %v), want %d", got, tentative, tc.want)
			}
		})
	}
}

// TestLimiterTentativeWindowEnds enters window mode at slow start's
// second refusal, as TestLimiterWindowAtSecondRefusal does, in front of
// a server that is no window: a token bucket with a larger burst at a
// lower rate refuses starts of the mode's second window. The first 429
// widens the guard, as for a window whose requests' delays vary; the
// second, within a window of it, ends the mode, the server is read as
// not counting refused requests, and that 429 is counted as any first
// rate 429 (what the last window accepted), not taken for the window's
// count, nor for a concurrency limit (more were in flight than ever
// before: the mode let the window's count out at once).
func TestLimiterTentativeWindowEnds(t *testing.T) {
	accepted := []float64{0, 0, 0.25, 0.302, 0.403, 0.478, 0.554, 0.614, 0.664, 0.714}
	l := limFitRun(accepted, []float64{0.757, 0.800}, 300*time.Millisecond, time.Millisecond)
	t0 := l.firstStart
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	l.history.each(func(e *event) bool { e.level = 1; return true })
	l.successes = len(accepted)
	l.minLat = 300 * time.Millisecond
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onThrottle(sec(0.801), Ticket{seq: l.seq, at: sec(0.800), level: 1, gap: 43 * time.Millisecond}, Outcome{Throttled: true, Latency: time.Millisecond})
	if l.winLimit != 10 || !l.winTentative {
		t.Fatalf("window mode's count %d (tentative %v) at the second refusal, want 10", l.winLimit, l.winTentative)
	}
	guard := l.winGuard
	// The mode's first starts, 7 accepted, then two refused.
	for _, s := range []float64{1.258, 1.312, 1.413, 1.489, 1.565, 1.624, 1.674} {
		l.seq++
		l.history.push(event{seq: l.seq, at: sec(s), level: 1, fate: succeeded, lat: 300 * time.Millisecond, sent: sec(s)})
		l.successes++
	}
	for i, s := range []float64{1.724, 1.766} {
		l.seq++
		l.history.push(event{seq: l.seq, at: sec(s), level: 8, fate: throttled, lat: time.Millisecond, sent: sec(s)})
		l.onThrottle(sec(s+0.001), Ticket{seq: l.seq, at: sec(s), level: 8, gap: 50 * time.Millisecond}, Outcome{Throttled: true, Latency: time.Millisecond})
		if i == 0 && (l.winLimit != 10 || l.winGuard != 2*guard) {
			t.Fatalf("after a 429 in the mode: window mode's count %d, guard %v; want 10, %v", l.winLimit, l.winGuard, 2*guard)
		}
	}
	if l.winLimit != 0 || l.countsRefused || !l.noWindow {
		t.Errorf("after two 429s in the mode's second window: window mode's count %d, counts refused %v, no window %v; want 0, false, true", l.winLimit, l.countsRefused, l.noWindow)
	}
	// The last window (0.766-1.766 s) accepted 7 (1.258-1.674 s): the
	// window's count of 10 a second would pace above that.
	if l.rate <= 0 || l.rate >= 9 || l.window < 16 {
		t.Errorf("rate %.2f, window %v after the mode ended; want the last window's count, about 7 a second, and no concurrency limit", l.rate, l.window)
	}
}

// TestLimiterWindowEdgeFromA429sWay checks that window mode times the
// window's edge from when a refused request may have reached the server:
// all of a 429's round trip may have been its way there (it comes back
// at once), the first 429's too, which is the fastest one known.
func TestLimiterWindowEdgeFromA429sWay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		lim.mu.Lock()
		lim.countsRefused = true
		lim.enterWindowLocked(time.Now(), 1)
		lim.mu.Unlock()
		t0 := time.Now()
		tk := limAcquireN(t, lim, 1)[0]
		time.Sleep(10 * time.Millisecond)
		lim.Release(tk, Outcome{Throttled: true, Latency: 10 * time.Millisecond})
		lim.mu.Lock()
		gate, guard := lim.windowGateLocked(time.Now()), lim.winGuard
		lim.mu.Unlock()
		if want := t0.Add(10*time.Millisecond + rateWindow + guard); gate.Before(want) {
			t.Errorf("window mode's next start %v after the refused one, want %v or later (the 429's round trip, a window and the guard)", gate.Sub(t0), want.Sub(t0))
		}
	})
}

// windowRunLimiter is a limiter in scenario (e)'s setting, for window
// mode's tests: accepted round trips of 300 ms at best, 429s of 1 ms,
// refused requests counted; sec gives the time s seconds after its first
// start.
func windowRunLimiter() (l *Adaptive, sec func(s float64) time.Time) {
	l = New(16, SystemClock{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.firstStart = t0
	l.minLat = 300 * time.Millisecond
	l.max429Lat = time.Millisecond
	l.countsRefused = true
	return l, func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
}

// TestLimiterWindowEdgeAfterA429TakesWholeWays replays scenario (e)'s
// window mode on a loaded machine (a traced run at 4.39 s): two
// accepted requests of a window took 477 ms and 403 ms where the fastest
// took 300 ms, late on their way to the server by more than
// arrivalSlack, and the start a window after the first was refused. The
// 429 shows that the server saw the window's requests later than the
// edge took them to arrive: the next start waits until the window holds
// fewer than the count when each request that started before the 429 is
// taken to have arrived as late as its round trip allows, not a window
// after the capped arrival of the second slow one (refused again 78 ms
// later, which ended the mode: 11.58 s instead of 10.2 s).
func TestLimiterWindowEdgeAfterA429TakesWholeWays(t *testing.T) {
	l, sec := windowRunLimiter()
	t0 := l.firstStart
	l.enterWindowLocked(sec(0.8), 10)
	lats := map[float64]time.Duration{3.3533: 477 * time.Millisecond, 3.4274: 403 * time.Millisecond}
	for _, s := range []float64{3.2744, 3.3533, 3.4274, 3.5019, 3.5820, 3.6474, 3.6952, 3.7475, 3.7951, 3.8282, 4.2793} {
		lat := cmp.Or(lats[s], 301*time.Millisecond)
		l.seq++
		l.history.push(event{seq: l.seq, at: sec(s), level: 1, fate: succeeded, lat: lat, sent: sec(s)})
		l.successes++
	}
	// The start a window and the guard after the first slow one's
	// capped arrival, refused.
	refused := sec(3.3533).Add(arrivalSlack + rateWindow + l.winGuard)
	l.seq++
	l.history.push(event{seq: l.seq, at: refused, level: 2, fate: throttled, lat: 2 * time.Millisecond, sent: refused})
	now := refused.Add(2 * time.Millisecond)
	l.onThrottle(now, Ticket{seq: l.seq, at: refused, level: 2, gap: 110 * time.Millisecond}, Outcome{Throttled: true, Latency: 2 * time.Millisecond})
	if l.winLimit != 10 {
		t.Fatalf("window mode's count %d after one 429 in the mode, want 10", l.winLimit)
	}
	// The window before the next start holds, refused ones counted,
	// the second slow one until 403-300 ms after it left.
	want := sec(3.4274).Add(103*time.Millisecond + rateWindow)
	if gate := l.windowGateLocked(now); gate.Before(want) {
		t.Errorf("window mode's next start at %.4f s, want %.4f s or later (the second slow request's whole way, and a window)", gate.Sub(t0).Seconds(), want.Sub(t0).Seconds())
	}
}

// TestLimiterWindowRefusalsTogether checks that starts that went out
// together in window mode, before the 429 of the first came back, and
// were refused with it, count as one 429 of the mode (a traced run of
// scenario (e) on a loaded machine: two at 7.025 s, after a stall of the
// client; the second ended the mode, tentative or not, and the rest of
// the run was paced as a rate: 11.9 s instead of 10.2 s). Their 429s
// tell of one window's edge, not of a server that refuses again once
// the guard is wider.
func TestLimiterWindowRefusalsTogether(t *testing.T) {
	for _, tentative := range []bool{false, true} {
		l, sec := windowRunLimiter()
		l.successes = 60
		at := 6.0
		if tentative {
			at = 0.9
		}
		l.enterWindowLocked(sec(at-1), 10)
		l.winTentative = tentative
		for i := range 10 {
			l.seq++
			s := sec(at - 0.95 + 0.09*float64(i))
			l.history.push(event{seq: l.seq, at: s, level: 1, fate: succeeded, lat: 301 * time.Millisecond, sent: s})
		}
		guard := l.winGuard
		var tks []Ticket
		for i := range 2 {
			l.seq++
			s := sec(at + 0.0004*float64(i))
			l.history.push(event{seq: l.seq, at: s, level: 2 + i, fate: throttled, lat: 600 * time.Microsecond, sent: s})
			tks = append(tks, Ticket{seq: l.seq, at: s, level: 2 + i, gap: 400 * time.Microsecond})
		}
		for i, tk := range tks {
			l.onThrottle(tk.at.Add(600*time.Microsecond+time.Duration(i)*100*time.Microsecond), tk, Outcome{Throttled: true, Latency: 600 * time.Microsecond})
		}
		if l.winLimit != 10 || l.winGuard != 2*guard {
			t.Errorf("tentative %v: after two 429s of starts that went out together: window mode's count %d, guard %v; want 10, %v", tentative, l.winLimit, l.winGuard, 2*guard)
		}
	}
}

// TestLimiterWindowGuardFrom429s checks that window mode's guard starts
// at twice the slowest 429's round trip so far (the 429s' round trips
// measure the requests' way to the server), at least minWindowGuard and
// at most windowGuard.
func TestLimiterWindowGuardFrom429s(t *testing.T) {
	for _, tc := range []struct {
		lat429, want time.Duration
	}{
		{lat429: time.Millisecond, want: 4 * time.Millisecond},
		{lat429: 3 * time.Millisecond, want: 6 * time.Millisecond},
		{lat429: 10 * time.Millisecond, want: 8 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			lim := New(16, SystemClock{})
			tk := limAcquireN(t, lim, 1)[0]
			time.Sleep(300 * time.Millisecond)
			lim.Release(tk, Outcome{Success: true, Latency: 300 * time.Millisecond})
			tk = limAcquireN(t, lim, 1)[0]
			time.Sleep(tc.lat429)
			lim.Release(tk, Outcome{Throttled: true, Latency: tc.lat429})
			lim.mu.Lock()
			lim.countsRefused = true
			lim.enterWindowLocked(time.Now(), 1)
			guard := lim.winGuard
			lim.mu.Unlock()
			if guard != tc.want {
				t.Errorf("window mode's guard %v after a 429 of %v, want %v", guard, tc.lat429, tc.want)
			}
		})
	}
}

// TestLimiterWindowModeRate checks that in the mode for a window that
// counts refused requests, Rate reports the window's count a second, not
// the pace it left behind (or its probe, which no longer applies).
func TestLimiterWindowModeRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		lim.rate, lim.rateEst, lim.rateSince = 9.6, 9.8, time.Now().Add(-time.Minute)
		lim.countsRefused, lim.winLimit, lim.winGuard = true, 10, windowGuard
		if got := lim.Rate(); got != 10 {
			t.Errorf("Rate() = %v in window mode with 10 a window, want 10", got)
		}
		// All 10 start at once; the 11th waits for the window.
		limAcquireN(t, lim, 10)
		if !limBlocked(lim) {
			t.Error("an 11th start in the same window was let through")
		}
	})
}

// lateTimerClock is the system clock whose timers all fire late by the
// same amount, as on a loaded machine.
type lateTimerClock struct{ late time.Duration }

func (lateTimerClock) Now() time.Time { return time.Now() }

func (c lateTimerClock) After(d time.Duration) <-chan time.Time { return time.After(d + c.late) }

// TestLimiterPacingKeepsItsRateWhenTimersFireLate checks that the pace
// holds its rate when each start wakes a little after it was due: the
// lateness of one start is taken from the interval to the next, not added
// to it, so the pace is the rate, not 1/(interval + lateness), unless the
// server allows no burst, where starts never follow closer than the
// interval.
func TestLimiterPacingKeepsItsRateWhenTimersFireLate(t *testing.T) {
	tests := map[string]struct {
		noBurst bool
		minGap  time.Duration // the closest two accepted starts seen
		min     time.Duration // least time for the starts
		max     time.Duration // most time for the starts
	}{
		// 200 starts at 50/s: 199 intervals of 20 ms; 2 ms late each
		// would be 4.38 s.
		"a burst allowance":      {minGap: time.Millisecond, min: 3960 * time.Millisecond, max: 4 * time.Second},
		"burst never seen":       {minGap: noGap, min: 4370 * time.Millisecond, max: 4400 * time.Millisecond},
		"no burst: never closer": {noBurst: true, minGap: 20 * time.Millisecond, min: 4370 * time.Millisecond, max: 4400 * time.Millisecond},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(16, lateTimerClock{late: 2 * time.Millisecond})
				lim.throttled, lim.window, lim.minLat = true, 16, 100*time.Millisecond
				lim.rate, lim.rateEst, lim.rateSince, lim.plateau = 50, 51, time.Now(), time.Hour
				lim.noBurst, lim.minGapEver = tc.noBurst, tc.minGap
				begin := time.Now()
				var prev time.Time
				for i := range 200 {
					tk, err := lim.Acquire(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if i > 0 && tc.minGap >= 20*time.Millisecond && tk.at.Sub(prev) < 20*time.Millisecond {
						t.Fatalf("start %d came %v after the one before, closer than the pace's 20 ms", i, tk.at.Sub(prev))
					}
					prev = tk.at
					lim.Release(tk, Outcome{Success: true, Latency: 100 * time.Millisecond})
				}
				if d := time.Since(begin); d < tc.min || d > tc.max {
					t.Errorf("200 starts at 50/s with timers 2 ms late took %v, want %v to %v", d, tc.min, tc.max)
				}
			})
		})
	}
}

// TestLimiterRateLiftsAMisreadConcurrencyLimit checks that once a 429
// says the server limits the rate, a window cut by a single earlier 429
// (read then as a concurrency limit, as slow start's 429s are) no longer
// bounds the requests in flight: the pace does, with room for requests
// that take longer than the fastest (a loaded machine's own work on
// each response), and a window cut twice at the same level stays.
func TestLimiterRateLiftsAMisreadConcurrencyLimit(t *testing.T) {
	tests := map[string]struct {
		cuts       int // 429s at level 4 read as a concurrency limit of 3
		wantWindow int
	}{
		"one cut: lifted": {cuts: 1, wantWindow: 16},
		"two cuts: stays": {cuts: 2, wantWindow: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := New(16, SystemClock{})
				limSucceed(t, lim, 10, 300*time.Millisecond)
				// Three in flight, accepted; a 4th start 150 ms later
				// refused at once.
				tks := limAcquireN(t, lim, 3)
				time.Sleep(150 * time.Millisecond)
				tk := limAcquireN(t, lim, 1)[0]
				lim.Release(tk, Outcome{Throttled: true, Latency: time.Millisecond})
				time.Sleep(150 * time.Millisecond)
				for _, tk := range tks {
					lim.Release(tk, Outcome{Success: true, Latency: 300 * time.Millisecond})
				}
				if got := lim.Limit(); got != 3 {
					t.Fatalf("Limit() = %d after a 429 at level 4, want 3", got)
				}
				// A probe of level 4 refused again, as a real
				// concurrency limit refuses it.
				lim.refused[4] += tc.cuts - 1
				// Then a 429 at level 1, which the server accepted:
				// a rate limit.
				limSucceed(t, lim, 10, 300*time.Millisecond)
				tk = limAcquireN(t, lim, 1)[0]
				lim.Release(tk, Outcome{Throttled: true, Latency: time.Millisecond})
				if lim.Rate() == 0 {
					t.Fatal("Rate() = 0 after a 429 at an accepted level")
				}
				// The pace bounds what is in flight (Limit); the
				// concurrency window is what remains of the 429s at
				// level 4.
				if got := int(lim.window); got != tc.wantWindow {
					t.Errorf("concurrency window = %d after the rate 429 (Limit %d, rate %.2f), want %d", got, lim.Limit(), lim.Rate(), tc.wantWindow)
				}
			})
		})
	}
}

// TestLimiterPacedWindowCountsHowLongRequestsHold checks that when paced,
// the limit on requests in flight leaves room for how long requests
// actually hold their place (the round trip plus the caller's own work on
// the response), not only for the fastest round trip: a limit from the
// fastest round trip alone would hold the pace below the rate.
func TestLimiterPacedWindowCountsHowLongRequestsHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(32, SystemClock{})
		lim.throttled, lim.window, lim.minLat = true, 32, 100*time.Millisecond
		lim.rate, lim.rateEst, lim.rateSince, lim.plateau = 50, 51, time.Now(), time.Hour
		// Requests whose answer takes 100 ms and that hold their
		// place 200 ms.
		for range 40 {
			tk, err := lim.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			lim.Release(tk, Outcome{Success: true, Latency: 100 * time.Millisecond})
		}
		// 50/s × 200 ms = 10 in flight on average.
		if got := lim.Limit(); got < 12 {
			t.Errorf("Limit() = %d paced at 50/s with requests held 200 ms, want room for at least 12", got)
		}
	})
}

// limPaceUntilRefused acquires starts as the limiter paces them, each
// answered after 300 ms, until d has passed: the start at d or later is
// refused at once. pending holds the starts not answered yet.
func limPaceUntilRefused(t *testing.T, lim *Adaptive, d time.Duration, pending *[]Ticket) {
	t.Helper()
	from := time.Now()
	for {
		tk, err := lim.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for len(*pending) > 0 && time.Since((*pending)[0].at) >= 300*time.Millisecond {
			lim.Release((*pending)[0], Outcome{Success: true, Latency: 300 * time.Millisecond})
			*pending = (*pending)[1:]
		}
		if time.Since(from) >= d {
			lim.Release(tk, Outcome{Throttled: true, Latency: time.Millisecond})
			return
		}
		*pending = append(*pending, tk)
	}
}

// limPacedAbove returns a limiter pacing at 11.67 a second after two rate
// cuts, its estimate 11.9, its timers a millisecond late as they are
// outside a test, and a burst seen earlier.
func limPacedAbove() *Adaptive {
	lim := New(16, lateTimerClock{late: time.Millisecond})
	begin := time.Now()
	lim.throttled, lim.window, lim.minLat = true, 16, 300*time.Millisecond
	lim.rateEst, lim.rate, lim.rateCuts = 11.9, 11.67, 2
	lim.rateSince, lim.plateau = begin, time.Hour
	lim.firstStart, lim.lastRateHit = begin.Add(-5*time.Second), begin
	lim.minGapEver = time.Millisecond // a burst let two through at once
	return lim
}

// TestLimiterRateCountSpansTheSkippedStart checks that the count between
// two rate 429s runs from the first refused start, when the server's
// allowance was used up, and not from the end of the start skipped after
// the cut: the allowance that skipped start left unused is spent in the
// count, which then found the pace it was made at again (here 11.5 a
// second for a server that let 6 through in 0.6 s: 10 a second).
func TestLimiterRateCountSpansTheSkippedStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := limPacedAbove()
		var pending []Ticket
		limPaceUntilRefused(t, lim, 2*time.Second, &pending)
		first := lim.rateEst
		limPaceUntilRefused(t, lim, 600*time.Millisecond, &pending)
		if lim.rateEst > 10.5 {
			t.Errorf("estimate %.2f after 6 accepted in the 0.6 s between two 429s (first estimate %.2f), want about 10", lim.rateEst, first)
		}
	})
}

// TestLimiterPacesJustBelowACountBetweenRefusals checks the margin below
// a rate counted from one refused start to the next: the count is off by
// a request at most, so starts are paced 1% below it, not 2%.
func TestLimiterPacesJustBelowACountBetweenRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := limPacedAbove()
		var pending []Ticket
		limPaceUntilRefused(t, lim, 2*time.Second, &pending)
		limPaceUntilRefused(t, lim, 600*time.Millisecond, &pending)
		if got, want := lim.rate, lim.rateEst*(1-rateMargin/2); got < want-1e-9 {
			t.Errorf("paced at %.3f for an estimate of %.3f (%.1f%% below), want at most %.1f%% below",
				got, lim.rateEst, 100*(1-got/lim.rateEst), 100*rateMargin/2)
		}
	})
}

// limFitRun builds a limiter whose history holds the given starts (offsets
// from the first, in seconds) with their answers, each round trip lat for
// an accepted start and lat429 for a refused one, as a run would leave it.
func limFitRun(accepted, refused []float64, lat, lat429 time.Duration) *Adaptive {
	l := New(16, SystemClock{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.firstStart = t0
	type st struct {
		at float64
		ok bool
	}
	var all []st
	for _, a := range accepted {
		all = append(all, st{a, true})
	}
	for _, r := range refused {
		all = append(all, st{r, false})
	}
	slices.SortStableFunc(all, func(a, b st) int { return cmp.Compare(a.at, b.at) })
	for _, s := range all {
		l.seq++
		at := t0.Add(time.Duration(s.at * float64(time.Second)))
		e := event{seq: l.seq, at: at, fate: succeeded, lat: lat, sent: at}
		if !s.ok {
			e.fate, e.lat = throttled, lat429
		}
		l.history.push(e)
	}
	return l
}

func TestLimiterBucketFit(t *testing.T) {
	// Scenario (a) of the benchmarks, a token bucket of 10 a second
	// with a burst of 2, as slow start met it: 429s at 0.690 s and
	// 0.871 s. Only a burst of 2 at 9.82-10.45 a second answers these
	// starts so; 9.80-10.49 when each may have reached the server a
	// millisecond (a 429's round trip) earlier or later.
	aAccepted := []float64{0, 0, 0.302, 0.403, 0.478, 0.554, 0.629, 0.750, 0.811}
	aRefused := []float64{0.690, 0.871}
	tests := map[string]struct {
		accepted, refused []float64
		lat429            time.Duration
		lat               time.Duration
		long              bool
		notOK             bool // bucketFitsLocked is not ok
		ok                bool
		lo, hi            float64
	}{
		"bucket 10/s burst 2, two 429s": {
			accepted: aAccepted, refused: aRefused, lat: 300 * time.Millisecond, lat429: time.Millisecond,
			ok: true, lo: 9.80, hi: 10.49,
		},
		// At the first 429 alone, bursts of 2 to 5 fit, at rates from
		// 3.2 to 10.5 a second.
		"bucket 10/s burst 2, first 429 only": {
			accepted: aAccepted[:7], refused: aRefused[:1], lat: 300 * time.Millisecond, lat429: time.Millisecond,
		},
		// A 429 that took 14 ms: the requests' way to the server varies
		// that much, and the server saw the starts at other times.
		"slow 429s": {
			accepted: aAccepted, refused: aRefused, lat: 300 * time.Millisecond, lat429: 14 * time.Millisecond,
		},
		// The first start is forgotten.
		"long run": {
			accepted: aAccepted, refused: aRefused, lat: 300 * time.Millisecond, lat429: time.Millisecond,
			long: true, notOK: true,
		},
		// Starts 100 ms apart and one 66 ms after the last: a leaky
		// bucket with no burst allowance fits (10/s), where pacing at
		// the least rate that fits leaves no room.
		"no burst": {
			accepted: []float64{0, 0.1, 0.2, 0.3}, refused: []float64{0.366},
			lat: 300 * time.Millisecond, lat429: time.Millisecond, notOK: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := limFitRun(tc.accepted, tc.refused, tc.lat, tc.lat429)
			if tc.long {
				l.seq += historySize
			}
			last := tc.refused[len(tc.refused)-1]
			upTo := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(last * float64(time.Second)))
			fits, ok := l.bucketFitsLocked(upTo, upTo)
			if ok == tc.notOK {
				t.Fatalf("bucketFitsLocked = %v, ok %v; want ok %v", fits, ok, !tc.notOK)
			}
			lo, hi, narrow := narrowFit(fits)
			if ok && narrow != tc.ok {
				t.Fatalf("bucketFitsLocked = %v: %.3f-%.3f, narrow %v; want narrow %v", fits, lo, hi, narrow, tc.ok)
			}
			if !ok && tc.ok {
				t.Fatalf("bucketFitsLocked = %v, not ok; want a narrow fit", fits)
			}
			if ok && narrow && (math.Abs(lo-tc.lo) > 0.01 || math.Abs(hi-tc.hi) > 0.01) {
				t.Errorf("bucketFitsLocked = %.3f-%.3f, want %.2f-%.2f", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

func TestBucketBounds(t *testing.T) {
	// Two at once, one 0.25 s later, one refused 0.05 s after that.
	rs := []replayStart{{at: 0, accepted: true}, {at: 0, accepted: true}, {at: 0.25, accepted: true}, {at: 0.3}}
	rmin, rmax := bucketBounds(rs, 2, 0)
	// Accepting the third needs 0.25 r >= 1: r >= 4. Refusing the
	// fourth needs 0.3 r - 1 < 1: r < 6.67.
	if math.Abs(rmin-4) > 1e-3 || math.Abs(rmax-20.0/3) > 1e-3 {
		t.Errorf("bucketBounds(burst 2) = %.4f-%.4f, want 4-6.6667", rmin, rmax)
	}
	// Each up to 10 ms off: accepting the third needs (0.25 + 0.01) r
	// >= 1, refusing the fourth 0.25 r - 1 + 0.04 r < 1.
	rmin, rmax = bucketBounds(rs, 2, 0.01)
	if math.Abs(rmin-1/0.26) > 1e-3 || math.Abs(rmax-2/0.29) > 1e-3 {
		t.Errorf("bucketBounds(burst 2, skew 10 ms) = %.4f-%.4f, want 3.8462-6.8966", rmin, rmax)
	}
	// A burst of 1 cannot accept two at once.
	if rmin, rmax := bucketBounds(rs, 1, 0); rmin < rmax {
		t.Errorf("bucketBounds(burst 1) = %.4f-%.4f, want none", rmin, rmax)
	}
}

func TestRefuteSlow(t *testing.T) {
	tests := map[string]struct {
		fits []bucketFit
		pace float64
		want time.Duration
		ok   bool
	}{
		// A burst of 3 at up to 8 a second fits beside one of 2 at 9.2
		// to 10.2: at 9.85 a second it refuses a start within 3/1.85 s.
		"slower bucket": {
			fits: []bucketFit{{burst: 2, lo: 9.2, hi: 10.2}, {burst: 3, lo: 6.9, hi: 8}, {burst: 4, lo: 5.4, hi: 6}},
			pace: 9.85, want: 1621621621 * time.Nanosecond, ok: true,
		},
		"only the fastest": {
			fits: []bucketFit{{burst: 2, lo: 9.2, hi: 10.2}, {burst: 3, lo: 9.0, hi: 9.5}},
			pace: 9.85, want: 0, ok: true,
		},
		// The pace is below a slower fit: it never refuses one.
		"slower fit above the pace": {
			fits: []bucketFit{{burst: 2, lo: 11, hi: 12}, {burst: 3, lo: 9, hi: 10}},
			pace: 9.85, ok: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := refuteSlow(tc.fits, tc.pace)
			if ok != tc.ok || ok && (got-tc.want).Abs() > time.Millisecond {
				t.Errorf("refuteSlow = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestLimiterRefitRulesOutSlowerBuckets replays a run whose two 429s fit
// a burst of 2 at about 10 a second and a burst of 3 at 7-8 (requests
// that reached the server up to 2 ms apart from their starts): paced at
// 9.85 a second, all accepted, for two seconds more, it fits only the
// first.
func TestLimiterRefitRulesOutSlowerBuckets(t *testing.T) {
	acc := []float64{0, 0.0005, 0.302, 0.403, 0.478, 0.554, 0.629, 0.734}
	ref := []float64{0.673, 0.797}
	at := func(s float64) time.Time {
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second)))
	}
	l := limFitRun(acc, ref, 300*time.Millisecond, 2*time.Millisecond)
	fits, ok := l.bucketFitsLocked(at(0.797), at(0.797))
	if _, _, narrow := narrowFit(fits); !ok || narrow {
		t.Fatalf("at the 429: fits %v, ok %v, narrow %v; want ok and wide", fits, ok, narrow)
	}
	d, ok := refuteSlow(fits, 9.85)
	if !ok || d <= 0 || d > maxRefute {
		t.Fatalf("refuteSlow = %v, %v; want a wait of up to %v", d, ok, maxRefute)
	}
	for x := 0.9; x < 0.8+d.Seconds(); x += 1 / 9.85 {
		acc = append(acc, x)
	}
	l = limFitRun(acc, ref, 300*time.Millisecond, 2*time.Millisecond)
	upTo := at(0.8 + d.Seconds())
	fits, ok = l.bucketFitsLocked(upTo, upTo)
	lo, hi, narrow := narrowFit(fits)
	if !ok || !narrow || lo > 10 || hi < 10 {
		t.Fatalf("after %v at 9.85/s: fits %v (%.2f-%.2f), ok %v, narrow %v; want a narrow fit around 10/s", d, fits, lo, hi, ok, narrow)
	}
	// A start asked for once the refit is due replays the run again
	// (up to the starts whose answers are all in), and the narrow fit
	// sets the pace and a long plateau: the pace held since the cut, as
	// far as a quarter into the fit's range.
	now := upTo.Add(minAcceptAge)
	l.rate, l.rateEst, l.plateau = 9.85, 9.85, 0
	l.refitAt = now
	l.admitLocked(now)
	if !l.refitAt.IsZero() {
		t.Errorf("refit still due after a start was asked for at %v", now)
	}
	want := max(lo, min(9.85, lo+(hi-lo)/4))
	if math.Abs(l.rate-want) > 1e-9 || l.plateau < fitPlateau {
		t.Errorf("after the refit (fit %.3f-%.3f): rate %.3f, plateau %v; want %.3f and a plateau of at least %v", lo, hi, l.rate, l.plateau, want, fitPlateau)
	}
}

// TestLimiterQuickRefillRefusedAtTheLimit checks that once a concurrency
// limit was learned and refills made right after an answer went through,
// such a refill refused at the limit (a server that counted the request
// before it out a little late, as the fake does on a loaded machine)
// leaves the limit as it was instead of reading as a rate limit, a few
// times; and that refills then wait a little after each answer.
func TestLimiterQuickRefillRefusedAtTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		limSucceed(t, lim, 10, 500*time.Millisecond)
		// Four in flight, accepted; a fifth 150 ms later refused at
		// once: a concurrency limit of 4.
		tks := limAcquireN(t, lim, 4)
		time.Sleep(150 * time.Millisecond)
		lim.Release(limAcquireN(t, lim, 1)[0], Outcome{Throttled: true, Latency: time.Millisecond})
		if got := lim.Limit(); got != 4 || lim.Rate() != 0 {
			t.Fatalf("Limit() = %d, Rate() = %.2f after a 429 at level 5, want 4 and 0", got, lim.Rate())
		}
		// Each answer's place refilled, as soon as the limiter lets
		// it, for a while (fewer answers than a probe of 5 waits for).
		for range 24 {
			time.Sleep(125 * time.Millisecond)
			lim.Release(tks[0], Outcome{Success: true, Latency: 500 * time.Millisecond})
			tks = append(tks[1:], limAcquireN(t, lim, 1)...)
		}
		for i := range maxLagRefusals + 1 {
			time.Sleep(125 * time.Millisecond)
			lim.Release(tks[0], Outcome{Success: true, Latency: 500 * time.Millisecond})
			before := time.Now()
			tk := limAcquireN(t, lim, 1)[0]
			if waited := time.Since(before); tk.level != 4 || !tk.refill {
				t.Fatalf("refill %d: level %d, quick %v (after %v), want a quick refill at level 4", i+1, tk.level, tk.refill, waited)
			}
			lim.Release(tk, Outcome{Throttled: true, Latency: time.Millisecond})
			tks = append(tks[1:], limAcquireN(t, lim, 1)...)
			if i < maxLagRefusals {
				if lim.Rate() != 0 || lim.Limit() != 4 {
					t.Fatalf("after %d refused quick refills: Rate() = %.2f, Limit() = %d; want 0 and 4", i+1, lim.Rate(), lim.Limit())
				}
				if want := min(minRefillDelay<<i, maxRefillDelay); lim.refillDelay != want {
					t.Errorf("after %d refused quick refills: refill delay %v, want %v", i+1, lim.refillDelay, want)
				}
				continue
			}
			if lim.Rate() == 0 {
				t.Errorf("after %d refused quick refills: Rate() = 0, want a rate limit found", i+1)
			}
		}
		for _, tk := range tks {
			lim.Release(tk, Outcome{Success: true, Latency: 500 * time.Millisecond})
		}
	})
}

// TestLimiterNarrowFitStepsIntoItsRange checks that a narrow fit of a
// token bucket paces a quarter into the fit's range, not at its low end
// for the rest of the run: at once when the pace held since the last cut
// was accepted there, else from the low end after a while. The server's
// rate is anywhere in that range (the binary's runs of scenario (a)
// found 9.49-10.21 and 9.58-10.39 for a bucket of 10 a second and paced
// at 9.5-9.6 for the whole run), and a bucket with a burst allowance
// absorbs a pace a little above its rate for a long time, while the dwell
// at the low end has saved some of it.
func TestLimiterNarrowFitStepsIntoItsRange(t *testing.T) {
	acc := []float64{0, 0.0005, 0.302, 0.403, 0.478, 0.554, 0.629, 0.734}
	ref := []float64{0.673, 0.797}
	for x := 0.9; x < 2.5; x += 1 / 9.85 {
		acc = append(acc, x)
	}
	at := func(s float64) time.Time {
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second)))
	}
	upTo := at(2.5)
	fits, ok := limFitRun(acc, ref, 300*time.Millisecond, 2*time.Millisecond).bucketFitsLocked(upTo, upTo)
	lo, hi, narrow := narrowFit(fits)
	if !ok || !narrow {
		t.Fatalf("fits %v (%.2f-%.2f), ok %v, narrow %v; want a narrow fit", fits, lo, hi, ok, narrow)
	}
	step := lo + (hi-lo)/4
	tests := map[string]struct {
		held float64 // the pace since the last cut
		want []float64
	}{
		// 0, 1, 2 and 3 s after the refit.
		"held below the fit": {held: lo - 0.5, want: []float64{lo, lo, step, step}},
		"held in the fit":    {held: (lo + step) / 2, want: []float64{(lo + step) / 2, (lo + step) / 2, step, step}},
		"held at the step":   {held: hi, want: []float64{step, step, step, step}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := limFitRun(acc, ref, 300*time.Millisecond, 2*time.Millisecond)
			now := upTo.Add(minAcceptAge)
			l.rate, l.rateEst, l.plateau, l.rateSince = tc.held, tc.held, 0, now.Add(-time.Second)
			l.refitAt = now
			for i, want := range tc.want {
				l.inflight = 0
				l.admitLocked(now.Add(time.Duration(i) * time.Second))
				if math.Abs(l.rate-want) > 1e-9 {
					t.Errorf("%ds after the refit (fit %.3f-%.3f, held %.3f): rate %.3f, want %.3f", i, lo, hi, tc.held, l.rate, want)
				}
			}
		})
	}
}

// TestLimiterNoBurstHoldKeepsItsBound checks that a 429 soon after the
// first rate cut, of a server read as allowing no burst, leaves the rate
// that the closest accepted starts bound from below: the binary met this
// in scenario (d) (a leaky bucket of 10 a second with no burst), where
// the second 429 came 0.23 s after the first cut and the count of the
// last window, slow start's slower starts among them, paced the next
// 6.6 s at 5.9 a second (1.30× the ideal).
func TestLimiterNoBurstHoldKeepsItsBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := New(16, SystemClock{})
		limSucceed(t, lim, 3, 150*time.Millisecond) // 0 to 0.3 s, 150 ms apart
		limAcquireN(t, lim, 1)                      // 0.45 s, accepted (still in flight)
		time.Sleep(100 * time.Millisecond)
		limAcquireN(t, lim, 1) // 0.55 s, accepted: the closest two, 100 ms apart
		time.Sleep(50 * time.Millisecond)
		b := limAcquireN(t, lim, 1)[0] // 50 ms after: refused for coming too soon
		lim.Release(b, Outcome{Throttled: true, Latency: time.Millisecond})
		if r := lim.Rate(); r < 9.5 || r > 10.5 {
			t.Fatalf("Rate() = %.2f after the first 429, want about 10/s (1/100 ms)", r)
		}
		limAcquireN(t, lim, 1)         // paced: accepted
		c := limAcquireN(t, lim, 1)[0] // paced: refused, 0.2 s after the cut
		lim.Release(c, Outcome{Throttled: true, Latency: time.Millisecond})
		if r := lim.Rate(); r < 9 {
			t.Errorf("Rate() = %.2f after a 429 soon after the cut; want at least 9/s (two starts 100 ms apart went through)", r)
		}
	})
}
