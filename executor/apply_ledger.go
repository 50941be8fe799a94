package executor

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"

	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// ledger mirrors which lockfile entry records which path, so that a file is
// never renamed over, or removed from, a path an entry still records. Its
// mutex serializes lockfile changes and guards the mirror.
type ledger struct {
	mu    sync.Mutex
	rec   Recorder
	owner map[string]string // safepath.Key(path) → address of the entry recording it
	path  map[string]string // address → its entry's path
}

func newLedger(rec Recorder, plan *planner.Plan) *ledger {
	l := &ledger{rec: rec, owner: map[string]string{}, path: map[string]string{}}
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Prior == nil {
			continue
		}
		addr := priorAddr(c)
		l.owner[safepath.Key(c.Prior.Path)] = addr
		l.path[addr] = c.Prior.Path
	}
	return l
}

// priorAddr is the lockfile key of c.Prior.
func priorAddr(c *planner.Change) string {
	if c.PriorAddr != "" {
		return c.PriorAddr
	}
	return c.Addr.String()
}

// Updater is implemented by a Recorder that can apply several changes in
// one lockfile write (state.Recorder does). Apply then records an address
// move as one change, so that no crash can leave neither address recorded.
type Updater interface {
	Update(deletes []string, sets map[string]state.Entry) error
}

// set records e under addr and deletes the entries at drop in the same
// write when the Recorder is an Updater (else right after). An entry of
// another address that records the same path is deleted first, so that no
// two entries ever share a path. The caller holds l.mu.
func (l *ledger) set(addr string, e state.Entry, drop ...string) error {
	if o, ok := l.owner[safepath.Key(e.Path)]; ok && o != addr && !slices.Contains(drop, o) {
		if err := l.del(o); err != nil {
			return err
		}
	}
	if u, ok := l.rec.(Updater); ok && len(drop) > 0 {
		if err := u.Update(drop, map[string]state.Entry{addr: e}); err != nil {
			return recordErr("the move", addr, err)
		}
		l.forget(drop...)
	} else {
		if len(drop) > 0 && l.owner[safepath.Key(e.Path)] != addr && l.owner[safepath.Key(e.Path)] != "" {
			// Without Update, free the path before taking it.
			if err := l.del(l.owner[safepath.Key(e.Path)]); err != nil {
				return err
			}
		}
		if err := l.rec.Set(addr, e); err != nil {
			return recordErr("the entry", addr, err)
		}
	}
	if old, ok := l.path[addr]; ok && l.owner[safepath.Key(old)] == addr {
		delete(l.owner, safepath.Key(old))
	}
	l.owner[safepath.Key(e.Path)] = addr
	l.path[addr] = e.Path
	for _, d := range drop {
		if _, ok := l.path[d]; !ok {
			continue
		}
		if err := l.del(d); err != nil {
			return err
		}
	}
	return nil
}

// forget drops addresses from the mirror only (the lockfile already has).
func (l *ledger) forget(addrs ...string) {
	for _, a := range addrs {
		if p, ok := l.path[a]; ok {
			if l.owner[safepath.Key(p)] == a {
				delete(l.owner, safepath.Key(p))
			}
			delete(l.path, a)
		}
	}
}

// del deletes the entry at addr. The caller holds l.mu.
func (l *ledger) del(addr string) error {
	if err := l.rec.Delete(addr); err != nil {
		return recordErr("the removal", addr, err)
	}
	l.forget(addr)
	return nil
}

// freePath deletes the entry that records path p, if any, so that a new
// file may be renamed over it. The caller holds l.mu.
func (l *ledger) freePath(p string) error {
	if o, ok := l.owner[safepath.Key(p)]; ok {
		return l.del(o)
	}
	return nil
}

// priorDrop returns c's prior address when its entry is still recorded as
// it was and under another address than c's own: the entry to delete once
// c is recorded. The caller holds l.mu.
func (l *ledger) priorDrop(c *planner.Change) []string {
	if c.Prior == nil {
		return nil
	}
	pa := priorAddr(c)
	if pa == c.Addr.String() {
		return nil
	}
	if p, ok := l.path[pa]; ok && p == c.Prior.Path {
		return []string{pa}
	}
	return nil
}

