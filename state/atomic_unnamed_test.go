//go:build linux

package state

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// names lists the names in dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// A Store's temporary file has no name until it is placed: a process
// killed while it writes the image leaves nothing beside the output.
// Placed, it is the whole file at its target, mode 0644, with no other
// name left, whether the target was free or held an older file; aborted,
// it leaves nothing, and removes no file that happens to bear the name it
// goes by in messages.
func TestStoreTempIsUnnamed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		prior bool // a file is at the target already
	}{{"free target", false}, {"replaced target", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := NewStore(dir, NewLock(), nopJournal{}, nil)
			img := filepath.Join(dir, "img")
			target := filepath.Join(img, "a.png")
			if tc.prior {
				if err := os.MkdirAll(img, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f, err := s.CreateTemp("img/a.png")
			if err != nil {
				t.Fatal(err)
			}
			if unnamed, _ := unnamedTemp(f.Name()); !unnamed {
				if s.noUnnamed.Load() {
					t.Skip("this file system makes no unnamed files")
				}
				t.Fatalf("CreateTemp made %s, a named file", f.Name())
			}
			want := []string{}
			if tc.prior {
				want = []string{"a.png"}
			}
			if got := names(t, img); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("while the image is written, %s holds %q, want %q", img, got, want)
			}
			if _, err := f.WriteString("new bytes"); err != nil {
				t.Fatal(err)
			}
			if err := PlaceTemp(f, target); err != nil {
				t.Fatal(err)
			}
			if got := names(t, img); !slices.Equal(got, []string{"a.png"}) {
				t.Errorf("after PlaceTemp, %s holds %q", img, got)
			}
			b, err := os.ReadFile(target)
			if err != nil || string(b) != "new bytes" {
				t.Errorf("target holds %q, %v", b, err)
			}
			if info, err := os.Stat(target); err != nil || (s.made0644() && info.Mode().Perm() != 0o644) {
				t.Errorf("target: %v, %v; want mode 0644", info.Mode(), err)
			}
		})
	}
	t.Run("abort", func(t *testing.T) {
		dir := t.TempDir()
		s := NewStore(dir, NewLock(), nopJournal{}, nil)
		f, err := s.CreateTemp("b.png")
		if err != nil {
			t.Fatal(err)
		}
		// A file of the same name, made by someone else.
		if err := os.WriteFile(f.Name(), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		AbortTemp(f)
		if _, err := os.Stat(f.Name()); err != nil {
			t.Errorf("AbortTemp of an unnamed file removed %s: %v", f.Name(), err)
		}
		if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("AbortTemp left the file open: %v", err)
		}
	})
}

