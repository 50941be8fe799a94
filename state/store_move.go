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
	"path"
	"path/filepath"
	"strings"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/internal/unnamed"
)

// stagingDirName is where Move stages the copies that break cycles, inside
// .pixform/: RemoveStaleTemps empties it.
const stagingDirName = "staging"

// pendingMove is a move not yet carried out. A move whose source is the
// destination of another, in a cycle, is staged: its source copied under
// .pixform/ first, so the other can overwrite the source path.
type pendingMove struct {
	i      int
	m      *Move
	staged string // file path of the staged copy, or ""
}

// HeldError is the failure of a change that takes over a path (Path)
// that another image's change (Holder's) leaves, when that change failed
// or did not run: nothing was written at Path, and its file and entry
// are left as they were.
type HeldError struct {
	// Path is the path taken over, relative and slash-separated.
	Path string
	// Holder is the address of the image whose change leaves Path.
	Holder addrs.Addr
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("it takes %s from %s, whose change failed: nothing was changed at %s", e.Path, e.Holder, e.Path)
}

// Move implements Store. Moves are local and quick: once begun they all
// run, unless the lockfile cannot be written; then the rest are skipped
// (done with skipped true), and a staged copy's place is said in a warning.
// A move to the path that another move leaves fails with a *HeldError
// when that move failed, and so on along a chain.
func (s *LocalStore) Move(ctx context.Context, moves []Move, done func(i int, err error, skipped bool)) {
	// readers maps a source path to the pending move that reads it.
	readers := map[string]*pendingMove{}
	var pending []*pendingMove
	for i := range moves {
		pm := &pendingMove{i: i, m: &moves[i]}
		pending = append(pending, pm)
		readers[pm.m.From.Entry.Path] = pm
	}
	// failed maps the source path of a move that failed to that move: its
	// file and entry stay, so no move may take its path.
	var failed map[string]*Move
	report := done
	done = func(i int, err error, skipped bool) {
		if err != nil || skipped {
			if failed == nil {
				failed = map[string]*Move{}
			}
			failed[moves[i].From.Entry.Path] = &moves[i]
		}
		report(i, err, skipped)
	}
	for len(pending) > 0 {
		if s.failed() != nil {
			for _, pm := range pending {
				if pm.staged != "" {
					warn(pm.m.Warn, fmt.Sprintf("the image moving to %s is kept at %s until the next apply, which removes it: copy it there yourself if you need it now", pm.m.Path, pm.staged))
				}
				done(pm.i, nil, true)
			}
			return
		}
		progressed := false
		next := pending[:0]
		var b moveBatch
		for _, pm := range pending {
			if o, ok := readers[pm.m.Path]; ok && o != pm {
				next = append(next, pm)
				continue
			}
			if pm.staged == "" && readers[pm.m.From.Entry.Path] == pm {
				delete(readers, pm.m.From.Entry.Path)
			}
			progressed = true
			if f, ok := failed[pm.m.Path]; ok && f != pm.m {
				// The move leaving pm's path failed: that image is
				// still there. (A staged copy is of a file still in
				// place: the move that would overwrite it failed.)
				if pm.staged != "" {
					os.Remove(pm.staged)
				}
				done(pm.i, &HeldError{Path: pm.m.Path, Holder: f.To}, false)
				continue
			}
			if s.batchable(&b, pm) {
				if err := s.place(pm); err != nil {
					done(pm.i, err, false)
					continue
				}
				b.add(s, pm)
				continue
			}
			// Moves in the order they come: the batch so far is recorded
			// before a move that it may free a path or an address for.
			s.recordMoves(ctx, &b, done)
			err := s.move(ctx, pm)
			if err != nil && pm.staged != "" {
				warn(pm.m.Warn, fmt.Sprintf("the image moving to %s is kept at %s until the next apply, which removes it: copy it there yourself if you need it now", pm.m.Path, pm.staged))
			}
			done(pm.i, err, false)
		}
		s.recordMoves(ctx, &b, done)
		pending = next
		if progressed || len(pending) == 0 {
			continue
		}
		// Every pending move waits for another: cycles. Stage one.
		pm := pending[0]
		staged, err := s.stage(pm.m)
		if err != nil {
			for _, pm := range pending {
				done(pm.i, err, false)
			}
			return
		}
		pm.staged = staged
		delete(readers, pm.m.From.Entry.Path)
	}
}

