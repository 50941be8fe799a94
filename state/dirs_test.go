package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// End removes the empty directories that the Store's CreateTemp made, and
// no other.
func TestStoreRemovesEmptyDirsItCreated(t *testing.T) {
	tests := map[string]struct {
		before  func(t *testing.T, dir string) // before the Store writes out
		out     string                         // the output written then removed
		after   func(t *testing.T, dir string) // after the output is removed
		gone    []string
		stay    []string
		noteLen int               // directories still noted afterwards
		lock    map[string]string // address → recorded path
	}{
		"created chain, now empty": {
			out:  "assets/icons/x.png",
			gone: []string{"assets/icons", "assets"},
		},
		"a parent the user made stays": {
			before: func(t *testing.T, dir string) { mkdir(t, dir, "assets") },
			out:    "assets/icons/x.png",
			gone:   []string{"assets/icons"},
			stay:   []string{"assets"},
		},
		"a created directory holding a user's file becomes theirs": {
			out:   "assets/icons/x.png",
			after: func(t *testing.T, dir string) { write(t, dir, "assets/notes.txt") },
			gone:  []string{"assets/icons"},
			stay:  []string{"assets", "assets/notes.txt"},
		},
		"a created directory holding a user's directory becomes theirs": {
			out:   "assets/icons/x.png",
			after: func(t *testing.T, dir string) { mkdir(t, dir, "assets/mine") },
			gone:  []string{"assets/icons"},
			stay:  []string{"assets", "assets/mine"},
		},
		"a created directory holding a recorded output stays noted": {
			out:     "assets/icons/x.png",
			lock:    map[string]string{"image.y": "assets/y.png"},
			after:   func(t *testing.T, dir string) { write(t, dir, "assets/y.png") },
			gone:    []string{"assets/icons"},
			stay:    []string{"assets", "assets/y.png"},
			noteLen: 1,
		},
		"a directory replaced by another of the same name is not removed": {
			out: "assets/icons/x.png",
			after: func(t *testing.T, dir string) {
				// The old directories stay in use elsewhere, so that
				// their inode numbers are not reused.
				if err := os.Rename(filepath.Join(dir, "assets"), filepath.Join(dir, "old")); err != nil {
					t.Fatal(err)
				}
				mkdir(t, dir, "assets/icons")
			},
			stay: []string{"assets/icons", "old/icons"},
		},
		"a directory replaced by a symbolic link is not followed": {
			out: "assets/icons/x.png",
			after: func(t *testing.T, dir string) {
				mkdir(t, dir, "elsewhere/empty")
				if err := os.RemoveAll(filepath.Join(dir, "assets")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("elsewhere", filepath.Join(dir, "assets")); err != nil {
					t.Fatal(err)
				}
			},
			stay: []string{"assets", "elsewhere/empty"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.before != nil {
				tc.before(t, dir)
			}
			lock := NewLock()
			for a, p := range tc.lock {
				e := entryN(0)
				e.Path = p
				lock.Images[addrs.MustParse(a)] = e
			}
			s := NewStore(dir, lock, NewRecorder(filepath.Join(dir, LockFileName), lock), nil)
			defer s.Close(context.Background())
			f, err := s.CreateTemp(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			AbortTemp(f)
			if tc.after != nil {
				tc.after(t, dir)
			}
			if err := s.Begin(context.Background(), nil, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.End(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.gone {
				if _, err := os.Lstat(filepath.Join(dir, p)); !os.IsNotExist(err) {
					t.Errorf("%s: still there (%v)", p, err)
				}
			}
			for _, p := range tc.stay {
				if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			notes, err := readDirNotes(dir)
			if err != nil || len(notes) != tc.noteLen {
				t.Errorf("notes left: %v (%v), want %d", notes, err, tc.noteLen)
			}
		})
	}
}

// A note naming a path outside the working directory is refused whole.
func TestDirNotesRefuseUnsafePaths(t *testing.T) {
	for _, bad := range []string{"..", "../x", "/etc", ".pixform", "a/../../b", "."} {
		t.Run(bad, func(t *testing.T) {
			dir := t.TempDir()
			f := dirsFile{Version: dirsVersion, Dirs: []dirNote{{Path: "ok"}, {Path: bad}}}
			if err := writeNote(dir, dirsName, f, false); err != nil {
				t.Fatal(err)
			}
			if _, err := readDirNotes(dir); err == nil {
				t.Errorf("note with %q accepted", bad)
			}
		})
	}
}

func mkdir(t *testing.T, dir, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(rel)), 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, rel string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A directory note that did not come from this checkout's apply removes
// nothing: its directories are not the ones noted (device and inode).
func TestDirNotesFromElsewhere(t *testing.T) {
	for name, note := range map[string]string{
		"version 1":           `{"version": 1, "dirs": ["emptydir", ".git/refs/tags"]}`,
		"no inode":            `{"version": 2, "dirs": [{"path": "emptydir"}, {"path": ".git/refs/tags"}]}`,
		"another dir's inode": `{"version": 2, "dirs": [{"path": "emptydir", "dev": DEV, "ino": INO}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			mkdir(t, dir, "emptydir")
			mkdir(t, dir, ".git/refs/tags")
			mkdir(t, dir, "other")
			mkdir(t, dir, WorkDirName)
			fi, err := os.Lstat(filepath.Join(dir, "other"))
			if err != nil {
				t.Fatal(err)
			}
			id, _ := idOf(fi)
			note = strings.NewReplacer("DEV", fmt.Sprint(id.Dev), "INO", fmt.Sprint(id.Ino)).Replace(note)
			if err := os.WriteFile(filepath.Join(dir, WorkDirName, dirsName), []byte(note), 0o644); err != nil {
				t.Fatal(err)
			}
			s := NewStore(dir, NewLock(), nopJournal{}, nil)
			if err := s.Begin(context.Background(), nil, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.End(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"emptydir", ".git/refs/tags", "other"} {
				if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
		})
	}
}

// BenchmarkCreateTempNewDirs writes 500 outputs, each in a directory of its
// own that the Store creates and notes.
func BenchmarkCreateTempNewDirs(b *testing.B) {
	for b.Loop() {
		dir := b.TempDir()
		s := NewStore(dir, NewLock(), nopJournal{}, nil)
		for i := range 500 {
			f, err := s.CreateTemp(fmt.Sprintf("d%d/x.png", i))
			if err != nil {
				b.Fatal(err)
			}
			AbortTemp(f)
		}
	}
}

// TestDirNotesWrittenFewTimes: a run that makes many new directories
// writes the note of them a few times, not once a directory (each write
// is the whole note: a pull or apply into a fresh tree of 3,000
// directories took five times as long), and the note holds every one of
// them once the Store closes.
func TestDirNotesWrittenFewTimes(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir, NewLock(), nopJournal{}, nil)
	const n = 200
	for i := range n {
		f, err := s.CreateTemp(fmt.Sprintf("d%d/e/a.png", i))
		if err != nil {
			t.Fatal(err)
		}
		s.AbortTemp(f)
	}
	if saves := s.dirs.saves; saves > 20 {
		t.Errorf("the note of %d new directories was written %d times", 2*n, saves)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	notes, err := readDirNotes(dir)
	if err != nil || len(notes) != 2*n {
		t.Errorf("the note holds %d directories after Close (%v), want %d", len(notes), err, 2*n)
	}
}

// TestCreateTempMakesNoDirThroughLink: the directory of an output that is
// missing is made with no symbolic link followed: a directory replaced by
// a link to one outside between the checks and the making (a checkout
// during a run) gets nothing made through it, and the error says what
// to do.
func TestCreateTempMakesNoDirThroughLink(t *testing.T) {
	parent := t.TempDir()
	dir, outside := filepath.Join(parent, "wd"), filepath.Join(parent, "outside")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := NewStore(dir, NewLock(), nopJournal{}, nil)
	defer s.Close(context.Background())
	s.beforeMkdir = func() {
		if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
			t.Fatal(err)
		}
	}
	f, err := s.CreateTemp("out/sub/a.png")
	if err == nil {
		s.AbortTemp(f)
		t.Fatal("CreateTemp through a link: no error")
	}
	for _, want := range []string{"symbolic link", "run the command again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CreateTemp's error %q does not say %q", err, want)
		}
	}
	if des, _ := os.ReadDir(outside); len(des) != 0 {
		t.Errorf("made outside the working directory through the link: %v", des)
	}
}

// TestDirNotesRunsFirstAtOnce: a run's first new directories are noted
// on disk at once, even where the note already holds many of earlier
// runs: a run killed then (no End, no Close) has them noted, and the next
// run's End removes them once empty.
func TestDirNotesRunsFirstAtOnce(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir, NewLock(), nopJournal{}, nil)
	for i := range 10 {
		f, err := s.CreateTemp(fmt.Sprintf("old%d/a.png", i))
		if err != nil {
			t.Fatal(err)
		}
		s.AbortTemp(f)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	killed := NewStore(dir, NewLock(), nopJournal{}, nil)
	f, err := killed.CreateTemp("p/q/r/a.png")
	if err != nil {
		t.Fatal(err)
	}
	killed.AbortTemp(f) // and no Close: killed
	notes, err := readDirNotes(dir)
	if err != nil {
		t.Fatal(err)
	}
	noted := map[string]bool{}
	for _, n := range notes {
		noted[n.Path] = true
	}
	for _, d := range []string{"p", "p/q", "p/q/r"} {
		if !noted[d] {
			t.Errorf("%s, made by a run then killed, is not in the note", d)
		}
	}
}
