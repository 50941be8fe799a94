package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/limiter"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// DefaultThrottleGiveUp is how long a run may be rate-limited on every
// request, with no success, before it stops.
const DefaultThrottleGiveUp = 10 * time.Minute

// ErrInterrupted is the Result.Stopped of a run whose Stop channel closed
// (the first Ctrl-C): nothing new was started, and every request that was
// in flight finished. A candidates image is recorded only with all its
// takes: one whose other takes never started is not, but its finished
// takes are in the content cache, under the seeds the next plan draws
// again (planner.DrawnSeed).
var ErrInterrupted = errors.New("apply interrupted: no new image was started; the requests in flight finished, and each image they completed was recorded (a candidates image whose takes did not all start is not, but the next apply restores its finished takes from the local cache with no request, unless -replace drew its seed)")

// ErrThrottledOut is in the Result.Stopped of a run that stopped because
// the API rate-limited every request for longer than the give-up.
var ErrThrottledOut = errors.New("rate-limited every request")

// Cache is the local content cache, keyed by state.Inputs.Digest and the
// provider name, that Apply restores images from. state.Cache satisfies
// it. (The Store fills it.)
type Cache interface {
	Has(digest, provider string) bool
	Open(digest, provider string) (io.ReadCloser, error)
}

// Options configure Apply.
type Options struct {
	// Dir is the working directory; change paths are relative to it.
	Dir string
	// Provider renders images; Provider.Name() is recorded in each entry.
	Provider Provider
	// Store places, moves and removes the outputs and records every
	// finished change in the lockfile: the only writer of either.
	Store state.Store
	// Cache is the content cache to restore from; nil for none.
	Cache Cache
	// Recheck says that the plan may be older than what the content
	// cache holds (a saved plan, applied again after a commit that was
	// refused): a render it requests that nothing forces
	// (planner.Change.Forced) is looked up in the cache again, and
	// restored from there when the cache holds it. A plan this run made
	// has looked each of them up already.
	Recheck bool
	// Hooks receives progress events; nil means NilHooks.
	Hooks Hooks
	// Limiter gates request starts; nil means
	// limiter.New(Parallelism, Clock).
	Limiter Limiter
	// Parallelism is the ceiling of images in progress (and so of requests
	// in flight); below 1 means config.DefaultParallelism.
	Parallelism int
	// MaxRetries bounds the retries of one image after transient
	// failures. Throttled requests are retried without counting.
	MaxRetries int
	// Stop, when closed (the first Ctrl-C), stops new requests: requests in
	// flight finish and are recorded. Nil never closes. Cancelling the ctx
	// of Apply (the second Ctrl-C) cancels the requests in flight.
	Stop <-chan struct{}
	// ThrottleGiveUp stops the run when every request has been throttled
	// for this long since the last success (or the start); zero means
	// DefaultThrottleGiveUp.
	ThrottleGiveUp time.Duration
	// Clock is the time source of waits and measurements; nil means
	// limiter.SystemClock.
	Clock limiter.Clock
	// Rand returns uniformly random float64s in [0, 1) for backoff jitter;
	// nil means math/rand/v2. Apply serializes calls to it.
	Rand func() float64
	// Unplanned decides whether Apply sends a request the plan did not
	// count: the render of an image the plan restores from the content
	// cache whose cached copy is gone or damaged by the time it is
	// restored. It is asked one call at a time with that request's
	// credits (known false: an unpriced request) and the credits of such
	// requests it allowed before, and returns "" to send it, or why not
	// (a clause: "a saved plan is applied as it was made"): the image
	// then fails saying so, and nothing is sent. Nil sends every such
	// request, with a warning.
	Unplanned func(credits int, known bool, allowed int) string

	// tempWriter, set by tests only, is what a provider's bytes go
	// through on their way into an image's temporary file: a failing
	// writer stands for a full or read-only disk.
	tempWriter func(f *os.File) io.Writer
}

// Failure is one image that failed for good.
type Failure struct {
	Addr addrs.Addr
	Err  error
}

