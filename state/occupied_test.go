package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// A Commit to a path that no entry records, where a file is that the plan
// did not see (made since, or a plan file edited), refuses to overwrite
// it: an *OccupiedError naming it, the file as it was, nothing recorded,
// and the image kept in the content cache. A file of the very bytes is
// replaced by them, which changes nothing. Unnamed and named temporary
// files alike.
func TestStoreCommitRefusesAFileNoEntryRecords(t *testing.T) {
	image := []byte("the rendered image")
	sum := sha256.Sum256(image)
	hexSum := hex.EncodeToString(sum[:])
	for _, named := range []bool{false, true} {
		for name, tc := range map[string]struct {
			there   []byte // at the path before the commit; nil: a directory
			refused bool
			// failed: another error (the rename's own).
			failed bool
		}{
			"someone's file":       {there: []byte("my own picture"), refused: true},
			"a directory":          {failed: true},
			"the very bytes":       {there: image},
			"nothing there at all": {},
		} {
			t.Run(map[bool]string{false: "unnamed ", true: "named "}[named]+name, func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, "out", "a.png")
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				switch {
				case tc.there != nil:
					if err := os.WriteFile(p, tc.there, 0o644); err != nil {
						t.Fatal(err)
					}
				case name == "a directory":
					if err := os.Mkdir(p, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				j := &recordingJournal{}
				cache := OpenCache(dir)
				s := NewStore(dir, NewLock(), j, cache)
				s.noUnnamed.Store(named)
				defer s.Close(context.Background())
				f, err := s.CreateTemp("out/a.png")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Write(image); err != nil {
					t.Fatal(err)
				}
				e := entryN(1)
				e.Path, e.SHA256, e.Bytes = "out/a.png", hexSum, int64(len(image))
				err = s.Commit(context.Background(), Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f, Cache: true})
				var oe *OccupiedError
				if got := errors.As(err, &oe); got != tc.refused {
					t.Fatalf("Commit: %v, want refused %v", err, tc.refused)
				}
				if tc.failed {
					if err == nil {
						t.Fatal("Commit over a directory succeeded")
					}
					if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
						t.Errorf("the directory at %s is gone: %v", p, err)
					}
					return
				}
				if !tc.refused {
					if err != nil {
						t.Fatal(err)
					}
					if b, err := os.ReadFile(p); err != nil || string(b) != string(image) {
						t.Fatalf("%s holds %q (%v), want the image", p, b, err)
					}
					return
				}
				if oe.Path != "out/a.png" {
					t.Errorf("the error names %q, want out/a.png", oe.Path)
				}
				if b, err := os.ReadFile(p); err != nil || string(b) != string(tc.there) {
					t.Errorf("%s holds %q (%v), want what was there", p, b, err)
				}
				if len(j.recorded) != 0 {
					t.Errorf("recorded %v", j.recorded)
				}
				if !oe.Kept || !cache.Has(e.Inputs.Digest(), e.Provider) {
					t.Errorf("the image is not kept in the content cache (kept %v)", oe.Kept)
				}
				noTemps(t, filepath.Dir(p))
			})
		}
	}
}

// noTemps fails when a temporary file of pixform's is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if IsTemp(de.Name()) {
			t.Errorf("temporary file %s left", de.Name())
		}
	}
}

// An apply killed after placing an image and before recording it leaves a
// file no entry records, at a path its note names: the next apply's
// commit replaces it (its bytes are a render the content cache holds:
// TestLeftoverJudgedByItsBytes), and the note names it for the next
// plan. The note
// of another checkout (copied in) names nothing, and a clean End drops
// the note.
func TestStoreCommitReplacesALeftover(t *testing.T) {
	for _, foreign := range []bool{false, true} {
		t.Run(map[bool]string{false: "this checkout's note", true: "a note from elsewhere"}[foreign], func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			killed := NewStore(dir, NewLock(), &recordingJournal{}, nil)
			if err := killed.Begin(ctx, []string{"a.png"}, nil); err != nil {
				t.Fatal(err)
			}
			// The kill: a.png placed, never recorded, no End; its render
			// in the content cache, where it went before it was placed.
			left := filepath.Join(dir, "a.png")
			if err := os.WriteFile(left, []byte("placed by the killed run"), 0o644); err != nil {
				t.Fatal(err)
			}
			c := OpenCache(dir)
			if err := c.Put(entryN(1).Inputs.Digest(), "imagine", left, sha("placed by the killed run")); err != nil {
				t.Fatal(err)
			}
			c.Close()
			if foreign {
				// The same note in a .pixform made anew (another inode).
				wd := filepath.Join(dir, WorkDirName)
				note, err := os.ReadFile(filepath.Join(wd, placingName))
				if err != nil {
					t.Fatal(err)
				}
				// Renamed away, not removed, so that its inode stays taken.
				if err := os.Rename(wd, filepath.Join(dir, "old-workdir")); err != nil {
					t.Fatal(err)
				}
				if _, err := EnsureWorkDir(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(wd, placingName), note, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := notedPaths(dir)["a.png"]; got == foreign {
				t.Errorf("Leftovers names a.png: %v, want %v", got, !foreign)
			}
			s := NewStore(dir, NewLock(), &recordingJournal{}, nil)
			if err := s.Begin(ctx, []string{"a.png"}, nil); err != nil {
				t.Fatal(err)
			}
			f, err := s.CreateTemp("a.png")
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("the next run's image")
			e := entryN(1)
			e.Path = "a.png"
			err = s.Commit(ctx, Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f})
			var oe *OccupiedError
			if errors.As(err, &oe) != foreign {
				t.Fatalf("Commit: %v, want refused %v", err, foreign)
			}
			if !foreign && err != nil {
				t.Fatal(err)
			}
			if err := s.End(ctx); err != nil {
				t.Fatal(err)
			}
			if len(notedPaths(dir)) != 0 {
				t.Errorf("the note is left after a clean End: %v", notedPaths(dir))
			}
		})
	}
}

// A move to a path that no entry records, where a file came after the
// plan, refuses to overwrite it: the file and the image stay where they
// are, and nothing is recorded.
func TestStoreMoveRefusesAFileNoEntryRecords(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	image := []byte("the recorded image")
	sum := sha256.Sum256(image)
	e := entryN(1)
	e.Path, e.SHA256, e.Bytes = "a.png", hex.EncodeToString(sum[:]), int64(len(image))
	lock := NewLock()
	lock.Images[addrs.MustParse("image.a")] = e
	for name, data := range map[string][]byte{"a.png": image, "mine.png": []byte("my own picture")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	j := &recordingJournal{}
	s := NewStore(dir, lock, j, nil)
	defer s.Close(ctx)
	if err := s.Begin(ctx, []string{"mine.png"}, []Removal{{Path: "a.png", SHA256: e.SHA256}}); err != nil {
		t.Fatal(err)
	}
	var got error
	s.Move(ctx, []Move{{From: Prior{Addr: addrs.MustParse("image.a"), Entry: e}, To: addrs.MustParse("image.a"), Path: "mine.png"}},
		func(i int, err error, skipped bool) { got = err })
	var oe *OccupiedError
	if !errors.As(got, &oe) || oe.Path != "mine.png" {
		t.Fatalf("Move: %v, want an *OccupiedError naming mine.png", got)
	}
	for name, want := range map[string]string{"a.png": string(image), "mine.png": "my own picture"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
			t.Errorf("%s holds %q (%v), want %q", name, b, err, want)
		}
	}
	if len(j.recorded) != 0 {
		t.Errorf("recorded %v", j.recorded)
	}
	noTemps(t, dir)
}
