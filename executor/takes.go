package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"
	"sync/atomic"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TakeKeeper is a content cache that can keep a take that is not placed
// at any path: state.Cache. Apply keeps every take of a candidates image
// in it as soon as it arrives, so that a run killed before the image is
// recorded asks for none of them again, and a pick needs no request.
type TakeKeeper interface {
	Keep(digest, provider string, f *os.File, ext, sum string) error
}

// BodyKeeper is a Provider that may keep an answer that arrived whole and
// that it failed all the same (watch's Superseding: a render that a newer
// save made obsolete as it arrived, which is paid for). When the
// provider's Render or EditFor fails, the executor calls KeepBody before
// it gives up the temporary file the answer was written to: body holds
// every byte the provider wrote, size of them from offset 0, whose
// SHA-256 is sum. The error KeepBody returns, when not nil, is reported in
// place of err. The executor places and records nothing of the answer,
// and gives the file up once KeepBody returns: no copy of an answer is
// held in memory for the sake of keeping it.
type BodyKeeper interface {
	KeepBody(req Request, err error, body *os.File, size int64, sum string) error
}

// CacheInfo is a content cache that says what it holds: state.Cache.
type CacheInfo interface {
	Info(digest, provider string) (state.CacheInfo, bool)
}

// StoreServed is a cache that serves some renders from the image store
// (storesync.Cache): FromStore reports whether the render of digest by
// provider comes from the store rather than the local content cache.
type StoreServed interface {
	FromStore(digest, provider string) bool
}

// renderTakes carries out a create or replace of a candidates image: each
// take is restored from the cache under its own inputs or requested, in
// parallel under the same limits as any request, and kept in the cache as
// it arrives; then one take is placed at c.Path and the entry recorded
// with every take. The take placed is the one picked before, when the
// same takes were picked from (the entry's own pick, or the last pick of
// these inputs in the cache), else the first.
func (r *run) renderTakes(ctx context.Context, c *planner.Change) {
	if r.stopping() {
		r.skip(1)
		return
	}
	if r.refuseOccupied(c) || r.refuseHeld(c) {
		return
	}
	mt, err := MediaTypeOf(c.Path)
	if err != nil {
		r.fail(c, err)
		return
	}
	seeds := c.Inputs.TakeSeeds()
	// The plan asked for every take when it was forced (-replace,
	// -no-cache), or when the cache held none: then none comes from the
	// cache, unless the plan may be older than the cache (Recheck) and
	// nothing forced it. Draft renders are the same either way.
	useCache := c.Requests < len(seeds) || r.provider == providers.Draft || r.opts.Recheck && !c.Forced
	need, err := r.checkTakeRequests(c, seeds, useCache)
	if err != nil {
		r.fail(c, err)
		return
	}
	// The requests the plan counted beyond the takes that cannot be
	// restored now (a take cached since the plan): a take whose restore
	// fails may use one of them, as the plan priced it.
	var spare atomic.Int64
	spare.Store(int64(c.Requests - need))
	price, _ := r.price(c)
	at, picked := r.priorPick(c, seeds)
	outs := make([]output, len(seeds))
	errs := make([]error, len(seeds))
	restored := make([]bool, len(seeds))
	var wg sync.WaitGroup
	for i, seed := range seeds {
		wg.Go(func() {
			outs[i], restored[i], errs[i] = r.take(ctx, c, seed, mt, price, useCache, i+1 == at, &spare)
		})
	}
	wg.Wait()
	if err := firstTakeError(errs); err != nil {
		if errs[at-1] == nil {
			r.store.AbortTemp(outs[at-1].tmp)
		}
		r.failOrSkip(c, err)
		return
	}
	takes := make([]state.Take, len(seeds))
	all := true
	for i, o := range outs {
		takes[i] = state.Take{Seed: seeds[i], SHA256: o.sha256, Bytes: o.bytes, MediaType: o.mediaType, Width: o.width, Height: o.height}
		all = all && restored[i]
	}
	e := r.entry(c, outs[at-1]).WithTakes(takes, at, picked)
	if e.Approved != nil {
		e.Approved = keptApproval(c.Prior, &e) // none for takes nobody picked
	}
	// Every take is in the content cache: restored from it, or kept as
	// it arrived.
	if !r.commit(c, outs[at-1], e, false, all || r.takesKept(c)) {
		return
	}
	how := Generated
	if all {
		how = Restored
	}
	r.done(c, e, how, 0)
}

