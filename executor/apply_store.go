package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
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

// writes lists the paths that a change of the plan writes.
func (r *run) writes() []string {
	var out []string
	for i := range r.plan.Changes {
		switch c := &r.plan.Changes[i]; c.Action {
		case planner.Create, planner.Replace, planner.Move:
			out = append(out, c.Path)
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
	err := r.store.Delete(r.ctx, state.Deletion{Addr: priorAddr(c), Entry: c.Prior, Warn: r.warnFor(c)})
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
	r.done(c, e, Deleted, 0)
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
		switch {
		case skipped, err != nil && r.abandoned(err):
			r.skip(1)
		case err != nil && isRecordErr(err):
			r.stop(err)
			r.fail(c, err)
		case err != nil:
			r.fail(c, err)
		default:
			e := movedFrom(c).Entry
			e.Path = c.Path
			r.done(c, e, Moved, 0)
		}
	})
}

// commit puts out at c.Path and records e, then removes c's old file if
// the image moved. It reports whether it succeeded; on failure it has
// failed c (and, for a lockfile error, stopped the run). cache puts the
// file in the content cache before it is recorded.
func (r *run) commit(c *planner.Change, out output, e state.Entry, cache bool) bool {
	err := r.store.Commit(r.ctx, state.Commit{Addr: c.Addr, Entry: e, Temp: out.tmp, Prior: prior(c), Cache: cache, Warn: r.warnFor(c)})
	switch {
	case err == nil:
		return true
	case r.abandoned(err):
		r.skip(1)
	case isRecordErr(err):
		r.stop(err)
		r.fail(c, err)
	default:
		r.stopLocal(c, &LocalError{Op: "move into place", Path: c.Path, Err: err})
	}
	return false
}
