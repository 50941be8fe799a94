package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pixform/pixform/limiter"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// render carries out one create or replace: restored from the cache when
// the plan says so and the cached copy is sound, else requested, with
// retries per the failure class. held says that the caller took a request
// slot for c's first attempt (so that first attempts start in plan order);
// render gives it back.
func (r *run) render(ctx context.Context, c *planner.Change, held bool) {
	if commit := r.renderRequest(ctx, c, held); commit != nil {
		commit()
	}
}

// renderRequest is render up to the commit of a requested image, which
// it returns instead of running (nil when there is none left to run):
// the caller may run it on another goroutine, so that the image's wait
// for the lockfile does not hold the goroutine that sent its request.
func (r *run) renderRequest(ctx context.Context, c *planner.Change, held bool) (commit func()) {
	release := func() {
		if held {
			<-r.slots
			held = false
		}
	}
	defer release()
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
	var srcPath, srcSum string
	if c.Inputs.Derived() {
		if srcPath, srcSum, err = r.resolve(c); err != nil {
			r.fail(c, err)
			return
		}
	}
	credits := c.Credits
	if c.FromStore {
		release()
		r.restoreFromStore(c, mt)
		return
	}
	// why says why c, which the plan restores, is requested instead.
	var why string
	requested := false
	switch {
	case c.FromCache:
		release()
		var done bool
		if why, done = r.restore(c, mt); done {
			return
		}
		requested = true // the cached copy is gone or bad
	case r.cachedSince(c):
		// The plan requests c, but the content cache holds it now: a
		// saved plan applied again after a commit that was refused,
		// whose image the first apply kept there. A cached copy that is
		// gone or bad leaves c to the request the plan counts.
		release()
		if _, done := r.restore(c, mt); done {
			return
		}
	case r.provider != providers.Draft && c.Requests == 0 && c.Inputs.Derived() && planner.Endpoint(c.Inputs) != planner.EndpointLocal:
		// The plan restores c without a request, but its source's bytes
		// turned out otherwise at apply (resolve asked the cache again,
		// which holds none of them).
		why, requested = fmt.Sprintf("it holds none made from %s as it is now", c.Inputs.Source), true
	}
	if requested {
		if c.Requests == 0 && planner.Endpoint(c.Inputs) != planner.EndpointLocal {
			// The plan counted no request for c: one is sent only if the
			// caller allows. (A local edit is made here again, with no
			// request.)
			var ok bool
			if credits, ok = r.allowUnplanned(c, why); !ok {
				return
			}
		}
		r.hooks.Warn(c, fmt.Sprintf("could not restore %s from the content cache (%s); requesting it instead", c.Path, why))
	}
	req := Request{Addr: c.Addr, Inputs: c.Inputs, MediaType: mt}
	if c.Inputs.Derived() && planner.Endpoint(c.Inputs) == planner.EndpointLocal {
		// Made here: no request, no limiter ticket, but a local slot
		// while its source and pixels are in memory.
		release()
		r.acquireLocal()
		out, ok := r.local(c, srcPath, srcSum, req, mt)
		r.releaseLocal()
		if !ok {
			return
		}
		e := r.entry(c, out)
		e.Provider = r.madeBy(c)
		if planner.RemakesRecorded(c) {
			// Made again from the recorded inputs: the approval
			// stays if these are the very bytes approved.
			e.Approved = keptApproval(c.Prior, &e)
		}
		if r.commit(c, out, e, false, false) {
			r.done(c, e, Generated, 0)
		}
		return
	}
	if c.Inputs.Derived() {
		// The source is read into memory under a request slot: an image
		// started when its source was recorded (settle) holds none yet.
		if !held {
			select {
			case r.slots <- struct{}{}:
				held = true
			case <-r.startCtx.Done():
				r.skip(1)
				return
			}
		}
		if err := r.readSource(c, srcPath, srcSum, &req); err != nil {
			release()
			r.fail(c, err)
			return
		}
	}
	h := held
	held = false // request owns the slot now
	out, err := r.request(ctx, c, req, mt, credits, h, nil)
	if err != nil {
		r.failOrSkip(c, err)
		return
	}
	return func() { r.generated(c, out) }
}