// stage copies the source of move m, after checking its hash, to a new
// file under .pixform/staging/ and returns that file's path.
func (s *LocalStore) stage(m *Move) (string, error) {
	dir, err := ensureWorkSubDir(s.dir, stagingDirName)
	if err != nil {
		return "", fmt.Errorf("move %s: %w", m.To, err)
	}
	f, err := os.CreateTemp(dir, "move-*")
	if err != nil {
		return "", fmt.Errorf("move %s: create a staging file in %s: %w", m.To, dir, err)
	}
	if err := copyVerified(f, s.abs(m.From.Entry.Path), m.From.Entry.Path, m.From.Entry.SHA256); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("move %s: %w", m.To, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("move %s: sync %s: %w", m.To, f.Name(), err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("move %s: close %s: %w", m.To, f.Name(), err)
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
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), f); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != want {
		return fmt.Errorf("%s changed since it was recorded (its SHA-256 is not the lockfile's): run plan again", rel)
	}
	return nil
}

// move carries out one move: the file is copied to the new path
// atomically, recorded under the new address and path (the old address
// deleted in the same write), then the old file removed.
func (s *LocalStore) move(ctx context.Context, pm *pendingMove) error {
	m := pm.m
	e := m.From.Entry
	e.Path = m.Path
	src := m.From.Entry.Path
	if pm.staged == "" && src == m.Path {
		// An address move in place: only the lockfile changes, in one
		// write.
		s.idx.mu.Lock()
		defer s.idx.mu.Unlock()
		return s.set(ctx, m.To, e, s.priorDrop(m.To, &m.From))
	}
	srcFile := s.abs(src)
	if pm.staged != "" {
		srcFile = pm.staged
	}
	tmp, err := s.CreateTemp(m.Path)
	if err != nil {
		return fmt.Errorf("move %s to %s: %w", m.To, m.Path, err)
	}
	if err := copyVerified(tmp, srcFile, src, m.From.Entry.SHA256); err != nil {
		s.AbortTemp(tmp)
		return fmt.Errorf("move %s to %s: %w", m.To, m.Path, err)
	}
	if err := s.commit(ctx, Commit{Addr: m.To, Entry: e, Temp: tmp, Prior: &m.From}); err != nil {
		var re *RecordError
		if errors.As(err, &re) {
			return err
		}
		return fmt.Errorf("move %s to %s: %w", m.To, m.Path, err)
	}
	if pm.staged != "" {
		os.Remove(pm.staged)
	} else if !s.keeps(src) {
		if err := os.Remove(srcFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			warn(m.Warn, fmt.Sprintf("could not remove the old file %s: %v; delete it yourself", src, err))
		}
	}
	return nil
}

// moveBatch is a run of moves whose files are in place at their new
// paths, none of which any entry records, to record in one lockfile
// write (recordMoves) instead of one each.
type moveBatch struct {
	moves   []*pendingMove
	deletes []addrs.Addr
	sets    map[addrs.Addr]Entry
	paths   map[string]bool // safepath.Key of the new paths
}

// batchable reports whether pm can join b: not staged, to a new path that
// no entry records and no move of b takes, under an address no move of b
// sets. Such a move's file goes to a path the lockfile does not name, so
// placing it before the batch's record breaks no entry, and a kill before
// that record leaves only files at paths the next run writes again.
func (s *LocalStore) batchable(b *moveBatch, pm *pendingMove) bool {
	m := pm.m
	if pm.staged != "" || m.From.Entry.Path == m.Path {
		return false
	}
	key := safepath.Key(m.Path)
	if _, ok := b.sets[m.To]; ok || b.paths[key] {
		return false
	}
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	_, taken := s.idx.owner[key]
	return !taken
}

// add puts pm, placed, in b, with what recording it deletes and sets: as
// move records it on its own.
func (b *moveBatch) add(s *LocalStore, pm *pendingMove) {
	m := pm.m
	e := m.From.Entry
	e.Path = m.Path
	if b.sets == nil {
		b.sets, b.paths = map[addrs.Addr]Entry{}, map[string]bool{}
	}
	s.idx.mu.Lock()
	b.deletes = append(b.deletes, s.priorDrop(m.To, &m.From)...)
	s.idx.mu.Unlock()
	b.sets[m.To] = e
	b.paths[safepath.Key(m.Path)] = true
	b.moves = append(b.moves, pm)
}

// place copies pm's file, verified, to its new path, atomically.
func (s *LocalStore) place(pm *pendingMove) error {
	m := pm.m
	tmp, err := s.CreateTemp(m.Path)
	if err != nil {
		return fmt.Errorf("move %s to %s: %w", m.To, m.Path, err)
	}
	if err := copyVerified(tmp, s.abs(m.From.Entry.Path), m.From.Entry.Path, m.From.Entry.SHA256); err != nil {
		s.AbortTemp(tmp)
		return fmt.Errorf("move %s to %s: %w", m.To, m.Path, err)
	}
	// The Recorder syncs the directory before the lockfile names the file.
	// No entry records m.Path (batchable): a file there is someone's,
	// unless it is pixform's own or of the very bytes moved.
	e := m.From.Entry
	e.Path = m.Path
	s.notePlaced(m.Path, e.SHA256)
	if err := s.placeBackGuard(tmp, m.Path, !s.batch, false, placeGuard{s: s, c: &Commit{Addr: m.To, Entry: e}}); err != nil {
		return fmt.Errorf("move %s to %s: %w", m.To, m.Path, err)
	}
	return nil
}