// checkTakeRequests refuses, before any request, a candidates image whose
// takes the content cache lacks more of than the plan counts requests
// for: apply never spends more than the plan said (-max-credits), even
// when a plan file was edited or the cache lost takes since the plan. It
// returns the takes that need a request.
func (r *run) checkTakeRequests(c *planner.Change, seeds []int64, useCache bool) (int, error) {
	if r.provider != providers.Imagine {
		return 0, nil
	}
	need := 0
	for _, seed := range seeds {
		if !useCache || r.opts.Cache == nil || !r.opts.Cache.Has(c.Inputs.Take(seed).Digest(), r.provider) {
			need++
		}
	}
	if need <= c.Requests {
		return need, nil
	}
	return 0, fmt.Errorf("the plan is inconsistent: it counts %d request(s) for the %d takes of %s, and %d are not in the local content cache; no request was sent. Run plan again (a saved plan file may have been edited, or the cache cleaned since)",
		c.Requests, len(seeds), c.Addr, need)
}

// firstTakeError is the error to settle a candidates image with: a real
// failure before a skip, and a take abandoned in flight before one that
// never started.
func firstTakeError(errs []error) error {
	var skipped error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, errAbandoned):
			skipped = err
		case errors.Is(err, errSkipped):
			if skipped == nil {
				skipped = err
			}
		default:
			return err
		}
	}
	return skipped
}

// priorPick returns the take to place at c.Path (1-based) and whether
// someone picked it, by planner.PlacedTake's rule with the content
// cache's hashes.
func (r *run) priorPick(c *planner.Change, seeds []int64) (int, bool) {
	var cached func(digest string) (string, bool)
	if ci, ok := r.opts.Cache.(CacheInfo); ok && r.opts.Cache != nil {
		cached = func(d string) (string, bool) {
			t, ok := ci.Info(d, r.provider)
			return t.SHA256, ok
		}
	}
	return planner.PlacedTake(c, seeds, cached)
}