// refuseOccupied fails c, and reports true, when the plan found a file
// at c's path that no lockfile entry records there (c.Occupied): that
// file may be someone's, and nothing overwrites it without their say,
// under -auto-approve and in watch too. Nothing is requested for c.
func (r *run) refuseOccupied(c *planner.Change) bool {
	if !c.Occupied {
		return false
	}
	for _, why := range c.Reasons {
		if strings.Contains(why, planner.BehindRefused) {
			// Not someone's file: another image's, which stays where it
			// is since its own change is refused.
			why, _, _ = strings.Cut(why, ": apply refuses")
			r.fail(c, &Error{Class: Invalid, Msg: fmt.Sprintf("refused: it %s; both were left as they are, and nothing was requested: once that image's change goes through, apply again", why)})
			return true
		}
	}
	for _, why := range c.Reasons {
		if strings.Contains(why, planner.NotedRefused) {
			// Maybe the interrupted apply's leftover, changed since:
			// only the user can tell.
			r.fail(c, &Error{Class: Invalid, Msg: fmt.Sprintf("refused to overwrite %s: it holds a file that the lockfile does not record, %s; it was left as it is, and nothing was requested; %s (a saved plan keeps refusing: make a new plan with pixform plan -out=FILE)", c.Path, planner.NotedRefused, notedWhatToDo)})
			return true
		}
	}
	r.fail(c, &Error{Class: Invalid, Msg: fmt.Sprintf("refused to overwrite %s: it holds a file that the lockfile does not record, which was left as it is, and nothing was requested; %s (a saved plan keeps refusing: make a new plan with pixform plan -out=FILE)", c.Path, moveAway)})
	return true
}

// moveAway is what to do about someone's file at an image's path.
const moveAway = "move that file away (or delete it if you do not need it), then apply again"

// notedWhatToDo is what to do about a file at a path an interrupted
// apply was writing, whose bytes are not an image pixform knows it made.
const notedWhatToDo = planner.NotedWhatToDo + ", then apply again"

// occupiedError is the failure of c, refused at its commit because a
// file came to its path after the plan (what says so), with what to do;
// kept says that the image made is in the content cache, and noted that
// an interrupted apply was writing at its path (state.OccupiedError).
func occupiedError(c *planner.Change, what string, kept, noted bool) error {
	todo := moveAway
	if noted {
		todo = notedWhatToDo
	}
	msg := what + "; " + todo
	if kept {
		msg += ": " + keptNote(c)
		if c.Forced {
			msg += " (the same saved plan applied again would request it again, as -replace or -no-cache asks: make a new plan with pixform plan -out=FILE)"
		} else {
			msg += " (so does the same saved plan applied again, while pixform.lock.json has not changed since)"
		}
	}
	return &Error{Class: Invalid, Msg: msg}
}

// keptNote says that c's image, refused at its path, is kept in the
// content cache, and how a new plan restores it from there with no
// request: as it is, unless -replace drew c's seed (a new plan keeps the
// recorded one) or a plan file drew it at random (a new plan draws
// DrawnSeed's); the note then gives the seed to set.
func keptNote(c *planner.Change) string {
	if c.SeedChosen && c.Prior != nil {
		// -replace drew it: a new plan keeps the recorded seed.
		return fmt.Sprintf("the image made is kept in the local cache under seed %d, which -replace drew; a new plan keeps the recorded seed %d (the image from before -replace), so to place this one, set seed = %d in the block of %s: the new plan then restores it from the cache with no request", c.Inputs.Seed, c.Prior.Inputs.Seed, c.Inputs.Seed, c.Addr)
	}
	if c.SeedChosen && c.Inputs.Seed != planner.DrawnSeed(c.Addr, c.Inputs) {
		// A plan file of a version that drew seeds at random.
		return fmt.Sprintf("the image made is kept in the local cache under seed %d, which this plan drew; a new plan draws another seed and requests it again, so first set seed = %d in the block of %s: the new plan then restores it from the cache with no request", c.Inputs.Seed, c.Inputs.Seed, c.Addr)
	}
	return "the image made is kept in the local cache, and a new plan restores it from there with no request"
}

