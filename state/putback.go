package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/internal/umask"
	"github.com/pixform/pixform/internal/unnamed"
	"github.com/pixform/pixform/media"
)

// PutBack is a recorded image to put back at its path with the bytes its
// entry records: its file is missing or was changed on disk, and its entry
// stays as it is, so no lockfile write follows.
type PutBack struct {
	// Addr and Entry are the image's address and its entry as the
	// lockfile records it; Entry.Path is where the bytes go.
	Addr  addrs.Addr
	Entry Entry
	// Fill writes the image's bytes to w (from the content cache or the
	// image store). Its failure, or bytes other than the entry's, is a
	// *FillError.
	Fill func(w io.Writer) error
	// Accept, when set, judges the image's dimensions as its header
	// gives them (a pixel limit); its refusal is a *FillError.
	Accept func(width, height int) error
}

// ErrNotRecorded is PutBack's answer when the lockfile does not record
// exactly the PutBack's entry under its address, and that entry alone at
// its path (a change of this run took the path or the address): nothing
// was read or written, and the image is committed the common way.
var ErrNotRecorded = errors.New("the lockfile no longer records this entry as the plan saw it")

// FillError is a put-back whose source failed, or gave bytes that are
// not the entry's: nothing was placed.
type FillError struct {
	Path string // the image's path
	Err  error
}

func (e *FillError) Error() string { return e.Err.Error() }
func (e *FillError) Unwrap() error { return e.Err }

// PutBack writes the bytes p.Fill gives straight into an unnamed file
// beside p.Entry.Path (a named temporary file where the file system has
// none), checks them against the entry's size, SHA-256 and media type,
// and only then gives the file its name: a failure of the source, or
// bytes that are not the entry's, leave nothing at the path or beside it.
// A kill at any moment leaves the path as it was or holding the whole
// image, never part of one, and the lockfile is never written.
//
// The bytes are checked as a whole image as they stream in (every PNG
// chunk's CRC and its end, JPEG's markers, as media.Check does, without
// inflating pixels), and their media type and dimensions must be the
// entry's: the lockfile may come from a pull request, so its SHA-256
// proves only that the bytes are the ones it names, not that they are an
// image of the facts it records. The file is
// not synced on its own: End makes every file put back durable with one
// flush of the file system (where there is syncfs(2); elsewhere each file
// is synced before it is named). A power loss before that may leave a
// file at the path whose bytes are not the entry's; the entry is as it
// was, and the next plan, which hashes the file anew, puts it back again
// with no request.
//
// PutBack waits for nothing but its source, which takes ctx itself.
// It returns ErrNotRecorded, having done nothing, unless the
// lockfile records exactly p.Entry under p.Addr; a *FillError when the
// source failed; any other error is the local disk's.
func (s *LocalStore) PutBack(ctx context.Context, p PutBack) error {
	e := p.Entry
	x := s.idx
	key := safepath.Key(e.Path)
	// Read only: put-backs, which run in parallel, do not wait for each
	// other here.
	x.mu.RLock()
	o, owned := x.owner[key]
	rec, had := x.rec[p.Addr]
	x.mu.RUnlock()
	if !owned || o != p.Addr || !had || rec.path != e.Path || rec.sum != entryDigest(e) {
		return ErrNotRecorded
	}
	target := s.abs(e.Path)
	f, err := s.CreateTemp(e.Path)
	if err != nil {
		return err
	}
	w := &checkedWriter{f: f, h: sha256.New(), max: e.Bytes}
	ferr := p.Fill(w)
	switch {
	case w.err != nil:
		s.AbortTemp(f)
		return fmt.Errorf("write %s: %w", target, w.err)
	case w.over:
		s.AbortTemp(f)
		return &FillError{Path: e.Path, Err: fmt.Errorf("it has more than the %d bytes the lockfile records", e.Bytes)}
	case ferr != nil:
		s.AbortTemp(f)
		return &FillError{Path: e.Path, Err: ferr}
	}
	if got := hex.EncodeToString(w.h.Sum(nil)); w.n != e.Bytes || got != e.SHA256 {
		s.AbortTemp(f)
		return &FillError{Path: e.Path, Err: fmt.Errorf("its %d bytes hash to %s, not to the recorded %s (%d bytes)", w.n, got, e.SHA256, e.Bytes)}
	}
	mt, width, height, serr := w.stream.Result()
	if err := e.IsImage(mt, width, height, serr); err != nil {
		s.AbortTemp(f)
		return &FillError{Path: e.Path, Err: err}
	}
	if p.Accept != nil {
		if err := p.Accept(width, height); err != nil {
			s.AbortTemp(f)
			return &FillError{Path: e.Path, Err: err}
		}
	}
	// Synced with its directory where no one flush covers the working
	// directory (syncPutBacks flushes the others); made 0644, and named
	// only in the directory it was made in (placeNamed for a named
	// file: renamed from there, never through its directory's path).
	if err := s.placeBack(f, e.Path, !s.batch, !s.batch); err != nil {
		return err
	}
	s.putBacks.Store(true)
	return nil
}

// placeBack is commitTemp of f, from CreateTemp, at the output rel, for
// a file that is not a render's (a put-back, a move): a named temporary
// file goes through placeNamed, which renames it from the directory it
// was made in rather than by its path.
func (s *LocalStore) placeBack(f *os.File, rel string, syncFile, syncDir bool) error {
	return s.placeBackGuard(f, rel, syncFile, syncDir, placeGuard{})
}

