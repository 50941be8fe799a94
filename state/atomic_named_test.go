//go:build linux

package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/unnamed"
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
			if stray := temps(t, moved); len(stray) > 0 {
				t.Errorf("temporary files left in %s: %q", moved, stray)
			}
		})
	}
}

// temps returns the temporary files in dir.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range names(t, dir) {
		if IsTemp(n) {
			out = append(out, n)
		}
	}
	return out
}

// movingOut is a working directory whose output directory out/ a test
// moves away to archive, outside it, with a Store that makes named
// temporary files there.
type movingOut struct {
	dir, out, archive string
	s                 *LocalStore
}

// newMovingOut makes a movingOut, its Store closed at the test's end.
func newMovingOut(t *testing.T) movingOut {
	t.Helper()
	root := t.TempDir()
	m := movingOut{dir: filepath.Join(root, "work"), archive: filepath.Join(root, "archive")}
	m.out = filepath.Join(m.dir, "out")
	if err := os.MkdirAll(m.out, 0o755); err != nil {
		t.Fatal(err)
	}
	m.s = namedStore(m.dir, &recordingJournal{})
	t.Cleanup(func() { m.s.Close(context.Background()) })
	return m
}

// move moves out/ away and makes it again: mv out ../archive && mkdir out.
func (m movingOut) move(t *testing.T) {
	t.Helper()
	if err := os.Rename(m.out, m.archive); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(m.out, 0o755); err != nil {
		t.Fatal(err)
	}
}