// errSkipped is request's answer when the run stopped before the image
// was done: it counts as skipped, not failed.
var errSkipped = errors.New("skipped: the run stopped")

// errAbandoned is request's answer when the second Ctrl-C cancelled its
// request in flight: skipped too, and counted apart (Result.Abandoned).
var errAbandoned = fmt.Errorf("abandoned in flight: %w", errSkipped)

// failOrSkip counts c as skipped or failed for err, from request.
func (r *run) failOrSkip(c *planner.Change, err error) {
	if errors.Is(err, errAbandoned) {
		r.abandon()
		return
	}
	if errors.Is(err, errSkipped) {
		r.skip(1)
		return
	}
	r.fail(c, err)
}

// request sends req for c until it succeeds, with retries per the failure
// class, and returns the validated image in a temporary file beside
// c.Path. An error is errSkipped when the run stopped first, else the
// failure of c (a fatal one, or the local disk's, has stopped the run).
// held says that the caller took a request slot for the first attempt;
// request gives it back. arrived, when not nil, is run on the image that
// arrived before the slot is given back, so that no other request starts
// while it runs (a take is kept in the content cache there: a run killed
// then repeats no more than the requests in flight).
func (r *run) request(ctx context.Context, c *planner.Change, req Request, mt string, credits int, held bool, arrived func(output)) (output, error) {
	release := func() {
		if held {
			<-r.slots
			held = false
		}
	}
	defer release()
	transient, throttles, paid := 0, 0, 0
	for attempt := 1; ; attempt++ {
		if r.stopping() {
			return output{}, errSkipped
		}
		if !held {
			select {
			case r.slots <- struct{}{}:
				held = true
			case <-r.startCtx.Done():
				return output{}, errSkipped
			}
		}
		if r.stopping() {
			// select chose the slot over a stop that had already come.
			return output{}, errSkipped
		}
		ticket, err := r.limiter.Acquire(r.startCtx)
		if err != nil {
			return output{}, errSkipped
		}
		if r.stopping() {
			// Acquire may win a race with the stop; start nothing.
			r.limiter.Release(ticket, limiter.Outcome{})
			return output{}, errSkipped
		}
		r.hooks.Started(c, attempt)
		out, o, err := r.attempt(ctx, c, req, mt, credits)
		r.limiter.Release(ticket, o)
		if err == nil {
			if arrived != nil {
				arrived(out)
			}
			// The lockfile commit does not hold a request slot.
			return out, nil
		}
		// On failure the slot is given back only once the failure is dealt
		// with, so that no image starts in the moment before a fatal error
		// stops the run; and before any wait, which holds no request.
		if le := (*LocalError)(nil); errors.As(err, &le) {
			// Before the ctx check: a canceled run still says why the
			// disk refused.
			return output{}, r.stopForLocal(le)
		}
		if ctx.Err() != nil {
			// The second Ctrl-C canceled the request in flight.
			return output{}, errAbandoned
		}
		switch ClassOf(err) {
		case Throttled:
			throttles++
			release()
			asked := o.RetryAfter
			left, ok := r.throttleLeft(asked)
			if !ok {
				return output{}, errSkipped
			}
			wait := asked
			if wait <= 0 {
				wait = Backoff(throttles, ThrottleBackoffBase, BackoffCap, r.rand)
			}
			// Never wait past the moment the run gives up: a Retry-After
			// of a day would otherwise be a silent day-long sleep.
			wait = min(wait, left)
			r.hooks.Throttled(c, Throttle{Wait: wait, Asked: asked, GiveUp: r.giveUp, Limit: r.limiter.Limit(), Rate: r.limiter.Rate(), Learning: learning(r.limiter)})
			if !r.sleep(wait) {
				return output{}, errSkipped
			}
			// The wait counts toward the give-up: a run that has been
			// throttled for that long stops instead of asking again.
			if _, ok := r.throttleLeft(asked); !ok {
				return output{}, errSkipped
			}
		case Transient:
			release()
			if pe := (*Error)(nil); errors.As(err, &pe) && pe.Paid && transient < r.opts.MaxRetries {
				// A retry is a second paid request the plan did not count.
				if paid++; paid > paidRetries {
					return output{}, fmt.Errorf("failed after %s: %w; it sent such an image %d times, each paid for, and makes the same for the same request, so no more is asked", pluralRetries(transient), err, paid)
				}
				if refused := r.unplannedRefusal(r.price(c)); refused != "" {
					return output{}, fmt.Errorf("%w; a retry would be paid for too, and %s, so none was sent", err, refused)
				}
			}
			if transient >= r.opts.MaxRetries {
				if transient > 0 {
					err = fmt.Errorf("failed after %s: %w", pluralRetries(transient), err)
				}
				return output{}, err
			}
			transient++
			r.mu.Lock()
			r.res.Retries++
			r.mu.Unlock()
			wait := Backoff(transient, TransientBackoffBase, BackoffCap, r.rand)
			r.hooks.Retrying(c, attempt, err, wait)
			if !r.sleep(wait) {
				return output{}, errSkipped
			}
		case Invalid:
			return output{}, err
		default: // Fatal
			r.stop(err)
			return output{}, err
		}
	}
}

