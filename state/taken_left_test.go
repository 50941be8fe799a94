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

// The file at a path that one image leaves and another takes over stays
// noted for removal: once no entry records the path (the image left it)
// and the one taking it did not (failed, skipped, killed), the file goes
// at End, or by the next run's Begin after a kill, while it is the very
// file recorded there. The image placed there, or an edit, stays.
func TestTakenPathLeftUnrecordedIsRemoved(t *testing.T) {
	for name, tc := range map[string]struct {
		then      string // "end", "kill": how the run ends
		placed    bool   // image.a is placed and recorded at b.png
		edited    bool   // b.png is edited in place
		restored  bool   // b.png is put back, same bytes, same inode
		wantThere bool
	}{
		"taker failed":         {then: "end"},
		"taker failed, killed": {then: "kill"},
		"taker placed":         {then: "end", placed: true, wantThere: true},
		"taker placed, killed": {then: "kill", placed: true, wantThere: true},
		"edited after it left": {then: "end", edited: true, wantThere: true},
		"edited, killed":       {then: "kill", edited: true, wantThere: true},
		// Deleted, then restored by git checkout where the freed inode
		// is reused at once: the same device, inode and bytes, but not
		// the file noted.
		"restored after it left": {then: "end", restored: true, wantThere: true},
		"restored, killed":       {then: "kill", restored: true, wantThere: true},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir, lock, eb, bPath, old := imageBRecorded(t)
			a, b := addrs.MustParse("image.a"), addrs.MustParse("image.b")
			j := &opsJournal{lock: lock}
			s := NewStore(dir, lock, j, nil)
			var warned []string
			warn := func(path, msg string) { warned = append(warned, path+": "+msg) }
			s.Warn = warn
			if err := s.Begin(ctx, []string{"b.png", "c.png"}, []Removal{{Path: "b.png", SHA256: eb.SHA256}}); err != nil {
				t.Fatal(err)
			}
			// image.b left b.png (its entry now records c.png); its old
			// file is kept there, since the run writes b.png.
			eb.Path = "c.png"
			lock.Images[b] = eb
			var want []byte
			switch {
			case tc.placed:
				want = []byte("the image of a")
				tmp := bPath + ".tmp"
				if err := os.WriteFile(tmp, want, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, bPath); err != nil {
					t.Fatal(err)
				}
				ea := entryN(1)
				ea.Path, ea.SHA256 = "b.png", sha(string(want))
				lock.Images[a] = ea
			case tc.restored:
				want = old
				rewriteUntilCtimeMoves(t, bPath, old)
			case tc.edited:
				want = []byte("my own edit")
				if err := os.WriteFile(bPath, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.then == "end" {
				if err := s.End(ctx); err != nil {
					t.Fatal(err)
				}
			} else {
				s2 := NewStore(dir, lock, &opsJournal{lock: lock}, nil)
				s2.Warn = warn
				if err := s2.Begin(ctx, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(bPath)
			switch {
			case !tc.wantThere && err == nil:
				t.Errorf("b.png is still there, unrecorded: %q", got)
			case tc.wantThere && (err != nil || string(got) != string(want)):
				t.Errorf("b.png = %q, %v; want %q", got, err, want)
			}
			// What is left where it is, and why, is said.
			if tc.restored && (len(warned) != 1 || !strings.HasPrefix(warned[0], "b.png: did not delete b.png") || !strings.Contains(warned[0], "not the file noted")) {
				t.Errorf("warnings %q, want one that b.png was not deleted as it is not the file noted", warned)
			}
		})
	}
}

// A file Begin keeps at a path an interrupted apply noted (restored with
// the same bytes, or edited, since) is the user's from then on, though
// the interrupted apply was placing an image there: the image the next
// run places at that path is refused (*OccupiedError), never written
// over it.
func TestKeptLeftoverIsNotOverwritten(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, p string, old []byte){
		"restored": func(t *testing.T, p string, old []byte) { rewriteUntilCtimeMoves(t, p, old) },
		"edited": func(t *testing.T, p string, _ []byte) {
			if err := os.WriteFile(p, []byte("my own edit"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir, lock, eb, bPath, old := imageBRecorded(t)
			b := addrs.MustParse("image.b")
			s := NewStore(dir, lock, &opsJournal{lock: lock}, nil)
			if err := s.Begin(ctx, []string{"b.png", "c.png"}, []Removal{{Path: "b.png", SHA256: eb.SHA256}}); err != nil {
				t.Fatal(err)
			}
			// image.b moved to c.png; killed before image.a took b.png.
			eb.Path = "c.png"
			lock.Images[b] = eb
			change(t, bPath, old)
			want, err := os.ReadFile(bPath)
			if err != nil {
				t.Fatal(err)
			}

			err = commitAAtB(t, ctx, dir, lock)
			var oe *OccupiedError
			if !errors.As(err, &oe) || oe.Path != "b.png" {
				t.Errorf("Commit = %v, want an *OccupiedError", err)
			}
			if got, _ := os.ReadFile(bPath); string(got) != string(want) {
				t.Errorf("b.png holds %q, want %q kept", got, want)
			}
		})
	}
}

// imageBRecorded makes a checkout in a new directory whose lockfile
// records image.b at b.png, the file there holding old.
func imageBRecorded(t *testing.T) (dir string, lock *Lock, eb Entry, bPath string, old []byte) {
	t.Helper()
	dir = t.TempDir()
	old = []byte("the image of b")
	eb = entryN(2)
	eb.Path, eb.SHA256, eb.Bytes = "b.png", sha(string(old)), int64(len(old))
	lock = NewLock()
	lock.Images[addrs.MustParse("image.b")] = eb
	bPath = filepath.Join(dir, "b.png")
	if err := os.WriteFile(bPath, old, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, lock, eb, bPath, old
}

// commitAAtB runs a new apply in dir that places image.a at b.png, and
// returns its Commit's error.
func commitAAtB(t *testing.T, ctx context.Context, dir string, lock *Lock) error {
	t.Helper()
	s := NewStore(dir, lock, &opsJournal{lock: lock}, nil)
	if err := s.Begin(ctx, []string{"b.png"}, nil); err != nil {
		t.Fatal(err)
	}
	image := []byte("the new image of a")
	ea := entryN(1)
	ea.Path, ea.SHA256, ea.Bytes = "b.png", sha(string(image)), int64(len(image))
	f, err := s.CreateTemp("b.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(image); err != nil {
		t.Fatal(err)
	}
	return s.Commit(ctx, Commit{Addr: addrs.MustParse("image.a"), Entry: ea, Temp: f})
}
