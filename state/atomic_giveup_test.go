//go:build linux

package state

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// Where the file system makes no unnamed file, the output directory is
// moved outside the working directory while an image is written (mv out
// ../archive), and something else is put at its path holding a file of
// the temporary file's very name: a symbolic link to another directory
// outside, or a new directory. The image is then given up, by its owner
// or by a put-back whose source fails: its temporary file is removed
// from the directory it was made in, now outside, at once; the file of
// the same name at the directory's path, which is not pixform's, is
// left as it was, and no directory stays open.
func TestNamedTempGivenUpAfterDirReplaced(t *testing.T) {
	type giveUp struct {
		name string
		// run makes a temporary file for out/a.png in s, calls swap
		// with its base name, and gives the file up.
		run func(t *testing.T, s *LocalStore, swap func(base string))
	}
	ways := []giveUp{
		{"by its owner", func(t *testing.T, s *LocalStore, swap func(string)) {
			f, err := s.CreateTemp("out/a.png")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("not an image"); err != nil {
				t.Fatal(err)
			}
			swap(filepath.Base(f.Name()))
			s.AbortTemp(f)
		}},
		{"by a put-back whose source fails", func(t *testing.T, s *LocalStore, swap func(string)) {
			a := addrs.MustParse("image.a")
			e := putBackEntry("out/a.png", pngBytes)
			lock := NewLock()
			lock.Images[a] = e
			s.idx = newPathIndex(lock)
			errSource := errors.New("the source failed")
			err := s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: func(w io.Writer) error {
				swap(filepath.Base(w.(*checkedWriter).f.Name()))
				return errSource
			}})
			if !errors.Is(err, errSource) {
				t.Fatalf("PutBack: %v, want the source's error", err)
			}
		}},
	}
	for _, how := range ways {
		for _, with := range []string{"a link to another directory", "a new directory"} {
			t.Run(how.name+", out replaced by "+with, func(t *testing.T) {
				m := newMovingOut(t)
				other := filepath.Join(filepath.Dir(m.dir), "other")
				var theirs string // the file of the temporary name that is not ours
				how.run(t, m.s, func(base string) {
					if err := os.Rename(m.out, m.archive); err != nil {
						t.Fatal(err)
					}
					at := m.out
					if with == "a link to another directory" {
						at = other
						if err := os.Symlink(other, m.out); err != nil {
							t.Fatal(err)
						}
					}
					if err := os.Mkdir(at, 0o755); err != nil {
						t.Fatal(err)
					}
					theirs = filepath.Join(at, base)
					if err := os.WriteFile(theirs, []byte("not pixform's"), 0o644); err != nil {
						t.Fatal(err)
					}
				})
				if b, err := os.ReadFile(theirs); err != nil || string(b) != "not pixform's" {
					t.Errorf("%s, not pixform's file, was removed or changed by the give-up: %q, %v", theirs, b, err)
				}
				if stray := temps(t, m.archive); len(stray) > 0 {
					t.Errorf("the temporary file given up is left where it was made, in %s: %q", m.archive, stray)
				}
				if n := kept(m.s); n != 0 {
					t.Errorf("%d directories kept for a file given up", n)
				}
			})
		}
	}
}

// TestNamedTempLeftAtClose: a named temporary file neither placed nor
// given up when its Store closes is removed from the directory it was
// made in then (closing the directory would lose where it is), and a
// give-up after the close does nothing more.
func TestNamedTempLeftAtClose(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := namedStore(dir, &recordingJournal{})
	f, err := s.CreateTemp("out/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stray := temps(t, filepath.Join(dir, "out")); len(stray) > 0 {
		t.Errorf("left after the Store closed: %q", stray)
	}
	s.AbortTemp(f)
	if stray := temps(t, filepath.Join(dir, "out")); len(stray) > 0 {
		t.Errorf("left after AbortTemp following Close: %q", stray)
	}
}