// Result summarizes an apply, including a partial one.
type Result struct {
	// Generated, Restored, Moved and Deleted count the changes carried
	// out, by how; Failed those that failed for good; Skipped those not
	// started because the run stopped.
	Generated, Restored, Moved, Deleted, Failed, Skipped int
	// Kept counts the deletes whose entry left the lockfile while their
	// file stayed, because the user changed it since it was recorded
	// (not counted in Deleted).
	Kept int
	// Abandoned counts those of Skipped whose request was in flight when
	// the second Ctrl-C cancelled it (sent, perhaps paid, not recorded),
	// or whose download from the image store it cut off.
	Abandoned int
	// RestoredFromStore counts those of Restored that came from the image
	// store (planned as restores from the store) rather than the local
	// content cache.
	RestoredFromStore int
	// Requests counts requests sent to the API (a draft render is none),
	// Retries the retries after transient failures, Throttled the requests
	// answered with 429.
	Requests, Retries, Throttled int
	// Unpriced counts the requests, of Requests, whose price is not
	// known (a style or an edit endpoint the vendor does not price, and
	// the provider block does not): Credits leaves them out.
	Unpriced int
	// Credits is the credits the server charged, as far as the client can
	// tell: the price of every request whose image arrived, whether it was
	// then recorded or not (a local disk that could not take it, a
	// lockfile write that failed); an error answer costs nothing.
	Credits int
	// Duration is the run's wall time.
	Duration time.Duration
	// Failures lists the failed images, in plan (address) order.
	Failures []Failure
	// Stopped is why the run stopped early: a fatal provider error, a
	// local disk error (wrapping a *LocalError), a lockfile write error,
	// the throttling give-up, ErrInterrupted, or the ctx cancellation; nil
	// when it ran to the end.
	Stopped error
}

// Apply carries out plan: deletes first, then moves (no requests), then
// creates and replaces, rendered concurrently under opts.Limiter within
// opts.Parallelism, restored from opts.Cache where the plan says so. Every
// finished change is on disk and recorded through opts.Store before it
// counts as done; the Store keeps the guarantees (every recorded entry's
// file exists with its recorded hash, no partial file is ever at an output
// path). Apply must be the only writer in opts.Dir (the CLI holds the
// directory's process lock): it first has the Store remove the temporary
// files a killed run left beside the plan's paths.
//
// Apply returns a Result even on error. The error is non-nil when an image
// failed or the run stopped early; it is returned only after everything
// that finished has been recorded. Apply waits for every goroutine it
// starts.
func Apply(ctx context.Context, plan *planner.Plan, opts Options) (*Result, error) {
	if plan == nil {
		return &Result{}, errors.New("apply: no plan")
	}
	if opts.Store == nil {
		return &Result{}, errors.New("apply: no output store (internal error)")
	}
	r := newRun(plan, &opts)
	if r.needsProvider() && opts.Provider == nil {
		return &Result{}, errors.New("apply: the plan renders images but no provider is configured (internal error)")
	}
	start := r.clock.Now()
	r.store.RemoveStaleTemps(r.paths())

	r.ctx = ctx
	startCtx, stopStarting := context.WithCancelCause(ctx)
	r.startCtx, r.stopStarting = startCtx, stopStarting
	if err := r.store.Begin(ctx, r.writes(), r.removals()); err != nil {
		r.stop(err)
	}
	var watcher sync.WaitGroup
	watcher.Go(func() {
		select {
		case <-opts.Stop:
			stopStarting(ErrInterrupted)
		case <-startCtx.Done():
		}
	})

	r.run(ctx)
	if err := r.store.End(ctx); err != nil {
		r.stop(err)
	}

	stopStarting(nil)
	watcher.Wait()

	res := &r.res
	res.Duration = r.clock.Now().Sub(start)
	r.placeFailures()
	sort.Slice(r.failures, func(i, j int) bool { return r.failures[i].index < r.failures[j].index })
	for _, f := range r.failures {
		res.Failures = append(res.Failures, f.Failure)
	}
	switch {
	case r.fatal != nil:
		res.Stopped = r.fatal
	case ctx.Err() != nil:
		res.Stopped = fmt.Errorf("apply canceled: requests in flight were abandoned: %w", context.Cause(ctx))
	case res.Skipped > 0 && errors.Is(context.Cause(startCtx), ErrInterrupted):
		res.Stopped = ErrInterrupted
	}
	switch {
	case res.Stopped != nil && res.Failed > 0:
		return res, fmt.Errorf("%w (and %d image(s) failed)", res.Stopped, res.Failed)
	case res.Stopped != nil:
		return res, res.Stopped
	case res.Failed > 0:
		return res, fmt.Errorf("%d of %d image change(s) failed, the first, %s: %w", res.Failed, r.total, res.Failures[0].Addr, res.Failures[0].Err)
	}
	return res, nil
}

