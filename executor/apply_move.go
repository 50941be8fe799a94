package executor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// delete removes c's entry from the lockfile, then its file, so that a
// crash in between leaves an orphan file, never an entry without its file.
// A file the user changed since it was recorded is kept.
func (r *run) delete(c *planner.Change) {
	if r.stopping() {
		r.skip(1)
		return
	}
	addr := priorAddr(c)
	r.ledger.mu.Lock()
	err := r.ledger.del(addr)
	r.ledger.mu.Unlock()
	if err != nil {
		r.stop(err)
		r.fail(c, err)
		return
	}
	var e state.Entry
	if c.Prior != nil {
		e = *c.Prior
		r.removeOld(c, e.Path, e.SHA256)
	}
	r.done(c, e, Deleted, 0)
}

// removeOld removes the file at rel, which held the image with hash sum,
// unless an entry still records rel, another change of the plan writes
// there, or the user changed the file; failures are warnings, since the
// lockfile no longer refers to the file.
func (r *run) removeOld(c *planner.Change, rel, sum string) {
	if r.keeps(rel) {
		return
	}
	kept, err := removeIfUnchanged(r.abs(rel), sum)
	switch {
	case err != nil:
		r.hooks.Warn(c, fmt.Sprintf("could not remove the old file %s: %v; delete it yourself", rel, err))
	case kept:
		r.hooks.Warn(c, fmt.Sprintf("kept %s: it is no longer the recorded image (edited by hand?); delete it yourself if you no longer need it", rel))
	}
}

// keeps reports whether the file at rel must stay: a change of the plan
// writes rel or an entry records it, or a path that differs from rel in
// case only and is the same file here (a case-insensitive file system, as
// on macOS and Windows).
func (r *run) keeps(rel string) bool {
	if t, ok := r.targets[safepath.Key(rel)]; ok && r.sameFile(rel, t) {
		return true
	}
	t, ok := r.ledger.recorded(rel)
	return ok && r.sameFile(rel, t)
}

// sameFile reports whether the paths a and b, equal case-folded, name one
// file.
func (r *run) sameFile(a, b string) bool {
	if a == b {
		return true
	}
	fa, err := os.Lstat(r.abs(a))
	if err != nil {
		return false
	}
	fb, err := os.Lstat(r.abs(b))
	return err == nil && os.SameFile(fa, fb)
}

// pendingMove is a move not yet carried out. A move whose source is the
// destination of another, in a cycle, is staged: its source copied under
// .pixform/ first, so the other can overwrite the source path.
type pendingMove struct {
	c      *planner.Change
	staged string // file path of the staged copy, or ""
}

// moves carries out the moves in an order where no move overwrites a file
// that another pending move still has to read, breaking cycles by staging.
// Moves are local and quick: once begun they all run, unless the lockfile
// cannot be written.
func (r *run) moves(moves []*planner.Change) {
	// readers maps a source path to the pending move that reads it.
	readers := map[string]*pendingMove{}
	var pending []*pendingMove
	for _, c := range moves {
		if c.Prior == nil {
			r.fail(c, fmt.Errorf("move %s: the plan names no prior entry (internal error); run plan again", c.Addr))
			continue
		}
		m := &pendingMove{c: c}
		pending = append(pending, m)
		readers[c.Prior.Path] = m
	}
	for len(pending) > 0 {
		if r.fatalErr() != nil {
			for _, m := range pending {
				r.skip(1)
				if m.staged != "" {
					r.hooks.Warn(m.c, fmt.Sprintf("the image moving to %s is kept at %s: move it there yourself, or run apply again", m.c.Path, m.staged))
				}
			}
			return
		}
		progressed := false
		next := pending[:0]
		for _, m := range pending {
			if o, ok := readers[m.c.Path]; ok && o != m {
				next = append(next, m)
				continue
			}
			if m.staged == "" && readers[m.c.Prior.Path] == m {
				delete(readers, m.c.Prior.Path)
			}
			r.move(m)
			progressed = true
		}
		pending = next
		if progressed || len(pending) == 0 {
			continue
		}
		// Every pending move waits for another: cycles. Stage one.
		m := pending[0]
		staged, err := r.stage(m.c)
		if err != nil {
			for _, m := range pending {
				r.fail(m.c, err)
			}
			return
		}
		m.staged = staged
		delete(readers, m.c.Prior.Path)
	}
}