// placeBackGuard is placeBack, but where something is at rel already and
// g is set, g says whether it may go: an error from it
// refuses the placement (f given up, nothing written at rel).
func (s *LocalStore) placeBackGuard(f *os.File, rel string, syncFile, syncDir bool, g placeGuard) error {
	if isUnnamed, final := unnamedTemp(f.Name()); isUnnamed {
		return s.placeBackUnnamed(f, rel, syncFile, syncDir, !final, g)
	}
	if g.set() {
		if _, err := os.Lstat(s.abs(rel)); err == nil {
			if oerr := g.check(); oerr != nil {
				s.AbortTemp(f)
				return oerr
			}
		}
	}
	if err := s.placeNamed(f, rel, syncFile); err != nil {
		return err
	}
	if !syncDir {
		return nil
	}
	return SyncDir(filepath.Dir(s.abs(rel)))
}

// placeBackUnnamed is placeBack of an unnamed file: named only in the
// directory it was made in, found at rel's directory opened with no
// symbolic link followed under the working directory (a directory moved
// away and put behind a link, even one back to it, or replaced by
// another, refuses it with errDirChanged).
func (s *LocalStore) placeBackUnnamed(f *os.File, rel string, syncFile, syncDir, chmod bool, g placeGuard) error {
	target := s.abs(rel)
	d, err := unnamed.OpenDir(s.dir, path.Dir(rel))
	if errors.Is(err, unnamed.ErrUnsupported) {
		if g.set() {
			if _, err := os.Lstat(target); err == nil {
				if oerr := g.check(); oerr != nil {
					AbortTemp(f)
					return oerr
				}
			}
		}
		return commitTemp(f, target, syncFile, syncDir)
	}
	if err == nil {
		defer d.Close()
		err = d.Holds(f)
	}
	if err != nil {
		f.Close()
		if !errors.Is(err, errDirChanged) {
			err = fmt.Errorf("%w: %w", errDirChanged, err)
		}
		return fmt.Errorf("place %s: %w; nothing was written there: see what moved or replaced %s, then run the command again", target, err, filepath.Dir(target))
	}
	if err := commitUnnamedGuard(f, d, target, path.Base(rel), syncFile, chmod, g); err != nil {
		return err
	}
	if !syncDir {
		return nil
	}
	return SyncDir(filepath.Dir(target))
}

// made0644 reports whether an unnamed file made with mode 0644 has that
// mode (the umask leaves it), so that it needs no chmod: its bytes are
// out of everyone's reach until it is named.
func (s *LocalStore) made0644() bool {
	s.umask.once.Do(func() { s.umask.keeps = umaskKeeps0644() })
	return s.umask.keeps
}

// umaskKeeps0644 reports whether the process's umask leaves a file made
// with mode 0644 at 0644 (false where it cannot be read: the file is
// then chmodded).
func umaskKeeps0644() bool {
	m, ok := umask.Get()
	return ok && m&0o644 == 0
}

// syncPutBacks makes the files PutBack placed durable, once for all.
func (s *LocalStore) syncPutBacks() error {
	if !s.putBacks.Swap(false) || !s.batch {
		// Where no one flush covers the working directory, PutBack
		// synced each file and its directory as it placed it.
		return nil
	}
	if err := syncTree(s.dir); err != nil {
		return fmt.Errorf("make the images put back durable: %w; they are in place, and the next plan checks them", err)
	}
	return nil
}

// IsImage says whether bytes a media.Stream (or media.Check) found to be
// of media type mt and width×height, or not a whole image (serr), are the
// image e records: the lockfile may come from a pull request, and its
// SHA-256 proves only which bytes it names, not that they are an image of
// the facts it records. The error says what to do.
func (e Entry) IsImage(mt string, width, height int, serr error) error {
	switch {
	case serr != nil:
		// The very bytes recorded: the lockfile names something that is
		// not a whole image (edited by hand, or hostile).
		return fmt.Errorf("the bytes the lockfile records are not a whole image (%v): delete its entry in %s and apply again", serr, LockFileName)
	case mt != e.MediaType || width != e.Width || height != e.Height:
		return fmt.Errorf("the lockfile records its bytes as a %d×%d %s, but they are a %d×%d %s: fix or delete its entry in %s", e.Width, e.Height, e.MediaType, width, height, mt, LockFileName)
	}
	return nil
}

// checkedWriter writes to f at most max bytes, hashing them and checking
// them as an image; it keeps f's first error apart from the source's.
type checkedWriter struct {
	f      *os.File
	h      hash.Hash
	stream media.Stream
	max    int64
	n      int64
	over   bool  // the source gave more than max bytes
	err    error // f's first error
}

// errOverLong is what checkedWriter tells a source that gives too much.
var errOverLong = errors.New("more bytes than the lockfile records")

func (w *checkedWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.n+int64(len(p)) > w.max {
		w.over = true
		return 0, errOverLong
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.stream.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// linkTemp links f under a new temporary name beside target, which it
// returns.
func linkTemp(f *os.File, target string) (string, error) {
	dir := filepath.Dir(target)
	name, err := tryTempNames(filepath.Base(target), func(name string) error {
		return unnamed.Link(f, filepath.Join(dir, name), true)
	})
	return filepath.Join(dir, name), err
}
