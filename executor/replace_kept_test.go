package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// failingJournal holds every lockfile write until gate closes, then fails
// every one: a lockfile on a disk that fills (or an NFS write that hangs
// and fails).
type failingJournal struct {
	*fakeRecorder
	gate chan struct{}
}

func (j failingJournal) Record(ctx context.Context, deletes []addrs.Addr, sets map[addrs.Addr]state.Entry) error {
	select {
	case <-j.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return errors.New("write lockfile: no space left on device")
}

// TestReplacesKeptWhenLockfileFails: a run replaces images while its
// lockfile writes stall and then fail (a disk that fills). A replace drops
// its old entry before its new file is placed, so each image waiting for
// that write is still only a temporary file: it must be in the content
// cache by then, or the render paid for is lost. At most the requests in
// flight may be repeated by the next run.
func TestReplacesKeptWhenLockfileFails(t *testing.T) {
	const parallel, n = 4, 300
	e := newEnv(t)
	e.lim = newTestLimiter(parallel)
	var changes []planner.Change
	for i := range n {
		name := fmt.Sprintf("img%03d", i)
		p := e.had(t, name, name+".png", int64(i+1))
		c := create(name, name+".png", int64(i+1000))
		c.Action, c.Prior = planner.Replace, p
		changes = append(changes, c)
	}
	var served atomic.Int32
	e.prov = &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		served.Add(1)
		return renderPNG(t)(ctx, req, w)
	}}
	gate := make(chan struct{})
	go func() {
		// The write fails once the requests stop going out (or 3s).
		last, deadline := int32(-1), time.Now().Add(3*time.Second)
		for time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			if s := served.Load(); s == last {
				break
			} else {
				last = s
			}
		}
		close(gate)
	}()
	res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
		o.Parallelism = parallel
		rec := newFakeRecorder(t, e.dir, e.prior)
		e.rec = rec
		o.Store = state.NewStore(e.dir, rec.Snapshot(), failingJournal{rec, gate}, e.cache)
	})
	e.cache.mu.Lock()
	puts := e.cache.puts
	e.cache.mu.Unlock()
	t.Logf("err: %v", err)
	t.Logf("requests %d, credits %d, generated %d, failed %d, skipped %d, cache puts %d, failed hooks %d",
		res.Requests, res.Credits, res.Generated, res.Failed, res.Skipped, puts, e.hooks.count("failed"))
	if lost := res.Requests - puts; lost > parallel {
		t.Errorf("%d paid renders lost (not recorded, not placed, not cached), more than the %d requests in flight", lost, parallel)
	}
}