// take restores or renders the take of c with seed, keeps it in the
// cache, and returns it validated; its temporary file beside c.Path stays
// only when keep (the take to place), and restored says it came from the
// cache. A take whose restore fails is requested instead only with one of
// the spare requests the plan counted, or, from the local content cache,
// when Options.Unplanned allows it; one the plan restores from the image
// store with no request fails, nothing requested (as restoreFromStore).
func (r *run) take(ctx context.Context, c *planner.Change, seed int64, mt string, price int, useCache, keep bool, spare *atomic.Int64) (out output, restored bool, err error) {
	in := c.Inputs.Take(seed)
	digest := in.Digest()
	defer func() {
		if err == nil && !keep {
			r.store.AbortTemp(out.tmp)
		}
	}()
	if useCache && r.opts.Cache != nil && r.opts.Cache.Has(digest, r.provider) {
		out, err := r.fromCacheDigest(c, digest, mt)
		if err == nil {
			// A take restored from the image store stays in the local
			// cache too, for a pick with no request (a take the local
			// cache held already is linked to itself: no change).
			r.keepTake(c, digest, seed, out)
			return out, true, nil
		}
		if le := (*LocalError)(nil); errors.As(err, &le) {
			return output{}, false, r.stopForLocal(le)
		}
		where := "the content cache"
		ss, ok := r.opts.Cache.(StoreServed)
		fromStore := ok && ss.FromStore(digest, r.provider)
		if fromStore {
			where = "the image store"
		}
		switch {
		case r.provider == providers.Draft || takeSpare(spare):
			// A draft is no request; a spare one the plan counted.
		case fromStore:
			return output{}, false, fmt.Errorf("restore the take with seed %d of %s from the image store: %w; nothing was requested (the plan counted no request for it): push the take from a clone that has it, or render new takes with pixform apply -replace=%s, which pays for them", seed, c.Addr, err, c.Addr.ShellWord())
		default:
			if refused := r.refuseUnplanned(price, r.provider == providers.Imagine && price > 0); refused != "" {
				return output{}, false, fmt.Errorf("could not restore the take with seed %d from the content cache (%v); %s", seed, err, refused)
			}
		}
		r.hooks.Warn(c, fmt.Sprintf("could not restore the take with seed %d from %s (%v); requesting it instead", seed, where, err))
	}
	if r.stopping() {
		return output{}, false, errSkipped
	}
	// Into the cache before anything else, and before its request slot
	// is given back: a run killed from then on asks for this take no
	// more, and one killed before repeats only the requests in flight.
	keepArrived := func(out output) {
		if k, ok := r.opts.Cache.(TakeKeeper); ok && r.opts.Cache != nil {
			if err := k.Keep(digest, r.provider, out.tmp, path.Ext(c.Path), out.sha256); err != nil {
				r.hooks.Warn(c, fmt.Sprintf("could not keep the take with seed %d in the content cache: %v; picking it later will request it again", seed, err))
			}
		}
	}
	out, err = r.request(ctx, c, Request{Addr: c.Addr, Inputs: in, MediaType: mt}, mt, price, false, keepArrived)
	if err != nil {
		return output{}, false, err
	}
	r.mu.Lock()
	r.lastGood = r.clock.Now()
	r.mu.Unlock()
	return out, false, nil
}

// takeSpare takes one of the spare requests left, if any.
func takeSpare(spare *atomic.Int64) bool {
	for {
		n := spare.Load()
		if n <= 0 {
			return false
		}
		if spare.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// keepTake keeps a restored take in the content cache, if it keeps takes
// and does not hold it yet (best effort: the take is still where it came
// from).
func (r *run) keepTake(c *planner.Change, digest string, seed int64, out output) {
	k, ok := r.opts.Cache.(TakeKeeper)
	if !ok {
		return
	}
	if ci, ok := r.opts.Cache.(CacheInfo); ok {
		if info, ok := ci.Info(digest, r.provider); ok && info.SHA256 == out.sha256 {
			return
		}
	}
	_ = k.Keep(digest, r.provider, out.tmp, path.Ext(c.Path), out.sha256)
}

// copyBufs holds the buffers that copy cached images: a restore of many
// images would otherwise allocate (and zero, and collect) 32 KiB each.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// fromCacheDigest copies and validates the cached render of digest into a
// temporary file beside c's target.
func (r *run) fromCacheDigest(c *planner.Change, digest, mt string) (output, error) {
	r.acquireLocal()
	defer r.releaseLocal()
	rc, err := r.opts.Cache.Open(digest, r.provider)
	if err != nil {
		return output{}, err
	}
	defer rc.Close()
	tmp, err := r.store.CreateTemp(c.Path)
	if err != nil {
		return output{}, &LocalError{Op: "create the temporary file of", Path: c.Path, Err: err}
	}
	lw := &localWriter{w: tmp, op: "write", path: c.Path}
	d := newDigestWriter()
	buf := copyBufs.Get().(*[]byte)
	_, err = io.CopyBuffer(io.MultiWriter(lw, d), struct{ io.Reader }{rc}, *buf)
	copyBufs.Put(buf)
	if err != nil {
		r.store.AbortTemp(tmp)
		if lw.err != nil {
			return output{}, lw.err
		}
		return output{}, fmt.Errorf("read the cached copy: %w", err)
	}
	out, err := finish(tmp, r.store.AbortTemp, r.abs(c.Path), mt, d, "the cached copy")
	if err != nil {
		return output{}, localUnlessClassified(c.Path, err)
	}
	return out, nil
}
