package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
		noteLen int // directories still noted afterwards
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
		"a created directory holding another file stays noted": {
			out:     "assets/icons/x.png",
			after:   func(t *testing.T, dir string) { write(t, dir, "assets/notes.txt") },
			gone:    []string{"assets/icons"},
			stay:    []string{"assets", "assets/notes.txt"},
			noteLen: 1,
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
			s := NewStore(dir, NewLock(), NewRecorder(filepath.Join(dir, LockFileName), NewLock()), nil)
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
			if err := writeDirNotes(filepath.Join(dir, WorkDirName, dirsName), []string{"ok", bad}); err != nil {
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
