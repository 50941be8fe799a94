package executor

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/limiter"
	"github.com/pixform/pixform/planner"
)

// TestBacklogFinishes: in an outage every image's first attempt fails (a
// 503, or a 429 with a Retry-After), so images waiting out their backoff
// fill the workers while the next image's first attempt wants a worker.
// The run must finish at any parallelism: the loop that starts first
// attempts once held the only request slot while it waited for a worker,
// and the waiting images, for that slot.
func TestBacklogFinishes(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail *Error
		par  int
	}{
		{"503 parallelism 1", &Error{Class: Transient, Msg: "503"}, 1},
		{"503 parallelism 2", &Error{Class: Transient, Msg: "503"}, 2},
		{"429 parallelism 1", &Error{Class: Throttled, RetryAfter: 300 * time.Millisecond, Msg: "429"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const n = 60
			e := newEnv(t)
			e.lim = newTestLimiter(tt.par)
			var mu sync.Mutex
			seen := map[string]bool{}
			e.prov = &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
				mu.Lock()
				first := !seen[req.Addr.String()]
				seen[req.Addr.String()] = true
				mu.Unlock()
				if first {
					return tt.fail
				}
				return renderPNG(t)(ctx, req, w)
			}}
			var changes []planner.Change
			for i := range n {
				name := fmt.Sprintf("img%03d", i)
				changes = append(changes, create(name, name+".png", int64(i+1)))
			}
			stop := make(chan struct{})
			fin := make(chan struct{})
			var res *Result
			var err error
			go func() {
				defer close(fin)
				res, err = e.apply(t, context.Background(), false, changes, func(o *Options) {
					o.Parallelism = tt.par
					o.Clock = limiter.SystemClock{}
					o.Stop = stop
				})
			}()
			// Not a timing assertion: a run that finishes takes seconds;
			// one that deadlocks never does, and is stopped to report it.
			select {
			case <-fin:
			case <-time.After(2 * time.Minute):
				close(stop)
				<-fin
				t.Fatalf("apply never finished: %d of %d images generated when stopped", res.Generated, n)
			}
			if err != nil || res.Generated != n {
				t.Errorf("apply = %v, %d of %d generated", err, res.Generated, n)
			}
		})
	}
}