// commit makes out the file at e.Path (relative to the working directory,
// file path abs) and records e under c's address: the entry recording
// e.Path, if any, is deleted before the rename, e set after it, and then
// c's prior entry under another address, if any, deleted. A Recorder
// error is returned as recErr (fatal); a file error as fileErr (only this
// image failed). On any error out.tmp is removed. placed, if not nil, is
// called once the file is at abs and before the lockfile records it: the
// content cache takes the render there, so that a crash before the record
// costs no request to redo (the next plan restores it from the cache).
//
// Renders commit in parallel: no other change of a plan writes e.Path,
// and moves and deletes, which may free it, are done before renders start.
func (l *ledger) commit(out output, abs string, c *planner.Change, e state.Entry, placed func()) (recErr, fileErr error) {
	addr := c.Addr.String()
	l.mu.Lock()
	if o, ok := l.owner[safepath.Key(e.Path)]; (ok && o != addr) || len(l.priorDrop(c)) > 0 {
		l.mu.Unlock()
		return l.commitSerial(out, abs, c, e, placed)
	}
	_, inPlace := l.owner[safepath.Key(e.Path)]
	l.mu.Unlock()
	// The common case, a create or a replace of c's own entry, touches no
	// other change's entry or path, so its Recorder calls run outside l.mu
	// and commits of many images share the Recorder's group writes. The
	// mirror follows the lockfile conservatively: a path counts as owned
	// until its removal is durable, and from before its recording.
	if inPlace {
		if err := l.rec.Delete(addr); err != nil {
			state.AbortTemp(out.tmp)
			return recordErr("the removal", addr, err), nil
		}
		l.mu.Lock()
		l.forget(addr)
		l.mu.Unlock()
	}
	// The Recorder syncs the directory before the lockfile names the file.
	if err := state.PlaceTemp(out.tmp, abs); err != nil {
		return nil, err
	}
	if placed != nil {
		placed()
	}
	l.mu.Lock()
	l.owner[safepath.Key(e.Path)] = addr
	old, hadOld := l.path[addr]
	l.mu.Unlock()
	if err := l.rec.Set(addr, e); err != nil {
		return recordErr("the entry", addr, err), nil
	}
	l.mu.Lock()
	if hadOld && safepath.Key(old) != safepath.Key(e.Path) && l.owner[safepath.Key(old)] == addr {
		delete(l.owner, safepath.Key(old))
	}
	l.path[addr] = e.Path
	l.mu.Unlock()
	return nil, nil
}

// commitSerial is commit for a change that frees or takes over another
// entry's path or address: it holds l.mu across its Recorder calls.
func (l *ledger) commitSerial(out output, abs string, c *planner.Change, e state.Entry, placed func()) (recErr, fileErr error) {
	l.mu.Lock()
	err := l.freePath(e.Path)
	l.mu.Unlock()
	if err != nil {
		state.AbortTemp(out.tmp)
		return err, nil
	}
	// The Recorder syncs the directory before the lockfile names the file.
	if err := state.PlaceTemp(out.tmp, abs); err != nil {
		return nil, err
	}
	if placed != nil {
		placed()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.set(c.Addr.String(), e, l.priorDrop(c)...), nil
}

// recorded reports whether an entry records p or a path equal to it
// case-folded, and returns that entry's path (p itself while the entry is
// being recorded, to be safe).
func (l *ledger) recorded(p string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.owner[safepath.Key(p)]
	if !ok {
		return "", false
	}
	if q, ok := l.path[o]; ok && safepath.Key(q) == safepath.Key(p) {
		return q, true
	}
	return p, true
}

// hashFile returns the hex SHA-256 of the file at abs.
func hashFile(abs string) (string, error) {
	f, err := os.Open(abs)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// removeIfUnchanged removes the file at abs if it still holds the image
// with hash sum. A missing file is fine; a file the user changed is kept,
// and kept reports that.
func removeIfUnchanged(abs, sum string) (kept bool, err error) {
	got, err := hashFile(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s before removing it: %w", abs, err)
	}
	if got != sum {
		return true, nil
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove %s: %w", abs, err)
	}
	return false, nil
}
