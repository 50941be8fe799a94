package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// TestLeftoverJudgedByItsBytes: an apply killed between placing an image
// at a.png and recording it leaves a file that no entry records, at a
// path its placing note names. The next apply writes over it only while
// it is an image pixform made (a render the content cache holds, or the
// bytes the note records as placed there): a file the user put there
// since (a new file, or the leftover edited in place) is refused, as
// LeftBehind tells the plan, and stays as it is; so is the leftover once
// nothing says that its bytes are pixform's (no content cache).
func TestLeftoverJudgedByItsBytes(t *testing.T) {
	leftover := []byte("the render the killed run placed")
	mine := []byte("my own picture")
	for name, tc := range map[string]struct {
		// cached puts the leftover's render in the content cache, as the
		// killed run did before it placed it; noted records its hash in
		// the note as placed (an End that could not record it).
		cached, noted bool
		// user changes a.png after the kill: "" leaves it.
		user     func(t *testing.T, p string)
		replaced bool
	}{
		"the leftover, its render cached":       {cached: true, replaced: true},
		"the leftover, noted as placed":         {noted: true, replaced: true},
		"the leftover, no content cache":        {},
		"the user's file (a new inode), cached": {cached: true, user: replaceFile(mine)},
		"the user's file (a new inode), noted":  {noted: true, user: replaceFile(mine)},
		"edited in place, cached":               {cached: true, user: editInPlace(mine)},
		"edited in place, noted":                {noted: true, user: editInPlace(mine)},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			p := filepath.Join(dir, "a.png")
			killed := NewStore(dir, NewLock(), &recordingJournal{}, nil)
			if err := killed.Begin(ctx, []string{"a.png"}, nil); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, leftover, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.cached {
				c := OpenCache(dir)
				if err := c.Put(entryN(1).Inputs.Digest(), "imagine", p, sha(string(leftover))); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			if tc.noted {
				note, _ := readPlacing(dir)
				if err := notePlacing(dir, nil, placingFile{Paths: note.Paths, Placed: map[string]string{"a.png": sha(string(leftover))}}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.user != nil {
				tc.user(t, p)
			}
			before, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}

			_, left, err := LeftBehind(dir, NewLock())
			if err != nil {
				t.Fatal(err)
			}
			if got := left.Holds("a.png", sha(string(before))); got != tc.replaced {
				t.Errorf("LeftBehind: Holds(a.png, the file's hash) = %v, want %v", got, tc.replaced)
			}

			s := NewStore(dir, NewLock(), &recordingJournal{}, OpenCache(dir))
			defer s.Close(ctx)
			if err := s.Begin(ctx, []string{"a.png"}, nil); err != nil {
				t.Fatal(err)
			}
			image := []byte("the next run's image")
			f, err := s.CreateTemp("a.png")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(image); err != nil {
				t.Fatal(err)
			}
			e := entryN(2)
			e.Path, e.SHA256, e.Bytes = "a.png", sha(string(image)), int64(len(image))
			err = s.Commit(ctx, Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f, Cache: true})
			var oe *OccupiedError
			if refused := errors.As(err, &oe); refused == tc.replaced {
				t.Fatalf("Commit: %v, want refused %v", err, !tc.replaced)
			}
			if tc.replaced && err != nil {
				t.Fatal(err)
			}
			// The refusal says that an interrupted apply was writing
			// there: the file may be its leftover, no longer known.
			if !tc.replaced && (!oe.Noted || !strings.Contains(oe.Error(), "at a path an interrupted apply was writing, but its bytes are not an image pixform knows it made")) {
				t.Errorf("Commit: %v (Noted %v), want it to say that an interrupted apply was writing there", err, oe.Noted)
			}
			want := before
			if tc.replaced {
				want = image
			}
			if got, _ := os.ReadFile(p); string(got) != string(want) {
				t.Errorf("a.png holds %q, want %q", got, want)
			}
		})
	}
}

// replaceFile puts a new file of data at p (another inode), as an editor
// that saves to a new file and renames it does.
func replaceFile(data []byte) func(t *testing.T, p string) {
	return func(t *testing.T, p string) {
		t.Helper()
		tmp := p + ".new"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
}

// editInPlace writes data into the file at p (the same inode).
func editInPlace(data []byte) func(t *testing.T, p string) {
	return func(t *testing.T, p string) {
		t.Helper()
		before, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		after, err := os.Lstat(p)
		if err != nil || !os.SameFile(before, after) {
			t.Fatalf("edited in place, yet another file: %v", err)
		}
	}
}

// failJournal fails every lockfile write.
type failJournal struct{ nopJournal }

func (failJournal) Record(context.Context, []addrs.Addr, map[addrs.Addr]Entry) error {
	return errors.New("disk full")
}

// TestEndNotesUnrecordedImages: an apply that placed an image and could
// not record it (its lockfile write failed) notes, at End, the image's
// hash as placed at its path, so that the next apply takes a file of
// those bytes there for its leftover though no content cache holds them
// (a draft render is not cached), and any other file for the user's.
func TestEndNotesUnrecordedImages(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := NewStore(dir, NewLock(), failJournal{}, nil)
	if err := s.Begin(ctx, []string{"a.png", "b.png"}, nil); err != nil {
		t.Fatal(err)
	}
	image := []byte("an image never recorded")
	f, err := s.CreateTemp("a.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(image); err != nil {
		t.Fatal(err)
	}
	e := entryN(1)
	e.Path, e.SHA256, e.Bytes = "a.png", sha(string(image)), int64(len(image))
	var re *RecordError
	if err := s.Commit(ctx, Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f}); !errors.As(err, &re) {
		t.Fatalf("Commit: %v, want a *RecordError", err)
	}
	if err := s.End(ctx); err != nil {
		t.Fatal(err)
	}
	note, ok := readPlacing(dir)
	if !ok || len(note.Paths) != 1 || note.Placed["a.png"] != e.SHA256 {
		t.Fatalf("note after End = %+v (%v), want a.png alone, placed with %s", note, ok, e.SHA256)
	}
	_, left, err := LeftBehind(dir, NewLock())
	if err != nil {
		t.Fatal(err)
	}
	if !left.Holds("a.png", e.SHA256) {
		t.Errorf("Holds(a.png, the image's hash) = false, want true")
	}
	if left.Holds("a.png", sha("my own picture")) {
		t.Errorf("Holds(a.png, another hash) = true, want false")
	}
}