// create makes a temporary file for rel holding body.
func (m movingOut) create(t *testing.T, rel, body string) *os.File {
	t.Helper()
	f, err := m.s.CreateTemp(rel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(body); err != nil {
		t.Fatal(err)
	}
	return f
}

// noTemps fails the test if archive holds a temporary file.
func (m movingOut) noTemps(t *testing.T) {
	t.Helper()
	if stray := temps(t, m.archive); len(stray) > 0 {
		t.Errorf("temporary files made or left outside the working directory, in %s: %q", m.archive, stray)
	}
}

// Where the file system makes no unnamed file, the user moves the output
// directory away and makes it again (mv out ../archive && mkdir out),
// while an image is rendered or before the next ones are made: each is
// placed in the new directory, and no temporary file is made or left in
// the one moved away, outside the working directory.
func TestNamedTempDirMovedAndRecreated(t *testing.T) {
	for _, when := range []string{"during the render", "before the next images"} {
		t.Run(when, func(t *testing.T) {
			m := newMovingOut(t)
			for i, name := range []string{"a", "b", "c"} {
				if i == 1 && when == "before the next images" {
					m.move(t)
				}
				f := m.create(t, "out/"+name+".png", "paid "+name)
				if i == 1 && when == "during the render" {
					m.move(t)
				}
				if err := commitNamed(m.s, f, "image."+name, "out/"+name+".png"); err != nil {
					t.Errorf("image %s: %v", name, err)
				}
			}
			for at, names := range map[string][]string{m.archive: {"a"}, m.out: {"b", "c"}} {
				for _, name := range names {
					if b, err := os.ReadFile(filepath.Join(at, name+".png")); err != nil || string(b) != "paid "+name {
						t.Errorf("%s/%s.png: %q, %v; want what was paid for", at, name, b, err)
					}
				}
			}
			m.noTemps(t)
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
	// The file replaced is the recorded one of the image committed there.
	lock := NewLock()
	old := entryN(9)
	old.Path = "out/b.png"
	lock.Images[addrs.MustParse("image.ib")] = old
	j := &recordingJournal{}
	s := NewStore(dir, lock, j, nil)
	s.noUnnamed.Store(true)
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

// kept returns how many directories s keeps for named temporary files.
func kept(s *LocalStore) int {
	s.named.mu.Lock()
	defer s.named.mu.Unlock()
	return len(s.named.m)
}

// Where the file system makes no unnamed file, a file dropped (closed,
// neither placed nor given up through the Store) after its directory was
// moved away (mv out ../archive && mkdir out) leaves no temporary file
// there once it is unreachable, and no directory open.
func TestNamedTempGivenUpAfterDirMoved(t *testing.T) {
	m := newMovingOut(t)
	f := m.create(t, "out/a.png", "not an image")
	m.move(t)
	f.Close()
	f = nil
	for i := 0; i < 500 && kept(m.s) > 0; i++ {
		runtime.GC()
		time.Sleep(2 * time.Millisecond)
	}
	if n := kept(m.s); n != 0 {
		t.Errorf("%d directories kept for a file given up and unreachable", n)
	}
	m.noTemps(t)
}

// Where the file system makes no unnamed file, an image in flight while
// many others are given up is still placed after its directory is moved
// away and made again.
func TestNamedTempInFlightAmongGivenUp(t *testing.T) {
	m := newMovingOut(t)
	f := m.create(t, "out/a.png", "paid a")
	for i := range 100 {
		m.s.AbortTemp(m.create(t, fmt.Sprintf("out/x%d.png", i), "given up"))
	}
	m.move(t)
	if err := commitNamed(m.s, f, "image.a", "out/a.png"); err != nil {
		t.Errorf("the image in flight: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(m.out, "a.png")); err != nil || string(b) != "paid a" {
		t.Errorf("out/a.png: %q, %v", b, err)
	}
	m.noTemps(t)
}

// The working directory is reached through a symbolic link above it,
// pointed elsewhere during a render: an output goes where its path now
// leads, as the lockfile is written, not into a directory opened earlier.
func TestHeldDirAncestorLinkRetargeted(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a/proj/out", "b/proj/out"} {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(root, "a"), link); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(link, "proj")
	s := NewStore(dir, NewLock(), &recordingJournal{}, nil)
	defer s.Close(context.Background())
	if err := commitAt(t, s, "image.first", "out/first.png", "one"); err != nil {
		t.Fatal(err)
	}
	f, err := s.CreateTemp("out/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("two"); err != nil {
		t.Fatal(err)
	}
	retarget := filepath.Join(root, "link.new")
	if err := os.Symlink(filepath.Join(root, "b"), retarget); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(retarget, link); err != nil {
		t.Fatal(err)
	}
	e := entryN(1)
	e.Path = "out/a.png"
	if err := s.Commit(context.Background(), Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "b/proj/out/a.png")); err != nil || string(b) != "two" {
		t.Errorf("b/proj/out/a.png, where the working directory now is: %q, %v (a/proj/out holds %q)", b, err, names(t, filepath.Join(root, "a/proj/out")))
	}
}

// Where the file system makes no unnamed file, a put-back whose output
// directory is moved outside and replaced by a link to it while the
// file is filled places nothing through the link, and keeps no
// directory open.
func TestNamedTempPutBackThroughLink(t *testing.T) {
	dir, moved, out, a, e, lock := putBackWork(t)
	r := newRecorder(filepath.Join(dir, LockFileName), lock, func(path string, data []byte) error { return WriteFileAtomic(path, data) })
	s := NewStore(dir, lock, r, nil)
	s.noUnnamed.Store(true)
	defer s.Close(context.Background())
	err := s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: func(w io.Writer) error {
		if err := os.Rename(out, moved); err != nil {
			return err
		}
		if err := os.Symlink(moved, out); err != nil {
			return err
		}
		_, err := w.Write(pngBytes)
		return err
	}})
	if _, serr := os.Lstat(filepath.Join(moved, "img.png")); serr == nil {
		t.Errorf("img.png placed in %s, outside the working directory, through a link (PutBack err %v)", moved, err)
	}
	if err == nil {
		t.Errorf("PutBack through a directory replaced by a link succeeded")
	}
	if n := kept(s); n != 0 {
		t.Errorf("%d directories kept after the put-back", n)
	}
	if stray := temps(t, moved); len(stray) > 0 {
		t.Errorf("temporary files left in %s: %q", moved, stray)
	}
}

// Two named temporary files can take the same name once the directory
// of the first has been moved away: the second is not kept under it (its
// maker draws another name), so that placing the first renames its own
// bytes, from its own directory.
func TestNamedTempSameNameKeptApart(t *testing.T) {
	m := newMovingOut(t)
	f1 := m.create(t, "out/a.png", "image one")
	m.move(t)
	// What createNamedIn would make if it drew the same number.
	d2, err := unnamed.OpenDir(m.dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(f1.Name())
	f2, err := d2.CreateExcl(base, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if m.s.named.put(f2, d2) {
		t.Errorf("a second file named %s kept", base)
	} else {
		f2.Close()
		d2.Remove(base)
		d2.Close()
	}
	if err := commitNamed(m.s, f1, "image.a", "out/a.png"); err != nil {
		t.Fatalf("commit of the first: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(m.out, "a.png")); string(b) != "image one" {
		t.Errorf("out/a.png holds %q, want %q", b, "image one")
	}
	m.noTemps(t)
}

// An unnamed file put back from the lockfile is not named through a link
// put where its directory was, even one back to that directory, moved
// outside the working directory.
func TestUnnamedPutBackThroughLinkToMovedDir(t *testing.T) {
	dir, moved, out, a, e, lock := putBackWork(t)
	s := NewStore(dir, lock, nopJournal{}, nil)
	defer s.Close(context.Background())
	err := s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: func(w io.Writer) error {
		if isUnnamed, _ := unnamedTemp(w.(*checkedWriter).f.Name()); !isUnnamed {
			t.Skip("this file system makes no unnamed files")
		}
		if err := os.Rename(out, moved); err != nil {
			return err
		}
		if err := os.Symlink(moved, out); err != nil {
			return err
		}
		_, err := w.Write(pngBytes)
		return err
	}})
	if _, serr := os.Lstat(filepath.Join(moved, "img.png")); serr == nil {
		t.Errorf("img.png placed in %s, outside the working directory, through a link (PutBack err %v)", moved, err)
	}
	if !errors.Is(err, errDirChanged) {
		t.Errorf("PutBack: %v, want errDirChanged", err)
	}
}

// putBackWork is the set-up of the put-back tests that move out/: a
// working directory with out/, where moved is outside it, and a lockfile
// recording image.a at out/img.png.
func putBackWork(t *testing.T) (dir, moved, out string, a addrs.Addr, e Entry, lock *Lock) {
	root := t.TempDir()
	dir, moved = filepath.Join(root, "work"), filepath.Join(root, "moved")
	out = filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	a = addrs.MustParse("image.a")
	e = putBackEntry("out/img.png", pngBytes)
	lock = NewLock()
	lock.Images[a] = e
	return dir, moved, out, a, e, lock
}
