package safepath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	// room is how many paths m was made with room for (sizeFor, Expect).
	room int
	// leaving is set once Leaves has been called: Warm stops there.
	leaving atomic.Bool
}

// lstatResult is what Stats keeps of one lstat: the fields its callers
// read, not the whole os.FileInfo and its syscall.Stat_t (about 200 bytes
// a file, kept for the whole plan).
type lstatResult struct {
	fi  fs.FileInfo // a *statInfo through a Stats
	err error
}

// statInfo is an fs.FileInfo made of the fields of an lstat that a plan
// reads. Its Sys is a *StatSys.
type statInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime int64 // ns
	sys   StatSys
}

// StatSys is the Sys of a FileInfo that Stats.Lstat returns: what a stat
// cache compares besides the size, mode and modification time.
type StatSys struct {
	Ino   uint64
	CTime int64 // ns
}

func (fi *statInfo) Name() string       { return fi.name }
func (fi *statInfo) Size() int64        { return fi.size }
func (fi *statInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *statInfo) ModTime() time.Time { return time.Unix(0, fi.mtime) }
func (fi *statInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *statInfo) Sys() any           { return &fi.sys }

// compact keeps of fi what a plan reads.
func compact(fi fs.FileInfo) *statInfo {
	c := &statInfo{name: fi.Name(), size: fi.Size(), mode: fi.Mode(), mtime: fi.ModTime().UnixNano()}
	c.sys = sysOf(fi)
	return c
}

// NewStats returns an empty Stats for the working directory root.
func NewStats(root string) *Stats {
	return &Stats{root: root, start: time.Now(), m: map[string]lstatResult{}}
}

// Start is when s was made: no lstat it returns is older.
func (s *Stats) Start() time.Time { return s.start }

// Lstat returns os.Lstat of p (slash, relative to s's root), from the
// first call for p. A nil Stats calls os.Lstat under root every time;
// a Stats ignores root, and returns a FileInfo of the fields a plan reads
// (name, size, mode, modification time), whose Sys is a *StatSys.
func (s *Stats) Lstat(root, p string) (fs.FileInfo, error) {
	if s == nil {
		return os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
	}
	r := s.lstat(p)
	if r.err != nil {
		return nil, r.err
	}
	return r.fi, nil
}

// lstat is Lstat through s, which is not nil.
func (s *Stats) lstat(p string) lstatResult {
	s.mu.Lock()
	r, ok := s.m[p]
	s.mu.Unlock()
	if ok {
		return r
	}
	r = lstatPath(s.root, p)
	s.mu.Lock()
	r = s.keep(p, r)
	s.mu.Unlock()
	return r
}

// keep records r, an lstat of p, unless one made at the same time was
// recorded first, and returns the one that stands: the first lstat of a
// path stands, whichever call made it. Called with s.mu held.
func (s *Stats) keep(p string, r lstatResult) lstatResult {
	if first, ok := s.m[p]; ok {
		return first
	}
	s.m[p] = r
	return r
}

// Expect makes room in s for n more paths at once while it holds few, for
// a caller about to look at about n of them in batches: the map then
// does not grow by doubling, batch after batch (each copy of it is
// memory a plan keeps, as it collects no garbage).
func (s *Stats) Expect(n int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 64 || len(s.m) > 64 || s.room >= len(s.m)+n {
		return
	}
	m := make(map[string]lstatResult, len(s.m)+n)
	for p, r := range s.m {
		m[p] = r
	}
	s.m, s.room = m, len(s.m)+n
}

// sizeFor makes s's empty map room for n paths at once, rather than
// growing it as a batch of them is kept. Called with s.mu held.
func (s *Stats) sizeFor(n int) {
	if len(s.m) == 0 && n > 64 && n > s.room {
		s.m, s.room = make(map[string]lstatResult, n), n
	}
}

// lstatPath is what Stats keeps of os.Lstat of p under root.
func lstatPath(root, p string) (r lstatResult) {
	fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
	if err != nil {
		r.err = err
	} else {
		r.fi = compact(fi)
	}
	return r
}

// Leaf is the package's Leaf through s: the last component of p under
// root (s's own root when s is not nil), whose directory has been
// checked, may not be a symbolic link.
func (s *Stats) Leaf(root, p string) (exists bool, err error) {
	if s == nil {
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
		return leafOf(root, p, lstatResult{fi: fi, err: err})
	}
	return leafOf(s.root, p, s.lstat(p))
}

// leafOf is Leaf of p under root from r, its lstat.
func leafOf(root, p string, r lstatResult) (exists bool, err error) {
	fi, lerr := r.fi, r.err
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
