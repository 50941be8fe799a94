package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
)

// pathIndex mirrors which lockfile entry records which path, so that a
// file is never renamed over, or removed from, a path an entry still
// records. It follows the lockfile conservatively: a path counts as owned
// until its removal is durable, and from before its recording. Its mutex
// serializes the lockfile changes that touch another entry's path or
// address, and guards the maps; readers that change nothing (PutBack)
// share it.
type pathIndex struct {
	mu    sync.RWMutex
	owner map[string]addrs.Addr // safepath.Key(path) → address of the entry recording it
	// rec holds, by address, its entry's path and the digest of the
	// entry as recorded (one map for both: a run of many images keeps
	// one element per image).
	rec map[addrs.Addr]indexed
}

// indexed is what a pathIndex holds of one recorded entry: its path, and
// the digest of its lockfile encoding (entryDigest), so that a commit of
// the very same entry (a missing file put back with its recorded bytes)
// needs no lockfile write. A digest, not the Entry: the Recorder already
// holds the entries.
type indexed struct {
	path string
	sum  entrySum
}

// entrySum is the SHA-256 of an entry's lockfile encoding.
type entrySum [sha256.Size]byte

// entryDigest returns the digest of e's lockfile encoding: two entries
// with the same digest are written to the lockfile as the same bytes.
func entryDigest(e Entry) entrySum {
	return sha256.Sum256(appendEntry(make([]byte, 0, 512), addrs.Addr{}, e))
}

func newPathIndex(lock *Lock) *pathIndex {
	x := &pathIndex{owner: map[string]addrs.Addr{}, rec: map[addrs.Addr]indexed{}}
	if lock != nil {
		for a, e := range lock.Images {
			x.owner[safepath.Key(e.Path)] = a
			x.rec[a] = indexed{e.Path, entryDigest(e)}
		}
	}
	return x
}

// forget drops addresses from the mirror only (the lockfile already has).
// The caller holds x.mu.
func (x *pathIndex) forget(as ...addrs.Addr) {
	for _, a := range as {
		if r, ok := x.rec[a]; ok {
			if x.owner[safepath.Key(r.path)] == a {
				delete(x.owner, safepath.Key(r.path))
			}
			delete(x.rec, a)
		}
	}
}

// recorded reports whether an entry records p or a path equal to it
// case-folded, and returns that entry's path (p itself while the entry is
// being recorded, to be safe).
func (x *pathIndex) recorded(p string) (string, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	o, ok := x.owner[safepath.Key(p)]
	if !ok {
		return "", false
	}
	if r, ok := x.rec[o]; ok && safepath.Key(r.path) == safepath.Key(p) {
		return r.path, true
	}
	return p, true
}

// del deletes the entry at addr. The caller holds s.idx.mu.
func (s *LocalStore) del(ctx context.Context, addr addrs.Addr) error {
	if err := s.record(ctx, "the removal", addr, []addrs.Addr{addr}, nil); err != nil {
		return err
	}
	s.idx.forget(addr)
	return nil
}

// set records e under addr and deletes the entries at drop in the same
// write. An entry of another address that records the same path is
// deleted first, so that no two entries ever share a path. The caller
// holds s.idx.mu.
func (s *LocalStore) set(ctx context.Context, addr addrs.Addr, e Entry, drop []addrs.Addr) error {
	x := s.idx
	if o, ok := x.owner[safepath.Key(e.Path)]; ok && o != addr && !slices.Contains(drop, o) {
		if err := s.del(ctx, o); err != nil {
			return err
		}
	}
	what := "the entry"
	if len(drop) > 0 {
		what = "the move"
	}
	if err := s.record(ctx, what, addr, drop, map[addrs.Addr]Entry{addr: e}); err != nil {
		return err
	}
	x.forget(drop...)
	if old, ok := x.rec[addr]; ok && x.owner[safepath.Key(old.path)] == addr {
		delete(x.owner, safepath.Key(old.path))
	}
	x.owner[safepath.Key(e.Path)] = addr
	x.rec[addr] = indexed{e.Path, entryDigest(e)}
	return nil
}

// takenPaths are the paths an image of a run leaves and another takes
// over, with the hash of the file recorded there when the run began:
// the file there is replaced only while it still holds those bytes, so
// that an edit made after the plan (a saved plan applied later) is never
// overwritten. Few paths, if any: a run makes none for the images that
// keep their paths.
type takenPaths struct {
	dir  string
	sums map[string]string // safepath.Key(path) → the SHA-256 recorded there

	once  sync.Once
	stats statRecords // the stat cache, read on the first check
}

