package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/pixform/pixform/internal/safepath"
)

// dirsName is the note, inside .pixform/, of the output directories that
// pixform created: the only directories it ever removes, once empty.
const dirsName = "dirs.json"

type dirsFile struct {
	Version int      `json:"version"`
	Dirs    []string `json:"dirs"`
}

// dirNotes serializes the Store's reads and writes of the note.
type dirNotes struct {
	mu sync.Mutex
}

// CreateTemp makes a temporary file for the output at rel (relative,
// slash-separated) in its directory, as the package-level CreateTemp does,
// and notes durably the directories it had to create, so that End can
// remove them once they are empty. A directory is noted after it is made:
// a crash in between leaves it un-noted, and so kept.
func (s *LocalStore) CreateTemp(rel string) (*os.File, error) {
	target := s.abs(rel)
	var missing []string
	for d := path.Dir(rel); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if _, err := os.Lstat(s.abs(d)); err == nil {
			break
		}
		missing = append(missing, d)
	}
	f, err := CreateTemp(target)
	if err != nil || len(missing) == 0 {
		return f, err
	}
	// The process lock keeps any other pixform out: what is now there
	// was made by this run's workers.
	if err := s.noteDirs(missing); err != nil {
		AbortTemp(f)
		return nil, fmt.Errorf("create temporary file for %s: %w", target, err)
	}
	return f, nil
}

// noteDirs adds dirs to the note, atomically and durably.
func (s *LocalStore) noteDirs(dirs []string) error {
	s.dirs.mu.Lock()
	defer s.dirs.mu.Unlock()
	old, _ := readDirNotes(s.dir) // an unreadable note is replaced: its directories stay
	all := slices.Compact(slices.Sorted(slices.Values(append(old, dirs...))))
	if slices.Equal(all, old) {
		return nil
	}
	wd, err := EnsureWorkDir(s.dir)
	if err != nil {
		return err
	}
	return writeDirNotes(filepath.Join(wd, dirsName), all)
}

// removeEmptyDirs removes the noted directories that are empty, deepest
// first, and drops from the note those removed or gone. A directory that
// holds anything stays noted; one reached through a symbolic link is
// dropped untouched. Errors are ignored: an empty directory left behind
// is untidy but harmless.
func (s *LocalStore) removeEmptyDirs() {
	s.dirs.mu.Lock()
	defer s.dirs.mu.Unlock()
	notes, err := readDirNotes(s.dir)
	if err != nil || len(notes) == 0 {
		return
	}
	// Deepest first, so that a parent emptied by its child's removal goes
	// too.
	slices.SortFunc(notes, func(a, b string) int {
		if c := strings.Count(b, "/") - strings.Count(a, "/"); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	d := safepath.NewDisk(s.dir)
	var keep []string
	for _, p := range notes {
		ok, err := d.Dir(p)
		if err != nil || !ok {
			continue
		}
		if err := os.Remove(s.abs(p)); err != nil {
			keep = append(keep, p) // not empty (or not ours to judge): stays
		}
	}
	file := filepath.Join(s.dir, WorkDirName, dirsName)
	if len(keep) == 0 {
		os.Remove(file)
		return
	}
	slices.Sort(keep)
	if !slices.Equal(keep, slices.Sorted(slices.Values(notes))) {
		writeDirNotes(file, keep)
	}
}

func writeDirNotes(p string, dirs []string) error {
	data, err := json.MarshalIndent(dirsFile{Version: 1, Dirs: dirs}, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(p, append(data, '\n')); err != nil {
		return fmt.Errorf("note the directories pixform created in %s: %w", p, err)
	}
	return nil
}

// readDirNotes reads the note; none is no error. Every directory in it
// passes safepath.Check.
func readDirNotes(dir string) ([]string, error) {
	p := filepath.Join(dir, WorkDirName, dirsName)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	var f dirsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("%s is not a pixform directory note (%v)", p, err)
	}
	for _, d := range f.Dirs {
		if safepath.Check(d) != nil {
			return nil, fmt.Errorf("%s notes an invalid directory %q", p, d)
		}
	}
	return f.Dirs, nil
}
