package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sync"

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
			return nil, fmt.Errorf("%w: make it a directory, or give the image a path that goes through none, then run the command again", err)
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

// placeTemp is PlaceTemp (syncFile: commitTemp's) of f, from CreateTemp,
// at the output rel. An unnamed file is named in rel's directory as it is
// at this moment, opened anew with no symbolic link followed under the
// working directory, whatever happened to the directory it was made in
// (a held one may since have been moved, removed, made again or put
// behind a link: it serves only to make files).
func (s *LocalStore) placeTemp(f *os.File, rel string, syncFile bool) error {
	isUnnamed, final := unnamedTemp(f.Name())
	if !isUnnamed {
		return commitTemp(f, s.abs(rel), syncFile, false)
	}
	d, err := unnamed.OpenDir(s.dir, path.Dir(rel))
	if err != nil {
		f.Close()
		if errors.Is(err, unnamed.ErrSymlink) {
			return fmt.Errorf("place %s: %w; nothing was written there: make it a directory, or give the image a path that goes through none, then run the command again", s.abs(rel), err)
		}
		return fmt.Errorf("place %s: %w; nothing was written there: see what removed its directory, then run the command again", s.abs(rel), err)
	}
	defer d.Close()
	return commitUnnamedIn(f, d, s.abs(rel), path.Base(rel), syncFile, !final)
}