// indexedFailure keeps a failure's plan position for sorting.
type indexedFailure struct {
	Failure
	index  int
	change *planner.Change // whose position index is, once placed
}

// placeFailures sets the plan position of each failure, in one walk of
// the plan: a run keeps no position per change for the few that fail.
func (r *run) placeFailures() {
	if len(r.failures) == 0 {
		return
	}
	pos := make(map[*planner.Change]int, len(r.failures))
	for _, f := range r.failures {
		pos[f.change] = 0
	}
	for i := range r.plan.Changes {
		if _, ok := pos[&r.plan.Changes[i]]; ok {
			pos[&r.plan.Changes[i]] = i
		}
	}
	for i := range r.failures {
		r.failures[i].index = pos[r.failures[i].change]
	}
}

// run is the state of one Apply.
type run struct {
	plan     *planner.Plan
	opts     *Options
	hooks    Hooks
	limiter  Limiter
	clock    limiter.Clock
	provider string
	parallel int
	// slots bounds requests in flight at parallel whatever the Limiter
	// does: images beyond it wait for a slot, out a backoff, or for the
	// lockfile (commitsPerSlot).
	slots chan struct{}
	// locals bounds the restores and local edits in progress at
	// parallel: each holds an image, or a source and its pixels, in
	// memory or open, and takes no request slot. It is held only for that
	// work, never while waiting for a request slot or the lockfile.
	locals       chan struct{}
	giveUp       time.Duration
	store        state.Store
	total        int
	randMu       sync.Mutex
	randFloat    func() float64
	ctx          context.Context         // Apply's: done on the second Ctrl-C
	startCtx     context.Context         // done when nothing new may start
	stopStarting context.CancelCauseFunc // cancels startCtx
	graph        *graph                  // the order of renders made from others
	vac          *vacates                // the order of changes taking paths others leave
	mu           sync.Mutex              // guards the fields below
	res          Result
	failures     []indexedFailure
	fatal        error
	lastGood     time.Time // last successful request, or the start
	unplanned    int       // credits of the requests Options.Unplanned allowed

	// commits runs the commits of requested images, off the workers
	// (not guarded by mu);
	// commitSlots holds a place for each requested image in progress
	// (commitsPerSlot).
	commits     sync.WaitGroup
	commitSlots chan struct{}
	// dirSlash is opts.Dir and a slash where opts.Dir is clean, so that
	// abs joins a clean relative path to it without cleaning the whole
	// path again; "" where not.
	dirSlash string
}

func newRun(plan *planner.Plan, opts *Options) *run {
	r := &run{plan: plan, opts: opts, hooks: opts.Hooks, clock: opts.Clock, parallel: opts.Parallelism, giveUp: opts.ThrottleGiveUp}
	r.dirSlash = dirSlashOf(opts.Dir)
	if r.hooks == nil {
		r.hooks = NilHooks{}
	}
	if r.clock == nil {
		r.clock = limiter.SystemClock{}
	}
	if r.parallel < 1 {
		r.parallel = config.DefaultParallelism
	}
	// As the configuration bounds it: the channels below are sized from it.
	r.parallel = min(r.parallel, 1<<20)
	r.slots = make(chan struct{}, r.parallel)
	r.locals = make(chan struct{}, r.parallel)
	r.commitSlots = make(chan struct{}, r.parallel*commitsPerSlot)
	if r.giveUp <= 0 {
		r.giveUp = DefaultThrottleGiveUp
	}
	r.limiter = opts.Limiter
	if r.limiter == nil {
		r.limiter = limiter.New(r.parallel, r.clock)
	}
	r.randFloat = opts.Rand
	if r.randFloat == nil {
		r.randFloat = rand.Float64
	}
	if opts.Provider != nil {
		r.provider = opts.Provider.Name()
	}
	r.store = opts.Store
	for i := range plan.Changes {
		c := &plan.Changes[i]
		switch c.Action {
		case planner.Create, planner.Replace, planner.Move, planner.Delete:
			r.total++
		}
	}
	r.graph = newGraph(plan)
	r.vac = newVacates(plan, r.graph)
	r.lastGood = r.clock.Now()
	return r
}

func (r *run) needsProvider() bool {
	for i := range r.plan.Changes {
		if a := r.plan.Changes[i].Action; a == planner.Create || a == planner.Replace {
			return true
		}
	}
	return false
}