// paidRetries is how many times an image the server sent whole, but that
// was refused (outside the provider's bounds, or larger than accepted),
// is asked again: each such answer is paid for, and the server makes the
// same image for the same seed, so max_retries of them would pay that
// many times for nothing. One retry still gets past a passing fault.
const paidRetries = 1

// attempt sends one request for c and validates the response into a
// temporary file beside the target. It returns the limiter's Outcome of
// the attempt whatever happened. A failure of the local disk (creating or
// writing the temporary file) is a *LocalError, whatever the provider
// wrapped it in. credits is the price of the request: it is counted as
// spent when the image arrived whole, recorded or not, or when the server
// sent it and the local disk could not take it.
func (r *run) attempt(ctx context.Context, c *planner.Change, req Request, mt string, credits int) (output, limiter.Outcome, error) {
	dst := r.abs(c.Path)
	tmp, err := r.store.CreateTemp(c.Path)
	if err != nil {
		return output{}, limiter.Outcome{}, &LocalError{Op: "create the temporary file of", Path: c.Path, Err: err}
	}
	lw := &localWriter{w: tmp, op: "write", path: c.Path}
	if r.opts.tempWriter != nil {
		lw.w = r.opts.tempWriter(tmp)
	}
	d := newCheckingDigestWriter()
	start := r.clock.Now()
	err = r.send(ctx, req, io.MultiWriter(lw, d))
	o := limiter.Outcome{Latency: r.clock.Now().Sub(start)}
	var notSent *Error
	_, priced := r.price(c)
	r.mu.Lock()
	if r.provider != providers.Draft && (!errors.As(err, &notSent) || !notSent.NotSent) {
		// A draft render is made here, not asked of a server; a
		// request the provider refused to send is none either.
		r.res.Requests++
		if !priced {
			r.res.Unpriced++
		}
	}
	if lw.err != nil {
		// The server sent the image: it is paid for.
		r.res.Credits += credits
	}
	r.mu.Unlock()
	if lw.err != nil {
		r.store.AbortTemp(tmp)
		return output{}, o, lw.err
	}
	if err != nil {
		if bk, ok := r.opts.Provider.(BodyKeeper); ok {
			if kerr := bk.KeepBody(req, err, tmp, d.n, d.sum()); kerr != nil {
				err = kerr
			}
		}
		r.store.AbortTemp(tmp)
		var pe *Error
		if errors.As(err, &pe) {
			r.mu.Lock()
			if pe.Class == Throttled {
				o.Throttled, o.RetryAfter = true, pe.RetryAfter
				r.res.Throttled++
			}
			if pe.Paid {
				r.res.Credits += credits
			}
			r.mu.Unlock()
		}
		return output{}, o, err
	}
	out, err := finishResponse(tmp, r.store.AbortTemp, dst, req, r.opts.Provider, d, func() string {
		return fmt.Sprintf("the %s provider's response for %s", r.provider, c.Addr)
	})
	if err != nil {
		if pe := (*Error)(nil); errors.As(err, &pe) && pe.Paid {
			r.mu.Lock()
			r.res.Credits += credits
			r.mu.Unlock()
		}
		return output{}, o, localUnlessClassified(c.Path, err)
	}
	r.mu.Lock()
	r.res.Credits += credits
	r.mu.Unlock()
	o.Success = true
	return out, o, nil
}

