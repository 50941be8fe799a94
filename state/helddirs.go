package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pixform/pixform/internal/unnamed"
)

// maxHeldDirs bounds the output directories a LocalStore holds open. A
// run that writes into more opens the rest's directory for each file it
// makes there.
const maxHeldDirs = 256

// heldDirs are the output directories a LocalStore holds open to make
// unnamed files in, each opened with no symbolic link followed under the
// working directory: no open of the directory per file made. A file is
// named in its directory as it is when placed (placeTemp), not in the one
// held, which may since have moved.
type heldDirs struct {
	mu     sync.Mutex
	m      map[string]*unnamed.Dir // slash directory, relative → held
	closed bool
}

// get returns the Dir of the directory rel under root, held when held:
// else the caller closes it after use.
func (h *heldDirs) get(root, rel string) (d *unnamed.Dir, held bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d := h.m[rel]; d != nil {
		return d, true, nil
	}
	d, err = unnamed.OpenDir(root, rel)
	if err != nil {
		return nil, false, err
	}
	if h.closed || len(h.m) >= maxHeldDirs {
		return d, false, nil
	}
	if h.m == nil {
		h.m = map[string]*unnamed.Dir{}
	}
	h.m[rel] = d
	return d, true, nil
}

// drop closes and forgets d, the held Dir of rel, which was removed.
func (h *heldDirs) drop(rel string, d *unnamed.Dir) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m[rel] == d {
		delete(h.m, rel)
		d.Close()
	}
}

// close closes every held Dir; none is held after.
func (h *heldDirs) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.m {
		d.Close()
	}
	h.m, h.closed = nil, true
}

// createIn returns CreateTemp's create function for an unnamed file
// beside the output at rel: made in the held directory of rel.
func (s *LocalStore) createIn(rel string, final bool) func(target string) (*os.File, error) {
	mode := uint32(0o600)
	if final {
		mode = 0o644
	}
	dir := path.Dir(rel)
	return func(target string) (*os.File, error) {
		d, held, err := s.held.get(s.dir, dir)
		if errors.Is(err, unnamed.ErrSymlink) {
			return nil, fmt.Errorf("%w: %s", err, linkedDirHint)
		}
		if err != nil {
			return nil, err
		}
		f, err := d.Create(mode, unnamedTempName(target, final))
		if !held {
			d.Close()
		} else if errors.Is(err, fs.ErrNotExist) {
			// Removed since it was opened: CreateTemp makes it again.
			s.held.drop(dir, d)
		}
		return f, err
	}
}

// linkedDirHint is what to do about a directory on an output's way that
// is a symbolic link (unnamed.ErrSymlink), which pixform never follows.
const linkedDirHint = "make it a directory, or give the image a path that goes through none, then run the command again"

// namedDirs are the directories the named temporary files of a LocalStore
// were made in, where the file system makes no unnamed ones: each opened
// anew for its file with no symbolic link followed under the working
// directory, and kept until the file is placed or given up, so that
// placeNamed names the file from where it is (its directory may have been
// moved since) and removes it there when it cannot be placed, and
// LocalStore.AbortTemp removes it there too, never through its path. A
// file dropped with neither is forgotten once it is unreachable: its
// directory is closed then, and its name removed there if still there (a
// directory moved away since, outside the working directory, keeps no
// temporary file of ours).
type namedDirs struct {
	mu   sync.Mutex
	m    map[string]namedDir // by the file's name
	next uint64
	// beside says that files were made by createTempBeside, where no
	// directory can be opened without following links (not Linux): such
	// a file has no directory kept, and is given up by its path.
	beside atomic.Bool
}

// namedDir is the directory a named temporary file was made in, and
// which file (a name may be made again once placed).
type namedDir struct {
	d  *unnamed.Dir
	id uint64
}

// namedFile is a file namedDirs keeps a directory for.
type namedFile struct {
	name string
	id   uint64
}

// put keeps d, the directory f was made in, until f is placed or
// unreachable, and reports whether it does: false where a file of the
// same name is kept (made in a directory since moved away, or given up
// and not yet forgotten), when the caller makes f under another name.
func (n *namedDirs) put(f *os.File, d *unnamed.Dir) bool {
	n.mu.Lock()
	if _, taken := n.m[f.Name()]; taken {
		n.mu.Unlock()
		return false
	}
	if n.m == nil {
		n.m = map[string]namedDir{}
	}
	n.next++
	k := namedFile{name: f.Name(), id: n.next}
	n.m[k.name] = namedDir{d: d, id: k.id}
	n.mu.Unlock()
	runtime.AddCleanup(f, n.forget, k)
	return true
}