// recordMoves records the moves of b in one lockfile write, then removes
// their old files, and empties b. The index follows the write as set
// follows its own: the dropped addresses first, then the new entries.
func (s *LocalStore) recordMoves(ctx context.Context, b *moveBatch, done func(i int, err error, skipped bool)) {
	if len(b.moves) == 0 {
		return
	}
	defer func() { *b = moveBatch{} }()
	x := s.idx
	x.mu.Lock()
	err := s.record(ctx, "the move", b.moves[0].m.To, b.deletes, b.sets)
	if err == nil {
		x.forget(b.deletes...)
		for a, e := range b.sets {
			if old, ok := x.rec[a]; ok && x.owner[safepath.Key(old.path)] == a {
				delete(x.owner, safepath.Key(old.path))
			}
			x.owner[safepath.Key(e.Path)] = a
			x.rec[a] = indexed{e.Path, entryDigest(e)}
		}
	}
	x.mu.Unlock()
	for _, pm := range b.moves {
		if err != nil { // batchable moves change their path
			s.placedUnrecorded(pm.m.Path, pm.m.From.Entry.SHA256)
		}
		if err == nil {
			src := pm.m.From.Entry.Path
			if !s.keeps(src) {
				if rerr := os.Remove(s.abs(src)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
					warn(pm.m.Warn, fmt.Sprintf("could not remove the old file %s: %v; delete it yourself", src, rerr))
				}
			}
		}
		done(pm.i, err, false)
	}
}

// RemoveStaleTemps implements Store. The Store's owner holds the working
// directory's process lock, so no other pixform is writing them. Only
// names that CreateTemp makes for those exact targets are touched, and the
// staged copies of moves that a kill or a failure left in .pixform/staging.
// Each directory is listed, and its files removed, relative to it opened
// with no symbolic link followed under the working directory (removeIn):
// one behind a link, which may lead outside, is not looked into.
func (s *LocalStore) RemoveStaleTemps(paths []string) {
	if _, ok, err := workSubDir(s.dir, stagingDirName); err == nil && ok {
		s.removeIn(path.Join(WorkDirName, stagingDirName), func(de fs.DirEntry) bool {
			return strings.HasPrefix(de.Name(), "move-") && !de.IsDir()
		})
	}
	bases := map[string]map[string]bool{} // slash dir → base names
	add := func(p string) {
		if p == "" {
			return
		}
		dir, base := path.Split(p)
		if bases[dir] == nil {
			bases[dir] = map[string]bool{}
		}
		bases[dir][base] = true
	}
	add(LockFileName)
	for _, p := range paths {
		add(p)
	}
	for dir, names := range bases {
		s.removeIn(path.Clean(dir), func(de fs.DirEntry) bool {
			return !de.IsDir() && isTempOf(de.Name(), names)
		})
	}
}

// removeIn removes the entries of the directory rel (slash-separated,
// relative, clean; "." for the working directory) that match says to,
// listing and removing them relative to the directory opened with no
// symbolic link followed under the working directory, so that no path is
// resolved again in between. A directory that cannot be opened so
// (missing, or a link on the way) is skipped, saying nothing, and so are
// errors: a leftover is untidy but harmless. Only where no directory can
// be opened so (not Linux) does it go by the directory's path.
func (s *LocalStore) removeIn(rel string, match func(fs.DirEntry) bool) {
	d, err := unnamed.OpenDir(s.dir, rel)
	if errors.Is(err, unnamed.ErrUnsupported) {
		abs := s.abs(rel)
		des, _ := os.ReadDir(abs)
		for _, de := range des {
			if match(de) {
				os.Remove(filepath.Join(abs, de.Name()))
			}
		}
		return
	}
	if err != nil {
		return
	}
	defer d.Close()
	des, _ := d.ReadDir()
	for _, de := range des {
		if match(de) {
			d.Remove(de.Name())
		}
	}
}

// isTempOf reports whether name is a CreateTemp file of one of the base
// names.
func isTempOf(name string, bases map[string]bool) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix)
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 || i == len(rest)-1 || !bases[rest[:i]] {
		return false
	}
	for _, ch := range rest[i+1:] {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}