// LinkTemp names an unnamed temporary file a second time (the content
// cache's link of a take not yet placed, in the cache's directory), and
// the file keeps its offset.
func TestLinkTempUnnamed(t *testing.T) {
	dir := t.TempDir()
	f, err := openUnnamedTemp(filepath.Join(dir, "a.png"), false)
	if errors.Is(err, errNoUnnamed) {
		t.Skip("this file system makes no unnamed files")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("bytes"); err != nil {
		t.Fatal(err)
	}
	// In another directory, as the content cache is.
	if err := os.Mkdir(filepath.Join(dir, "cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "cache", "cached.png")
	if err := LinkTemp(f, other); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != "bytes" {
		t.Errorf("%s holds %q, %v", other, b, err)
	}
	if err := LinkTemp(f, other); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second LinkTemp to the same name: %v, want fs.ErrExist", err)
	}
	if _, err := f.WriteString("+"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(other); string(b) != "bytes+" {
		t.Errorf("after a further write, %q", b)
	}
}

// Where an unnamed file cannot be linked, its bytes are copied into a
// named temporary file renamed into place, with mode 0644 and no name
// left behind.
func TestCopyIntoPlace(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.png")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := openUnnamedTemp(target, false)
	if errors.Is(err, errNoUnnamed) {
		t.Skip("this file system makes no unnamed files")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("whole image"); err != nil {
		t.Fatal(err)
	}
	if err := copyIntoPlace(f, target, true); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "whole image" {
		t.Errorf("target holds %q, %v", b, err)
	}
	if info, _ := os.Stat(target); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", info.Mode())
	}
	if got := names(t, dir); !slices.Equal(got, []string{"a.png"}) {
		t.Errorf("%s holds %q", dir, got)
	}
}

// An unnamed file is named only in the directory it was made in. Should
// that directory be moved, or replaced by a symlink to somewhere outside
// (a checkout during an apply), while the image is written, neither
// placing it nor putting it back writes through the new path: the
// output is refused, and nothing appears outside or in the moved
// directory.
func TestUnnamedTempRefusesAReplacedDirectory(t *testing.T) {
	for _, how := range []string{"symlink outside", "new directory"} {
		for _, via := range []string{"PlaceTemp", "PutBack"} {
			t.Run(how+"/"+via, func(t *testing.T) {
				dir, outside := t.TempDir(), t.TempDir()
				out := filepath.Join(dir, "out")
				target := filepath.Join(out, "a.png")
				// swap moves out away while its image is written, and
				// puts a symlink or a new directory in its place.
				swap := func() {
					if err := os.Rename(out, out+".moved"); err != nil {
						t.Fatal(err)
					}
					var err error
					if how == "symlink outside" {
						err = os.Symlink(outside, out)
					} else {
						err = os.Mkdir(out, 0o755)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				var err error
				if via == "PlaceTemp" {
					s := NewStore(dir, NewLock(), nopJournal{}, nil)
					f, cerr := s.CreateTemp("out/a.png")
					if cerr != nil {
						t.Fatal(cerr)
					}
					if unnamed, _ := unnamedTemp(f.Name()); !unnamed {
						AbortTemp(f)
						t.Skip("this file system makes no unnamed files")
					}
					if _, err := f.WriteString("image"); err != nil {
						t.Fatal(err)
					}
					swap()
					err = PlaceTemp(f, target)
				} else {
					a := addrs.MustParse("image.a")
					e := putBackEntry("out/a.png", pngBytes)
					lock := NewLock()
					lock.Images[a] = e
					s := NewStore(dir, lock, nopJournal{}, nil)
					err = s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: func(w io.Writer) error {
						if unnamed, _ := unnamedTemp(w.(*checkedWriter).f.Name()); !unnamed {
							t.Skip("this file system makes no unnamed files")
						}
						if _, err := w.Write(pngBytes); err != nil {
							return err
						}
						swap()
						return nil
					}})
				}
				if !errors.Is(err, errDirChanged) {
					t.Errorf("placing the file: %v, want errDirChanged", err)
				}
				for _, d := range []string{outside, out, out + ".moved"} {
					if got := names(t, d); len(got) != 0 {
						t.Errorf("%s holds %q, want nothing", d, got)
					}
				}
			})
		}
	}
}

// An image whose directory is removed while it is rendered (an unnamed
// file gives the directory no entry) and replaced by a symbolic link to
// a directory outside the working directory is not placed through that
// link: the commit fails, nothing is written outside, and the entry is
// not recorded.
func TestStoreCommitDirSwappedForLink(t *testing.T) {
	root := t.TempDir()
	dir, elsewhere := filepath.Join(root, "work"), filepath.Join(root, "elsewhere")
	for _, d := range []string{filepath.Join(dir, "out"), elsewhere} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	j := &recordingJournal{}
	s := NewStore(dir, NewLock(), j, nil)
	f, err := s.CreateTemp("out/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if isUnnamed, _ := unnamedTemp(f.Name()); !isUnnamed {
		t.Skip("this file system makes no unnamed files")
	}
	if _, err := f.WriteString("image"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	e := entryN(1)
	e.Path = "out/a.png"
	err = s.Commit(context.Background(), Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f})
	if err == nil {
		t.Errorf("Commit through a directory swapped for a link succeeded")
	}
	if got := names(t, elsewhere); len(got) != 0 {
		t.Errorf("%s holds %q, written through the link", elsewhere, got)
	}
	if len(j.recorded) != 0 {
		t.Errorf("recorded %v for an image not placed", j.recorded)
	}
}

// A Store makes no output's file through a directory that is a symbolic
// link (put there after the plan checked the path, say): the error says
// so, and nothing is made where the link leads.
func TestStoreCreateTempRefusesLinkedDir(t *testing.T) {
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
	s := NewStore(dir, NewLock(), nopJournal{}, nil)
	defer s.Close(context.Background())
	f, err := s.CreateTemp("out/a.png")
	if err == nil {
		if isUnnamed, _ := unnamedTemp(f.Name()); !isUnnamed {
			AbortTemp(f)
			t.Skip("this file system makes no unnamed files")
		}
		f.Close()
		t.Fatal("CreateTemp through a linked directory succeeded")
	}
	if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error %q does not name the symbolic link", err)
	}
	if got := names(t, elsewhere); len(got) != 0 {
		t.Errorf("%s holds %q", elsewhere, got)
	}
}