// run carries out the plan in its three phases.
func (r *run) run(ctx context.Context) {
	var deletes, moves, renders []*planner.Change
	for i := range r.plan.Changes {
		c := &r.plan.Changes[i]
		switch c.Action {
		case planner.Delete:
			deletes = append(deletes, c)
		case planner.Move:
			moves = append(moves, c)
		case planner.Create, planner.Replace:
			renders = append(renders, c)
		}
	}
	if r.stopping() {
		r.skip(len(deletes) + len(moves) + len(renders))
		return
	}
	for _, c := range deletes {
		r.deleteOne(c)
	}
	if r.stopping() {
		r.skip(len(moves) + len(renders))
		return
	}
	// A move that takes a path a render leaves is carried out once that
	// render is recorded (vacates), with the renders.
	var deferred []*planner.Change
	if r.vac != nil {
		now := moves[:0:0]
		for _, c := range moves {
			if r.vac.isDeferred(c) {
				deferred = append(deferred, c)
			} else {
				now = append(now, c)
			}
		}
		moves = now
	}
	r.moves(moves)
	for _, c := range deferred {
		r.graph.wg.Go(func() {
			if r.vacated(c, output{}, false) {
				r.moves([]*planner.Change{c})
			}
			r.vac.finish(c, false, false)
		})
	}
	r.renders(ctx, renders)
}

// commitSlack is how many workers per request slot run beyond those
// whose request is in flight: images waiting out a backoff (which give
// their request slot back), restores and local edits, which commit on
// their worker and so wait there for the lockfile's group commit, and
// takes. A requested image waits for the lockfile off its worker
// (commitsPerSlot). With a narrow slack, restores are bound by the
// lockfile's write latency, and the growing file is rewritten once per
// few images (quadratic I/O).
const commitSlack = 16

// renders runs the creates and replaces concurrently. One image's failure
// does not cancel the others; a fatal error stops new starts through
// r.startCtx.
func (r *run) renders(ctx context.Context, renders []*planner.Change) {
	g := newWorkers(r.parallel * (1 + commitSlack))
	// An image made from another of this plan starts when that one is
	// recorded (settle), not here.
	// One that waits for another to leave its path starts after it.
	for _, c := range r.vac.order(r.graph.split(renders)) {
		if r.stopping() {
			r.skip(1)
			r.settle(ctx, c)
			continue
		}
		if r.vac.runsAlone(c) {
			// It waits for an image made from another: on a goroutine
			// of its own, holding no worker or slot meanwhile that the
			// image it waits for may need.
			r.graph.wg.Go(func() {
				if c.Inputs.Candidates > 1 {
					r.renderTakes(ctx, c)
				} else {
					r.render(ctx, c, false)
				}
				r.settle(ctx, c)
			})
			continue
		}
		if c.Inputs.Candidates > 1 {
			// Each take takes its own request slot.
			g.Go(func() {
				r.renderTakes(ctx, c)
				r.settle(ctx, c)
			})
			continue
		}
		// Take the first attempt's request slot here, so that first
		// attempts start in plan order; restores and local edits need none.
		// A request also takes its place among the images that may wait
		// for the lockfile (commitSlots) first: its commit then never
		// waits for one, and holds no worker while the lockfile is written.
		held := false
		render := func() {
			commit := r.renderRequest(ctx, c, held)
			switch {
			case commit == nil:
				if held {
					<-r.commitSlots
				}
				r.settle(ctx, c)
			case held:
				r.commits.Go(func() {
					commit()
					<-r.commitSlots
					r.settle(ctx, c)
				})
			default:
				// A restore that fell back to a request took no place.
				commit()
				r.settle(ctx, c)
			}
		}
		if c.FromCache || c.FromStore || planner.Endpoint(c.Inputs) == planner.EndpointLocal {
			g.Go(render)
			continue
		}
		if !r.takeCommitSlot() {
			r.skip(1)
			r.settle(ctx, c)
			continue
		}
		// A worker first, then the request slot: images waiting out a
		// backoff hold their workers and then wait for a slot, so the
		// slot is never held while waiting for a worker.
		g.Reserve()
		select {
		case r.slots <- struct{}{}:
			held = true
		case <-r.startCtx.Done():
			g.Unreserve()
			<-r.commitSlots
			r.skip(1)
			r.settle(ctx, c)
			continue
		}
		g.GoReserved(render)
	}
	g.Wait()
	r.commits.Wait()
	r.graph.wg.Wait()
}

