package executor

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// priorAddr is the lockfile address of c.Prior.
func priorAddr(c *planner.Change) addrs.Addr {
	if !c.PriorAddr.IsZero() {
		return c.PriorAddr
	}
	return c.Addr
}

// prior is c's prior entry for the Store, or nil.
func prior(c *planner.Change) *state.Prior {
	if c.Prior == nil {
		return nil
	}
	return &state.Prior{Addr: priorAddr(c), Entry: *c.Prior}
}

// warnFor returns a warning sink that reports on c.
func (r *run) warnFor(c *planner.Change) func(string) {
	return func(msg string) { r.hooks.Warn(c, msg) }
}

// paths lists the plan's image paths, new and prior, of every change
// including no-ops: the Store removes stale temporary files beside them.
func (r *run) paths() []string {
	var out []string
	for i := range r.plan.Changes {
		c := &r.plan.Changes[i]
		out = append(out, c.Path)
		if c.Prior != nil {
			out = append(out, c.Prior.Path)
		}
	}
	return out
}

// writes lists the paths that a change of the plan writes; an Occupied
// change, refused, writes none.
func (r *run) writes() []string {
	var out []string
	for i := range r.plan.Changes {
		switch c := &r.plan.Changes[i]; c.Action {
		case planner.Create, planner.Replace, planner.Move:
			if !c.Occupied { // refused: someone's file stays
				out = append(out, c.Path)
			}
		}
	}
	return out
}

// removals lists the files this plan stops recording and then removes:
// each delete's, and the old path of each move or replace that changes
// path (the Store keeps those that a change of the plan writes).
func (r *run) removals() []state.Removal {
	var out []state.Removal
	for i := range r.plan.Changes {
		c := &r.plan.Changes[i]
		if c.Prior == nil {
			continue
		}
		switch c.Action {
		case planner.Delete:
		case planner.Move, planner.Replace:
			if c.Prior.Path == c.Path {
				continue
			}
		default:
			continue
		}
		out = append(out, state.Removal{Path: c.Prior.Path, SHA256: c.Prior.SHA256})
	}
	return out
}

// isRecordErr reports whether err is the Store's lockfile failure, fatal
// to the run.
func isRecordErr(err error) bool {
	var re *state.RecordError
	return errors.As(err, &re)
}

// abandoned reports whether err is the Store giving up its wait for the
// lockfile because Apply's ctx is done (the second Ctrl-C): the change is
// then neither done nor failed, and the run reports the cancellation.
func (r *run) abandoned(err error) bool {
	return r.ctx.Err() != nil && errors.Is(err, context.Cause(r.ctx))
}

// delete removes c's entry from the lockfile, then its file.
func (r *run) delete(c *planner.Change) {
	if r.stopping() {
		r.skip(1)
		return
	}
	kept, err := r.store.Delete(r.ctx, state.Deletion{Addr: priorAddr(c), Entry: c.Prior, Warn: r.warnFor(c)})
	switch {
	case err != nil && r.abandoned(err):
		r.skip(1)
		return
	case err != nil:
		r.stop(err)
		r.fail(c, err)
		return
	}
	var e state.Entry
	if c.Prior != nil {
		e = *c.Prior
	}
	how := Deleted
	if kept {
		how = KeptFile
	}
	r.done(c, e, how, 0)
}

// deleteOne is delete, noting it finished for the changes that take its
// path (vacates) whatever came of it.
func (r *run) deleteOne(c *planner.Change) {
	r.delete(c)
	r.vac.finish(c, false, false)
}