// take returns the directory the file named name was made in, which the
// caller closes, or nil if none is kept.
func (n *namedDirs) take(name string) *unnamed.Dir {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.m[name]
	if !ok {
		return nil
	}
	delete(n.m, name)
	return e.d
}

// forget closes the directory of a file given up and no longer
// reachable, after removing the file's name there.
func (n *namedDirs) forget(k namedFile) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.m[k.name]
	if !ok || e.id != k.id {
		return
	}
	// Removed before the name is free to be made again.
	e.d.Remove(filepath.Base(k.name))
	e.d.Close()
	delete(n.m, k.name)
}

// giveUp removes the file named name from the directory it was made in,
// wherever that is now, and closes and forgets that directory; it
// reports false, removing nothing, where no directory is kept for name.
func (n *namedDirs) giveUp(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.m[name]
	if !ok {
		return false
	}
	// Removed before the name is free to be made again, as forget does.
	e.d.Remove(filepath.Base(name))
	e.d.Close()
	delete(n.m, name)
	return true
}

// close removes each file still kept (neither placed nor given up) from
// the directory it was made in, and closes every directory kept.
func (n *namedDirs) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, e := range n.m {
		// Neither placed nor given up: no longer placeable, and once its
		// directory is closed, nowhere to be found again.
		e.d.Remove(filepath.Base(name))
		e.d.Close()
	}
	n.m = nil
}

// createNamedIn returns CreateTemp's create function for a named
// temporary file beside the output at rel, where the file system makes
// no unnamed ones, with createTempBeside's names: made in rel's directory
// opened anew with no symbolic link followed under the working directory,
// which is kept for placeNamed. Where no directory can be opened so (no
// openat2 or openat here), it is createTempBeside.
func (s *LocalStore) createNamedIn(rel string) func(target string) (*os.File, error) {
	dir := path.Dir(rel)
	return func(target string) (*os.File, error) {
		d, err := unnamed.OpenDir(s.dir, dir)
		if errors.Is(err, unnamed.ErrUnsupported) {
			s.named.beside.Store(true)
			return createTempBeside(target)
		}
		if errors.Is(err, unnamed.ErrSymlink) {
			return nil, fmt.Errorf("%w: %s", err, linkedDirHint)
		}
		if err != nil {
			return nil, err
		}
		var f *os.File
		_, err = tryTempNames(filepath.Base(target), func(name string) error {
			g, err := d.CreateExcl(name, 0o600)
			if err != nil {
				return err
			}
			if !s.named.put(g, d) {
				// A file of this name is kept, made where the
				// directory was before it moved: taken.
				g.Close()
				d.Remove(name)
				return &os.PathError{Op: "open", Path: g.Name(), Err: fs.ErrExist}
			}
			f = g
			return nil
		})
		if err != nil {
			d.Close()
			return nil, err
		}
		return f, nil
	}
}

// AbortTemp implements Store: it closes f, made by CreateTemp and not
// handed to Commit, and removes it from the directory it was made in,
// wherever that is now (moved away, outside the working directory, with a
// link or another directory at its path), never through its path: a file
// of the same name at that path is not pixform's. An unnamed file
// vanishes when closed. Only where no directory can be opened without
// following links (not Linux), and CreateTemp made the file beside its
// target's path, is it removed by that path.
func (s *LocalStore) AbortTemp(f *os.File) {
	f.Close()
	if isUnnamed, _ := unnamedTemp(f.Name()); isUnnamed {
		return
	}
	if !s.named.giveUp(f.Name()) && s.named.beside.Load() {
		os.Remove(f.Name())
	}
}