// commitsPerSlot is how many requested images per request slot may be
// in progress at once, counting those whose request is in flight: once
// its image is in place, an image waits for the lockfile on a goroutine of
// its own (its request's worker goes on to the next), holding no request
// (a replace's image, not yet placed, is in the content cache by then, so
// that a failed write loses no paid render). Each lockfile write (which
// rewrites the whole file, and is spaced by its cost) then records what
// arrived meanwhile instead of holding the requests back until it is done.
const commitsPerSlot = 32

// takeCommitSlot takes a place among the images in progress
// (commitsPerSlot), or reports false once nothing new may start.
func (r *run) takeCommitSlot() bool {
	select {
	case r.commitSlots <- struct{}{}:
		return true
	case <-r.startCtx.Done():
		return false
	}
}

// workers runs functions on at most limit goroutines, started as needed
// and kept for the next function: an image's goroutine grows a deep stack
// (the HTTP client's), which a goroutine of its own per image would grow
// again, copy by copy, for every image.
type workers struct {
	work           chan func()
	busy           chan struct{} // a token per worker running a function
	limit, started int
	wg             sync.WaitGroup
}

func newWorkers(limit int) *workers {
	limit = max(limit, 1)
	return &workers{work: make(chan func()), busy: make(chan struct{}, limit), limit: limit}
}

// Go runs f on a worker, waiting for one to be free. One goroutine calls
// Go, Reserve and GoReserved.
func (w *workers) Go(f func()) {
	w.Reserve()
	w.GoReserved(f)
}

// Reserve waits for a worker to be free and keeps it for GoReserved (or
// gives it back with Unreserve).
func (w *workers) Reserve() { w.busy <- struct{}{} }

// Unreserve gives back a worker Reserve kept.
func (w *workers) Unreserve() { <-w.busy }

// GoReserved runs f on the worker Reserve kept: an idle one, or a new one
// while there are fewer than limit. It waits, if at all, only for a worker
// that has finished its function to come back for the next.
func (w *workers) GoReserved(f func()) {
	run := func() {
		f()
		<-w.busy
	}
	select {
	case w.work <- run:
		return
	default:
	}
	if w.started < w.limit {
		w.started++
		w.wg.Go(func() {
			run()
			for f := range w.work {
				f()
			}
		})
		return
	}
	w.work <- run
}

// Wait waits for every function given to Go to return. Go must not be
// called after it.
func (w *workers) Wait() {
	close(w.work)
	w.wg.Wait()
}

// acquireLocal waits for a local slot (locals). Its holders wait for
// nothing else, so the wait is short and needs no ctx.
func (r *run) acquireLocal() { r.locals <- struct{}{} }

// releaseLocal gives back the local slot that acquireLocal took.
func (r *run) releaseLocal() { <-r.locals }

// abs returns the file path of a slash-separated path relative to Dir.
func (r *run) abs(rel string) string {
	if r.dirSlash != "" && plainRel(rel) {
		// What Join gives, without cleaning the whole path once more.
		return r.dirSlash + rel
	}
	return filepath.Join(r.opts.Dir, filepath.FromSlash(rel))
}

// dirSlashOf is run.dirSlash of the directory d.
func dirSlashOf(d string) string {
	if filepath.Separator == '/' && d != "" && d != "." && d != "/" && filepath.Clean(d) == d {
		return d + "/"
	}
	return ""
}

// plainRel reports whether rel is a clean relative path that Join would
// not change: not empty, not absolute, no empty, "." or ".." element.
func plainRel(rel string) bool {
	if rel == "" || rel[0] == '/' || rel[len(rel)-1] == '/' {
		return false
	}
	start := 0
	for i := 0; i <= len(rel); i++ {
		if i < len(rel) && rel[i] != '/' {
			continue
		}
		if e := rel[start:i]; e == "" || e == "." || e == ".." {
			return false
		}
		start = i + 1
	}
	return true
}

func (r *run) rand() float64 {
	r.randMu.Lock()
	defer r.randMu.Unlock()
	return r.randFloat()
}

// stopping reports whether new work must not start. It looks at Stop
// itself too, so that no start slips in before the watcher goroutine has
// seen Stop close; and at ctx, since a canceled ctx reaches startCtx, its
// child, only after it has woken the requests in flight: one of them may
// give its slot back to an image that would then see startCtx not yet
// canceled.
func (r *run) stopping() bool {
	select {
	case <-r.opts.Stop:
		r.stopStarting(ErrInterrupted)
	default:
	}
	return r.startCtx.Err() != nil || r.ctx.Err() != nil
}