// moves carries out the moves through the Store, without requests.
func (r *run) moves(moves []*planner.Change) {
	var ms []state.Move
	var cs []*planner.Change
	for _, c := range moves {
		if c.Prior == nil {
			r.fail(c, fmt.Errorf("move %s: the plan names no prior entry (internal error); run plan again", c.Addr))
			continue
		}
		if r.refuseOccupied(c) {
			continue
		}
		ms = append(ms, state.Move{From: movedFrom(c), To: c.Addr, Path: c.Path, Warn: r.warnFor(c)})
		cs = append(cs, c)
	}
	if len(ms) == 0 {
		return
	}
	// Moves are local and quick: once begun they all run (the first
	// Ctrl-C does not stop them), so they wait for the lockfile with no
	// deadline but the second Ctrl-C's.
	r.store.Move(r.ctx, ms, func(i int, err error, skipped bool) {
		c := cs[i]
		var he *state.HeldError
		switch {
		case skipped, err != nil && r.abandoned(err):
			r.skip(1)
		case err != nil && isRecordErr(err):
			r.stop(err)
			r.fail(c, err)
		case err != nil && isOccupied(err):
			// A file came to c's path after the plan: c alone fails.
			r.fail(c, occupiedFailure(c, err, false))
		case errors.As(err, &he):
			// The move leaving c's path failed: c alone fails with it.
			r.fail(c, heldError(c, he, false))
		case err != nil:
			r.fail(c, err)
		default:
			e := movedFrom(c).Entry
			e.Path = c.Path
			r.done(c, e, Moved, 0)
		}
		r.vac.finish(c, false, false) // skipped, unless done or failed
	})
}

// isOccupied reports whether err is the Store's refusal of a path that
// holds someone's file (*state.OccupiedError).
func isOccupied(err error) bool {
	var oe *state.OccupiedError
	return errors.As(err, &oe)
}

// occupiedFailure is the failure of c, which err, an
// *state.OccupiedError, refused; kept says that c's image is in the
// content cache though the commit did not put it there (a candidates
// image's takes, each kept as it arrived).
func occupiedFailure(c *planner.Change, err error, kept bool) error {
	var oe *state.OccupiedError
	errors.As(err, &oe)
	return occupiedError(c, oe.Error(), oe.Kept || kept, oe.Noted)
}

// takesKept reports whether the takes of c, a candidates image, went to
// the content cache as they arrived (a failure to keep one was warned
// of), so that a new plan restores them: false for any other image.
func (r *run) takesKept(c *planner.Change) bool {
	if c.Inputs.Candidates <= 1 || r.provider == providers.Draft || r.opts.Cache == nil {
		return false
	}
	_, ok := r.opts.Cache.(TakeKeeper)
	return ok
}

// commit puts out at c.Path and records e, then removes c's old file if
// the image moved. It reports whether it succeeded; on failure it has
// failed c (and, for a lockfile error, stopped the run). cache puts the
// file in the content cache before it is recorded; cached says that its
// bytes are there already (a restore from it), so that the Store need
// not note it as placed and not cached (state.Commit.Cached).
func (r *run) commit(c *planner.Change, out output, e state.Entry, cache, cached bool) bool {
	if !r.vacated(c, out, cache) {
		return false
	}
	err := r.store.Commit(r.ctx, state.Commit{Addr: c.Addr, Entry: e, Temp: out.tmp, Prior: prior(c), Cache: cache, Cached: cached, Warn: r.warnFor(c)})
	switch {
	case err == nil:
		return true
	case r.abandoned(err):
		// Made (a render paid for) and not recorded: the second Ctrl-C
		// abandoned it on its way to the lockfile.
		r.abandon()
	case isRecordErr(err):
		r.stop(err)
		r.fail(c, err)
	case isOccupied(err):
		// A file came to c's path after the plan: c alone fails.
		r.fail(c, occupiedFailure(c, err, r.takesKept(c)))
	default:
		r.stopLocal(c, &LocalError{Op: "move into place", Path: c.Path, Err: err})
	}
	return false
}

// putBacker is a Store that puts a recorded image back with no lockfile
// write: state.LocalStore, and the storesync.Store around one.
type putBacker interface {
	PutBack(ctx context.Context, p state.PutBack) error
}

// cacheCopier is a Cache that writes an image to w itself, with no reader
// in between: storesync.Cache, which streams the store's object.
type cacheCopier interface {
	CopyTo(digest, provider string, w io.Writer) error
}

