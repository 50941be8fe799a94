package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/internal/unnamed"
)

// dirsName is the note, inside .pixform/, of the output directories that
// pixform created: the only directories it ever removes, once empty.
const dirsName = "dirs.json"

// dirsVersion is the note's format; a version 1 note carries no inodes
// and is ignored (its directories stay).
const dirsVersion = 2

type dirsFile struct {
	Version int       `json:"version"`
	Dirs    []dirNote `json:"dirs"`
}

// dirNote is a directory pixform created, with its device and inode then.
type dirNote struct {
	Path string `json:"path"`
	Dev  uint64 `json:"dev"`
	Ino  uint64 `json:"ino"`
}

// dirNotes is the Store's copy of the note, read once.
type dirNotes struct {
	mu     sync.Mutex
	loaded bool
	notes  map[string]fileID // path → identity when created
	// added counts the directories this Store noted, unsaved those since
	// the note was last written, and saves how many times it was written
	// (for tests).
	added, unsaved, saves int
}

// load reads the note once; the caller holds mu. An unreadable note is
// replaced on the next write: its directories stay.
func (n *dirNotes) load(dir string) {
	if n.loaded {
		return
	}
	n.loaded = true
	n.notes = map[string]fileID{}
	notes, _ := readDirNotes(dir)
	for _, d := range notes {
		n.notes[d.Path] = fileID{Dev: d.Dev, Ino: d.Ino}
	}
}

// save writes the note, or removes it when empty; the caller holds mu. A
// lost note only keeps directories, so the write is atomic, not durable.
func (n *dirNotes) save(dir string) error {
	if len(n.notes) == 0 {
		return removeNote(dir, dirsName)
	}
	f := dirsFile{Version: dirsVersion}
	for _, p := range slices.Sorted(maps.Keys(n.notes)) {
		id := n.notes[p]
		f.Dirs = append(f.Dirs, dirNote{Path: p, Dev: id.Dev, Ino: id.Ino})
	}
	n.saves++
	if err := writeNote(dir, dirsName, f, false); err != nil {
		return fmt.Errorf("note the directories pixform created: %w", err)
	}
	n.unsaved = 0
	return nil
}

// CreateTemp makes a temporary file for the output at rel (relative,
// slash-separated) in its directory, as the package-level CreateTemp does,
// and notes the directories it had to create, with their device and
// inode, so that End can remove them once they are empty. A directory is
// noted after it is made, by an atomic rename without fsync: a crash in
// between, or one that loses the note, leaves it un-noted, and so kept.
//
// Where the file system makes them, the file is unnamed (O_TMPFILE): it
// takes no name in a directory that may hold thousands of outputs, and
// commitTemp then links it at its target in one system call where a named
// file takes a rename. Its mode is 0644 from the start when the umask
// leaves that (no chmod when placed): its bytes are out of everyone's
// reach until it is named.
func (s *LocalStore) CreateTemp(rel string) (*os.File, error) {
	s.procOnce.Do(func() {
		// An unnamed file is named through /proc/self/fd: without it (a
		// chroot, a bare container) each would be copied into place.
		if _, err := os.Stat("/proc/self/fd"); err != nil {
			s.noUnnamed.Store(true)
		}
	})
	if !s.noUnnamed.Load() {
		final := s.made0644()
		f, err := s.createBeside(rel, s.createIn(rel, final))
		if !errors.Is(err, errNoUnnamed) {
			return f, err
		}
		s.noUnnamed.Store(true)
	}
	return s.createBeside(rel, s.createNamedIn(rel))
}

// createBeside makes a file with create(target) in the directory of rel's
// target, creating and noting the directories that are missing, as
// CreateTemp does.
func (s *LocalStore) createBeside(rel string, create func(target string) (*os.File, error)) (*os.File, error) {
	target := s.abs(rel)
	if f, err := create(target); !errors.Is(err, fs.ErrNotExist) {
		// The directory exists (nothing to note), or the failure is not
		// a missing directory: one system call for the common case.
		if err != nil {
			return nil, fmt.Errorf("create temporary file for %s: %w", target, err)
		}
		return f, nil
	}
	var missing []string
	for d := path.Dir(rel); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if _, err := os.Lstat(s.abs(d)); err == nil {
			break
		}
		missing = append(missing, d)
	}
	dir := filepath.Dir(target)
	if s.beforeMkdir != nil {
		s.beforeMkdir()
	}
	// Each made in its parent opened with no symbolic link followed
	// under the working directory: a directory replaced by a link since
	// the checks (a checkout during a run) gets nothing made through it.
	err := unnamed.MkdirAll(s.dir, path.Dir(rel), 0o755)
	if errors.Is(err, unnamed.ErrUnsupported) {
		err = os.MkdirAll(dir, 0o755)
	}
	if errors.Is(err, unnamed.ErrSymlink) {
		return nil, fmt.Errorf("create directory %s: %w: nothing was made there; %s", dir, err, linkedDirHint)
	}
	if err != nil {
		return nil, fmt.Errorf("create directory %s: %w", dir, err)
	}
	// Noted before the file is made, so that a create that fails (an
	// unnamed file where the file system has none, whose caller then
	// tries a named one) leaves no directory that End would not remove.
	// The process lock keeps any other pixform out: what is now there
	// was made by this run's workers.
	if len(missing) > 0 {
		if err := s.noteDirs(missing); err != nil {
			return nil, fmt.Errorf("create temporary file for %s: %w", target, err)
		}
	}
	f, err := create(target)
	if err != nil {
		return nil, fmt.Errorf("create temporary file for %s: %w", target, err)
	}
	return f, nil
}