// stop stops the run for err: nothing new starts; the first cause wins.
func (r *run) stop(err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.mu.Unlock()
	r.stopStarting(err)
}

func (r *run) skip(n int) {
	r.mu.Lock()
	r.res.Skipped += n
	r.mu.Unlock()
}

// NotStarted counts the images not started because the run stopped:
// Skipped less those abandoned in flight.
func (r *Result) NotStarted() int { return r.Skipped - r.Abandoned }

// abandon counts an image whose request in flight was cancelled.
func (r *run) abandon() {
	r.mu.Lock()
	r.res.Skipped++
	r.res.Abandoned++
	r.mu.Unlock()
}

// fail records that c failed for good.
func (r *run) fail(c *planner.Change, err error) {
	r.mu.Lock()
	r.res.Failed++
	r.failures = append(r.failures, indexedFailure{Failure: Failure{Addr: c.Addr, Err: err}, change: c})
	r.mu.Unlock()
	r.hooks.Failed(c, err)
	r.vac.finish(c, false, true)
}

// done counts a completed change and reports it. credits is what
// completing c spent beyond its requests, which attempt counts as they
// are answered.
func (r *run) done(c *planner.Change, e state.Entry, how How, credits int) {
	r.mu.Lock()
	r.res.Credits += credits
	switch how {
	case Generated:
		r.res.Generated++
	case Restored:
		r.res.Restored++
		if c.FromStore {
			r.res.RestoredFromStore++
		}
	case Moved:
		r.res.Moved++
	case Deleted:
		r.res.Deleted++
	case KeptFile:
		r.res.Kept++
	}
	r.mu.Unlock()
	if how == Generated || how == Restored {
		r.graph.recordDone(c, e)
	}
	r.vac.finish(c, true, false)
	r.hooks.Completed(c, e, how)
}

// sleep waits d on the run's clock. It returns false, early, when the run
// stops starting new work (Stop, a fatal error, or ctx).
func (r *run) sleep(d time.Duration) bool {
	if d <= 0 {
		return !r.stopping()
	}
	select {
	case <-r.clock.After(d):
		return !r.stopping()
	case <-r.startCtx.Done():
		return false
	}
}

// LocalError is a failure of the local disk to take an image: creating,
// writing, syncing or renaming its temporary file. It is not the server's
// fault and a retry would not fix it, while every retry would be another
// paid request whose image is lost, so it stops the run.
type LocalError struct {
	// Op says what failed, for people: "write", "create the temporary
	// file of", "move into place" (sync, close and rename).
	Op string
	// Path is the image's path, relative to the working directory.
	Path string
	// Err is the OS error, naming the file it concerns.
	Err error
}

func (e *LocalError) Error() string {
	// The temporary file's name tells a person nothing: the OS error
	// about it is said of the image's path.
	cause := e.Err
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(cause, &pe) && state.IsTemp(filepath.Base(pe.Path)):
		cause = pe.Err
	case errors.As(cause, &le) && state.IsTemp(filepath.Base(le.Old)):
		cause = le.Err
	}
	return fmt.Sprintf("%s %s: %v", e.Op, e.Path, cause)
}

func (e *LocalError) Unwrap() error { return e.Err }

// localWriter tags the errors of the temporary file it writes to as
// *LocalError, and keeps the first, so that a failure of the local disk
// is told apart from the provider's whatever the provider returns.
type localWriter struct {
	w        io.Writer
	op, path string
	err      error
}

func (lw *localWriter) Write(p []byte) (int, error) {
	n, err := lw.w.Write(p)
	if err != nil {
		if lw.err == nil {
			lw.err = &LocalError{Op: lw.op, Path: lw.path, Err: err}
		}
		return n, lw.err
	}
	return n, nil
}

// stopLocal stops the run for a local disk error while carrying out c, and
// fails c: no request is sent for an image the disk cannot take.
func (r *run) stopLocal(c *planner.Change, le *LocalError) {
	r.fail(c, r.stopForLocal(le))
}

// stopForLocal stops the run for a local disk error and returns the
// error to fail the image with.
func (r *run) stopForLocal(le *LocalError) error {
	err := fmt.Errorf("the local disk refused an image: %w; the run stopped so that no more requests are paid for and lost", le)
	r.stop(err)
	return err
}