// recordedEntry returns the entry a restore of c records, built from c's
// prior entry, when carrying c out may only put the bytes that entry
// records back at its path (its file is missing or was changed): same
// address, path and format.
func (r *run) recordedEntry(c *planner.Change, mt string) (state.Entry, bool) {
	p := c.Prior
	if p == nil || c.Inputs.Candidates > 1 || priorAddr(c) != c.Addr || p.Path != c.Path || p.MediaType != mt {
		return state.Entry{}, false
	}
	if c.FromStore && c.StoreSHA256 != p.SHA256 {
		return state.Entry{}, false
	}
	// The entry a restore would record, with p's approval of these very
	// bytes: when it is not exactly p (other inputs or provider, takes,
	// a pick), PutBack finds the lockfile recording something else and
	// leaves c to the common way.
	e := state.Entry{Inputs: c.Inputs, Provider: r.provider, Path: c.Path, SHA256: p.SHA256, Bytes: p.Bytes, MediaType: p.MediaType, Width: p.Width, Height: p.Height}
	e.Approved = keptApproval(p, &e)
	return e, true
}

// putBack restores c from opts.Cache straight into place, when c only
// puts its recorded bytes back (state.PutBack: checked against the
// entry's hash, not decoded, no lockfile write). handled false means that
// c is not such a change, or that the Store took nothing: restore it the
// common way. Otherwise err is nil (put back), a *LocalError, or the
// source's failure (a *state.FillError).
func (r *run) putBack(c *planner.Change, mt string) (e state.Entry, handled bool, err error) {
	pb, ok := r.store.(putBacker)
	if !ok || r.opts.Cache == nil {
		return e, false, nil
	}
	if e, ok = r.recordedEntry(c, mt); !ok {
		return e, false, nil
	}
	r.acquireLocal()
	defer r.releaseLocal()
	digest := c.Inputs.Digest()
	err = pb.PutBack(r.ctx, state.PutBack{
		Addr: c.Addr, Entry: e,
		Fill: func(w io.Writer) error { return r.copyCached(digest, w) },
		// As finish judges a cached copy: the recorded facts are checked
		// against the bytes by PutBack; this bounds what they may be.
		Accept: func(width, height int) error {
			return ImageBounds{MaxPixels: MaxImagePixelsLimit}.check(image.Config{Width: width, Height: height}, "")
		},
	})
	var fe *state.FillError
	switch {
	case err == nil:
		return e, true, nil
	case errors.Is(err, state.ErrNotRecorded):
		return e, false, nil
	case errors.As(err, &fe):
		return e, true, err
	}
	return e, true, &LocalError{Op: "put back", Path: c.Path, Err: err}
}

// copyCached writes the cached render of digest to w.
func (r *run) copyCached(digest string, w io.Writer) error {
	if cc, ok := r.opts.Cache.(cacheCopier); ok {
		return cc.CopyTo(digest, r.provider, w)
	}
	rc, err := r.opts.Cache.Open(digest, r.provider)
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	_, err = io.CopyBuffer(w, struct{ io.Reader }{rc}, *buf)
	return err
}

// putBackFromStore is restoreFromStore by putBack; it reports whether it
// handled c (restored or failed).
func (r *run) putBackFromStore(c *planner.Change, mt string) bool {
	handled, err := r.putBackDone(c, mt)
	if err != nil {
		r.storeRestoreFailed(c, err)
	}
	return handled
}

// putBackFromCache is restore by putBack; it reports whether c is done
// with. A cached copy that is gone or bad leaves c to restore's common
// way, which says so and requests the image.
func (r *run) putBackFromCache(c *planner.Change, mt string) bool {
	handled, err := r.putBackDone(c, mt)
	return handled && err == nil
}

// putBackDone carries c out by putBack and reports it done (restored, or
// stopped by a local error) unless its source failed: that failure is
// returned, for the caller to fail c or to fall back. handled false means
// that putBack took nothing.
func (r *run) putBackDone(c *planner.Change, mt string) (handled bool, sourceErr error) {
	e, handled, err := r.putBack(c, mt)
	if !handled {
		return false, nil
	}
	var le *LocalError
	switch {
	case err == nil:
		r.done(c, e, Restored, 0)
	case errors.As(err, &le):
		r.stopLocal(c, le)
	default:
		return true, err
	}
	return true, nil
}