// noteDirs adds dirs to the note, with their device and inode. Each write
// is the whole note, so it is written when the directories this Store
// noted since the last write are as many as it noted before (its first at
// once, then at twice as many each time: a run that makes n directories
// writes the note about log₂ n times, not n times), and at End and Close.
// A kill in between (SIGKILL; an interrupt ends with Close) leaves those
// since un-noted, and so kept, as a lost note does: at most half of a
// run's new directories, never its first.
// A note that cannot be written (a .pixform that is not pixform's own
// directory) is an error, as it is at once for a run's first.
func (s *LocalStore) noteDirs(dirs []string) error {
	s.dirs.mu.Lock()
	defer s.dirs.mu.Unlock()
	s.dirs.load(s.dir)
	for _, d := range dirs {
		fi, err := lstatID(s.abs(d))
		if err != nil || !fi.IsDir() {
			continue
		}
		if id, ok := idOf(fi); ok && s.dirs.notes[d] != id {
			s.dirs.notes[d] = id
			s.dirs.unsaved++
			s.dirs.added++
		}
	}
	// Counted in this Store's own: a note that held many directories of
	// earlier runs does not hold back the first of this one.
	if s.dirs.unsaved == 0 || 2*s.dirs.unsaved < s.dirs.added {
		return nil
	}
	return s.dirs.save(s.dir)
}

// saveDirNotes writes the directories noted since the note was last
// written, if any. A note that cannot be written only keeps them.
func (s *LocalStore) saveDirNotes() {
	s.dirs.mu.Lock()
	defer s.dirs.mu.Unlock()
	if s.dirs.unsaved > 0 {
		s.dirs.save(s.dir)
	}
}

// removeEmptyDirs removes the noted directories that are empty, deepest
// first, and drops from the note those removed or gone. A noted directory
// reached through a symbolic link, or that is no longer the directory
// noted (device and inode), is dropped untouched. One that holds a file
// the user added (anything but a recorded output, a temporary file of
// pixform's or a noted directory) is dropped too and stays for good: it is
// the user's now, even once they empty it. Errors are ignored: an empty
// directory left behind is untidy but harmless. Once ctx is done the rest
// stays noted.
func (s *LocalStore) removeEmptyDirs(ctx context.Context) {
	s.dirs.mu.Lock()
	defer s.dirs.mu.Unlock()
	s.dirs.load(s.dir)
	if len(s.dirs.notes) == 0 {
		return
	}
	// Deepest first, so that a parent emptied by its child's removal goes
	// too.
	order := slices.SortedFunc(maps.Keys(s.dirs.notes), func(a, b string) int {
		if c := strings.Count(b, "/") - strings.Count(a, "/"); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	d := safepath.NewDisk(s.dir)
	changed := false
	for _, p := range order {
		if ctx.Err() != nil {
			break
		}
		ok, err := d.Dir(p)
		var fi os.FileInfo
		if err == nil && ok {
			fi, err = lstatID(s.abs(p))
		}
		if err != nil || !ok {
			delete(s.dirs.notes, p)
			changed = true
			continue
		}
		if id, ok := idOf(fi); !ok || id != s.dirs.notes[p] {
			delete(s.dirs.notes, p)
			changed = true
			continue
		}
		if err := os.Remove(s.abs(p)); err == nil {
			delete(s.dirs.notes, p)
			changed = true
			continue
		}
		if s.holdsUserFile(p) {
			delete(s.dirs.notes, p)
			changed = true
		}
	}
	if changed || s.dirs.unsaved > 0 {
		s.dirs.save(s.dir)
	}
}

// holdsUserFile reports whether the directory rel holds anything but
// recorded outputs, pixform's temporary files and noted directories. The
// caller holds s.dirs.mu.
func (s *LocalStore) holdsUserFile(rel string) bool {
	des, err := os.ReadDir(s.abs(rel))
	if err != nil {
		return false
	}
	for _, de := range des {
		p := rel + "/" + de.Name()
		switch {
		case IsTemp(de.Name()):
		case de.IsDir():
			if _, ok := s.dirs.notes[p]; !ok {
				return true
			}
		default:
			if _, ok := s.idx.recorded(p); !ok {
				return true
			}
		}
	}
	return false
}

// readDirNotes reads the note; none, or one of an older version, is no
// error. Every directory in it passes safepath.Check.
func readDirNotes(dir string) ([]dirNote, error) {
	var f dirsFile
	p, found, err := readNote(dir, dirsName, &f)
	if err != nil || !found || f.Version != dirsVersion {
		return nil, err
	}
	for _, d := range f.Dirs {
		if safepath.Check(d.Path) != nil {
			return nil, fmt.Errorf("%s notes an invalid directory %q", p, d.Path)
		}
	}
	return f.Dirs, nil
}
