package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TestApplyStopping runs four images two at a time: a is in flight when b
// stops the run (a fatal error, the Stop channel, or ctx cancel); c and d
// must never start.
func TestApplyStopping(t *testing.T) {
	tests := map[string]struct {
		// how b stops the run while a is in flight: fatal, stop, cancel.
		how string
		// wantA is how image a ends: "generated" or "skipped".
		wantA       string
		wantStopped func(error) bool
	}{
		"fatal stops new starts, in-flight finishes and is recorded": {
			how: "fatal", wantA: "generated",
			wantStopped: func(err error) bool { return err != nil && strings.Contains(err.Error(), "token is invalid") },
		},
		"stop channel lets in-flight finish": {
			how: "stop", wantA: "generated",
			wantStopped: func(err error) bool { return errors.Is(err, ErrInterrupted) },
		},
		"ctx cancel abandons in-flight": {
			how: "cancel", wantA: "skipped",
			wantStopped: func(err error) bool { return errors.Is(err, context.Canceled) },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			aStarted := make(chan struct{})
			trigger := make(chan struct{}) // closed once the run has been told to stop
			var once sync.Once
			e.prov = &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
				switch req.Addr.String() {
				case "image.a":
					close(aStarted)
					select {
					case <-trigger:
					case <-ctx.Done():
						w.Write([]byte("\x89PNG\r\n\x1a\npartial"))
						return ctx.Err()
					}
					if tc.how == "cancel" {
						<-ctx.Done()
						return ctx.Err()
					}
					_, err := w.Write(pngOf(t, 8, 6, 1))
					return err
				case "image.b":
					<-aStarted
					switch tc.how {
					case "fatal":
						return &Error{Class: Fatal, Msg: "the bearer token is invalid: check IMAGINE_API_TOKEN"}
					case "stop":
						close(stop)
						_, err := w.Write(pngOf(t, 8, 6, 2))
						return err
					case "cancel":
						cancel()
					}
					// b blocks until the run stops starting new work.
					<-ctx.Done()
					return ctx.Err()
				}
				t.Errorf("%s started after the run stopped", req.Addr)
				return errors.New("unexpected")
			}}
			e.hooks.onFailed = func(c *planner.Change) {
				if c.Addr.Name == "b" {
					once.Do(func() { close(trigger) })
				}
			}
			if tc.how != "fatal" {
				// b never fails; release a once the stop is visible.
				go func() {
					select {
					case <-stop:
					case <-ctx.Done():
					}
					once.Do(func() { close(trigger) })
				}()
			}
			changes := []planner.Change{
				create("a", "a.png", 1), create("b", "b.png", 2),
				create("c", "c.png", 3), create("d", "d.png", 4),
			}
			e.lim = newTestLimiter(2)
			runCtx, runCancel := context.WithCancel(ctx)
			defer runCancel()
			var res *Result
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				res, err = e.apply(t, runCtx, false, changes, func(o *Options) {
					o.Parallelism = 2
					o.Stop = stop
				})
			}()
			<-done
			if err == nil {
				t.Fatalf("Apply returned no error")
			}
			if !tc.wantStopped(res.Stopped) {
				t.Errorf("Stopped = %v", res.Stopped)
			}
			lock := e.rec.snapshot()
			_, recorded := lock["image.a"]
			if got := map[bool]string{true: "generated", false: "skipped"}[recorded]; got != tc.wantA {
				t.Errorf("image a %s, want %s", got, tc.wantA)
			}
			if recorded {
				wantEntry(t, e, lock, "a", "a.png")
			} else if fileSum(t, e.dir, "a.png") != "" {
				t.Errorf("a partial a.png is on disk")
			}
			for _, n := range []string{"image.c", "image.d"} {
				if e.prov.callsOf(n) != 0 {
					t.Errorf("%s was requested after the stop", n)
				}
			}
			if res.Generated+res.Failed+res.Skipped != 4 {
				t.Errorf("counts %+v do not add up to 4 images", countsOf(res))
			}
			// Only a cancel abandons requests in flight: a's and b's.
			wantAbandoned := map[bool]int{true: 2, false: 0}[tc.how == "cancel"]
			if res.Abandoned != wantAbandoned || res.Abandoned > res.Skipped {
				t.Errorf("abandoned %d of %d skipped, want %d", res.Abandoned, res.Skipped, wantAbandoned)
			}
		})
	}
}

