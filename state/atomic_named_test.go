//go:build linux

package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// namedStore is a Store that makes named temporary files, as where the
// file system makes no unnamed ones.
func namedStore(dir string, j Journal) *LocalStore {
	s := NewStore(dir, NewLock(), j, nil)
	s.noUnnamed.Store(true)
	return s
}

// commitNamed commits f, a named temporary file of s, as the output rel.
func commitNamed(s *LocalStore, f *os.File, addr, rel string) error {
	e := entryN(1)
	e.Path = rel
	return s.Commit(context.Background(), Commit{Addr: addrs.MustParse(addr), Entry: e, Temp: f})
}

// Where the file system makes no unnamed file, the user moves the output
// directory outside the working directory while an image is rendered and
// leaves a symbolic link back to it: the named temporary file is not
// renamed through the link, so nothing is placed outside and nothing is
// recorded.
func TestNamedTempDirMovedOutside(t *testing.T) {
	for _, linkTo := range []string{"moved", "other"} {
		t.Run("link to "+linkTo, func(t *testing.T) {
			root := t.TempDir()
			dir, moved, other := filepath.Join(root, "work"), filepath.Join(root, "moved"), filepath.Join(root, "other")
			for _, d := range []string{filepath.Join(dir, "out"), other} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			j := &recordingJournal{}
			s := namedStore(dir, j)
			defer s.Close(context.Background())
			f, err := s.CreateTemp("out/a.png")
			if err != nil {
				t.Fatal(err)
			}
			if isUnnamed, _ := unnamedTemp(f.Name()); isUnnamed {
				t.Fatal("an unnamed file made where none was asked for")
			}
			if _, err := f.WriteString("paid"); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, "out"), moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(root, linkTo), filepath.Join(dir, "out")); err != nil {
				t.Fatal(err)
			}
			err = commitNamed(s, f, "image.a", "out/a.png")
			for _, d := range []string{moved, other} {
				if _, serr := os.Lstat(filepath.Join(d, "a.png")); serr == nil {
					t.Errorf("a.png placed in %s, outside the working directory (commit err %v, recorded %v)", d, err, j.recorded)
				}
			}
			if err == nil {
				t.Errorf("commit through a directory replaced by a link succeeded (recorded %v)", j.recorded)
			}
			if len(j.recorded) != 0 {
				t.Errorf("recorded %v for an image not placed", j.recorded)
			}
		})
	}
}

// Where the file system makes no unnamed file, the named temporary file
// is not made through an output directory that is a symbolic link.
func TestNamedTempRefusesLinkedDir(t *testing.T) {
	root := t.TempDir()
	dir, elsewhere := filepath.Join(root, "work"), filepath.Join(root, "elsewhere")
	for _, d := range []string{dir, elsewhere} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	s := namedStore(dir, nopJournal{})
	defer s.Close(context.Background())
	f, err := s.CreateTemp("out/a.png")
	if err == nil {
		AbortTemp(f)
		t.Errorf("CreateTemp through a linked directory succeeded")
	}
	if got := names(t, elsewhere); len(got) != 0 {
		t.Errorf("%s holds %q", elsewhere, got)
	}
}

// Where the file system makes no unnamed file, outputs are still placed
// (a new file, a replaced one, in a directory made for it), each named
// temporary file gone once placed.
func TestNamedTempPlaced(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out", "b.png"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	j := &recordingJournal{}
	s := namedStore(dir, j)
	defer s.Close(context.Background())
	for i, rel := range []string{"out/a.png", "out/b.png", "new/sub/c.png", "d.png"} {
		f, err := s.CreateTemp(rel)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(rel); err != nil {
			t.Fatal(err)
		}
		if err := commitNamed(s, f, "image.i"+string(rune('a'+i)), rel); err != nil {
			t.Fatalf("commit %s: %v", rel, err)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		got, err := os.ReadFile(p)
		if err != nil || string(got) != rel {
			t.Errorf("%s holds %q (%v), want %q", rel, got, err, rel)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", rel, fi.Mode().Perm())
		}
		for _, n := range names(t, filepath.Dir(p)) {
			if IsTemp(n) {
				t.Errorf("temporary file %s left beside %s", n, rel)
			}
		}
	}
	if len(j.recorded) != 4 {
		t.Errorf("recorded %v, want 4 entries", j.recorded)
	}
}
