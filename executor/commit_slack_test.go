package executor

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// stalledJournal holds every lockfile write until gate closes, as a slow
// disk (or a write of a large lockfile) does.
type stalledJournal struct {
	*fakeRecorder
	gate chan struct{}
}

func (j stalledJournal) Record(ctx context.Context, deletes []addrs.Addr, sets map[addrs.Addr]state.Entry) error {
	select {
	case <-j.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return j.fakeRecorder.Record(ctx, deletes, sets)
}

// TestApplyRequestsWhileTheLockfileWrites: images whose response arrived
// wait for the lockfile's write without holding back requests, well
// beyond a few per request slot, so that one write records many images
// and a slow write does not bound the run's rate. Nothing is recorded
// before its write, and every image is recorded in the end.
func TestApplyRequestsWhileTheLockfileWrites(t *testing.T) {
	const parallel, n, want = 4, 100, 10 * 4
	e := newEnv(t)
	var served atomic.Int32
	reached := make(chan struct{})
	e.prov = &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		if served.Add(1) == want {
			close(reached)
		}
		return renderPNG(t)(ctx, req, w)
	}}
	var changes []planner.Change
	for i := range n {
		name := fmt.Sprintf("img%03d", i)
		changes = append(changes, create(name, name+".png", int64(i+1)))
	}
	gate := make(chan struct{})
	var stalled atomic.Int32 // requests served when they stopped short of want
	go func() {
		// A hang guard, not a timing assertion: the requests reach want
		// in seconds, however slow the machine, unless they stalled.
		select {
		case <-reached:
		case <-time.After(2 * time.Minute):
			stalled.Store(served.Load())
		}
		close(gate)
	}()
	res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
		o.Parallelism = parallel
		j := stalledJournal{e.rec, gate}
		o.Store = state.NewStore(e.dir, e.rec.Snapshot(), j, e.cache)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stalled.Load(); got != 0 {
		t.Errorf("only %d images were requested while the lockfile write was held, want %d (%d request slots)", got, want, parallel)
	}
	if res.Generated != n || len(e.rec.snapshot()) != n {
		t.Errorf("generated %d, recorded %d, want %d", res.Generated, len(e.rec.snapshot()), n)
	}
}

// TestApplyWaitsForTheLockfileOffTheWorkers: a requested image waits for
// the lockfile on no worker of its own, so the images that wait for one
// write are many more per request slot than the workers kept for restores
// and takes (1 + commitSlack per slot), up to commitsPerSlot.
func TestApplyWaitsForTheLockfileOffTheWorkers(t *testing.T) {
	const parallel = 2
	const want, n = parallel * (commitsPerSlot - 1), parallel*commitsPerSlot + 10
	if want <= parallel*(1+commitSlack) {
		t.Fatalf("commitsPerSlot %d is no wider than the workers (%d per slot)", commitsPerSlot, 1+commitSlack)
	}
	e := newEnv(t)
	var served atomic.Int32
	reached := make(chan struct{})
	e.prov = &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		if served.Add(1) == want {
			close(reached)
		}
		return renderPNG(t)(ctx, req, w)
	}}
	var changes []planner.Change
	for i := range n {
		name := fmt.Sprintf("img%03d", i)
		changes = append(changes, create(name, name+".png", int64(i+1)))
	}
	gate := make(chan struct{})
	var stalled atomic.Int32
	go func() {
		// A hang guard, not a timing assertion: the requests reach want
		// in seconds, however slow the machine, unless they stalled.
		select {
		case <-reached:
		case <-time.After(2 * time.Minute):
			stalled.Store(served.Load())
		}
		close(gate)
	}()
	res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
		o.Parallelism = parallel
		o.Store = state.NewStore(e.dir, e.rec.Snapshot(), stalledJournal{e.rec, gate}, e.cache)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stalled.Load(); got != 0 {
		t.Errorf("only %d images were requested while the lockfile write was held, want %d", got, want)
	}
	if res.Generated != n || len(e.rec.snapshot()) != n {
		t.Errorf("generated %d, recorded %d, want %d", res.Generated, len(e.rec.snapshot()), n)
	}
}