// localUnlessClassified tags an error of finish as local unless it is a
// classified *Error (a body that is not a whole image): finish's other
// errors come from writing the transcoded image to the local disk.
func localUnlessClassified(path string, err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return &LocalError{Op: "write", Path: path, Err: err}
}

// throttleLeft reports how long the run may still be throttled before it
// gives up (the time since the last success, or the start, counts, waits
// included). When that time is up it stops the run and reports false;
// asked, the server's last Retry-After, goes into the message.
func (r *run) throttleLeft(asked time.Duration) (time.Duration, bool) {
	r.mu.Lock()
	left := r.giveUp - r.clock.Now().Sub(r.lastGood)
	r.mu.Unlock()
	if left > 0 {
		return left, true
	}
	said := ""
	if asked > r.giveUp {
		said = fmt.Sprintf(" (it last asked to wait %v, longer than pixform waits)", asked.Round(time.Second))
	}
	r.stop(fmt.Errorf("the Imagine API has %w for %v with no success%s; stopping", ErrThrottledOut, r.giveUp, said))
	return 0, false
}

// generated commits a rendered image, records it and fills the cache.
func (r *run) generated(c *planner.Change, out output) {
	r.mu.Lock()
	r.lastGood = r.clock.Now()
	r.mu.Unlock()
	e := r.entry(c, out)
	// Drafts are cheaper to render again than to keep. The Store puts the
	// file in the cache as soon as it is in place, before the lockfile
	// records it, so that a run killed in between loses no request.
	if !r.commit(c, out, e, r.opts.Cache != nil && r.provider != providers.Draft, false) {
		return
	}
	r.done(c, e, Generated, 0)
}

// entry is the entry that records out as c's image. It keeps the
// approval of c's prior entry when c is a restore (from the content
// cache or the image store) that puts the very bytes approved back at
// the path, as the plan said (planner.Change.KeepsApproval); any other
// bytes, or a render, leave it out.
func (r *run) entry(c *planner.Change, out output) state.Entry {
	e := state.Entry{
		Inputs:    c.Inputs,
		Provider:  r.provider,
		Path:      c.Path,
		SHA256:    out.sha256,
		Bytes:     out.bytes,
		MediaType: out.mediaType,
		Width:     out.width,
		Height:    out.height,
	}
	if c.FromCache || c.FromStore {
		e.Approved = keptApproval(c.Prior, &e)
	}
	return e
}

// keptApproval is a copy of prior's approval when it names the bytes e
// records at its path and e has no takes that await a pick, else nil:
// an approval is of a single image or of a pick, as pixform approve
// makes it, never of takes nobody picked.
func keptApproval(prior, e *state.Entry) *state.Approval {
	if prior == nil || prior.Approved == nil || prior.Approved.SHA256 != e.SHA256 || e.AwaitsPick() {
		return nil
	}
	a := *prior.Approved
	return &a
}

// restore copies c's image from the content cache without a request. It
// reports whether c is done with (restored, or failed for a reason a
// request would not fix); not done, it says why it could not restore c,
// which a request may then render instead.
func (r *run) restore(c *planner.Change, mt string) (why string, done bool) {
	if r.opts.Cache == nil {
		return "no content cache is configured", false
	}
	if r.putBackFromCache(c, mt) {
		return "", true
	}
	out, err := r.fromCache(c, mt)
	if err == nil {
		e := r.entry(c, out)
		if r.commit(c, out, e, false, true) {
			r.done(c, e, Restored, 0)
		}
		return "", true
	}
	if le := (*LocalError)(nil); errors.As(err, &le) {
		// A request would fail to be written just the same.
		r.stopLocal(c, le)
		return "", true
	}
	return err.Error(), false
}

// cachedSince reports whether c, a render the plan requests that nothing
// forces (-replace, -no-cache), is in the content cache by now under its
// inputs, so that it is restored from there instead: with Recheck only
// (a saved plan), one hash of its inputs and one lookup in the cache's
// listing, for the images the plan requests only.
func (r *run) cachedSince(c *planner.Change) bool {
	return r.opts.Recheck && c.Requests > 0 && !c.Forced && r.opts.Cache != nil && r.provider != providers.Draft &&
		r.opts.Cache.Has(c.Inputs.Digest(), r.provider)
}

