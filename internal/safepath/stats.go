package safepath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Stats is the lstat of paths under a root, each made at most once, for
// one run that checks the same paths in several places (the configuration's
// paths, the lockfile's, the stat cache's): every file is one lstat. It is
// safe for concurrent use. What it returns is as old as the run: use one
// Stats per plan, never across one that writes.
type Stats struct {
	root  string
	start time.Time
	mu    sync.Mutex
	m     map[string]lstatResult
}

type lstatResult struct {
	fi  fs.FileInfo
	err error
}

// NewStats returns an empty Stats for the working directory root.
func NewStats(root string) *Stats {
	return &Stats{root: root, start: time.Now(), m: map[string]lstatResult{}}
}

// Start is when s was made: no lstat it returns is older.
func (s *Stats) Start() time.Time { return s.start }

// Lstat returns os.Lstat of p (slash, relative to s's root), from the
// first call for p. A nil Stats calls os.Lstat under root every time;
// a Stats ignores root.
func (s *Stats) Lstat(root, p string) (fs.FileInfo, error) {
	if s == nil {
		return os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
	}
	s.mu.Lock()
	r, ok := s.m[p]
	s.mu.Unlock()
	if ok {
		return r.fi, r.err
	}
	r.fi, r.err = os.Lstat(filepath.Join(s.root, filepath.FromSlash(p)))
	s.mu.Lock()
	s.m[p] = r
	s.mu.Unlock()
	return r.fi, r.err
}

// Leaf is the package's Leaf through s: the last component of p under
// root (s's own root when s is not nil), whose directory has been
// checked, may not be a symbolic link.
func (s *Stats) Leaf(root, p string) (exists bool, err error) {
	if s != nil {
		root = s.root
	}
	fi, lerr := s.Lstat(root, p)
	switch {
	case errors.Is(lerr, fs.ErrNotExist) || errors.Is(lerr, syscall.ENOTDIR):
		return false, nil
	case lerr != nil:
		return false, &Error{Path: p, Reason: Unexamined, Link: p, Err: lerr}
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(filepath.Join(root, filepath.FromSlash(p)))
		return true, &Error{Path: p, Reason: Symlink, Link: p, Target: target}
	}
	return true, nil
}

// Missing reports whether p (slash, relative to s's root) surely does not
// exist: its lstat, made once, says so. Nothing under a missing directory
// needs an lstat of its own. A nil Stats knows nothing.
func (s *Stats) Missing(p string) bool {
	if s == nil || p == "." || p == "" {
		return false
	}
	_, err := s.Lstat(s.root, p)
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