// placeNamed is placeTemp of a named temporary file f made beside the
// output rel: synced (syncFile), made 0644, closed, and renamed from the
// directory it was made in (namedDirs), wherever that is now, over rel in
// rel's directory as it is at this moment, opened with no symbolic link
// followed under the working directory. No step resolves a directory's
// path again: a directory moved away since f was made gives f up to the
// one at its path; one put behind a link fails here, f is removed, and
// nothing is placed.
func (s *LocalStore) placeNamed(f *os.File, rel string, syncFile bool) error {
	target, base := s.abs(rel), filepath.Base(f.Name())
	made := s.named.take(f.Name())
	if made != nil {
		defer made.Close()
	}
	// remove removes f's name where it was made. A file whose directory
	// is not kept is left where it is: removing it by its path would go
	// through whatever is now at the directory's path.
	remove := func() {
		if made != nil {
			made.Remove(base)
		}
	}
	fail := func(err error) error {
		f.Close()
		remove()
		return err
	}
	if syncFile {
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("sync %s: %w", target, err))
		}
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", target, err))
	}
	d, err := unnamed.OpenDir(s.dir, path.Dir(rel))
	if errors.Is(err, unnamed.ErrUnsupported) {
		return commitTemp(f, target, false, false)
	}
	if err != nil {
		left := ""
		if made == nil {
			left = fmt.Sprintf(" (its temporary file %s may be left where the directory went)", base)
		}
		if errors.Is(err, unnamed.ErrSymlink) {
			return fail(fmt.Errorf("place %s: %w; nothing was written there%s: %s", target, err, left, linkedDirHint))
		}
		return fail(fmt.Errorf("place %s: %w; nothing was written there%s: see what moved or removed its directory, then run the command again", target, err, left))
	}
	defer d.Close()
	from := made
	if from == nil {
		from = d
	}
	if err := f.Close(); err != nil {
		from.Remove(base)
		return fmt.Errorf("close %s: %w", target, err)
	}
	if err := from.RenameTo(base, d, path.Base(rel)); err != nil {
		from.Remove(base)
		switch {
		case errors.Is(err, errDirChanged):
			return fmt.Errorf("place %s: %w; nothing was written there: see what moved or removed %s (or the directory the image was written in, first there), then run the command again", target, err, filepath.Dir(target))
		case errors.Is(err, fs.ErrNotExist):
			err = fmt.Errorf("%w: %w", errDirChanged, err)
			return fmt.Errorf("place %s: %w; nothing was written there: see what moved or replaced %s, then run the command again", target, err, filepath.Dir(target))
		}
		return fmt.Errorf("rename into %s: %w", target, err)
	}
	return nil
}

// PlaceTemp names f, made by CreateTemp(rel) and not handed to Commit, at
// rel, recording nothing: for bytes the lockfile already records at rel
// (a pull's download, which the caller verified). f is synced first, and
// the name is left to the caller to make durable (SyncDirs, once for
// many files): after a power loss rel holds the whole new file or what it
// held before. As a render's, f is named in rel's directory as it is at
// this moment, opened anew with no symbolic link followed under the
// working directory, wherever the directory f was made in has gone: a
// directory at rel's path that is a link, or missing, refuses it, and f
// is given up where it was made; nothing is named through a link or
// outside the working directory. On error f is closed and nothing is
// written at rel.
func (s *LocalStore) PlaceTemp(f *os.File, rel string) error {
	return s.placeTemp(f, rel, true)
}

// placeTemp is PlaceTemp (syncFile: commitTemp's) of f, from CreateTemp,
// at the output rel. An unnamed file is named in rel's directory as it is
// at this moment, opened anew with no symbolic link followed under the
// working directory, whatever happened to the directory it was made in
// (a held one may since have been moved, removed, made again or put
// behind a link: it serves only to make files).
func (s *LocalStore) placeTemp(f *os.File, rel string, syncFile bool) error {
	return s.placeTempGuard(f, rel, syncFile, placeGuard{})
}

// placeTempGuard is placeTemp, but where something is at rel already and
// g is set, g says whether it may go: an error from it
// refuses the placement (f given up, nothing written at rel). An unnamed
// file finds out for nothing (its link fails); a named one, with a stat.
func (s *LocalStore) placeTempGuard(f *os.File, rel string, syncFile bool, g placeGuard) error {
	isUnnamed, final := unnamedTemp(f.Name())
	if !isUnnamed && g.set() {
		if _, err := os.Lstat(s.abs(rel)); err == nil {
			if oerr := g.check(); oerr != nil {
				s.AbortTemp(f)
				return oerr
			}
		}
	}
	if !isUnnamed {
		if filepath.Dir(f.Name()) == filepath.Dir(s.abs(rel)) {
			return s.placeNamed(f, rel, syncFile)
		}
		return commitTemp(f, s.abs(rel), syncFile, false)
	}
	d, err := unnamed.OpenDir(s.dir, path.Dir(rel))
	if err != nil {
		f.Close()
		if errors.Is(err, unnamed.ErrSymlink) {
			return fmt.Errorf("place %s: %w; nothing was written there: %s", s.abs(rel), err, linkedDirHint)
		}
		return fmt.Errorf("place %s: %w; nothing was written there: see what removed its directory, then run the command again", s.abs(rel), err)
	}
	defer d.Close()
	return commitUnnamedGuard(f, d, s.abs(rel), path.Base(rel), syncFile, !final, g)
}