func TestApplyThrottledWaitEndsOnCancel(t *testing.T) {
	for name, viaStop := range map[string]bool{"ctx": false, "stop": true} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.clock.block = true // waits never end by themselves
			e.prov = &fakeProvider{render: script(t, fails(Throttled, time.Hour))}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			e.hooks.onThrottl = func(*planner.Change) {
				if viaStop {
					close(stop)
				} else {
					cancel()
				}
			}
			res, err := e.apply(t, ctx, false, []planner.Change{create("a", "a.png", 1)}, func(o *Options) { o.Stop = stop })
			if err == nil || res.Skipped != 1 || res.Requests != 1 {
				t.Errorf("err %v, counts %+v", err, countsOf(res))
			}
		})
	}
}

func TestApplyParallelismCeiling(t *testing.T) {
	e := newEnv(t)
	e.lim = newTestLimiter(100)
	var mu sync.Mutex
	inFlight, peak := 0, 0
	e.prov = &fakeProvider{render: func(_ context.Context, req Request, w io.Writer) error {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		_, err := w.Write(pngOf(t, 2, 2, 1))
		return err
	}}
	var changes []planner.Change
	for i := range 20 {
		changes = append(changes, create("i"+string(rune('a'+i)), "out/"+string(rune('a'+i))+".png", int64(i+1)))
	}
	res, err := e.apply(t, context.Background(), false, changes, func(o *Options) { o.Parallelism = 3 })
	if err != nil || res.Generated != 20 {
		t.Fatalf("err %v, counts %+v", err, countsOf(res))
	}
	if peak > 3 {
		t.Errorf("%d requests in flight, ceiling 3", peak)
	}
}

// hangingJournal is a lockfile whose disk hangs: Record returns only when
// its ctx is done, as state.Recorder does.
type hangingJournal struct {
	*fakeRecorder
	entered chan struct{}
}

func (h hangingJournal) Record(ctx context.Context, deletes []addrs.Addr, sets map[addrs.Addr]state.Entry) error {
	h.entered <- struct{}{}
	<-ctx.Done()
	return fmt.Errorf("abandoned waiting for the lockfile write: %w", context.Cause(ctx))
}

// The second Ctrl-C (ctx) frees a worker waiting on a hung lockfile: the
// run ends as canceled, and the image counts as skipped, not failed.
func TestApplyCancelFreesAHungLockfileWait(t *testing.T) {
	e := newEnv(t)
	h := hangingJournal{newFakeRecorder(t, e.dir, e.prior), make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-h.entered
		cancel()
	}()
	res, err := Apply(ctx, &planner.Plan{Provider: providers.Imagine, Changes: []planner.Change{create("a", "a.png", 1)}}, Options{
		Dir: e.dir, Provider: &fakeProvider{render: renderPNG(t)}, Store: state.NewStore(e.dir, state.NewLock(), h, nil),
		Limiter: newTestLimiter(1), Parallelism: 1, Clock: newFakeClock(),
	})
	if err == nil || !strings.Contains(err.Error(), "apply canceled") {
		t.Fatalf("Apply: %v, want the cancellation", err)
	}
	if res.Skipped != 1 || res.Failed != 0 {
		t.Errorf("counts %+v, want the image skipped", countsOf(res))
	}
}

// A candidates image one of whose takes was in flight when the second
// Ctrl-C came counts as abandoned in flight, whichever take comes first;
// a real failure counts before either.
func TestFirstTakeError(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		errs []error
		want error
	}{
		{[]error{errAbandoned, errSkipped}, errAbandoned},
		{[]error{errSkipped, errAbandoned}, errAbandoned},
		{[]error{nil, errSkipped}, errSkipped},
		{[]error{errAbandoned, boom}, boom},
		{[]error{nil, nil}, nil},
	} {
		if got := firstTakeError(tc.errs); got != tc.want {
			t.Errorf("firstTakeError(%v) = %v, want %v", tc.errs, got, tc.want)
		}
	}
}