// allowUnplanned asks Options.Unplanned whether c, which the plan
// restores from the content cache and which could not be (why), may be
// requested instead, though the plan counted no request for it. It
// returns the credits of that request, or fails c and returns false.
func (r *run) allowUnplanned(c *planner.Change, why string) (credits int, ok bool) {
	credits, known := r.price(c)
	if refused := r.refuseUnplanned(credits, known); refused != "" {
		r.fail(c, fmt.Errorf("could not restore %s from the content cache (%s); %s", c.Path, why, refused))
		return 0, false
	}
	return credits, true
}

// price is the credits of a request for c, known false when it is
// unpriced: a text-to-image render's by its style; an edit endpoint's is
// the provider block's, which the plan applied when it counted c's
// requests (a change the plan restores counts none, and is unpriced here).
func (r *run) price(c *planner.Change) (credits int, known bool) {
	if r.provider != providers.Imagine {
		return 0, false
	}
	if planner.Endpoint(c.Inputs) == planner.EndpointTextToImage {
		return planner.Price(c.Inputs.Style)
	}
	if c.Requests > 0 && c.CreditsKnown {
		return c.Credits / c.Requests, true
	}
	return 0, false
}

// refuseUnplanned asks Options.Unplanned whether a request the plan did
// not count, of credits (known false: unpriced), may be sent. It returns
// "" when it may (and counts its credits as allowed), else the end of the
// error of the image that needed it: why nothing was sent, and what to
// do.
func (r *run) refuseUnplanned(credits int, known bool) string {
	refused := r.unplannedRefusal(credits, known)
	if refused == "" {
		return ""
	}
	return fmt.Sprintf("the plan counted no request for it, and %s, so none was sent. Run plan again: it plans the request and shows what it costs", refused)
}

// unplannedRefusal is Options.Unplanned's answer for a request of
// credits the plan did not count: "" when it may be sent (its credits
// then count as allowed), else why not.
func (r *run) unplannedRefusal(credits int, known bool) string {
	if r.opts.Unplanned == nil || r.provider == providers.Draft {
		return "" // a draft render is no request
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	refused := r.opts.Unplanned(credits, known, r.unplanned)
	if refused == "" {
		r.unplanned += credits
	}
	return refused
}

// restoreFromStore copies c's image from the image store, which
// opts.Cache serves for changes planned FromStore, without a request. A
// failure fails c: the plan priced no request, so none is sent; the next
// apply tries again.
func (r *run) restoreFromStore(c *planner.Change, mt string) {
	if r.opts.Cache == nil {
		r.fail(c, fmt.Errorf("restore %s from the image store: no store is configured for this apply; nothing was requested", c.Path))
		return
	}
	if r.putBackFromStore(c, mt) {
		return
	}
	out, err := r.fromCache(c, mt)
	if le := (*LocalError)(nil); errors.As(err, &le) {
		r.stopLocal(c, le)
		return
	}
	if err != nil {
		r.storeRestoreFailed(c, err)
		return
	}
	e := r.entry(c, out)
	if r.commit(c, out, e, false, false) {
		r.done(c, e, Restored, 0)
	}
}

// storeRestoreFailed counts c, whose download from the image store
// failed with err: abandoned in flight when the second Ctrl-C cut it off
// (the run's ctx is done: the store client's error wraps ctx.Err(), not
// its cause), as a request in flight is, else failed.
func (r *run) storeRestoreFailed(c *planner.Change, err error) {
	if r.ctx.Err() != nil {
		r.abandon()
		return
	}
	r.fail(c, fmt.Errorf("restore %s from the image store: %w; nothing was requested", c.Path, err))
}

// fromCache copies and validates the cached image into a temporary file
// beside c's target.
func (r *run) fromCache(c *planner.Change, mt string) (output, error) {
	return r.fromCacheDigest(c, c.Inputs.Digest(), mt)
}

func pluralRetries(n int) string {
	if n == 1 {
		return "1 retry"
	}
	return fmt.Sprintf("%d retries", n)
}