func (r *run) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// stage copies the source of move c, after checking its hash, to a new
// file under .pixform/staging/ and returns that file's path.
func (r *run) stage(c *planner.Change) (string, error) {
	wd, err := state.EnsureWorkDir(r.opts.Dir)
	if err != nil {
		return "", fmt.Errorf("move %s: %w", c.Addr, err)
	}
	dir := filepath.Join(wd, "staging")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("move %s: create %s: %w", c.Addr, dir, err)
	}
	f, err := os.CreateTemp(dir, "move-*")
	if err != nil {
		return "", fmt.Errorf("move %s: create a staging file in %s: %w", c.Addr, dir, err)
	}
	if err := copyVerified(f, r.abs(c.Prior.Path), c.Prior.Path, c.Prior.SHA256); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("move %s: %w", c.Addr, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("move %s: sync %s: %w", c.Addr, f.Name(), err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("move %s: close %s: %w", c.Addr, f.Name(), err)
	}
	return f.Name(), nil
}

// copyVerified copies the file at src (shown to users as rel) to w and
// checks that it had hash want.
func copyVerified(w io.Writer, src, rel, want string) error {
	f, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is gone since the plan was made: run plan again", rel)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer f.Close()
	d := newDigestWriter()
	if _, err := io.Copy(io.MultiWriter(w, d), f); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if d.sum() != want {
		return fmt.Errorf("%s changed since it was recorded (its SHA-256 is not the lockfile's): run plan again", rel)
	}
	return nil
}

// move carries out one move without a request: the file is copied to the
// new path atomically, recorded under the new address and path (the old
// address deleted for an address move), then the old file removed.
func (r *run) move(m *pendingMove) {
	c := m.c
	e := *c.Prior
	e.Path = c.Path
	src := c.Prior.Path
	if m.staged == "" && src == c.Path {
		// An address move in place: only the lockfile changes, in one
		// write when the Recorder can (else the old address goes first).
		r.ledger.mu.Lock()
		err := r.ledger.set(c.Addr.String(), e, r.ledger.priorDrop(c)...)
		r.ledger.mu.Unlock()
		if err != nil {
			r.stop(err)
			r.fail(c, err)
			return
		}
		r.done(c, e, Moved, 0)
		return
	}
	dst := r.abs(c.Path)
	srcFile := r.abs(src)
	if m.staged != "" {
		srcFile = m.staged
	}
	tmp, err := state.CreateTemp(dst)
	if err != nil {
		r.fail(c, fmt.Errorf("move %s to %s: %w", c.Addr, c.Path, err))
		return
	}
	if err := copyVerified(tmp, srcFile, src, c.Prior.SHA256); err != nil {
		state.AbortTemp(tmp)
		r.fail(c, fmt.Errorf("move %s to %s: %w", c.Addr, c.Path, err))
		return
	}
	recErr, fileErr := r.ledger.commit(output{tmp: tmp}, dst, c, e, nil)
	if recErr != nil {
		r.stop(recErr)
		r.fail(c, recErr)
		return
	}
	if fileErr != nil {
		r.fail(c, fmt.Errorf("move %s to %s: %w", c.Addr, c.Path, fileErr))
		return
	}
	if m.staged != "" {
		os.Remove(m.staged)
	} else if !r.keeps(src) {
		if err := os.Remove(srcFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.hooks.Warn(c, fmt.Sprintf("could not remove the old file %s: %v; delete it yourself", src, err))
		}
	}
	r.done(c, e, Moved, 0)
}

// Snapshotter is implemented by a Recorder that can return the lockfile as
// on disk (state.Recorder does). Apply then follows state's removal
// protocol: it finishes the removals an interrupted apply left, notes the
// files this plan will remove before removing their entries, and finishes
// the notes at the end, so that no kill between an entry's removal and
// its file's leaves an orphan that no later apply removes.
type Snapshotter interface {
	Snapshot() *state.Lock
}

// startRemovals finishes the removals left by an interrupted apply, then
// notes this plan's. A failure stops the run before anything is touched.
func (r *run) startRemovals() {
	s, ok := r.opts.Recorder.(Snapshotter)
	if !ok {
		return
	}
	if _, _, err := state.FinishRemovals(r.opts.Dir, s.Snapshot()); err != nil {
		r.stop(err)
		return
	}
	if err := state.IntendRemovals(r.opts.Dir, r.removals()); err != nil {
		r.stop(fmt.Errorf("%w; nothing was changed", err))
	}
}

// endRemovals finishes this plan's notes against the lockfile as written:
// files whose removal a failure skipped are removed if their entries are
// gone, and the notes are dropped.
func (r *run) endRemovals() {
	s, ok := r.opts.Recorder.(Snapshotter)
	if !ok {
		return
	}
	if _, _, err := state.FinishRemovals(r.opts.Dir, s.Snapshot()); err != nil {
		r.stop(err)
	}
}

// removals lists the files this plan stops recording and then removes:
// each delete's, and the old path of each move or replace that changes
// path, unless a change of the plan writes there.
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
		if _, written := r.targets[safepath.Key(c.Prior.Path)]; written {
			continue
		}
		out = append(out, state.Removal{Path: c.Prior.Path, SHA256: c.Prior.SHA256})
	}
	return out
}
