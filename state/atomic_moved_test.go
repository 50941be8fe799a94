//go:build linux

package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// commitAt makes and commits an output at rel through s.
func commitAt(t *testing.T, s *LocalStore, addr, rel, body string) error {
	t.Helper()
	f, err := s.CreateTemp(rel)
	if err != nil {
		return err
	}
	if isUnnamed, _ := unnamedTemp(f.Name()); !isUnnamed {
		t.Skip("no unnamed files")
	}
	if _, err := f.WriteString(body); err != nil {
		t.Fatal(err)
	}
	e := entryN(1)
	e.Path = rel
	return s.Commit(context.Background(), Commit{Addr: addrs.MustParse(addr), Entry: e, Temp: f})
}

// heldWork is a working directory root/work with an output directory
// out/, the directories others (under root) too, and a Store of it that
// records in j, closed at the test's end.
func heldWork(t *testing.T, others ...string) (root, dir string, s *LocalStore, j *recordingJournal) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Join(root, "work")
	for _, d := range append([]string{"work/out"}, others...) {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	j = &recordingJournal{}
	s = NewStore(dir, NewLock(), j, nil)
	t.Cleanup(func() { s.Close(context.Background()) })
	return root, dir, s, j
}

// holdOut commits out/first.png through s, which then holds out/.
func holdOut(t *testing.T, s *LocalStore) {
	t.Helper()
	if err := commitAt(t, s, "image.first", "out/first.png", "one"); err != nil {
		t.Fatal(err)
	}
}

// The user moves the output directory away during a run and makes a new
// one at its path: a later output must be at its path, or its commit fail.
func TestHeldDirMovedAndRecreated(t *testing.T) {
	_, dir, s, j := heldWork(t)
	holdOut(t, s)
	if err := os.Rename(filepath.Join(dir, "out"), filepath.Join(dir, "old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := commitAt(t, s, "image.a", "out/a.png", "two")
	if err != nil {
		t.Logf("commit failed (acceptable): %v", err)
		return
	}
	if _, serr := os.Stat(filepath.Join(dir, "out/a.png")); serr != nil {
		t.Errorf("commit of out/a.png succeeded and was recorded (%v), but out/a.png: %v; old/ holds %q", j.recorded, serr, names(t, filepath.Join(dir, "old")))
	}
}

// The user moves the output directory outside the working directory and
// leaves a symbolic link to it: nothing may be written outside.
func TestHeldDirMovedOutside(t *testing.T) {
	root, dir, s, j := heldWork(t)
	elsewhere := filepath.Join(root, "elsewhere")
	holdOut(t, s)
	if err := os.Rename(filepath.Join(dir, "out"), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	err := commitAt(t, s, "image.a", "out/a.png", "two")
	if _, serr := os.Lstat(filepath.Join(elsewhere, "a.png")); serr == nil {
		t.Errorf("a.png written outside the working directory, in %s (commit err %v, recorded %v)", elsewhere, err, j.recorded)
	}
}

// Same, with the symbolic link pointing somewhere else than the moved
// directory: the output lands outside and the lockfile names a file that
// is not at its path.
func TestHeldDirMovedOutsideLinkElsewhere(t *testing.T) {
	root, dir, s, j := heldWork(t, "other")
	moved, other := filepath.Join(root, "moved"), filepath.Join(root, "other")
	holdOut(t, s)
	if err := os.Rename(filepath.Join(dir, "out"), moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	err := commitAt(t, s, "image.a", "out/a.png", "two")
	if _, serr := os.Lstat(filepath.Join(moved, "a.png")); serr == nil {
		t.Errorf("a.png written in %s, outside the working directory (commit err %v, recorded %v)", moved, err, j.recorded)
	}
}

// The user empties out/ by removing and making it again while an image
// is rendered: the real directory at out/ is under the working directory,
// with no link; the paid image should be placed there (as the path-based
// Link does), not thrown away.
func TestHeldDirRecreatedDuringRender(t *testing.T) {
	_, dir, s, _ := heldWork(t)
	f, err := s.CreateTemp("out/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if isUnnamed, _ := unnamedTemp(f.Name()); !isUnnamed {
		t.Skip("no unnamed files")
	}
	f.WriteString("paid")
	if err := os.Remove(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := entryN(1)
	e.Path = "out/a.png"
	if err := s.Commit(context.Background(), Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f}); err != nil {
		t.Errorf("paid image lost: %v", err)
	}
}

// Two workers write into out/: the first has made its file; the
// directory is removed and replaced by a symbolic link; the second's
// CreateTemp finds the held directory removed and drops it; the first's
// commit then takes no path through the link.
func TestHeldDirDroppedWhileInUse(t *testing.T) {
	root, dir, s, j := heldWork(t, "elsewhere")
	elsewhere := filepath.Join(root, "elsewhere")
	f1, err := s.CreateTemp("out/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if isUnnamed, _ := unnamedTemp(f1.Name()); !isUnnamed {
		t.Skip("no unnamed files")
	}
	f1.WriteString("one")
	if err := os.Remove(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if f2, err := s.CreateTemp("out/b.png"); err == nil {
		f2.Close()
		t.Fatalf("CreateTemp through the link succeeded")
	}
	e := entryN(1)
	e.Path = "out/a.png"
	err = s.Commit(context.Background(), Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f1})
	if err == nil {
		t.Errorf("commit through a directory replaced by a link succeeded (recorded %v)", j.recorded)
	}
	if got := names(t, elsewhere); len(got) != 0 {
		t.Errorf("%s holds %q, written through the link (commit err %v)", elsewhere, got, err)
	}
}