// takenOf returns the paths of the removals rs that the run writes
// (targets), or nil when there are none.
func takenOf(dir string, targets map[string]string, rs []Removal) *takenPaths {
	var t *takenPaths
	for _, r := range rs {
		k := safepath.Key(r.Path)
		if _, written := targets[k]; !written {
			continue
		}
		if t == nil {
			t = &takenPaths{dir: dir, sums: map[string]string{}}
		}
		t.sums[k] = r.SHA256
	}
	return t
}

// edited reports whether the file at rel, a path taken over, is no
// longer the one recorded there. It trusts the stat cache's hash of the
// file when the file's size, times and inode are the ones the cache
// recorded with it (as a plan does), and hashes the file only when they
// are not. Nothing there, or a path not taken over, is not edited.
func (t *takenPaths) edited(rel string) bool {
	if t == nil {
		return false
	}
	sum, ok := t.sums[safepath.Key(rel)]
	if !ok {
		return false
	}
	abs := filepath.Join(t.dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil || !fi.Mode().IsRegular() {
		return true
	}
	t.once.Do(func() {
		if c := ReadStatCache(t.dir); c.err == nil {
			t.stats = c.old
		}
	})
	if rec, ok := t.stats.get(rel); ok && rec.statKey == statKeyOf(fi) {
		return rec.SHA256 != sum
	}
	got, ok := regularSHA256(abs)
	return !ok || got != sum
}

// OccupiedError is Commit's refusal to put an image at a path that no
// entry records, where a file is with other bytes (or something that is
// not a regular file): someone's, which is left as it was. The plan
// refuses such a change before apply; this is for a file that came
// after the plan.
type OccupiedError struct {
	// Path is the output path, relative and slash-separated.
	Path string
	// Kept says that the image was kept in the content cache, so that
	// the next run restores it without a request.
	Kept bool
	// Edited says that the file is at the path another image leaves, but
	// is no longer the one the lockfile recorded there (changed after
	// the plan).
	Edited bool
	// Noted says that an interrupted apply was placing an image at Path
	// (its placing note names it), yet the file's bytes are not an image
	// pixform knows it made (Leftovers.Holds): its leftover changed, or
	// the user's, which only the user can tell.
	Noted bool
}

// NotedNotOurs says why a file that no entry records, at a path an
// interrupted apply was placing an image at (Leftovers.Noted), is refused:
// its bytes are not an image pixform knows it made. Plan and apply word
// the refusal with it alike.
const NotedNotOurs = "at a path an interrupted apply was writing, but its bytes are not an image pixform knows it made"

func (e *OccupiedError) Error() string {
	if e.Edited {
		return fmt.Sprintf("refused to overwrite %s: it no longer holds the image the lockfile recorded there (it was changed after the plan), and was left as it is", e.Path)
	}
	if e.Noted {
		return fmt.Sprintf("refused to overwrite %s: it holds a file that the lockfile does not record, %s; it was left as it is", e.Path, NotedNotOurs)
	}
	return fmt.Sprintf("refused to overwrite %s: it holds a file that the lockfile does not record, which was left as it is", e.Path)
}

// placeGuard judges a file found at c's path when no entry records that
// path (the zero placeGuard judges nothing): pixform's own file (s.ours)
// may be replaced, and a regular file of c's very bytes or of one of its
// takes, and one an interrupted apply left there (s.left: an image
// pixform made, by its bytes); anything else refuses c with an
// *OccupiedError, keeping its image in the content cache first when c
// asks for the cache (unless kept says it is there). A value, so that
// the commits that find nothing at their paths (nearly all) allocate
// nothing for it; it reads the file only when there is one.
type placeGuard struct {
	s    *LocalStore
	c    *Commit
	kept bool
	// checked says that the caller looked whether the file at a path
	// taken over was edited (takenPaths.edited), and edited what it
	// found, so that check does not look again.
	checked, edited bool
}

// set reports whether g judges anything.
func (g placeGuard) set() bool { return g.c != nil }

// check judges the file at g.c's path.
func (g placeGuard) check() error {
	s, c := g.s, g.c
	edited := g.edited
	if s.ours[safepath.Key(c.Entry.Path)] {
		if !g.checked {
			edited = s.taken.edited(c.Entry.Path)
		}
		if !edited {
			return nil // pixform's own file
		}
	}
	if fi, err := os.Lstat(s.abs(c.Entry.Path)); err == nil && fi.IsDir() {
		return nil // the rename refuses a directory itself, saying so
	}
	sum, regular := regularSHA256(s.abs(c.Entry.Path))
	if regular && (ownBytes(&c.Entry, sum) || s.left.Holds(c.Entry.Path, sum)) {
		return nil
	}
	return &OccupiedError{Path: c.Entry.Path, Kept: g.kept || s.keepBeforeRemoval(c), Edited: edited, Noted: regular && s.left.Noted(c.Entry.Path)}
}

// ownBytes reports whether sum is of e's bytes or of one of its takes
// (a pick killed while it changed the file leaves another take there).
func ownBytes(e *Entry, sum string) bool {
	if sum == e.SHA256 {
		return true
	}
	for _, t := range e.Takes {
		if sum == t.SHA256 {
			return true
		}
	}
	return false
}

// regularSHA256 returns the hash of the regular file at abs, false for
// anything else (a link, a directory, a FIFO, which it never waits on) or
// a file it cannot read.
func regularSHA256(abs string) (string, bool) {
	f, _, err := openRegular(abs)
	if err != nil {
		return "", false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", false
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// priorDrop returns p's address when its entry is still recorded as it
// was and under another address than addr: the entry to delete once addr
// is recorded. The caller holds s.idx.mu.
func (s *LocalStore) priorDrop(addr addrs.Addr, p *Prior) []addrs.Addr {
	if p == nil || p.Addr == addr {
		return nil
	}
	if r, ok := s.idx.rec[p.Addr]; ok && r.path == p.Entry.Path {
		return []addrs.Addr{p.Addr}
	}
	return nil
}

// abs returns the file path of a slash-separated path relative to dir.
func (s *LocalStore) abs(rel string) string {
	return filepath.Join(s.dir, filepath.FromSlash(rel))
}

// Commit implements Store. The entry recording c.Entry.Path, if any, is
// deleted before the rename, the entry set after it, and then c's prior
// entry under another address, if any, deleted (in the same write). The
// file goes into the content cache (c.Cache) before it is placed (or,
// where it cannot be kept so, once placed), so before the lockfile
// records it, and after the record the prior's old file, at another path,
// is removed. A file at c's path that no entry records, with other
// bytes, is left as it is: an *OccupiedError.
//
// Commits run in parallel: no other change of a run writes c.Entry.Path,
// and moves and deletes, which may free it, are done before renders start.
func (s *LocalStore) Commit(ctx context.Context, c Commit) error {
	if err := s.commit(ctx, c); err != nil {
		return err
	}
	if p := c.Prior; p != nil && p.Entry.Path != c.Entry.Path {
		s.removeOld(c.Warn, p.Entry.Path, p.Entry.SHA256)
	}
	return nil
}

// placed runs after c's file is at its path, before its record.
func (s *LocalStore) placed(c *Commit) {
	if !c.Cache || s.cache == nil {
		return
	}
	e := &c.Entry
	if err := s.cache.Put(e.Inputs.Digest(), e.Provider, s.abs(e.Path), e.SHA256); err != nil {
		warn(c.Warn, fmt.Sprintf("could not save %s in the content cache: %v", e.Path, err))
	}
}

// keeper is a content cache that takes a temporary file not yet placed
// (Cache.Keep).
type keeper interface {
	Keep(digest, provider string, f *os.File, ext, sum string) error
}

// keepOrNote puts c's image in the content cache before it is placed
// (keepBeforeRemoval) and reports whether it did; an image the cache
// does not hold then (nor held already: c.Cached) is noted in the log
// of images placed and not cached instead, so that a hard kill's
// leftover is known either way.
func (s *LocalStore) keepOrNote(c *Commit) bool {
	kept := s.keepBeforeRemoval(c)
	if !kept && !c.Cached {
		s.notePlaced(c.Entry.Path, c.Entry.SHA256)
	}
	return kept
}

// keepBeforeRemoval puts c's image, so far only in its temporary file, in
// the content cache before it is placed and before the lockfile drops the
// entry it replaces, and reports whether it did: a lockfile write that
// then fails (a full disk, the lock lost) or a kill during it leaves the
// paid render in the cache for the next run, instead of losing it with
// the temporary file; a kill once it is placed leaves a file of bytes the
// cache holds.
func (s *LocalStore) keepBeforeRemoval(c *Commit) bool {
	k, ok := s.cache.(keeper)
	if !c.Cache || s.cache == nil || !ok {
		return false
	}
	e := &c.Entry
	ext := strings.ToLower(filepath.Ext(e.Path))
	if !isCacheExt(ext) || !validSHA256(e.SHA256) {
		return false // placed puts it as before
	}
	if err := k.Keep(e.Inputs.Digest(), e.Provider, c.Temp, ext, e.SHA256); err != nil {
		warn(c.Warn, fmt.Sprintf("could not save %s in the content cache: %v", e.Path, err))
		return false
	}
	return true
}

func warn(w func(string), msg string) {
	if w != nil {
		w(msg)
	}
}

// commit places and records c without removing its prior's file.
func (s *LocalStore) commit(ctx context.Context, c Commit) error {
	addr, e := c.Addr, c.Entry
	x := s.idx
	x.mu.Lock()
	recorded, had := x.rec[addr]
	// A change that leaves its recorded path goes serially too: until
	// its entry is recorded at the new path, the index says it owns the
	// old one, and a commit of another image taking that path would
	// delete the entry being recorded (images that rotate paths lost
	// entries).
	moves := had && safepath.Key(recorded.path) != safepath.Key(e.Path)
	if o, ok := x.owner[safepath.Key(e.Path)]; (ok && o != addr) || moves || len(s.priorDrop(addr, c.Prior)) > 0 {
		x.mu.Unlock()
		return s.commitSerial(ctx, c)
	}
	_, inPlace := x.owner[safepath.Key(e.Path)]
	x.mu.Unlock()
	// Every path below records e's digest or compares it: made once.
	sum := entryDigest(e)
	if inPlace && had && recorded.sum == sum {
		// The lockfile already says exactly this: the file (missing or
		// changed by hand) is put back with its recorded bytes, and no
		// moment of the rename leaves the entry naming other bytes. No
		// lockfile write follows to batch its sync with, so the file is
		// synced before its rename: after a power loss the path holds the
		// whole image or what it held before, never part of one.
		if err := s.placeTemp(c.Temp, e.Path, true); err != nil {
			return err
		}
		s.placed(&c)
		return nil
	}
	// The common case, a create or a replace of c's own entry, touches no
	// other change's entry or path, so its Journal calls run outside x.mu
	// and commits of many images share the Recorder's group writes.
	// The image goes into the content cache before anything else: a kill
	// once it is placed and before it is recorded leaves at its path a
	// file the next plan finds in the cache (its bytes are the ones it
	// would restore there), not a file of nobody's that apply refuses to
	// overwrite (placeGuard).
	kept := s.keepOrNote(&c)
	if inPlace {
		if err := s.record(ctx, "the removal", addr, []addrs.Addr{addr}, nil); err != nil {
			s.AbortTemp(c.Temp)
			return err
		}
		x.mu.Lock()
		x.forget(addr)
		x.mu.Unlock()
	}
	// The Recorder syncs the directory before the lockfile names the file.
	var g placeGuard
	if !inPlace {
		g = placeGuard{s: s, c: &c, kept: kept}
	}
	if err := s.placeTempGuard(c.Temp, e.Path, !s.batch, g); err != nil {
		return err
	}
	if !kept {
		s.placed(&c)
	}
	x.mu.Lock()
	x.owner[safepath.Key(e.Path)] = addr
	x.mu.Unlock()
	if err := s.record(ctx, "the entry", addr, nil, map[addrs.Addr]Entry{addr: e}); err != nil {
		s.placedUnrecorded(e.Path, e.SHA256)
		return err
	}
	// addr's entry, if any, recorded e.Path (one that leaves its path
	// went to commitSerial): no other path of addr's to drop.
	x.mu.Lock()
	x.rec[addr] = indexed{e.Path, sum}
	x.mu.Unlock()
	return nil
}

// commitSerial is commit for a change that frees or takes over another
// entry's path or address: it holds the index's lock across its records.
func (s *LocalStore) commitSerial(ctx context.Context, c Commit) error {
	edited := s.taken.edited(c.Entry.Path)
	if edited {
		// Changed after the plan: refused (unless of c's own bytes), and
		// the entry recording the path, if any, stays.
		if err := (placeGuard{s: s, c: &c, checked: true, edited: true}).check(); err != nil {
			s.AbortTemp(c.Temp)
			return err
		}
	}
	// In the content cache before anything else, as commit does; else
	// noted in the log before it is placed.
	kept := s.keepOrNote(&c)
	x := s.idx
	x.mu.Lock()
	var err error
	var g placeGuard
	if o, ok := x.owner[safepath.Key(c.Entry.Path)]; ok {
		err = s.del(ctx, o)
	} else {
		g = placeGuard{s: s, c: &c, kept: kept, checked: true, edited: edited}
	}
	x.mu.Unlock()
	if err != nil {
		s.AbortTemp(c.Temp)
		return err
	}
	// The Recorder syncs the directory before the lockfile names the file.
	if err := s.placeTempGuard(c.Temp, c.Entry.Path, !s.batch, g); err != nil {
		return err
	}
	if !kept {
		s.placed(&c)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := s.set(ctx, c.Addr, c.Entry, s.priorDrop(c.Addr, c.Prior)); err != nil {
		s.placedUnrecorded(c.Entry.Path, c.Entry.SHA256)
		return err
	}
	return nil
}

// Delete implements Store: the entry goes from the lockfile first, then
// its file, so that a crash in between leaves a file that the removal
// note makes the next run remove, never an entry without its file. A file
// the user changed since it was recorded is kept, and kept says so (no
// warning: the caller reports it).
func (s *LocalStore) Delete(ctx context.Context, d Deletion) (kept bool, err error) {
	s.idx.mu.Lock()
	err = s.del(ctx, d.Addr)
	s.idx.mu.Unlock()
	if err != nil {
		return false, err
	}
	if d.Entry == nil {
		return false, nil
	}
	return s.removeIfOurs(d.Warn, d.Entry.Path, d.Entry.SHA256), nil
}

// removeOld removes the file at rel, which held the image with hash sum,
// unless an entry still records rel, the run writes there, or the user
// changed the file; failures are warnings, since the lockfile no longer
// refers to the file.
func (s *LocalStore) removeOld(w func(string), rel, sum string) {
	if s.removeIfOurs(w, rel, sum) {
		warn(w, fmt.Sprintf("kept %s: it is no longer the recorded image (edited by hand?); delete it yourself if you no longer need it", rel))
	}
}

// removeIfOurs is removeOld, reporting a file kept because the user
// changed it rather than warning of it.
func (s *LocalStore) removeIfOurs(w func(string), rel, sum string) (kept bool) {
	if s.keeps(rel) {
		return false
	}
	kept, err := removeIfUnchanged(s.abs(rel), sum)
	if err != nil {
		warn(w, fmt.Sprintf("could not remove the old file %s: %v; delete it yourself", rel, err))
	}
	return kept
}

// keeps reports whether the file at rel must stay: the run writes rel or
// an entry records it, or a path that differs from rel in case only and
// is the same file here (a case-insensitive file system, as on macOS and
// Windows).
func (s *LocalStore) keeps(rel string) bool {
	if t, ok := s.targets[safepath.Key(rel)]; ok && s.sameFile(rel, t) {
		return true
	}
	t, ok := s.idx.recorded(rel)
	return ok && s.sameFile(rel, t)
}

// sameFile reports whether the paths a and b, equal case-folded, name one
// file.
func (s *LocalStore) sameFile(a, b string) bool {
	if a == b {
		return true
	}
	fa, err := os.Lstat(s.abs(a))
	if err != nil {
		return false
	}
	fb, err := os.Lstat(s.abs(b))
	return err == nil && os.SameFile(fa, fb)
}

// removeIfUnchanged removes the file at abs if it still holds the image
// with hash sum. A missing file is fine; a file the user changed is kept,
// and kept reports that.
func removeIfUnchanged(abs, sum string) (kept bool, err error) {
	got, err := hashFile(abs, nil) // a link there is kept, never followed
	if err != nil {
		return false, fmt.Errorf("read %s before removing it: %w", abs, err)
	}
	if !got.exists {
		return false, nil
	}
	if got.sum != sum {
		return true, nil
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove %s: %w", abs, err)
	}
	return false, nil
}
